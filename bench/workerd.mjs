// Verify throughput inside workerd (Miniflare 4), one Worker, interleaved: jwtgate's ES module
// entry with its own arithmetic, jwtgate/pure (`verify`: pure Rust signatures; `verifyAsync`:
// signatures through WebCrypto, the path the web build's deferred keys take too), jwtgate
// with node:crypto as host crypto (`nodejs_compat`), and jose (WebCrypto) awaited one at a time
// and 32 in flight. Same checks as bench/verify.mjs: pinned alg,
// iss, aud, exp, nbf; keys imported once; a different token on every call (cold, jwtgate's
// cache off).
//
// workerd's clocks stand still while a request computes, so each request runs a fixed number of
// verifications and the time is taken outside, in Node, per request; an empty request's
// round trip is subtracted. Median of ROUNDS rounds. Needs Node >= 22 (Miniflare):
//   bash scripts/build-pkg.sh && node_modules/.bin/node bench/workerd.mjs
// Environment: ROUNDS (default 7), BATCH_MS (target time per request, default 150), ALGS.
import { fileURLToPath } from "node:url";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { workerd } from "../scripts/workerd.mjs";
import { AUD, ISS, keys, median, tokens } from "./common.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const BATCH_MS = Number(process.env.BATCH_MS ?? 150);
const ALGS = (process.env.ALGS ?? "HS256,RS256,ES256,EdDSA").split(",");
const POOL = 2048;
const root = fileURLToPath(new URL("../", import.meta.url));

const workerSource = `
import * as jose from "jose";
import { initSync, Verifier, setHostCrypto } from "./pkg/pure/index.js";
import wasm from "./pkg/pure/jwtgate_bg.wasm";
import { nodeCryptoHost } from "./pkg/host/node-crypto.cjs";
import * as nodeCrypto from "node:crypto";

initSync({ module: wasm });
let state;
const opts = { issuer: ${JSON.stringify(ISS)}, audience: ${JSON.stringify(AUD)} };

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/setup") {
      const { alg, jwk, tokens } = await request.json();
      const policy = { ...opts, algorithms: [alg], keys: { keys: [jwk] }, leewaySeconds: 0 };
      setHostCrypto(null);
      // No cache: every call here is a different token, and this measures verification.
      const pure = new Verifier(policy, { cacheSize: 0 });
      setHostCrypto(nodeCryptoHost(nodeCrypto));
      const native = new Verifier(policy, { cacheSize: 0 });
      const joseKey = await jose.importJWK(jwk, alg);
      state = { alg, tokens, pure, native, joseKey, i: 0 };
      // Sanity: every contender accepts a good token and refuses a tampered one.
      const t = tokens[1];
      const bad = t.slice(0, -3) + (t.endsWith("AAA") ? "BBB" : "AAA");
      const out = { nativeCrypto: native.nativeCrypto };
      for (const [name, v] of [["pure", pure], ["native", native]]) {
        out[name] = v.verify(t).sub;
        try { v.verify(bad); out[name] += " ACCEPTED TAMPERED"; } catch {}
      }
      out.async = (await pure.verifyAsync(t)).sub;
      try { await pure.verifyAsync(bad); out.async += " ACCEPTED TAMPERED"; } catch {}
      out.jose = (await jose.jwtVerify(t, joseKey, { ...opts, algorithms: [alg] })).payload.sub;
      return Response.json(out);
    }
    const n = Number(url.searchParams.get("n"));
    const who = url.searchParams.get("who");
    const s = state;
    const next = () => s.tokens[s.i++ % s.tokens.length];
    const jo = { ...opts, algorithms: [s.alg] };
    if (who === "jwtgate") for (let k = 0; k < n; k++) s.pure.verify(next());
    else if (who === "jwtgate+node:crypto") for (let k = 0; k < n; k++) s.native.verify(next());
    else if (who === "jwtgate verifyAsync") for (let k = 0; k < n; k++) await s.pure.verifyAsync(next());
    else if (who === "jose (awaited)") for (let k = 0; k < n; k++) await jose.jwtVerify(next(), s.joseKey, jo);
    else if (who === "jose (32 in flight)") {
      let left = n;
      const lane = async () => { while (left-- > 0) await jose.jwtVerify(next(), s.joseKey, jo); };
      await Promise.all(Array.from({ length: 32 }, lane));
    }
    return new Response("ok");
  },
};
`;

const dir = mkdtempSync(join(tmpdir(), "jwtgate-workerd-bench-"));
await build({
  stdin: { contents: workerSource, resolveDir: root, loader: "js" },
  bundle: true,
  format: "esm",
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["module", "main"],
  external: ["node:*", "*.wasm"],
  outfile: join(dir, "worker.mjs"),
  logLevel: "error",
});
const mf = workerd({
  modules: [
    { type: "ESModule", path: join(dir, "worker.mjs") },
    // The bundle keeps `import wasm from "./pkg/pure/jwtgate_bg.wasm"`: serve it at that path.
    {
      type: "CompiledWasm",
      path: join(dir, "pkg/pure/jwtgate_bg.wasm"),
      contents: readFileSync(join(root, "pkg/pure/jwtgate_bg.wasm")),
    },
  ],
  modulesRoot: dir,
  compatibilityFlags: ["nodejs_compat"],
});
await mf.ready;

async function call(path) {
  const res = await mf.dispatchFetch(`http://bench${path}`);
  const body = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
  return body;
}

async function timed(who, n) {
  const t0 = performance.now();
  await call(`/run?who=${encodeURIComponent(who)}&n=${n}`);
  return performance.now() - t0;
}

const fmt = (x) => (x >= 1e5 ? `${(x / 1e3).toFixed(0)} k` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));
const WHO = ["jwtgate", "jwtgate verifyAsync", "jwtgate+node:crypto", "jose (awaited)", "jose (32 in flight)"];

console.log(`workerd via Miniflare, ${ROUNDS} rounds, median ops/s, a different token on every call`);
const results = {};
for (const alg of ALGS) {
  const k = keys(alg);
  const pool = await tokens(alg, k, POOL);
  const setup = await mf.dispatchFetch("http://bench/setup", {
    method: "POST",
    body: JSON.stringify({ alg, jwk: k.jwk, tokens: pool }),
  });
  const sanity = await setup.json();
  if (["pure", "native", "async", "jose"].some((k) => sanity[k] !== "user-1")) {
    throw new Error(`${alg}: sanity check failed: ${JSON.stringify(sanity)}`);
  }
  // Calibrate a batch size per contender (≈ BATCH_MS per request) and the empty round trip.
  const roundTrips = [];
  for (let i = 0; i < 9; i++) roundTrips.push(await timed("none", 0));
  const empty = median(roundTrips);
  const batch = {};
  for (const who of WHO) {
    const ms = (await timed(who, 200)) - empty;
    batch[who] = Math.max(200, Math.round((200 * BATCH_MS) / Math.max(ms, 0.01)));
  }
  const samples = Object.fromEntries(WHO.map((w) => [w, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const who of WHO) {
      const ms = (await timed(who, batch[who])) - empty;
      samples[who].push((batch[who] * 1000) / ms);
    }
  }
  const ops = Object.fromEntries(WHO.map((w) => [w, median(samples[w])]));
  results[alg] = ops;
  console.log(`\n${alg}  (host crypto active: ${sanity.nativeCrypto})`);
  for (const who of WHO) {
    console.log(
      `  ${who.padEnd(22)} ${fmt(ops[who]).padStart(8)} ops/s  ${(ops[who] / ops["jose (awaited)"]).toFixed(2)}× jose(awaited)  ` +
        `${(ops[who] / ops["jose (32 in flight)"]).toFixed(2)}× jose(32)  ${(1e6 / ops[who]).toFixed(1)} µs/op`,
    );
  }
}
if (process.env.JSON_WORKERD) writeFileSync(process.env.JSON_WORKERD, JSON.stringify({ node: process.version, results }, null, 2));
await mf.dispose();
rmSync(dir, { recursive: true, force: true });
