// Startup cost in Node: loading the library (`require()` of the package, which reads and
// compiles its wasm synchronously; `import()` of jose, which is ESM-only; `require()` of
// fast-jwt) and the first verifier + verify (HS256 and ES256, keys imported, claims checked),
// each in a fresh process, for jwtgate and its peers. Prints medians over RUNS (default 15)
// processes; JSON_STARTUP=path also writes them. Run by scripts/bench.sh.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const RUNS = Number(process.env.RUNS ?? 15);
const root = fileURLToPath(new URL("../", import.meta.url));
const pkgDir = fileURLToPath(new URL("../pkg/", import.meta.url));

// The child: keys and a token made first (untimed, by node:crypto), then the library loaded
// (timed), then its first verifier and verify (timed). argv: alg, library.
const child = `
const { performance } = require("node:perf_hooks");
const crypto = require("node:crypto");
const [alg, lib] = process.argv.slice(1);
const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
const now = Math.floor(Date.now() / 1000);
const claims = { sub: "u", iss: "https://i.example", aud: "api", iat: now, exp: now + 600 };
const input = b64({ alg, typ: "JWT", kid: "k" }) + "." + b64(claims);
let verifyKey, token, secret, pem;
if (alg === "HS256") {
  secret = crypto.randomBytes(32);
  verifyKey = { kty: "oct", kid: "k", k: secret.toString("base64url") };
  token = input + "." + crypto.createHmac("sha256", secret).update(input).digest("base64url");
} else {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  verifyKey = { ...publicKey.export({ format: "jwk" }), kid: "k" };
  pem = publicKey.export({ format: "pem", type: "spki" });
  token = input + "." + crypto.sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url");
}
(async () => {
  const t0 = performance.now();
  let verify;
  if (lib === "jwtgate") {
    const jwtgate = require(${JSON.stringify(pkgDir)});
    verify = () => new jwtgate.Verifier({ issuer: "https://i.example", audience: "api", algorithms: [alg], keys: { keys: [verifyKey] } }).verify(token);
  } else if (lib === "jose") {
    const jose = await import("jose");
    verify = async () => (await jose.jwtVerify(token, await jose.importJWK(verifyKey, alg), { issuer: "https://i.example", audience: "api", algorithms: [alg] })).payload;
  } else {
    const { createVerifier } = require("fast-jwt");
    verify = () => createVerifier({ key: alg === "HS256" ? secret : pem, algorithms: [alg], allowedIss: "https://i.example", allowedAud: "api", cache: false })(token);
  }
  const t1 = performance.now();
  const out = await verify();
  const t2 = performance.now();
  if (out.sub !== "u") throw new Error("wrong answer");
  process.stdout.write(JSON.stringify({ require: t1 - t0, firstVerify: t2 - t1 }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = {};
const peers = {};
for (const alg of ["HS256", "ES256"]) {
  for (const lib of ["jwtgate", "jose", "fast-jwt"]) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(JSON.parse(execFileSync(process.execPath, ["-e", child, alg, lib], { cwd: root, encoding: "utf8" })));
    }
    const req = median(runs.map((r) => r.require));
    const first = median(runs.map((r) => r.firstVerify));
    if (lib === "jwtgate") out[alg] = { require: req, firstVerify: first };
    else (peers[alg] ??= {})[lib] = { require: req, firstVerify: first };
    console.log(
      `startup ${alg} ${lib.padEnd(8)}: load ${req.toFixed(2)} ms, first verifier + verify ${first.toFixed(2)} ms, ` +
        `total ${(req + first).toFixed(2)} ms (median of ${RUNS} fresh processes, ${process.version})`,
    );
  }
}
if (process.env.JSON_STARTUP) {
  const { writeFileSync } = await import("node:fs");
  writeFileSync(process.env.JSON_STARTUP, JSON.stringify({ ...out, peers, node: process.version }, null, 2));
}
