//! Revocation lists: which entries can deny a verified token, and what their answers mean.
//!
//! A list (the gate's `JWTGATE_REVOKED` KV namespace, or any store an app passes to the Auth.js
//! adapter) holds three kinds of entry:
//!
//! | entry | denies |
//! |---|---|
//! | `jti:<jti>` (any value) | that one token |
//! | `sid:<sid>` (any value) | every token of that session, whatever it was re-issued as |
//! | `sub:<sub>` = NumericDate | every session of that subject that *started* before the date |
//!
//! Why sessions, not tokens: a session is re-encoded on every refresh (Auth.js writes a new `iat`
//! and `jti` each time), so a cut-off compared with `iat`, or a `jti` entry, is laundered by one
//! refresh of the stolen session. The `sid` claim (stamped at sign-in by the [`Signer`] and kept
//! across re-stamps, like `auth_time`) names the session for its whole life, and a `sub:` cut-off
//! is compared with the session's start: `auth_time`, falling back to `iat` for tokens without it.
//!
//! Fail closed: a `sub:` value that is not a number denies every session of the subject; a token
//! whose `jti`, `sid` or `sub` is too long to be a list key ([`MAX_KEY_BYTES`], KV's limit) is
//! refused as `revoked` (it could never be listed, so it could never be revoked); a lookup that
//! failed makes the answer [`RevocationVerdict::Unavailable`] unless the caller opted into failing open,
//! and then only that one entry is skipped: the others still apply.
//!
//! [`Signer`]: crate::Signer

use crate::error::{Code, Error, Result};
use serde_json::{Map, Value};

/// The longest list key, in bytes (`jti:`/`sid:`/`sub:` included): Cloudflare KV's key limit.
pub const MAX_KEY_BYTES: usize = 512;

/// What a revocation-list entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryKind {
    /// `jti:<jti>`: one token.
    Token,
    /// `sid:<sid>`: one session, across re-issues.
    Session,
    /// `sub:<sub>` = NumericDate: the subject's sessions started before it.
    Subject,
}

impl EntryKind {
    /// The claim the entry is keyed by.
    pub const fn claim(self) -> &'static str {
        match self {
            EntryKind::Token => "jti",
            EntryKind::Session => "sid",
            EntryKind::Subject => "sub",
        }
    }

    const ALL: [EntryKind; 3] = [EntryKind::Token, EntryKind::Session, EntryKind::Subject];
}

/// What a store answered for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// No entry.
    Absent,
    /// An entry, with its value.
    Present(&'a str),
    /// The lookup failed (store error or timeout).
    Unavailable,
}

/// The outcome of a revocation check.
#[derive(Debug, Clone, PartialEq)]
pub enum RevocationVerdict {
    /// Not revoked.
    Pass,
    /// Revoked: an error with code `revoked`, naming the claim of the entry that denied it.
    Revoked(Error),
    /// A lookup failed, and the caller does not fail open: neither pass nor refuse as revoked
    /// (the gate answers 503).
    Unavailable,
}

/// The keys to look up for verified `claims`: `jti:`, `sid:` and `sub:` for each of those claims
/// that is present, in that order. A present one that is not a string is `malformed`; one too
/// long for a list key is `revoked` (fail closed: it could never be listed).
pub fn revocation_keys(claims: &Map<String, Value>) -> Result<Vec<(EntryKind, String)>> {
    let mut keys = Vec::with_capacity(3);
    for kind in EntryKind::ALL {
        let name = kind.claim();
        let value = match claims.get(name) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s,
            Some(_) => {
                return Err(Error::claim(
                    Code::Malformed,
                    name,
                    "claim must be a string",
                ))
            }
        };
        let key = format!("{name}:{value}");
        if key.len() > MAX_KEY_BYTES {
            return Err(Error::claim(
                Code::Revoked,
                name,
                "claim is too long to be looked up in the revocation list (512 bytes)",
            ));
        }
        keys.push((kind, key));
    }
    Ok(keys)
}

/// When the session of `claims` started: `auth_time`, else `iat`; `None` if neither is a number.
fn session_start(claims: &Map<String, Value>) -> Option<f64> {
    ["auth_time", "iat"]
        .iter()
        .find_map(|name| claims.get(*name).and_then(Value::as_f64))
        .filter(|t| t.is_finite())
}

/// Applies a store's answers, one per key of [`revocation_keys`], to verified `claims`.
///
/// `jti:` or `sid:` present: revoked. `sub:` present: its value is a NumericDate cut-off, and the
/// session is revoked if it started before it (or if the value is not a number, or the token
/// has neither `auth_time` nor `iat`). Revoked wins over unavailable. With `fail_open`, an
/// [`Lookup::Unavailable`] entry is skipped (the others still apply); without, it makes the
/// verdict [`RevocationVerdict::Unavailable`].
pub fn check_revocation(
    claims: &Map<String, Value>,
    answers: &[(EntryKind, Lookup<'_>)],
    fail_open: bool,
) -> RevocationVerdict {
    let mut unavailable = false;
    for (kind, answer) in answers {
        let value = match answer {
            Lookup::Absent => continue,
            Lookup::Unavailable => {
                unavailable |= !fail_open;
                continue;
            }
            Lookup::Present(v) => v,
        };
        let message = match kind {
            EntryKind::Token => "token has been revoked",
            EntryKind::Session => "the session has been revoked",
            EntryKind::Subject => {
                let cutoff = value.trim().parse::<f64>().ok().filter(|c| c.is_finite());
                match (cutoff, session_start(claims)) {
                    (Some(cutoff), Some(start)) if start >= cutoff => continue,
                    _ => "the subject's sessions started before the cut-off have been revoked",
                }
            }
        };
        return RevocationVerdict::Revoked(Error::claim(Code::Revoked, kind.claim(), message));
    }
    if unavailable {
        RevocationVerdict::Unavailable
    } else {
        RevocationVerdict::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn revoked_by(v: &RevocationVerdict) -> Option<&str> {
        match v {
            RevocationVerdict::Revoked(e) if e.code() == Code::Revoked => e.claim_name(),
            _ => None,
        }
    }

    #[test]
    fn keys_for_each_present_claim() {
        let c = obj(json!({"jti": "j1", "sid": "s1", "sub": "u1", "iat": 5}));
        let keys = revocation_keys(&c).unwrap();
        assert_eq!(
            keys,
            vec![
                (EntryKind::Token, "jti:j1".to_owned()),
                (EntryKind::Session, "sid:s1".to_owned()),
                (EntryKind::Subject, "sub:u1".to_owned()),
            ]
        );
        assert!(revocation_keys(&obj(json!({"sub": "u"}))).unwrap().len() == 1);
        let e = revocation_keys(&obj(json!({"sid": 7}))).unwrap_err();
        assert_eq!((e.code(), e.claim_name()), (Code::Malformed, Some("sid")));
        // Too long to be listed: refused, whatever else the list says.
        let long = "x".repeat(MAX_KEY_BYTES - "jti:".len());
        assert!(revocation_keys(&obj(json!({ "jti": long.clone() }))).is_ok());
        let e = revocation_keys(&obj(json!({ "jti": format!("{long}y") }))).unwrap_err();
        assert_eq!((e.code(), e.claim_name()), (Code::Revoked, Some("jti")));
    }

    #[test]
    fn sessions_are_cut_off_at_their_start_not_their_reissue() {
        use EntryKind::*;
        use Lookup::*;
        // Signed in at 100, re-issued at 500; the subject was cut off at 300.
        let reissued = obj(json!({"sub": "u", "auth_time": 100, "iat": 500}));
        let v = check_revocation(&reissued, &[(Subject, Present("300"))], false);
        assert_eq!(revoked_by(&v), Some("sub"));
        // Signed in again after the cut-off: fine; exactly at it: fine.
        let fresh = obj(json!({"sub": "u", "auth_time": 300, "iat": 900}));
        assert_eq!(
            check_revocation(&fresh, &[(Subject, Present(" 300 "))], false),
            RevocationVerdict::Pass
        );
        // Without auth_time, iat is the start; with neither, or an unreadable cut-off: denied.
        let iat_only = obj(json!({"sub": "u", "iat": 299}));
        assert!(revoked_by(&check_revocation(
            &iat_only,
            &[(Subject, Present("300"))],
            false
        ))
        .is_some());
        let none = obj(json!({"sub": "u"}));
        assert!(revoked_by(&check_revocation(&none, &[(Subject, Present("0"))], false)).is_some());
        assert!(revoked_by(&check_revocation(
            &fresh,
            &[(Subject, Present("soon"))],
            false
        ))
        .is_some());
        assert!(revoked_by(&check_revocation(
            &fresh,
            &[(Subject, Present("inf"))],
            false
        ))
        .is_some());
        // jti and sid entries deny whatever their value.
        assert_eq!(
            revoked_by(&check_revocation(&fresh, &[(Token, Present(""))], false)),
            Some("jti")
        );
        assert_eq!(
            revoked_by(&check_revocation(&fresh, &[(Session, Present("x"))], false)),
            Some("sid")
        );
    }

    #[test]
    fn failing_open_skips_only_the_failed_lookup() {
        use EntryKind::*;
        use Lookup::*;
        let c = obj(json!({"sub": "u", "auth_time": 100}));
        let answers = [(Token, Unavailable), (Subject, Present("300"))];
        // The sub cut-off still applies with fail-open, and wins over unavailable without it.
        assert!(revoked_by(&check_revocation(&c, &answers, true)).is_some());
        assert!(revoked_by(&check_revocation(&c, &answers, false)).is_some());
        let answers = [(Token, Unavailable), (Subject, Absent)];
        assert_eq!(
            check_revocation(&c, &answers, false),
            RevocationVerdict::Unavailable
        );
        assert_eq!(
            check_revocation(&c, &answers, true),
            RevocationVerdict::Pass
        );
        assert_eq!(check_revocation(&c, &[], false), RevocationVerdict::Pass);
    }
}
