// The presets of docs/presets.md, run as written: each `### Preset:` section's wrangler.toml is
// read with wrangler's own config reader and its [vars] given to the built gate in workerd. Only
// what a test machine must change is changed: UPSTREAM_URL points at the local upstream, and the
// JWKS URL's origin at a local server that answers at the preset's own path only (the remote
// endpoint's stand-in). Tokens are made the way each stack makes them: the real @auth/core
// handler, and jose with Better Auth's and Cloudflare Access's shapes (header, claims, JWKS
// document). Each preset's attacks are tried over HTTP beside its happy path.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as jose from "jose";
import { authjs } from "../../pkg/authjs/node.mjs";
import { authjsSignIn } from "./authjs-app.mjs";
import { upstream, gate, jwksAt, openGates, nowS, readWranglerToml } from "./harness.mjs";

after(() => Promise.all([...openGates].map((g) => g.dispose())));

/** The `[vars]` of docs/presets.md's `### Preset: <title>` wrangler.toml, as wrangler reads it. */
function presetVars(title) {
  const presets = readFileSync(new URL("../../docs/presets.md", import.meta.url), "utf8");
  const at = presets.indexOf(`### Preset: ${title}`);
  assert.ok(at >= 0, `docs/presets.md has no preset ${title}`);
  const block = /```toml\n([\s\S]*?)```/.exec(presets.slice(at));
  assert.ok(block, `preset ${title} has no toml block`);
  const rawConfig = readWranglerToml(block[1]);
  assert.equal(rawConfig.main, "build/index.js", "a whole wrangler.toml for this repository's gate");
  if (title === "Cloudflare Access") {
    // Served only on the Access-protected hostname.
    assert.equal(rawConfig.workers_dev, false);
    assert.equal(rawConfig.preview_urls, false);
    assert.ok(rawConfig.routes?.length > 0);
  }
  return rawConfig.vars;
}

/** The preset's vars with only the upstream and the JWKS origin moved to this machine. */
function onThisMachine(vars, jwks, expectedPath) {
  const out = { ...vars, UPSTREAM_URL: upstream.url, JWTGATE_KEYS: undefined };
  if (jwks) {
    const remote = new URL(vars.JWTGATE_JWKS_URL);
    assert.equal(remote.pathname, expectedPath);
    out.JWTGATE_JWKS_URL = `${jwks.url}${remote.pathname}`;
  }
  return out;
}

async function get(g, headers = {}, path = "/orders") {
  const before = upstream.hits.length;
  const r = await g.fetch(path, { headers });
  const body = r.headers.get("content-type")?.includes("json") ? await r.json() : await r.text();
  return { status: r.status, body, r, hit: upstream.hits[before] ?? null, reached: upstream.hits.length - before };
}

// ------------------------------------------------------------------------- Cloudflare Access
test("preset Cloudflare Access: the Cf-Access-Jwt-Assertion header from Access's own keys passes; nothing else does", async () => {
  const vars = presetVars("Cloudflare Access");
  const { issuer, audience } = vars.JWTGATE_POLICY;
  assert.equal(vars.JWTGATE_TOKEN_HEADER, "Cf-Access-Jwt-Assertion");
  // Access's certs document: the current and the previous key, plus the same keys as PEM.
  const current = await jose.generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
  const previous = await jose.generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
  const jwk = async (k, kid) => ({ kid, kty: "RSA", alg: "RS256", use: "sig", ...(await jose.exportJWK(k.publicKey)) });
  const kids = ["9338abe1baf2fe492f646a736f25afbf7b025e35c627be4f60c414d4c73069b8", "6c3bffef71bb0a90c9cbef3b7c0d4a1c7b4b8b76b80292a623afd9dac45d1c65"];
  const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const certs = await jwksAt("/cdn-cgi/access/certs", {
    keys: [await jwk(current, kids[0]), await jwk(previous, kids[1])],
    public_cert: { kid: kids[0], cert: pem },
    public_certs: [{ kid: kids[0], cert: pem }, { kid: kids[1], cert: pem }],
  });
  const g = await gate(onThisMachine(vars, certs, "/cdn-cgi/access/certs"));
  const access = (claims = {}, { key = current, kid = kids[0] } = {}) => {
    const t = nowS();
    return new jose.SignJWT({
      aud: [audience],
      email: "ada@example.com",
      exp: t + 86400,
      iat: t,
      nbf: t,
      iss: issuer,
      type: "app",
      identity_nonce: "6ei69kawdKzMIAPF",
      sub: "7335d417-61da-459d-899c-0a01c76a2f94",
      country: "US",
      ...claims,
    })
      .setProtectedHeader({ alg: "RS256", kid, typ: "JWT" })
      .sign(key.privateKey);
  };
  try {
    const token = await access();
    const ok = await get(g, { "cf-access-jwt-assertion": token, "x-jwtgate-email": "root@example.com" });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.hit.headers["x-jwtgate-email"], "ada@example.com");
    assert.equal(ok.hit.headers["x-jwtgate-sub"], "7335d417-61da-459d-899c-0a01c76a2f94");
    // The header the gate verified goes on (JWTGATE_FORWARD_AUTHORIZATION's default).
    assert.equal(ok.hit.headers["cf-access-jwt-assertion"], token);
    assert.ok(certs.hits >= 1 && certs.wrong === 0, `${certs.hits} requests, ${certs.wrong} at another path`);
    // A token signed with the previous key still verifies (Access keeps it 7 days).
    assert.equal((await get(g, { "cf-access-jwt-assertion": await access({}, { key: previous, kid: kids[1] }) })).status, 200);
    // A service token: no email, the client id in common_name.
    const service = await access({ email: undefined, sub: "", common_name: "1f8c3a.access" });
    const s = await get(g, { "cf-access-jwt-assertion": service });
    assert.equal(s.status, 200);
    assert.equal(s.hit.headers["x-jwtgate-service-token"], "1f8c3a.access");
    assert.equal(s.hit.headers["x-jwtgate-email"], undefined);
    assert.equal(s.hit.headers["x-jwtgate-sub"], undefined, "an empty sub names no subject");

    // Attacks. Each is refused before the upstream, or reaches it without the forged part.
    const refused = async (headers, reason) => {
      const r = await get(g, headers);
      assert.equal(r.reached, 0, `${reason}: reached the upstream`);
      assert.equal(r.status, 401, reason);
      if (reason !== "missing_token") assert.equal(r.body.reason, reason);
    };
    // Another Access application of the same team (its own AUD tag), another team, another key.
    await refused({ "cf-access-jwt-assertion": await access({ aud: ["0".repeat(64)] }) }, "audience");
    await refused({ "cf-access-jwt-assertion": await access({ iss: "https://evil.cloudflareaccess.com" }) }, "issuer");
    const stranger = await jose.generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
    await refused({ "cf-access-jwt-assertion": await access({}, { key: stranger }) }, "signature");
    await refused({ "cf-access-jwt-assertion": await access({ exp: nowS() - 3600 }) }, "expired");
    // alg confusion: the same claims as HS256 keyed with the RSA public key's bytes.
    const pubBytes = new TextEncoder().encode(JSON.stringify(await jose.exportJWK(current.publicKey)));
    const hs = await new jose.SignJWT({ aud: [audience], iss: issuer, sub: "x", exp: nowS() + 600 })
      .setProtectedHeader({ alg: "HS256", kid: kids[0] })
      .sign(pubBytes);
    await refused({ "cf-access-jwt-assertion": hs }, "algorithm");
    // Not through Access: the cookie alone is not read, and no header means no identity.
    await refused({ cookie: `CF_Authorization=${token}` }, "missing_token");
    await refused({}, "missing_token");
    // A second spelling of the header (read by CGI-style apps as the same one) never goes on.
    const forged = await access({ email: "root@example.com" }, { key: stranger });
    const two = await get(g, { "cf-access-jwt-assertion": token, cf_access_jwt_assertion: forged });
    assert.equal(two.status, 200);
    assert.equal(two.hit.headers.cf_access_jwt_assertion, undefined);
    assert.equal(two.hit.headers["cf-access-jwt-assertion"], token);
    // A bearer token wins over the header: the header, unverified then, is removed.
    const both = await get(g, { authorization: `Bearer ${token}`, "cf-access-jwt-assertion": forged });
    assert.equal(both.status, 200);
    assert.equal(both.hit.headers["cf-access-jwt-assertion"], undefined);
    assert.equal(both.hit.headers.authorization, `Bearer ${token}`);
  } finally {
    await g.dispose();
    certs.server.close();
  }
});

// ------------------------------------------------------------------------------- Better Auth
/** A Better Auth JWT plugin token: the user as claims, sub = id, 15 minutes, iss = aud = base. */
function betterAuthToken(base, alg, key, kid, { iat = nowS(), exp = "15m", claims = {} } = {}) {
  const user = {
    id: "usr_8QmN2", name: "Ada", email: "ada@example.com", emailVerified: true, image: null,
    createdAt: "2026-11-02T10:00:00.000Z", updatedAt: "2026-11-30T08:00:00.000Z",
  };
  return new jose.SignJWT({ ...user, ...claims })
    .setProtectedHeader({ alg, kid })
    .setIssuedAt(iat)
    .setIssuer(base)
    .setAudience(base)
    .setExpirationTime(exp)
    .setSubject(user.id)
    .sign(key.privateKey);
}

for (const alg of ["EdDSA", "ES512"]) {
  test(`preset Better Auth (${alg}): its bearer tokens pass, checked against /api/auth/jwks`, async () => {
    const vars = presetVars("Better Auth");
    const base = vars.JWTGATE_POLICY.issuer;
    assert.equal(vars.JWTGATE_POLICY.audience, base);
    // docs/presets.md says: put keyPairConfig.alg in `algorithms`. That is the only edit here.
    const policy = { ...vars.JWTGATE_POLICY, algorithms: [alg] };
    const key = await jose.generateKeyPair(alg, { extractable: true });
    const other = await jose.generateKeyPair(alg === "EdDSA" ? "ES512" : "EdDSA", { extractable: true });
    // Better Auth's JWKS: the public JWK and the key's id (newer versions add `alg`).
    const pub = { ...(await jose.exportJWK(key.publicKey)), kid: "c0Hq1mJ7bI3o" };
    if (alg === "ES512") pub.alg = "ES512";
    const jwks = await jwksAt("/api/auth/jwks", { keys: [pub, { ...(await jose.exportJWK(other.publicKey)), kid: "other" }] });
    const g = await gate({ ...onThisMachine(vars, jwks, "/api/auth/jwks"), JWTGATE_POLICY: policy });
    try {
      const token = await betterAuthToken(base, alg, key, pub.kid);
      const ok = await get(g, { authorization: `Bearer ${token}` });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.hit.headers["x-jwtgate-sub"], "usr_8QmN2");
      assert.equal(ok.hit.headers["x-jwtgate-email"], "ada@example.com");
      assert.equal(ok.hit.headers["x-jwtgate-email-verified"], "true");
      assert.ok(jwks.hits >= 1 && jwks.wrong === 0);

      const refused = async (t, reason, headers = { authorization: `Bearer ${t}` }) => {
        const r = await get(g, headers);
        assert.equal(r.reached, 0, `${reason}: reached the upstream`);
        assert.equal(r.status, 401, reason);
        if (reason !== "missing_token") assert.equal(r.body.reason, reason);
      };
      // Another deployment's token (its base URL), the other key's algorithm, a stale token whose
      // app raised expirationTime: the preset's 15-minute bound from iat still holds.
      await refused(await betterAuthToken("https://staging.example.com", alg, key, pub.kid), "issuer");
      await refused(await betterAuthToken(base, alg === "EdDSA" ? "ES512" : "EdDSA", other, "other"), "algorithm");
      await refused(await betterAuthToken(base, alg, key, pub.kid, { iat: nowS() - 1200, exp: "1h" }), "too_old");
      await refused(await betterAuthToken(base, alg, key, pub.kid, { exp: nowS() - 60 }), "expired");
      // Cookies are not read (Better Auth's session cookie is opaque): a token there is nothing.
      await refused(null, "missing_token", { cookie: `__Secure-authjs.session-token=${token}` });
    } finally {
      await g.dispose();
      jwks.server.close();
    }
  });
}

test("preset Better Auth: tokens shaped as the plugin makes them, a baseURL with a path, sign-out, a re-pinned algorithm", async () => {
  const vars = presetVars("Better Auth");
  const origin = vars.JWTGATE_POLICY.issuer;
  // The docs' table: issuer = audience = the origin of baseURL; the JWKS under the whole baseURL.
  assert.equal(origin, new URL(origin).origin, "the preset's issuer is an origin: no path, no slash");
  const baseURL = `${origin}/auth/`;
  const key = await jose.generateKeyPair("EdDSA", { extractable: true });
  const pub = { ...(await jose.exportJWK(key.publicKey)), kid: "c0Hq1mJ7bI3o", alg: "EdDSA" };
  const jwks = await jwksAt("/auth/api/auth/jwks", { keys: [pub] });
  const jwksUrl = `${jwks.url}${new URL(baseURL).pathname}api/auth/jwks`;
  const g = await gate({ ...onThisMachine(vars, null), JWTGATE_JWKS_URL: jwksUrl }, { kv: true });
  const literal = await gate({
    ...onThisMachine(vars, null),
    JWTGATE_JWKS_URL: jwksUrl,
    JWTGATE_POLICY: { ...vars.JWTGATE_POLICY, issuer: baseURL, audience: baseURL },
  });
  try {
    // Better Auth sets iss and aud to new URL(baseURL).origin, whatever baseURL's path.
    const token = await betterAuthToken(new URL(baseURL).origin, "EdDSA", key, pub.kid);
    assert.deepEqual(jose.decodeProtectedHeader(token), { alg: "EdDSA", kid: pub.kid }, "no typ");
    const claims = jose.decodeJwt(token);
    for (const absent of ["jti", "sid", "nbf", "auth_time"]) assert.equal(claims[absent], undefined, absent);
    assert.equal(claims.iss, origin);

    const ok = await get(g, { authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.hit.headers["x-jwtgate-sub"], "usr_8QmN2");
    assert.ok(jwks.hits >= 1 && jwks.wrong === 0, "the JWKS was fetched under baseURL's path");
    // baseURL copied literally (with its path and slash) into issuer and audience: nothing passes.
    const wrong = await get(literal, { authorization: `Bearer ${token}` });
    assert.equal(wrong.reached, 0);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.reason, "issuer");

    // Sign-out does not end a token (no jti, no sid): a sub: entry refuses that user's tokens
    // issued before it, and only those.
    await (await g.mf.getKVNamespace("JWTGATE_REVOKED")).put("sub:usr_8QmN2", String(nowS() + 1));
    const out = await get(g, { authorization: `Bearer ${token}` });
    assert.equal(out.reached, 0);
    assert.equal(out.body.reason, "revoked");
  } finally {
    await g.dispose();
    await literal.dispose();
    jwks.server.close();
  }

  // keyPairConfig.alg changed to ES256 on an existing database: the JWKS still holds only the
  // Ed25519 key. A gate pinned to ES256 answers 503, and its log names both sides.
  const only = await jwksAt("/api/auth/jwks", { keys: [pub] });
  const repinned = await gate({
    ...onThisMachine(vars, only, "/api/auth/jwks"),
    JWTGATE_POLICY: { ...vars.JWTGATE_POLICY, algorithms: ["ES256"] },
  });
  try {
    const es = await jose.generateKeyPair("ES256");
    const r = await get(repinned, { authorization: `Bearer ${await betterAuthToken(origin, "ES256", es, "new")}` });
    assert.equal(r.reached, 0);
    assert.equal(r.status, 503);
    assert.equal(r.body.reason, "jwks_unavailable");
    const line = repinned.logs.find((l) => l.includes('"jwtgate":"jwks_fetch_failed"'));
    assert.ok(line, repinned.logs.join("\n"));
    assert.match(line, /pinned ES256; its keys are for kid \\"c0Hq1mJ7bI3o\\": EdDSA/);
    assert.ok(!line.includes(pub.x), "no key material in the log");
  } finally {
    await repinned.dispose();
    only.server.close();
  }
});

// ----------------------------------------------------------------------------------- Auth.js
test("preset Auth.js: the real @auth/core session cookie passes; the app's sign-in stays public", async () => {
  const vars = presetVars("Auth.js");
  const { issuer, audience } = vars.JWTGATE_POLICY;
  const SECRET = "preset-test-AUTH_SECRET-0123456789abcdefghijkl";
  // The app: Auth.js under /api/auth (Next.js), stamping with the adapter in its jwt callback.
  const adapter = authjs({ issuer, audience, secret: "preset-stamp-secret-0123456789abcdefghij", env: {} });
  const signIn = (stamp = true) =>
    authjsSignIn({
      secret: SECRET,
      origin: issuer,
      basePath: "/api/auth",
      jwt: async ({ token }) => (stamp ? adapter.stamp(token) : token),
    });
  const g = await gate({ ...onThisMachine(vars, null), JWTGATE_AUTHJS_SECRET: SECRET });
  try {
    const [cookie] = await signIn();
    const ok = await get(g, { cookie: `${cookie}; theme=dark` });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.hit.headers["x-jwtgate-sub"], "user_1");
    assert.equal(ok.hit.headers["x-jwtgate-email"], "Ada@example.com");
    // Auth.js's own routes pass without a session; pages without one go to its sign-in.
    assert.equal((await get(g, {}, "/api/auth/session")).status, 200);
    const nav = await g.fetch("/orders", { headers: { accept: "text/html" } });
    assert.equal(nav.status, 302);
    assert.ok(nav.headers.get("location").startsWith("/api/auth/signin?callbackUrl="), nav.headers.get("location"));
    // A cookie the app did not stamp (no iss/aud), and a bearer token: both refused.
    const [unstamped] = await signIn(false);
    const u = await get(g, { cookie: unstamped });
    assert.equal(u.reached, 0);
    assert.equal(u.status, 401);
    const b = await get(g, { authorization: `Bearer ${cookie.split("=")[1]}` });
    assert.equal(b.reached, 0);
    assert.equal(b.status, 401);
  } finally {
    await g.dispose();
  }
});
