// jwtgate/authjs against the real Auth.js (@auth/core from npm), in Node: a Credentials sign-in
// through Auth.js's request handler sets the session cookie, the session endpoint returns the
// user, the absolute maxAge ends the session although it is used every few minutes, forged or
// foreign cookies give no session, and a cookie over Auth.js's chunk size still works.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Auth } from "@auth/core";
import Credentials from "@auth/core/providers/credentials";
import * as jose from "jose";
import { authjs } from "../../pkg/authjs/node.mjs";
import { Signer } from "../../pkg/node/jwtgate.js";

const ORIGIN = "http://localhost:3000";
const AUD = "shop-web";
const T0 = 1_800_000_000;
const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
const privateJwk = { ...(await jose.exportJWK(privateKey)), kid: "session-2026" };
const publicJwk = { ...(await jose.exportJWK(publicKey)), kid: "session-2026" };

function setup(extra = {}, { bigClaim = false, rebuild = false, keep = [] } = {}) {
  const clock = { now: T0 };
  const refused = [];
  const gate = authjs({
    issuer: ORIGIN,
    audience: AUD,
    keys: { keys: [privateJwk] },
    clock: () => clock.now,
    onRefuse: (code) => refused.push(code),
    env: {},
    ...extra,
  });
  const config = {
    basePath: "/auth",
    secret: "an-authjs-secret-that-is-long-enough-0123456789",
    trustHost: true,
    providers: [
      Credentials({
        credentials: { username: {}, password: {} },
        authorize: async (c) =>
          c.username === "ana" && c.password === "pw" ? { id: "user_ana", name: "Ana", email: "ana@example.com" } : null,
      }),
    ],
    session: gate.session,
    jwt: gate.jwt,
    callbacks: {
      async jwt(params) {
        // `rebuild`: an app callback that builds a fresh object from a few fields on every
        // refresh, losing auth_time (and everything else it does not name).
        const mine =
          rebuild && !params.user && params.token
            ? {
                sub: params.token.sub,
                name: params.token.name,
                email: params.token.email,
                iat: params.token.iat,
                ...Object.fromEntries(keep.map((k) => [k, params.token[k]])),
              }
            : params.token;
        const token = await gate.callbacks.jwt({ ...params, token: mine });
        if (token === null) return null;
        if (bigClaim && params.user) token.prefs = "p".repeat(6000); // forces Auth.js to chunk
        return token;
      },
      session: gate.callbacks.session,
    },
    logger: { error() {}, warn() {}, debug() {} },
  };
  const jar = new Map();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  async function request(path, init = {}) {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set("cookie", cookieHeader());
    const res = await Auth(new Request(ORIGIN + path, { ...init, headers }), config);
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(";");
      const i = pair.indexOf("=");
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      const expired = attrs.some((a) => /max-age=0|expires=thu, 01 jan 1970/i.test(a.trim()));
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }
  async function signIn(username = "ana", password = "pw") {
    const { csrfToken } = await (await request("/auth/csrf")).json();
    return request("/auth/callback/credentials", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrfToken, username, password, callbackUrl: ORIGIN + "/" }),
    });
  }
  async function session() {
    return (await request("/auth/session")).json();
  }
  const sessionCookie = () => jar.get("authjs.session-token");
  return { gate, clock, refused, jar, signIn, session, sessionCookie };
}

test("credentials sign-in sets a signed JWS session; the session endpoint returns the user", async () => {
  const s = setup();
  const res = await s.signIn();
  assert.equal(res.status, 302);
  const cookie = s.sessionCookie();
  assert.ok(cookie, "session cookie set");
  assert.equal(cookie.split(".").length, 3, "a compact JWS, not Auth.js's JWE");
  const header = jose.decodeProtectedHeader(cookie);
  assert.deepEqual([header.alg, header.typ, header.kid], ["ES256", "authjs-session+jwt", "session-2026"]);
  // Any holder of the public key (another service, the edge gate) verifies it with the same checks.
  const { payload } = await jose.jwtVerify(cookie, publicKey, {
    issuer: ORIGIN,
    audience: AUD,
    typ: "authjs-session+jwt",
    currentDate: new Date(T0 * 1000),
  });
  assert.equal(payload.sub, "user_ana");
  assert.equal(payload.auth_time, T0);
  assert.equal(payload.exp, T0 + 8 * 3600);
  const body = await s.session();
  assert.equal(body.user.email, "ana@example.com");
  assert.equal(body.user.id, "user_ana");
  assert.equal(body.expires, new Date((T0 + 8 * 3600) * 1000).toISOString());
  // Wrong password: no session cookie.
  const other = setup();
  await other.signIn("ana", "wrong");
  assert.equal(other.sessionCookie(), undefined);
});

test("updateAge: a young token keeps its header and claims byte-identical, an older one is re-signed, auth_time carried", async () => {
  const s = setup({ idleTimeoutSeconds: 3600 });
  await s.signIn();
  const first = s.sessionCookie();
  s.clock.now = T0 + 60;
  assert.equal((await s.session()).user.id, "user_ana");
  // ES256 under node:crypto draws a fresh nonce per signature: the signed part is what stays.
  const signed = (t) => t.slice(0, t.lastIndexOf("."));
  assert.equal(signed(s.sessionCookie()), signed(first), "within updateAge the header and claims do not change");
  s.clock.now = T0 + 16 * 60;
  await s.session();
  const second = s.sessionCookie();
  assert.notEqual(second, first);
  const p1 = jose.decodeJwt(first);
  const p2 = jose.decodeJwt(second);
  assert.equal(p2.iat, T0 + 16 * 60);
  assert.notEqual(p2.jti, p1.jti);
  assert.equal(p2.auth_time, T0, "auth_time from sign-in is carried forward");
  assert.equal(p2.exp, T0 + 16 * 60 + 3600, "idle timeout");
});

test("absolute maxAge: used every 7 minutes, the session still ends 8 hours after sign-in", async () => {
  const s = setup();
  await s.signIn();
  let last;
  for (s.clock.now = T0; s.clock.now <= T0 + 8 * 3600 - 60; s.clock.now += 7 * 60) {
    last = await s.session();
    assert.equal(last?.user?.id, "user_ana", `session alive at +${s.clock.now - T0}s`);
    assert.ok(jose.decodeJwt(s.sessionCookie()).exp <= T0 + 8 * 3600);
  }
  s.clock.now = T0 + 8 * 3600 + 31; // past auth_time + maxAge + leeway
  assert.equal(await s.session(), null);
  assert.ok(s.refused.includes("too_old") || s.refused.includes("expired"), s.refused.join());
  assert.equal(s.sessionCookie(), undefined, "Auth.js cleared the cookie");
});

test("foreign and forged cookies give no session", async () => {
  const s = setup();
  await s.signIn();
  const good = s.sessionCookie();
  const claims = jose.decodeJwt(good);
  const signWith = (policyExtra, payload = { sub: "user_ana" }, key = privateJwk) =>
    new Signer(
      {
        issuer: ORIGIN,
        audience: AUD,
        algorithms: ["ES256"],
        typ: "authjs-session+jwt",
        keys: { keys: [key] },
        ...policyExtra,
      },
    ).sign(payload, { now: T0 });
  const otherKey = await jose.generateKeyPair("ES256", { extractable: true });
  const otherJwk = { ...(await jose.exportJWK(otherKey.privateKey)), kid: "session-2026" };
  const [h, p, sig] = good.split(".");
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const cases = {
    "another audience": signWith({ audience: "admin-web" }),
    "another issuer": signWith({ issuer: "https://staging.example.com" }),
    "an access token (typ JWT)": signWith({ typ: "JWT" }),
    "another key": signWith({}, { sub: "user_ana" }, otherJwk),
    "alg changed to HS256": `${b64({ alg: "HS256", typ: "authjs-session+jwt", kid: "session-2026" })}.${p}.${sig}`,
    "alg none": `${b64({ alg: "none" })}.${p}.`,
    "tampered payload": `${h}.${b64({ ...claims, sub: "user_admin" })}.${sig}`,
  };
  for (const [name, cookie] of Object.entries(cases)) {
    s.jar.set("authjs.session-token", cookie);
    s.clock.now = T0 + 10;
    assert.equal(await s.session(), null, name);
  }
  assert.deepEqual(
    new Set(s.refused),
    new Set(["audience", "issuer", "type", "signature", "algorithm"]),
  );
});

test("a cookie over Auth.js's chunk size still works", async () => {
  const s = setup({}, { bigClaim: true });
  await s.signIn();
  assert.equal(s.sessionCookie(), undefined);
  const chunks = [...s.jar.keys()].filter((k) => k.startsWith("authjs.session-token."));
  assert.ok(chunks.length >= 2, `chunked into ${chunks.length}`);
  s.clock.now = T0 + 60;
  const body = await s.session();
  assert.equal(body.user.id, "user_ana");
});

test("fails closed on configuration: no issuer, no audience, short secret, no keys", () => {
  assert.throws(() => authjs({ audience: AUD, secret: "x".repeat(40), env: {} }), { code: "config", field: "AUTH_URL" });
  assert.throws(() => authjs({ issuer: ORIGIN, secret: "x".repeat(40), env: {} }), { code: "config", field: "audience" });
  assert.throws(() => authjs({ issuer: ORIGIN, audience: AUD, secret: "short", env: {} }), { code: "config", field: "secret" });
  // The reason is the core's (one rule), said once, under the option the app wrote.
  assert.throws(() => authjs({ issuer: ORIGIN, audience: AUD, secret: "short", env: {} }), (e) =>
    /32 bytes/.test(e.message) && (e.message.match(/config:/g) ?? []).length === 1 && !e.message.includes("keys.keys"));
  // A mistake elsewhere is not blamed on the secret.
  assert.throws(() => authjs({ issuer: ORIGIN, audience: AUD, secret: "x".repeat(40), algorithms: ["ES256"], env: {} }), (e) =>
    e.code === "config" && e.field !== "secret");
  assert.throws(() => authjs({ issuer: ORIGIN, audience: AUD, env: {} }), { code: "config", field: "keys" });
  // AUTH_URL, then NEXTAUTH_URL, fill in the issuer.
  assert.equal(authjs({ audience: AUD, secret: "x".repeat(40), env: { NEXTAUTH_URL: ORIGIN } }).policy.issuer, ORIGIN);
  assert.equal(authjs({ audience: AUD, secret: "x".repeat(40), env: { AUTH_URL: "https://a.example", NEXTAUTH_URL: ORIGIN } }).policy.issuer, "https://a.example");
});

test("HMAC secret mode, and stamp/checkClaims for apps that keep Auth.js's own encoding", async () => {
  const s = setup({ keys: undefined, secret: "a-very-long-session-secret-of-32-bytes-or-more" });
  await s.signIn();
  assert.equal(jose.decodeProtectedHeader(s.sessionCookie()).alg, "HS256");
  assert.equal((await s.session()).user.id, "user_ana");
  const stamped = await s.gate.stamp({ sub: "user_ana" });
  assert.equal(stamped.iss, ORIGIN);
  await s.gate.checkClaims(stamped);
  await assert.rejects(s.gate.checkClaims({ ...stamped, aud: "other" }), { code: "audience" });
  await assert.rejects(s.gate.checkClaims({ sub: "x" }), { code: "missing_claim" });
});

test("a WebCrypto-exported Ed25519 key (key_ops sign, alg Ed25519) works as it is", async () => {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const jwk = { ...(await crypto.subtle.exportKey("jwk", pair.privateKey)), kid: "wc-1" };
  assert.deepEqual([jwk.alg, jwk.key_ops], ["Ed25519", ["sign"]]);
  const s = setup({ keys: { keys: [jwk] } });
  await s.signIn();
  assert.equal(jose.decodeProtectedHeader(s.sessionCookie()).alg, "Ed25519");
  assert.equal((await s.session()).user.id, "user_ana");
  const pub = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const { payload } = await jose.jwtVerify(s.sessionCookie(), await jose.importJWK({ ...pub, alg: "Ed25519" }), {
    issuer: ORIGIN,
    audience: AUD,
    currentDate: new Date(T0 * 1000),
  });
  assert.equal(payload.sub, "user_ana");
});

test("the issuer's whole mixed set: only the signing key's algorithm is pinned, other keys are inert", async () => {
  const rsa = await jose.generateKeyPair("RS256", { extractable: true });
  const ed = await jose.generateKeyPair("EdDSA", { extractable: true });
  const rsaPub = { ...(await jose.exportJWK(rsa.publicKey)), kid: "rsa-old" };
  const edPub = { ...(await jose.exportJWK(ed.publicKey)), kid: "ed-other" };
  const s = setup({ keys: { keys: [privateJwk, rsaPub, edPub] } });
  await s.signIn();
  assert.equal(jose.decodeProtectedHeader(s.sessionCookie()).alg, "ES256");
  assert.equal((await s.session()).user.id, "user_ana");
  // A session signed with another key of the set (one the app never signs with) is refused:
  // that key is inert, not an extra way in.
  const forged = await new jose.SignJWT({ sub: "user_mallory", iss: ORIGIN, aud: AUD, auth_time: T0, jti: "x" })
    .setProtectedHeader({ alg: "RS256", kid: "rsa-old", typ: "authjs-session+jwt" })
    .setIssuedAt(T0)
    .setExpirationTime(T0 + 600)
    .sign(rsa.privateKey);
  assert.equal(await s.gate.jwt.decode({ token: forged }), null);
  assert.ok(s.refused.includes("algorithm"), s.refused.join());
});

test("revocation: a Map-like store denies a session by sid across refreshes, and a subject's older sessions", async () => {
  const store = new Map();
  const s = setup({ revocation: store, idleTimeoutSeconds: 3600 });
  await s.signIn();
  const first = jose.decodeJwt(s.sessionCookie());
  assert.equal(typeof first.sid, "string");
  assert.equal(first.sid.length, 22);
  // Refreshed past updateAge: new jti and iat, same session id and start.
  s.clock.now = T0 + 20 * 60;
  assert.equal((await s.session()).user.id, "user_ana");
  const second = jose.decodeJwt(s.sessionCookie());
  assert.notEqual(second.jti, first.jti);
  assert.deepEqual([second.sid, second.auth_time], [first.sid, T0]);
  // Revoking the first token's jti does not end the refreshed session; revoking the session does.
  store.set(`jti:${first.jti}`, "1");
  assert.equal((await s.session()).user.id, "user_ana");
  store.set(`sid:${first.sid}`, "1");
  s.clock.now += 1;
  assert.equal(await s.session(), null);
  assert.ok(s.refused.includes("revoked"), s.refused.join());
  assert.equal(s.sessionCookie(), undefined, "Auth.js cleared the cookie");

  // A sub: cut-off ends every session that started before it, however recently refreshed...
  const t = setup({ revocation: store, idleTimeoutSeconds: 3600 });
  await t.signIn();
  t.clock.now = T0 + 30 * 60;
  assert.equal((await t.session()).user.id, "user_ana");
  store.set("sub:user_ana", String(T0 + 10));
  t.clock.now += 1;
  assert.equal(await t.session(), null);
  // ...and not one started after it.
  const u = setup({ revocation: store });
  u.clock.now = T0 + 100;
  await u.signIn();
  assert.equal((await u.session()).user.id, "user_ana");
});

test("revocation: a store that fails or is not a store refuses, never passes", async () => {
  const failing = { get: async () => { throw new Error("redis down"); } };
  const s = setup({ revocation: failing });
  await s.signIn();
  assert.equal(await s.session(), null);
  assert.ok(s.refused.includes("revocation_unavailable"), s.refused.join());
  // A store answering something that is not text or null is a configuration error, not a pass.
  const odd = setup({ revocation: { get: async () => 42 } });
  await odd.signIn();
  assert.equal(await odd.session(), null);
  assert.ok(odd.refused.includes("config"), odd.refused.join());
  for (const bad of [null, {}, { get: "yes" }]) {
    assert.throws(() => setup({ revocation: bad }), { code: "config", field: "revocation" });
  }
});

test("a jwt callback that rebuilds the token and loses auth_time ends the session, not restarts it", async () => {
  const s = setup({ idleTimeoutSeconds: 3600 }, { rebuild: true });
  await s.signIn();
  assert.equal(jose.decodeJwt(s.sessionCookie()).auth_time, T0);
  s.clock.now = T0 + 20 * 60; // past updateAge: Auth.js runs the callback and re-encodes
  assert.equal(await s.session(), null);
  assert.ok(s.refused.includes("missing_claim"), s.refused.join());
  // The adapter's own encode refuses such claims too (a caller that skips the callback).
  await assert.rejects(
    s.gate.jwt.encode({ token: { sub: "user_ana", iat: T0 }, secret: "x", salt: "authjs.session-token" }),
    { code: "missing_claim" },
  );
  // Keeping auth_time but dropping the session id would escape sid: revocation: ended too.
  const t = setup({ idleTimeoutSeconds: 3600 }, { rebuild: true, keep: ["auth_time"] });
  await t.signIn();
  t.clock.now = T0 + 20 * 60;
  assert.equal(await t.session(), null);
  await assert.rejects(
    t.gate.jwt.encode({ token: { sub: "user_ana", iat: T0, auth_time: T0 }, secret: "x", salt: "authjs.session-token" }),
    { code: "missing_claim", claim: "sid" },
  );
  // Keeping both, the rebuilt session lives on with its id.
  const u = setup({ idleTimeoutSeconds: 3600 }, { rebuild: true, keep: ["auth_time", "sid"] });
  await u.signIn();
  const sid = jose.decodeJwt(u.sessionCookie()).sid;
  u.clock.now = T0 + 20 * 60;
  assert.equal((await u.session()).user.id, "user_ana");
  assert.equal(jose.decodeJwt(u.sessionCookie()).sid, sid);
});
