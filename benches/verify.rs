//! Criterion benches for the native core: `Verifier::verify` (a different token on every call,
//! so nothing is cached), the claim rules alone, and `Signer::sign`, per algorithm.
//!
//! `cargo bench --bench verify` (or `scripts/bench.sh`, which also runs the Node comparison).
//! These are native x86_64 figures: the wasm builds are measured by `bench/verify.mjs`.

//! (criterion is a native-only dev-dependency: under `--target wasm32-unknown-unknown` this
//! file builds to an empty program.)

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
    use jwtgate::{Policy, Signer, SignerOptions, Verifier};
    use serde_json::{json, Value};
    use std::hint::black_box;

    const NOW: i64 = 1_800_000_000;
    const POOL: usize = 64;

    fn fixture(name: &str, part: &str) -> Value {
        let all: Value = serde_json::from_str(include_str!("../tests/fixtures/keys.json")).unwrap();
        let entry = &all[name];
        if entry.get("kty").is_some() {
            entry.clone()
        } else {
            entry[part].clone()
        }
    }

    fn policy(alg: &str, key: Value) -> Policy {
        Policy::from_value(&json!({
            "issuer": "https://issuer.example.com",
            "audience": "bench-api",
            "algorithms": [alg],
            "keys": { "keys": [key] },
            "requiredClaims": ["sub"],
        }))
        .expect("policy")
    }

    const CASES: [(&str, &str); 4] = [
        ("HS256", "hs64"),
        ("RS256", "rsa"),
        ("ES256", "ec"),
        ("EdDSA", "ed"),
    ];

    fn verify(c: &mut Criterion) {
        let mut group = c.benchmark_group("verify");
        group.throughput(Throughput::Elements(1));
        for (alg, key) in CASES {
            let signer = Signer::new(
                policy(alg, fixture(key, "private")),
                SignerOptions::default(),
            )
            .expect("signer");
            let verifier = Verifier::new(policy(alg, fixture(key, "public"))).expect("verifier");
            let tokens: Vec<String> = (0..POOL)
                .map(|i| {
                    let claims = json!({"sub": format!("user-{i}"), "scope": "read write"});
                    let Value::Object(claims) = claims else {
                        unreachable!()
                    };
                    signer.sign(claims, NOW).expect("sign")
                })
                .collect();
            let mut i = 0;
            group.bench_function(BenchmarkId::new("cold", alg), |b| {
                b.iter(|| {
                    i = (i + 1) % POOL;
                    black_box(verifier.verify(black_box(&tokens[i]), NOW).expect("valid"))
                })
            });
            if alg == "HS256" {
                let claims = verifier.verify(&tokens[0], NOW).unwrap().claims;
                group.bench_function("claims only", |b| {
                    b.iter(|| {
                        verifier
                            .check_claims(black_box(&claims), NOW)
                            .expect("valid")
                    })
                });
            }
        }
        group.finish();
    }

    fn sign(c: &mut Criterion) {
        let mut group = c.benchmark_group("sign");
        for (alg, key) in CASES {
            let signer = Signer::new(
                policy(alg, fixture(key, "private")),
                SignerOptions::default(),
            )
            .expect("signer");
            let Value::Object(claims) = json!({"sub": "user-1", "scope": "read write"}) else {
                unreachable!()
            };
            group.bench_function(alg, |b| {
                b.iter(|| black_box(signer.sign(black_box(claims.clone()), NOW).expect("sign")))
            });
        }
        group.finish();
    }

    criterion_group!(benches, verify, sign);
}
