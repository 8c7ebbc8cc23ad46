//! Differential tests against an independent implementation, `jwt-compact` (a dev-dependency,
//! never shipped: it parses claims laxly, has no key–algorithm binding or JWKS, and pins older
//! RustCrypto majors, so it shares no crypto code with jwtgate's build).
//!
//! - Tokens jwt-compact signs verify in jwtgate, with the same claims; tokens jwtgate's `Signer`
//!   issues verify in jwt-compact, with the same claims.
//! - A property test over thousands of mutated tokens per algorithm (bit flips, substituted,
//!   inserted and deleted characters, swapped and truncated segments): jwtgate never accepts a
//!   token whose signature jwt-compact rejects. The other direction (jwt-compact accepting what
//!   jwtgate refuses, e.g. non-canonical base64url) is counted and allowed: jwtgate is stricter.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use jwt_compact::alg::{Ed25519, Es256, Hs256, Hs256Key, Rsa};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm as CompactAlg, AlgorithmExt, Claims, Header, UntrustedToken};
use jwtgate::{Signer, Verifier};
use serde_json::{json, Map, Value};

type Payload = Map<String, Value>;

/// A fixture JWK as jwt-compact's own `JsonWebKey` (members it does not know are dropped).
fn compact_jwk(v: &Value) -> JsonWebKey<'static> {
    let mut v = v.clone();
    for member in ["kid", "alg", "use", "key_ops", "ext"] {
        v.as_object_mut().unwrap().remove(member);
    }
    serde_json::from_value(v).expect("jwt-compact JWK")
}

/// One algorithm, as each implementation names it, with its keys.
trait Case {
    const NAME: &'static str;
    const FIXTURE: &'static str;
    /// Signs `claims` with jwt-compact (header `kid` = the fixture's kid).
    fn compact_sign(&self, claims: &Payload) -> String;
    /// Whether jwt-compact accepts the token's signature; the payload if so.
    fn compact_verify(&self, token: &str) -> Option<Payload>;
}

/// jwt-compact's header: the fixture key's `kid`, as jwtgate's verifier selects by it.
fn header(fixture: &str) -> Header {
    let kid = jwk(fixture, "private")["kid"]
        .as_str()
        .unwrap_or("k")
        .to_owned();
    Header::empty().with_key_id(kid)
}

fn claims_of(payload: &Payload) -> Claims<Payload> {
    serde_json::from_value(Value::Object(payload.clone())).expect("claims")
}

fn validate<A: CompactAlg>(alg: &A, key: &A::VerifyingKey, token: &str) -> Option<Payload> {
    let untrusted = UntrustedToken::new(token).ok()?;
    let token = alg.validator::<Payload>(key).validate(&untrusted).ok()?;
    let c = token.claims();
    let mut out = c.custom.clone();
    for (name, t) in [
        ("exp", c.expiration),
        ("nbf", c.not_before),
        ("iat", c.issued_at),
    ] {
        if let Some(t) = t {
            out.insert(name.into(), json!(t.timestamp()));
        }
    }
    Some(out)
}

macro_rules! case {
    ($ty:ident, $name:literal, $fixture:literal, $alg:expr, $sign:ty, $verify:ty) => {
        struct $ty {
            sign: $sign,
            verify: $verify,
        }
        impl $ty {
            fn new() -> Self {
                Self {
                    sign: <$sign>::try_from(&compact_jwk(&jwk($fixture, "private"))).unwrap(),
                    verify: <$verify>::try_from(&compact_jwk(&jwk($fixture, "public"))).unwrap(),
                }
            }
        }
        impl Case for $ty {
            const NAME: &'static str = $name;
            const FIXTURE: &'static str = $fixture;
            fn compact_sign(&self, claims: &Payload) -> String {
                $alg.token(&header($fixture), &claims_of(claims), &self.sign)
                    .expect("jwt-compact signs")
            }
            fn compact_verify(&self, token: &str) -> Option<Payload> {
                validate(&$alg, &self.verify, token)
            }
        }
    };
}

case!(
    Es,
    "ES256",
    "ec",
    Es256,
    <Es256 as CompactAlg>::SigningKey,
    <Es256 as CompactAlg>::VerifyingKey
);
case!(
    Ed,
    "EdDSA",
    "ed",
    Ed25519,
    <Ed25519 as CompactAlg>::SigningKey,
    <Ed25519 as CompactAlg>::VerifyingKey
);
case!(
    Rs,
    "RS256",
    "rsa",
    Rsa::rs256(),
    jwt_compact::alg::RsaPrivateKey,
    jwt_compact::alg::RsaPublicKey
);
case!(
    Ps,
    "PS256",
    "rsa",
    Rsa::ps256(),
    jwt_compact::alg::RsaPrivateKey,
    jwt_compact::alg::RsaPublicKey
);

struct Hs {
    key: Hs256Key,
}
impl Case for Hs {
    const NAME: &'static str = "HS256";
    const FIXTURE: &'static str = "hs64";
    fn compact_sign(&self, claims: &Payload) -> String {
        Hs256
            .token(&header("hs64"), &claims_of(claims), &self.key)
            .unwrap()
    }
    fn compact_verify(&self, token: &str) -> Option<Payload> {
        validate(&Hs256, &self.key, token)
    }
}
fn hs() -> Hs {
    let k = jwk("hs64", "private");
    let secret = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        k["k"].as_str().unwrap(),
    )
    .unwrap();
    Hs {
        key: Hs256Key::new(secret),
    }
}

fn parties(alg: &str, fixture: &str) -> (Signer, Verifier) {
    let public = if fixture.starts_with("hs") {
        jwk(fixture, "private")
    } else {
        jwk(fixture, "public")
    };
    (
        signer(&[alg], vec![jwk(fixture, "private")]),
        verifier(&[alg], vec![public]),
    )
}

/// Both directions agree for one algorithm, then the mutation property.
fn differential<C: Case>(case: &C, mutations: usize) {
    let (jwtgate_signer, jwtgate_verifier) = parties(C::NAME, C::FIXTURE);

    // jwt-compact → jwtgate.
    let mut claims = obj(good_claims());
    claims.insert("jti".into(), json!("differential-1"));
    claims.insert("name".into(), json!("Ana \u{e9}\u{1f600}"));
    let foreign = case.compact_sign(&claims);
    let verified = jwtgate_verifier
        .verify(&foreign, NOW)
        .unwrap_or_else(|e| panic!("{}: jwt-compact's token refused: {e}", C::NAME));
    assert_eq!(verified.claims, claims, "{}", C::NAME);

    // jwtgate → jwt-compact.
    let ours = jwtgate_signer
        .sign(obj(json!({"sub": "user_2", "scope": "read"})), NOW)
        .unwrap();
    let seen = case
        .compact_verify(&ours)
        .unwrap_or_else(|| panic!("{}: jwt-compact refused jwtgate's token", C::NAME));
    assert_eq!(
        seen,
        jwtgate_verifier.verify(&ours, NOW).unwrap().claims,
        "{}",
        C::NAME
    );

    // A wrong key is refused by both (the test can fail in both directions).
    let tampered = {
        let (input, _) = foreign.rsplit_once('.').unwrap();
        let (_, sig) = ours.rsplit_once('.').unwrap();
        format!("{input}.{sig}")
    };
    assert!(case.compact_verify(&tampered).is_none(), "{}", C::NAME);
    assert!(
        jwtgate_verifier.verify(&tampered, NOW).is_err(),
        "{}",
        C::NAME
    );

    // The property: jwtgate accepts a mutation only if jwt-compact accepts its signature too,
    // with the same claims.
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ C::NAME.len() as u64);
    let (mut tried, mut jwtgate_ok, mut compact_only) = (0, 0, 0);
    for i in 0..mutations {
        // Half from each implementation's token.
        let base = if i % 2 == 0 { &foreign } else { &ours };
        let m = mutate(base, &mut rng);
        if m == *base {
            continue; // a no-op mutation (a segment swapped with itself, a same-character edit)
        }
        tried += 1;
        let theirs = case.compact_verify(&m);
        match jwtgate_verifier.verify(&m, NOW) {
            Ok(v) => {
                jwtgate_ok += 1;
                let theirs = theirs.unwrap_or_else(|| {
                    panic!("{}: jwtgate accepted a token jwt-compact rejects", C::NAME)
                });
                assert_eq!(v.claims, theirs, "{}: same token, other claims", C::NAME);
            }
            Err(_) => compact_only += usize::from(theirs.is_some()),
        }
    }
    eprintln!(
        "{}: {tried} mutated tokens, jwtgate accepted {jwtgate_ok} (each also valid for \
         jwt-compact), jwt-compact alone accepted {compact_only}",
        C::NAME
    );
}

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn mutate(token: &str, rng: &mut XorShift) -> String {
    let mut b = token.as_bytes().to_vec();
    match rng.below(6) {
        0 => {
            // One bit of one character (may leave base64url).
            let i = rng.below(b.len());
            b[i] ^= 1 << rng.below(7);
        }
        1 => {
            let i = rng.below(b.len());
            b[i] = B64URL[rng.below(64)];
        }
        2 => {
            let i = rng.below(b.len() + 1);
            b.insert(i, B64URL[rng.below(64)]);
        }
        3 => {
            let i = rng.below(b.len());
            b.remove(i);
        }
        4 => {
            // Swap two segments.
            let mut parts: Vec<&str> = token.split('.').collect();
            let (x, y) = (rng.below(parts.len()), rng.below(parts.len()));
            parts.swap(x, y);
            return parts.join(".");
        }
        _ => {
            // The last character of a segment: non-canonical trailing bits live there.
            let ends: Vec<usize> = (0..b.len())
                .filter(|&i| i + 1 == b.len() || b[i + 1] == b'.')
                .filter(|&i| b[i] != b'.')
                .collect();
            let i = ends[rng.below(ends.len())];
            b[i] = B64URL[rng.below(64)];
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn es256_agrees_with_jwt_compact() {
    differential(&Es::new(), 3000);
}

#[test]
fn eddsa_agrees_with_jwt_compact() {
    differential(&Ed::new(), 3000);
}

#[test]
fn rs256_agrees_with_jwt_compact() {
    differential(&Rs::new(), 1000);
}

#[test]
fn ps256_agrees_with_jwt_compact() {
    differential(&Ps::new(), 1000);
}

#[test]
fn hs256_agrees_with_jwt_compact() {
    differential(&hs(), 5000);
}

/// Where the two part ways on purpose (README, dependency notes): a payload with a duplicated
/// member is a claims set jwt-compact reads one way (the last value wins) and jwtgate refuses.
#[test]
fn duplicate_members_are_where_jwt_compact_is_lax() {
    let key = jwk("hs64", "private");
    let kid = key["kid"].as_str().unwrap();
    let token = forge_raw(
        &format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#),
        &format!(
            r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"user_1","sub":"admin","iat":{NOW},"exp":{}}}"#,
            NOW + 600
        ),
        &key,
        jwtgate::Algorithm::HS256,
    );
    let seen = hs().compact_verify(&token).expect("jwt-compact accepts it");
    assert_eq!(seen["sub"], "admin");
    let (_, v) = parties("HS256", "hs64");
    assert_eq!(outcome(&v, &token, NOW), "malformed");
}
