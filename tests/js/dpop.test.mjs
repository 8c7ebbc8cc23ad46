// DPoP (RFC 9449) through the npm package: `verifier.verifyDpop(token, proof, { method, url })`
// against proofs and thumbprints made by jose, an independent implementation (it signs any JWS
// with an embedded `jwk`, and computes RFC 7638 thumbprints). Every class of refusal, on both
// entries (Node with node:crypto for the token, jwtgate/pure with jwtgate's own code).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import * as jose from "jose";

const require = createRequire(import.meta.url);
const node = require("../../pkg/");
// The build with jwtgate's own arithmetic (jwtgate/pure); the web build's refusals of
// synchronous use without host crypto are tests/js/web.test.mjs's.
const pure = await import(new URL("../../pkg/pure/index.js", import.meta.url));
pure.initSync({ module: readFileSync(new URL("../../pkg/pure/jwtgate_bg.wasm", import.meta.url)) });

const ISS = "https://as.example";
const AUD = "orders-api";
const NOW = Math.floor(Date.now() / 1000);
const URL_ = "https://api.example/orders/7?expand=1";

const issuer = await jose.generateKeyPair("ES256", { extractable: true });
const issuerJwk = { ...(await jose.exportJWK(issuer.publicKey)), kid: "as-1" };
const holder = await jose.generateKeyPair("ES256", { extractable: true });
const holderJwk = await jose.exportJWK(holder.publicKey);
const holderJkt = await jose.calculateJwkThumbprint(holderJwk, "sha256");
const thief = await jose.generateKeyPair("ES256", { extractable: true });
const thiefJwk = await jose.exportJWK(thief.publicKey);
const edHolder = await jose.generateKeyPair("EdDSA", { extractable: true });
const edJwk = await jose.exportJWK(edHolder.publicKey);

const policy = {
  issuer: ISS,
  audience: AUD,
  algorithms: ["ES256"],
  keys: { keys: [issuerJwk] },
  dpop: { algorithms: ["ES256", "EdDSA"], maxAgeSeconds: 60 },
};

const accessToken = (claims = {}) =>
  new jose.SignJWT({ sub: "user_1", cnf: { jkt: holderJkt }, ...claims })
    .setProtectedHeader({ alg: "ES256", kid: "as-1", typ: "at+jwt" })
    .setIssuer(ISS)
    .setAudience(AUD)
    .setIssuedAt(NOW)
    .setExpirationTime(NOW + 300)
    .sign(issuer.privateKey);

const ath = (t) => createHash("sha256").update(t).digest("base64url");

async function proof(token, { key = holder.privateKey, jwk = holderJwk, alg = "ES256", header = {}, claims = {} } = {}) {
  return new jose.SignJWT({ jti: crypto.randomUUID(), htm: "GET", htu: "https://api.example/orders/7", iat: NOW, ath: ath(token), ...claims })
    .setProtectedHeader({ typ: "dpop+jwt", alg, jwk, ...header })
    .sign(key);
}

const req = { method: "GET", url: URL_, now: NOW };

for (const [name, entry] of [["node", node], ["pure", pure]]) {
  test(`${name}: a proof made by jose binds a jose-issued token to its holder, once`, async () => {
    const v = new entry.Verifier(policy);
    const token = await accessToken();
    const p = await proof(token);
    const claims = v.verifyDpop(token, p, req);
    assert.equal(claims.sub, "user_1");
    assert.equal(claims.cnf.jkt, holderJkt);
    // The same proof again is a replay; a fresh proof passes.
    assert.throws(() => v.verifyDpop(token, p, req), { code: "replayed" });
    assert.equal(v.verifyDpop(token, await proof(token), req).sub, "user_1");
    // EdDSA proofs for an Ed25519-bound token.
    const edToken = await accessToken({ cnf: { jkt: await jose.calculateJwkThumbprint(edJwk) } });
    assert.equal(v.verifyDpop(edToken, await proof(edToken, { key: edHolder.privateKey, jwk: edJwk, alg: "EdDSA" }), req).sub, "user_1");
  });

  test(`${name}: a bound token is refused as a bearer token, by verify and verifyAsync`, async () => {
    const v = new entry.Verifier(policy);
    const token = await accessToken();
    assert.throws(() => v.verify(token, { now: NOW }), { code: "dpop_binding", claim: "cnf" });
    await assert.rejects(v.verifyAsync(token, { now: NOW }), { code: "dpop_binding" });
    // Nor does the cache let it through on a second call.
    assert.throws(() => v.verify(token, { now: NOW }), { code: "dpop_binding" });
  });

  test(`${name}: a stolen token without the key, a proof for another request, token or key`, async () => {
    const v = new entry.Verifier(policy);
    const token = await accessToken();
    const refused = async (pending, code, claim, r = req, t = token) => {
      const p = await pending;
      assert.throws(() => v.verifyDpop(t, p, r), (e) => {
        assert.equal(e.code, code, `${e.code} ${e.claim} ${e.message}`);
        if (claim) assert.equal(e.claim, claim);
        assert.ok(!e.message.includes(token.split(".")[2]), "no signature in the message");
        return true;
      });
    };
    // The thief signs with their own key: the binding fails.
    await refused(proof(token, { key: thief.privateKey, jwk: thiefJwk }), "dpop_binding", "cnf");
    // The thief puts the holder's public key in the header: the signature fails.
    await refused(proof(token, { key: thief.privateKey, jwk: holderJwk }), "dpop_proof", "signature");
    // Another method, another URL, another token, too old, in the future.
    await refused(proof(token, { claims: { htm: "POST" } }), "dpop_proof", "htm");
    await refused(proof(token, { claims: { htu: "https://api.example/orders/8" } }), "dpop_proof", "htu");
    await refused(proof(token, { claims: { htu: "https://other.example/orders/7" } }), "dpop_proof", "htu");
    await refused(proof(token, { claims: { ath: ath("another") } }), "dpop_proof", "ath");
    await refused(proof(token, { claims: { iat: NOW - 91 } }), "dpop_proof", "iat");
    await refused(proof(token, { claims: { iat: NOW + 31 } }), "dpop_proof", "iat");
    await refused(proof(token), "dpop_proof", "htm", { ...req, method: "DELETE" });
    // Header rules: typ, private key material, an alg outside dpop.algorithms.
    await refused(proof(token, { header: { typ: "JWT" } }), "dpop_proof", "typ");
    const priv = await jose.exportJWK(holder.privateKey);
    await refused(proof(token, { jwk: priv }), "dpop_proof", "jwk");
    const es384 = await jose.generateKeyPair("ES384");
    await refused(proof(token, { key: es384.privateKey, jwk: await jose.exportJWK(es384.publicKey), alg: "ES384" }), "dpop_proof", "alg");
    // An unbound token with a proof; a policy without dpop.
    const plain = await accessToken({ cnf: undefined });
    await refused(proof(plain), "dpop_binding", "cnf", req, plain);
    const noDpop = new entry.Verifier({ ...policy, dpop: undefined });
    assert.throws(() => noDpop.verifyDpop(token, "x", req), { code: "config", field: "dpop" });
    // The request must be named.
    assert.throws(() => v.verifyDpop(token, "x", { method: "GET" }), { code: "config", field: "url" });
    assert.throws(() => v.verifyDpop(token, 7, req), { code: "dpop_proof" });
  });
}

test("the policy's dpop member is checked when the verifier is built", () => {
  for (const dpop of [{ algorithms: ["HS256"] }, { algorithms: [] }, { algorithms: ["ES256"], maxAgeSeconds: 0 }, { algorithms: ["ES256"], nonce: true }])
    assert.throws(() => new node.Verifier({ ...policy, dpop }), { code: "config" }, JSON.stringify(dpop));
});
