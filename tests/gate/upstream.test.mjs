// What the upstream receives (issue 32, part 1), one attack per test, each written as an
// attacker or a real Auth.js app would try it: another spelling of a session cookie beside the
// verified credential, the refresh cookie in look-alike spellings and after a comma, an unverified
// DPoP proof on a public path, identity headers too large for a default upstream, and an ended
// session in a browser. After each: what reached the upstream, and what the client got.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { basePolicy, upstream, gate, hsToken, bearer, openGates, nowS } from "./harness.mjs";

after(() => Promise.all([...openGates].map((g) => g.dispose())));

const SESSION = "__Secure-authjs.session-token";

async function send(g, path, headers) {
  const before = upstream.hits.length;
  const r = await g.fetch(path, { headers });
  const body = r.headers.get("content-type")?.includes("json") ? await r.json() : await r.text();
  return { r, status: r.status, body, hit: upstream.hits[before] ?? null, reached: upstream.hits.length - before };
}

test("a session cookie in another spelling never rides along with the verified credential", async () => {
  const g = await gate({ JWTGATE_PUBLIC_PATHS: "/health" });
  const mine = await hsToken({ sub: "attacker" });
  const victim = await hsToken({ sub: "victim" });
  // An Auth.js app reached over http:// reads the unprefixed name; ASP.NET reads any case;
  // frameworks that strip cookie prefixes read the bare name. Each beside my bearer token.
  for (const spelling of [
    "authjs.session-token",
    "AUTHJS.SESSION-TOKEN",
    "__secure-authjs.session-token",
    "__Host-authjs.session-token",
    "authjs.session-token.0",
    "Authjs.Session-Token.1",
  ]) {
    const { status, hit } = await send(g, "/orders", { ...bearer(mine), cookie: `theme=dark; ${spelling}=${victim}` });
    assert.equal(status, 200, spelling);
    assert.equal(hit.headers["x-jwtgate-sub"], "attacker");
    assert.equal(hit.headers.cookie, "theme=dark", `${spelling} reached the upstream`);
  }
  // Authenticated by the exact cookie: the other spellings go, the verified one stays.
  const { status, hit } = await send(g, "/orders", {
    cookie: `${SESSION}=${mine}; authjs.session-token=${victim}; __HOST-authjs.session-token=${victim}`,
  });
  assert.equal(status, 200);
  assert.equal(hit.headers.cookie, `${SESSION}=${mine}`);
  // PHP reads `.` in a name as `_` (and keeps the first of two): stripped like the others.
  const php = await send(g, "/orders", { cookie: `__Secure-authjs_session-token=${victim}; ${SESSION}=${mine}` });
  assert.equal(php.status, 200);
  assert.equal(php.hit.headers.cookie, `${SESSION}=${mine}`);
  // Names a framework decodes (PHP, old Rack: %2E is `.`): refused, never forwarded. (Names
  // folded by Unicode case rules, like the Kelvin sign for `k`, are refused the same way; fetch
  // cannot send them, so gate::token's native tests carry those.)
  for (const name of ["authjs%2Esession-token", "__Secure-authjs%2esession-token", "a\u00e9"]) {
    const r = await send(g, "/orders", { ...bearer(mine), cookie: `${name}=${victim}` });
    assert.equal(r.status, 400, name);
    assert.equal(r.reached, 0, name);
  }
  // Hidden after a comma (two Cookie fields joined), in another case: refused, never forwarded.
  const joined = await send(g, "/orders", { ...bearer(mine), cookie: `a=1, AUTHJS.session-token=${victim}` });
  assert.equal(joined.status, 400);
  assert.equal(joined.reached, 0);
  await g.dispose();
});

test("plain HTTP: the prefixed session verified, the unprefixed one the app would read is stripped", async () => {
  const g = await gate({ JWTGATE_PLAIN_HTTP: "true" });
  const mine = await hsToken({ sub: "a" });
  const victim = await hsToken({ sub: "b" });
  const { status, hit } = await send(g, "/orders", { cookie: `${SESSION}=${mine}; authjs.session-token=${victim}` });
  assert.equal(status, 200);
  assert.equal(hit.headers["x-jwtgate-sub"], "a");
  assert.ok(!hit.headers.cookie.includes(victim), hit.headers.cookie);
  assert.equal(hit.headers.cookie, `${SESSION}=${mine}`);
  await g.dispose();
});

test("the refresh cookie never goes upstream: look-alike names, any case, after a comma", async () => {
  const policy = { ...basePolicy, maxAgeSeconds: 86400, refresh: { audience: "https://auth.example.com/refresh" } };
  const g = await gate(
    { JWTGATE_POLICY: JSON.stringify(policy), JWTGATE_REFRESH_PATH: "/.jwtgate/refresh", JWTGATE_PUBLIC_PATHS: "/health" },
    { durableObjects: { JWTGATE_STATE: "JwtgateState" } },
  );
  const mine = await hsToken({ sub: "me" });
  for (const cookie of [
    "a=1; __Host-jwtgate-refresh=R; b=2",
    "a=1; __host-jwtgate-refresh=R; b=2",
    "a=1; __HOST-JWTGATE-REFRESH=R; b=2",
    "a=1; jwtgate-refresh=R; b=2",
    "a=1; __Secure-jwtgate-refresh=R; b=2",
    "a=1, __Host-jwtgate-refresh=R; b=2",
  ]) {
    for (const [path, headers] of [
      ["/health", { cookie }],
      ["/orders", { ...bearer(mine), cookie }],
    ]) {
      const { status, hit } = await send(g, path, headers);
      assert.equal(status, 200, `${path} ${cookie}`);
      assert.ok(!/refresh|=R\b/i.test(hit.headers.cookie ?? ""), `${path} ${cookie}: ${hit.headers.cookie}`);
      assert.match(hit.headers.cookie ?? "", /b=2/);
    }
  }
  await g.dispose();
});

test("an unverified DPoP proof never goes upstream, on a public path either", async () => {
  for (const vars of [{}, { JWTGATE_FORWARD_AUTHORIZATION: "true" }]) {
    const g = await gate({ ...vars, JWTGATE_PUBLIC_PATHS: "/health" });
    const proof = "eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJqdGkiOiIxIn0.c2ln";
    const { status, hit } = await send(g, "/health", { authorization: "DPoP tok", dpop: proof });
    assert.equal(status, 200);
    assert.equal(hit.headers.dpop, undefined, "the proof reached the upstream");
    // Authorization still goes on to a public path: the app judges it there.
    assert.equal(hit.headers.authorization, "DPoP tok");
    await g.dispose();
  }
});

test("identity headers stay within a default upstream's limits: a large session leaves x-jwtgate-claims out, with a log line", async () => {
  const g = await gate({ JWTGATE_CLAIM_HEADERS: JSON.stringify({ email: "x-jwtgate-email" }) });
  // A large session (Auth.js chunks past ~9 KB): with the claims header it is a 19 KB request head.
  const big = await hsToken({ sub: "u", email: "u@example.com", groups: Array.from({ length: 400 }, (_, i) => `group-${i}`) });
  const { status, hit } = await send(g, "/orders", bearer(big));
  assert.equal(status, 200);
  assert.equal(hit.headers["x-jwtgate-sub"], "u");
  assert.equal(hit.headers["x-jwtgate-email"], "u@example.com");
  assert.equal(hit.headers["x-jwtgate-claims"], undefined);
  const line = g.logs.find((l) => l.includes('"jwtgate":"identity_header_omitted"'));
  assert.ok(line && line.includes("x-jwtgate-claims") && !line.includes("group-1"), g.logs.join("\n"));
  // A small token still carries it.
  const small = await send(g, "/orders", bearer(await hsToken({ sub: "s" })));
  assert.ok(small.hit.headers["x-jwtgate-claims"]);
  await g.dispose();
  // Turned off: never sent, whatever the size.
  const off = await gate({ JWTGATE_IDENTITY_HEADER_MAX_BYTES: "0" });
  const r = await send(off, "/orders", bearer(await hsToken({ sub: "s" })));
  assert.equal(r.status, 200);
  assert.equal(r.hit.headers["x-jwtgate-claims"], undefined);
  assert.equal(r.hit.headers["x-jwtgate-sub"], "s");
  await off.dispose();
});

test("an ended session in a browser goes to the login page with its cookies cleared; an API call gets 401", async () => {
  const g = await gate({ JWTGATE_LOGIN_URL: "/login" });
  const html = "text/html,application/xhtml+xml,*/*;q=0.8";
  const expired = await hsToken({ sub: "u" }, { exp: nowS() - 3600 });
  const nav = await send(g, "/orders", { accept: html, cookie: `theme=dark; ${SESSION}=${expired}` });
  assert.equal(nav.reached, 0);
  assert.equal(nav.status, 302);
  assert.match(nav.r.headers.get("location"), /^\/login\?callbackUrl=/);
  assert.match(nav.r.headers.get("set-cookie"), new RegExp(`^${SESSION.replace(".", "\\.")}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Secure`));
  // Broken chunks in a browser: the same, every piece cleared.
  const broken = await send(g, "/orders", { accept: html, cookie: `${SESSION}.0=a; ${SESSION}.2=c` });
  assert.equal(broken.status, 302);
  assert.match(broken.r.headers.get("set-cookie"), /\.0=; Max-Age=0.*\.2=; Max-Age=0/);
  // The same requests from a script keep the RFC 6750 answers.
  const api = await send(g, "/orders", { accept: "application/json", cookie: `${SESSION}=${expired}` });
  assert.equal(api.status, 401);
  assert.equal(api.body.reason, "expired");
  assert.equal(api.r.headers.get("set-cookie"), null);
  assert.equal((await send(g, "/orders", { cookie: `${SESSION}.0=a; ${SESSION}.2=c` })).status, 400);
  // A bearer token is no browser session: 401 even in a navigation.
  assert.equal((await send(g, "/orders", { accept: html, ...bearer(expired) })).status, 401);
  await g.dispose();
});
