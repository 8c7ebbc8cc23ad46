// The edge gate's cost as an operator reads it (a benchmark, not a test): the built Worker and a
// pass-through Worker (the same fetch to the same upstream, nothing else), each in its own
// workerd process (Miniflare 4), in front of one upstream on 127.0.0.1, measured interleaved in
// one run:
//
//   latency at 1 and at 4 connections: keep-alive clients sending one request after another,
//     each request timed in µs; the added latency is p50(gate) − p50(pass-through);
//   CPU per request: the workerd process's user + system time (/proc/<pid>/stat) over the
//     requests of those runs, gate minus pass-through;
//   throughput at saturation: autocannon with LOAD_CONNECTIONS (default 16) connections, req/s
//     as a ratio to the pass-through's (on 2 cores this shares the machine with the load
//     generator and the upstream: it says how much of the machine the gate takes, not its latency);
//   wrong answers: a valid token not 200, an invalid one not 401 (any is a failure: exit 1).
//
// Environment: ROUNDS (default 3), SLICE_MS (per contender and round, default 1500),
// LOAD_SECONDS (default 3), LOAD_CONNECTIONS (16), JSON_GATE=path to also write the results.
// Run: bash scripts/build-worker.sh && node_modules/.bin/node bench/gate.mjs (scripts/bench.sh does).
import http from "node:http";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import autocannon from "autocannon";
import * as jose from "jose";
import { gateWorker, workerd } from "../scripts/workerd.mjs";
import { median } from "./common.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SLICE_MS = Number(process.env.SLICE_MS ?? 1500);
const LOAD_SECONDS = Number(process.env.LOAD_SECONDS ?? 3);
const LOAD_CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 16);

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
  new jose.SignJWT({ sub: "load", scope: "orders:read" })
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

/** The pids of every process descending from this one. */
function descendants() {
  const parent = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out = new Set();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!out.has(pid) && (ppid === process.pid || out.has(ppid))) {
        out.add(pid);
        grew = true;
      }
    }
  }
  return out;
}

/** utime + stime of `pids`, in seconds. */
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]); // fields 14 and 15 of proc(5)
    } catch {
      // gone
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** Starts a Miniflare instance and returns it with its URL and the pids it added. */
async function start(make) {
  const before = descendants();
  const mf = make();
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const pids = [...descendants()].filter((p) => !before.has(p));
  return { mf, url, pids };
}

const quiet = {
  // One log line per rejection is the gate's job; the bench does not print them.
  handleRuntimeStdio(stdout, stderr) {
    stdout.resume();
    stderr.resume();
  },
};
const gate = await start(() =>
  gateWorker(
    {
      UPSTREAM_URL: upstreamUrl,
      JWTGATE_POLICY: JSON.stringify({ ...policy, keys: { keys: [pub] } }),
      JWTGATE_KEYS: JSON.stringify({ keys: [{ kty: "oct", kid: "hs-1", k: Buffer.from(secret).toString("base64url") }] }),
      JWTGATE_PUBLIC_PATHS: "/public",
    },
    quiet,
  ),
);
const pass = await start(() =>
  workerd({
    modules: true,
    script: `export default { fetch(req, env) {
      const u = new URL(req.url);
      return fetch(env.UPSTREAM_URL + u.pathname + u.search, req);
    } };`,
    bindings: { UPSTREAM_URL: upstreamUrl },
  }),
);

const contenders = [
  { name: "pass-through", target: pass, headers: {}, expected: 200 },
  { name: "gate ES256", target: gate, headers: { authorization: `Bearer ${tokens.ES256}` }, expected: 200 },
  { name: "gate HS256", target: gate, headers: { authorization: `Bearer ${tokens.HS256}` }, expected: 200 },
  { name: "gate, invalid token", target: gate, headers: { authorization: "Bearer a.b.c" }, expected: 401 },
  // No token to verify: the gate's cost outside verification (the Rust Worker, the plan, the
  // forward with its header copy).
  { name: "gate, public path", target: gate, headers: {}, expected: 200, path: "/public/orders?page=1" },
];

/** `connections` keep-alive clients, one request after another, for SLICE_MS: µs per request. */
async function closedLoop(c, connections) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const url = new URL(c.target.url + (c.path ?? "/orders?page=1"));
  const times = [];
  let wrong = 0;
  const end = performance.now() + SLICE_MS;
  const one = () =>
    new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const req = http.request(url, { agent, headers: c.headers }, (res) => {
        res.resume();
        res.on("end", () => {
          times.push(Number(process.hrtime.bigint() - t0) / 1e3);
          if (res.statusCode !== c.expected) wrong++;
          resolve();
        });
      });
      req.on("error", reject);
      req.end();
    });
  const lane = async () => {
    while (performance.now() < end) await one();
  };
  const cpu0 = cpuSeconds(c.target.pids);
  await Promise.all(Array.from({ length: connections }, lane));
  const cpu = cpuSeconds(c.target.pids) - cpu0;
  agent.destroy();
  return { times, wrong, cpu };
}

async function saturate(c) {
  let wrong = 0;
  const r = await autocannon({
    url: c.target.url + (c.path ?? "/orders?page=1"),
    connections: LOAD_CONNECTIONS,
    duration: LOAD_SECONDS,
    headers: c.headers,
    setupClient(client) {
      client.on("response", (status) => {
        if (status !== c.expected) wrong++;
      });
    },
  });
  return { rps: r.requests.average, wrong: wrong + r.errors + r.timeouts };
}

const acc = new Map(contenders.map((c) => [c.name, { lat1: [], lat4: [], cpu: 0, requests: 0, rps: [], wrong: 0 }]));
for (const c of contenders) await closedLoop(c, 1); // warm-up: JIT, key import, connections
for (let round = 0; round < ROUNDS; round++) {
  for (const c of contenders) {
    const a = acc.get(c.name);
    for (const [n, into] of [
      [1, a.lat1],
      [4, a.lat4],
    ]) {
      const r = await closedLoop(c, n);
      into.push(...r.times);
      a.cpu += r.cpu;
      a.requests += r.times.length;
      a.wrong += r.wrong;
    }
  }
}
for (let round = 0; round < 2; round++) {
  for (const c of contenders) {
    const r = await saturate(c);
    acc.get(c.name).rps.push(r.rps);
    acc.get(c.name).wrong += r.wrong;
  }
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
};
const base = acc.get("pass-through");
const baseCpu = (base.cpu / base.requests) * 1e6;
const results = {};
console.log(
  `gate vs pass-through Worker: ${ROUNDS} interleaved rounds × ${SLICE_MS} ms per contender and concurrency, ` +
    `then ${LOAD_CONNECTIONS} connections × ${LOAD_SECONDS} s (2 rounds); loopback, ${process.version}`,
);
console.log("| run | p50 µs, 1 conn | added | p50 µs, 4 conn | added | p99 µs, 1 conn | CPU µs/req | added | req/s at saturation | × pass-through | wrong |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
let bad = 0;
for (const [name, a] of acc) {
  const p1 = pct(a.lat1, 0.5);
  const p4 = pct(a.lat4, 0.5);
  const cpu = (a.cpu / a.requests) * 1e6;
  const rps = median(a.rps);
  const row = {
    p50_1: p1,
    added_1: p1 - pct(base.lat1, 0.5),
    p50_4: p4,
    added_4: p4 - pct(base.lat4, 0.5),
    p99_1: pct(a.lat1, 0.99),
    cpu_us: cpu,
    added_cpu_us: cpu - baseCpu,
    rps,
    rps_ratio: rps / median(base.rps),
    wrong: a.wrong,
  };
  results[name] = row;
  const d = (x) => (a === base ? "—" : `${x >= 0 ? "+" : ""}${x.toFixed(0)}`);
  console.log(
    `| ${name} | ${p1.toFixed(0)} | ${d(row.added_1)} | ${p4.toFixed(0)} | ${d(row.added_4)} | ${row.p99_1.toFixed(0)} | ` +
      `${cpu.toFixed(0)} | ${d(row.added_cpu_us)} | ${Math.round(rps)} | ${row.rps_ratio.toFixed(2)} | ${a.wrong} |`,
  );
  bad += a.wrong;
}
if (process.env.JSON_GATE) writeFileSync(process.env.JSON_GATE, JSON.stringify({ node: process.version, results }, null, 2));
await gate.mf.dispose();
await pass.mf.dispose();
upstream.close();
process.exit(bad === 0 ? 0 : 1);
