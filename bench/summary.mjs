// The bench's last word: every row of the speed-and-size table (issue 13) from this run's JSON
// files, each as measured now, its target, and whether it is met. Reads the files scripts/bench.sh
// has the benches write into BENCH_OUT (default target/bench): verify.json, startup.json,
// workerd.json, gate.json, sizes.json. A missing file leaves its rows "not measured".
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.BENCH_OUT ?? "target/bench";
const read = (name) => {
  const f = join(dir, name);
  return existsSync(f) ? JSON.parse(readFileSync(f, "utf8")) : undefined;
};
const verify = read("verify.json");
const startup = read("startup.json");
const wd = read("workerd.json");
const gate = read("gate.json");
const sizes = read("sizes.json");

const rows = [];
/** `values`: the measured figures (undefined when not measured); `ok(v)` per figure. */
function row(what, values, format, target, ok) {
  const known = values.filter((v) => v !== undefined && Number.isFinite(v));
  const shown = values.length && known.length === values.length ? values.map(format).join(" / ") : "not measured";
  const measured = known.length === values.length && values.length > 0;
  const met = !ok ? "" : measured ? (known.every(ok) ? "met" : "missed") : "—";
  rows.push([what, shown, target, met]);
}
const x = (v) => `${v.toFixed(2)}×`;
const ratio = (r, a, b) => (r && r[a] && r[b] ? r[a] / r[b] : undefined);
const v = verify?.results ?? {};
const cold = (alg) => ratio(v[alg], "jwtgate cold", "fast-jwt cold");

row("Node cold HS256 vs fast-jwt", [cold("HS256")], x, "≥ 1.0×", (r) => r >= 1.0);
row("Node cold RS256 vs fast-jwt", [cold("RS256")], x, "≥ 1.0×", (r) => r >= 1.0);
row("Node cold ES256 / EdDSA vs fast-jwt", [cold("ES256"), cold("EdDSA")], x, "≥ 1.1×", (r) => r >= 1.1);
const w = wd?.results ?? {};
row(
  "workerd verifyAsync vs jose, RS256/ES256/EdDSA",
  ["RS256", "ES256", "EdDSA"].map((a) => ratio(w[a], "jwtgate verifyAsync", "jose (awaited)")),
  x,
  "≥ 1.0×",
  (r) => r >= 1.0,
);
row(
  "Node, 32 in flight vs jose 32 in flight (RS256/ES256/EdDSA)",
  ["RS256", "ES256", "EdDSA"].map((a) => ratio(v[a], "jwtgate verifyAsync (32 in flight)", "jose cold (32 in flight)")),
  x,
  "≥ 1.2×",
  (r) => r >= 1.2,
);
const kb = (b) => `${(b / 1000).toFixed(0)} KB`;
row("npm wasm, every algorithm, gzip -9", [sizes?.["pkg/node/jwtgate_bg.wasm"]?.gzip], kb, "≤ 100 KB", (b) => b <= 100e3);
row("npm wasm, HS only, gzip -9", [sizes?.["target/pkg-hs-only/jwtgate_bg.wasm"]?.gzip], kb, "≤ 40 KB", (b) => b <= 40e3);
const ms = (t) => `${t.toFixed(1)} ms`;
row(
  `Node ${startup?.node ?? ""} require() + first verify (HS256 / ES256)`.replace("  ", " "),
  ["HS256", "ES256"].map((a) => (startup?.[a] ? startup[a].require + startup[a].firstVerify : undefined)),
  ms,
  "≤ 5 ms",
  (t) => t <= 5,
);
const g = gate?.results ?? {};
const us = (t) => `${(t / 1000).toFixed(2)} ms`;
row(
  "gate, added latency at 1 connection, p50 (ES256 / HS256)",
  [g["gate ES256"]?.added_1, g["gate HS256"]?.added_1],
  us,
  "≤ 0.2 ms over a pass-through Worker",
  (t) => t <= 200,
);
row(
  "gate, added latency at 4 connections, p50 (ES256 / HS256)",
  [g["gate ES256"]?.added_4, g["gate HS256"]?.added_4],
  us,
  "(measured; no target)",
  undefined,
);
row(
  "gate, added CPU per request (ES256 / HS256)",
  [g["gate ES256"]?.added_cpu_us, g["gate HS256"]?.added_cpu_us],
  us,
  "(measured; no target)",
  undefined,
);
row(
  "gate, throughput at saturation (ES256 / HS256)",
  [g["gate ES256"]?.rps_ratio, g["gate HS256"]?.rps_ratio].map((r) => (r === undefined ? r : r * 100)),
  (p) => `${p.toFixed(0)}%`,
  "≥ 90% of pass-through",
  (p) => p >= 90,
);

console.log("| | now | target | |");
console.log("|---|---|---|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
