// Tenants: a policy's tenantClaim makes every token carry its tenant, and checkTenant compares
// it with the request's, in every package entry, on tokens jose signs (an independent issuer).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as jose from "jose";
import { codeOf as code } from "./helpers.mjs";

const require = createRequire(import.meta.url);
const node = require(fileURLToPath(new URL("../../pkg/", import.meta.url)));
const web = await import(new URL("../../pkg/web/index.js", import.meta.url));
web.initSync({ module: readFileSync(new URL("../../pkg/web/jwtgate_bg.wasm", import.meta.url)) });
const pure = await import(new URL("../../pkg/pure/index.js", import.meta.url));
pure.initSync({ module: readFileSync(new URL("../../pkg/pure/jwtgate_bg.wasm", import.meta.url)) });

const secret = crypto.getRandomValues(new Uint8Array(32));
const jwk = { kty: "oct", kid: "k", k: jose.base64url.encode(secret) };
const base = { issuer: "https://iss.example", audience: "api", algorithms: ["HS256"], keys: { keys: [jwk] } };
const NOW = Math.floor(Date.now() / 1000);

const sign = (claims) =>
  new jose.SignJWT({ sub: "u", ...claims })
    .setProtectedHeader({ alg: "HS256", kid: "k" })
    .setIssuer("https://iss.example")
    .setAudience("api")
    .setExpirationTime(NOW + 600)
    .sign(secret);


for (const [entry, m] of [["node", node], ["web", web], ["pure", pure]]) {
  test(`${entry}: a token for tenant A never passes checkTenant for tenant B`, async () => {
    const v = new m.Verifier({ ...base, tenantClaim: "org.id" }, { cacheSize: 0 });
    const claims = v.verify(await sign({ org: { id: "acme" } }));
    assert.equal(code(() => v.checkTenant(claims, "acme")), "passed");
    for (const other of ["other", "ACME", "acme ", "acm", "acme/x", "%61cme"]) {
      assert.equal(code(() => v.checkTenant(claims, other)), "tenant", other);
    }
    // An integer tenant is its decimal text.
    const n = v.verify(await sign({ org: { id: 42 } }));
    assert.equal(code(() => v.checkTenant(n, "42")), "passed");
    assert.equal(code(() => v.checkTenant(n, "042")), "tenant");
    // Beyond 2^53 JavaScript rounds: two tenants could read as one, so such ids name no tenant,
    // at verification and in checkTenant (whose claims came through JSON.parse).
    await assert.rejects(async () => v.verify(await sign({ org: { id: 2 ** 53 + 2 } })), { code: "malformed" });
    assert.equal(code(() => v.checkTenant({ ...n, org: { id: 2 ** 53 } }, String(2 ** 53))), "malformed");
    // Claims that lost their tenant (or were never verified) are refused, not passed.
    assert.equal(code(() => v.checkTenant({ ...claims, org: {} }, "acme")), "missing_claim");
    assert.equal(code(() => v.checkTenant({ ...claims, org: { id: ["acme"] } }, "acme")), "malformed");
    // The request's tenant must be a non-empty string.
    for (const bad of ["", undefined, null, 42, ["acme"]]) {
      assert.equal(code(() => v.checkTenant(claims, bad)), "config", String(bad));
    }
  });

  test(`${entry}: with tenantClaim every token carries its tenant; without it checkTenant is config`, async () => {
    const v = new m.Verifier({ ...base, tenantClaim: '["https://ns.example/tenant"]' }, { cacheSize: 0 });
    await assert.rejects(async () => v.verify(await sign({})), { code: "missing_claim" });
    await assert.rejects(async () => v.verify(await sign({ "https://ns.example/tenant": "" })), { code: "malformed" });
    const ok = v.verify(await sign({ "https://ns.example/tenant": "acme" }));
    assert.equal(code(() => v.checkTenant(ok, "acme")), "passed");
    const plain = new m.Verifier(base, { cacheSize: 0 });
    assert.equal(code(() => plain.checkTenant(ok, "acme")), "config");
    // A signer of the same policy refuses to issue a token without the tenant.
    const signer = new m.Signer({ ...base, tenantClaim: "org.id" });
    assert.equal(code(() => signer.sign({ sub: "u" })), "missing_claim");
    const t = signer.sign({ sub: "u", org: { id: "acme" } });
    const back = new m.Verifier({ ...base, tenantClaim: "org.id" }, { cacheSize: 0 });
    assert.equal(code(() => back.checkTenant(back.verify(t), "acme")), "passed");
    // A malformed tenantClaim is a configuration error.
    for (const bad of ["", "a..b", 42, ["org"]]) {
      assert.throws(() => new m.Verifier({ ...base, tenantClaim: bad }), { code: "config" }, String(bad));
    }
  });
}
