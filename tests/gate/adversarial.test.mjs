// An adversarial walk over the gate's HTTP boundary: paths, identity headers, cookies,
// preflights, methods, oversized and odd-byte headers. The invariant checked after every
// request: whatever reached the upstream was either authenticated by the gate (identity headers
// written by the gate, for the verified token, and no other credential) or on a public path in
// its canonical form; never a protected request without a verified token, never a client's
// identity header. Prints how many requests it tried.
import { test } from "node:test";
import assert from "node:assert/strict";
import { upstream, gate, hsToken, bearer } from "./harness.mjs";

const PUBLIC = "/health";
let tried = 0;
let reached = 0;

/** Sends one request and checks the invariant on whatever reached the upstream. */
async function attempt(g, path, init = {}, { verifiedSub = null } = {}) {
  tried++;
  const before = upstream.hits.length;
  const r = await g.fetch(path, init);
  await r.arrayBuffer();
  const hits = upstream.hits.slice(before);
  assert.ok(hits.length <= 1, `${path}: one request, one upstream hit at most`);
  if (hits.length === 0) return { status: r.status, hit: null };
  reached++;
  const hit = hits[0];
  const forwardedPath = hit.url.split("?")[0];
  const isPublic = forwardedPath === PUBLIC || forwardedPath.startsWith(`${PUBLIC}/`);
  // Identity headers, in any spelling a CGI server would map to HTTP_X_JWTGATE_*.
  const identity = Object.entries(hit.headers).filter(([k]) => /^x[-_]jwtgate[-_]/i.test(k));
  if (verifiedSub === null) {
    assert.ok(isPublic, `${path} reached the upstream as ${forwardedPath} without a verified token`);
    assert.deepEqual(identity, [], `${path}: client identity headers reached the upstream`);
  } else {
    assert.equal(hit.headers["x-jwtgate-sub"], verifiedSub, `${path}: identity not the verified one`);
    for (const [k] of identity) assert.match(k, /^x-jwtgate-(sub|claims|expires-in|email)$/, `${path}: ${k}`);
  }
  // What is forwarded is canonical: decoding it once more changes nothing a router looks at.
  assert.ok(!/%(2f|5c|2e|3b|00)/i.test(forwardedPath), `${path}: forwarded ${forwardedPath}`);
  assert.ok(!forwardedPath.includes(";") && !forwardedPath.includes("//"), forwardedPath);
  assert.ok(!/(^|\/)\.\.?(\/|$)/.test(forwardedPath), forwardedPath);
  return { status: r.status, hit };
}

const vars = {
  JWTGATE_PUBLIC_PATHS: PUBLIC,
  JWTGATE_SCOPES: JSON.stringify({ "/admin": "admin" }),
  JWTGATE_CLAIM_HEADERS: JSON.stringify({ email: "x-jwtgate-email" }),
};

test("paths: case, escapes, dot segments, path parameters and separators never skip a rule", async () => {
  const g = await gate(vars);
  const noToken = [
    "/Admin/users", "/ADMIN", "/%61dmin", "/%41dmin", "/admin;x", "/admin%3bx", "/health;/../admin",
    "/health/..%2Fadmin", "/health/..%2fadmin", "/health/%2e%2e/admin", "/health/%2E%2E%2Fadmin",
    "/health%2F..%2Fadmin", "/health/.%2e/admin", "/health/..%5Cadmin", "//admin", "/health//admin",
    "/health/%00", "/health/%0d%0aX-Evil:1", "/health/%", "/health/%zz", "/HEALTH", "/Health/x",
    "/health/../admin", "/./admin",
  ];
  for (const path of noToken) {
    const { status } = await attempt(g, path);
    assert.ok([400, 401].includes(status), `${path}: ${status}`);
  }
  // The canonical public path passes, and is forwarded as such.
  // The URL parser (WHATWG) already resolves plain and %2e dot segments: `/health/%2e` is
  // `/health/`, which is public.
  let { status, hit } = await attempt(g, "/%68ealth/x");
  assert.equal(status, 200);
  assert.equal(hit.url, "/health/x");
  // A user token without the admin scope: every spelling of /admin is 403, never forwarded.
  const user = bearer(await hsToken({ sub: "user_1", scope: "read" }));
  for (const path of ["/admin", "/Admin/users", "/%61dmin/x", "/ADMIN/"]) {
    ({ status } = await attempt(g, path, { headers: user }, { verifiedSub: "user_1" }));
    assert.equal(status, 403, path);
  }
  // An admin token reaches /admin, forwarded under the canonical path the gate judged.
  const admin = bearer(await hsToken({ sub: "root", scope: "admin" }));
  ({ status, hit } = await attempt(g, "/%61dmin/users?x=%2F", { headers: admin }, { verifiedSub: "root" }));
  assert.equal(status, 200);
  assert.equal(hit.url, "/admin/users?x=%2F");
  await g.dispose();
});

test("identity headers: every spelling is stripped; values keep their edge spaces", async () => {
  const g = await gate(vars);
  const spoofed = {
    "x-jwtgate-sub": "admin",
    "X_JWTGATE_SUB": "admin",
    "x_jwtgate-email": "ceo@example.com",
    "x-jwtgate_claims": "e30",
    "X-JwtGate_Expires_In": "99999",
  };
  await attempt(g, "/health", { headers: spoofed });
  const token = await hsToken({ sub: "admin ", email: " ceo@example.com" });
  const { status, hit } = await attempt(g, "/orders", { headers: { ...spoofed, ...bearer(token) } }, { verifiedSub: "admin%20" });
  assert.equal(status, 200);
  assert.equal(hit.headers["x-jwtgate-email"], "%20ceo@example.com");
  for (const k of Object.keys(hit.headers)) assert.ok(!k.includes("_"), `${k} reached the upstream`);
  await g.dispose();
});

test("credentials: only the one the gate verified goes upstream; ambiguous cookie sets are refused", async () => {
  const g = await gate(vars);
  const mine = await hsToken({ sub: "me" });
  const stolen = await hsToken({ sub: "victim" });
  const name = "__Secure-authjs.session-token";
  // Bearer verified: the session cookie (all its chunks) is not forwarded; other cookies are.
  let { hit } = await attempt(
    g,
    "/orders",
    { headers: { ...bearer(mine), cookie: `theme=dark; ${name}=${stolen}; ${name}.0=x` } },
    { verifiedSub: "me" },
  );
  // `name=...; name.0=...` is ambiguous for Auth.js, so that request is refused (400) and never
  // forwarded; a well-formed stolen cookie beside the bearer token is stripped.
  assert.equal(hit, null);
  ({ hit } = await attempt(g, "/orders", { headers: { ...bearer(mine), cookie: `theme=dark; ${name}=${stolen}` } }, { verifiedSub: "me" }));
  assert.equal(hit.headers.cookie, "theme=dark");
  // Cookie verified: a Basic (or any other) Authorization header is not forwarded.
  ({ hit } = await attempt(g, "/orders", { headers: { authorization: "Basic YWRtaW46YWRtaW4=", cookie: `${name}=${mine}` } }, { verifiedSub: "me" }));
  assert.equal(hit.headers.authorization, undefined);
  assert.equal(hit.headers.cookie, `${name}=${mine}`);
  // Sets the app could read differently from the gate.
  for (const cookie of [
    `${name}=${mine}; ${name}=${stolen}`,
    `${name}=; ${name}=${mine}`,
    `${name}=${mine}; ${name}.0=${stolen}`,
    `${name}.0=${mine.slice(0, 20)}; ${name}.2=${mine.slice(20)}`,
    `${name}.0=${mine}; ${name}.0=${stolen}`,
    `${name}X=${stolen}; ${name}=${mine}`,
  ]) {
    const r = await attempt(g, "/orders", { headers: { cookie } });
    assert.equal(r.status, 400, cookie.slice(0, 60));
  }
  // The unprefixed name (plantable over plain HTTP) is no credential on an HTTPS site.
  assert.equal((await attempt(g, "/orders", { headers: { cookie: `authjs.session-token=${mine}` } })).status, 401);
  await g.dispose();
});

test("preflights, methods, oversized and odd-byte headers", async () => {
  const g = await gate(vars);
  const pre = { "access-control-request-method": "DELETE", origin: "https://evil.example" };
  // A preflight is answered by the gate: no body, no identity, nothing upstream.
  let r = await attempt(g, "/admin/users", { method: "OPTIONS", headers: pre, body: "payload" });
  assert.equal(r.status, 204);
  assert.equal(r.hit, null);
  r = await attempt(g, "/admin/users", { method: "OPTIONS", headers: { "access-control-request-method": "DELETE" } });
  assert.equal(r.status, 401);
  for (const method of ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "PROPFIND", "MKCOL", "X-CUSTOM"]) {
    const init = { method };
    if (!["GET", "HEAD"].includes(method)) init.body = "x";
    r = await attempt(g, "/admin/users", init);
    // workerd answers methods it does not implement with 501 before the Worker runs.
    assert.ok([401, 501].includes(r.status), `${method}: ${r.status}`);
    assert.equal(r.hit, null);
  }
  const token = await hsToken({ sub: "me", scope: "admin" });
  for (const authorization of [
    `Bearer ${"A".repeat(70_000)}`,
    `Bearer ${token}x`,
    `Bearer ${token.replace(/\./g, ".\u0001")}`,
    "Bearer \u00e9\u00e9.\u00e9.\u00e9",
    `Bearer  ${token.split(".").slice(0, 2).join(".")}.`,
    "Bearer",
    `Basic ${token}`,
    `DPoP ${token}`,
  ]) {
    r = await attempt(g, "/admin", { headers: { authorization: authorization.replace(/[\u0000-\u001f]/g, "") } }).catch(
      // A value the fetch API itself refuses never leaves the client.
      () => ({ status: 401 }),
    );
    assert.ok([400, 401].includes(r.status), `${authorization.slice(0, 30)}: ${r.status}`);
  }
  r = await attempt(g, "/orders", { headers: { cookie: `a=${"b".repeat(30_000)}` } });
  assert.equal(r.status, 401);
  await g.dispose();
  console.log(`adversarial: ${tried} requests tried, ${reached} reached the upstream, each authenticated or public`);
});
