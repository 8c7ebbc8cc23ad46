// jwtgate in 60 seconds: one policy, shared by the issuer and the verifier, that fails closed.
// Run: bash scripts/demo.sh   (or, with pkg/ built: node examples/node/demo.mjs)
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Signer, Verifier } = require("../../pkg"); // in your app: require("jwtgate")

// DEMO KEY ONLY (examples/demo-key.json): public in this repository, never use it for anything real.
import { readFileSync } from "node:fs";
const { _comment, ...demoPrivateJwk } = JSON.parse(readFileSync(new URL("../demo-key.json", import.meta.url)));
const { d, ...demoPublicJwk } = demoPrivateJwk;

// The one policy. The issuer gets the private key; every verifier gets the same policy with the
// public key only.
const policy = {
  issuer: "https://pay.example.com",
  audience: "pay-api",
  algorithms: ["ES256"],
  leewaySeconds: 30,
  maxAgeSeconds: 8 * 3600,
  requiredClaims: ["sub"],
};
const signer = new Signer({ ...policy, keys: { keys: [demoPrivateJwk] } }, { ttlSeconds: 900 });
const verifier = new Verifier({ ...policy, keys: { keys: [demoPublicJwk] } });

const now = Math.floor(Date.now() / 1000);
const token = signer.sign({ sub: "user_1", scope: "payments:read" }, { now });
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const [h, p, s] = token.split(".");
const payload = JSON.parse(Buffer.from(p, "base64url").toString());

const forOtherService = new Verifier({ ...policy, audience: "billing-api", keys: { keys: [demoPublicJwk] } });
const forStaging = new Verifier({ ...policy, issuer: "https://staging.pay.example.com", keys: { keys: [demoPublicJwk] } });

const cases = [
  ["the token, now", () => verifier.verify(token, { now })],
  ["the token, 20 minutes later", () => verifier.verify(token, { now: now + 1200 })],
  ["replayed to another service (aud)", () => forOtherService.verify(token, { now })],
  ["replayed to staging (iss)", () => forStaging.verify(token, { now })],
  ["alg: none", () => verifier.verify(`${b64({ alg: "none" })}.${p}.`, { now })],
  ["payload edited (sub: admin)", () => verifier.verify(`${h}.${b64({ ...payload, sub: "admin" })}.${s}`, { now })],
  ["key embedded in the header (jwk)", () => verifier.verify(`${b64({ alg: "ES256", jwk: demoPublicJwk })}.${p}.${s}`, { now })],
  ["unknown kid", () => verifier.verify(`${b64({ alg: "ES256", kid: "other" })}.${p}.${s}`, { now })],
  ["re-stamped 9 hours after sign-in", () => signer.sign({ sub: "user_1", auth_time: now - 9 * 3600 }, { now })],
  ["policy without an issuer", () => new Verifier({ ...policy, issuer: process.env.NEXTAUTH_URL, keys: { keys: [demoPublicJwk] } })],
];

console.log(`policy: iss=${policy.issuer} aud=${policy.audience} alg=${policy.algorithms} (kid ${demoPrivateJwk.kid})\n`);
for (const [name, run] of cases) {
  try {
    const out = run();
    console.log(`  ACCEPT  ${name}${out && out.sub ? `  (sub=${out.sub})` : ""}`);
  } catch (e) {
    if (e.name !== "JwtGateError") throw e;
    const detail = e.claim ? ` claim=${e.claim}` : e.field ? ` field=${e.field}` : "";
    console.log(`  REFUSE  ${name}  -> ${e.code}${detail}`);
  }
}
