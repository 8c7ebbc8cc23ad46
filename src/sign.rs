//! The signer (stamper): writes the policy's context into a token so that every verifier sharing
//! the policy accepts it, and nothing else does.

use crate::alg::Algorithm;
use crate::b64;
use crate::error::{Code, Error, Result};
use crate::jwk::Key;
use crate::policy::Policy;
use serde_json::{Map, Value};

/// Default token lifetime in seconds.
pub const DEFAULT_TTL_SECONDS: i64 = 900;
/// Longest accepted token lifetime in seconds (one year).
pub const MAX_TTL_SECONDS: i64 = 31_536_000;

/// Options for a [`Signer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignerOptions {
    /// Token lifetime in seconds, `1..=31536000`; default 900. `exp` never passes
    /// `auth_time + maxAgeSeconds`, whatever this says.
    pub ttl_seconds: i64,
}

impl Default for SignerOptions {
    fn default() -> Self {
        SignerOptions {
            ttl_seconds: DEFAULT_TTL_SECONDS,
        }
    }
}

impl SignerOptions {
    /// Options with this lifetime.
    pub fn with_ttl_seconds(ttl_seconds: i64) -> Self {
        SignerOptions { ttl_seconds }
    }
}

/// Stamps and signs tokens for one [`Policy`].
#[derive(Debug, Clone)]
pub struct Signer {
    policy: Policy,
    ttl: i64,
    alg: Algorithm,
    key_index: usize,
    header_prefix: String,
}

/// 128 random bits, base64url: a fresh `jti` or `sid`.
fn random_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|_| Error::config("jti", "the system random number generator failed"))?;
    Ok(b64::encode(&bytes))
}

impl Signer {
    /// A signer for `policy`, which must name exactly one issuer and hold a private key for one
    /// of its algorithms. The first allowlisted algorithm with a private key is used.
    pub fn new(policy: Policy, options: SignerOptions) -> Result<Signer> {
        if policy.rules.issuers.len() != 1 {
            return Err(Error::config(
                "issuer",
                "signing needs exactly one issuer, not a list",
            ));
        }
        if !(1..=MAX_TTL_SECONDS).contains(&options.ttl_seconds) {
            return Err(Error::config(
                "ttlSeconds",
                "must be a whole number from 1 to 31536000",
            ));
        }
        let (alg, key_index) = policy.keys.signing_key(&policy.algorithms).ok_or_else(|| {
            Error::config(
                "keys",
                "no private key (JWK with d, or oct) for any allowed algorithm",
            )
        })?;
        let key = &policy.keys.keys()[key_index];
        // Verifiers sharing this policy must pick this very key for the tokens it signs: a kid
        // shared with another key, or no kid in a multi-key set, would make them refuse it.
        if key.can_verify() {
            let selected = policy.keys.select(key.kid(), alg).ok();
            if !selected.is_some_and(|k| std::ptr::eq(k, key)) {
                return Err(Error::config(
                    "keys",
                    "verifiers could not select the signing key: give it a kid no other key uses",
                ));
            }
        }
        // Built with `host-keys`, the host makes the signature: one made now must verify, or the
        // host cannot sign with this algorithm (workerd's node:crypto has no RSA-PSS) and the
        // signer is refused rather than issue tokens no verifier accepts.
        // A deferred key (no host registered: the npm package's `signAsync`, WebCrypto) is
        // checked the same way at its first signature instead.
        #[cfg(feature = "host-keys")]
        if !key.is_symmetric() && !key.deferred() {
            let probe = b"jwtgate signer check";
            let made = key.sign(alg, probe).ok();
            let mut ok = made
                .as_ref()
                .is_some_and(|sig| key.signature_math(alg, probe, sig));
            // RSA-PSS is randomised: a host that signs PKCS#1 v1.5 under a PS* name (and checks
            // its own signatures the same way) gives the same bytes twice.
            if ok && matches!(alg.family(), crate::alg::KeyFamily::RsaPss(_)) {
                ok = key.sign(alg, probe).ok() != made;
            }
            if !ok {
                return Err(Error::config(
                    "keys",
                    format!(
                        "host crypto could not make a valid {alg} signature with the signing key \
                         (workerd's node:crypto has no RSA-PSS: sign with RS*, ES* or EdDSA there)"
                    ),
                ));
            }
        }
        let mut header = Map::new();
        header.insert("alg".into(), Value::from(alg.name()));
        header.insert(
            "typ".into(),
            Value::from(policy.typ.clone().unwrap_or_else(|| "JWT".into())),
        );
        if let Some(kid) = key.kid() {
            header.insert("kid".into(), Value::from(kid));
        }
        let header_json = serde_json::to_vec(&header)
            .map_err(|_| Error::config("typ", "header could not be encoded"))?;
        let mut header_prefix = b64::encode(&header_json);
        header_prefix.push('.');
        Ok(Signer {
            policy,
            ttl: options.ttl_seconds,
            alg,
            key_index,
            header_prefix,
        })
    }

    /// Shorthand for `Signer::new(Policy::from_json(text)?, options)`.
    pub fn from_json(policy: &str, options: SignerOptions) -> Result<Signer> {
        Signer::new(Policy::from_json(policy)?, options)
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// A verifier for the tokens this signer makes ([`Verifier::for_signer`] of its policy).
    ///
    /// [`Verifier::for_signer`]: crate::Verifier::for_signer
    pub fn verifier(&self) -> Result<crate::Verifier> {
        crate::Verifier::for_signer(self.policy.clone())
    }

    /// What the signer made of its key set (as [`Verifier::keys`](crate::Verifier::keys)).
    pub fn keys(&self) -> &[crate::KeyInfo] {
        self.policy.keys.report()
    }

    /// The JWKS to publish for verifiers of this signer's tokens: the public halves of the
    /// policy's asymmetric keys, the signing key first ([`KeySet::public_jwks`]); keys kept
    /// beside it (the next one, published ahead; retired ones, until their tokens expire) after.
    ///
    /// [`KeySet::public_jwks`]: crate::jwk::KeySet::public_jwks
    ///
    /// The signing key's `alg` is the one its tokens carry (an Ed25519 key that answers to both
    /// `EdDSA` and `Ed25519` is published under the name this signer writes). `config` for a
    /// signer with an HMAC secret: its verifiers share the secret, nothing is published.
    pub fn public_jwks(&self) -> Result<Value> {
        if self.key()?.is_symmetric() {
            return Err(Error::config(
                "keys",
                "the signing key is an HMAC secret: its verifiers share it, there is no public key to publish",
            ));
        }
        let mut jwks = self.policy.keys.public_jwks(Some(self.key_index));
        if let Some(first) = jwks["keys"].get_mut(0).and_then(Value::as_object_mut) {
            first.insert("alg".into(), Value::String(self.alg.name().to_owned()));
        }
        Ok(jwks)
    }

    /// The `kid` written into token headers, if the signing key has one.
    pub fn kid(&self) -> Option<&str> {
        self.policy
            .keys
            .keys()
            .get(self.key_index)
            .and_then(Key::kid)
    }

    /// The algorithm tokens are signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    fn key(&self) -> Result<&Key> {
        self.policy
            .keys
            .keys()
            .get(self.key_index)
            .ok_or_else(|| Error::config("keys", "signing key missing"))
    }

    /// Stamps the context claims onto `claims` (see [`claims`](crate::claims))
    /// and returns them; the result passes the policy's own claim check at `now`.
    pub fn stamp(&self, mut claims: Map<String, Value>, now: i64) -> Result<Map<String, Value>> {
        self.policy
            .rules
            .stamp(&mut claims, now, self.ttl, (random_id()?, random_id()?))?;
        Ok(claims)
    }

    /// Stamps `claims` and signs them: a compact JWS with header `alg`, `typ` and `kid`.
    pub fn sign(&self, claims: Map<String, Value>, now: i64) -> Result<String> {
        let claims = self.stamp(claims, now)?;
        self.sign_checked(&claims)
    }

    /// Signs `claims` exactly as given, without stamping, after checking them against every
    /// claim rule at `now` (so only claims the policy accepts, with its issuer and audience,
    /// are ever signed). Claims are serialised with sorted member names, so re-signing the claims
    /// of a token this signer issued gives the same bytes with a deterministic algorithm (HS\*,
    /// RS\*, ES\* per RFC 6979, EdDSA): this keeps a session cookie unchanged between
    /// refreshes. PS\* signatures are randomised and always differ.
    ///
    /// The signer's bounds hold as they do for [`Signer::sign`]: `exp` must lie no further than
    /// the signer's lifetime (the idle bound, `ttlSeconds`) after `iat`, and not past
    /// `auth_time + maxAgeSeconds`; claims whose `exp` was moved out are refused (`malformed`
    /// on `exp`), never signed: re-stamp them with [`Signer::sign`].
    pub fn sign_as_is(&self, claims: &Map<String, Value>, now: i64) -> Result<String> {
        self.check_as_is(claims, now)?;
        self.sign_checked(claims)
    }

    /// [`Signer::sign_as_is`]'s checks.
    fn check_as_is(&self, claims: &Map<String, Value>, now: i64) -> Result<()> {
        self.policy
            .rules
            .check_as(claims, now, crate::Presentation::Issuing)?;
        self.policy.rules.check_issued_bounds(claims, self.ttl)
    }

    fn sign_checked(&self, claims: &Map<String, Value>) -> Result<String> {
        let input = self.signing_input(claims)?;
        let signature = self.key()?.sign(self.alg, input.as_bytes())?;
        self.assemble(input, &signature)
    }

    /// `BASE64URL(header) "." BASE64URL(claims)`: what is signed.
    fn signing_input(&self, claims: &Map<String, Value>) -> Result<String> {
        let payload = serde_json::to_vec(claims)
            .map_err(|_| Error::config("claims", "claims could not be encoded"))?;
        let mut token =
            String::with_capacity(self.header_prefix.len() + b64::encoded_len(payload.len()) + 400);
        token.push_str(&self.header_prefix);
        b64::encode_into(&payload, &mut token);
        Ok(token)
    }

    /// The token: `input`, a dot and the signature; refused if longer than the policy allows.
    fn assemble(&self, mut token: String, signature: &[u8]) -> Result<String> {
        token.push('.');
        b64::encode_into(signature, &mut token);
        if token.len() > self.policy.max_token_bytes {
            // Verifiers sharing the policy would refuse it: never issue it.
            return Err(Error::new(
                Code::TooLarge,
                "the signed token would be longer than the policy's maxTokenBytes",
            ));
        }
        Ok(token)
    }

    /// Whether the signing key is deferred (see [`Key`]'s `deferred`): it signs only through
    /// the npm package's `signAsync` (WebCrypto), with [`Signer::prepare`] and
    /// [`Signer::finish`].
    pub(crate) fn deferred(&self) -> bool {
        self.key().is_ok_and(Key::deferred)
    }

    /// The first half of an asynchronous signature: the stamped (`stamp`) or checked
    /// (`as_is`, as [`Signer::sign_as_is`]) claims' signing input, and the deferred signing
    /// key's private JWK and algorithm, for WebCrypto to sign. `config` for a key that is not
    /// deferred (it signs synchronously).
    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    pub(crate) fn prepare(
        &self,
        claims: Map<String, Value>,
        now: i64,
        as_is: bool,
    ) -> Result<(String, &Map<String, Value>)> {
        let jwk = self
            .key()?
            .deferred_private_jwk()
            .ok_or_else(|| Error::config("keys", "the signing key signs synchronously"))?;
        let claims = if as_is {
            self.check_as_is(&claims, now)?;
            claims
        } else {
            self.stamp(claims, now)?
        };
        Ok((self.signing_input(&claims)?, jwk))
    }

    /// The second half: the token from [`Signer::prepare`]'s input and WebCrypto's signature,
    /// which must have the algorithm's exact length and form (else `config`: the host answered
    /// oddly, and nothing is issued).
    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    pub(crate) fn finish(&self, input: String, signature: &[u8]) -> Result<String> {
        if !self.key()?.signature_form(self.alg, signature) {
            return Err(Error::config(
                "keys",
                format!("host crypto gave no valid {} signature", self.alg),
            ));
        }
        self.assemble(input, signature)
    }
}
