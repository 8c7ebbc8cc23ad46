// Mints a demo token for the gate with the published demo key (examples/demo-key.json).
// Usage: node examples/gate/mint.mjs [sub] [scope]  → prints a compact JWS
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
const require = createRequire(import.meta.url);
const { Signer } = require("../../pkg");
const { _comment, ...key } = JSON.parse(readFileSync(new URL("../demo-key.json", import.meta.url)));
const signer = new Signer(
  {
    issuer: "https://demo.jwtgate.invalid",
    audience: "demo-app",
    algorithms: ["ES256"],
    requiredClaims: ["sub"],
    maxAgeSeconds: 28800,
    keys: { keys: [key] },
  },
  { ttlSeconds: 900 },
);
const [sub = "demo-user", scope = "read"] = process.argv.slice(2);
console.log(signer.sign({ sub, scope, email: `${sub}@demo.invalid` }));
