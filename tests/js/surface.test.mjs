// The npm package's public surface: what each entry exports, that the wasm module's internals
// (which hand out payloads before their signature is checked) are reachable from neither entry
// nor from Verifier.prototype, and the revocation helpers shared with the edge gate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as jose from "jose";

const require = createRequire(import.meta.url);
const pkgDir = fileURLToPath(new URL("../../pkg/", import.meta.url));
const node = require(pkgDir);
const web = await import(new URL("../../pkg/web/index.js", import.meta.url));
web.initSync({ module: readFileSync(new URL("../../pkg/web/jwtgate_bg.wasm", import.meta.url)) });
const pure = await import(new URL("../../pkg/pure/index.js", import.meta.url));
pure.initSync({ module: readFileSync(new URL("../../pkg/pure/jwtgate_bg.wasm", import.meta.url)) });

const PUBLIC = ["Verifier", "Signer", "Refresher", "AuthJsCookie", "setHostCrypto", "hasHostCrypto", "verifySignature", "revocationKeys", "checkRevocation", "signingAlgorithms", "explain"];
const INTERNAL = ["verifyText", "prepareVerify", "PendingVerify", "publicJwkAt", "hostKeyAt", "prepareSign", "finishSign", "openRequest", "openFinish"];

test("every entry exports the public names and no __jwtgate_ internal", async () => {
  for (const [name, entry] of [["node", node], ["web", web], ["pure", pure]]) {
    const names = Object.keys(entry);
    for (const p of PUBLIC) assert.equal(typeof entry[p], "function", `${name}: ${p}`);
    assert.deepEqual(names.filter((n) => n.startsWith("__jwtgate") || n.startsWith("__wbg")), [], name);
    for (const cls of ["Verifier", "Signer", "AuthJsCookie"]) {
      const proto = Object.getOwnPropertyNames(entry[cls].prototype);
      for (const m of INTERNAL) assert.ok(!proto.includes(m), `${name}: ${cls}.prototype.${m}`);
    }
    const methods = (cls) => Object.getOwnPropertyNames(entry[cls].prototype);
    assert.ok(methods("Verifier").includes("verifyAsync"), `${name}: ${methods("Verifier")}`);
    assert.ok(methods("Signer").includes("signAsync") && methods("Signer").includes("signAsIsAsync"), name);
    assert.ok(methods("AuthJsCookie").includes("openAsync"), name);
  }
  // The ES module entries name their re-exports one by one: none of the raw module's public
  // names is missing, and every internal the extensions take exists in the raw module.
  for (const [dir, entry] of [["web", web], ["pure", pure]]) {
    const raw = await import(new URL(`../../pkg/${dir}/jwtgate.js`, import.meta.url));
    const rawPublic = Object.keys(raw).filter((n) => !n.startsWith("__jwtgate") && n !== "default");
    assert.deepEqual(rawPublic.filter((n) => !(n in entry)), [], `names the ${dir} entry does not re-export`);
    for (const m of [...INTERNAL, "webCryptoParams"]) assert.equal(typeof raw[`__jwtgate_${m}`], "function", `${dir}: ${m}`);
  }
  // The package's exports map offers no deep path to the raw wasm-bindgen modules.
  const { exports } = JSON.parse(readFileSync(pkgDir + "package.json", "utf8"));
  for (const key of Object.keys(exports)) assert.ok(!/jwtgate\.js$/.test(key), key);
  // Nor do the TypeScript types declare them (the web build's `InitOutput` lists the raw wasm
  // exports, pointer-level ABI, as it does for every function).
  for (const d of ["node/jwtgate.d.ts", "web/jwtgate.d.ts", "pure/jwtgate.d.ts"]) {
    const types = readFileSync(pkgDir + d, "utf8");
    assert.ok(!/export function __jwtgate|^\s*__jwtgate\w*\(/m.test(types), d);
    for (const p of ["revocationKeys", "checkRevocation"]) assert.ok(types.includes(`export function ${p}(`), `${d}: ${p}`);
  }
});

const ISS = "https://issuer.example";
const NOW = 1_800_000_000;
const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32)));
const policy = {
  issuer: ISS,
  audience: "api",
  algorithms: ["HS256"],
  keys: { keys: [{ kty: "oct", kid: "k", k: secret.toString("base64url") }] },
};

test("revocationKeys names the jti, sid and sub entries of a Signer's token", () => {
  for (const { Signer, Verifier, revocationKeys } of [node, web, pure]) {
    const token = new Signer(policy, { ttlSeconds: 600 }).sign({ sub: "u1" }, { now: NOW });
    const claims = new Verifier(policy).verify(token, { now: NOW });
    assert.deepEqual(revocationKeys(claims), [`jti:${claims.jti}`, `sid:${claims.sid}`, "sub:u1"]);
    assert.deepEqual(revocationKeys({ sub: "only" }), ["sub:only"]);
    assert.throws(() => revocationKeys({ sub: "u", sid: 7 }), { code: "malformed", claim: "sid" });
    assert.throws(() => revocationKeys({ sub: "u", jti: "j".repeat(600) }), { code: "revoked", claim: "jti" });
  }
});

test("checkRevocation: entries deny a token, a session, or a subject's sessions by their start", async () => {
  const { checkRevocation } = node;
  // Hand-assembled claims (jose), as a refreshed session looks: started long ago, issued now.
  const token = await new jose.SignJWT({ sub: "u1", sid: "s1", jti: "j2", auth_time: NOW - 3600 })
    .setProtectedHeader({ alg: "HS256", kid: "k" })
    .setIssuer(ISS).setAudience("api").setIssuedAt(NOW).setExpirationTime(NOW + 600)
    .sign(secret);
  const claims = new node.Verifier(policy).verify(token, { now: NOW });
  const none = { "jti:j2": null, "sid:s1": null, "sub:u1": null };
  checkRevocation(claims, none);
  assert.throws(() => checkRevocation(claims, { ...none, "jti:j2": "1" }), { code: "revoked", claim: "jti" });
  assert.throws(() => checkRevocation(claims, { ...none, "sid:s1": "" }), { code: "revoked", claim: "sid" });
  // A cut-off after the session started denies it, though iat is later than the cut-off.
  assert.throws(() => checkRevocation(claims, { ...none, "sub:u1": String(NOW - 60) }), { code: "revoked", claim: "sub" });
  checkRevocation(claims, { ...none, "sub:u1": String(NOW - 7200) });
  // A cut-off that is not a number denies every session (fail closed).
  assert.throws(() => checkRevocation(claims, { ...none, "sub:u1": "soon" }), { code: "revoked" });
  // Every key needs an answer, of the right type: a store bug is not a pass.
  assert.throws(() => checkRevocation(claims, { "jti:j2": null, "sid:s1": null }), { code: "config" });
  assert.throws(() => checkRevocation(claims, { ...none, "jti:j2": 1 }), { code: "config" });
  assert.throws(() => checkRevocation(claims, null), { code: "config" });
});

test("signAsIs keeps the signer's bounds: an exp moved out is refused, not signed", () => {
  const signer = new node.Signer({ ...policy, maxAgeSeconds: 3600 }, { ttlSeconds: 600 });
  const claims = new node.Verifier(policy).verify(signer.sign({ sub: "u1" }, { now: NOW }), { now: NOW });
  assert.equal(typeof signer.signAsIs(claims, { now: NOW + 10 }), "string");
  assert.throws(() => signer.signAsIs({ ...claims, exp: claims.exp + 60 }, { now: NOW }), { code: "malformed", claim: "exp" });
  assert.throws(() => signer.signAsIs({ ...claims, auth_time: NOW - 3500 }, { now: NOW }), { code: "malformed", claim: "exp" });
});
