//! `Refresher`: refresh-token rotation against an in-memory family store.

use super::*;

/// Refresh-token rotation with reuse detection for one policy (its `refresh` member and a
/// private key): the first refresh token of a session, and refreshes against a family store in
/// this instance's memory (one process; behind the edge gate, the gate rotates instead).
#[wasm_bindgen(js_name = Refresher)]
pub struct JsRefresher {
    inner: crate::refresh::Refresher,
    families: std::cell::RefCell<crate::refresh::MemoryFamilies>,
    /// Each subject's sessions and audit trail ([`crate::sessions`]), by `sub`.
    subjects: std::cell::RefCell<std::collections::HashMap<String, SubjectSessions>>,
    cap: Option<Cap>,
}

use crate::sessions::{Admission, Cap, Seen, SubjectSessions};

/// The `RefresherOptions`: `maxSessions` (1 to 256 concurrent sessions per subject) and
/// `onSessionCap` (`"endOldest"`, the default, or `"refuse"`); no other member.
fn session_cap(options: &Option<JsValue>) -> Result<Option<Cap>, Error> {
    if let Some(o) = options
        .as_ref()
        .filter(|o| !o.is_undefined() && !o.is_null())
    {
        let names = js_sys::Object::keys(o.unchecked_ref::<js_sys::Object>());
        for name in names.iter() {
            let name = name.as_string().unwrap_or_default();
            if !["maxSessions", "onSessionCap"].contains(&name.as_str()) {
                return Err(Error::config(
                    "options",
                    "unknown Refresher option (maxSessions, onSessionCap)",
                ));
            }
        }
    }
    let max = match option(options, "maxSessions") {
        v if v.is_undefined() => None,
        v => match v.as_f64() {
            Some(n) if n.fract() == 0.0 && (1.0..=256.0).contains(&n) => Some(n as usize),
            _ => {
                return Err(Error::config(
                    "maxSessions",
                    "must be a whole number from 1 to 256",
                ))
            }
        },
    };
    let on_cap = option(options, "onSessionCap");
    match (max, on_cap.as_string().as_deref(), on_cap.is_undefined()) {
        (None, _, true) => Ok(None),
        (None, _, false) => Err(Error::config("onSessionCap", "needs maxSessions")),
        (Some(n), _, true) | (Some(n), Some("endOldest"), _) => Ok(Some(Cap::EndOldest(n))),
        (Some(n), Some("refuse"), _) => Ok(Some(Cap::RefuseNew(n))),
        _ => Err(Error::config(
            "onSessionCap",
            "must be \"endOldest\" or \"refuse\"",
        )),
    }
}

/// The `userAgent` of a `SessionOptions` (only its family is kept), if given.
fn user_agent(options: &Option<JsValue>) -> Result<Option<String>, Error> {
    match option(options, "userAgent") {
        v if v.is_undefined() || v.is_null() => Ok(None),
        v => v
            .as_string()
            .map(Some)
            .ok_or_else(|| Error::config("userAgent", "must be a string")),
    }
}

/// The `sub` a session belongs to: a non-empty string.
fn subject_of(claims: &Map<String, Value>) -> Result<String, Error> {
    claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Error::claim(Code::MissingClaim, "sub", "a session needs its subject"))
}

#[wasm_bindgen(js_class = Refresher)]
impl JsRefresher {
    /// Builds a refresher. Throws `config` when the policy has no `refresh` member, no
    /// `maxAgeSeconds`, or no private key, or for a bad option. `maxSessions` caps each
    /// subject's concurrent sessions: beyond it the oldest is ended (`onSessionCap:
    /// "endOldest"`, the default) or the new one refused (`"refuse"`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Policy | string")] policy: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RefresherOptions")] options: Option<
            JsValue,
        >,
    ) -> Result<JsRefresher, JsValue> {
        let run = || -> Result<JsRefresher, Error> {
            let cap = session_cap(&options)?;
            let policy = policy_from(&policy)?;
            let inner = crate::refresh::Refresher::new(&policy)?;
            if inner.deferred() {
                return Err(Error::config(
                    "keys",
                    "a Refresher signs synchronously: with an RSA, EC or OKP signing key it needs \
                     host crypto registered with setHostCrypto before it is built (node:crypto: \
                     jwtgate/host/node-crypto), or an HMAC key",
                ));
            }
            Ok(JsRefresher {
                inner,
                families: Default::default(),
                subjects: Default::default(),
                cap,
            })
        };
        run().map_err(|e| js_error(&e))
    }

    /// The JWKS to publish for verifiers of the access and refresh tokens it issues (one key
    /// signs both): as `Signer.publicJwks`.
    #[wasm_bindgen(js_name = publicJwks, unchecked_return_type = "Jwks")]
    pub fn public_jwks(&self) -> Result<JsValue, JsValue> {
        json_result(self.inner.public_jwks())
    }

    /// The first refresh token of a new session (generation 0), at sign-in: `claims` are the
    /// user's (`sub`, and whatever the access tokens should carry); `sid` and `auth_time` are
    /// stamped fresh unless given.
    ///
    /// The session is registered under its `sub` (see `sessions`): with `maxSessions`, the
    /// subject's oldest session is ended to make room, or (`onSessionCap: "refuse"`) this one is
    /// refused with `revoked` (claim `sid`). `userAgent` gives the client hint (its family only).
    pub fn start(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Claims")] claims: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SessionOptions")] options: Option<JsValue>,
    ) -> Result<String, JsValue> {
        let run = || -> Result<String, Error> {
            let now = now_from(&options)?;
            let agent = user_agent(&options)?;
            let token = self.inner.start(claims_object(&claims)?, now)?;
            let (verified, presented) = self.inner.verify(&token, now)?;
            let expires = verified
                .claims
                .get("exp")
                .and_then(Value::as_i64)
                .unwrap_or(now);
            self.admit(&verified.claims, &presented, now, expires, agent.as_deref())?;
            Ok(token)
        };
        run().map_err(|e| js_error(&e))
    }

    /// Rotates: verifies the refresh token, applies the family state machine in this
    /// instance's store and issues the next refresh token with a new access token. Throws the
    /// token's error, or `revoked` (claim `sid`) for a revoked family or a reuse (which revokes
    /// it: every later refresh of the session fails too).
    #[wasm_bindgen(unchecked_return_type = "RefreshResult")]
    pub fn refresh(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SessionOptions")] options: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        use crate::refresh::Outcome;
        let run = || -> Result<JsValue, Error> {
            let (token, now) = token_at(&token, &options)?;
            let agent = user_agent(&options)?;
            let (verified, presented) = self.inner.verify(&token, now)?;
            let outcome = self.families.borrow_mut().rotate(&presented);
            let Outcome::Rotated(next) = outcome else {
                if let (Outcome::Reused(_), Ok(sub)) = (outcome, subject_of(&verified.claims)) {
                    if let Some(s) = self.subjects.borrow_mut().get_mut(&sub) {
                        s.reused(&presented.sid, now);
                    }
                }
                return Err(Error::claim(
                    Code::Revoked,
                    "sid",
                    "the session's refresh family is revoked (a refresh token was used twice, or the session was ended)",
                ));
            };
            let rotated = crate::refresh::Presented {
                generation: next.generation,
                ..presented
            };
            let issued = self.inner.issue(&verified.claims, next, now)?;
            let expires = now.saturating_add(issued.refresh_expires_in);
            self.admit(&verified.claims, &rotated, now, expires, agent.as_deref())?;
            Ok(object(&[
                ("accessToken", JsValue::from_str(&issued.access_token)),
                (
                    "accessExpiresIn",
                    JsValue::from_f64(issued.access_expires_in as f64),
                ),
                ("refreshToken", JsValue::from_str(&issued.refresh_token)),
                (
                    "refreshExpiresIn",
                    JsValue::from_f64(issued.refresh_expires_in as f64),
                ),
            ]))
        };
        run().map_err(|e| js_error(&e))
    }

    /// The live sessions of `sub`, oldest start first: `sid`, `provider`, `started`
    /// (`auth_time`), `lastRotation`, `generation` and `client` (the user agent's family; never
    /// an IP, a token or a key).
    #[wasm_bindgen(unchecked_return_type = "SessionInfo[]")]
    pub fn sessions(&self, sub: &str) -> JsValue {
        self.registry_part(sub, "sessions")
    }

    /// The audit trail of `sub`'s sessions (at most 64 entries, oldest first): `at`, `event`
    /// (`start`, `rotate`, `reuse`, `end`, `cap`; the last 16 rotations are kept apart) and
    /// `sid`. No token, no key.
    #[wasm_bindgen(js_name = auditTrail, unchecked_return_type = "SessionEvent[]")]
    pub fn audit_trail(&self, sub: &str) -> JsValue {
        self.registry_part(sub, "audit")
    }

    /// Ends the session `sid` of `sub` at once: its family is revoked, so its next refresh
    /// fails and `isRevoked(sid)` is true (refuse its access tokens). Whether it was live.
    #[wasm_bindgen(js_name = endSession)]
    pub fn end_session(
        &self,
        sub: &str,
        sid: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "TimeOptions")] options: Option<JsValue>,
    ) -> Result<bool, JsValue> {
        let ended = self.end_where(sub, &options, |s, now| {
            if s.end(sid, now) {
                vec![sid.to_owned()]
            } else {
                Vec::new()
            }
        })?;
        Ok(!ended.is_empty())
    }

    /// Ends every session of `sub` (each family revoked); their ids.
    #[wasm_bindgen(js_name = endSessions, unchecked_return_type = "string[]")]
    pub fn end_sessions(
        &self,
        sub: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "TimeOptions")] options: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let ended = self.end_where(sub, &options, SubjectSessions::end_all)?;
        Ok(json_js(&Value::from(ended)))
    }

    /// Whether the session `sid` is revoked in this instance's store (refuse its access tokens).
    #[wasm_bindgen(js_name = isRevoked)]
    pub fn is_revoked(&self, sid: &str) -> bool {
        self.families.borrow().is_revoked(sid)
    }
}

impl JsRefresher {
    /// One part (`sessions` or `audit`) of `sub`'s registry as JS (empty for an unknown one).
    fn registry_part(&self, sub: &str, part: &str) -> JsValue {
        let mut subjects = self.subjects.borrow_mut();
        let json = subjects.get_mut(sub).map(|s| {
            s.prune(unix_now());
            s.to_json()
        });
        json_js(
            json.as_ref()
                .map_or(&Value::Array(Vec::new()), |j| &j[part]),
        )
    }

    /// Ends the sessions `end` picks in `sub`'s registry at the options' `now`, revoking each
    /// family; their ids.
    fn end_where(
        &self,
        sub: &str,
        options: &Option<JsValue>,
        end: impl FnOnce(&mut SubjectSessions, i64) -> Vec<String>,
    ) -> Result<Vec<String>, JsValue> {
        let now = now_from(options).map_err(|e| js_error(&e))?;
        let ended = self
            .subjects
            .borrow_mut()
            .get_mut(sub)
            .map(|s| end(s, now))
            .unwrap_or_default();
        let mut families = self.families.borrow_mut();
        for sid in &ended {
            families.revoke(sid);
        }
        Ok(ended)
    }

    /// Registers a session's start or rotation under its subject, applying the cap: the
    /// sessions it ends are revoked; a refused one is revoked and is `revoked` (claim `sid`).
    fn admit(
        &self,
        claims: &Map<String, Value>,
        presented: &crate::refresh::Presented,
        now: i64,
        expires: i64,
        user_agent: Option<&str>,
    ) -> Result<(), Error> {
        let sub = subject_of(claims)?;
        let started = claims
            .get("auth_time")
            .and_then(Value::as_i64)
            .unwrap_or(now);
        let seen = Seen {
            sid: &presented.sid,
            provider: "default",
            started,
            generation: presented.generation,
            user_agent,
            expires,
        };
        let sub_key = sub.clone();
        let admission = self
            .subjects
            .borrow_mut()
            .entry(sub)
            .or_default()
            .seen(seen, now, self.cap);
        let mut families = self.families.borrow_mut();
        match admission {
            Admission::Admitted { ended } => {
                for sid in &ended {
                    families.revoke(sid);
                }
                if let Some(s) = self.subjects.borrow_mut().get_mut(&sub_key) {
                    s.revoked(&ended);
                }
                Ok(())
            }
            Admission::Refused => {
                families.revoke(&presented.sid);
                Err(Error::claim(
                    Code::Revoked,
                    "sid",
                    "the subject has the most concurrent sessions allowed (maxSessions)",
                ))
            }
        }
    }
}
