// Refresh-token rotation through the npm package (`Refresher`): a Node issuer starts a family
// and rotates it against the in-memory store; jose checks every token independently. A reuse
// revokes the family; the token kinds never pass for each other; the gate's format is the same
// (tests/gate/refresh.test.mjs exchanges a jose-made first token at the gate).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import * as jose from "jose";

const require = createRequire(import.meta.url);
const node = require("../../pkg/");
// The build with jwtgate's own arithmetic (jwtgate/pure); the web build's refusals of
// synchronous use without host crypto are tests/js/web.test.mjs's.
const pure = await import(new URL("../../pkg/pure/index.js", import.meta.url));
pure.initSync({ module: readFileSync(new URL("../../pkg/pure/jwtgate_bg.wasm", import.meta.url)) });

const ISS = "https://auth.example";
const AUD = "orders-api";
const REFRESH_AUD = "https://auth.example/refresh";
const key = await jose.generateKeyPair("ES256", { extractable: true });
const priv = { ...(await jose.exportJWK(key.privateKey)), kid: "as-1", alg: "ES256" };
const policy = {
  issuer: ISS,
  audience: AUD,
  algorithms: ["ES256"],
  keys: { keys: [priv] },
  maxAgeSeconds: 86400,
  refresh: { audience: REFRESH_AUD, ttlSeconds: 3600, accessTtlSeconds: 300 },
};
const NOW = Math.floor(Date.now() / 1000);

for (const [name, entry] of [["node", node], ["pure", pure]]) {
  test(`${name}: start, rotate, and a reuse revokes the family`, async () => {
    const r = new entry.Refresher(policy);
    const first = r.start({ sub: "user_1", email: "u@example.com" }, { now: NOW });
    const rt = await jose.jwtVerify(first, key.publicKey, { issuer: ISS, audience: REFRESH_AUD, typ: "jwtgate-refresh+jwt", currentDate: new Date(NOW * 1000) });
    assert.equal(rt.payload.gen, 0);
    const a = r.refresh(first, { now: NOW + 60 });
    assert.equal(a.accessExpiresIn, 300);
    const at = await jose.jwtVerify(a.accessToken, key.publicKey, { issuer: ISS, audience: AUD, currentDate: new Date((NOW + 60) * 1000) });
    assert.equal(at.payload.email, "u@example.com");
    assert.equal(at.payload.sid, rt.payload.sid);
    assert.equal(jose.decodeJwt(a.refreshToken).gen, 1);
    const b = r.refresh(a.refreshToken, { now: NOW + 120 });
    assert.equal(jose.decodeJwt(b.refreshToken).gen, 2);
    // The first token again: reuse. The family is gone, the latest token with it.
    assert.throws(() => r.refresh(first, { now: NOW + 180 }), { code: "revoked", claim: "sid" });
    assert.ok(r.isRevoked(rt.payload.sid));
    assert.throws(() => r.refresh(b.refreshToken, { now: NOW + 180 }), { code: "revoked" });
    // An access token is not a refresh token, a refresh token not an access token.
    assert.throws(() => r.refresh(a.accessToken, { now: NOW + 60 }), { code: "type" });
    const v = new entry.Verifier({ ...policy, keys: { keys: [{ ...(await jose.exportJWK(key.publicKey)), kid: "as-1", alg: "ES256" }] } });
    assert.throws(() => v.verify(first, { now: NOW }), { code: "type" });
  });
}

test("the refresh member and the key are required", () => {
  assert.throws(() => new node.Refresher({ ...policy, refresh: undefined }), { code: "config", field: "refresh" });
  assert.throws(() => new node.Refresher({ ...policy, maxAgeSeconds: undefined }), { code: "config", field: "maxAgeSeconds" });
  assert.throws(() => new node.Refresher({ ...policy, refresh: { audience: AUD } }), { code: "config", field: "refresh.audience" });
});
