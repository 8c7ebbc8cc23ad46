// A real Auth.js (@auth/core) app for the gate's tests: a Credentials sign-in through `Auth()`,
// CSRF round trip included, so every session cookie the tests send was written by Auth.js itself.
import assert from "node:assert/strict";
import { Auth } from "@auth/core";
import Credentials from "@auth/core/providers/credentials";

/**
 * Signs `name` in (user id `user_1`, email `<name, first 32 characters>@example.com`) through the real Auth.js
 * handler at `origin` + `basePath`; `jwt` is the app's `jwt` callback. Returns the session
 * cookie's `name=value` pairs (one, or the chunks Auth.js split it into).
 */
export async function authjsSignIn({
  secret,
  name = "Ada",
  jwt = async ({ token }) => token,
  origin = "https://app.example",
  basePath = "/auth",
  cookie = "__Secure-authjs.session-token",
} = {}) {
  const config = {
    secret,
    trustHost: true,
    basePath,
    session: { strategy: "jwt", maxAge: 3600 },
    providers: [
      Credentials({
        credentials: { username: {} },
        authorize: async (c) => ({ id: "user_1", name: c.username, email: `${c.username.slice(0, 32)}@example.com` }),
      }),
    ],
    callbacks: { jwt },
  };
  const csrfRes = await Auth(new Request(`${origin}${basePath}/csrf`), config);
  const { csrfToken } = await csrfRes.json();
  const csrfCookie = csrfRes.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const res = await Auth(
    new Request(`${origin}${basePath}/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: csrfCookie },
      body: new URLSearchParams({ csrfToken, username: name }),
    }),
    config,
  );
  const pairs = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .filter((c) => c.startsWith(cookie));
  assert.ok(pairs.length > 0, `no session cookie (status ${res.status})`);
  return pairs;
}
