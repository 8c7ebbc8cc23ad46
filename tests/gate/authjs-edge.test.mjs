// jwtgate/authjs at the edge (Node >= 22 for Miniflare):
// 1. the web entry (pkg/authjs/web.mjs) running inside workerd — the runtime of Cloudflare and
//    close kin of the Next.js edge runtime — with the wasm passed in as a compiled module;
// 2. the edge gate accepting the session cookies the adapter writes, chunked ones included.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { fileURLToPath } from "node:url";
import * as jose from "jose";
import { authjs } from "../../pkg/authjs/node.mjs";
import { gateWorker, workerd } from "../../scripts/workerd.mjs";

const pkgDir = fileURLToPath(new URL("../../pkg/", import.meta.url));
const ISS = "https://shop.example.com";
const AUD = "shop-web";
const { publicKey, privateKey } = await jose.generateKeyPair("EdDSA", { extractable: true });
const privateJwk = { ...(await jose.exportJWK(privateKey)), kid: "edge-1" };
const publicJwk = { ...(await jose.exportJWK(publicKey)), kid: "edge-1" };
const toDispose = [];
after(() => Promise.all(toDispose.map((d) => d())));

const edgeWorker = `
import wasm from "./web/jwtgate_bg.wasm";
import { authjs } from "./authjs/web.mjs";
export default {
  async fetch(request, env) {
    const gate = authjs({ issuer: env.ISS, audience: env.AUD, keys: JSON.parse(env.KEYS), wasm, env: {} });
    const url = new URL(request.url);
    if (url.pathname === "/encode") {
      return new Response(await gate.jwt.encode({ token: { sub: "edge_user", name: "Edge" } }));
    }
    const claims = await gate.jwt.decode({ token: await request.text() });
    return Response.json(claims);
  },
};`;

test("the web entry runs in workerd: encode and decode with the wasm passed as a module", async () => {
  const mf = workerd({
    modules: [
      { type: "ESModule", path: pkgDir + "edge-test-worker.mjs", contents: edgeWorker },
      { type: "ESModule", path: pkgDir + "authjs/web.mjs" },
      { type: "ESModule", path: pkgDir + "authjs/core.mjs" },
      { type: "ESModule", path: pkgDir + "web/index.js" },
      { type: "ESModule", path: pkgDir + "web/extend.js" },
      { type: "ESModule", path: pkgDir + "web/webcrypto.js" },
      { type: "ESModule", path: pkgDir + "web/host/node-crypto.js" },
      { type: "ESModule", path: pkgDir + "web/jwtgate.js" },
      { type: "CompiledWasm", path: pkgDir + "web/jwtgate_bg.wasm" },
    ],
    modulesRoot: pkgDir,
    bindings: { ISS, AUD, KEYS: JSON.stringify({ keys: [privateJwk] }) },
  });
  toDispose.push(() => mf.dispose());
  const token = await (await mf.dispatchFetch("http://edge/encode")).text();
  const { payload, protectedHeader } = await jose.jwtVerify(token, publicKey, { issuer: ISS, audience: AUD });
  assert.equal(payload.sub, "edge_user");
  assert.equal(protectedHeader.typ, "authjs-session+jwt");
  // A cookie written in Node decodes at the edge, and the other way round.
  const node = authjs({ issuer: ISS, audience: AUD, keys: { keys: [privateJwk] }, env: {} });
  const fromNode = await node.jwt.encode({ token: { sub: "node_user" } });
  const decoded = await (await mf.dispatchFetch("http://edge/decode", { method: "POST", body: fromNode })).json();
  assert.equal(decoded.sub, "node_user");
  assert.equal((await node.jwt.decode({ token })).sub, "edge_user");
  const [h, , s] = token.split(".");
  const forged = `${h}.${Buffer.from(JSON.stringify({ sub: "admin" })).toString("base64url")}.${s}`;
  assert.equal(await (await mf.dispatchFetch("http://edge/decode", { method: "POST", body: forged })).json(), null);
  // Valid claims, one signature bit flipped: WebCrypto (verifyAsync) must refuse it in workerd.
  const [fh, fp, fs] = fromNode.split(".");
  const sig = Buffer.from(fs, "base64url");
  sig[10] ^= 1;
  const flipped = `${fh}.${fp}.${sig.toString("base64url")}`;
  assert.equal(await (await mf.dispatchFetch("http://edge/decode", { method: "POST", body: flipped })).json(), null);
});

test("the edge gate accepts the adapter's session cookies, chunked ones included", async () => {
  const upstream = http.createServer((req, res) => res.end(JSON.stringify({ sub: req.headers["x-jwtgate-sub"] ?? null })));
  await new Promise((r) => upstream.listen(0, "127.0.0.1", r));
  toDispose.push(() => new Promise((r) => upstream.close(r)));
  const mf = gateWorker({
      UPSTREAM_URL: `http://127.0.0.1:${upstream.address().port}`,
      // Plain-HTTP development too: the unprefixed cookie name is accepted only with this.
      JWTGATE_PLAIN_HTTP: "true",
      // The gate gets the same policy with the public key only.
      JWTGATE_POLICY: JSON.stringify({
        issuer: ISS, audience: AUD, algorithms: ["EdDSA"], typ: "authjs-session+jwt",
        maxAgeSeconds: 8 * 3600, requiredClaims: ["sub"], keys: { keys: [publicJwk] },
      }),
  });
  toDispose.push(() => mf.dispose());
  const adapter = authjs({ issuer: ISS, audience: AUD, keys: { keys: [privateJwk] }, env: {} });
  const small = await adapter.jwt.encode({ token: { sub: "ana" } });
  const big = await adapter.jwt.encode({ token: { sub: "bea", prefs: "p".repeat(4500) } });
  assert.ok(big.length > 4096, "large enough for Auth.js to chunk");
  // Auth.js chunks cookies over 4096 bytes into name.0, name.1, ... (3,936-byte chunks).
  const chunk = (name, value) => {
    const parts = [];
    for (let i = 0; i * 3936 < value.length; i++) parts.push(`${name}.${i}=${value.slice(i * 3936, (i + 1) * 3936)}`);
    return parts.reverse().join("; "); // order in the header must not matter
  };
  const cases = [
    [`__Secure-authjs.session-token=${small}`, "ana"],
    [chunk("__Secure-authjs.session-token", big), "bea"],
    [chunk("authjs.session-token", big), "bea"],
  ];
  for (const [cookie, sub] of cases) {
    const r = await mf.dispatchFetch("https://shop.example.com/account", { headers: { cookie } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { sub });
  }
  // An ordinary access token from the same issuer and key is not a session (typ).
  const access = await new jose.SignJWT({ sub: "ana" })
    .setProtectedHeader({ alg: "EdDSA", kid: "edge-1", typ: "at+jwt" })
    .setIssuer(ISS).setAudience(AUD).setIssuedAt().setExpirationTime("5m")
    .sign(privateKey);
  const r = await mf.dispatchFetch("https://shop.example.com/account", { headers: { cookie: `authjs.session-token=${access}` } });
  assert.equal(r.status, 401);
  assert.equal((await r.json()).reason, "type");
});
