//! DPoP (RFC 9449): proof of possession for sender-constrained access tokens.
//!
//! A DPoP-bound access token carries `cnf.jkt`, the RFC 7638 thumbprint of its holder's public
//! key; every request that uses it carries a fresh *proof*: a small JWS signed by that key,
//! naming the request (`htm`, `htu`), the time (`iat`), the token (`ath`) and itself (`jti`). A
//! stolen token is then worthless without the private key, and a stolen proof is good for one
//! request to one URL, once, for a minute.
//!
//! [`check_proof`] applies every rule of RFC 9449 §4.3 to a proof, in this order, each failure
//! `dpop_proof` naming the member it stopped at:
//!
//! * **size**: at most [`MAX_PROOF_BYTES`];
//! * **structure**: a compact JWS of strict base64url and strict JSON objects (the verifier's own
//!   structure stage);
//! * **header**: `typ` is `dpop+jwt`; `alg` is one of the policy's `dpop.algorithms` (asymmetric
//!   only: no `none`, no HMAC); no `crit`, `b64`, `zip`, `jku`, `x5u` or `x5c`; `jwk` is a
//!   **public** key (a private member such as `d` is refused) usable with `alg`. This is the one
//!   place a key from a header is legitimate, and it verifies nothing but this proof;
//! * **signature** by that key;
//! * **claims**: `jti` a string of 1 to 256 bytes; `htm` exactly the request's method; `htu`
//!   the request's URI without query and fragment, both normalised (RFC 3986 §6.2.2 and
//!   §6.2.3, see [`normalize_htu`]); `iat` a number within `[now - maxAgeSeconds - leeway,
//!   now + leeway]`; `ath` the base64url SHA-256 of the access token.
//!
//! Then [`check_binding`] (`dpop_binding`): the proof's key thumbprint is the token's `cnf.jkt`.
//! The token itself was verified first, with [`Presentation::Proven`](crate::Presentation),
//! the only presentation under which a token with `cnf` passes the claim rules: a bound token
//! presented as a bearer token is refused by the core, wherever it is checked.
//!
//! Replay (the same `jti` twice within its window) needs state shared by every verifier of the
//! token: [`Proof::replay_key`] and [`Proof::replay_until`] are what a store keeps. The edge
//! gate keeps them in a Durable Object; [`ReplayWindow`] is the in-memory store (one process).

use crate::alg::Algorithm;
use crate::claims::Presentation;
use crate::error::{Code, Error, Result};
use crate::jwk::Key;
use crate::jws::{split, typ_matches};
use crate::verify::{Verified, Verifier};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub use crate::policy::dpop::{
    DpopRules, DEFAULT_PROOF_MAX_AGE_SECONDS, MAX_PROOF_MAX_AGE_SECONDS,
};

/// The longest proof accepted, in bytes (an RSA-4096 proof is about 1.9 KB).
pub const MAX_PROOF_BYTES: usize = 8192;
/// The longest accepted proof `jti`, in bytes.
pub const MAX_JTI_BYTES: usize = 256;

/// Header members a proof may not carry (the verifier's forbidden list, less `jwk`, which a
/// proof must carry).
const FORBIDDEN_PROOF_HEADER: [&str; 6] = ["crit", "b64", "zip", "jku", "x5u", "x5c"];

impl Verifier {
    /// Verifies a DPoP-bound token with its proof (RFC 9449) for `request` at `now`: the token
    /// as [`verify`](Verifier::verify) does but under [`Presentation::Proven`] (so `cnf.jkt` is
    /// required), then [`check_proof`] with the policy's `dpop`
    /// rules and [`check_binding`]. `config` if the policy has
    /// no `dpop` member. Replay is the caller's to check, with the returned proof's
    /// `replay_key` (see [`ReplayWindow`]).
    pub fn verify_dpop(
        &self,
        token: &str,
        proof: &str,
        request: &ProofRequest<'_>,
        now: i64,
    ) -> Result<(Verified, Proof)> {
        let rules = self.policy().dpop.as_ref().ok_or_else(|| {
            Error::config(
                "dpop",
                "the policy has no dpop member: it accepts no DPoP proof",
            )
        })?;
        let verified = self
            .prepare_as(token, now, Presentation::Proven)?
            .finish_here(self)?;
        let checked = check_proof(rules, proof, request, token, now)?;
        check_binding(&verified.claims, &checked)?;
        Ok((verified, checked))
    }
}

/// The request a proof must name.
#[derive(Debug, Clone, Copy)]
pub struct ProofRequest<'a> {
    /// The HTTP method, exactly as sent (`GET`).
    pub method: &'a str,
    /// The request's absolute URI (query and fragment are ignored).
    pub url: &'a str,
}

/// A proof that passed [`check_proof`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's key (base64url).
    pub jkt: String,
    /// The proof's `iat`, in whole seconds (rounded down).
    pub iat: i64,
    /// What a replay store keys the proof by: base64url SHA-256 of the thumbprint and the
    /// `jti` (never the `jti` itself, which is the client's text).
    pub replay_key: String,
    /// Until when (seconds since the epoch, exclusive) the store must remember
    /// [`replay_key`](Proof::replay_key): past it the proof's `iat` is out of its window anyway.
    pub replay_until: i64,
    /// The proof's `nonce` claim, when it has one (RFC 9449 §8: checked by a server that
    /// issues nonces, see [`Nonces`]).
    pub nonce: Option<String>,
}

fn proof_error(member: &'static str, message: &'static str) -> Error {
    Error::claim(Code::DpopProof, member, message)
}

/// Checks a DPoP proof for `request` and `access_token` at `now` (see the module docs for the
/// rules and their order). Replay is not checked here: keep [`Proof::replay_key`] in a store.
pub fn check_proof(
    rules: &DpopRules,
    proof: &str,
    request: &ProofRequest<'_>,
    access_token: &str,
    now: i64,
) -> Result<Proof> {
    let prepared = prepare_proof(rules, proof, request, access_token, now)?;
    let valid = prepared.check_here();
    prepared.finish(valid)
}

/// A proof that passed every rule but the signature arithmetic (its form is checked), from
/// [`prepare_proof`]: the claim rules' outcome is held back until [`finish`](PreparedProof::finish)
/// is told whether the signature verified, so a platform's crypto (the gate's WebCrypto) can
/// do the arithmetic, as [`crate::Prepared`] does for tokens.
#[derive(Debug)]
pub struct PreparedProof<'p> {
    key: Key,
    alg: Algorithm,
    signing_input: &'p [u8],
    signature: Vec<u8>,
    outcome: Result<Proof>,
}

impl<'p> PreparedProof<'p> {
    /// The proof's own key (from its header), bound to its `alg`.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The proof's algorithm.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The exact bytes that were signed.
    pub fn signing_input(&self) -> &'p [u8] {
        self.signing_input
    }

    /// The decoded signature (its form already checked).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The signature checked by jwtgate's own code.
    pub fn check_here(&self) -> bool {
        self.key
            .verify_signature(self.alg, self.signing_input, &self.signature)
            .is_ok()
    }

    /// The answer, given whether the signature verified: `dpop_proof` (`signature`) if not,
    /// else the claim rules' outcome.
    pub fn finish(self, signature_valid: bool) -> Result<Proof> {
        if signature_valid {
            self.outcome
        } else {
            Err(proof_error(
                "signature",
                "the DPoP proof's signature does not verify",
            ))
        }
    }
}

/// Every stage of [`check_proof`] but the signature arithmetic (see [`PreparedProof`]).
pub fn prepare_proof<'p>(
    rules: &DpopRules,
    proof: &'p str,
    request: &ProofRequest<'_>,
    access_token: &str,
    now: i64,
) -> Result<PreparedProof<'p>> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(proof_error(
            "proof",
            "the DPoP proof is longer than 8192 bytes",
        ));
    }
    let parts = split(proof).map_err(|_| {
        proof_error(
            "proof",
            "the DPoP proof is not a compact JWS of JSON objects",
        )
    })?;
    let header = &parts.header;
    match header.get("typ") {
        Some(Value::String(t)) if typ_matches("dpop+jwt", t) => {}
        _ => return Err(proof_error("typ", "the DPoP proof's typ must be dpop+jwt")),
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(Algorithm::from_name)
        .filter(|a| rules.algorithms.contains(*a))
        .ok_or_else(|| {
            proof_error(
                "alg",
                "the DPoP proof's alg is not one of the policy's dpop.algorithms",
            )
        })?;
    if FORBIDDEN_PROOF_HEADER
        .iter()
        .any(|m| header.contains_key(*m))
    {
        return Err(proof_error(
            "header",
            "the DPoP proof's header carries a forbidden member (crit, b64, zip, jku, x5u or x5c)",
        ));
    }
    let jwk = header
        .get("jwk")
        .ok_or_else(|| proof_error("jwk", "the DPoP proof's header has no jwk"))?;
    let key = Key::from_proof_header(jwk, alg)?;
    key.check_binding_and_form(alg, &parts.signature)
        .map_err(|_| proof_error("signature", "the DPoP proof's signature does not verify"))?;
    let outcome = proof_claims(rules, &parts.claims, jwk, request, access_token, now);
    Ok(PreparedProof {
        key,
        alg,
        signing_input: &proof.as_bytes()[..parts.signing_input_len],
        signature: parts.signature,
        outcome,
    })
}

/// The claim rules of a proof (`jti`, `htm`, `htu`, `iat`, `ath`), then its thumbprint and
/// replay key.
fn proof_claims(
    rules: &DpopRules,
    claims: &Map<String, Value>,
    jwk: &Value,
    request: &ProofRequest<'_>,
    access_token: &str,
    now: i64,
) -> Result<Proof> {
    let text = |name: &'static str| match claims.get(name) {
        Some(Value::String(s)) => Ok(s.as_str()),
        _ => Err(proof_error(name, "the DPoP proof lacks this string claim")),
    };
    let jti = text("jti")?;
    if jti.is_empty() || jti.len() > MAX_JTI_BYTES {
        return Err(proof_error(
            "jti",
            "the DPoP proof's jti must be 1 to 256 bytes",
        ));
    }
    if text("htm")? != request.method {
        return Err(proof_error(
            "htm",
            "the DPoP proof is for another HTTP method",
        ));
    }
    let htu = normalize_htu(text("htu")?)
        .ok_or_else(|| proof_error("htu", "the DPoP proof's htu is not an http(s) URI"))?;
    let target = normalize_htu(request.url)
        .ok_or_else(|| proof_error("htu", "the request URI cannot be compared with htu"))?;
    if htu != target {
        return Err(proof_error("htu", "the DPoP proof is for another URI"));
    }
    let iat = match claims.get("iat") {
        Some(Value::Number(n)) => n.as_f64().filter(|f| f.is_finite()),
        _ => None,
    }
    .ok_or_else(|| proof_error("iat", "the DPoP proof's iat must be a number"))?;
    let (leeway, max_age) = (rules.leeway as f64, rules.max_age as f64);
    let now_f = now as f64;
    if iat > now_f + leeway {
        return Err(proof_error(
            "iat",
            "the DPoP proof was issued in the future",
        ));
    }
    if iat + max_age + leeway < now_f {
        return Err(proof_error("iat", "the DPoP proof is too old"));
    }
    if text("ath")? != ath(access_token) {
        return Err(proof_error(
            "ath",
            "the DPoP proof is for another access token",
        ));
    }
    // A nonce that is not a string of 1 to 256 bytes is no usable nonce: ignored where no
    // nonces are issued, `use_dpop_nonce` (with one to retry with) where they are.
    let nonce = claims
        .get("nonce")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty() && n.len() <= 256)
        .map(str::to_owned);
    let jkt = thumbprint(jwk)?;
    let mut h = Sha256::new();
    h.update(jkt.as_bytes());
    h.update([0]);
    h.update(jti.as_bytes());
    Ok(Proof {
        replay_key: crate::b64::encode(&h.finalize()),
        replay_until: (iat + max_age + leeway).floor() as i64 + 1,
        iat: iat.floor() as i64,
        jkt,
        nonce,
    })
}

/// Server-issued DPoP nonces (RFC 9449 §8), stateless: a nonce names a time window of
/// [`NONCE_WINDOW_SECONDS`] and carries an HMAC of it under the server's secret, so every
/// isolate issues and accepts the same ones without sharing state. A nonce is accepted in its
/// own window and the next (so one issued just before a window ends still serves), never
/// earlier or later, and never under another secret.
#[derive(Clone)]
pub struct Nonces {
    key: Hmac<Sha256>,
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Nonces(..)")
    }
}

/// How long one nonce window lasts, in seconds.
pub const NONCE_WINDOW_SECONDS: i64 = 300;

impl Nonces {
    /// Nonces under `secret` (at least 32 bytes; `config` otherwise).
    pub fn new(secret: &[u8]) -> Result<Nonces> {
        if secret.len() < 32 {
            return Err(Error::config(
                "nonceSecret",
                "a DPoP nonce secret needs at least 32 bytes",
            ));
        }
        let key = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .map_err(|_| Error::config("nonceSecret", "unusable secret"))?;
        Ok(Nonces { key })
    }

    fn tag(&self, window: i64) -> [u8; 16] {
        let mut mac = self.key.clone();
        mac.update(b"jwtgate-dpop-nonce\0");
        mac.update(&window.to_be_bytes());
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&full[..16]);
        tag
    }

    /// The nonce to hand out at `now` (for the `DPoP-Nonce` header).
    pub fn issue(&self, now: i64) -> String {
        let window = now.div_euclid(NONCE_WINDOW_SECONDS);
        let mut bytes = window.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.tag(window));
        crate::b64::encode(&bytes)
    }

    /// Whether `nonce` is one of ours for `now`'s window or the one before.
    pub fn accepts(&self, nonce: &str, now: i64) -> bool {
        let Ok(bytes) = crate::b64::decode(nonce.as_bytes()) else {
            return false;
        };
        let Ok(raw) = <[u8; 24]>::try_from(bytes.as_slice()) else {
            return false;
        };
        let mut w = [0u8; 8];
        w.copy_from_slice(&raw[..8]);
        let window = i64::from_be_bytes(w);
        let current = now.div_euclid(NONCE_WINDOW_SECONDS);
        if window != current && Some(window) != current.checked_sub(1) {
            return false;
        }
        let mut mac = self.key.clone();
        mac.update(b"jwtgate-dpop-nonce\0");
        mac.update(&window.to_be_bytes());
        mac.verify_truncated_left(&raw[8..]).is_ok()
    }

    /// The nonce rule for a checked proof at `now`: `use_dpop_nonce` when it has none, or one
    /// this server did not issue for now.
    pub fn check(&self, proof: &Proof, now: i64) -> Result<()> {
        match &proof.nonce {
            Some(n) if self.accepts(n, now) => Ok(()),
            _ => Err(Error::claim(
                Code::DpopNonce,
                "nonce",
                "the DPoP proof needs a current nonce from this server (DPoP-Nonce)",
            )),
        }
    }
}

/// The proof's key is the one the token is bound to: `cnf.jkt` equals [`Proof::jkt`], else
/// `dpop_binding` (also for a token without `cnf`, or with a `cnf` jwtgate does not check).
pub fn check_binding(claims: &Map<String, Value>, proof: &Proof) -> Result<()> {
    match crate::claims::bound_key(claims)? {
        Some(jkt) if jkt.as_bytes() == proof.jkt.as_bytes() => Ok(()),
        Some(_) => Err(Error::claim(
            Code::DpopBinding,
            "cnf",
            "the DPoP proof is signed by another key than the token is bound to",
        )),
        None => Err(Error::claim(
            Code::DpopBinding,
            "cnf",
            "a DPoP proof came with a token that is not bound to a key (no cnf.jkt)",
        )),
    }
}

/// `ath`: the base64url SHA-256 of the access token's ASCII text (RFC 9449 §4.2).
pub fn ath(access_token: &str) -> String {
    crate::b64::encode(&Sha256::digest(access_token.as_bytes()))
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK (base64url): SHA-256 over the JSON of the
/// key type's required members only, in lexicographic order, without whitespace (EC: `crv`,
/// `kty`, `x`, `y`; RSA: `e`, `kty`, `n`; OKP: `crv`, `kty`, `x`). `dpop_proof` for another
/// key type or a missing or non-string member.
pub fn thumbprint(jwk: &Value) -> Result<String> {
    let bad = || proof_error("jwk", "the JWK lacks a member its thumbprint needs");
    let obj = jwk.as_object().ok_or_else(bad)?;
    let members: &[&str] = match obj.get("kty").and_then(Value::as_str) {
        Some("EC") => &["crv", "kty", "x", "y"],
        Some("RSA") => &["e", "kty", "n"],
        Some("OKP") => &["crv", "kty", "x"],
        _ => return Err(bad()),
    };
    let mut canonical = String::from("{");
    for (i, name) in members.iter().enumerate() {
        let value = obj.get(*name).and_then(Value::as_str).ok_or_else(bad)?;
        if i > 0 {
            canonical.push(',');
        }
        // serde_json writes a string as RFC 8259 JSON: the form RFC 7638 §3.3 asks for.
        canonical.push_str(&Value::from(*name).to_string());
        canonical.push(':');
        canonical.push_str(&Value::from(value).to_string());
    }
    canonical.push('}');
    Ok(crate::b64::encode(&Sha256::digest(canonical.as_bytes())))
}

/// An `http` or `https` URI without its query and fragment, normalised as RFC 9449 §4.3 asks
/// (RFC 3986 §6.2.2 syntax-based and §6.2.3 scheme-based normalisation): scheme and host in
/// lower case; the scheme's default port dropped (and an empty port); an empty path as `/`;
/// percent-encoding in upper-case hex, with unreserved characters decoded; dot segments
/// removed. Visible ASCII that RFC 3986 does not allow raw in a path (`"`, `<`, `>`, `^`,
/// `` ` ``, `{`, `|`, `}`) is percent-encoded, as URL parsers send it. `None` for another
/// scheme, userinfo, a malformed host, port or percent-encoding, a raw `\` (which URL parsers
/// read as `/`), or any control, space or non-ASCII byte.
pub fn normalize_htu(uri: &str) -> Option<String> {
    let crate::uri::UrlParts {
        scheme,
        host,
        port,
        path,
        ..
    } = crate::uri::split_url(uri)?;
    let default_port = if scheme == "https" { "443" } else { "80" };
    let host_ok = crate::uri::is_bracketed(&host)
        || (!host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
    if !host_ok {
        return None;
    }
    let port = match port {
        None | Some("") => None,
        Some(p) if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u16 = p.parse().ok()?;
            let n = n.to_string();
            (n != default_port).then_some(n)
        }
        Some(_) => return None,
    };
    let path = normalize_path(path)?;
    Some(match port {
        Some(p) => format!("{scheme}://{host}:{p}{path}"),
        None => format!("{scheme}://{host}{path}"),
    })
}

/// A path's percent-encoding normalised and its dot segments removed (see [`normalize_htu`]).
fn normalize_path(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len() + 1);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            crate::uri::push_escape(&mut out, crate::uri::escape_at(bytes, i)?);
            i += 3;
            continue;
        }
        // A raw `\` is refused: URL parsers read it as `/`, this would encode it.
        if !b.is_ascii_graphic() || b == b'\\' {
            return None;
        }
        if b"\"<>^`{|}".contains(&b) {
            crate::uri::push_escape(&mut out, b);
        } else {
            out.push(b as char);
        }
        i += 1;
    }
    // RFC 3986 §5.2.4, over segments: the path is absolute (or empty).
    let mut segments: Vec<&str> = Vec::new();
    let raw: Vec<&str> = out.split('/').skip(1).collect();
    for (n, seg) in raw.iter().enumerate() {
        let last = n + 1 == raw.len();
        match *seg {
            "." => {
                if last {
                    segments.push("");
                }
            }
            ".." => {
                segments.pop();
                if last {
                    segments.push("");
                }
            }
            s => segments.push(s),
        }
    }
    Some(format!("/{}", segments.join("/")))
}

/// An in-memory replay store: each [`Proof::replay_key`] until its
/// [`replay_until`](Proof::replay_until), at most `capacity` at once and at most `per_key` of
/// one holder key (so one client filling the store locks out only itself). For one process
/// (the npm `Verifier`); verifiers that share tokens need a shared store (the gate's Durable
/// Object).
#[derive(Debug, Clone)]
pub struct ReplayWindow {
    /// Replay key → (until, the proof key's thumbprint).
    seen: HashMap<String, (i64, String)>,
    /// Live entries per thumbprint.
    per_key_count: HashMap<String, usize>,
    capacity: usize,
    per_key: usize,
    /// When the last sweep ran: at most one a second, however many proofs arrive at a full
    /// store (a sweep reads every entry).
    swept_at: Option<i64>,
}

impl ReplayWindow {
    /// An empty store of at most `capacity` live entries, `per_key` of them per holder key.
    pub fn new(capacity: usize, per_key: usize) -> Self {
        ReplayWindow {
            seen: HashMap::new(),
            per_key_count: HashMap::new(),
            capacity,
            per_key,
            swept_at: None,
        }
    }

    fn sweep(&mut self, now: i64) {
        if self.swept_at.is_some_and(|t| t >= now) {
            return;
        }
        self.swept_at = Some(now);
        let counts = &mut self.per_key_count;
        self.seen.retain(|_, (until, jkt)| {
            let live = *until > now;
            if !live {
                if let Some(n) = counts.get_mut(jkt.as_str()) {
                    *n = n.saturating_sub(1);
                }
            }
            live
        });
        counts.retain(|_, n| *n > 0);
    }

    /// Records `proof` at `now`: `replayed` if its key is remembered. When full of entries
    /// still in their window (all of them, or its holder key's share), `dpop_proof`: it fails
    /// closed, no entry is forgotten early (its proof could be replayed).
    pub fn record(&mut self, proof: &Proof, now: i64) -> Result<()> {
        if self
            .seen
            .get(&proof.replay_key)
            .is_some_and(|(until, _)| *until > now)
        {
            return Err(Error::claim(
                Code::Replayed,
                "jti",
                "this DPoP proof was already used",
            ));
        }
        let mine = |w: &Self| w.per_key_count.get(&proof.jkt).copied().unwrap_or(0);
        if self.seen.len() >= self.capacity || mine(self) >= self.per_key {
            self.sweep(now);
            if self.seen.len() >= self.capacity || mine(self) >= self.per_key {
                return Err(proof_error(
                    "jti",
                    "too many DPoP proofs within their window to remember another",
                ));
            }
        }
        let old = self.seen.insert(
            proof.replay_key.clone(),
            (proof.replay_until, proof.jkt.clone()),
        );
        if old.is_none() {
            *self.per_key_count.entry(proof.jkt.clone()).or_insert(0) += 1;
        }
        Ok(())
    }

    /// How many entries are kept (expired ones included until the next sweep).
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc_7638_example_thumbprint() {
        // RFC 7638 §3.1.
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            thumbprint(&jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        assert!(thumbprint(&json!({"kty": "oct", "k": "AA"})).is_err());
        assert!(thumbprint(&json!({"kty": "EC", "crv": "P-256", "x": "AA"})).is_err());
    }

    #[test]
    fn nonces_are_good_in_their_window_and_the_next_only() {
        let n = Nonces::new(&[7u8; 32]).unwrap();
        let other = Nonces::new(&[8u8; 32]).unwrap();
        let t = 1_800_000_000 - 1_800_000_000 % NONCE_WINDOW_SECONDS;
        let nonce = n.issue(t + 10);
        assert!(n.accepts(&nonce, t + 10));
        assert!(n.accepts(&nonce, t + NONCE_WINDOW_SECONDS + 299));
        assert!(!n.accepts(&nonce, t + 2 * NONCE_WINDOW_SECONDS));
        assert!(!n.accepts(&nonce, t - 1), "a window not begun yet");
        assert!(!other.accepts(&nonce, t + 10), "another secret");
        let mut forged = crate::b64::decode(nonce.as_bytes()).unwrap();
        forged[23] ^= 1;
        assert!(!n.accepts(&crate::b64::encode(&forged), t + 10));
        for junk in ["", "x", "AAAA", &"A".repeat(64)] {
            assert!(!n.accepts(junk, t));
        }
        assert!(Nonces::new(&[1u8; 31]).is_err());
    }

    #[test]
    fn htu_normalisation() {
        let n = |s: &str| normalize_htu(s);
        let same = [
            (
                "https://Server.Example.com/a",
                "https://server.example.com/a",
            ),
            (
                "HTTPS://server.example.com:443/a?x=1#f",
                "https://server.example.com/a",
            ),
            ("https://server.example.com", "https://server.example.com/"),
            (
                "https://server.example.com:/a",
                "https://server.example.com/a",
            ),
            ("http://h.example:80/a", "http://h.example/a"),
            (
                "https://h.example/%7euser/%2f",
                "https://h.example/~user/%2F",
            ),
            ("https://h.example/a/./b/../c", "https://h.example/a/c"),
            ("https://h.example/a/..", "https://h.example/"),
            ("https://h.example/a|b", "https://h.example/a%7Cb"),
            ("https://[::1]:8443/x", "https://[::1]:8443/x"),
            ("https://h.example:0443/a", "https://h.example/a"),
        ];
        for (a, b) in same {
            assert_eq!(n(a).as_deref(), Some(b), "{a}");
        }
        assert_ne!(n("https://h.example:8443/a"), n("https://h.example/a"));
        assert_ne!(n("http://h.example/a"), n("https://h.example/a"));
        assert_ne!(n("https://h.example/a%2Fb"), n("https://h.example/a/b"));
        for bad in [
            "https://h.example/%+F",
            "https://h.example/%-1",
            "https://h.example/%4",
            "ftp://h.example/a",
            "https://user@h.example/a",
            "https:///a",
            "https://h.example/a b",
            "https://h.example/%zz",
            "https://h.example/%4",
            "https://h.example:99999/a",
            "https://h.example:8x/a",
            "https://h\u{e9}.example/a",
            "h.example/a",
            "https://[zz]/a",
            "https://h.example/a\\b",
        ] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }

    #[test]
    fn rules_refuse_hmac_unknown_members_and_bad_lifetimes() {
        assert!(DpopRules::from_value(&json!({"algorithms": ["ES256"]}), 30).is_ok());
        for bad in [
            json!({"algorithms": ["HS256"]}),
            json!({"algorithms": []}),
            json!({}),
            json!({"algorithms": ["ES256"], "maxAgeSeconds": 0}),
            json!({"algorithms": ["ES256"], "maxAgeSeconds": 601}),
            json!({"algorithms": ["ES256"], "maxAge": 60}),
            json!(["ES256"]),
        ] {
            let e = DpopRules::from_value(&bad, 30).unwrap_err();
            assert_eq!(e.code(), Code::Config, "{bad}");
        }
    }

    #[test]
    fn the_replay_window_remembers_until_expiry_and_fails_closed_when_full() {
        let proof = |k: &str, until: i64| Proof {
            jkt: "t".into(),
            iat: 0,
            replay_key: k.into(),
            replay_until: until,
            nonce: None,
        };
        let mut w = ReplayWindow::new(2, 2);
        assert!(w.record(&proof("a", 100), 10).is_ok());
        assert_eq!(
            w.record(&proof("a", 100), 99).unwrap_err().code(),
            Code::Replayed
        );
        assert!(w.record(&proof("b", 50), 10).is_ok());
        // Full of live entries: refused, nothing forgotten.
        assert_eq!(
            w.record(&proof("c", 100), 20).unwrap_err().code(),
            Code::DpopProof
        );
        assert_eq!(
            w.record(&proof("a", 100), 20).unwrap_err().code(),
            Code::Replayed
        );
        // Once b expired there is room again; a is still remembered.
        assert!(w.record(&proof("c", 100), 50).is_ok());
        assert_eq!(w.len(), 2);
        // Past its window a key may be seen again (its proof's iat is out of window anyway).
        assert!(w.record(&proof("a", 200), 100).is_ok());
        // One holder key's share: full for it, not for another key.
        let mut w = ReplayWindow::new(10, 2);
        let of = |jkt: &str, k: &str| Proof {
            jkt: jkt.into(),
            iat: 0,
            replay_key: k.into(),
            replay_until: 100,
            nonce: None,
        };
        assert!(w.record(&of("greedy", "1"), 0).is_ok());
        assert!(w.record(&of("greedy", "2"), 0).is_ok());
        assert_eq!(
            w.record(&of("greedy", "3"), 0).unwrap_err().code(),
            Code::DpopProof
        );
        assert!(w.record(&of("other", "o1"), 0).is_ok());
        // Its entries expire, its share comes back.
        assert!(w.record(&of("greedy", "3"), 100).is_ok());
    }
}
