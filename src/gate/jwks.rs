//! The remote JWKS state machine (one per isolate), separate from the I/O so every timing rule
//! is tested at exact instants.
//!
//! * A fetched set is fresh for `cache_seconds`; after that the next request refetches.
//! * A `kid` not in the set triggers one refetch, at most once per `cooldown_seconds`.
//! * A failed fetch is retried at most once per `cooldown_seconds`; meanwhile the last good set
//!   is served until `fetched_at + cache_seconds + stale_seconds`, and after that requests fail
//!   closed (503) until a fetch succeeds.
//! * One fetch per isolate at a time: the first request that must fetch claims it; the others
//!   wait for it to end (polling on their own timers: workerd does not let one request await a
//!   promise another made), each at most the fetch's timeout plus a second; a claim older than
//!   that is abandoned and the next request fetches.

use super::config::JwksSettings;
use crate::alg::Algorithm;
use crate::jwk::{jwk_algorithms, KeySet};
use serde_json::Value;

/// What to do before verifying a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwksAction {
    /// Use the set as it is (fresh, or stale within bounds while cooling down).
    Use,
    /// Fetch now (never fetched, expired, or retry after the cooldown).
    Fetch,
}

/// The last good remote key set and the fetch history.
#[derive(Debug, Clone, Default)]
pub struct JwksState {
    set: Option<KeySet>,
    fetched_at: i64,
    last_attempt: Option<i64>,
    generation: u64,
    /// When the fetch under way was claimed (ms), while one is.
    inflight_since_ms: Option<f64>,
}

/// Who fetches: this request, or another one it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// This request claimed the fetch: it fetches, then [`JwksState::settle`]s.
    Fetch,
    /// Another request's fetch is under way: poll [`JwksState::wait_over`].
    Wait,
}

/// How long a fetch's claim holds, and a waiter waits (ms): the fetch's timeout and a second.
fn claim_limit_ms(s: &JwksSettings) -> f64 {
    f64::from(s.timeout_ms) + 1000.0
}

impl JwksState {
    /// No set yet.
    pub fn new() -> Self {
        JwksState::default()
    }

    fn cooled_down(&self, now: i64, s: &JwksSettings) -> bool {
        self.last_attempt
            .is_none_or(|t| now.saturating_sub(t) >= s.cooldown_seconds)
    }

    /// Whether to fetch before verifying at `now`.
    pub fn before_verify(&self, now: i64, s: &JwksSettings) -> JwksAction {
        let fresh = self.set.is_some() && now.saturating_sub(self.fetched_at) < s.cache_seconds;
        if fresh || !self.cooled_down(now, s) {
            JwksAction::Use
        } else {
            JwksAction::Fetch
        }
    }

    /// Whether a token whose `kid` is unknown may trigger a refetch now.
    pub fn may_refetch_for_unknown_kid(&self, now: i64, s: &JwksSettings) -> bool {
        self.cooled_down(now, s)
    }

    /// A fetch succeeded (or a warm copy was found) at `fetched_at`; `now` is the attempt time.
    pub fn record_success(&mut self, set: KeySet, fetched_at: i64, now: i64) {
        self.set = Some(set);
        self.fetched_at = fetched_at;
        self.last_attempt = Some(now);
        self.generation += 1;
    }

    /// A fetch failed at `now`.
    pub fn record_failure(&mut self, now: i64) {
        self.last_attempt = Some(now);
    }

    /// The set to verify with at `now`, or `None` when there is none or it is past its stale
    /// bound (the request must then fail closed).
    pub fn usable(&self, now: i64, s: &JwksSettings) -> Option<&KeySet> {
        let limit = self
            .fetched_at
            .saturating_add(s.cache_seconds)
            .saturating_add(s.stale_seconds);
        self.set.as_ref().filter(|_| now < limit)
    }

    /// Bumped on every successful fetch: caches derived from the set compare it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// When the current set was fetched.
    pub fn fetched_at(&self) -> Option<i64> {
        self.set.as_ref().map(|_| self.fetched_at)
    }

    /// A request that must fetch at `now_ms` (a clock in ms): [`Turn::Fetch`] (it claims the
    /// fetch) unless another claim younger than the limit holds it.
    pub fn claim_fetch(&mut self, now_ms: f64, s: &JwksSettings) -> Turn {
        match self.inflight_since_ms {
            Some(t) if now_ms - t < claim_limit_ms(s) => Turn::Wait,
            _ => {
                self.inflight_since_ms = Some(now_ms);
                Turn::Fetch
            }
        }
    }

    /// Whether a request waiting since `started_ms` stops at `now_ms`: the fetch ended (it then
    /// uses whatever it left), or the request waited the whole limit.
    pub fn wait_over(&self, started_ms: f64, now_ms: f64, s: &JwksSettings) -> bool {
        self.inflight_since_ms.is_none() || now_ms - started_ms > claim_limit_ms(s)
    }

    /// The claimed fetch ended at `now` with `fetched` (the set and when it was fetched),
    /// under `policy`: the new verifier, with the set recorded; or the log line of why there is
    /// none (the fetch failed, or the set makes no verifier), with the failure recorded (the
    /// cooldown starts). The claim is released either way.
    pub fn settle(
        &mut self,
        policy: &crate::Policy,
        fetched: Result<(KeySet, i64), JwksFailure>,
        now: i64,
    ) -> Result<crate::Verifier, String> {
        self.inflight_since_ms = None;
        let made = fetched.map_err(|f| f.log_line()).and_then(|(set, at)| {
            let verifier = policy
                .with_keys(&set)
                .and_then(crate::Verifier::new)
                .map_err(|e| {
                    serde_json::json!({"jwtgate": "jwks_unusable", "message": e.to_string()})
                        .to_string()
                })?;
            Ok((verifier, set, at))
        });
        match made {
            Ok((verifier, set, at)) => {
                self.record_success(set, at, now);
                Ok(verifier)
            }
            Err(line) => {
                self.record_failure(now);
                Err(line)
            }
        }
    }
}

/// The message for a fetched set with no key the provider can use: which algorithms are pinned
/// and which each key of the set is for (its `kid` and its `alg`, or its type's algorithms), so
/// an operator sees at once that the issuer signs with another algorithm (a Better Auth app
/// whose `keyPairConfig.alg` changed keeps its old key, for one). Key ids are cut to 64
/// characters and at most 16 keys are listed; no key material is read.
pub fn no_usable_key_message(pinned: &[Algorithm], jwks: &Value) -> String {
    let names = |algs: &[Algorithm]| -> String {
        if algs.is_empty() {
            "none jwtgate verifies with".to_owned()
        } else {
            algs.iter().map(|a| a.name()).collect::<Vec<_>>().join(" ")
        }
    };
    let keys = jwks.get("keys").and_then(Value::as_array);
    let listed: Vec<String> = keys
        .into_iter()
        .flatten()
        .take(16)
        .map(|jwk| {
            let kid = match jwk.get("kid").and_then(Value::as_str) {
                Some(k) => format!("kid {:?}", k.chars().take(64).collect::<String>()),
                None => "no kid".to_owned(),
            };
            format!("{kid}: {}", names(&jwk_algorithms(jwk)))
        })
        .collect();
    let more = keys.map_or(0, |k| k.len().saturating_sub(16));
    format!(
        "JWKS holds no usable key: pinned {}; its keys are for {}{}",
        names(pinned),
        if listed.is_empty() {
            "nothing (no keys)".to_owned()
        } else {
            listed.join("; ")
        },
        if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        },
    )
}

/// The largest JWKS body accepted (a real key set is a few KB).
pub const MAX_BYTES: usize = 256 * 1024;

/// Why a JWKS fetch gave no key set: one value per failure, each with a stable code for the log
/// line (`{"jwtgate":"jwks_fetch_failed","failure":<code>,"message":…}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksFailure {
    /// The configured URL could not be made into a request.
    BadUrl,
    /// The fetch itself failed (connection, TLS, DNS).
    Network,
    /// The deadline passed before the whole body was read.
    TimedOut,
    /// Any status but 200 (redirects included: they are never followed).
    Status(u16),
    /// The body (declared or read) is over [`MAX_BYTES`].
    TooLarge,
    /// The body could not be read, or is not UTF-8.
    Unreadable,
    /// The body is not strict JSON.
    NotJson,
    /// The key set was refused (the message names why, never key material).
    Rejected(String),
    /// No key of the set can verify under the provider's pinned algorithms.
    NoUsableKey(String),
}

impl JwksFailure {
    /// The failure's stable code.
    pub const fn code(&self) -> &'static str {
        match self {
            JwksFailure::BadUrl => "bad_url",
            JwksFailure::Network => "network",
            JwksFailure::TimedOut => "timed_out",
            JwksFailure::Status(_) => "status",
            JwksFailure::TooLarge => "too_large",
            JwksFailure::Unreadable => "unreadable",
            JwksFailure::NotJson => "not_json",
            JwksFailure::Rejected(_) => "rejected",
            JwksFailure::NoUsableKey(_) => "no_usable_key",
        }
    }

    /// A sentence for the operator.
    pub fn message(&self) -> String {
        match self {
            JwksFailure::BadUrl => "bad JWKS URL".into(),
            JwksFailure::Network => "fetch failed".into(),
            JwksFailure::TimedOut => "fetch timed out".into(),
            JwksFailure::Status(s) => format!("JWKS answered {s} (redirects are not followed)"),
            JwksFailure::TooLarge => format!("JWKS body over {MAX_BYTES} bytes"),
            JwksFailure::Unreadable => "JWKS body unreadable or not UTF-8".into(),
            JwksFailure::NotJson => "JWKS is not strict JSON".into(),
            JwksFailure::Rejected(m) => format!("JWKS rejected: {m}"),
            JwksFailure::NoUsableKey(m) => m.clone(),
        }
    }

    /// The log line.
    pub fn log_line(&self) -> String {
        serde_json::json!({"jwtgate": "jwks_fetch_failed", "failure": self.code(), "message": self.message()})
            .to_string()
    }
}

/// A fetch's status: only 200 carries a key set.
pub fn check_status(status: u16) -> Result<(), JwksFailure> {
    if status == 200 {
        Ok(())
    } else {
        Err(JwksFailure::Status(status))
    }
}

/// A body of `len` bytes (declared, or read so far) is within [`MAX_BYTES`].
pub fn check_length(len: usize) -> Result<(), JwksFailure> {
    if len > MAX_BYTES {
        Err(JwksFailure::TooLarge)
    } else {
        Ok(())
    }
}

/// A declared `Content-Length` over [`MAX_BYTES`] is refused before anything is read (one that
/// is not a number is left to the cap while reading).
pub fn check_declared_length(content_length: Option<&str>) -> Result<(), JwksFailure> {
    match content_length.and_then(|v| v.trim().parse::<usize>().ok()) {
        Some(n) => check_length(n),
        None => Ok(()),
    }
}

/// A fetched body as a key set: strict JSON, read leniently (a key jwtgate cannot use is
/// inert and reported, not an error). The parsed JSON comes back for [`require_usable`].
pub fn parse(policy: &crate::Policy, text: &str) -> Result<(crate::KeySet, Value), JwksFailure> {
    let value = crate::json::parse(text.as_bytes()).map_err(|_| JwksFailure::NotJson)?;
    let set = crate::KeySet::from_jwks_lenient(&value, policy.algorithms())
        .map_err(|e| JwksFailure::Rejected(e.to_string()))?;
    Ok((set, value))
}

/// At least one key of `set` (parsed from `jwks`) verifies under `policy`'s pinned algorithms.
pub fn require_usable(
    policy: &crate::Policy,
    set: &crate::KeySet,
    jwks: &Value,
) -> Result<(), JwksFailure> {
    if set.verifying_count() == 0 {
        return Err(JwksFailure::NoUsableKey(no_usable_key_message(
            policy.algorithms(),
            jwks,
        )));
    }
    Ok(())
}

/// Whether a Cache API copy stamped `fetched_at` is fresh at `now`: not from the future (such
/// a copy would never go stale: not ours) and younger than `cache_seconds`.
pub fn cached_copy_fresh(fetched_at: i64, now: i64, cache_seconds: i64) -> bool {
    fetched_at <= now && now - fetched_at < cache_seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s() -> JwksSettings {
        JwksSettings {
            url: "https://idp.example/jwks".into(),
            cache_seconds: 600,
            stale_seconds: 3600,
            cooldown_seconds: 30,
            timeout_ms: 5000,
        }
    }

    #[test]
    fn lifecycle() {
        let s = s();
        let mut st = JwksState::new();
        assert_eq!(st.before_verify(0, &s), JwksAction::Fetch);
        assert!(st.usable(0, &s).is_none());
        // First fetch fails: no set, retry only after the cooldown.
        st.record_failure(0);
        assert_eq!(st.before_verify(29, &s), JwksAction::Use);
        assert!(st.usable(29, &s).is_none());
        assert_eq!(st.before_verify(30, &s), JwksAction::Fetch);
        st.record_success(KeySet::default(), 30, 30);
        assert_eq!(st.generation(), 1);
        // Fresh for 600 s.
        assert_eq!(st.before_verify(629, &s), JwksAction::Use);
        assert_eq!(st.before_verify(630, &s), JwksAction::Fetch);
        // Refetch fails: stale set served, retries every 30 s, until 30 + 600 + 3600.
        st.record_failure(630);
        assert_eq!(st.before_verify(640, &s), JwksAction::Use);
        assert!(st.usable(640, &s).is_some());
        assert_eq!(st.before_verify(660, &s), JwksAction::Fetch);
        st.record_failure(660);
        assert!(st.usable(4229, &s).is_some());
        assert!(st.usable(4230, &s).is_none());
        // Unknown kid: one refetch per cooldown.
        assert!(!st.may_refetch_for_unknown_kid(680, &s));
        assert!(st.may_refetch_for_unknown_kid(690, &s));
    }

    #[test]
    fn one_fetch_at_a_time_and_a_stuck_claim_is_abandoned() {
        let s = s(); // timeout 5000 ms: a claim holds 6000 ms
        let mut st = JwksState::new();
        assert_eq!(st.claim_fetch(1_000.0, &s), Turn::Fetch);
        assert_eq!(st.claim_fetch(1_005.0, &s), Turn::Wait);
        assert!(!st.wait_over(1_005.0, 1_010.0, &s));
        assert!(!st.wait_over(1_005.0, 7_005.0, &s));
        assert!(
            st.wait_over(1_005.0, 7_006.0, &s),
            "a waiter gives up after the limit"
        );
        // A claim past its limit (its request died) is taken over.
        assert_eq!(st.claim_fetch(6_999.0, &s), Turn::Wait);
        assert_eq!(st.claim_fetch(7_000.0, &s), Turn::Fetch);
        // Settling releases the claim, whatever the outcome: waiters stop at once.
        let policy = crate::Policy::from_value_keys_optional(&serde_json::json!({
            "issuer": "https://idp.example", "audience": "api", "algorithms": ["HS256"]
        }))
        .unwrap();
        assert_eq!(
            st.settle(&policy, Err(JwksFailure::TimedOut), 7)
                .unwrap_err(),
            JwksFailure::TimedOut.log_line()
        );
        assert!(st.wait_over(7_000.0, 7_001.0, &s));
        assert_eq!(st.generation(), 0);
        assert_eq!(st.before_verify(8, &s), JwksAction::Use, "cooling down");
        assert_eq!(st.claim_fetch(40_000.0, &s), Turn::Fetch);
    }

    #[test]
    fn settle_records_a_set_only_with_its_verifier() {
        let s = s();
        let policy = crate::Policy::from_value_keys_optional(&serde_json::json!({
            "issuer": "https://idp.example", "audience": "api", "algorithms": ["HS256"]
        }))
        .unwrap();
        let text = r#"{"keys":[{"kty":"oct","kid":"a","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYnl0ZXM"}]}"#;
        let (set, _) = parse(&policy, text).unwrap();
        let mut st = JwksState::new();
        assert_eq!(st.claim_fetch(0.0, &s), Turn::Fetch);
        let verifier = st.settle(&policy, Ok((set, 5)), 9).unwrap();
        assert_eq!(verifier.keys().len(), 1);
        assert_eq!((st.generation(), st.fetched_at()), (1, Some(5)));
        assert!(st.usable(9, &s).is_some());
        // A set that makes no verifier (none of its keys verifies): logged, not recorded.
        let enc_only = r#"{"keys":[{"kty":"oct","kid":"e","use":"enc","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYnl0ZXM"}]}"#;
        let (empty, _) = parse(&policy, enc_only).unwrap();
        assert_eq!(st.claim_fetch(1.0, &s), Turn::Fetch);
        let line = st.settle(&policy, Ok((empty, 700)), 700).unwrap_err();
        assert!(line.contains("jwks_unusable"), "{line}");
        assert_eq!(
            (st.generation(), st.fetched_at()),
            (1, Some(5)),
            "the last good set stays"
        );
        assert_eq!(st.before_verify(710, &s), JwksAction::Use, "cooling down");
    }

    #[test]
    fn no_usable_key_names_the_pinned_algorithms_and_each_keys() {
        let jwks = serde_json::json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "kid": "c0Hq1mJ7bI3o", "x": "AAAA"},
            {"kty": "EC", "crv": "P-521", "alg": "ES512", "x": "AAAA", "y": "AAAA"},
            {"kty": "EC", "crv": "secp256k1", "kid": "k", "x": "AAAA", "y": "AAAA"},
            {"kty": "RSA", "kid": "r", "n": "AAAA", "e": "AQAB"}
        ]});
        let m = no_usable_key_message(&[Algorithm::ES256], &jwks);
        assert_eq!(
            m,
            "JWKS holds no usable key: pinned ES256; its keys are for kid \"c0Hq1mJ7bI3o\": EdDSA Ed25519; \
             no kid: ES512; kid \"k\": none jwtgate verifies with; \
             kid \"r\": RS256 RS384 RS512 PS256 PS384 PS512"
        );
        // Never key material: the members other than kid, kty, crv and alg are not read.
        assert!(!m.contains("AAAA") && !m.contains("AQAB"));
        let many = serde_json::json!({"keys": (0..20).map(|i| serde_json::json!({"kty": "oct", "kid": i.to_string()})).collect::<Vec<_>>()});
        assert!(no_usable_key_message(&[], &many).ends_with("HS256 HS384 HS512 (and 4 more)"));
        let long = serde_json::json!({"keys": [{"kty": "oct", "kid": "x".repeat(500)}]});
        assert!(no_usable_key_message(&[Algorithm::HS256], &long).len() < 200);
        assert!(
            no_usable_key_message(&[Algorithm::HS256], &serde_json::json!({}))
                .ends_with("nothing (no keys)")
        );
    }

    #[test]
    fn jwks_failures_are_typed_and_the_fetch_rules_pure() {
        assert_eq!(check_status(200), Ok(()));
        for status in [201, 204, 301, 302, 304, 404, 500] {
            let e = check_status(status).unwrap_err();
            assert_eq!(e, JwksFailure::Status(status));
            assert!(
                e.log_line().contains(&status.to_string()),
                "{}",
                e.log_line()
            );
        }
        assert_eq!(check_length(MAX_BYTES), Ok(()));
        assert_eq!(check_length(MAX_BYTES + 1), Err(JwksFailure::TooLarge));
        assert_eq!(check_declared_length(None), Ok(()));
        assert_eq!(check_declared_length(Some("12")), Ok(()));
        assert_eq!(check_declared_length(Some("oops")), Ok(())); // read with the cap instead
        assert_eq!(
            check_declared_length(Some(&(MAX_BYTES + 1).to_string())),
            Err(JwksFailure::TooLarge)
        );
        let policy = crate::Policy::from_value_keys_optional(
            &serde_json::json!({"issuer":"https://i.example","audience":"a","algorithms":["ES256"]}),
        )
        .unwrap();
        assert_eq!(parse(&policy, "{").unwrap_err(), JwksFailure::NotJson);
        assert_eq!(
            parse(&policy, r#"{"keys":[],"keys":[]}"#).unwrap_err(),
            JwksFailure::NotJson
        );
        assert_eq!(
            parse(&policy, r#"{"keys":{}}"#).unwrap_err().code(),
            "rejected"
        );
        let (set, value) = parse(
            &policy,
            r#"{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}"#,
        )
        .unwrap();
        let none = require_usable(&policy, &set, &value).unwrap_err();
        assert_eq!(none.code(), "no_usable_key");
        assert!(
            none.message().contains("pinned ES256"),
            "{}",
            none.message()
        );
        assert!(
            !none.log_line().contains("c2VjcmV0"),
            "key material in the log"
        );
        let codes: Vec<&str> = [
            JwksFailure::BadUrl,
            JwksFailure::Network,
            JwksFailure::TimedOut,
            JwksFailure::Status(1),
            JwksFailure::TooLarge,
            JwksFailure::Unreadable,
            JwksFailure::NotJson,
            JwksFailure::Rejected(String::new()),
            JwksFailure::NoUsableKey(String::new()),
        ]
        .iter()
        .map(JwksFailure::code)
        .collect();
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), codes.len(), "codes are distinct");
        assert!(cached_copy_fresh(100, 100, 60));
        assert!(!cached_copy_fresh(101, 100, 60), "stamped in the future");
        assert!(!cached_copy_fresh(40, 100, 60));
    }
}
