//! Refresh-token rotation in the core: the policy's `refresh` member, the token format (kept
//! apart from access tokens by audience and `typ`), the idle and absolute bounds, and a whole
//! rotation with reuse detection on the in-memory store.

mod common;
use common::*;
use jwtgate::refresh::{MemoryFamilies, Outcome, Refresher, REFRESH_TYP};
use jwtgate::{Code, Policy, Verifier};
use serde_json::{json, Value};

fn policy_json() -> Value {
    let mut p = policy_value(&["ES256"], vec![jwk("ec", "private")]);
    p["maxAgeSeconds"] = json!(86_400);
    p["refresh"] = json!({"audience": "https://pay.example.com/refresh", "ttlSeconds": 3600, "accessTtlSeconds": 300});
    p
}

fn refresher() -> Refresher {
    Refresher::new(&Policy::from_value(&policy_json()).unwrap()).unwrap()
}

fn access_verifier() -> Verifier {
    Verifier::for_signer(Policy::from_value(&policy_json()).unwrap()).unwrap()
}

#[test]
fn the_refresh_member_is_checked() {
    let with = |refresh: Value, max_age: Option<i64>| {
        let mut p = policy_json();
        p["refresh"] = refresh;
        match max_age {
            Some(m) => p["maxAgeSeconds"] = json!(m),
            None => {
                p.as_object_mut().unwrap().remove("maxAgeSeconds");
            }
        }
        Policy::from_value(&p)
            .map(drop)
            .map_err(|e| e.field().unwrap_or("").to_owned())
    };
    assert_eq!(with(json!({"audience": "r"}), Some(60)), Ok(()));
    assert_eq!(
        with(json!({"audience": "r"}), None).unwrap_err(),
        "maxAgeSeconds"
    );
    assert_eq!(
        with(json!({"audience": AUD}), Some(60)).unwrap_err(),
        "refresh.audience"
    );
    assert_eq!(with(json!({}), Some(60)).unwrap_err(), "refresh.audience");
    assert_eq!(
        with(json!({"audience": "r", "ttlSeconds": 5}), Some(60)).unwrap_err(),
        "refresh.ttlSeconds"
    );
    assert_eq!(
        with(json!({"audience": "r", "accessTtlSeconds": 0}), Some(60)).unwrap_err(),
        "refresh.accessTtlSeconds"
    );
    assert_eq!(
        with(json!({"audience": "r", "ttl": 60}), Some(60)).unwrap_err(),
        "refresh.ttl"
    );
    // No private key: no refresher.
    let mut public = policy_json();
    public["keys"] = json!({"keys": [jwk("ec", "public")]});
    let e = Refresher::new(&Policy::from_value(&public).unwrap()).unwrap_err();
    assert_eq!(e.code(), Code::Config);
}

#[test]
fn refresh_and_access_tokens_never_pass_for_each_other() {
    let r = refresher();
    let first = r
        .start(obj(json!({"sub": "user_1", "email": "u@example.com"})), NOW)
        .unwrap();
    // The refresh token is not an access token (its typ, before its audience is even read).
    assert_eq!(outcome(&access_verifier(), &first, NOW), "type");
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            first.split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(header["typ"], REFRESH_TYP);
    let (verified, presented) = r.verify(&first, NOW).unwrap();
    assert_eq!(presented.generation, 0);
    assert_eq!(verified.claims["aud"], "https://pay.example.com/refresh");
    // An access token is not a refresh token (its typ and audience).
    let mut store = MemoryFamilies::new();
    let Outcome::Rotated(next) = store.rotate(&presented) else {
        panic!()
    };
    let issued = r.issue(&verified.claims, next, NOW).unwrap();
    assert_eq!(
        r.verify(&issued.access_token, NOW).unwrap_err().code(),
        Code::Type
    );
    // The access token carries the user's claims and the session, not the generation.
    let access = access_verifier().verify(&issued.access_token, NOW).unwrap();
    assert_eq!(access.claims["email"], "u@example.com");
    assert_eq!(access.claims["sid"], verified.claims["sid"]);
    assert_eq!(access.claims["auth_time"], json!(NOW));
    assert!(access.claims.get("gen").is_none());
    assert_eq!(issued.access_expires_in, 300);
    assert_eq!(issued.refresh_expires_in, 3600);
}

#[test]
fn a_whole_rotation_with_reuse_detection() {
    let r = refresher();
    let mut store = MemoryFamilies::new();
    let mut current = r.start(obj(json!({"sub": "user_1"})), NOW).unwrap();
    let mut old = Vec::new();
    let mut now = NOW;
    for generation in 1..=3u64 {
        now += 600;
        let (verified, presented) = r.verify(&current, now).unwrap();
        let Outcome::Rotated(next) = store.rotate(&presented) else {
            panic!("generation {generation}")
        };
        assert_eq!(next.generation, generation);
        old.push(current);
        current = r.issue(&verified.claims, next, now).unwrap().refresh_token;
    }
    // A stolen earlier token comes back: the family is revoked, the current one dies with it.
    let (_, stolen) = r.verify(&old[1], now).unwrap();
    assert!(matches!(store.rotate(&stolen), Outcome::Reused(_)));
    let sid = stolen.sid.clone();
    assert!(store.is_revoked(&sid));
    let (_, latest) = r.verify(&current, now).unwrap();
    assert_eq!(store.rotate(&latest), Outcome::Revoked);
}

#[test]
fn idle_and_absolute_bounds() {
    let r = refresher();
    let first = r.start(obj(json!({"sub": "u"})), NOW).unwrap();
    // Idle: unused for its ttl (3600 s, plus the 30 s leeway), it has expired.
    assert_eq!(r.verify(&first, NOW + 3629).map(drop), Ok(()));
    assert_eq!(
        r.verify(&first, NOW + 3630).unwrap_err().code(),
        Code::Expired
    );
    // Absolute: rotations never carry a session past auth_time + maxAgeSeconds (86400 s).
    let mut store = MemoryFamilies::new();
    let mut current = first;
    let mut now = NOW;
    loop {
        now += 3000;
        match r.verify(&current, now) {
            Ok((verified, presented)) => {
                let Outcome::Rotated(next) = store.rotate(&presented) else {
                    panic!()
                };
                current = r.issue(&verified.claims, next, now).unwrap().refresh_token;
            }
            Err(e) => {
                assert!(matches!(e.code(), Code::Expired | Code::TooOld), "{e}");
                break;
            }
        }
        assert!(
            now <= NOW + 86_400 + 3000,
            "the session outlived its absolute bound"
        );
    }
    assert!(now > NOW + 80_000, "ended early, at {}", now - NOW);
    // The start keeps a given auth_time: a session begun long ago cannot be restarted.
    let late = r.start(obj(json!({"sub": "u", "auth_time": NOW - 86_400})), NOW);
    assert_eq!(late.unwrap_err().code(), Code::TooOld);
}

#[test]
fn a_refresh_token_is_never_an_access_token_even_under_its_audience() {
    // An access verifier that (wrongly) lists the refresh audience still refuses its typ.
    let mut p = policy_json();
    p["audience"] = json!([AUD, "https://pay.example.com/refresh"]);
    p.as_object_mut().unwrap().remove("refresh");
    let lax = Verifier::for_signer(Policy::from_value(&p).unwrap()).unwrap();
    let first = refresher().start(obj(json!({"sub": "u"})), NOW).unwrap();
    assert_eq!(outcome(&lax, &first, NOW), "type");
    // No policy may claim the refresh typ for itself.
    let mut q = policy_json();
    q["typ"] = json!("application/JWTGATE-refresh+jwt");
    assert_eq!(Policy::from_value(&q).unwrap_err().field(), Some("typ"));
    // A refresh token cannot be DPoP-bound.
    let e = refresher()
        .start(obj(json!({"sub": "u", "cnf": {"jkt": "x"}})), NOW)
        .unwrap_err();
    assert_eq!(e.code(), Code::DpopBinding);
}
