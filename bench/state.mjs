// What the gate's Durable Object (JwtgateState) costs per request (a benchmark, not a test):
// one gate in workerd (Miniflare 4) with DPoP allowed and refresh rotation on, in front of one
// upstream on 127.0.0.1, requests sent one after another on one keep-alive connection and timed
// in µs, the kinds interleaved round by round:
//
//   bearer          an HS256 token without sid: no store call (the baseline)
//   bearer + sid    the same with a sid: one family read (the per-request revocation check)
//   dpop            an HS256 token bound to an ES256 key with a fresh jose proof: the proof's
//                   checks and one replay-store write (proofs are made before the timing)
//   refresh         POST to the refresh endpoint: one family read+write and two signatures
//
// Each store call's added latency is p50(kind) − p50(bearer) in the same run. Miniflare runs
// the Durable Object in the same workerd process on this machine; on Cloudflare an object lives
// in one location, so a request from elsewhere adds the network round trip to it.
// Environment: ROUNDS (default 5), PER_ROUND (default 40), JSON_STATE=path for the figures.
// Run: bash scripts/build-worker.sh && node_modules/.bin/node bench/state.mjs
import http from "node:http";
import { writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import * as jose from "jose";
import { gateWorker } from "../scripts/workerd.mjs";
import { median } from "./common.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const PER_ROUND = Number(process.env.PER_ROUND ?? 40);

const upstream = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => res.end('{"ok":true}'));
});
await new Promise((r) => upstream.listen(0, "127.0.0.1", r));

const ISS = "https://auth.example.com";
const AUD = "orders-api";
const REFRESH_AUD = "https://auth.example.com/refresh";
const secret = crypto.getRandomValues(new Uint8Array(32));
const holder = await jose.generateKeyPair("ES256", { extractable: true });
const holderJwk = await jose.exportJWK(holder.publicKey);
const jkt = await jose.calculateJwkThumbprint(holderJwk);
const policy = {
  issuer: ISS,
  audience: AUD,
  algorithms: ["HS256"],
  maxAgeSeconds: 86400,
  dpop: { algorithms: ["ES256"] },
  refresh: { audience: REFRESH_AUD },
};
const mf = gateWorker(
  {
    UPSTREAM_URL: `http://127.0.0.1:${upstream.address().port}`,
    JWTGATE_POLICY: JSON.stringify(policy),
    JWTGATE_KEYS: JSON.stringify({ keys: [{ kty: "oct", kid: "hs-1", k: Buffer.from(secret).toString("base64url") }] }),
    JWTGATE_DPOP: "allowed",
    JWTGATE_REFRESH_PATH: "/.jwtgate/refresh",
  },
  {
    durableObjects: { JWTGATE_STATE: "JwtgateState" },
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.resume();
    },
  },
);
const base = (await mf.ready).toString().replace(/\/$/, "");
const { host } = new URL(base);

const sign = (claims, header = {}) =>
  new jose.SignJWT({ sub: "load", ...claims })
    .setProtectedHeader({ alg: "HS256", kid: "hs-1", ...header })
    .setIssuer(ISS)
    .setAudience(header.typ ? REFRESH_AUD : AUD)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(secret);
const plain = await sign({});
const withSid = await sign({ sid: "bench-session" });
const bound = await sign({ cnf: { jkt } });
const ath = createHash("sha256").update(bound).digest("base64url");
const proof = () =>
  new jose.SignJWT({ jti: crypto.randomUUID(), htm: "GET", htu: `${base}/orders`, iat: Math.floor(Date.now() / 1000), ath })
    .setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk: holderJwk })
    .sign(holder.privateKey);

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function send(method, path, headers) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(`${base}${path}`, { method, agent, headers: { host, ...headers } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode, us: Number(process.hrtime.bigint() - t0) / 1000, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

// Refresh tokens chain: each refresh hands the next one.
let refreshToken = await sign({ sid: crypto.randomUUID(), gen: 0, auth_time: Math.floor(Date.now() / 1000) }, { typ: "jwtgate-refresh+jwt" });
const kinds = {
  bearer: async () => send("GET", "/orders", { authorization: `Bearer ${plain}` }),
  "bearer + sid": async () => send("GET", "/orders", { authorization: `Bearer ${withSid}` }),
  dpop: async (p) => send("GET", "/orders", { authorization: `DPoP ${bound}`, dpop: p }),
  refresh: async () => {
    const r = await send("POST", "/.jwtgate/refresh", { cookie: `__Host-jwtgate-refresh=${refreshToken}` });
    const m = /__Host-jwtgate-refresh=([^;]*)/.exec(r.headers["set-cookie"]?.[0] ?? "");
    if (m) refreshToken = m[1];
    return r;
  },
};
const times = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
let wrong = 0;
for (const k of Object.keys(kinds)) for (let i = 0; i < 5; i++) await kinds[k](k === "dpop" ? await proof() : undefined); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(kinds)) {
    const proofs = name === "dpop" ? await Promise.all(Array.from({ length: PER_ROUND }, proof)) : [];
    for (let i = 0; i < PER_ROUND; i++) {
      const r = await run(proofs[i]);
      if (r.status !== 200) wrong++;
      times[name].push(r.us);
    }
  }
}
const p50 = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
console.log(`${"request".padEnd(14)} ${"p50 µs".padStart(9)} ${"added µs".padStart(9)}`);
for (const [k, v] of Object.entries(p50)) {
  console.log(`${k.padEnd(14)} ${v.toFixed(0).padStart(9)} ${(v - p50.bearer).toFixed(0).padStart(9)}`);
}
console.log(`(${ROUNDS} rounds × ${PER_ROUND} requests per kind, one connection; wrong answers: ${wrong})`);
if (process.env.JSON_STATE) writeFileSync(process.env.JSON_STATE, JSON.stringify({ p50, wrong }));
agent.destroy();
await mf.dispose();
upstream.close();
process.exitCode = wrong ? 1 : 0;
