//! A bounded in-isolate cache of verified tokens, keyed by the full SHA-256 of the token, so a
//! session cookie seen again skips parsing and signature work. A hit is only a shortcut past
//! the signature: the caller re-applies every claim rule (time included) and the revocation
//! check on each hit. Failures are never cached, and the cache is emptied whenever the key set
//! changes (a removed key must stop working at once).

use crate::verify::Verified;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};

/// The cache key: SHA-256 of the token bytes (never a truncated hash).
pub type TokenHash = [u8; 32];

/// Hashes a token for the cache.
pub fn token_hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// First-in, first-out bounded map of verified tokens.
#[derive(Debug, Default)]
pub struct VerifiedCache {
    map: HashMap<TokenHash, Verified>,
    order: VecDeque<TokenHash>,
    capacity: usize,
    generation: u64,
}

impl VerifiedCache {
    /// A cache of at most `capacity` tokens (0 disables it).
    pub fn new(capacity: usize) -> Self {
        VerifiedCache {
            capacity,
            ..Default::default()
        }
    }

    /// Empties the cache if the key-set generation changed.
    pub fn sync_generation(&mut self, generation: u64) {
        if generation != self.generation {
            self.map.clear();
            self.order.clear();
            self.generation = generation;
        }
    }

    /// The verified token, if cached.
    pub fn get(&self, hash: &TokenHash) -> Option<&Verified> {
        self.map.get(hash)
    }

    /// A cached token, re-checked at `now` with every claim rule (time included) for this
    /// request's `presentation` (a token cached from a DPoP request is refused as a bearer
    /// token): `None` if not cached; an entry that no longer passes is removed and its error
    /// returned.
    pub fn hit(
        &mut self,
        hash: &TokenHash,
        rules: &crate::ClaimRules,
        presentation: crate::Presentation,
        now: i64,
    ) -> Option<crate::Result<Verified>> {
        let verified = self.map.get(hash)?;
        match rules.check_as(&verified.claims, now, presentation) {
            Ok(()) => Some(Ok(verified.clone())),
            Err(e) => {
                self.remove(hash);
                Some(Err(e))
            }
        }
    }

    /// Drops one token (e.g. when a hit no longer passes the claim rules).
    pub fn remove(&mut self, hash: &TokenHash) {
        if self.map.remove(hash).is_some() {
            self.order.retain(|h| h != hash);
        }
    }

    /// Caches a token verified under key-set `generation`, evicting the oldest entry when full.
    /// An insert from an older generation is dropped: a request that started before a key
    /// rotation must not put a token verified with a removed key into the new set's cache.
    pub fn insert(&mut self, generation: u64, hash: TokenHash, verified: Verified) {
        if self.capacity == 0 || generation != self.generation {
            return;
        }
        if self.map.insert(hash, verified).is_none() {
            self.order.push_back(hash);
        }
        while self.map.len() > self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
    }

    /// Number of cached tokens.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alg::Algorithm;
    use crate::verify::Header;
    use crate::Presentation::Bearer;

    fn v(n: i64) -> Verified {
        Verified {
            header: Header {
                alg: Algorithm::HS256,
                kid: None,
                typ: None,
            },
            claims: serde_json::json!({ "n": n })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            payload_json: String::new(),
        }
    }

    #[test]
    fn bounded_fifo_and_generation_reset() {
        let mut c = VerifiedCache::new(2);
        let (a, b, d) = (token_hash("a"), token_hash("b"), token_hash("d"));
        assert_ne!(a, b);
        c.insert(0, a, v(1));
        c.insert(0, b, v(2));
        c.insert(0, d, v(3));
        assert_eq!(c.len(), 2);
        assert!(c.get(&a).is_none());
        assert_eq!(c.get(&d).map(|x| x.claims["n"].clone()), Some(3.into()));
        c.remove(&d);
        assert_eq!(c.len(), 1);
        c.sync_generation(0);
        assert_eq!(c.len(), 1);
        c.sync_generation(1);
        assert!(c.is_empty());
        let mut off = VerifiedCache::new(0);
        off.insert(0, a, v(1));
        assert!(off.is_empty());
    }

    #[test]
    fn a_hit_is_re_checked_and_a_failing_entry_dropped() {
        let rules = crate::Policy::from_json(
            r#"{"issuer":"i","audience":"a","algorithms":["HS256"],"leewaySeconds":0,
                "keys":{"keys":[{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}}"#,
        )
        .unwrap()
        .rules()
        .clone();
        let mut c = VerifiedCache::new(8);
        let h = token_hash("t");
        assert!(c.hit(&h, &rules, Bearer, 0).is_none());
        let mut good = v(1);
        good.claims = serde_json::json!({"iss": "i", "aud": "a", "exp": 100})
            .as_object()
            .cloned()
            .unwrap();
        c.insert(0, h, good);
        assert!(matches!(c.hit(&h, &rules, Bearer, 99), Some(Ok(_))));
        let e = c.hit(&h, &rules, Bearer, 100).unwrap().unwrap_err();
        assert_eq!(e.code(), crate::Code::Expired);
        assert!(c.get(&h).is_none(), "a failing entry is dropped");
        // A bound token cached from a DPoP request: a hit as a bearer token is refused.
        let mut bound = v(1);
        bound.claims = serde_json::json!({"iss": "i", "aud": "a", "exp": 100,
            "cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}})
        .as_object()
        .cloned()
        .unwrap();
        c.insert(0, h, bound);
        let proven = crate::Presentation::Proven;
        assert!(matches!(c.hit(&h, &rules, proven, 50), Some(Ok(_))));
        let e = c.hit(&h, &rules, Bearer, 50).unwrap().unwrap_err();
        assert_eq!(e.code(), crate::Code::DpopBinding);
    }

    #[test]
    fn inserts_from_an_older_key_set_are_dropped() {
        let mut c = VerifiedCache::new(8);
        c.sync_generation(1);
        let a = token_hash("a");
        // Verified under generation 1, but the set rotated (to 2) while it was in flight.
        c.sync_generation(2);
        c.insert(1, a, v(1));
        assert!(c.get(&a).is_none());
        c.insert(2, a, v(1));
        assert!(c.get(&a).is_some());
    }
}
