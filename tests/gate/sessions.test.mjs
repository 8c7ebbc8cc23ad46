// Sessions you can list and end at the gate (JWTGATE_ADMIN_PATH, JWTGATE_MAX_SESSIONS), over
// HTTP in workerd with two gate isolates on one Durable Object: each rotation registers its
// session under the subject; the admin endpoint (its own secret only) lists them and ends one or
// all, with effect on the very next request in the other isolate; the per-subject cap ends the
// oldest or refuses the new one; the store's outage is 503. First refresh tokens are jose's.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { upstream, gate, gateBindings, basePolicy, hsToken, bearer, openGates, expectMisconfigured, stateWorker, stateOf, refreshToken } from "./harness.mjs";
import { gateWorkerOptions } from "../../scripts/workerd.mjs";

after(() => Promise.all([...openGates].map((g) => g.dispose())));

const REFRESH_AUD = "https://auth.example.com/refresh";
const PATH = "/.jwtgate/refresh";
const ADMIN = "/.jwtgate/admin";
const ADMIN_TOKEN = "an-operator-secret-that-is-long-enough-0123456789";
const COOKIE = "__Host-jwtgate-refresh";
const STATE = { JWTGATE_STATE: "JwtgateState" };
const CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
const policy = { ...basePolicy, maxAgeSeconds: 86400, refresh: { audience: REFRESH_AUD, ttlSeconds: 3600, accessTtlSeconds: 300 } };
const vars = (extra = {}) => ({
  JWTGATE_POLICY: JSON.stringify(policy),
  JWTGATE_REFRESH_PATH: PATH,
  JWTGATE_ADMIN_PATH: ADMIN,
  JWTGATE_ADMIN_TOKEN: ADMIN_TOKEN,
  ...extra,
});

const firstRefresh = (sub, sid = crypto.randomUUID()) => refreshToken({ sub, sid }, REFRESH_AUD);

/** Signs in `sub` (a new family) and rotates once: the session's access token and sid. */
async function session(g, sub, userAgent = CHROME) {
  const sid = crypto.randomUUID();
  const r = await g.fetch(PATH, { method: "POST", headers: { cookie: `${COOKIE}=${await firstRefresh(sub, sid)}`, "user-agent": userAgent } });
  assert.equal(r.status, 200, await r.clone().text());
  return { sid, access: (await r.json()).access_token };
}

const admin = (g, method, path, token = ADMIN_TOKEN, via = null) => {
  const init = { method, headers: token ? bearer(token) : {} };
  return via ? g.fetchFrom(via, `${ADMIN}${path}`, init) : g.fetch(`${ADMIN}${path}`, init);
};
const passes = async (g, access, via = null) => {
  const init = { headers: bearer(access) };
  return (await (via ? g.fetchFrom(via, "/orders", init) : g.fetch("/orders", init))).status;
};

test("an operator lists a subject's sessions and ends one or all, at once in every isolate", async () => {
  const b = { name: "gate-b", ...gateWorkerOptions(gateBindings(vars())), durableObjects: { JWTGATE_STATE: { className: "JwtgateState", scriptName: "gate" } } };
  const g = await gate(vars(), { durableObjects: STATE, extraWorkers: [b] });
  try {
    const sub = `user-${crypto.randomUUID()}@example.com`;
    const one = await session(g, sub);
    const two = await session(g, sub, "curl/8.5.0");
    const other = await session(g, "someone-else");
    const before = upstream.hits.length;
    const listed = await admin(g, "GET", `/sessions?sub=${encodeURIComponent(sub)}`);
    assert.equal(listed.status, 200);
    const body = await listed.json();
    assert.equal(body.sub, sub);
    assert.deepEqual(body.sessions.map((s) => [s.sid, s.generation, s.client]).sort(), [[one.sid, 1, "chrome"], [two.sid, 1, "curl"]].sort());
    const text = JSON.stringify(body);
    for (const secret of [one.access, "Mozilla", "curl/8.5", "127.0.0.1"]) assert.ok(!text.includes(secret), secret);
    // End one from this isolate: its access token stops on the next request in the other.
    assert.equal(await passes(g, one.access, "gate-b"), 200);
    const ended = await admin(g, "POST", `/sessions/end?sub=${encodeURIComponent(sub)}&sid=${one.sid}`);
    assert.deepEqual(await ended.json(), { ended: [one.sid], revoked: [one.sid] });
    assert.equal(await passes(g, one.access, "gate-b"), 401);
    assert.equal(await passes(g, two.access, "gate-b"), 200);
    // End all (from the other isolate): every session of the subject, no one else's.
    const all = await admin(g, "POST", `/sessions/end?sub=${encodeURIComponent(sub)}`, ADMIN_TOKEN, "gate-b");
    assert.deepEqual(await all.json(), { ended: [two.sid], revoked: [two.sid] });
    // A session of this subject signed in before the end, refreshing for the first time after
    // it, is over too.
    const signedInBefore = await refreshToken({ sub, sid: crypto.randomUUID(), auth_time: Math.floor(Date.now() / 1000) - 60 }, REFRESH_AUD);
    const late = await g.fetch(PATH, { method: "POST", headers: { cookie: `${COOKIE}=${signedInBefore}` } });
    assert.equal(late.status, 401);
    // Another subject's session named with this subject: revoked, but not listed as ended.
    const cross = await admin(g, "POST", `/sessions/end?sub=${encodeURIComponent(sub)}&sid=${other.sid}`);
    assert.deepEqual(await cross.json(), { ended: [], revoked: [other.sid] });
    assert.equal(await passes(g, other.access), 401);
    assert.equal(await passes(g, two.access), 401);
    const audit = await (await admin(g, "GET", `/audit?sub=${encodeURIComponent(sub)}`)).json();
    assert.deepEqual(audit.audit.map((e) => e.event), ["start", "start", "end", "end", "end"]);
    assert.equal(upstream.hits.length - before, 2, "only the /orders requests that passed reached the upstream");
  } finally {
    await g.dispose();
  }
});

test("the admin endpoint takes its own secret only, and nothing under it reaches the upstream", async () => {
  const g = await gate(vars(), { durableObjects: STATE });
  try {
    const user = await session(g, "ada");
    const before = upstream.hits.length;
    for (const token of [null, user.access, await hsToken(), ADMIN_TOKEN.slice(0, -1), `${ADMIN_TOKEN}x`]) {
      const r = await admin(g, "GET", "/sessions?sub=ada", token);
      assert.equal(r.status, 401, String(token));
      assert.match(r.headers.get("www-authenticate"), /realm="jwtgate-admin"/);
    }
    assert.equal((await admin(g, "GET", "/users?sub=ada")).status, 404);
    assert.equal((await admin(g, "DELETE", "/sessions?sub=ada")).status, 405);
    assert.equal((await admin(g, "GET", "/sessions")).status, 400);
    assert.equal((await admin(g, "GET", "/sessions?sub=a&sub=b")).status, 400);
    // The secret never shows in the logs.
    assert.ok(!g.logs.some((l) => l.includes(ADMIN_TOKEN)));
    assert.equal(upstream.hits.length, before);
  } finally {
    await g.dispose();
  }
});

test("a per-subject cap ends the oldest session, or refuses the new one", async () => {
  let g = await gate(vars({ JWTGATE_MAX_SESSIONS: "1" }), { durableObjects: STATE });
  try {
    const first = await session(g, "capped-ada");
    const second = await session(g, "capped-ada");
    assert.equal(await passes(g, first.access), 401, "the oldest was ended");
    assert.equal(await passes(g, second.access), 200);
  } finally {
    await g.dispose();
  }
  g = await gate(vars({ JWTGATE_MAX_SESSIONS: "1", JWTGATE_SESSION_CAP: "refuse" }), { durableObjects: STATE });
  try {
    const kept = await session(g, "capped-bob");
    const r = await g.fetch(PATH, { method: "POST", headers: { cookie: `${COOKIE}=${await firstRefresh("capped-bob")}` } });
    assert.equal(r.status, 401);
    assert.equal((await r.json()).reason, "revoked");
    assert.equal(await passes(g, kept.access), 200);
  } finally {
    await g.dispose();
  }
});

test("the store down or answering oddly: 503 for the admin endpoint and refreshes, never a pass", async () => {
  const g = await gate(vars(), stateOf(stateWorker("odd-state", `return new Response("registry:{}");`)));
  try {
    const r = await admin(g, "GET", "/sessions?sub=ada");
    assert.equal(r.status, 503);
    const refreshed = await g.fetch(PATH, { method: "POST", headers: { cookie: `${COOKIE}=${await firstRefresh("ada")}` } });
    assert.equal(refreshed.status, 503);
  } finally {
    await g.dispose();
  }
  // Without the refresh endpoint there are no sessions to keep: a configuration error.
  await expectMisconfigured({ JWTGATE_ADMIN_PATH: ADMIN, JWTGATE_ADMIN_TOKEN: ADMIN_TOKEN }, "JWTGATE_ADMIN_PATH");
});

test("under concurrency: the cap holds for starts racing in two isolates, and an end stops every later request", async () => {
  const b = { name: "gate-b", ...gateWorkerOptions(gateBindings(vars({ JWTGATE_MAX_SESSIONS: "1" }))), durableObjects: { JWTGATE_STATE: { className: "JwtgateState", scriptName: "gate" } } };
  const g = await gate(vars({ JWTGATE_MAX_SESSIONS: "1" }), { durableObjects: STATE, extraWorkers: [b] });
  try {
    for (let round = 0; round < 3; round++) {
      const sub = `racer-${round}`;
      // Two first refreshes of one subject at once, one per isolate: each subject is one object,
      // so the registry sees them one after the other and keeps exactly one.
      const starts = await Promise.all([
        g.fetch(PATH, { method: "POST", headers: { cookie: `${COOKIE}=${await firstRefresh(sub)}` } }),
        g.fetchFrom("gate-b", PATH, { method: "POST", headers: { cookie: `${COOKIE}=${await firstRefresh(sub)}` } }),
      ]);
      assert.deepEqual(starts.map((r) => r.status), [200, 200], `round ${round}`);
      const tokens = await Promise.all(starts.map(async (r) => (await r.json()).access_token));
      const live = (await (await admin(g, "GET", `/sessions?sub=${sub}`)).json()).sessions;
      assert.equal(live.length, 1, `round ${round}`);
      const statuses = await Promise.all(tokens.map((t) => passes(g, t, "gate-b")));
      assert.deepEqual(statuses.sort(), [200, 401], `round ${round}: exactly one session lives`);
    }
    // Requests in flight while the session is ended: each one passes or is refused (never an
    // error), and every request after the end's answer is refused, in both isolates.
    const s = await session(g, "busy");
    const inFlight = Array.from({ length: 8 }, (_, i) => passes(g, s.access, i % 2 ? "gate-b" : null));
    const ended = await admin(g, "POST", `/sessions/end?sub=busy&sid=${s.sid}`);
    assert.equal(ended.status, 200);
    for (const status of await Promise.all(inFlight)) assert.ok([200, 401].includes(status), String(status));
    assert.deepEqual(await Promise.all([passes(g, s.access), passes(g, s.access, "gate-b")]), [401, 401]);
  } finally {
    await g.dispose();
  }
});
