// Load check for the edge gate (a benchmark, not a test): the built Worker and a pass-through
// Worker, both in workerd via Miniflare, in front of the same upstream on 127.0.0.1, driven by
// autocannon in the same process, interleaved. Reports requests/s, latency percentiles, the
// latency the gate adds, and any wrong answer (valid token not 200, invalid token not 401).
// Loopback only; every run is bounded (LOAD_SECONDS, default 5 s; LOAD_CONNECTIONS, default 16).
// Run: bash scripts/setup.sh && bash scripts/build-worker.sh && node_modules/.bin/node bench/gate-load.mjs
import http from "node:http";
import autocannon from "autocannon";
import * as jose from "jose";
import { gateWorker, workerd } from "../scripts/workerd.mjs";

const seconds = Number(process.env.LOAD_SECONDS ?? 5);
const connections = Number(process.env.LOAD_CONNECTIONS ?? 16);

const upstream = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => res.end('{"ok":true}'));
});
await new Promise((r) => upstream.listen(0, "127.0.0.1", r));
const upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;

const secret = crypto.getRandomValues(new Uint8Array(32));
const key = await jose.generateKeyPair("ES256", { extractable: true });
const pub = { ...(await jose.exportJWK(key.publicKey)), kid: "es-1" };
const policy = { issuer: "https://auth.example.com", audience: "orders-api", algorithms: ["ES256", "HS256"] };
const sign = (alg, k, kid) =>
  new jose.SignJWT({ sub: "load" })
    .setProtectedHeader({ alg, kid })
    .setIssuer(policy.issuer)
    .setAudience(policy.audience)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(k);
const tokens = {
  ES256: await sign("ES256", key.privateKey, "es-1"),
  HS256: await sign("HS256", secret, "hs-1"),
};

const gate = gateWorker(
  {
    UPSTREAM_URL: upstreamUrl,
    JWTGATE_POLICY: JSON.stringify({ ...policy, keys: { keys: [pub] } }),
    JWTGATE_KEYS: JSON.stringify({ keys: [{ kty: "oct", kid: "hs-1", k: Buffer.from(secret).toString("base64url") }] }),
  },
  {
    // One log line per rejection is the gate's job; the load check does not print them.
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.resume();
    },
  },
);
const passThrough = workerd({
  modules: true,
  script: `export default { fetch(req, env) {
    const u = new URL(req.url);
    return fetch(env.UPSTREAM_URL + u.pathname + u.search, req);
  } };`,
  bindings: { UPSTREAM_URL: upstreamUrl },
});
const gateUrl = (await gate.ready).toString().replace(/\/$/, "");
const passUrl = (await passThrough.ready).toString().replace(/\/$/, "");

async function run(name, url, headers, expected) {
  let wrong = 0;
  const result = await autocannon({
    url: url + "/orders?page=1",
    connections,
    duration: seconds,
    headers,
    setupClient(client) {
      client.on("response", (status) => {
        if (status !== expected) wrong++;
      });
    },
  });
  return { name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.mean, errors: result.errors + result.timeouts, wrong, total: result.requests.total };
}

const rows = [];
for (let round = 0; round < 2; round++) {
  rows.push(await run("pass-through", passUrl, {}, 200));
  rows.push(await run("gate ES256 (same token)", gateUrl, { authorization: `Bearer ${tokens.ES256}` }, 200));
  rows.push(await run("gate HS256 (same token)", gateUrl, { authorization: `Bearer ${tokens.HS256}` }, 200));
  rows.push(await run("gate invalid token", gateUrl, { authorization: "Bearer a.b.c" }, 401));
}

const byName = new Map();
for (const r of rows) {
  const agg = byName.get(r.name) ?? { name: r.name, rps: [], p50: [], p99: [], mean: [], errors: 0, wrong: 0, total: 0 };
  agg.rps.push(r.rps); agg.p50.push(r.p50); agg.p99.push(r.p99); agg.mean.push(r.mean);
  agg.errors += r.errors; agg.wrong += r.wrong; agg.total += r.total;
  byName.set(r.name, agg);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = byName.get("pass-through");
console.log(`gate load check: ${connections} connections, ${seconds} s per run, 2 interleaved rounds, loopback`);
console.log("| run | req/s | mean ms | p50 ms | p99 ms | added mean ms | requests | errors | wrong answers |");
console.log("|---|---|---|---|---|---|---|---|---|");
let bad = 0;
for (const a of byName.values()) {
  const added = a === base ? "—" : (median(a.mean) - median(base.mean)).toFixed(2);
  console.log(`| ${a.name} | ${Math.round(median(a.rps))} | ${median(a.mean).toFixed(2)} | ${median(a.p50)} | ${median(a.p99)} | ${added} | ${a.total} | ${a.errors} | ${a.wrong} |`);
  bad += a.errors + a.wrong;
}
await gate.dispose();
await passThrough.dispose();
upstream.close();
process.exit(bad === 0 ? 0 : 1);
