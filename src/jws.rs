//! The JWS structure stage, shared by everything that reads a compact JWS: the verifier, DPoP
//! proofs, refresh tokens and `explain`. Nothing here verifies anything: it splits a token into
//! its three segments, decodes them strictly (base64url without padding, strict JSON objects
//! without duplicate members) and compares media types. The unverified peeks are for routing
//! and logs only, never for a decision about the token.

use crate::error::{Code, Error, Result};
use crate::{b64, json};
use serde_json::{Map, Value};

/// The header `typ` of jwtgate's refresh tokens ([`crate::refresh`]): every access verifier
/// refuses it, and no policy may take it.
pub const REFRESH_TYP: &str = "jwtgate-refresh+jwt";

fn malformed(what: &'static str) -> Error {
    Error::new(Code::Malformed, what)
}

/// A compact JWS's parts, decoded and parsed strictly: nothing in them is verified.
pub(crate) struct Decoded {
    pub(crate) header: Map<String, Value>,
    pub(crate) claims: Map<String, Value>,
    pub(crate) signature: Vec<u8>,
    pub(crate) payload_bytes: Vec<u8>,
    /// The length of `BASE64URL(header) "." BASE64URL(payload)`.
    pub(crate) signing_input_len: usize,
}

/// Why a JWS segment is not a JSON object part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PartError {
    /// Not strict base64url.
    Base64,
    /// Not a strict JSON object (invalid UTF-8, a duplicate member, trailing data, not an object).
    Json,
}

/// A header or payload segment: strict base64url, then a strict JSON object; with its bytes.
pub(crate) fn object_part(
    segment: &[u8],
) -> std::result::Result<(Map<String, Value>, Vec<u8>), PartError> {
    let bytes = b64::decode(segment).map_err(|_| PartError::Base64)?;
    let object = json::parse_object(&bytes).map_err(|_| PartError::Json)?;
    Ok((object, bytes))
}

/// Splits and decodes a compact JWS (the structure stage): exactly three segments, each strict
/// base64url, header and payload strict JSON objects; `malformed` naming the first part that
/// is not.
pub(crate) fn split(token: &str) -> Result<Decoded> {
    let mut parts = token.as_bytes().splitn(4, |&b| b == b'.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("a compact JWS has exactly three segments"));
    };
    let (header, _) = object_part(h64).map_err(|e| {
        malformed(match e {
            PartError::Base64 => "header is not base64url",
            PartError::Json => "header is not a strict JSON object",
        })
    })?;
    let (claims, payload_bytes) = object_part(p64).map_err(|e| {
        malformed(match e {
            PartError::Base64 => "payload is not base64url",
            PartError::Json => "payload is not a strict JSON object",
        })
    })?;
    let signature = b64::decode(s64).map_err(|_| malformed("signature is not base64url"))?;
    Ok(Decoded {
        header,
        claims,
        signature,
        payload_bytes,
        signing_input_len: h64.len() + 1 + p64.len(),
    })
}

/// Normalises a media type for `typ` comparison (RFC 7515 §4.1.9): ASCII case-insensitive,
/// with an optional `application/` prefix.
pub(crate) fn typ_matches(expected: &str, actual: &str) -> bool {
    fn norm(s: &str) -> &str {
        match s.get(..12) {
            Some(p) if p.eq_ignore_ascii_case("application/") => &s[12..],
            _ => s,
        }
    }
    norm(expected).eq_ignore_ascii_case(norm(actual))
}

/// The payload's `iss`, exactly, of a token that passes the structure stage, **without verifying
/// anything**: for the gate to choose which provider's keys may try it, never for a decision
/// about the token itself (that provider's verifier checks `iss` again).
pub fn peek_issuer(token: &str) -> Option<String> {
    split(token)
        .ok()?
        .claims
        .get("iss")?
        .as_str()
        .map(str::to_owned)
}

/// The `kid` (header) and `iss` (payload) of a token **without verifying anything**, each cut
/// to 128 characters: for rejection logs only, never for a decision. `None` where a part does
/// not decode.
pub fn peek_unverified(token: &str) -> (Option<String>, Option<String>) {
    fn member(segment: Option<&str>, name: &str) -> Option<String> {
        let bytes = b64::decode(segment?.as_bytes()).ok()?;
        let obj = json::parse_object(&bytes).ok()?;
        let s = obj.get(name)?.as_str()?;
        Some(s.chars().take(128).collect())
    }
    let mut parts = token.split('.');
    let header = parts.next();
    let payload = parts.next();
    (member(header, "kid"), member(payload, "iss"))
}
