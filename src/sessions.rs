//! Sessions you can list and end: the pure part, one subject's registry of its refresh
//! families, shared by the npm `Refresher` and (next) the edge gate's Durable Object.
//!
//! Stateless tokens cannot be listed or ended one by one; refresh families can (see
//! [`crate::refresh`]). A [`SubjectSessions`] keeps, for one subject, each live session: its
//! `sid`, provider, start (`auth_time`), last rotation, generation and a coarse client hint
//! (the user agent's family: never an IP, a token or a key); and a bounded audit trail of what
//! happened to them ([`AuditEvent`]). It decides; the store around it keeps it in one place
//! per subject and revokes the families it says to end, so an ended session's next refresh
//! fails and the gate refuses its access tokens on their next request.
//!
//! A cap on concurrent sessions per subject ([`Cap`]) ends the oldest (by start) or refuses the
//! new one when a session beyond it starts.

use serde_json::{json, Value};
use std::collections::VecDeque;

/// The most audit entries kept per subject besides rotations (the oldest go first).
pub const AUDIT_LIMIT: usize = 64;

/// The most `rotate` entries kept per subject, apart from the others: a session's holder who
/// refreshes again and again cannot push the `start`, `reuse`, `end` and `cap` entries out.
pub const ROTATION_LIMIT: usize = 16;

/// The most sessions kept per subject, whatever the cap: past it the oldest is ended, so one
/// subject's registry stays bounded.
pub const SESSION_LIMIT: usize = 256;

/// One live session of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session id (its refresh family).
    pub sid: String,
    /// The provider that issued it (`default` for a single-provider issuer).
    pub provider: String,
    /// When the user signed in (`auth_time`, seconds).
    pub started: i64,
    /// The last rotation (seconds), or the start.
    pub last_rotation: i64,
    /// The family's current generation.
    pub generation: u64,
    /// The client's user-agent family ([`client_hint`]).
    pub client: &'static str,
    /// When its current refresh token expires (seconds): past it the session is over and
    /// leaves the registry, so it never counts against the cap.
    pub expires: i64,
}

/// What happened to a session, as the audit trail records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    /// A session started (signed in, or first seen).
    Start,
    /// Its refresh token rotated (kept apart, the last [`ROTATION_LIMIT`]).
    Rotate,
    /// An old refresh token came back: the family is revoked.
    Reuse,
    /// An operator (or the app) ended it, or it started before its subject's sessions were
    /// all ended.
    End,
    /// The per-subject cap ended it, or refused it as it started.
    Cap,
}

impl AuditEvent {
    /// Its name in the trail.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditEvent::Start => "start",
            AuditEvent::Rotate => "rotate",
            AuditEvent::Reuse => "reuse",
            AuditEvent::End => "end",
            AuditEvent::Cap => "cap",
        }
    }

    fn from_name(name: &str) -> Option<AuditEvent> {
        [
            AuditEvent::Start,
            AuditEvent::Rotate,
            AuditEvent::Reuse,
            AuditEvent::End,
            AuditEvent::Cap,
        ]
        .into_iter()
        .find(|e| e.as_str() == name)
    }
}

/// One audit entry: when, what, which session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Seconds.
    pub at: i64,
    /// What happened.
    pub event: AuditEvent,
    /// The session.
    pub sid: String,
}

/// What happens when a subject would have more concurrent sessions than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// At most this many: the oldest session (by start) is ended to make room.
    EndOldest(usize),
    /// At most this many: a session beyond them is refused as it starts.
    RefuseNew(usize),
}

impl Cap {
    fn limit(self) -> usize {
        match self {
            Cap::EndOldest(n) | Cap::RefuseNew(n) => n.clamp(1, SESSION_LIMIT),
        }
    }
}

/// What a session's start or rotation comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// It may go on; these other sessions were ended to make room (revoke their families,
    /// then report them with [`SubjectSessions::revoked`]).
    Admitted {
        /// The sessions the cap ended and not yet confirmed revoked.
        ended: Vec<String>,
    },
    /// The cap refuses a new session: revoke its family and fail the request.
    Refused,
}

/// A session as it starts or rotates.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// Its id.
    pub sid: &'a str,
    /// Its provider.
    pub provider: &'a str,
    /// `auth_time`.
    pub started: i64,
    /// The generation it moved to (0 at sign-in).
    pub generation: u64,
    /// The client's user agent, if known (only its family is kept).
    pub user_agent: Option<&'a str>,
    /// When its current refresh token expires.
    pub expires: i64,
}

/// One subject's sessions and audit trail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectSessions {
    sessions: Vec<Session>,
    audit: VecDeque<AuditEntry>,
    rotations: VecDeque<AuditEntry>,
    /// Sessions that started (`auth_time`) at or before this were all ended: one that shows up
    /// later (its first refresh after the end) is refused.
    ended_before: i64,
    /// Sessions the cap ended whose families the store has not yet confirmed revoked: handed
    /// out again with every admission until [`SubjectSessions::revoked`] says so.
    pending: Vec<String>,
}

impl SubjectSessions {
    /// No sessions, no trail.
    pub fn new() -> Self {
        SubjectSessions::default()
    }

    /// The sessions, oldest start first (call [`SubjectSessions::prune`] first for the live
    /// ones at a moment).
    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    /// Drops the sessions whose refresh token has expired by `now`: they are over (their
    /// family can no longer refresh), and must not count against the cap.
    pub fn prune(&mut self, now: i64) {
        self.sessions.retain(|k| k.expires > now);
    }

    /// The audit trail, oldest first: at most [`AUDIT_LIMIT`] entries and the last
    /// [`ROTATION_LIMIT`] rotations, merged by time.
    pub fn audit(&self) -> impl Iterator<Item = &AuditEntry> {
        let mut all: Vec<&AuditEntry> = self.audit.iter().chain(&self.rotations).collect();
        all.sort_by_key(|e| e.at);
        all.into_iter()
    }

    fn record(&mut self, at: i64, event: AuditEvent, sid: &str) {
        let (ring, limit) = match event {
            AuditEvent::Rotate => (&mut self.rotations, ROTATION_LIMIT),
            _ => (&mut self.audit, AUDIT_LIMIT),
        };
        if ring.len() == limit {
            ring.pop_front();
        }
        ring.push_back(AuditEntry {
            at,
            event,
            sid: sid.to_owned(),
        });
    }

    /// A session started or rotated at `now`: a known one is updated (`rotate`); a new one is
    /// admitted under `cap` (`start`), which may end the oldest or refuse it (`cap`).
    ///
    /// Rotations are recorded apart from the other events, so whoever holds a session cannot
    /// flush the trail by refreshing. A new session that started
    /// at or before the last [`SubjectSessions::end_all`] is refused: it was signed in before
    /// the subject's sessions were all ended.
    pub fn seen(&mut self, s: Seen<'_>, now: i64, cap: Option<Cap>) -> Admission {
        self.prune(now);
        if let Some(known) = self.sessions.iter_mut().find(|k| k.sid == s.sid) {
            known.generation = known.generation.max(s.generation);
            known.last_rotation = now;
            known.expires = s.expires;
            self.record(now, AuditEvent::Rotate, s.sid);
            return Admission::Admitted {
                ended: self.pending.clone(),
            };
        }
        if s.started <= self.ended_before {
            self.record(now, AuditEvent::End, s.sid);
            return Admission::Refused;
        }
        let limit = cap.map_or(SESSION_LIMIT, Cap::limit);
        if self.sessions.len() >= limit {
            if matches!(cap, Some(Cap::RefuseNew(_))) {
                self.record(now, AuditEvent::Cap, s.sid);
                return Admission::Refused;
            }
            while self.sessions.len() >= limit {
                // Sorted by start: the first is the oldest.
                let oldest = self.sessions.remove(0);
                self.record(now, AuditEvent::Cap, &oldest.sid);
                if self.pending.len() < SESSION_LIMIT {
                    self.pending.push(oldest.sid);
                }
            }
        }
        let at = self.sessions.partition_point(|k| k.started <= s.started);
        self.sessions.insert(
            at,
            Session {
                sid: s.sid.to_owned(),
                provider: s.provider.to_owned(),
                started: s.started,
                last_rotation: now,
                generation: s.generation,
                client: client_hint(s.user_agent),
                expires: s.expires,
            },
        );
        self.record(now, AuditEvent::Start, s.sid);
        Admission::Admitted {
            ended: self.pending.clone(),
        }
    }

    /// The store revoked these families: they are no longer pending.
    pub fn revoked(&mut self, sids: &[String]) {
        self.pending.retain(|p| !sids.contains(p));
    }

    /// A refresh token of `sid` was reused: its family is revoked, the session is gone.
    pub fn reused(&mut self, sid: &str, now: i64) {
        self.sessions.retain(|k| k.sid != sid);
        self.record(now, AuditEvent::Reuse, sid);
    }

    /// Ends `sid` (revoke its family); whether it was a live session here.
    pub fn end(&mut self, sid: &str, now: i64) -> bool {
        let before = self.sessions.len();
        self.sessions.retain(|k| k.sid != sid);
        let found = self.sessions.len() != before;
        if found {
            self.record(now, AuditEvent::End, sid);
        }
        found
    }

    /// Ends every session (revoke each family); their ids. Sessions signed in by `now` that
    /// show up later are refused ([`SubjectSessions::seen`]).
    pub fn end_all(&mut self, now: i64) -> Vec<String> {
        self.ended_before = self.ended_before.max(now);
        let ended: Vec<String> = self.sessions.drain(..).map(|k| k.sid).collect();
        for sid in &ended {
            self.record(now, AuditEvent::End, sid);
        }
        ended
    }

    /// The registry as JSON: what the store keeps and what an operator reads (no token, no
    /// key, no IP: ids, times, generations, client families).
    pub fn to_json(&self) -> Value {
        json!({
            "sessions": self.sessions.iter().map(|k| json!({
                "sid": k.sid,
                "provider": k.provider,
                "started": k.started,
                "lastRotation": k.last_rotation,
                "generation": k.generation,
                "client": k.client,
                "expires": k.expires,
            })).collect::<Vec<_>>(),
            "endedBefore": self.ended_before,
            "pending": self.pending,
            "audit": self.audit().map(|e| json!({
                "at": e.at,
                "event": e.event.as_str(),
                "sid": e.sid,
            })).collect::<Vec<_>>(),
        })
    }

    /// Reads what [`SubjectSessions::to_json`] wrote; `None` for anything else (the store's
    /// own record: unreadable is an error, never an empty registry).
    pub fn from_json(value: &Value) -> Option<SubjectSessions> {
        let mut out = SubjectSessions::new();
        for k in value.get("sessions")?.as_array()? {
            let client = k.get("client")?.as_str()?;
            out.sessions.push(Session {
                sid: k.get("sid")?.as_str()?.to_owned(),
                provider: k.get("provider")?.as_str()?.to_owned(),
                started: k.get("started")?.as_i64()?,
                last_rotation: k.get("lastRotation")?.as_i64()?,
                generation: k.get("generation")?.as_u64()?,
                client: CLIENTS
                    .iter()
                    .map(|(_, name)| *name)
                    .chain([OTHER_CLIENT])
                    .find(|c| *c == client)?,
                expires: k.get("expires")?.as_i64()?,
            });
        }
        for e in value.get("audit")?.as_array()? {
            let entry = AuditEntry {
                at: e.get("at")?.as_i64()?,
                event: AuditEvent::from_name(e.get("event")?.as_str()?)?,
                sid: e.get("sid")?.as_str()?.to_owned(),
            };
            match entry.event {
                AuditEvent::Rotate => out.rotations.push_back(entry),
                _ => out.audit.push_back(entry),
            }
        }
        out.ended_before = value.get("endedBefore")?.as_i64()?;
        out.pending = value
            .get("pending")?
            .as_array()?
            .iter()
            .map(|p| p.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()?;
        let sorted = out
            .sessions
            .windows(2)
            .all(|w| w[0].started <= w[1].started);
        (sorted
            && out.sessions.len() <= SESSION_LIMIT
            && out.pending.len() <= SESSION_LIMIT
            && out.audit.len() <= AUDIT_LIMIT
            && out.rotations.len() <= ROTATION_LIMIT)
            .then_some(out)
    }
}

/// User-agent tokens and the family each names, most specific first (Edge and Opera carry
/// `Chrome/`, Chrome carries `Safari/`).
const CLIENTS: [(&str, &str); 8] = [
    ("Edg/", "edge"),
    ("OPR/", "opera"),
    ("Firefox/", "firefox"),
    ("Chrome/", "chrome"),
    ("Safari/", "safari"),
    ("curl/", "curl"),
    ("okhttp/", "okhttp"),
    ("node", "node"),
];

/// The family of a client no token names.
const OTHER_CLIENT: &str = "other";

/// A coarse client hint from a user agent: its browser or tool family (`chrome`, `firefox`,
/// `safari`, `edge`, `opera`, `curl`, `okhttp`, `node`, else `other`). Never the string itself:
/// a user agent can be a fingerprint.
pub fn client_hint(user_agent: Option<&str>) -> &'static str {
    let ua = user_agent.unwrap_or("");
    CLIENTS
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map_or(OTHER_CLIENT, |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(sid: &str, started: i64) -> Seen<'_> {
        Seen {
            sid,
            provider: "default",
            started,
            generation: 0,
            user_agent: Some("Mozilla/5.0 (X11) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"),
            expires: 1_000_000,
        }
    }

    fn sids(s: &SubjectSessions) -> Vec<&str> {
        s.sessions().iter().map(|k| k.sid.as_str()).collect()
    }

    fn events(s: &SubjectSessions) -> Vec<(&str, &str)> {
        s.audit()
            .map(|e| (e.event.as_str(), e.sid.as_str()))
            .collect()
    }

    #[test]
    fn sessions_start_rotate_and_end_with_a_trail() {
        let mut s = SubjectSessions::new();
        let ok = Admission::Admitted { ended: vec![] };
        assert_eq!(s.seen(seen("b", 200), 200, None), ok);
        assert_eq!(s.seen(seen("a", 100), 250, None), ok);
        // Oldest start first.
        assert_eq!(sids(&s), ["a", "b"]);
        assert_eq!(s.sessions()[0].client, "chrome");
        // A rotation updates, never adds.
        assert_eq!(
            s.seen(
                Seen {
                    generation: 3,
                    ..seen("a", 100)
                },
                300,
                None
            ),
            ok
        );
        assert_eq!(
            (s.sessions()[0].generation, s.sessions()[0].last_rotation),
            (3, 300)
        );
        assert_eq!(s.sessions().len(), 2);
        assert!(s.end("a", 400));
        assert!(!s.end("a", 401), "ended once");
        s.reused("b", 500);
        assert!(s.sessions().is_empty());
        assert_eq!(
            events(&s),
            [
                ("start", "b"),
                ("start", "a"),
                ("rotate", "a"),
                ("end", "a"),
                ("reuse", "b")
            ]
        );
        s.seen(seen("c", 600), 600, None);
        s.seen(seen("d", 610), 610, None);
        assert_eq!(s.end_all(700), ["c", "d"]);
        assert!(s.sessions().is_empty());
        // A session signed in before the end that shows up after it is over too; a later
        // sign-in is not.
        assert_eq!(s.seen(seen("late", 690), 720, None), Admission::Refused);
        assert_eq!(s.seen(seen("new", 701), 720, None), ok);
        assert_eq!(sids(&s), ["new"]);
    }

    #[test]
    fn a_cap_ends_the_oldest_or_refuses_the_new_one() {
        let mut s = SubjectSessions::new();
        for (i, sid) in ["a", "b", "c"].iter().enumerate() {
            s.seen(seen(sid, 100 + i as i64), 100, Some(Cap::EndOldest(3)));
        }
        assert_eq!(
            s.seen(seen("d", 200), 200, Some(Cap::EndOldest(3))),
            Admission::Admitted {
                ended: vec!["a".into()]
            }
        );
        // Until the store confirms the family revoked, every admission hands it out again.
        assert_eq!(
            s.seen(seen("d", 200), 201, Some(Cap::EndOldest(3))),
            Admission::Admitted {
                ended: vec!["a".into()]
            }
        );
        s.revoked(&["a".to_owned()]);
        assert_eq!(sids(&s), ["b", "c", "d"]);
        // A lower cap than the sessions held ends as many as it takes.
        assert_eq!(
            s.seen(seen("e", 300), 300, Some(Cap::EndOldest(2))),
            Admission::Admitted {
                ended: vec!["b".into(), "c".into()]
            }
        );
        assert_eq!(sids(&s), ["d", "e"]);
        s.revoked(&["b".to_owned(), "c".to_owned(), "x".to_owned()]);
        // Refusing: the new one is refused and recorded; the others stay; a rotation of a
        // known one is never refused.
        assert_eq!(
            s.seen(seen("f", 400), 400, Some(Cap::RefuseNew(2))),
            Admission::Refused
        );
        assert_eq!(sids(&s), ["d", "e"]);
        assert!(matches!(
            s.seen(seen("d", 200), 410, Some(Cap::RefuseNew(2))),
            Admission::Admitted { .. }
        ));
        // Rotations are kept apart: refreshing again and again cannot flush the other entries.
        for at in 500..600 {
            s.seen(seen("d", 200), at, None);
        }
        assert_eq!(
            s.audit().filter(|e| e.event == AuditEvent::Rotate).count(),
            ROTATION_LIMIT
        );
        assert!(s
            .audit()
            .any(|e| e.event == AuditEvent::Cap && e.sid == "f"));
        // Without a cap the registry is still bounded.
        let mut s = SubjectSessions::new();
        for i in 0..SESSION_LIMIT as i64 + 5 {
            s.seen(seen(&i.to_string(), i), i, None);
        }
        assert_eq!(s.sessions().len(), SESSION_LIMIT);
        assert_eq!(s.sessions()[0].sid, "5");
        assert_eq!(
            s.audit().count(),
            AUDIT_LIMIT,
            "starts and caps, no rotation"
        );
    }

    #[test]
    fn expired_sessions_leave_and_never_count_against_the_cap() {
        let mut s = SubjectSessions::new();
        let until = |sid, started, expires| Seen {
            expires,
            ..seen(sid, started)
        };
        s.seen(until("a", 100, 200), 100, Some(Cap::RefuseNew(1)));
        // Before its refresh token expires, a second session is refused; after, admitted.
        assert_eq!(
            s.seen(until("b", 150, 900), 150, Some(Cap::RefuseNew(1))),
            Admission::Refused
        );
        assert!(matches!(
            s.seen(until("b", 150, 900), 200, Some(Cap::RefuseNew(1))),
            Admission::Admitted { .. }
        ));
        assert_eq!(sids(&s), ["b"]);
        // A rotation moves the expiry on.
        s.seen(until("b", 150, 1500), 800, None);
        s.prune(1000);
        assert_eq!(sids(&s), ["b"]);
        s.prune(1500);
        assert!(s.sessions().is_empty());
    }

    #[test]
    fn the_registry_round_trips_and_refuses_anything_else() {
        let mut s = SubjectSessions::new();
        s.seen(seen("a", 100), 100, None);
        s.seen(
            Seen {
                user_agent: None,
                ..seen("b", 50)
            },
            120,
            None,
        );
        s.end("a", 130);
        let v = s.to_json();
        assert_eq!(SubjectSessions::from_json(&v), Some(s.clone()));
        let text = v.to_string();
        for secret in ["Mozilla", "Chrome/131"] {
            assert!(!text.contains(secret), "{secret}");
        }
        for bad in [
            json!({}),
            json!({"sessions": [], "audit": [{"at": 1, "event": "stolen", "sid": "x"}]}),
            json!({"sessions": [{"sid": "x", "provider": "p", "started": 1, "lastRotation": 1, "generation": -1, "client": "chrome"}], "audit": []}),
            json!({"sessions": [{"sid": "x", "provider": "p", "started": 1, "lastRotation": 1, "generation": 1, "client": "lynx"}], "audit": []}),
            json!({"sessions": [
                {"sid": "x", "provider": "p", "started": 5, "lastRotation": 1, "generation": 1, "client": "chrome"},
                {"sid": "y", "provider": "p", "started": 1, "lastRotation": 1, "generation": 1, "client": "chrome"}], "audit": []}),
        ] {
            assert_eq!(SubjectSessions::from_json(&bad), None, "{bad}");
        }
    }

    #[test]
    fn client_hints_are_families_never_the_string() {
        for (ua, want) in [
            (Some("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0"), "edge"),
            (Some("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15"), "safari"),
            (Some("Mozilla/5.0 (X11; rv:133.0) Gecko/20100101 Firefox/133.0"), "firefox"),
            (Some("curl/8.5.0"), "curl"),
            (Some(""), "other"),
            (None, "other"),
        ] {
            assert_eq!(client_hint(ua), want, "{ua:?}");
        }
    }
}
