// Verify throughput: jwtgate (the npm package in pkg/) against jose and fast-jwt, measured
// interleaved in one process. Run by scripts/bench.sh (`npm run bench`), which builds pkg/ first.
//
// Every contender checks the same things: signature with a pinned algorithm, iss, aud, exp, nbf.
// Keys are imported once. Tokens are signed by jose.
//
//   cold: a different token on every call (a pool of 16 × jwtgate's cache size, cycled: its
//         cache misses, bar the few tokens an admission-table collision lets in; fast-jwt runs
//         without its cache).
//   "cold, cacheSize 0": jwtgate with its cache off.
//   "cold, pure Rust": jwtgate/pure (pkg/pure, which carries jwtgate's own RSA, ECDSA and Ed25519
//         code) with `nativeCrypto: false`, i.e. what browsers and edge runtimes get (HS256 is
//         always checked in Rust, so it has no such row; the Node build has no such code at all).
//   "verifyAsync (32 in flight)": jwtgate's async entry with 32 calls outstanding, against jose
//         with 32 in flight (which uses libuv's thread pool, i.e. the second core).
//   warm: the same 16 tokens again and again (the normal case at a gate): jwtgate and fast-jwt
//         with their caches on (fast-jwt keyed by its default token hash); jose has no cache.
//
// Each cell is the median of ROUNDS rounds; a round runs every contender for SLICE_MS in turn, so
// drift in machine speed hits all of them alike. Environment: ROUNDS (default 7), SLICE_MS (300),
// ALGS (comma-separated, default HS256,RS256,ES256,EdDSA), JSON=path to also write the results.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { readFileSync, writeFileSync } from "node:fs";
import { createSecretKey } from "node:crypto";
import * as jose from "jose";
import { AUD, ISS, keys, median, tokens } from "./common.mjs";
import { createVerifier } from "fast-jwt";

const require = createRequire(import.meta.url);
const pkgDir = fileURLToPath(new URL("../pkg/", import.meta.url));
const jwtgate = require(pkgDir);
const web = await import(new URL("../pkg/pure/index.js", import.meta.url));
web.initSync({ module: readFileSync(new URL("../pkg/pure/jwtgate_bg.wasm", import.meta.url)) });

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const SLICE_MS = Number(process.env.SLICE_MS ?? 300);
const ALGS = (process.env.ALGS ?? "HS256,RS256,ES256,EdDSA").split(",");
const CACHE = 1024; // jwtgate cache entries
// The cold pool: 16 × CACHE distinct tokens, cycled. jwtgate's cache admits a token on its second
// sight within about CACHE misses, which a cycle of 16 × CACHE never gives; a collision in its
// admission table (1 in 16) admits one early, so at most 1 call in 16 can hit: near enough to
// "every token new", the case the cold rows are for.
const POOL = 16 * CACHE;

// Each slice starts from a collected heap (run with --expose-gc, as scripts/bench.sh does): the
// garbage one contender leaves is not collected in the next one's slice.
const collect = () => globalThis.gc?.();

/** Runs `fn(i)` (sync) for SLICE_MS; returns ops/s. */
function runSync(fn) {
  collect();
  const end = performance.now() + SLICE_MS;
  let n = 0;
  let t;
  do {
    for (let j = 0; j < 64; j++) fn(n++);
  } while ((t = performance.now()) < end);
  return n / ((t - end + SLICE_MS) / 1000);
}

/** Runs `fn(i)` (async) with `inFlight` calls outstanding for SLICE_MS; returns ops/s. */
async function runAsync(fn, inFlight) {
  collect();
  const start = performance.now();
  const end = start + SLICE_MS;
  let n = 0;
  const lane = async () => {
    while (performance.now() < end) await fn(n++);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return n / ((performance.now() - start) / 1000);
}


async function benchAlg(alg) {
  const k = keys(alg);
  const pool = await tokens(alg, k, POOL);
  const hot = pool.slice(0, 16);
  const policy = { issuer: ISS, audience: AUD, algorithms: [alg], keys: { keys: [k.jwk] }, leewaySeconds: 0 };
  const gateCold = new jwtgate.Verifier(policy, { cacheSize: CACHE });
  const gateNoCache = new jwtgate.Verifier(policy, { cacheSize: 0 });
  const gateWarm = new jwtgate.Verifier(policy, { cacheSize: CACHE });
  // What browsers and edge runtimes get: jwtgate's own Rust signature code (no node:crypto).
  const gatePure = new web.Verifier(policy, { cacheSize: CACHE, nativeCrypto: false });
  const fastOpts = { key: k.pem, algorithms: [alg], allowedIss: ISS, allowedAud: AUD };
  const fastCold = createVerifier({ ...fastOpts, cache: false });
  const fastWarm = createVerifier({ ...fastOpts, cache: CACHE });
  const joseKey = alg === "HS256" ? createSecretKey(k.verify) : k.verify;
  const joseOpts = { issuer: ISS, audience: AUD, algorithms: [alg] };

  // Sanity: every contender accepts the tokens and refuses a tampered one.
  const bad = pool[0].slice(0, -3) + (pool[0].endsWith("AAA") ? "BBB" : "AAA");
  for (const [name, ok, refuse] of [
    ["jwtgate", () => gateCold.verify(pool[1]).sub, () => gateCold.verify(bad)],
    ["jwtgate (pure Rust)", () => gatePure.verify(pool[1]).sub, () => gatePure.verify(bad)],
    ["fast-jwt", () => fastCold(pool[1]).sub, () => fastCold(bad)],
  ]) {
    if (ok() !== "user-1") throw new Error(`${name} did not verify a good ${alg} token`);
    let refused = false;
    try {
      refuse();
    } catch {
      refused = true;
    }
    if (!refused) throw new Error(`${name} accepted a tampered ${alg} token`);
  }
  if ((await jose.jwtVerify(pool[1], joseKey, joseOpts)).payload.sub !== "user-1") throw new Error("jose");

  let c = 0;
  const contenders = {
    "jwtgate cold": () => runSync(() => gateCold.verify(pool[c++ % POOL])),
    "jwtgate cold, cacheSize 0": () => runSync(() => gateNoCache.verify(pool[c++ % POOL])),
    ...(alg === "HS256" ? {} : { "jwtgate cold, pure Rust": () => runSync(() => gatePure.verify(pool[c++ % POOL])) }),
    "fast-jwt cold": () => runSync(() => fastCold(pool[c++ % POOL])),
    ...(alg === "HS256"
      ? {}
      : { "jwtgate verifyAsync (32 in flight)": () => runAsync(() => gateCold.verifyAsync(pool[c++ % POOL]), 32) }),
    "jose cold (awaited)": () => runAsync(() => jose.jwtVerify(pool[c++ % POOL], joseKey, joseOpts), 1),
    "jose cold (32 in flight)": () => runAsync(() => jose.jwtVerify(pool[c++ % POOL], joseKey, joseOpts), 32),
    "jwtgate warm": () => runSync(() => gateWarm.verify(hot[c++ & 15])),
    "fast-jwt warm": () => runSync(() => fastWarm(hot[c++ & 15])),
  };
  const samples = Object.fromEntries(Object.keys(contenders).map((n) => [n, []]));
  for (const name of Object.keys(contenders)) await contenders[name](); // warm-up (JIT, caches)
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, run] of Object.entries(contenders)) samples[name].push(await run());
  }
  return Object.fromEntries(Object.entries(samples).map(([n, xs]) => [n, median(xs)]));
}

const fmt = (x) => (x >= 1e5 ? `${(x / 1e3).toFixed(0)} k` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));
const results = {};
console.log(`node ${process.version}, ${ROUNDS} rounds × ${SLICE_MS} ms, median ops/s; one process, interleaved`);
for (const alg of ALGS) {
  results[alg] = await benchAlg(alg);
  const r = results[alg];
  console.log(`\n${alg}`);
  for (const [name, ops] of Object.entries(r)) {
    const base = name.endsWith("warm") ? r["fast-jwt warm"] : r["fast-jwt cold"];
    console.log(
      `  ${name.padEnd(26)} ${fmt(ops).padStart(8)} ops/s  ` +
        `${(ops / base).toFixed(2)}× fast-jwt  ${(ops / r["jose cold (awaited)"]).toFixed(2)}× jose(awaited)  ` +
        `${(ops / r["jose cold (32 in flight)"]).toFixed(2)}× jose(32)  ${(1e6 / ops).toFixed(2)} µs/op`,
    );
  }
}
if (process.env.JSON) writeFileSync(process.env.JSON, JSON.stringify({ node: process.version, results }, null, 2));
