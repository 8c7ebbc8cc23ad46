// Several providers in one gate (JWTGATE_PROVIDERS, JWTGATE_PROVIDER_ROUTES) over HTTP in
// workerd: the default provider (HS256, the harness's keys), "api" (ES256 from its own JWKS
// server) and "staff" (RS256 from another). The token's iss picks one provider, unverified, and
// only that provider's keys ever try it; routes say which providers a path accepts; each
// provider's JWKS has its own state. Tokens are signed by jose.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as jose from "jose";
import { AUD, ISS, upstream, gate, bearer, hsToken, jwksAt, openGates, expectMisconfigured, readWranglerToml } from "./harness.mjs";

after(() => Promise.all([...openGates].map((g) => g.dispose())));

const API = "https://api.example";
const STAFF = "https://staff.example";
const apiKey = await jose.generateKeyPair("ES256", { extractable: true });
const staffKey = await jose.generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
const stranger = await jose.generateKeyPair("ES256", { extractable: true });

const apiJwks = await jwksAt("/api/jwks", { keys: [{ ...(await jose.exportJWK(apiKey.publicKey)), kid: "api-1", alg: "ES256" }] });
const staffJwks = await jwksAt("/staff/certs", { keys: [{ ...(await jose.exportJWK(staffKey.publicKey)), kid: "staff-1", alg: "RS256" }] });
after(() => {
  apiJwks.server.close();
  staffJwks.server.close();
});

const providers = () => [
  { name: "api", policy: { issuer: API, audience: "api", algorithms: ["ES256"], requiredClaims: ["sub"] }, jwksUrl: apiJwks.jwksUrl },
  {
    name: "staff",
    policy: { issuer: STAFF, audience: "staff", algorithms: ["RS256"] },
    jwksUrl: staffJwks.jwksUrl,
    tokenHeader: "Cf-Access-Jwt-Assertion",
  },
];
const vars = (extra = {}) => ({
  JWTGATE_PROVIDERS: JSON.stringify(providers()),
  JWTGATE_PROVIDER_ROUTES: JSON.stringify({ "/api": ["api", "default"], "/staff": ["staff"] }),
  ...extra,
});

const sign = (iss, aud, alg, key, kid, claims = {}) =>
  new jose.SignJWT({ sub: `user@${new URL(iss).hostname}`, ...claims })
    .setProtectedHeader({ alg, kid })
    .setIssuer(iss)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(key.privateKey);
const apiToken = (claims) => sign(API, "api", "ES256", apiKey, "api-1", claims);
const staffToken = (claims) => sign(STAFF, "staff", "RS256", staffKey, "staff-1", claims);

async function get(g, path, token) {
  const before = upstream.hits.length;
  const r = await g.fetch(path, { headers: bearer(token) });
  const body = r.headers.get("content-type")?.includes("json") ? await r.json() : null;
  return { status: r.status, body, hit: upstream.hits[before] ?? null, reached: upstream.hits.length - before };
}

test("each provider's tokens pass where its routes accept them, with the provider named upstream", async () => {
  const g = await gate(vars());
  try {
    for (const [path, token, provider, sub] of [
      ["/api/orders", await apiToken(), "api", "user@api.example"],
      ["/api/orders", await hsToken(), "default", "user_1"],
      ["/staff/tools", await staffToken(), "staff", "user@staff.example"],
      ["/orders", await hsToken(), "default", "user_1"],
    ]) {
      const r = await get(g, path, token);
      assert.equal(r.status, 200, `${provider} at ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.hit.headers["x-jwtgate-provider"], provider);
      assert.equal(r.hit.headers["x-jwtgate-sub"], sub);
    }
    // A client cannot name the provider itself.
    const before = upstream.hits.length;
    await g.fetch("/orders", { headers: { ...bearer(await hsToken()), "x-jwtgate-provider": "staff" } });
    assert.equal(upstream.hits[before].headers["x-jwtgate-provider"], "default");
  } finally {
    await g.dispose();
  }
});

test("refused before any key work: a provider the route does not accept, an issuer no provider has", async () => {
  const g = await gate(vars());
  try {
    const hits = () => apiJwks.hits + staffJwks.hits;
    // Warm both sets so that a refusal below could not be a fetch's doing.
    await get(g, "/api/x", await apiToken());
    await get(g, "/staff/x", await staffToken());
    const warm = hits();
    for (const [path, token] of [
      ["/orders", await apiToken()], // api is accepted under /api only
      ["/staff/x", await apiToken()],
      ["/STAFF/x", await hsToken()], // the route matches ignoring case: default is not accepted there
      ["/api/x", await staffToken()],
      ["/api/x", await sign("https://unknown.example", "api", "ES256", apiKey, "api-1")],
      ["/api/x", await new jose.SignJWT({ sub: "u" }).setProtectedHeader({ alg: "ES256", kid: "api-1" }).setAudience("api").setExpirationTime("10m").sign(apiKey.privateKey)],
    ]) {
      const r = await get(g, path, token);
      assert.equal(r.reached, 0, `${path}: reached the upstream`);
      assert.equal(r.status, 401, path);
      assert.equal(r.body.reason, "issuer", path);
    }
    assert.equal(hits(), warm, "a refused token made the gate fetch keys");
    // A verified token is not a pass elsewhere: the route is checked before the cache.
    const t = await apiToken();
    assert.equal((await get(g, "/api/x", t)).status, 200);
    assert.equal((await get(g, "/staff/x", t)).status, 401);
  } finally {
    await g.dispose();
  }
});

test("one token, one provider's keys: an api-issuer token signed with the staff key or another key never verifies", async () => {
  const g = await gate(vars());
  try {
    await get(g, "/api/x", await apiToken());
    const staffBefore = staffJwks.hits;
    // The staff provider's RS256 key under the api issuer: RS256 is not an api algorithm.
    const r1 = await get(g, "/api/x", await sign(API, "api", "RS256", staffKey, "staff-1"));
    assert.deepEqual([r1.status, r1.body.reason, r1.reached], [401, "algorithm", 0]);
    // The staff kid with an unknown EC key under the api issuer: the api's keys have no such kid.
    const r2 = await get(g, "/api/x", await sign(API, "api", "ES256", stranger, "staff-1"));
    assert.deepEqual([r2.status, r2.body.reason, r2.reached], [401, "key_not_found", 0]);
    // The api kid with the stranger's key: the signature fails.
    const r3 = await get(g, "/api/x", await sign(API, "api", "ES256", stranger, "api-1"));
    assert.deepEqual([r3.status, r3.body.reason, r3.reached], [401, "signature", 0]);
    assert.equal(staffJwks.hits, staffBefore, "the staff provider's keys were consulted for an api token");
    // The api provider's own audience and required claims hold, not the default's.
    const r4 = await get(g, "/api/x", await sign(API, AUD, "ES256", apiKey, "api-1"));
    assert.deepEqual([r4.status, r4.body.reason], [401, "audience"]);
  } finally {
    await g.dispose();
  }
});

test("each provider's JWKS has its own state: one issuer's outage does not stop another's tokens", async () => {
  apiJwks.status = 500;
  const g = await gate(vars());
  try {
    const down = await get(g, "/api/x", await apiToken());
    assert.equal(down.status, 503);
    assert.equal(down.body.reason, "jwks_unavailable");
    assert.equal(down.reached, 0);
    assert.equal((await get(g, "/staff/x", await staffToken())).status, 200);
    // The default provider's own keys are unaffected too.
    assert.equal((await get(g, "/api/x", await hsToken())).status, 200);
  } finally {
    apiJwks.status = 200;
    await g.dispose();
  }
});

test("provider settings that would be ambiguous or open are configuration errors", async () => {
  const p = providers();
  const overlapping = [p[0], { ...p[1], policy: { ...p[1].policy, issuer: [STAFF, ISS] } }];
  await expectMisconfigured({ JWTGATE_PROVIDERS: JSON.stringify(overlapping) }, "JWTGATE_PROVIDERS");
  const misspelt = [{ ...p[0], jwks_url: p[0].jwksUrl, jwksUrl: undefined }];
  await expectMisconfigured({ JWTGATE_PROVIDERS: JSON.stringify(misspelt) }, "JWTGATE_PROVIDERS");
  await expectMisconfigured(vars({ JWTGATE_PROVIDER_ROUTES: JSON.stringify({ "/api": ["apii"] }) }), "JWTGATE_PROVIDER_ROUTES");
});

test("a provider's own token header decides the provider, whatever the token's iss claims", async () => {
  const g = await gate(vars());
  try {
    const viaHeader = async (path, token, extra = {}) => {
      const before = upstream.hits.length;
      const r = await g.fetch(path, { headers: { "cf-access-jwt-assertion": token, ...extra } });
      const body = r.headers.get("content-type")?.includes("json") ? await r.json() : null;
      return { status: r.status, body, hit: upstream.hits[before] ?? null };
    };
    const staff = await staffToken();
    const ok = await viaHeader("/staff/x", staff);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.hit.headers["x-jwtgate-provider"], "staff");
    assert.equal(ok.hit.headers["cf-access-jwt-assertion"], staff);
    // An api token smuggled into the staff header: the staff verifier judges it (RS256 only),
    // the api provider's keys are never asked.
    const apiBefore = apiJwks.hits;
    const smuggled = await viaHeader("/staff/x", await apiToken());
    assert.deepEqual([smuggled.status, smuggled.body.reason], [401, "algorithm"]);
    assert.equal(apiJwks.hits, apiBefore);
    // The staff header on an api route: refused (the route does not accept staff).
    assert.equal((await viaHeader("/api/x", staff)).status, 401);
    // A bearer token wins, and the unverified staff header does not go on in any spelling.
    const both = await viaHeader("/api/x", staff, { ...bearer(await apiToken()), cf_access_jwt_assertion: staff });
    assert.equal(both.status, 200);
    assert.equal(both.hit.headers["cf-access-jwt-assertion"], undefined);
    assert.equal(both.hit.headers.cf_access_jwt_assertion, undefined);
  } finally {
    await g.dispose();
  }
});

test("the docs' several-providers wrangler.toml is a configuration the gate accepts", async () => {
  const doc = readFileSync(new URL("../../docs/gate.md", import.meta.url), "utf8");
  const at = doc.indexOf("## Several providers");
  const block = /```toml\n([\s\S]*?)```/.exec(doc.slice(at));
  assert.ok(at >= 0 && block, "docs/gate.md has the example");
  const { vars } = readWranglerToml(`name = "x"\nmain = "build/index.js"\n${block[1]}`);
  const g = await gate({
    ...vars,
    UPSTREAM_URL: upstream.url,
    JWTGATE_KEYS: undefined,
    JWTGATE_AUTHJS_SECRET: "docs-example-AUTH_SECRET-0123456789abcdef",
  });
  try {
    // Configured (a misconfigured gate answers 500 everywhere): the public path passes, a
    // protected one asks for a token.
    assert.equal((await g.fetch("/api/auth/session")).status, 200);
    assert.equal((await g.fetch("/v1/orders")).status, 401);
  } finally {
    await g.dispose();
  }
});
