//! Every verification rule at its boundary, and every error code reached at least once.

mod common;

use common::*;
use jwtgate::{check_revocation, Algorithm, Code};
use serde_json::{json, Value};

fn es_verifier() -> jwtgate::Verifier {
    verifier(&["ES256"], vec![jwk("ec", "public")])
}

fn es_token(payload: Value) -> String {
    forge(
        json!({"alg": "ES256", "typ": "JWT", "kid": "ec-1"}),
        payload,
        &jwk("ec", "private"),
        Algorithm::ES256,
    )
}

fn with(mut base: Value, patch: Value) -> Value {
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_algorithm_round_trips_and_returns_the_payload() {
    let cases = [
        ("HS256", "hs64"),
        ("HS384", "hs64"),
        ("HS512", "hs64"),
        ("RS256", "rsa"),
        ("RS384", "rsa"),
        ("RS512", "rsa"),
        ("PS256", "rsa"),
        ("PS384", "rsa"),
        ("PS512", "rsa"),
        ("ES256", "ec"),
        ("EdDSA", "ed"),
        ("Ed25519", "ed"),
    ];
    for (alg, key) in cases {
        let s = signer(&[alg], vec![jwk(key, "private")]);
        let v = verifier(&[alg], vec![jwk(key, "public")]);
        let token = s
            .sign(obj(json!({"sub": "user_1", "role": "admin"})), NOW)
            .unwrap();
        let ok = v
            .verify(&token, NOW + 1)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(ok.header.alg.name(), alg);
        assert_eq!(ok.claims["role"], "admin");
        assert_eq!(ok.claims["iss"], ISS);
        assert_eq!(
            serde_json::from_str::<Value>(&ok.payload_json).unwrap()["sub"],
            "user_1"
        );
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn exp_boundary_with_and_without_leeway() {
    let v = es_verifier();
    let exp = NOW + 600;
    let t = es_token(good_claims());
    assert_eq!(outcome(&v, &t, exp - 1), "ok");
    assert_eq!(outcome(&v, &t, exp), "ok"); // inside the 30 s leeway
    assert_eq!(outcome(&v, &t, exp + 29), "ok");
    assert_eq!(outcome(&v, &t, exp + 30), "expired"); // now >= exp + L
    assert_eq!(outcome(&v, &t, exp + 31), "expired");

    let mut p = policy_value(&["ES256"], vec![jwk("ec", "public")]);
    p["leewaySeconds"] = json!(0);
    let strict = verifier_with(p);
    assert_eq!(outcome(&strict, &t, exp - 1), "ok");
    assert_eq!(outcome(&strict, &t, exp), "expired");
    let err = strict.verify(&t, exp).unwrap_err();
    assert_eq!(err.claim_name(), Some("exp"));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn nbf_boundary() {
    let v = es_verifier();
    let nbf = NOW + 100;
    let t = es_token(with(good_claims(), json!({"nbf": nbf, "iat": null})));
    assert_eq!(outcome(&v, &t, nbf), "ok");
    assert_eq!(outcome(&v, &t, nbf - 30), "ok"); // now >= nbf - L
    assert_eq!(outcome(&v, &t, nbf - 31), "not_yet_valid");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn iat_boundary() {
    let v = es_verifier();
    let iat = NOW + 100;
    let t = es_token(with(good_claims(), json!({"iat": iat, "nbf": null})));
    assert_eq!(outcome(&v, &t, iat - 30), "ok"); // iat <= now + L
    assert_eq!(outcome(&v, &t, iat - 31), "issued_in_future");
    // auth_time in the future is refused the same way.
    let t = es_token(with(good_claims(), json!({"auth_time": NOW + 31})));
    assert_eq!(outcome(&v, &t, NOW), "issued_in_future");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn max_age_counts_from_auth_time_else_iat() {
    let mut p = policy_value(&["ES256"], vec![jwk("ec", "public")]);
    p["maxAgeSeconds"] = json!(3600);
    let v = verifier_with(p);
    let long_exp = json!({"exp": NOW + 100_000});
    let t = es_token(with(good_claims(), long_exp.clone()));
    assert_eq!(outcome(&v, &t, NOW + 3600 + 30), "ok"); // now - L == iat + M
    assert_eq!(outcome(&v, &t, NOW + 3600 + 31), "too_old");

    let t = es_token(with(
        with(good_claims(), long_exp.clone()),
        json!({"auth_time": NOW - 1000}),
    ));
    assert_eq!(outcome(&v, &t, NOW + 2600 + 30), "ok");
    assert_eq!(outcome(&v, &t, NOW + 2600 + 31), "too_old");
    let err = v.verify(&t, NOW + 2600 + 31).unwrap_err();
    assert_eq!(err.claim_name(), Some("auth_time"));

    let t = es_token(with(good_claims(), json!({"iat": null})));
    assert_eq!(outcome(&v, &t, NOW), "missing_claim");
    assert_eq!(v.verify(&t, NOW).unwrap_err().claim_name(), Some("iat"));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn issuer_rules() {
    let v = es_verifier();
    let t = es_token(with(
        good_claims(),
        json!({"iss": "https://staging.pay.example.com"}),
    ));
    assert_eq!(outcome(&v, &t, NOW), "issuer");
    let t = es_token(with(good_claims(), json!({"iss": null})));
    assert_eq!(outcome(&v, &t, NOW), "missing_claim");
    let t = es_token(with(
        good_claims(),
        json!({"iss": ["https://pay.example.com"]}),
    ));
    assert_eq!(outcome(&v, &t, NOW), "malformed");
    // Case and trailing slash matter: issuers are compared exactly.
    let t = es_token(with(
        good_claims(),
        json!({"iss": "https://pay.example.com/"}),
    ));
    assert_eq!(outcome(&v, &t, NOW), "issuer");

    let mut p = policy_value(&["ES256"], vec![jwk("ec", "public")]);
    p["issuer"] = json!(["https://a.example", ISS]);
    let multi = verifier_with(p);
    assert_eq!(outcome(&multi, &es_token(good_claims()), NOW), "ok");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn audience_rules() {
    let v = es_verifier();
    let cases = [
        (json!("pay-api"), "ok"),
        (json!(["other", "pay-api"]), "ok"),
        (json!("billing-api"), "audience"),
        (json!(["billing-api", "other"]), "audience"),
        (json!([]), "audience"),
        (json!("PAY-API"), "audience"),
        (json!(["pay-api", 7]), "malformed"),
        (json!(7), "malformed"),
        (Value::Null, "missing_claim"),
    ];
    for (aud, want) in cases {
        let t = es_token(with(good_claims(), json!({ "aud": aud.clone() })));
        assert_eq!(outcome(&v, &t, NOW), want, "aud = {aud}");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn required_and_typed_claims() {
    let v = es_verifier();
    let t = es_token(with(good_claims(), json!({"sub": null})));
    assert_eq!(outcome(&v, &t, NOW), "missing_claim");
    assert_eq!(v.verify(&t, NOW).unwrap_err().claim_name(), Some("sub"));
    let t = es_token(with(good_claims(), json!({"exp": null})));
    assert_eq!(v.verify(&t, NOW).unwrap_err().claim_name(), Some("exp"));
    for (claim, bad) in [
        ("exp", json!("1800000600")),
        ("nbf", json!(true)),
        ("iat", json!([1])),
        ("auth_time", json!({})),
        ("sub", json!(12)),
        ("jti", json!(12)),
    ] {
        let t = es_token(with(good_claims(), json!({ claim: bad })));
        let err = v.verify(&t, NOW).unwrap_err();
        assert_eq!(err.code(), Code::Malformed, "{claim}");
        assert_eq!(err.claim_name(), Some(claim));
    }
    // Fractional NumericDates are numbers too.
    let t = es_token(with(good_claims(), json!({"exp": (NOW as f64) + 0.5})));
    assert_eq!(outcome(&v, &t, NOW + 30), "ok"); // NOW + 30 < exp + L = NOW + 30.5
    assert_eq!(outcome(&v, &t, NOW + 31), "expired");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn alg_none_in_every_spelling_is_refused() {
    let v = verifier(&["HS256"], vec![jwk("hs64", "")]);
    let payload = b64(good_claims().to_string().as_bytes());
    for alg in ["none", "None", "NONE", "nOnE", "none ", ""] {
        let header = b64(json!({ "alg": alg }).to_string().as_bytes());
        for sig in ["", "c2ln"] {
            let t = format!("{header}.{payload}.{sig}");
            assert_eq!(outcome(&v, &t, NOW), "algorithm", "alg {alg:?} sig {sig:?}");
        }
    }
    for header in [
        json!({}),
        json!({"alg": null}),
        json!({"alg": 256}),
        json!({"alg": ["HS256"]}),
    ] {
        let t = format!("{}.{payload}.", b64(header.to_string().as_bytes()));
        assert_eq!(outcome(&v, &t, NOW), "algorithm", "{header}");
    }
    // A real algorithm that is not on the allowlist.
    let t = forge(
        json!({"alg": "HS512"}),
        good_claims(),
        &jwk("hs64", ""),
        Algorithm::HS512,
    );
    assert_eq!(outcome(&v, &t, NOW), "algorithm");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn rs256_to_hs256_key_confusion_is_refused() {
    let f = fixtures();
    let pem = f["rsa"]["publicPem"].as_str().unwrap();
    let jwk_text = jwk("rsa", "public").to_string();
    // The attacker HMACs with the public key (PEM text or JWK JSON) as the secret.
    for secret in [pem.as_bytes(), jwk_text.as_bytes()] {
        let hs_key = json!({"kty": "oct", "k": b64(secret)});
        for (algs, kid) in [
            (vec!["RS256"], Some("rsa-1")),
            (vec!["RS256", "HS256"], Some("rsa-1")),
            (vec!["RS256", "HS256"], None),
        ] {
            let v = verifier(&algs, vec![jwk("rsa", "public")]);
            let mut header = json!({"alg": "HS256"});
            if let Some(kid) = kid {
                header["kid"] = json!(kid);
            }
            let t = forge(header, good_claims(), &hs_key, Algorithm::HS256);
            assert_eq!(
                outcome(&v, &t, NOW),
                "algorithm",
                "algs {algs:?} kid {kid:?}"
            );
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn keys_in_the_header_and_extensions_are_refused() {
    let v = es_verifier();
    let own = jwk("ec", "public");
    for (member, value) in [
        ("jwk", own.clone()),
        ("jku", json!("https://attacker.example/jwks.json")),
        ("x5u", json!("https://attacker.example/cert.pem")),
        ("x5c", json!(["MIIB"])),
        ("crit", json!(["exp"])),
        ("b64", json!(false)),
        ("zip", json!("DEF")),
    ] {
        // Signed by the real key: only the header rule can refuse it.
        let mut header = json!({"alg": "ES256", "kid": "ec-1"});
        header[member] = value;
        let t = forge(
            header,
            good_claims(),
            &jwk("ec", "private"),
            Algorithm::ES256,
        );
        assert_eq!(outcome(&v, &t, NOW), "header", "{member}");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn kid_selection() {
    let two = verifier(&["ES256"], vec![jwk("ec", "public"), jwk("ec2", "public")]);
    let sign = |header: Value, key: &str| {
        forge(
            header,
            good_claims(),
            &jwk(key, "private"),
            Algorithm::ES256,
        )
    };
    assert_eq!(
        outcome(
            &two,
            &sign(json!({"alg": "ES256", "kid": "ec-1"}), "ec"),
            NOW
        ),
        "ok"
    );
    assert_eq!(
        outcome(
            &two,
            &sign(json!({"alg": "ES256", "kid": "ec-2"}), "ec2"),
            NOW
        ),
        "ok"
    );
    // Right kid, wrong key.
    assert_eq!(
        outcome(
            &two,
            &sign(json!({"alg": "ES256", "kid": "ec-2"}), "ec"),
            NOW
        ),
        "signature"
    );
    // Unknown kid, near-miss kid, no kid with two keys.
    assert_eq!(
        outcome(
            &two,
            &sign(json!({"alg": "ES256", "kid": "ec-3"}), "ec"),
            NOW
        ),
        "key_not_found"
    );
    assert_eq!(
        outcome(
            &two,
            &sign(json!({"alg": "ES256", "kid": "EC-1"}), "ec"),
            NOW
        ),
        "key_not_found"
    );
    assert_eq!(
        outcome(&two, &sign(json!({"alg": "ES256"}), "ec"), NOW),
        "key_not_found"
    );
    // A non-string kid.
    assert_eq!(
        outcome(&two, &sign(json!({"alg": "ES256", "kid": 1}), "ec"), NOW),
        "header"
    );
    // No kid, one key: that key.
    let one = es_verifier();
    assert_eq!(
        outcome(&one, &sign(json!({"alg": "ES256"}), "ec"), NOW),
        "ok"
    );
    // A kid naming a key of another family.
    let mixed = verifier(
        &["ES256", "EdDSA"],
        vec![jwk("ec", "public"), jwk("ed", "public")],
    );
    let t = forge(
        json!({"alg": "EdDSA", "kid": "ec-1"}),
        good_claims(),
        &jwk("ed", "private"),
        Algorithm::EdDSA,
    );
    assert_eq!(outcome(&mixed, &t, NOW), "algorithm");
    // A JWK `alg` pins its key to that algorithm only.
    let mut pinned = jwk("rsa", "public");
    pinned["alg"] = json!("PS256");
    let v = verifier(&["RS256", "PS256"], vec![pinned]);
    let rs = forge(
        json!({"alg": "RS256", "kid": "rsa-1"}),
        good_claims(),
        &jwk("rsa", "private"),
        Algorithm::RS256,
    );
    let ps = forge(
        json!({"alg": "PS256", "kid": "rsa-1"}),
        good_claims(),
        &jwk("rsa", "private"),
        Algorithm::PS256,
    );
    assert_eq!(outcome(&v, &rs, NOW), "algorithm");
    assert_eq!(outcome(&v, &ps, NOW), "ok");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn keys_marked_for_other_uses_never_verify() {
    let mut enc = jwk("ec2", "public");
    enc["use"] = json!("enc");
    let mut sign_only = jwk("ec", "public");
    sign_only["key_ops"] = json!(["sign"]);
    let mut verify_ok = jwk("ed", "public");
    verify_ok["key_ops"] = json!(["verify"]);
    let v = verifier(&["ES256", "EdDSA"], vec![enc, sign_only, verify_ok]);
    let t = forge(
        json!({"alg": "ES256", "kid": "ec-2"}),
        good_claims(),
        &jwk("ec2", "private"),
        Algorithm::ES256,
    );
    assert_eq!(outcome(&v, &t, NOW), "key_not_found");
    let t = forge(
        json!({"alg": "ES256", "kid": "ec-1"}),
        good_claims(),
        &jwk("ec", "private"),
        Algorithm::ES256,
    );
    assert_eq!(outcome(&v, &t, NOW), "key_not_found");
    let t = forge(
        json!({"alg": "EdDSA", "kid": "ed-1"}),
        good_claims(),
        &jwk("ed", "private"),
        Algorithm::EdDSA,
    );
    assert_eq!(outcome(&v, &t, NOW), "ok");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn duplicate_json_members_are_malformed() {
    let v = es_verifier();
    let key = jwk("ec", "private");
    let good = good_claims().to_string();
    let dup_payload = format!(r#"{{"sub":"admin",{}"#, &good[1..]);
    let t = forge_raw(
        r#"{"alg":"ES256","kid":"ec-1"}"#,
        &dup_payload,
        &key,
        Algorithm::ES256,
    );
    assert_eq!(outcome(&v, &t, NOW), "malformed");
    let t = forge_raw(
        r#"{"alg":"ES256","alg":"ES256","kid":"ec-1"}"#,
        &good,
        &key,
        Algorithm::ES256,
    );
    assert_eq!(outcome(&v, &t, NOW), "malformed");
    let t = forge_raw(
        r#"{"alg":"ES256","kid":"ec-1"}"#,
        &good,
        &key,
        Algorithm::ES256,
    );
    assert_eq!(outcome(&v, &t, NOW), "ok");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn structure_and_strict_base64url() {
    let v = es_verifier();
    let t = es_token(good_claims());
    let parts: Vec<&str> = t.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    // ES256 signatures are 64 bytes: 86 characters whose last one carries 2 unused bits.
    assert_eq!(s.len(), 86);
    let last = s.chars().last().unwrap();
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = ALPHABET.find(last).unwrap();
    let sibling = ALPHABET.as_bytes()[idx ^ 1] as char; // same bytes, non-zero unused bits
    let non_canonical = format!("{h}.{p}.{}{sibling}", &s[..s.len() - 1]);
    let cases = [
        (format!("{h}.{p}"), "malformed"),
        (format!("{h}.{p}.{s}.{s}"), "malformed"),
        (format!("{h}.{p}.{s}."), "malformed"),
        (format!("{h}.{p}.{s}=="), "malformed"),
        (format!("{h}=.{p}.{s}"), "malformed"),
        (
            format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/")),
            if s.contains(['-', '_']) {
                "malformed"
            } else {
                "ok"
            },
        ),
        (format!(" {t}"), "malformed"),
        (format!("{t}\n"), "malformed"),
        (non_canonical, "malformed"),
        (format!("{h}.{}.{s}", b64(b"[1,2]")), "malformed"),
        (format!("{h}.{}.{s}", b64(b"not json")), "malformed"),
        (
            format!("{h}.{}.{s}", b64(b"{\"sub\":\"\xff\"}")),
            "malformed",
        ),
        (format!("{}.{p}.{s}", b64(b"\"ES256\"")), "malformed"),
        (String::new(), "malformed"),
        ("..".into(), "malformed"),
        (t.clone(), "ok"),
    ];
    for (token, want) in cases {
        assert_eq!(outcome(&v, &token, NOW), want, "{token:?}");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn signature_failures() {
    let v = es_verifier();
    let t = es_token(good_claims());
    let parts: Vec<&str> = t.split('.').collect();
    // Tampered payload, original signature.
    let evil = b64(with(good_claims(), json!({"sub": "admin"}))
        .to_string()
        .as_bytes());
    assert_eq!(
        outcome(&v, &format!("{}.{evil}.{}", parts[0], parts[2]), NOW),
        "signature"
    );
    // Empty and truncated signatures.
    assert_eq!(
        outcome(&v, &format!("{}.{}.", parts[0], parts[1]), NOW),
        "signature"
    );
    assert_eq!(
        outcome(
            &v,
            &format!("{}.{}.{}", parts[0], parts[1], &parts[2][..84]),
            NOW
        ),
        "signature"
    );
    // Signed by another key under our kid.
    let other = forge(
        json!({"alg": "ES256", "kid": "ec-1"}),
        good_claims(),
        &jwk("ec2", "private"),
        Algorithm::ES256,
    );
    assert_eq!(outcome(&v, &other, NOW), "signature");
    // HMAC with a different secret.
    let hv = verifier(&["HS256"], vec![jwk("hs64", "")]);
    let mut wrong = jwk("hs64b", "");
    wrong["kid"] = json!("hs-1");
    let t = forge(
        json!({"alg": "HS256", "kid": "hs-1"}),
        good_claims(),
        &wrong,
        Algorithm::HS256,
    );
    assert_eq!(outcome(&hv, &t, NOW), "signature");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn too_large_is_checked_first() {
    let mut p = policy_value(&["ES256"], vec![jwk("ec", "public")]);
    p["maxTokenBytes"] = json!(256);
    let v = verifier_with(p);
    let big = es_token(with(good_claims(), json!({"pad": "x".repeat(300)})));
    assert!(big.len() > 256);
    assert_eq!(outcome(&v, &big, NOW), "too_large");
    assert_eq!(outcome(&v, &"!".repeat(257), NOW), "too_large");
    assert_eq!(outcome(&v, &"!".repeat(256), NOW), "malformed");
    // The default is 16384 bytes.
    let v = es_verifier();
    assert_eq!(outcome(&v, &"a".repeat(16385), NOW), "too_large");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn typ_rules() {
    let mut p = policy_value(&["ES256"], vec![jwk("ec", "public")]);
    p["typ"] = json!("at+jwt");
    let v = verifier_with(p);
    let key = jwk("ec", "private");
    for (typ, want) in [
        (json!("at+jwt"), "ok"),
        (json!("AT+JWT"), "ok"),
        (json!("application/at+jwt"), "ok"),
        (json!("JWT"), "type"),
        (json!("authjs-session+jwt"), "type"),
        (json!(1), "type"),
        (Value::Null, "type"),
    ] {
        let mut header = json!({"alg": "ES256"});
        if !typ.is_null() {
            header["typ"] = typ.clone();
        }
        let t = forge(header, good_claims(), &key, Algorithm::ES256);
        assert_eq!(outcome(&v, &t, NOW), want, "typ {typ}");
    }
    // Without a policy typ, the header typ is not checked.
    let t = forge(
        json!({"alg": "ES256", "typ": "whatever"}),
        good_claims(),
        &key,
        Algorithm::ES256,
    );
    assert_eq!(outcome(&es_verifier(), &t, NOW), "ok");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn revocation_answers() {
    use jwtgate::{revocation_keys, EntryKind, Lookup, RevocationVerdict};
    let claims = obj(with(
        good_claims(),
        json!({"sid": "session-1", "jti": "t-1"}),
    ));
    let keys = revocation_keys(&claims).unwrap();
    let kinds: Vec<EntryKind> = keys.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        kinds,
        [EntryKind::Token, EntryKind::Session, EntryKind::Subject]
    );
    assert_eq!(keys[1].1, "sid:session-1");
    let answer = |kind, a| check_revocation(&claims, &[(kind, a)], false);
    let revoked = |v: RevocationVerdict| match v {
        RevocationVerdict::Revoked(e) => (e.code(), e.claim_name().map(str::to_owned)),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        answer(EntryKind::Token, Lookup::Absent),
        RevocationVerdict::Pass
    );
    assert_eq!(
        revoked(answer(EntryKind::Token, Lookup::Present("1"))),
        (Code::Revoked, Some("jti".into()))
    );
    assert_eq!(
        revoked(answer(EntryKind::Session, Lookup::Present("1"))),
        (Code::Revoked, Some("sid".into()))
    );
    // Subject cut off after the session started: refused; at its start: fine.
    let after = (NOW + 1).to_string();
    assert_eq!(
        revoked(answer(EntryKind::Subject, Lookup::Present(&after))).0,
        Code::Revoked
    );
    let at = NOW.to_string();
    assert_eq!(
        answer(EntryKind::Subject, Lookup::Present(&at)),
        RevocationVerdict::Pass
    );
    // No iat and no auth_time: fail closed.
    let no_iat = obj(with(good_claims(), json!({"iat": null})));
    assert!(matches!(
        check_revocation(
            &no_iat,
            &[(EntryKind::Subject, Lookup::Present("0"))],
            false
        ),
        RevocationVerdict::Revoked(_)
    ));
    assert_eq!(
        answer(EntryKind::Token, Lookup::Unavailable),
        RevocationVerdict::Unavailable
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn check_claims_applies_the_same_rules_without_a_signature() {
    let v = es_verifier();
    assert!(v.check_claims(&obj(good_claims()), NOW).is_ok());
    let e = v.check_claims(&obj(good_claims()), NOW + 630).unwrap_err();
    assert_eq!(e.code(), Code::Expired);
    let e = v
        .check_claims(&obj(with(good_claims(), json!({"aud": "x"}))), NOW)
        .unwrap_err();
    assert_eq!(e.code(), Code::Audience);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_error_code_is_reachable() {
    // Each code with one input that produces it; `config` comes from construction.
    let v = es_verifier();
    let key = jwk("ec", "private");
    let t = |payload: Value| es_token(payload);
    let produced: Vec<Code> = vec![
        v.verify("a.b", NOW).unwrap_err().code(),
        v.verify(&"a".repeat(20000), NOW).unwrap_err().code(),
        v.verify(
            &forge(
                json!({"alg": "HS256"}),
                good_claims(),
                &jwk("hs64", ""),
                Algorithm::HS256,
            ),
            NOW,
        )
        .unwrap_err()
        .code(),
        v.verify(
            &forge(
                json!({"alg": "ES256", "jku": "x"}),
                good_claims(),
                &key,
                Algorithm::ES256,
            ),
            NOW,
        )
        .unwrap_err()
        .code(),
        v.verify(
            &forge(
                json!({"alg": "ES256", "kid": "nope"}),
                good_claims(),
                &key,
                Algorithm::ES256,
            ),
            NOW,
        )
        .unwrap_err()
        .code(),
        v.verify(
            &forge(
                json!({"alg": "ES256"}),
                good_claims(),
                &jwk("ec2", "private"),
                Algorithm::ES256,
            ),
            NOW,
        )
        .unwrap_err()
        .code(),
        v.verify(&t(good_claims()), NOW + 10_000)
            .unwrap_err()
            .code(),
        v.verify(&t(with(good_claims(), json!({"nbf": NOW + 1000}))), NOW)
            .unwrap_err()
            .code(),
        v.verify(&t(with(good_claims(), json!({"iat": NOW + 1000}))), NOW)
            .unwrap_err()
            .code(),
        {
            let mut p = policy_value(&["ES256"], vec![jwk("ec", "public")]);
            p["maxAgeSeconds"] = json!(60);
            verifier_with(p)
                .verify(&t(good_claims()), NOW + 200)
                .unwrap_err()
                .code()
        },
        v.verify(&t(with(good_claims(), json!({"aud": "x"}))), NOW)
            .unwrap_err()
            .code(),
        v.verify(&t(with(good_claims(), json!({"iss": "x"}))), NOW)
            .unwrap_err()
            .code(),
        v.verify(&t(with(good_claims(), json!({"sub": null}))), NOW)
            .unwrap_err()
            .code(),
        {
            let mut p = policy_value(&["ES256"], vec![jwk("ec", "public")]);
            p["typ"] = json!("at+jwt");
            verifier_with(p)
                .verify(&t(good_claims()), NOW)
                .unwrap_err()
                .code()
        },
        // A token for another tenant than the request's.
        {
            let mut p = policy_value(&["ES256"], vec![jwk("ec", "public")]);
            p["tenantClaim"] = json!("org.id");
            let tenant = verifier_with(p);
            let claims = tenant
                .verify(&t(with(good_claims(), json!({"org": {"id": "acme"}}))), NOW)
                .unwrap()
                .claims;
            assert!(tenant.check_tenant(&claims, "acme").is_ok());
            tenant.check_tenant(&claims, "other").unwrap_err().code()
        },
        match check_revocation(
            &obj(good_claims()),
            &[(jwtgate::EntryKind::Token, jwtgate::Lookup::Present(""))],
            false,
        ) {
            jwtgate::RevocationVerdict::Revoked(e) => e.code(),
            _ => Code::Config,
        },
        jwtgate::Policy::from_json("{}").unwrap_err().code(),
        // DPoP: a bound token as a bearer token; a proof that is not a JWS; a second use.
        v.verify(
            &t(with(
                good_claims(),
                json!({"cnf": {"jkt": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"}}),
            )),
            NOW,
        )
        .unwrap_err()
        .code(),
        {
            let mut p = policy_value(&["ES256"], vec![jwk("ec", "public")]);
            p["dpop"] = json!({"algorithms": ["ES256"]});
            let request = jwtgate::dpop::ProofRequest {
                method: "GET",
                url: "https://a.example/",
            };
            verifier_with(p)
                .verify_dpop(
                    &t(with(
                        good_claims(),
                        json!({"cnf": {"jkt": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"}}),
                    )),
                    "not-a-proof",
                    &request,
                    NOW,
                )
                .unwrap_err()
                .code()
        },
        {
            let proof = jwtgate::dpop::Proof {
                jkt: "t".into(),
                iat: NOW,
                replay_key: "k".into(),
                replay_until: NOW + 60,
                nonce: None,
            };
            let mut window = jwtgate::dpop::ReplayWindow::new(4, 4);
            window.record(&proof, NOW).unwrap();
            window.record(&proof, NOW).unwrap_err().code()
        },
        // A proof without a nonce at a server that issues nonces.
        jwtgate::dpop::Nonces::new(&[1; 32])
            .unwrap()
            .check(
                &jwtgate::dpop::Proof {
                    jkt: "t".into(),
                    iat: NOW,
                    replay_key: "k".into(),
                    replay_until: NOW + 60,
                    nonce: None,
                },
                NOW,
            )
            .unwrap_err()
            .code(),
    ];
    let mut missing: Vec<Code> = Code::ALL.to_vec();
    missing.retain(|c| !produced.contains(c));
    assert!(missing.is_empty(), "never produced: {missing:?}");
}
