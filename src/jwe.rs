//! Auth.js session cookies: the JWE that `@auth/core`'s default `jwt.encode` writes, opened
//! read-only and then held to the same [`ClaimRules`] as a signed token.
//!
//! Auth.js v5 encrypts its JWT session cookie with `alg: "dir"` and `enc: "A256CBC-HS512"` under
//! a key derived from `AUTH_SECRET` with HKDF-SHA256 (salt = the cookie name, info
//! `Auth.js Generated Encryption Key (<salt>)`, 64 bytes), and names that key in `kid` by its
//! RFC 7638 thumbprint (SHA-512 of `{"k":…,"kty":"oct"}`). Its `decode` also takes `A256GCM`
//! (a 32-byte key, SHA-256 thumbprint) and several secrets, tried by `kid` (rotation). This
//! module reads exactly that and nothing else:
//!
//! * **size**: longer than the policy's `maxTokenBytes` → `too_large`;
//! * **structure**: exactly five strict-base64url segments, the second (the encrypted key)
//!   empty, an IV of 16 bytes (CBC) or 12 (GCM), a tag of 32 or 16 bytes, a protected header
//!   that is a strict JSON object → otherwise `malformed`;
//! * **header**: `alg` exactly `dir` and `enc` exactly `A256CBC-HS512` or `A256GCM` →
//!   otherwise `algorithm`; a string `kid` and no other member (no `zip`, `crit`, `cty`, `typ`,
//!   nor any key-carrying member) → otherwise `header`;
//! * **key**: the secret whose derived key has that thumbprint → otherwise `key_not_found`;
//! * **authentication tag** (constant-time) → `signature` when it does not verify: a cookie
//!   made under another secret, another cookie name, or altered in any byte;
//! * **payload**: strict UTF-8 JSON object → otherwise `malformed`; with a policy
//!   `maxAgeSeconds`, an `auth_time` → otherwise `missing_claim` (Auth.js renews `iat` on every
//!   refresh, so only `auth_time` bounds the session); then [`ClaimRules::check`] (`iss`, `aud`, `exp`, `nbf`, `iat`, max age, required claims).
//!
//! The policy's `typ` is a JWS header rule and does not apply: Auth.js's JWE header has no
//! `typ`, and the key itself is bound to its purpose by the salt (the cookie name).
//!
//! Auth.js writes no `iss` or `aud`: the app stamps them in its `jwt` callback (the Auth.js
//! adapter's callback mode does), and the rules require them, as for every token.

use crate::claims::ClaimRules;
use crate::error::{Code, Error, Result};
use crate::policy::Policy;
use crate::{b64, json};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha512};
use std::fmt;

/// The shortest `AUTH_SECRET` accepted, in bytes (what `npx auth secret` and
/// `openssl rand -base64 32` give is 44).
pub const MIN_SECRET_BYTES: usize = 32;

/// The most secrets one reader takes (Auth.js reads `AUTH_SECRET` and `AUTH_SECRET_1` to `_3`).
pub const MAX_SECRETS: usize = 8;

/// The content encryption of an opened cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// `A256CBC-HS512` (RFC 7518 §5.2.5): what Auth.js writes.
    A256CbcHs512,
    /// `A256GCM` (RFC 7518 §5.3): what Auth.js's `decode` also accepts.
    A256Gcm,
}

impl Encryption {
    /// The registered `enc` name.
    pub const fn name(self) -> &'static str {
        match self {
            Encryption::A256CbcHs512 => "A256CBC-HS512",
            Encryption::A256Gcm => "A256GCM",
        }
    }

    fn from_name(name: &str) -> Option<Encryption> {
        match name {
            "A256CBC-HS512" => Some(Encryption::A256CbcHs512),
            "A256GCM" => Some(Encryption::A256Gcm),
            _ => None,
        }
    }

    const fn iv_len(self) -> usize {
        match self {
            Encryption::A256CbcHs512 => 16,
            Encryption::A256Gcm => 12,
        }
    }

    const fn tag_len(self) -> usize {
        match self {
            Encryption::A256CbcHs512 => 32,
            Encryption::A256Gcm => 16,
        }
    }
}

/// An Auth.js session cookie that passed every check.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Opened {
    /// The content encryption it used.
    pub enc: Encryption,
    /// The header `kid` (the derived key's thumbprint).
    pub kid: String,
    /// Which of the reader's secrets opened it (0 = the first given).
    pub secret_index: usize,
    /// The payload (claims set).
    pub claims: Map<String, Value>,
    /// The payload exactly as encrypted (UTF-8 JSON text).
    pub payload_json: String,
}

/// The one AES-256 decryption opening a cookie needs, as [`AuthJsCookie::open_with`] asks for
/// it (after the header and, for A256CBC-HS512, the HMAC tag were checked).
pub(crate) struct Decryption<'a> {
    /// `A256CBC-HS512` (AES-256-CBC, PKCS#7 padding) or `A256GCM`.
    pub(crate) enc: Encryption,
    /// The AES-256 key (CBC: the second half of the derived key).
    pub(crate) key: &'a [u8],
    pub(crate) iv: &'a [u8],
    /// GCM's additional data (the protected header as received).
    pub(crate) aad: &'a [u8],
    /// The ciphertext.
    pub(crate) data: &'a [u8],
    /// GCM's 16-byte tag.
    pub(crate) tag: &'a [u8],
}

impl Decryption<'_> {
    /// By this build's AES: RustCrypto's (`jwe`), or the registered host's.
    fn here(&self) -> Result<Option<Vec<u8>>> {
        let mut data = self.data.to_vec();
        Ok(match self.enc {
            Encryption::A256CbcHs512 => aes256::cbc(self.key, self.iv, &mut data).map(|n| {
                data.truncate(n);
                data
            }),
            Encryption::A256Gcm => {
                aes256::gcm(self.key, self.iv, self.aad, &mut data, self.tag).map(|()| data)
            }
        })
    }
}

struct Derived {
    cbc: [u8; 64],
    cbc_kid: String,
    gcm: [u8; 32],
    gcm_kid: String,
}

/// Opens the session cookies one Auth.js app writes under one cookie name: its secrets (newest
/// first or in any order: each cookie names its key), the cookie name (the HKDF salt), and the
/// policy whose claim rules and size limit apply. Build it once: the keys are derived here.
#[derive(Clone)]
pub struct AuthJsCookie {
    /// Whether the AES is left to the caller ([`AuthJsCookie::open_with`]): built with no host
    /// crypto able to decrypt, in the npm package's builds (WebCrypto, `openAsync`).
    deferred: bool,
    salt: String,
    keys: std::sync::Arc<[Derived]>,
    rules: ClaimRules,
    max_token_bytes: usize,
}

impl fmt::Debug for AuthJsCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the keys or their thumbprints' secrets: how many, and for which cookie.
        f.debug_struct("AuthJsCookie")
            .field("cookie", &self.salt)
            .field("secrets", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// HKDF-SHA256 (RFC 5869), extract then expand, `out.len()` ≤ 255 × 32.
fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) {
    let mac = |key: &[u8]| {
        <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).expect("HMAC takes any key length")
    };
    let mut extract = mac(salt);
    extract.update(ikm);
    let prk = extract.finalize().into_bytes();
    let mut previous: Vec<u8> = Vec::new();
    for (i, chunk) in out.chunks_mut(32).enumerate() {
        let mut m = mac(&prk);
        m.update(&previous);
        m.update(info);
        m.update(&[(i + 1) as u8]);
        let t = m.finalize().into_bytes();
        chunk.copy_from_slice(&t[..chunk.len()]);
        previous = t.to_vec();
    }
}

/// The RFC 7638 thumbprint of the `oct` JWK holding `key`, with Auth.js's hash choice (SHA-512
/// for a 64-byte key, SHA-256 for 32).
fn thumbprint(key: &[u8]) -> String {
    let canonical = format!(r#"{{"k":"{}","kty":"oct"}}"#, b64::encode(key));
    if key.len() == 64 {
        b64::encode(&Sha512::digest(canonical.as_bytes()))
    } else {
        b64::encode(&Sha256::digest(canonical.as_bytes()))
    }
}

fn derive(secret: &[u8], salt: &str) -> Derived {
    let info = format!("Auth.js Generated Encryption Key ({salt})");
    let mut cbc = [0u8; 64];
    hkdf_sha256(secret, salt.as_bytes(), info.as_bytes(), &mut cbc);
    // HKDF's expand output is a prefix stream: Auth.js's 32-byte derivation (same salt and
    // info) is the first half of its 64-byte one.
    let mut gcm = [0u8; 32];
    gcm.copy_from_slice(&cbc[..32]);
    Derived {
        cbc_kid: thumbprint(&cbc),
        gcm_kid: thumbprint(&gcm),
        cbc,
        gcm,
    }
}

fn malformed(what: &'static str) -> Error {
    Error::new(Code::Malformed, what)
}

fn bad_tag() -> Error {
    Error::new(
        Code::Signature,
        "the authentication tag does not verify (another secret, another cookie name, or altered)",
    )
}

/// AES-256 decryption, the one step of opening a cookie that may be the host's: RustCrypto's
/// with the `jwe` feature, the registered host crypto's (`decrypt`, node:crypto) in a
/// `host-keys` build without it. Every other step (the header, the HMAC-SHA-512 tag of
/// A256CBC-HS512, the plaintext's length, the claims) is jwtgate's either way.
#[cfg(feature = "jwe")]
mod aes256 {
    use aes::cipher::{block_padding::Pkcs7, BlockModeDecrypt, KeyIvInit};
    use aes_gcm::aead::{AeadInOut, KeyInit};

    /// Whether decryption is available (always, here).
    pub(super) fn available() -> bool {
        true
    }

    #[cfg(test)]
    #[test]
    fn the_known_answers_are_aes_256() {
        assert!(super::known_answers());
        // A wrong tag is refused.
        let mut data = super::unhex(super::KNOWN_GCM.1);
        let mut tag = super::unhex(super::KNOWN_GCM.2);
        tag[0] ^= 1;
        assert!(gcm(
            &[7; 32],
            &super::unhex(super::KNOWN_GCM.0),
            b"jwtgate",
            &mut data,
            &tag
        )
        .is_none());
    }

    /// AES-256-CBC with PKCS#7 padding, in place: the plaintext's length, or `None`.
    pub(super) fn cbc(key: &[u8], iv: &[u8], data: &mut [u8]) -> Option<usize> {
        let plain = cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded::<Pkcs7>(data)
            .ok()?;
        Some(plain.len())
    }

    /// AES-256-GCM with `aad` and the detached `tag`, in place: `None` where the tag is wrong.
    pub(super) fn gcm(
        key: &[u8],
        iv: &[u8],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8],
    ) -> Option<()> {
        let cipher = aes_gcm::Aes256Gcm::new_from_slice(key).ok()?;
        let nonce = aes_gcm::Nonce::try_from(iv).ok()?;
        let tag = aes_gcm::Tag::try_from(tag).ok()?;
        cipher
            .decrypt_inout_detached(&nonce, aad, data.into(), &tag)
            .ok()
    }
}

#[cfg_attr(feature = "jwe", allow(dead_code))]
/// A known answer for each mode (AES-256 with a key of 32 × 7, made by node:crypto; this
/// module's tests check them against RustCrypto): where the AES is the host's, a reader is only
/// made once the host decrypts both to "jwtgate aes check", so a host that cannot is a
/// configuration error, not a stream of refused cookies.
const KNOWN_CBC: (&str, &str) = (
    "09090909090909090909090909090909",
    "2383a19f72b3e6c69aa0fca69a1306e7198c19cc43571dfda21d9d9d82b2c768",
);
/// `(iv, ciphertext, tag)` with the additional data "jwtgate".
#[cfg_attr(feature = "jwe", allow(dead_code))]
const KNOWN_GCM: (&str, &str, &str) = (
    "050505050505050505050505",
    "8886f34fb0e91a1381122e50e605ecd73c",
    "34942acbe57f86237768e6b7b43415b9",
);

#[cfg_attr(feature = "jwe", allow(dead_code))]
fn unhex(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .filter_map(|i| u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

#[cfg_attr(feature = "jwe", allow(dead_code))]
/// Whether [`aes256`] decrypts both known answers.
fn known_answers() -> bool {
    let key = [7u8; 32];
    let plain = b"jwtgate aes check";
    let mut cbc = unhex(KNOWN_CBC.1);
    let cbc_ok = aes256::cbc(&key, &unhex(KNOWN_CBC.0), &mut cbc) == Some(plain.len())
        && &cbc[..plain.len()] == plain;
    let mut gcm = unhex(KNOWN_GCM.1);
    let gcm_ok = aes256::gcm(
        &key,
        &unhex(KNOWN_GCM.0),
        b"jwtgate",
        &mut gcm,
        &unhex(KNOWN_GCM.2),
    )
    .is_some()
        && gcm == plain;
    cbc_ok && gcm_ok
}

#[cfg(not(feature = "jwe"))]
mod aes256 {
    use crate::alg::host::{self, Cipher};

    /// Whether host crypto with `decrypt` is registered and decrypts the known answers.
    pub(super) fn available() -> bool {
        host::can_decrypt() && super::known_answers()
    }

    /// The host's AES-256-CBC (PKCS#7 removed by it): its plaintext must be 1 to 16 bytes
    /// shorter than the ciphertext, as padding makes it, or the answer is refused (as
    /// `open_with` refuses any answer of another length).
    pub(super) fn cbc(key: &[u8], iv: &[u8], data: &mut [u8]) -> Option<usize> {
        let plain = host::decrypt(Cipher::Aes256Cbc, key, iv, &[], data, &[])?;
        let len = plain.len();
        (len < data.len() && len + 16 >= data.len()).then(|| {
            data[..len].copy_from_slice(&plain);
            len
        })
    }

    /// The host's AES-256-GCM: its plaintext must be exactly as long as the ciphertext.
    pub(super) fn gcm(
        key: &[u8],
        iv: &[u8],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8],
    ) -> Option<()> {
        let plain = host::decrypt(Cipher::Aes256Gcm, key, iv, aad, data, tag)?;
        (plain.len() == data.len()).then(|| data.copy_from_slice(&plain))
    }
}

impl AuthJsCookie {
    /// A reader for the cookie `cookie_name` of an app whose `AUTH_SECRET`s are `secrets`, under
    /// `policy`'s claim rules and `maxTokenBytes`. `config` errors: no secret, more than
    /// [`MAX_SECRETS`], a secret shorter than [`MIN_SECRET_BYTES`], two equal secrets, or a cookie
    /// name that is empty or not a plain cookie token; in a build whose AES is the host's
    /// (`host-keys` without `jwe`), no host crypto with `decrypt` registered.
    pub fn new<S: AsRef<[u8]>>(
        secrets: &[S],
        cookie_name: &str,
        policy: &Policy,
    ) -> Result<AuthJsCookie> {
        let usable = aes256::available();
        let deferred = !usable && cfg!(feature = "js");
        if !usable && !deferred {
            return Err(Error::config(
                "secret",
                "this build's AES-256 is host crypto's, and none is registered whose decrypt \
                 gives the known answers \
                 (jwtgate's Node entry registers node:crypto, and the edge gate workerd's \
                 node:crypto, under the `nodejs_compat` compatibility flag)",
            ));
        }
        if secrets.is_empty() || secrets.len() > MAX_SECRETS {
            return Err(Error::config(
                "secret",
                format!("required: 1 to {MAX_SECRETS} secrets (AUTH_SECRET and older ones)"),
            ));
        }
        for (i, s) in secrets.iter().enumerate() {
            let s = s.as_ref();
            if s.len() < MIN_SECRET_BYTES {
                return Err(Error::config(
                    format!("secret[{i}]"),
                    format!("shorter than {MIN_SECRET_BYTES} bytes (generate one with `npx auth secret`)"),
                ));
            }
            if secrets[..i].iter().any(|t| t.as_ref() == s) {
                return Err(Error::config(format!("secret[{i}]"), "given twice"));
            }
        }
        if !crate::cookie::is_cookie_name(cookie_name) {
            return Err(Error::config(
                "cookie",
                "the cookie name must be a plain, non-empty cookie token",
            ));
        }
        Ok(AuthJsCookie {
            deferred,
            salt: cookie_name.to_owned(),
            keys: secrets
                .iter()
                .map(|s| derive(s.as_ref(), cookie_name))
                .collect(),
            rules: policy.rules().clone(),
            max_token_bytes: policy.max_token_bytes(),
        })
    }

    /// The cookie name (the HKDF salt) this reader opens.
    pub fn cookie_name(&self) -> &str {
        &self.salt
    }

    /// The claim rules applied after decryption.
    pub fn rules(&self) -> &ClaimRules {
        &self.rules
    }

    /// Opens a session cookie's value (chunks already joined) at `now` (seconds since the
    /// epoch): every check in the [module](self) order, the first failure returned.
    pub fn open(&self, token: &str, now: i64) -> Result<Opened> {
        if self.deferred {
            return Err(Error::config(
                "secret",
                "no host crypto able to decrypt was registered when this reader was built, and \
                 this build has no AES code of its own: use openAsync (WebCrypto)",
            ));
        }
        self.open_with(token, now, &mut |d| d.here())
    }

    /// Whether this reader leaves AES to its caller (see [`AuthJsCookie::open_with`]).
    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    pub(crate) fn deferred(&self) -> bool {
        self.deferred
    }

    /// [`open`](AuthJsCookie::open) with the AES-256 decryption by `decrypt`: the plaintext, or
    /// `None` for a wrong tag or padding. Every other check is here, before (the header, the
    /// HMAC tag of A256CBC-HS512) and after it: a CBC plaintext must be 1 to 16 bytes shorter
    /// than the ciphertext (its padding), a GCM one exactly as long, else `signature`.
    pub(crate) fn open_with(
        &self,
        token: &str,
        now: i64,
        // A trait object, not a generic: one copy of the whole open in the wasm.
        decrypt: &mut dyn FnMut(&Decryption<'_>) -> Result<Option<Vec<u8>>>,
    ) -> Result<Opened> {
        let bytes = token.as_bytes();
        if bytes.len() > self.max_token_bytes {
            return Err(Error::new(
                Code::TooLarge,
                "token is longer than the policy's maxTokenBytes",
            ));
        }
        let mut parts = bytes.splitn(6, |&b| b == b'.');
        let (Some(h64), Some(k64), Some(iv64), Some(c64), Some(t64), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(malformed(
                "an Auth.js session JWE has exactly five segments",
            ));
        };
        let header_bytes = b64::decode(h64).map_err(|_| malformed("header is not base64url"))?;
        let header = json::parse_object(&header_bytes)
            .map_err(|_| malformed("header is not a strict JSON object"))?;

        if header.get("alg").and_then(Value::as_str) != Some("dir") {
            return Err(Error::new(
                Code::Algorithm,
                "alg must be \"dir\" (Auth.js's key management)",
            ));
        }
        let enc = header
            .get("enc")
            .and_then(Value::as_str)
            .and_then(Encryption::from_name)
            .ok_or_else(|| {
                Error::new(
                    Code::Algorithm,
                    "enc must be \"A256CBC-HS512\" or \"A256GCM\"",
                )
            })?;
        let kid = match header.get("kid") {
            Some(Value::String(k)) => k.as_str(),
            _ => {
                return Err(Error::new(
                    Code::Header,
                    "kid is missing or not a string (Auth.js always names its key)",
                ))
            }
        };
        if header.len() != 3 {
            return Err(Error::new(
                Code::Header,
                "header members other than alg, enc and kid (zip, crit, typ, keys …) are refused",
            ));
        }

        if !k64.is_empty() {
            return Err(malformed(
                "direct encryption has an empty encrypted-key segment",
            ));
        }
        let iv = b64::decode(iv64).map_err(|_| malformed("iv is not base64url"))?;
        let data = b64::decode(c64).map_err(|_| malformed("ciphertext is not base64url"))?;
        let tag = b64::decode(t64).map_err(|_| malformed("tag is not base64url"))?;
        if iv.len() != enc.iv_len() || tag.len() != enc.tag_len() {
            return Err(malformed("iv or tag has the wrong length for enc"));
        }
        if enc == Encryption::A256CbcHs512 && (data.is_empty() || data.len() % 16 != 0) {
            return Err(malformed("CBC ciphertext is not a whole number of blocks"));
        }

        let found = self.keys.iter().enumerate().find(|(_, k)| match enc {
            Encryption::A256CbcHs512 => k.cbc_kid == kid,
            Encryption::A256Gcm => k.gcm_kid == kid,
        });
        let Some((secret_index, key)) = found else {
            return Err(Error::new(
                Code::KeyNotFound,
                "no configured secret has this kid (rotated out, or another app's cookie)",
            ));
        };

        // The additional authenticated data is the protected header exactly as received.
        let aad = h64;
        let aes_key = match enc {
            Encryption::A256CbcHs512 => {
                let (mac_key, enc_key) = key.cbc.split_at(32);
                let mut mac = <Hmac<Sha512> as hmac::KeyInit>::new_from_slice(mac_key)
                    .expect("HMAC takes any key length");
                mac.update(aad);
                mac.update(&iv);
                mac.update(&data);
                mac.update(&((aad.len() as u64) * 8).to_be_bytes());
                mac.verify_truncated_left(&tag).map_err(|_| bad_tag())?;
                enc_key
            }
            Encryption::A256Gcm => &key.gcm[..],
        };
        let request = Decryption {
            enc,
            key: aes_key,
            iv: &iv,
            aad,
            data: &data,
            tag: &tag,
        };
        let plain = decrypt(&request)?.ok_or_else(bad_tag)?;
        let fits = match enc {
            Encryption::A256CbcHs512 => plain.len() < data.len() && plain.len() + 16 >= data.len(),
            Encryption::A256Gcm => plain.len() == data.len(),
        };
        if !fits {
            return Err(bad_tag());
        }
        let data = plain;
        let claims = json::parse_object(&data)
            .map_err(|_| malformed("payload is not a strict JSON object"))?;
        // Auth.js re-encodes the cookie, with a fresh `iat`, on every session refresh: a maximum
        // age counted from `iat` would slide with it. Only `auth_time` bounds the session.
        if self.rules.max_age_seconds().is_some()
            && claims.get("auth_time").is_none_or(Value::is_null)
        {
            return Err(Error::claim(
                Code::MissingClaim,
                "auth_time",
                "with maxAgeSeconds an Auth.js session needs auth_time (Auth.js renews iat on every refresh; stamp auth_time in the jwt callback)",
            ));
        }
        self.rules.check(&claims, now)?;
        Ok(Opened {
            enc,
            kid: kid.to_owned(),
            secret_index,
            claims,
            // Valid UTF-8: the strict JSON parser accepted it.
            payload_json: String::from_utf8(data).map_err(|_| malformed("payload"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn hkdf_matches_rfc_5869_case_1_and_3() {
        let mut okm = [0u8; 42];
        hkdf_sha256(
            &hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            &hex("000102030405060708090a0b0c"),
            &hex("f0f1f2f3f4f5f6f7f8f9"),
            &mut okm,
        );
        assert_eq!(
            okm.to_vec(),
            hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        );
        // Case 3: empty salt and info.
        hkdf_sha256(
            &hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            b"",
            b"",
            &mut okm,
        );
        assert_eq!(
            okm.to_vec(),
            hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
        );
    }

    #[test]
    fn the_64_byte_key_is_the_32_byte_key_extended() {
        // `derive` takes the GCM key as the CBC key's first half: what a 32-byte HKDF gives.
        let salt = "authjs.session-token";
        let d = derive(&[7u8; 40], salt);
        let mut direct = [0u8; 32];
        let info = format!("Auth.js Generated Encryption Key ({salt})");
        hkdf_sha256(&[7u8; 40], salt.as_bytes(), info.as_bytes(), &mut direct);
        assert_eq!(d.gcm, direct);
        assert_ne!(d.cbc_kid, d.gcm_kid);
    }

    /// `open_with`'s rules on whatever the decryption answers (WebCrypto's, in `openAsync`):
    /// only a plaintext of the length the ciphertext allows opens, never a refusal.
    #[test]
    fn open_with_checks_every_answer() {
        let f: Value =
            serde_json::from_str(include_str!("../tests/fixtures/authjs/cookies.json")).unwrap();
        let text = |k: &str| f[k].as_str().unwrap().to_owned();
        let policy = Policy::from_value_keys_optional(&serde_json::json!({
            "issuer": "https://app.example", "audience": "app", "algorithms": ["HS256"]
        }))
        .unwrap();
        let r = AuthJsCookie::new(&[text("secret")], &text("secureCookie"), &policy).unwrap();
        let now = f["iat"].as_i64().unwrap() + 10;
        for name in ["cbc", "gcm"] {
            let token = text(name);
            let good = r.open(&token, now).unwrap();
            let mut seen = None;
            let again = r
                .open_with(&token, now, &mut |d| {
                    seen = Some((d.enc, d.key.len(), d.iv.len(), d.tag.len()));
                    d.here()
                })
                .unwrap();
            assert_eq!(again.payload_json, good.payload_json, "{name}");
            let (enc, key, iv, tag) = seen.unwrap();
            assert_eq!((key, iv), (32, enc.iv_len()), "{name}");
            assert_eq!(tag, enc.tag_len(), "{name}");
            let code = |answer: Option<Vec<u8>>| {
                r.open_with(&token, now, &mut |_| Ok(answer.clone()))
                    .unwrap_err()
                    .code()
            };
            let plain = good.payload_json.as_bytes().to_vec();
            assert_eq!(code(None), Code::Signature, "{name}: refused");
            let mut longer = plain.clone();
            longer.extend_from_slice(&[b' '; 17]);
            assert_eq!(code(Some(longer)), Code::Signature, "{name}: too long");
            assert_eq!(
                code(Some(plain[1..].to_vec())),
                match enc {
                    // One byte shorter still fits CBC's padding: the JSON is then broken.
                    Encryption::A256CbcHs512 => Code::Malformed,
                    Encryption::A256Gcm => Code::Signature,
                },
                "{name}: shorter"
            );
            let failed = r.open_with(&token, now, &mut |_| Err(Error::config("secret", "host")));
            assert_eq!(failed.unwrap_err().code(), Code::Config, "{name}");
        }
    }

    #[test]
    fn debug_shows_no_key_material() {
        let policy = Policy::from_value_keys_optional(&serde_json::json!({
            "issuer": "i", "audience": "a", "algorithms": ["HS256"]
        }))
        .unwrap();
        let r = AuthJsCookie::new(&["x".repeat(32)], "authjs.session-token", &policy).unwrap();
        let text = format!("{r:?}");
        assert!(text.contains("authjs.session-token") && text.contains("secrets: 1"));
        assert!(!text.contains(&r.keys[0].cbc_kid) && !text.contains("xxxx"));
    }
}
