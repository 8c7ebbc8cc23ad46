// The bench's last word: every row of the speed-and-size table (issue 13) from this run's JSON
// files, each as measured now, its target, and whether it is met; then the per-bench tables.
// Reads the files scripts/bench.sh has the benches write into BENCH_OUT (default target/bench):
// verify.json, startup.json, workerd.json, gate.json, sizes.json, machine.json. A missing file
// leaves its rows "not measured". With WRITE_DOC=docs/performance.md it also replaces that
// file's generated part (between the `bench:begin` and `bench:end` markers) with this report:
// the figures in the docs come from one run, never by hand.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
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
const off = (alg) => ratio(v[alg], "jwtgate cold, cacheSize 0", "fast-jwt cold");

// Each: with the default cache (every token new) / with `cacheSize: 0`.
row("Node cold HS256 vs fast-jwt (default / cacheSize 0)", [cold("HS256"), off("HS256")], x, "≥ 1.2×", (r) => r >= 1.2);
row("Node cold RS256 vs fast-jwt (default / cacheSize 0)", [cold("RS256"), off("RS256")], x, "≥ 1.0×", (r) => r >= 1.0);
row("Node cold ES256 vs fast-jwt (default / cacheSize 0)", [cold("ES256"), off("ES256")], x, "≥ 1.1×", (r) => r >= 1.1);
row("Node cold EdDSA vs fast-jwt (default / cacheSize 0)", [cold("EdDSA"), off("EdDSA")], x, "≥ 1.2×", (r) => r >= 1.2);
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
// The Node and web builds have every algorithm with node:crypto or WebCrypto doing the
// RSA/EC/Ed25519 and AES arithmetic (cargo features host-keys, jwe-reader); jwtgate/pure carries
// it itself (RustCrypto), opt-in, and has no target.
row("npm wasm, every algorithm, gzip -9 (Node build / web build)", ["pkg/node", "pkg/web"].map((d) => sizes?.[`${d}/jwtgate_bg.wasm`]?.gzip), kb, "≤ 100 KB", (b) => b <= 100e3);
row("npm wasm, HS only, gzip -9", [sizes?.["target/pkg-hs-only/jwtgate_bg.wasm"]?.gzip], kb, "≤ 40 KB", (b) => b <= 40e3);
// The gate has no RSA/EC/Ed25519 or AES code either: WebCrypto and workerd's node:crypto do it.
row("gate Worker wasm, gzip -9", [sizes?.["build/index_bg.wasm"]?.gzip], kb, "≤ 150 KB", (b) => b <= 150e3);
const ms = (t) => `${t.toFixed(1)} ms`;
row(
  `Node ${startup?.node ?? ""} require() + first verify (HS256 / ES256)`.replace("  ", " "),
  ["HS256", "ES256"].map((a) => (startup?.[a] ? startup[a].require + startup[a].firstVerify : undefined)),
  ms,
  "≤ 5 ms",
  (t) => t <= 5,
);
const total = (t) => (t ? t.require + t.firstVerify : undefined);
row(
  "Node load + first verify vs jose's (HS256 / ES256)",
  ["HS256", "ES256"].map((a) => {
    const ours = total(startup?.[a]);
    const jose = total(startup?.peers?.[a]?.jose);
    return ours !== undefined && jose ? ours / jose : undefined;
  }),
  x,
  "≤ 0.25×",
  (r) => r <= 0.25,
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

const out = [];
const machine = read("machine.json");
if (machine) {
  out.push(
    `Measured ${machine.date} on ${machine.cpus} cores (${machine.arch}, ${machine.model}); Node ${machine.node}, ` +
      `workerd benches on Node ${wd?.node ?? gate?.node ?? "?"}; ${machine.rustc}.`,
    "",
  );
}
out.push("| target | this run | goal | |", "|---|---|---|---|");
for (const r of rows) out.push(`| ${r.join(" | ")} |`);

const f2 = (n) => (n === undefined ? "—" : `${n.toFixed(2)}×`);
const ops = (n) => (n === undefined ? "—" : n >= 1e5 ? `${(n / 1e3).toFixed(0)} k` : `${(n / 1e3).toFixed(1)} k`);
const algs = ["HS256", "RS256", "ES256", "EdDSA"];
if (verify) {
  out.push("", `**Node ${verify.node}** (\`bench/verify.mjs\`; cold: a different token each call):`, "");
  out.push(`| | ${algs.join(" | ")} |`, `|---|${algs.map(() => "---").join("|")}|`);
  const line = (what, f) => out.push(`| ${what} | ${algs.map((a) => (v[a] ? f(v[a]) : "—")).join(" | ")} |`);
  line("jwtgate cold, ops/s", (r) => ops(r["jwtgate cold"]));
  line("× fast-jwt (cold)", (r) => f2(ratio(r, "jwtgate cold", "fast-jwt cold")));
  line("× fast-jwt, `cacheSize: 0`", (r) => f2(ratio(r, "jwtgate cold, cacheSize 0", "fast-jwt cold")));
  line("× jose, awaited one at a time", (r) => f2(ratio(r, "jwtgate cold", "jose cold (awaited)")));
  line("verifyAsync, 32 in flight, × jose 32 in flight", (r) => f2(ratio(r, "jwtgate verifyAsync (32 in flight)", "jose cold (32 in flight)")));
  line("pure Rust (`nativeCrypto: false`) × fast-jwt", (r) => f2(ratio(r, "jwtgate cold, pure Rust", "fast-jwt cold")));
  line("warm: µs per hit, jwtgate (fast-jwt)", (r) =>
    r["jwtgate warm"] ? `${(1e6 / r["jwtgate warm"]).toFixed(2)} (${(1e6 / r["fast-jwt warm"]).toFixed(2)})` : "—");
}
if (wd) {
  out.push("", `**workerd** (\`bench/workerd.mjs\`, Miniflare; × jose awaited; jwtgate's cache off):`, "");
  out.push(`| | ${algs.join(" | ")} |`, `|---|${algs.map(() => "---").join("|")}|`);
  for (const [what, who] of [
    ["`verify` (pure Rust)", "jwtgate"],
    ["`verifyAsync` (WebCrypto)", "jwtgate verifyAsync"],
    ["`verify` + `node:crypto` host", "jwtgate+node:crypto"],
    ["jose, 32 in flight", "jose (32 in flight)"],
  ]) {
    out.push(`| ${what} | ${algs.map((a) => f2(ratio(w[a], who, "jose (awaited)"))).join(" | ")} |`);
  }
  out.push(`| jose awaited, ops/s | ${algs.map((a) => ops(w[a]?.["jose (awaited)"])).join(" | ")} |`);
}
if (gate) {
  out.push("", `**The edge gate** (\`bench/gate.mjs\`; against a pass-through Worker, loopback):`, "");
  out.push(
    "| | p50 µs, 1 conn (added) | p50 µs, 4 conn (added) | CPU µs per request (added) | × pass-through req/s at saturation |",
    "|---|---|---|---|---|",
  );
  const sign = (n) => `${n >= 0 ? "+" : ""}${n.toFixed(0)}`;
  for (const [name, r] of Object.entries(g)) {
    const base = name === "pass-through";
    out.push(
      `| ${name} | ${r.p50_1.toFixed(0)}${base ? "" : ` (${sign(r.added_1)})`} | ${r.p50_4.toFixed(0)}${base ? "" : ` (${sign(r.added_4)})`} | ` +
        `${r.cpu_us.toFixed(0)}${base ? "" : ` (${sign(r.added_cpu_us)})`} | ${r.rps_ratio.toFixed(2)} |`,
    );
  }
}
if (sizes || startup) {
  out.push("");
  if (sizes) {
    const z = (f) => (sizes[f] ? `${(sizes[f].raw / 1000).toFixed(0)} KB raw / ${(sizes[f].gzip / 1000).toFixed(0)} KB gzip` : "—");
    out.push(
      `Sizes (\`wasm-opt -Oz\`, gzip -9): npm package, every algorithm: Node build (node:crypto's arithmetic) ` +
        `${z("pkg/node/jwtgate_bg.wasm")}, web build (WebCrypto's) ${z("pkg/web/jwtgate_bg.wasm")}, ` +
        `jwtgate/pure (its own, opt-in) ${z("pkg/pure/jwtgate_bg.wasm")}; HS-only ` +
        `${z("target/pkg-hs-only/jwtgate_bg.wasm")}; the gate Worker ${z("build/index_bg.wasm")}.`,
    );
  }
  if (startup) {
    const st = (a) => `${startup[a].require.toFixed(1)} ms + ${startup[a].firstVerify.toFixed(1)} ms`;
    out.push(`Startup (Node ${startup.node}, fresh processes): \`require()\` + first \`Verifier\` and \`verify\`: HS256 ${st("HS256")}, ES256 ${st("ES256")}.`);
  }
}
console.log(out.join("\n"));

if (process.env.WRITE_DOC) {
  const doc = readFileSync(process.env.WRITE_DOC, "utf8");
  const begin = "<!-- bench:begin (generated by bench/summary.mjs: WRITE_DOC=docs/performance.md npm run bench) -->";
  const end = "<!-- bench:end -->";
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${process.env.WRITE_DOC}: no bench:begin/bench:end markers`);
  writeFileSync(process.env.WRITE_DOC, doc.slice(0, i + begin.length) + "\n" + out.join("\n") + "\n" + doc.slice(j));
  console.log(`(written into ${process.env.WRITE_DOC})`);
}
