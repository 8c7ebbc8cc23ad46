//! The protocol between the gate and its Durable Object (`JwtgateState`, binding
//! `JWTGATE_STATE`): every answer the object gives and the refresh-family record it stores,
//! encoded and decoded here only, so the two sides cannot drift apart. The Worker sends the
//! requests and carries out the decisions; this module says what each answer means.
//!
//! Only the object's own class marks its answers ([`MARK`]); an answer that is not one of
//! [`StateAnswer`]'s is no answer (the gate answers 503), never a pass.

use crate::error::{Code, Error};
use crate::refresh::{Family, Outcome};

/// The header every answer of the gate's Durable Object class carries (value `1`).
pub const MARK: &str = "x-jwtgate-state";

/// Where the gate sends each kind of request in its Durable Object.
pub mod path {
    /// `POST {"key", "until"}`: record a DPoP proof's replay key.
    pub const REPLAY: &str = "/replay";
    /// `POST {"gen"}`: rotate the refresh family from the presented generation.
    pub const ROTATE: &str = "/family/rotate";
    /// `GET`: whether the refresh family is revoked.
    pub const FAMILY_STATUS: &str = "/family/status";
}

/// Every answer of the gate's Durable Object, with its status and body on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateAnswer {
    /// 200 `fresh`: the proof's replay key was new and is now kept.
    Fresh,
    /// 409 `replayed`: the key is kept already, or its window is over by the object's clock.
    Replayed,
    /// 200 `live`: the family is not revoked (or not seen yet).
    Live,
    /// 200 `rotated:<generation>`: the family moved to this generation.
    Rotated(u64),
    /// 409 `reused`: an older generation was presented; the family is now revoked.
    Reused,
    /// 409 `inconsistent`: a generation the store never issued; the family is now revoked.
    Inconsistent,
    /// 200 `revoked` to a status read, 409 `revoked` to a rotation: the family is revoked.
    Revoked {
        /// Whether it answers a rotation (409) rather than a status read (200).
        to_rotation: bool,
    },
    /// 400 `bad request`: a body the object could not read.
    BadRequest,
    /// 404 `not found`: no such request.
    NotFound,
}

impl StateAnswer {
    /// The answer a rotation gets for `decide`'s outcome.
    pub fn of_rotation(outcome: &Outcome) -> StateAnswer {
        match outcome {
            Outcome::Rotated(f) => StateAnswer::Rotated(f.generation),
            Outcome::Reused(_) => StateAnswer::Reused,
            Outcome::Inconsistent(_) => StateAnswer::Inconsistent,
            Outcome::Revoked => StateAnswer::Revoked { to_rotation: true },
        }
    }

    /// Its status and body.
    pub fn encode(self) -> (u16, String) {
        let (status, body) = match self {
            StateAnswer::Fresh => (200, "fresh"),
            StateAnswer::Replayed => (409, "replayed"),
            StateAnswer::Live => (200, "live"),
            StateAnswer::Rotated(g) => return (200, format!("rotated:{g}")),
            StateAnswer::Reused => (409, "reused"),
            StateAnswer::Inconsistent => (409, "inconsistent"),
            StateAnswer::Revoked { to_rotation } => {
                (if to_rotation { 409 } else { 200 }, "revoked")
            }
            StateAnswer::BadRequest => (400, "bad request"),
            StateAnswer::NotFound => (404, "not found"),
        };
        (status, body.to_owned())
    }

    /// The answer with this status and body, exactly as [`StateAnswer::encode`] writes it;
    /// `None` for anything else.
    pub fn decode(status: u16, body: &str) -> Option<StateAnswer> {
        let answer = match (status, body) {
            (200, "fresh") => StateAnswer::Fresh,
            (409, "replayed") => StateAnswer::Replayed,
            (200, "live") => StateAnswer::Live,
            (409, "reused") => StateAnswer::Reused,
            (409, "inconsistent") => StateAnswer::Inconsistent,
            (200, "revoked") => StateAnswer::Revoked { to_rotation: false },
            (409, "revoked") => StateAnswer::Revoked { to_rotation: true },
            (400, "bad request") => StateAnswer::BadRequest,
            (404, "not found") => StateAnswer::NotFound,
            (200, rest) => {
                let digits = rest.strip_prefix("rotated:")?;
                // Digits only, as `format!` writes them: no sign, no spaces.
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                StateAnswer::Rotated(digits.parse().ok()?)
            }
            _ => return None,
        };
        Some(answer)
    }
}

/// What the gate makes of one answer (`None`: unreachable, silent, not the gate's own class, or
/// outside the protocol). The Worker only carries it out: `StoreFailed` is its 503 with one log
/// line, `Reused` also logs the incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    /// Go on.
    Pass,
    /// Refuse with this error (401).
    Refused(Error),
    /// A refresh token was presented twice: the family is now revoked (401 `revoked`, and the
    /// incident is logged).
    Reused,
    /// The store gave no usable answer (503).
    StoreFailed,
}

fn revoked_family() -> Error {
    Error::claim(
        Code::Revoked,
        "sid",
        "the session's refresh family was revoked",
    )
}

/// A family-status read: `live` passes, `revoked` refuses, anything else is no answer.
pub fn judge_family_status(answer: Option<StateAnswer>) -> Judged {
    match answer {
        Some(StateAnswer::Live) => Judged::Pass,
        Some(StateAnswer::Revoked { to_rotation: false }) => Judged::Refused(revoked_family()),
        _ => Judged::StoreFailed,
    }
}

/// A rotation expected to move the family to `next`: exactly `rotated:<next>` passes.
pub fn judge_rotation(answer: Option<StateAnswer>, next: u64) -> Judged {
    match answer {
        Some(StateAnswer::Rotated(g)) if g == next => Judged::Pass,
        Some(StateAnswer::Reused | StateAnswer::Inconsistent) => Judged::Reused,
        Some(StateAnswer::Revoked { to_rotation: true }) => Judged::Refused(revoked_family()),
        _ => Judged::StoreFailed,
    }
}

/// A DPoP proof's replay record: `fresh` passes, `replayed` refuses, anything else is no answer.
pub fn judge_replay(answer: Option<StateAnswer>) -> Judged {
    match answer {
        Some(StateAnswer::Fresh) => Judged::Pass,
        Some(StateAnswer::Replayed) => Judged::Refused(Error::claim(
            Code::Replayed,
            "jti",
            "this DPoP proof was already used",
        )),
        _ => Judged::StoreFailed,
    }
}

/// The stored refresh-family record: `"<generation>:<0|1>"`.
pub fn encode_family(family: &Family) -> String {
    format!("{}:{}", family.generation, u8::from(family.revoked))
}

/// The family of a stored record, `None` for anything [`encode_family`] does not write (only the
/// object writes it: an unreadable record is an error, never "a family not seen yet", which
/// would let generation 0 rotate again).
pub fn decode_family(stored: &str) -> Option<Family> {
    let (generation, revoked) = stored.split_once(':')?;
    if generation.is_empty() || !generation.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Family {
        generation: generation.parse().ok()?,
        revoked: match revoked {
            "0" => false,
            "1" => true,
            _ => return None,
        },
    })
}

/// What the object is asked to do (its routing: anything else is 404 `not found`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateRequest {
    /// `POST` [`path::REPLAY`].
    Replay,
    /// `POST` [`path::ROTATE`].
    Rotate,
    /// `GET` [`path::FAMILY_STATUS`].
    FamilyStatus,
}

impl StateRequest {
    /// The request for `method` (as sent, upper case) at `path`, if it is one.
    pub fn route(method: &str, path: &str) -> Option<StateRequest> {
        match (method, path) {
            ("POST", path::REPLAY) => Some(StateRequest::Replay),
            ("POST", path::ROTATE) => Some(StateRequest::Rotate),
            ("GET", path::FAMILY_STATUS) => Some(StateRequest::FamilyStatus),
            _ => None,
        }
    }
}

/// The longest a replay key is kept (a proof window is at most 600 s plus the leeway): an
/// `until` further out is cut to this.
pub const MAX_KEEP_SECONDS: i64 = 3600;

/// How long past its window a replay key is kept before the sweep deletes it (clocks of the
/// gate's isolates and the object's may differ by this much without reopening a window).
pub const SWEEP_GRACE_SECONDS: i64 = 60;

/// A replay request's body `{"key", "until"}`: the key (1 to 128 bytes) and the window's end
/// (whole seconds); `None` for anything else (400 `bad request`).
pub fn read_replay(body: &str) -> Option<(String, i64)> {
    let v = crate::json::parse(body.as_bytes()).ok()?;
    let key = v
        .get("key")?
        .as_str()
        .filter(|k| !k.is_empty() && k.len() <= 128)?;
    Some((key.to_owned(), v.get("until")?.as_i64()?))
}

/// A rotation's body `{"gen"}`: the presented generation; `None` for anything else.
pub fn read_rotation(body: &str) -> Option<u64> {
    crate::json::parse(body.as_bytes())
        .ok()?
        .get("gen")?
        .as_u64()
}

/// Until when the object keeps a replay key whose window ends at `until`, by its own clock
/// `now`: `None` if the window is over already (409 `replayed`, and nothing is written: a gate
/// that judged the proof a moment earlier must not get `fresh` for it); else `until`, cut to
/// [`MAX_KEEP_SECONDS`] from now.
pub fn replay_keep_until(until: i64, now: i64) -> Option<i64> {
    (until > now).then(|| until.min(now.saturating_add(MAX_KEEP_SECONDS)))
}

/// Whether the sweep deletes a key kept until `until`, at `now`.
pub fn sweep_due(until: i64, now: i64) -> bool {
    until.saturating_add(SWEEP_GRACE_SECONDS) <= now
}

/// Seconds from `now` until the sweep for a key kept until `until` (at least 1).
pub fn sweep_delay(until: i64, now: i64) -> u64 {
    until
        .saturating_add(SWEEP_GRACE_SECONDS)
        .saturating_sub(now)
        .max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_reads_back_as_itself_and_nothing_else_reads() {
        let all = [
            StateAnswer::Fresh,
            StateAnswer::Replayed,
            StateAnswer::Live,
            StateAnswer::Rotated(0),
            StateAnswer::Rotated(u64::MAX),
            StateAnswer::Reused,
            StateAnswer::Inconsistent,
            StateAnswer::Revoked { to_rotation: false },
            StateAnswer::Revoked { to_rotation: true },
            StateAnswer::BadRequest,
            StateAnswer::NotFound,
        ];
        for a in all {
            let (status, body) = a.encode();
            assert_eq!(
                StateAnswer::decode(status, &body),
                Some(a),
                "{status} {body}"
            );
        }
        for (status, body) in [
            (200, "replayed"),
            (409, "fresh"),
            (201, "fresh"),
            (200, "Fresh"),
            (200, "fresh "),
            (200, ""),
            (200, "rotated:"),
            (200, "rotated:+1"),
            (200, "rotated: 1"),
            (200, "rotated:1x"),
            (200, "rotated:18446744073709551616"),
            (409, "rotated:1"),
            (500, "revoked"),
        ] {
            assert_eq!(StateAnswer::decode(status, body), None, "{status} {body:?}");
        }
    }

    #[test]
    fn a_rotation_answers_decides_outcome() {
        let f = |generation, revoked| Family {
            generation,
            revoked,
        };
        assert_eq!(
            StateAnswer::of_rotation(&Outcome::Rotated(f(3, false))),
            StateAnswer::Rotated(3)
        );
        assert_eq!(
            StateAnswer::of_rotation(&Outcome::Reused(f(3, true))),
            StateAnswer::Reused
        );
        assert_eq!(
            StateAnswer::of_rotation(&Outcome::Inconsistent(f(3, true))),
            StateAnswer::Inconsistent
        );
        assert_eq!(
            StateAnswer::of_rotation(&Outcome::Revoked),
            StateAnswer::Revoked { to_rotation: true }
        );
    }

    #[test]
    fn the_family_record_round_trips_and_garbage_is_no_family() {
        for family in [
            Family {
                generation: 0,
                revoked: false,
            },
            Family {
                generation: u64::MAX,
                revoked: true,
            },
        ] {
            assert_eq!(decode_family(&encode_family(&family)), Some(family));
        }
        for stored in [
            "", "1", "1:", ":0", "1:2", "-1:0", "+1:0", "1:0:0", "x:1", " 1:0",
        ] {
            assert_eq!(decode_family(stored), None, "{stored:?}");
        }
    }

    #[test]
    fn each_request_passes_only_on_its_own_answer() {
        let every = [
            None,
            Some(StateAnswer::Fresh),
            Some(StateAnswer::Replayed),
            Some(StateAnswer::Live),
            Some(StateAnswer::Rotated(4)),
            Some(StateAnswer::Rotated(5)),
            Some(StateAnswer::Reused),
            Some(StateAnswer::Inconsistent),
            Some(StateAnswer::Revoked { to_rotation: false }),
            Some(StateAnswer::Revoked { to_rotation: true }),
            Some(StateAnswer::BadRequest),
            Some(StateAnswer::NotFound),
        ];
        let code = |j: Judged| match j {
            Judged::Refused(e) => Some(e.code()),
            _ => None,
        };
        for a in every {
            let status = judge_family_status(a);
            match a {
                Some(StateAnswer::Live) => assert_eq!(status, Judged::Pass),
                Some(StateAnswer::Revoked { to_rotation: false }) => {
                    assert_eq!(code(status), Some(Code::Revoked))
                }
                _ => assert_eq!(status, Judged::StoreFailed, "{a:?}"),
            }
            let rotation = judge_rotation(a, 5);
            match a {
                Some(StateAnswer::Rotated(5)) => assert_eq!(rotation, Judged::Pass),
                Some(StateAnswer::Reused | StateAnswer::Inconsistent) => {
                    assert_eq!(rotation, Judged::Reused)
                }
                Some(StateAnswer::Revoked { to_rotation: true }) => {
                    assert_eq!(code(rotation), Some(Code::Revoked))
                }
                // Another generation than the one signed for is no rotation.
                _ => assert_eq!(rotation, Judged::StoreFailed, "{a:?}"),
            }
            let replay = judge_replay(a);
            match a {
                Some(StateAnswer::Fresh) => assert_eq!(replay, Judged::Pass),
                Some(StateAnswer::Replayed) => assert_eq!(code(replay), Some(Code::Replayed)),
                _ => assert_eq!(replay, Judged::StoreFailed, "{a:?}"),
            }
        }
    }

    #[test]
    fn the_object_routes_reads_bodies_and_keeps_replay_keys_by_its_own_clock() {
        assert_eq!(
            StateRequest::route("POST", path::REPLAY),
            Some(StateRequest::Replay)
        );
        assert_eq!(
            StateRequest::route("POST", path::ROTATE),
            Some(StateRequest::Rotate)
        );
        assert_eq!(
            StateRequest::route("GET", path::FAMILY_STATUS),
            Some(StateRequest::FamilyStatus)
        );
        for (m, p) in [
            ("GET", path::REPLAY),
            ("post", path::REPLAY),
            ("POST", "/replay/"),
            ("PUT", path::ROTATE),
            ("POST", path::FAMILY_STATUS),
        ] {
            assert_eq!(StateRequest::route(m, p), None, "{m} {p}");
        }
        assert_eq!(
            read_replay(r#"{"key":"k","until":5}"#),
            Some(("k".into(), 5))
        );
        let long = format!(r#"{{"key":"{}","until":5}}"#, "x".repeat(129));
        for bad in [
            "",
            "{}",
            r#"{"key":"","until":5}"#,
            &long,
            r#"{"key":"k","until":"soon"}"#,
            r#"{"key":"k","until":5.5}"#,
            r#"{"key":"k","key":"j","until":5}"#,
        ] {
            assert_eq!(read_replay(bad), None, "{bad}");
        }
        assert_eq!(read_rotation(r#"{"gen":3}"#), Some(3));
        for bad in [r#"{"gen":-1}"#, r#"{"gen":"3"}"#, r#"{}"#, "3"] {
            assert_eq!(read_rotation(bad), None, "{bad}");
        }
        // A window over by the object's clock is refused; a far one is cut.
        assert_eq!(replay_keep_until(100, 100), None);
        assert_eq!(replay_keep_until(99, 100), None);
        assert_eq!(replay_keep_until(160, 100), Some(160));
        assert_eq!(
            replay_keep_until(i64::MAX, 100),
            Some(100 + MAX_KEEP_SECONDS)
        );
        assert!(!sweep_due(160, 160 + SWEEP_GRACE_SECONDS - 1));
        assert!(sweep_due(160, 160 + SWEEP_GRACE_SECONDS));
        assert_eq!(sweep_delay(160, 100), (60 + SWEEP_GRACE_SECONDS) as u64);
        assert_eq!(sweep_delay(0, 1000), 1);
    }
}
