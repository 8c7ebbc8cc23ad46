// End-to-end check of the built example: `next start`, then a real credentials sign-in over HTTP.
// Run after `next build`: node --test smoke.test.mjs   (scripts/test.sh does both)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const port = 3000 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}`;
let server;

before(async () => {
  server = spawn(process.execPath, ["node_modules/next/dist/bin/next", "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: dir,
    env: {
      AUTH_SECRET: "example-authjs-secret-for-tests-only",
      AUTH_SESSION_SECRET: "example-session-secret-for-tests-only-32b",
      ...process.env,
      AUTH_URL: base,
      NEXT_TELEMETRY_DISABLED: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  server.stdout.on("data", (d) => (log += d));
  server.stderr.on("data", (d) => (log += d));
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(base + "/")).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error("next start did not answer:\n" + log);
});
after(() => server?.kill());

/** Collect name=value pairs from Set-Cookie headers into a Cookie header. */
function cookies(res, jar = new Map()) {
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(";");
    const i = pair.indexOf("=");
    jar.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return jar;
}
const header = (jar) => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");

async function signIn(password) {
  const jar = new Map();
  const csrf = await fetch(base + "/api/auth/csrf");
  cookies(csrf, jar);
  const { csrfToken } = await csrf.json();
  const res = await fetch(base + "/api/auth/callback/credentials", {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: header(jar) },
    body: new URLSearchParams({ csrfToken, username: "ana", password, callbackUrl: base + "/protected" }),
  });
  cookies(res, jar);
  return jar;
}

test("the home page renders", async () => {
  const res = await fetch(base + "/");
  assert.equal(res.status, 200);
  assert.match(await res.text(), /jwtgate \+ Auth\.js/);
});

test("the proxy sends visitors without a session to sign-in", async () => {
  const res = await fetch(base + "/protected", { redirect: "manual" });
  assert.ok([302, 303, 307].includes(res.status), `status ${res.status}`);
  assert.match(res.headers.get("location"), /\/api\/auth\/signin/);
});

test("sign-in issues a jwtgate session that opens the protected page", async () => {
  const jar = await signIn("pw");
  const session = jar.get("authjs.session-token");
  assert.ok(session, "a session cookie was set");
  // A compact JWS (header.payload.signature), not Auth.js's default JWE.
  assert.equal(session.split(".").length, 3);
  const header = JSON.parse(Buffer.from(session.split(".")[0], "base64url"));
  assert.equal(header.alg, "HS256");
  const payload = JSON.parse(Buffer.from(session.split(".")[1], "base64url"));
  assert.equal(payload.iss, base);
  assert.equal(payload.aud, "nextjs-example");
  assert.equal(payload.sub, "user_ana");

  const page = await fetch(base + "/protected", { redirect: "manual", headers: { cookie: `authjs.session-token=${session}` } });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Hello <!-- -->Ana|Hello Ana/);

  const api = await (await fetch(base + "/api/auth/session", { headers: { cookie: `authjs.session-token=${session}` } })).json();
  assert.equal(api.user?.name, "Ana");
});

test("a wrong password gives no session", async () => {
  const jar = await signIn("nope");
  assert.equal(jar.get("authjs.session-token"), undefined);
});

test("a tampered session cookie is refused", async () => {
  const session = (await signIn("pw")).get("authjs.session-token");
  const [h, p, s] = session.split(".");
  const claims = JSON.parse(Buffer.from(p, "base64url"));
  claims.sub = "user_admin";
  const forged = [h, Buffer.from(JSON.stringify(claims)).toString("base64url"), s].join(".");
  const res = await fetch(base + "/protected", { redirect: "manual", headers: { cookie: `authjs.session-token=${forged}` } });
  assert.ok([302, 303, 307].includes(res.status), `status ${res.status}`);
  const api = await (await fetch(base + "/api/auth/session", { headers: { cookie: `authjs.session-token=${forged}` } })).json();
  assert.equal(api?.user, undefined);
});

// The web entry on Next.js's edge runtime (`export const runtime = "edge"`): the `edge-light`
// export condition loads the wasm from a `?module` import, with no init() call in the route.
test("edge runtime: the web entry verifies and refuses", async () => {
  const { SignJWT } = await import("jose");
  const key = Buffer.from("ZWRnZS1leGFtcGxlLXNlY3JldC1mb3ItdGVzdHMtb25seS0zMmI", "base64url");
  const token = await new SignJWT({ sub: "edge-user" })
    .setProtectedHeader({ alg: "HS256", kid: "edge-1" })
    .setIssuer("https://example.test")
    .setAudience("edge-api")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(key);
  const ok = await fetch(`${base}/api/edge?token=${token}`);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { ok: true, sub: "edge-user" });
  // Another last character that is still canonical base64url (a 32-byte signature's last
  // character carries 4 bits and two zero bits: A and E both do), so the answer is `signature`,
  // not `malformed`.
  const forged = await fetch(`${base}/api/edge?token=${token.slice(0, -1)}${token.endsWith("A") ? "E" : "A"}`);
  assert.equal(forged.status, 401);
  assert.equal((await forged.json()).code, "signature");
  const otherAudience = await new SignJWT({ sub: "edge-user" })
    .setProtectedHeader({ alg: "HS256", kid: "edge-1" })
    .setIssuer("https://example.test")
    .setAudience("another-api")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(key);
  const refused = await fetch(`${base}/api/edge?token=${otherAudience}`);
  assert.equal(refused.status, 401);
  assert.equal((await refused.json()).code, "audience");
});

// ES256 on the edge runtime: the web build has no ECDSA code, so the route's verifyAsync has
// the runtime's WebCrypto check the signature (a test-only key; the route holds its public half).
test("edge runtime: ES256 through WebCrypto verifies, and a signature by another key is refused", async () => {
  const { SignJWT, importJWK, generateKeyPair } = await import("jose");
  const jwk = {
    kty: "EC",
    crv: "P-256",
    x: "9enUa0b3L7caQ3vaK8F8BSKAmSxupreJ2SKExkCZnB4",
    y: "onZHYRU9fz3uWHl33c2KjZlZRNYpYot_qOH-4sYHSFE",
    d: "6g0evEythI9bLcRH_7TkqdEHfvaOnJ3RQzLY2g6zlO8",
  };
  const sign = (key) =>
    new SignJWT({ sub: "edge-ec-user" })
      .setProtectedHeader({ alg: "ES256", kid: "edge-ec-1" })
      .setIssuer("https://example.test")
      .setAudience("edge-api")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(key);
  const ok = await fetch(`${base}/api/edge?token=${await sign(await importJWK(jwk, "ES256"))}`);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { ok: true, sub: "edge-ec-user" });
  const other = await generateKeyPair("ES256");
  const forged = await fetch(`${base}/api/edge?token=${await sign(other.privateKey)}`);
  assert.equal(forged.status, 401);
  assert.equal((await forged.json()).code, "signature");
});

test("edge runtime: the Auth.js adapter signs, reads back and refuses a tampered session", async () => {
  const r = await fetch(`${base}/api/edge-session?sub=ana`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { sub: "ana", iss: "https://example.test", tampered: null });
});
