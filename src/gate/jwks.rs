//! The remote JWKS state machine (one per isolate), separate from the I/O so every timing rule
//! is tested at exact instants.
//!
//! * A fetched set is fresh for `cache_seconds`; after that the next request refetches.
//! * A `kid` not in the set triggers one refetch, at most once per `cooldown_seconds`.
//! * A failed fetch is retried at most once per `cooldown_seconds`; meanwhile the last good set
//!   is served until `fetched_at + cache_seconds + stale_seconds`, and after that requests fail
//!   closed (503) until a fetch succeeds.

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
}
