// Startup cost of the npm package in Node: `require()` of the package (reads and compiles the
// wasm synchronously) and the first `Verifier` + `verify` (HS256 and ES256), each in a fresh
// process. Prints medians over RUNS (default 15) processes; JSON_STARTUP=path also writes them.
// Run by scripts/bench.sh.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const RUNS = Number(process.env.RUNS ?? 15);
const pkgDir = fileURLToPath(new URL("../pkg/", import.meta.url));

// The child: times require(), then builds a policy, signs a token (untimed), verifies it once.
const child = `
const { performance } = require("node:perf_hooks");
const crypto = require("node:crypto");
const alg = process.argv[1];
const t0 = performance.now();
const jwtgate = require(${JSON.stringify(pkgDir)});
const t1 = performance.now();
let signKey, verifyKey;
if (alg === "HS256") {
  signKey = verifyKey = { kty: "oct", kid: "k", k: crypto.randomBytes(32).toString("base64url") };
} else {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  signKey = { ...privateKey.export({ format: "jwk" }), kid: "k" };
  verifyKey = { ...publicKey.export({ format: "jwk" }), kid: "k" };
}
const base = { issuer: "https://i.example", audience: "api", algorithms: [alg] };
const token = new jwtgate.Signer({ ...base, keys: { keys: [signKey] } }).sign({ sub: "u" });
const t2 = performance.now();
const claims = new jwtgate.Verifier({ ...base, keys: { keys: [verifyKey] } }).verify(token);
const t3 = performance.now();
if (claims.sub !== "u") throw new Error("wrong answer");
process.stdout.write(JSON.stringify({ require: t1 - t0, firstVerify: t3 - t2 }));
`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = {};
for (const alg of ["HS256", "ES256"]) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(JSON.parse(execFileSync(process.execPath, ["-e", child, alg], { encoding: "utf8" })));
  }
  const req = median(runs.map((r) => r.require));
  const first = median(runs.map((r) => r.firstVerify));
  out[alg] = { require: req, firstVerify: first };
  console.log(
    `startup ${alg}: require() ${req.toFixed(2)} ms, Verifier + first verify ${first.toFixed(2)} ms, ` +
      `total ${(req + first).toFixed(2)} ms (median of ${RUNS} fresh processes, ${process.version})`,
  );
}
if (process.env.JSON_STARTUP) {
  const { writeFileSync } = await import("node:fs");
  writeFileSync(process.env.JSON_STARTUP, JSON.stringify({ ...out, node: process.version }, null, 2));
}
