// Regenerates tests/fixtures/authjs/cookies.json: Auth.js session cookies made by the real
// `@auth/core` `jwt.encode` (and, for A256GCM, which Auth.js's `decode` accepts but `encode`
// never writes, by jose under the same derived key), for the native tests of src/jwe.rs.
// Throwaway secrets; never use them elsewhere.
// Run: node scripts/gen-authjs-cookies.mjs > tests/fixtures/authjs/cookies.json
import { encode } from "@auth/core/jwt";
import { hkdf } from "@panva/hkdf";
import { EncryptJWT, base64url, calculateJwkThumbprint } from "jose";

const secret = "jwtgate-test-AUTH_SECRET-current-0123456789abcdef";
const oldSecret = "jwtgate-test-AUTH_SECRET-rotated-out-9876543210fedcba";
const secure = "__Secure-authjs.session-token";
const plain = "authjs.session-token";
const claims = {
  sub: "user_1",
  name: "Ada",
  email: "ada@example.com",
  iss: "https://app.example",
  aud: "app",
  auth_time: 0,
  sid: "sid-1",
};
const now = Math.floor(Date.now() / 1000);
claims.auth_time = now;
const maxAge = 30 * 24 * 60 * 60;

const gcm = async (token, secret, salt) => {
  const key = await hkdf("sha256", secret, salt, `Auth.js Generated Encryption Key (${salt})`, 32);
  const kid = await calculateJwkThumbprint({ kty: "oct", k: base64url.encode(key) }, "sha256");
  return new EncryptJWT(token)
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid })
    .setIssuedAt(now)
    .setExpirationTime(now + maxAge)
    .setJti(crypto.randomUUID())
    .encrypt(key);
};

const out = {
  _comment:
    "Made by scripts/gen-authjs-cookies.mjs with @auth/core's jwt.encode (gcm: jose, Auth.js's decode shape). Throwaway secrets.",
  secret,
  oldSecret,
  secureCookie: secure,
  plainCookie: plain,
  iat: now,
  maxAge,
  claims,
  cbc: await encode({ token: claims, secret, salt: secure, maxAge }),
  cbcOldSecret: await encode({ token: claims, secret: oldSecret, salt: secure, maxAge }),
  cbcPlainCookie: await encode({ token: claims, secret, salt: plain, maxAge }),
  cbcNoIssuer: await encode({ token: { sub: "user_1", name: "Ada" }, secret, salt: secure, maxAge }),
  cbcNoAuthTime: await encode({
    token: { sub: "user_1", iss: claims.iss, aud: claims.aud },
    secret,
    salt: secure,
    maxAge,
  }),
  gcm: await gcm(claims, secret, secure),
};
console.log(JSON.stringify(out, null, 2));
