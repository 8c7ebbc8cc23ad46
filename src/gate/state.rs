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
    /// `POST`: revoke the refresh family (a session ended): 200 `revoked`.
    pub const FAMILY_REVOKE: &str = "/family/revoke";
    /// `POST {"sid", "provider", "started", "gen", "ua", "max"?, "refuse"?}`: a session of the
    /// subject started or rotated ([`crate::sessions::SubjectSessions::seen`]).
    pub const SUBJECT_SEEN: &str = "/subject/seen";
    /// `POST {"sid"}`: a session of the subject was reused (its family is revoked).
    pub const SUBJECT_REUSED: &str = "/subject/reused";
    /// `POST {"sids"}`: the families the cap ended are revoked (no longer pending).
    pub const SUBJECT_REVOKED: &str = "/subject/revoked";
    /// `POST {"sids"}` or `{"all": true}` ([`super::EndRequest`]): end these sessions of the subject,
    /// or all of them (their families already revoked, or revoked from the answer).
    pub const SUBJECT_END: &str = "/subject/end";
    /// `GET`: the subject's registry.
    pub const SUBJECT: &str = "/subject";
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
    /// `POST` [`path::FAMILY_REVOKE`].
    FamilyRevoke,
    /// `POST` [`path::SUBJECT_SEEN`].
    SubjectSeen,
    /// `POST` [`path::SUBJECT_REUSED`].
    SubjectReused,
    /// `POST` [`path::SUBJECT_REVOKED`].
    SubjectRevoked,
    /// `POST` [`path::SUBJECT_END`].
    SubjectEnd,
    /// `GET` [`path::SUBJECT`].
    Subject,
}

impl StateRequest {
    /// The request for `method` (as sent, upper case) at `path`, if it is one.
    pub fn route(method: &str, path: &str) -> Option<StateRequest> {
        match (method, path) {
            ("POST", path::REPLAY) => Some(StateRequest::Replay),
            ("POST", path::ROTATE) => Some(StateRequest::Rotate),
            ("GET", path::FAMILY_STATUS) => Some(StateRequest::FamilyStatus),
            ("POST", path::FAMILY_REVOKE) => Some(StateRequest::FamilyRevoke),
            ("POST", path::SUBJECT_SEEN) => Some(StateRequest::SubjectSeen),
            ("POST", path::SUBJECT_REUSED) => Some(StateRequest::SubjectReused),
            ("POST", path::SUBJECT_REVOKED) => Some(StateRequest::SubjectRevoked),
            ("POST", path::SUBJECT_END) => Some(StateRequest::SubjectEnd),
            ("GET", path::SUBJECT) => Some(StateRequest::Subject),
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

/// The object that holds subject `sub`'s sessions (the family objects are `family:<sid>`).
pub fn subject_object(sub: &str) -> String {
    format!("subject:{sub}")
}

/// A session as the gate reports it to the subject's object ([`path::SUBJECT_SEEN`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// The session.
    pub sid: String,
    /// Its provider.
    pub provider: String,
    /// `auth_time`.
    pub started: i64,
    /// The generation it moved to.
    pub generation: u64,
    /// The client's user agent (at most 512 bytes; only its family is kept).
    pub user_agent: Option<String>,
    /// When the session's new refresh token expires.
    pub expires: i64,
    /// The per-subject cap.
    pub cap: Option<crate::sessions::Cap>,
}

impl SeenRequest {
    /// Its body.
    pub fn encode(&self) -> String {
        use crate::sessions::Cap;
        let (max, refuse) = match self.cap {
            None => (serde_json::Value::Null, false),
            Some(Cap::EndOldest(n)) => (n.into(), false),
            Some(Cap::RefuseNew(n)) => (n.into(), true),
        };
        serde_json::json!({
            "sid": self.sid, "provider": self.provider, "started": self.started,
            "gen": self.generation, "ua": self.user_agent, "exp": self.expires,
            "max": max, "refuse": refuse,
        })
        .to_string()
    }

    /// The session as the registry takes it.
    pub fn seen(&self) -> crate::sessions::Seen<'_> {
        crate::sessions::Seen {
            sid: &self.sid,
            provider: &self.provider,
            started: self.started,
            generation: self.generation,
            user_agent: self.user_agent.as_deref(),
            expires: self.expires,
        }
    }

    /// The request of a body [`SeenRequest::encode`] wrote; `None` for anything else.
    pub fn decode(body: &str) -> Option<SeenRequest> {
        use crate::sessions::Cap;
        let v = crate::json::parse(body.as_bytes()).ok()?;
        let text = |name: &str| {
            v.get(name)?
                .as_str()
                .filter(|s| !s.is_empty() && s.len() <= 1024)
                .map(str::to_owned)
        };
        let cap = match (v.get("max")?, v.get("refuse")?.as_bool()?) {
            (serde_json::Value::Null, _) => None,
            (n, refuse) => {
                let n = usize::try_from(n.as_u64()?).ok()?;
                Some(if refuse {
                    Cap::RefuseNew(n)
                } else {
                    Cap::EndOldest(n)
                })
            }
        };
        Some(SeenRequest {
            sid: text("sid")?,
            provider: text("provider")?,
            started: v.get("started")?.as_i64()?,
            generation: v.get("gen")?.as_u64()?,
            expires: v.get("exp")?.as_i64()?,
            user_agent: match v.get("ua")? {
                serde_json::Value::Null => None,
                ua => Some(ua.as_str()?.chars().take(512).collect()),
            },
            cap,
        })
    }
}

/// The sessions named in a body `{"sids": [...]}` ([`path::SUBJECT_END`]), or one `{"sid"}`
/// ([`path::SUBJECT_REUSED`]); `None` for anything else.
pub fn read_sids(body: &str) -> Option<Vec<String>> {
    let v = crate::json::parse(body.as_bytes()).ok()?;
    let one = |s: &serde_json::Value| s.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    match (v.get("sids"), v.get("sid")) {
        (Some(serde_json::Value::Array(list)), None) if list.len() <= 256 => {
            list.iter().map(one).collect()
        }
        (None, Some(sid)) => Some(vec![one(sid)?]),
        _ => None,
    }
}

/// An end request to a subject's object ([`path::SUBJECT_END`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndRequest {
    /// `{"sids": [...]}`: end these sessions.
    These(Vec<String>),
    /// `{"all": true}`: end every session, and refuse those signed in by now that show up
    /// later.
    All,
}

impl EndRequest {
    /// Its body.
    pub fn encode(&self) -> String {
        match self {
            EndRequest::These(sids) => serde_json::json!({ "sids": sids }).to_string(),
            EndRequest::All => r#"{"all":true}"#.to_owned(),
        }
    }

    /// The request of a body [`EndRequest::encode`] wrote; `None` for anything else.
    pub fn decode(body: &str) -> Option<EndRequest> {
        if body == r#"{"all":true}"# {
            return Some(EndRequest::All);
        }
        let v = crate::json::parse(body.as_bytes()).ok()?;
        (v.as_object()?.len() == 1).then_some(())?;
        read_sids(body).map(EndRequest::These)
    }
}

/// The subject object's answers, encoded and decoded here only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectAnswer {
    /// 200 `admitted:<ids>`: the session may go on; these others were ended by the cap.
    Admitted(Vec<String>),
    /// 409 `refused`: the cap refuses the new session.
    Refused,
    /// 200 `ended:<ids>`: these sessions were live and are now ended.
    Ended(Vec<String>),
    /// 200 `registry:<json>`: the subject's sessions and audit trail.
    Registry(crate::sessions::SubjectSessions),
    /// 200 `ok`: recorded.
    Recorded,
}

impl SubjectAnswer {
    /// Its status and body.
    pub fn encode(&self) -> (u16, String) {
        let ids = |l: &Vec<String>| serde_json::Value::from(l.clone()).to_string();
        match self {
            SubjectAnswer::Admitted(l) => (200, format!("admitted:{}", ids(l))),
            SubjectAnswer::Refused => (409, "refused".into()),
            SubjectAnswer::Ended(l) => (200, format!("ended:{}", ids(l))),
            SubjectAnswer::Registry(r) => (200, format!("registry:{}", r.to_json())),
            SubjectAnswer::Recorded => (200, "ok".into()),
        }
    }

    /// The answer with this status and body, exactly as [`SubjectAnswer::encode`] writes it;
    /// `None` for anything else.
    pub fn decode(status: u16, body: &str) -> Option<SubjectAnswer> {
        let ids = |text: &str| -> Option<Vec<String>> {
            let v = crate::json::parse(text.as_bytes()).ok()?;
            v.as_array()?
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect()
        };
        match (status, body) {
            (409, "refused") => Some(SubjectAnswer::Refused),
            (200, "ok") => Some(SubjectAnswer::Recorded),
            (200, b) => {
                let (kind, rest) = b.split_once(':')?;
                match kind {
                    "admitted" => ids(rest).map(SubjectAnswer::Admitted),
                    "ended" => ids(rest).map(SubjectAnswer::Ended),
                    "registry" => crate::json::parse(rest.as_bytes())
                        .ok()
                        .and_then(|v| crate::sessions::SubjectSessions::from_json(&v))
                        .map(SubjectAnswer::Registry),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// A record the object could not have written itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadableRecord;

/// A subject object's stored registry (`None` when it holds none yet); `Err` for a record it
/// could not have written (the gate then answers 503, never "no sessions").
pub fn read_registry(
    stored: Option<&str>,
) -> Result<crate::sessions::SubjectSessions, UnreadableRecord> {
    match stored {
        None => Ok(crate::sessions::SubjectSessions::new()),
        Some(text) => crate::json::parse(text.as_bytes())
            .ok()
            .and_then(|v| crate::sessions::SubjectSessions::from_json(&v))
            .ok_or(UnreadableRecord),
    }
}

/// What a subject object does with one request (`body` for the POSTs) to its `registry` at
/// `now`, expired sessions pruned first: the answer, or `None` for a body outside the
/// protocol (400 `bad request`). The registry is to be stored again unless `kind` is the
/// read ([`StateRequest::Subject`]). The one dispatch: the Durable Object runs it, and so do
/// the native tests' stores.
pub fn apply_subject(
    kind: StateRequest,
    body: &str,
    registry: &mut crate::sessions::SubjectSessions,
    now: i64,
) -> Option<SubjectAnswer> {
    use crate::sessions::Admission;
    registry.prune(now);
    Some(match kind {
        StateRequest::SubjectSeen => {
            let r = SeenRequest::decode(body)?;
            match registry.seen(r.seen(), now, r.cap) {
                Admission::Admitted { ended } => SubjectAnswer::Admitted(ended),
                Admission::Refused => SubjectAnswer::Refused,
            }
        }
        StateRequest::SubjectReused => {
            let sids = read_sids(body).filter(|s| s.len() == 1)?;
            registry.reused(&sids[0], now);
            SubjectAnswer::Recorded
        }
        StateRequest::SubjectRevoked => {
            registry.revoked(&read_sids(body)?);
            SubjectAnswer::Recorded
        }
        StateRequest::SubjectEnd => SubjectAnswer::Ended(match EndRequest::decode(body)? {
            EndRequest::These(sids) => sids
                .into_iter()
                .filter(|sid| registry.end(sid, now))
                .collect(),
            EndRequest::All => registry.end_all(now),
        }),
        StateRequest::Subject => SubjectAnswer::Registry(registry.clone()),
        StateRequest::Replay
        | StateRequest::Rotate
        | StateRequest::FamilyStatus
        | StateRequest::FamilyRevoke => return None,
    })
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
    fn the_subject_object_refuses_bodies_outside_the_protocol_and_reads_only_its_record() {
        let mut registry = crate::sessions::SubjectSessions::new();
        for (kind, body) in [
            (StateRequest::SubjectSeen, "{}"),
            (StateRequest::SubjectReused, r#"{"sids":["a","b"]}"#),
            (StateRequest::SubjectRevoked, "[]"),
            (StateRequest::SubjectEnd, r#"{"all":false}"#),
            (StateRequest::Rotate, r#"{"gen":0}"#),
            (StateRequest::FamilyRevoke, "{}"),
        ] {
            assert_eq!(
                apply_subject(kind, body, &mut registry, 1),
                None,
                "{kind:?} {body}"
            );
        }
        assert_eq!(
            apply_subject(
                StateRequest::SubjectEnd,
                r#"{"all":true}"#,
                &mut registry,
                1
            ),
            Some(SubjectAnswer::Ended(vec![]))
        );
        assert!(read_registry(None).is_ok());
        assert!(read_registry(Some("{}")).is_err());
        let stored = registry.to_json().to_string();
        assert_eq!(read_registry(Some(&stored)), Ok(registry));
    }

    #[test]
    fn the_subject_protocol_round_trips_and_refuses_anything_else() {
        use crate::sessions::{Cap, Seen, SubjectSessions};
        for end in [
            EndRequest::All,
            EndRequest::These(vec!["a".into(), "b".into()]),
        ] {
            assert_eq!(EndRequest::decode(&end.encode()), Some(end));
        }
        for bad in [
            r#"{"all":false}"#,
            r#"{"all":true,"sids":[]}"#,
            r#"{"sid":"a","x":1}"#,
            "{}",
        ] {
            assert_eq!(EndRequest::decode(bad), None, "{bad}");
        }
        for cap in [None, Some(Cap::EndOldest(3)), Some(Cap::RefuseNew(1))] {
            let r = SeenRequest {
                sid: "s".into(),
                provider: "default".into(),
                started: 10,
                generation: 2,
                user_agent: Some("curl/8".into()),
                expires: 99,
                cap,
            };
            assert_eq!(SeenRequest::decode(&r.encode()), Some(r));
        }
        for bad in [
            "",
            "{}",
            r#"{"sid":"","provider":"p","started":1,"gen":1,"ua":null,"exp":9,"max":null,"refuse":false}"#,
            r#"{"sid":"s","provider":"p","started":1,"gen":-1,"ua":null,"exp":9,"max":null,"refuse":false}"#,
            r#"{"sid":"s","provider":"p","started":1,"gen":1,"ua":null,"max":null,"refuse":false}"#,
        ] {
            assert_eq!(SeenRequest::decode(bad), None, "{bad}");
        }
        assert_eq!(
            read_sids(r#"{"sids":["a","b"]}"#),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(read_sids(r#"{"sid":"a"}"#), Some(vec!["a".into()]));
        for bad in [
            r#"{"sids":["a",1]}"#,
            r#"{"sid":""}"#,
            r#"{"sid":"a","sids":[]}"#,
            "[]",
        ] {
            assert_eq!(read_sids(bad), None, "{bad}");
        }
        let mut registry = SubjectSessions::new();
        registry.seen(
            Seen {
                sid: "a",
                provider: "default",
                started: 1,
                generation: 0,
                user_agent: None,
                expires: 9,
            },
            1,
            None,
        );
        for answer in [
            SubjectAnswer::Admitted(vec![]),
            SubjectAnswer::Admitted(vec!["x".into()]),
            SubjectAnswer::Refused,
            SubjectAnswer::Ended(vec!["a".into(), "b".into()]),
            SubjectAnswer::Registry(registry),
            SubjectAnswer::Recorded,
        ] {
            let (status, body) = answer.encode();
            assert_eq!(SubjectAnswer::decode(status, &body), Some(answer));
        }
        for (status, body) in [
            (200, "admitted:"),
            (200, "admitted:[1]"),
            (409, "ok"),
            (200, "registry:{}"),
            (500, "ok"),
            (200, "rotated:1"),
        ] {
            assert_eq!(SubjectAnswer::decode(status, body), None, "{status} {body}");
        }
    }

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
