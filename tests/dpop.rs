//! DPoP (RFC 9449) in the core: every proof rule at its boundary, the binding of a token to its
//! proof's key, and the `cnf` rule that keeps a bound token from passing as a bearer token.
//! Proofs are assembled by hand (header and payload JSON, signed with the fixture keys), so each
//! test changes exactly one thing; the npm tests make them with jose instead.

mod common;
use common::*;
use jwtgate::dpop::{self, ProofRequest, ReplayWindow};
use jwtgate::{Algorithm, Code, Policy, Signer, SignerOptions, Verifier};
use serde_json::{json, Value};

const URL: &str = "https://api.example.com/orders/42?expand=items";
const HTU: &str = "https://api.example.com/orders/42";

fn public(name: &str) -> Value {
    let mut k = jwk(name, "public");
    k.as_object_mut().unwrap().remove("kid");
    k
}

/// A verifier whose policy accepts DPoP proofs signed with ES256 or EdDSA.
fn dpop_verifier() -> Verifier {
    let mut p = policy_value(&["HS256"], vec![jwk("hs32", "")]);
    p["dpop"] = json!({"algorithms": ["ES256", "EdDSA"], "maxAgeSeconds": 60});
    verifier_with(p)
}

fn token_bound_to(jkt: &str) -> String {
    let mut claims = good_claims();
    claims["cnf"] = json!({ "jkt": jkt });
    forge(
        json!({"alg": "HS256", "kid": jwk("hs32", "")["kid"]}),
        claims,
        &jwk("hs32", ""),
        Algorithm::HS256,
    )
}

fn proof_header(alg: &str, key: &str) -> Value {
    json!({"typ": "dpop+jwt", "alg": alg, "jwk": public(key)})
}

fn proof_claims(token: &str) -> Value {
    json!({
        "jti": "e1j3V_bKic8-LAEB", "htm": "GET", "htu": HTU, "iat": NOW,
        "ath": dpop::ath(token),
    })
}

fn sign_proof(header: Value, claims: Value, key: &str) -> String {
    let alg = Algorithm::from_name(header["alg"].as_str().unwrap()).unwrap();
    forge(header, claims, &jwk(key, "private"), alg)
}

fn request() -> ProofRequest<'static> {
    ProofRequest {
        method: "GET",
        url: URL,
    }
}

fn jkt(key: &str) -> String {
    dpop::thumbprint(&public(key)).unwrap()
}

/// The outcome of `verify_dpop` for a proof built from `header` and `claims`, as a code and the
/// member it names.
fn judge(token: &str, header: Value, claims: Value) -> String {
    let proof = sign_proof(header, claims, "ec");
    judge_proof(token, &proof, &request(), NOW)
}

fn judge_proof(token: &str, proof: &str, req: &ProofRequest<'_>, now: i64) -> String {
    match dpop_verifier().verify_dpop(token, proof, req, now) {
        Ok(_) => "ok".into(),
        Err(e) => {
            for part in proof.split('.').chain(token.split('.')) {
                if part.len() >= 8 {
                    assert!(!e.to_string().contains(part), "error echoes a token: {e}");
                }
            }
            format!("{}:{}", e.code().as_str(), e.claim_name().unwrap_or("-"))
        }
    }
}

#[test]
fn a_valid_proof_binds_the_token_to_its_key() {
    let token = token_bound_to(&jkt("ec"));
    let proof = sign_proof(proof_header("ES256", "ec"), proof_claims(&token), "ec");
    let (verified, checked) = dpop_verifier()
        .verify_dpop(&token, &proof, &request(), NOW)
        .expect("valid");
    assert_eq!(verified.claims["sub"], "user_1");
    assert_eq!(checked.jkt, jkt("ec"));
    assert_eq!(checked.iat, NOW);
    assert_eq!(checked.replay_until, NOW + 60 + 30 + 1);
    // EdDSA too, with its own key and thumbprint.
    let token = token_bound_to(&jkt("ed"));
    let proof = sign_proof(proof_header("EdDSA", "ed"), proof_claims(&token), "ed");
    assert!(dpop_verifier()
        .verify_dpop(&token, &proof, &request(), NOW)
        .is_ok());
}

#[test]
fn a_bound_token_never_passes_as_a_bearer_token() {
    let token = token_bound_to(&jkt("ec"));
    let v = dpop_verifier();
    assert_eq!(outcome(&v, &token, NOW), "dpop_binding");
    // The explanation names the rule.
    let e = jwtgate::explain::explain(Some(&v), &token, NOW);
    assert!(e
        .rules
        .iter()
        .any(|(r, v)| r == "cnf" && matches!(v, jwtgate::explain::Verdict::Fail(_))));
    assert_eq!(
        e.outcome.unwrap().unwrap_err().code(),
        Code::DpopBinding,
        "explain agrees with verify"
    );
    // Nor does the claim check alone (the Auth.js callbacks' path).
    assert_eq!(
        v.check_claims(&obj(json!({"cnf": {"jkt": jkt("ec")}, "sub": "u", "iss": ISS, "aud": AUD, "exp": NOW + 60})), NOW)
            .unwrap_err()
            .code(),
        Code::DpopBinding
    );
}

#[test]
fn the_binding_between_token_and_proof() {
    let v = |t: &str| judge(t, proof_header("ES256", "ec"), proof_claims(t));
    // Bound to another key.
    assert_eq!(v(&token_bound_to(&jkt("ec2"))), "dpop_binding:cnf");
    // Not bound at all.
    let plain = forge(
        json!({"alg": "HS256", "kid": jwk("hs32", "")["kid"]}),
        good_claims(),
        &jwk("hs32", ""),
        Algorithm::HS256,
    );
    assert_eq!(v(&plain), "dpop_binding:cnf");
    // A confirmation method jwtgate does not check, or a malformed one.
    for cnf in [
        json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        json!({"jkt": jkt("ec"), "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        json!({"jkt": "short"}),
        json!({"jkt": 7}),
        json!("jkt"),
    ] {
        let mut claims = good_claims();
        claims["cnf"] = cnf.clone();
        let t = forge(
            json!({"alg": "HS256", "kid": jwk("hs32", "")["kid"]}),
            claims,
            &jwk("hs32", ""),
            Algorithm::HS256,
        );
        assert_eq!(v(&t), "dpop_binding:cnf", "{cnf}");
    }
    // A policy without `dpop` accepts no proof.
    let no_dpop = verifier(&["HS256"], vec![jwk("hs32", "")]);
    let token = token_bound_to(&jkt("ec"));
    let proof = sign_proof(proof_header("ES256", "ec"), proof_claims(&token), "ec");
    let e = no_dpop
        .verify_dpop(&token, &proof, &request(), NOW)
        .unwrap_err();
    assert_eq!(e.code(), Code::Config);
    // The token itself is verified first, every rule: an expired bound token is `expired`.
    let mut claims = good_claims();
    claims["cnf"] = json!({ "jkt": jkt("ec") });
    claims["exp"] = json!(NOW - 100);
    let expired = forge(
        json!({"alg": "HS256", "kid": jwk("hs32", "")["kid"]}),
        claims,
        &jwk("hs32", ""),
        Algorithm::HS256,
    );
    assert_eq!(v(&expired), "expired:exp");
}

#[test]
fn header_rules() {
    let token = token_bound_to(&jkt("ec"));
    let claims = proof_claims(&token);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut h = proof_header("ES256", "ec");
        f(&mut h);
        judge(&token, h, claims.clone())
    };
    assert_eq!(with(&|_| {}), "ok");
    assert_eq!(with(&|h| h["typ"] = json!("application/dpop+jwt")), "ok");
    assert_eq!(with(&|h| h["typ"] = json!("JWT")), "dpop_proof:typ");
    assert_eq!(
        with(&|h| {
            h.as_object_mut().unwrap().remove("typ");
        }),
        "dpop_proof:typ"
    );
    for m in ["crit", "jku", "x5u", "x5c", "b64", "zip"] {
        assert_eq!(with(&|h| h[m] = json!(["x"])), "dpop_proof:header", "{m}");
    }
    assert_eq!(
        with(&|h| {
            h.as_object_mut().unwrap().remove("jwk");
        }),
        "dpop_proof:jwk"
    );
    // Private key material in the proof: refused, even though the signature is right.
    assert_eq!(
        with(&|h| h["jwk"]["d"] = jwk("ec", "private")["d"].clone()),
        "dpop_proof:jwk"
    );
    // A key of another curve than alg's, or one whose `use` is not signing.
    assert_eq!(with(&|h| h["jwk"] = public("ec384")), "dpop_proof:jwk");
    assert_eq!(with(&|h| h["jwk"]["use"] = json!("enc")), "dpop_proof:jwk");
    // The proof's key is the signer: another public key there fails the signature.
    assert_eq!(with(&|h| h["jwk"] = public("ec2")), "dpop_proof:signature");
    // alg: only the policy's dpop.algorithms, never HMAC or none.
    for alg in ["none", "HS256", "ES384", "es256", "RS256"] {
        let mut h = proof_header("ES256", "ec");
        h["alg"] = json!(alg);
        let proof = format!(
            "{}.{}.{}",
            b64(h.to_string().as_bytes()),
            b64(claims.to_string().as_bytes()),
            b64(&[0u8; 64])
        );
        assert_eq!(
            judge_proof(&token, &proof, &request(), NOW),
            "dpop_proof:alg",
            "{alg}"
        );
    }
    // Not a JWS, over the size bound.
    assert_eq!(
        judge_proof(&token, "a.b", &request(), NOW),
        "dpop_proof:proof"
    );
    let mut big = proof_claims(&token);
    big["pad"] = json!("x".repeat(8200));
    assert_eq!(
        judge(&token, proof_header("ES256", "ec"), big),
        "dpop_proof:proof"
    );
}

#[test]
fn claim_rules_at_their_boundaries() {
    let token = token_bound_to(&jkt("ec"));
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = proof_claims(&token);
        f(&mut c);
        judge(&token, proof_header("ES256", "ec"), c)
    };
    // jti: present, a string, 1 to 256 bytes.
    assert_eq!(with(&|c| c["jti"] = json!("j".repeat(256))), "ok");
    assert_eq!(
        with(&|c| c["jti"] = json!("j".repeat(257))),
        "dpop_proof:jti"
    );
    assert_eq!(with(&|c| c["jti"] = json!("")), "dpop_proof:jti");
    assert_eq!(with(&|c| c["jti"] = json!(1)), "dpop_proof:jti");
    // htm: exactly the method.
    assert_eq!(with(&|c| c["htm"] = json!("get")), "dpop_proof:htm");
    assert_eq!(with(&|c| c["htm"] = json!("POST")), "dpop_proof:htm");
    // htu: the URI without query, normalised on both sides.
    assert_eq!(
        with(&|c| c["htu"] = json!("HTTPS://API.example.com:443/orders/42#x")),
        "ok"
    );
    assert_eq!(
        with(&|c| c["htu"] = json!("https://api.example.com/orders/43")),
        "dpop_proof:htu"
    );
    assert_eq!(
        with(&|c| c["htu"] = json!("https://api.example.com:8443/orders/42")),
        "dpop_proof:htu"
    );
    assert_eq!(
        with(&|c| c["htu"] = json!("http://api.example.com/orders/42")),
        "dpop_proof:htu"
    );
    assert_eq!(
        with(&|c| c["htu"] = json!("https://evil.example/orders/42")),
        "dpop_proof:htu"
    );
    assert_eq!(
        with(&|c| c["htu"] = json!("https://u@api.example.com/orders/42")),
        "dpop_proof:htu"
    );
    // iat: within [now - maxAge - leeway, now + leeway] (60 s and 30 s here).
    assert_eq!(with(&|c| c["iat"] = json!(NOW + 30)), "ok");
    assert_eq!(with(&|c| c["iat"] = json!(NOW + 31)), "dpop_proof:iat");
    assert_eq!(with(&|c| c["iat"] = json!(NOW - 90)), "ok");
    assert_eq!(with(&|c| c["iat"] = json!(NOW - 91)), "dpop_proof:iat");
    assert_eq!(with(&|c| c["iat"] = json!("now")), "dpop_proof:iat");
    // ath: the SHA-256 of exactly this token.
    assert_eq!(
        with(&|c| c["ath"] = json!(dpop::ath("another.token.here"))),
        "dpop_proof:ath"
    );
    assert_eq!(
        with(&|c| {
            c.as_object_mut().unwrap().remove("ath");
        }),
        "dpop_proof:ath"
    );
    // Another method on the request side.
    let proof = sign_proof(proof_header("ES256", "ec"), proof_claims(&token), "ec");
    let post = ProofRequest {
        method: "POST",
        url: URL,
    };
    assert_eq!(judge_proof(&token, &proof, &post, NOW), "dpop_proof:htm");
}

#[test]
fn a_proof_is_good_once_within_its_window() {
    let token = token_bound_to(&jkt("ec"));
    let proof = sign_proof(proof_header("ES256", "ec"), proof_claims(&token), "ec");
    let v = dpop_verifier();
    let mut window = ReplayWindow::new(100, 100);
    let (_, p) = v.verify_dpop(&token, &proof, &request(), NOW).unwrap();
    window.record(&p, NOW).unwrap();
    let (_, again) = v.verify_dpop(&token, &proof, &request(), NOW + 5).unwrap();
    assert_eq!(again.replay_key, p.replay_key);
    assert_eq!(
        window.record(&again, NOW + 5).unwrap_err().code(),
        Code::Replayed
    );
    // A new jti is a new proof; the same jti from another key is another key's.
    let mut c = proof_claims(&token);
    c["jti"] = json!("another");
    let (_, fresh) = v
        .verify_dpop(
            &token,
            &sign_proof(proof_header("ES256", "ec"), c, "ec"),
            &request(),
            NOW,
        )
        .unwrap();
    assert!(window.record(&fresh, NOW).is_ok());
    let t2 = token_bound_to(&jkt("ec2"));
    let (_, other) = v
        .verify_dpop(
            &t2,
            &sign_proof(proof_header("ES256", "ec2"), proof_claims(&t2), "ec2"),
            &request(),
            NOW,
        )
        .unwrap();
    assert_ne!(other.replay_key, p.replay_key);
}

#[test]
fn a_signer_issues_bound_tokens_only_with_a_checkable_cnf() {
    let mut p = policy_value(&["ES256"], vec![jwk("ec", "private")]);
    p["dpop"] = json!({"algorithms": ["ES256"]});
    let policy = Policy::from_value(&p).unwrap();
    let signer = Signer::new(policy.clone(), SignerOptions::default()).unwrap();
    let verifier = Verifier::for_signer(policy).unwrap();
    let claims = obj(json!({"sub": "u", "cnf": {"jkt": jkt("ed")}}));
    let token = signer.sign(claims, NOW).expect("a bound token");
    assert_eq!(outcome(&verifier, &token, NOW), "dpop_binding");
    let bad = obj(json!({"sub": "u", "cnf": {"x5t#S256": "abc"}}));
    assert_eq!(signer.sign(bad, NOW).unwrap_err().code(), Code::DpopBinding);
}
