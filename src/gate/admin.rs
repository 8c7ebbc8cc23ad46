//! The sessions admin endpoint (`JWTGATE_ADMIN_PATH`, `JWTGATE_ADMIN_TOKEN`): an operator lists
//! a subject's sessions and audit trail, and ends one session or all of them, with effect from
//! the next request in every isolate (the families live in the gate's Durable Object, strongly
//! consistent).
//!
//! Authenticated by its own bearer secret only: a user's token, however valid, is no admin
//! credential, and nothing under the admin path ever reaches the upstream.
//!
//! | request | answer |
//! |---|---|
//! | `GET <admin>/sessions?sub=<sub>` | 200 `{"sub", "sessions": [{sid, provider, started, lastRotation, generation, client}]}` |
//! | `GET <admin>/audit?sub=<sub>` | 200 `{"sub", "audit": [{at, event, sid}]}` |
//! | `POST <admin>/sessions/end?sub=<sub>&sid=<sid>` | 200 `{"ended", "revoked": [sid]}`: that family revoked; `ended` lists it if it was `sub`'s |
//! | `POST <admin>/sessions/end?sub=<sub>` | 200 `{"ended", "revoked"}`: every listed family revoked, and sessions signed in before now refused when they show up |
//!
//! A missing or wrong secret is 401; another path 404, another method 405; a `sub` or `sid`
//! missing, empty, given twice or badly escaped, 400; a store that does not answer, 503.

use super::answer::{self, Answer};
use super::config::AdminEndpoint;
use super::flow::{revoke_family, Host};
use super::request::Refusal;
use super::state::{self, path, EndRequest, SubjectAnswer};
use serde_json::json;

/// What an authenticated admin request asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminOp {
    /// List the subject's live sessions.
    Sessions {
        /// The subject.
        sub: String,
    },
    /// Read the subject's audit trail.
    Audit {
        /// The subject.
        sub: String,
    },
    /// End one session of the subject, or (`sid` `None`) all of them.
    End {
        /// The subject.
        sub: String,
        /// The session.
        sid: Option<String>,
    },
}

impl AdminOp {
    /// Its name in the admin log line (`sessions`, `audit`, `end`, `end_all`).
    pub fn name(&self) -> &'static str {
        match self {
            AdminOp::Sessions { .. } => "sessions",
            AdminOp::Audit { .. } => "audit",
            AdminOp::End { sid: Some(_), .. } => "end",
            AdminOp::End { sid: None, .. } => "end_all",
        }
    }
}

/// The admin request at canonical `path` (under the endpoint's prefix), or the answer that
/// refuses it.
pub fn plan(
    endpoint: &AdminEndpoint,
    method: &str,
    path: &str,
    query: Option<&str>,
    authorization: Option<&str>,
) -> Result<AdminOp, Answer> {
    if !endpoint.authorized(authorization) {
        return Err(answer::refused_for(
            "jwtgate-admin",
            "invalid_token",
            "admin",
            &[("Bearer", None)],
        ));
    }
    let rest = path.strip_prefix(endpoint.path.as_str()).unwrap_or("");
    let (allowed, want_post) = match rest {
        "/sessions" | "/audit" => ("GET", false),
        "/sessions/end" => ("POST", true),
        _ => return Err(answer::not_found()),
    };
    if method != allowed {
        return Err(answer::method_not_allowed(allowed));
    }
    let bad = || answer::invalid_request("jwtgate-admin", "admin_query");
    let sub = param(query, "sub").map_err(|()| bad())?.ok_or_else(bad)?;
    let sid = param(query, "sid").map_err(|()| bad())?;
    Ok(match (rest, want_post) {
        ("/sessions", _) if sid.is_none() => AdminOp::Sessions { sub },
        ("/audit", _) if sid.is_none() => AdminOp::Audit { sub },
        ("/sessions/end", true) => AdminOp::End { sub, sid },
        _ => return Err(bad()),
    })
}

/// A query parameter, percent-decoded: `Ok(None)` when absent; `Err` when given twice, empty,
/// badly escaped, not UTF-8, or over 1024 bytes.
fn param(query: Option<&str>, name: &str) -> Result<Option<String>, ()> {
    let mut found = None;
    for pair in query.unwrap_or("").split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != name {
            continue;
        }
        if found.is_some() {
            return Err(());
        }
        let text = crate::uri::percent_decode(value).ok_or(())?;
        if text.is_empty() || text.len() > 1024 {
            return Err(());
        }
        found = Some(text);
    }
    Ok(found)
}

/// Carries out an admin request against the stores.
pub async fn run<H: Host>(host: &H, op: AdminOp) -> Answer {
    match op {
        AdminOp::Sessions { sub } => match registry(host, &sub).await {
            Ok(r) => answer::json(
                200,
                json!({"sub": sub, "sessions": r.to_json()["sessions"]}),
            ),
            Err(a) => a,
        },
        AdminOp::Audit { sub } => match registry(host, &sub).await {
            Ok(r) => answer::json(200, json!({"sub": sub, "audit": r.to_json()["audit"]})),
            Err(a) => a,
        },
        AdminOp::End { sub, sid } => {
            let (mut revoked, request) = match sid {
                Some(sid) => (vec![sid.clone()], EndRequest::These(vec![sid])),
                None => match registry(host, &sub).await {
                    Ok(r) => (
                        r.sessions().iter().map(|s| s.sid.clone()).collect(),
                        EndRequest::All,
                    ),
                    Err(a) => return a,
                },
            };
            // Families first: once revoked, a session is over whatever the registry says.
            for sid in &revoked {
                if let Err(refusal) = revoke_family(host, sid).await {
                    return unavailable(refusal);
                }
            }
            let answer = host
                .state(
                    &state::subject_object(&sub),
                    path::SUBJECT_END,
                    Some(request.encode()),
                )
                .await;
            // `ended`: the sessions the registry listed as this subject's (a sid of another
            // subject, or never seen, is revoked but not listed); an "end all" also ends any
            // session that registered since the list was read, revoked now.
            let Some(SubjectAnswer::Ended(ended)) =
                answer.and_then(|(s, b)| SubjectAnswer::decode(s, &b))
            else {
                return answer::unavailable("session_unavailable", 5);
            };
            for sid in &ended {
                if !revoked.contains(sid) {
                    if let Err(refusal) = revoke_family(host, sid).await {
                        return unavailable(refusal);
                    }
                    revoked.push(sid.clone());
                }
            }
            answer::json(200, json!({ "ended": ended, "revoked": revoked }))
        }
    }
}

fn unavailable(refusal: Refusal) -> Answer {
    match refusal {
        Refusal::Unavailable(reason, retry) => answer::unavailable(reason.as_str(), retry),
        Refusal::Invalid(_) => answer::unavailable("session_unavailable", 5),
    }
}

/// The subject's registry, or the 503 that says the store did not answer.
async fn registry<H: Host>(
    host: &H,
    sub: &str,
) -> Result<crate::sessions::SubjectSessions, Answer> {
    let answer = host
        .state(&state::subject_object(sub), path::SUBJECT, None)
        .await;
    match answer.and_then(|(s, b)| SubjectAnswer::decode(s, &b)) {
        Some(SubjectAnswer::Registry(r)) => Ok(r),
        _ => Err(answer::unavailable("session_unavailable", 5)),
    }
}
