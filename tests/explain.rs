//! `jwtgate::explain`: an explanation never disagrees with verification (same outcome, the
//! failing stage named, every claim rule run), shows malformed tokens part by part, and never
//! carries the signature.

mod common;

use common::*;
use jwtgate::explain::{explain, Verdict};
use jwtgate::{Algorithm, Stage};
use serde_json::{json, Value};

fn v() -> jwtgate::Verifier {
    verifier_with(json!({
        "issuer": ISS, "audience": AUD, "algorithms": ["HS256", "ES256"],
        "keys": { "keys": [jwk("hs64", ""), jwk("ec", "public")] },
        "requiredClaims": ["sub", "email"], "maxAgeSeconds": 3600, "typ": "JWT",
    }))
}

fn claims(extra: Value) -> Value {
    let mut c = good_claims();
    c["email"] = json!("ada@example.com");
    for (k, val) in extra.as_object().unwrap() {
        c[k] = val.clone();
    }
    c
}

fn hs(header: Value, payload: Value) -> String {
    forge(header, payload, &jwk("hs64", ""), Algorithm::HS256)
}

/// Tokens that stop at every stage, and at several claim rules.
fn corpus() -> Vec<String> {
    let good = || json!({"alg": "HS256", "kid": "hs-1", "typ": "JWT"});
    let ok = hs(good(), claims(json!({})));
    let (input, sig) = ok.rsplit_once('.').unwrap();
    let mut flipped = sig.as_bytes().to_vec();
    flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
    vec![
        ok.clone(),
        "x".repeat(20_000),
        "a.b".into(),
        format!("{input}.{}", String::from_utf8(flipped).unwrap()),
        format!("{input}.!!"),
        hs(json!({"alg": "none", "typ": "JWT"}), claims(json!({}))),
        hs(
            json!({"alg": "HS256", "kid": "hs-1", "typ": "JWT", "jku": "https://x"}),
            claims(json!({})),
        ),
        hs(
            json!({"alg": "HS256", "kid": "hs-1", "typ": "at+jwt"}),
            claims(json!({})),
        ),
        hs(
            json!({"alg": "HS256", "kid": "nope", "typ": "JWT"}),
            claims(json!({})),
        ),
        hs(good(), claims(json!({"exp": NOW - 100}))),
        hs(good(), claims(json!({"aud": "other", "exp": NOW - 100}))),
        hs(good(), claims(json!({"iss": "https://evil.example"}))),
        hs(good(), claims(json!({"email": null}))),
        hs(good(), claims(json!({"iat": NOW - 7200}))),
        hs(good(), claims(json!({"nbf": NOW + 600}))),
        hs(good(), claims(json!({"exp": "soon"}))),
        forge(
            json!({"alg": "ES256", "kid": "ec-1", "typ": "JWT"}),
            claims(json!({})),
            &jwk("ec", "private"),
            Algorithm::ES256,
        ),
        forge(
            json!({"alg": "ES256", "kid": "ec-1", "typ": "JWT"}),
            claims(json!({})),
            &jwk("ec2", "private"),
            Algorithm::ES256,
        ),
    ]
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_outcome_is_verifys_and_the_failing_stage_is_named() {
    let v = v();
    let mut stopped_at = Vec::new();
    for token in corpus() {
        let e = explain(Some(&v), &token, NOW);
        let verified = v.verify(&token, NOW).map(drop);
        assert_eq!(e.outcome.clone().unwrap(), verified, "{token}");
        // Stages: passes, then at most one failure carrying the outcome's error, then not run.
        let verdicts: Vec<&Verdict> = e.stages.iter().map(|(_, v)| v).collect();
        assert_eq!(verdicts.len(), Stage::ALL.len());
        let fail = verdicts.iter().position(|v| matches!(v, Verdict::Fail(_)));
        match (&verified, fail) {
            (Ok(()), None) => assert!(verdicts.iter().all(|v| **v == Verdict::Pass)),
            (Err(err), Some(i)) => {
                assert_eq!(verdicts[i], &Verdict::Fail(err.clone()));
                assert!(verdicts[..i].iter().all(|v| **v == Verdict::Pass));
                assert!(verdicts[i + 1..].iter().all(|v| **v == Verdict::NotRun));
                stopped_at.push(e.stages[i].0);
            }
            other => panic!("{token}: {other:?}"),
        }
        // The signature is never in the explanation.
        let text = e.to_json().to_string();
        if let Some(sig) = token.split('.').nth(2).filter(|s| s.len() > 8) {
            assert!(!text.contains(sig), "signature shown: {text}");
        }
    }
    for stage in Stage::ALL {
        assert!(stopped_at.contains(&stage), "no token stops at {stage:?}");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_claim_rule_runs_even_after_a_failure() {
    let v = v();
    let token = hs(
        json!({"alg": "HS256", "kid": "hs-1", "typ": "JWT"}),
        claims(json!({"exp": NOW - 100, "aud": "other", "email": null, "jti": 5})),
    );
    let e = explain(Some(&v), &token, NOW);
    let failed: Vec<(&str, &str)> = e
        .rules
        .iter()
        .filter_map(|(rule, verdict)| match verdict {
            Verdict::Fail(err) => Some((rule.as_str(), err.code().as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        failed,
        vec![
            ("exp", "expired"),
            ("aud", "audience"),
            ("jti", "malformed"),
            ("required email", "missing_claim")
        ]
    );
    let passed: Vec<&str> = e
        .rules
        .iter()
        .filter(|(_, verdict)| *verdict == Verdict::Pass)
        .map(|(rule, _)| rule.as_str())
        .collect();
    assert_eq!(
        passed,
        vec![
            "time claims",
            "nbf",
            "iat",
            "max age",
            "iss",
            "sub",
            "required sub",
            "cnf"
        ]
    );
    // The first failure is the outcome, as verify says.
    assert_eq!(e.outcome.unwrap().unwrap_err().code().as_str(), "expired");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn malformed_tokens_are_shown_part_by_part_and_no_policy_only_decodes() {
    let good = hs(json!({"alg": "HS256", "kid": "hs-1"}), claims(json!({})));
    let payload = good.split('.').nth(1).unwrap();
    let e = explain(None, &format!("%%%.{payload}"), NOW);
    assert_eq!(e.segments, 2);
    assert_eq!(e.header, Err("not base64url"));
    assert_eq!(e.claims.as_ref().unwrap()["sub"], "user_1");
    assert_eq!(e.signature_len, None);
    assert!(e.stages.is_empty() && e.rules.is_empty() && e.outcome.is_none());
    let j = explain(None, &good, NOW).to_json();
    assert_eq!(j["signatureBytes"], 32);
    assert_eq!(j["header"]["alg"], "HS256");
    assert_eq!(j["result"], Value::Null);
    // Duplicate members: the part is not strict JSON, as the verifier says.
    let dup = format!("{}.{payload}.", b64(br#"{"alg":"HS256","alg":"none"}"#));
    assert!(explain(None, &dup, NOW)
        .header
        .unwrap_err()
        .contains("duplicate"));
}
