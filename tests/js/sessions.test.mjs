// Sessions you can list and end, in the npm Refresher (its in-memory store): each subject's
// sessions with their audit trail, ending one or all at once (the next refresh fails, the
// family reads revoked), and the per-subject cap (the oldest ended, or the new one refused).
// Tokens are checked with jose, an independent verifier.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as jose from "jose";
import { codeOf as code } from "./helpers.mjs";

const require = createRequire(import.meta.url);
const node = require(fileURLToPath(new URL("../../pkg/", import.meta.url)));

const secret = crypto.getRandomValues(new Uint8Array(32));
const policy = {
  issuer: "https://issuer.example",
  audience: "api",
  algorithms: ["HS256"],
  keys: { keys: [{ kty: "oct", kid: "k", k: Buffer.from(secret).toString("base64url") }] },
  maxAgeSeconds: 86400,
  refresh: { audience: "https://issuer.example/refresh" },
};
const NOW = Math.floor(Date.now() / 1000);
const CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
const sidOf = (token) => jose.decodeJwt(token).sid;

test("a subject's sessions are listed with an audit trail, and end one by one or all at once", async () => {
  const r = new node.Refresher(policy);
  const a = r.start({ sub: "ada" }, { now: NOW, userAgent: CHROME });
  const b = r.start({ sub: "ada" }, { now: NOW + 5, userAgent: "curl/8.5.0" });
  r.start({ sub: "bob" }, { now: NOW });
  const next = r.refresh(a, { now: NOW + 10 });
  await jose.jwtVerify(next.accessToken, secret, { issuer: policy.issuer, audience: "api", currentDate: new Date((NOW + 10) * 1000) });
  const list = r.sessions("ada");
  assert.deepEqual(list.map((s) => [s.sid, s.generation, s.client, s.provider]), [
    [sidOf(a), 1, "chrome", "default"],
    [sidOf(b), 0, "curl", "default"],
  ]);
  assert.equal(list[0].lastRotation, NOW + 10);
  // Nothing but ids, times, generations and client families: no token, no user agent.
  const text = JSON.stringify([list, r.auditTrail("ada")]);
  for (const secretish of [a, next.refreshToken, "Mozilla", "Chrome/131", "curl/8"]) assert.ok(!text.includes(secretish), secretish);
  // End one: its next refresh fails and the family reads revoked; the other goes on.
  assert.equal(r.endSession("ada", sidOf(a), { now: NOW + 20 }), true);
  assert.equal(r.endSession("ada", sidOf(a), { now: NOW + 21 }), false, "ended once");
  assert.equal(code(() => r.refresh(next.refreshToken, { now: NOW + 30 })), "revoked");
  assert.equal(r.isRevoked(sidOf(a)), true);
  assert.equal(code(() => r.refresh(b, { now: NOW + 30 })), "passed");
  // Another subject's sessions are not this one's.
  assert.equal(r.endSession("bob", sidOf(b)), false);
  // End all: every family revoked at once, before any of them rotated again.
  const c = r.start({ sub: "ada" }, { now: NOW + 40 });
  assert.deepEqual(r.endSessions("ada", { now: NOW + 50 }).sort(), [sidOf(b), sidOf(c)].sort());
  assert.deepEqual(r.sessions("ada"), []);
  assert.equal(code(() => r.refresh(c, { now: NOW + 60 })), "revoked");
  assert.deepEqual(
    r.auditTrail("ada").map((e) => e.event),
    ["start", "start", "rotate", "end", "rotate", "start", "end", "end"],
  );
  assert.equal(r.sessions("bob").length, 1);
  assert.deepEqual(r.sessions("nobody"), []);
});

test("a reuse ends the session and is in the trail", () => {
  const r = new node.Refresher(policy);
  const first = r.start({ sub: "ada" }, { now: NOW });
  r.refresh(first, { now: NOW + 1 });
  assert.equal(code(() => r.refresh(first, { now: NOW + 2 })), "revoked");
  assert.deepEqual(r.sessions("ada"), []);
  assert.deepEqual(r.auditTrail("ada").map((e) => e.event), ["start", "rotate", "reuse"]);
});

test("a per-subject cap ends the oldest session, or refuses the new one", () => {
  const oldest = new node.Refresher(policy, { maxSessions: 2 });
  const t1 = oldest.start({ sub: "ada" }, { now: NOW });
  const t2 = oldest.start({ sub: "ada" }, { now: NOW + 1 });
  const t3 = oldest.start({ sub: "ada" }, { now: NOW + 2 });
  assert.deepEqual(oldest.sessions("ada").map((s) => s.sid), [sidOf(t2), sidOf(t3)]);
  assert.equal(code(() => oldest.refresh(t1, { now: NOW + 3 })), "revoked");
  assert.equal(code(() => oldest.refresh(t2, { now: NOW + 3 })), "passed");
  assert.ok(oldest.auditTrail("ada").some((e) => e.event === "cap" && e.sid === sidOf(t1)));
  // Another subject has its own allowance.
  assert.equal(code(() => oldest.start({ sub: "bob" }, { now: NOW })), "passed");

  const refuse = new node.Refresher(policy, { maxSessions: 1, onSessionCap: "refuse" });
  const kept = refuse.start({ sub: "ada" }, { now: NOW });
  assert.equal(code(() => refuse.start({ sub: "ada" }, { now: NOW + 1 })), "revoked");
  assert.equal(refuse.sessions("ada").length, 1);
  assert.equal(code(() => refuse.refresh(kept, { now: NOW + 2 })), "passed", "a rotation is never refused");
  // Bad options are configuration errors.
  for (const bad of [{ maxSessions: 0 }, { maxSessions: 1.5 }, { maxSessions: 257 }, { onSessionCap: "refuse" }, { maxSessions: 2, onSessionCap: "oldest" }, { maxSesions: 2 }]) {
    assert.throws(() => new node.Refresher(policy, bad), { code: "config" }, JSON.stringify(bad));
  }
  assert.throws(() => new node.Refresher(policy).start({ sub: "ada" }, { userAgent: 42 }), { code: "config" });
});
