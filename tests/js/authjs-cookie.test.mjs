// AuthJsCookie: Auth.js's own session cookies read outside Auth.js (another backend), in every
// package entry (the web build through openAsync: WebCrypto's AES), against cookies made by the real @auth/core `jwt.encode` at test time, and
// Auth.js's `decode` agreeing on what is a session.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { encode, decode } from "@auth/core/jwt";

const require = createRequire(import.meta.url);
const node = require(fileURLToPath(new URL("../../pkg/", import.meta.url)));
const web = await import(new URL("../../pkg/web/index.js", import.meta.url));
web.initSync({ module: readFileSync(new URL("../../pkg/web/jwtgate_bg.wasm", import.meta.url)) });
const pure = await import(new URL("../../pkg/pure/index.js", import.meta.url));
pure.initSync({ module: readFileSync(new URL("../../pkg/pure/jwtgate_bg.wasm", import.meta.url)) });
// Each entry with how it opens: the web build has no AES of its own (WebCrypto's, async).
const ENTRIES = [
  ["node", node, (r, t, o) => r.open(t, o)],
  ["web", web, (r, t, o) => r.openAsync(t, o)],
  ["pure", pure, (r, t, o) => r.open(t, o)],
];

const SECRET = crypto.getRandomValues(new Uint8Array(32)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");
const OLD = `${SECRET}-old`;
const SALT = "__Secure-authjs.session-token";
const policy = { issuer: "https://app.example", audience: "app", algorithms: ["HS256"], requiredClaims: ["sub"] };
const claims = { sub: "user_1", name: "Ada", iss: "https://app.example", aud: "app" };

for (const [entry, m, open] of ENTRIES) {
  test(`${entry}: opens what @auth/core encodes, and what its decode reads`, async () => {
    const reader = new m.AuthJsCookie(policy, { secret: [SECRET, OLD] });
    assert.equal(reader.cookieName, SALT);
    for (const secret of [SECRET, OLD]) {
      const cookie = await encode({ token: claims, secret, salt: SALT, maxAge: 3600 });
      const opened = await open(reader, cookie);
      const theirs = await decode({ token: cookie, secret: [SECRET, OLD], salt: SALT });
      assert.deepEqual(opened, theirs);
      assert.equal(opened.sub, "user_1");
      assert.equal(opened.exp - opened.iat, 3600);
    }
  });

  test(`${entry}: refusals with their codes, each one Auth.js's decode also refuses or cannot check`, async () => {
    const reader = new m.AuthJsCookie(policy, { secret: SECRET });
    const code = async (token, opts) => {
      try {
        await open(reader, token, opts);
        return "opened";
      } catch (e) {
        assert.equal(e.name, "JwtGateError");
        assert.ok(!e.message.includes(SECRET) && (token.length < 20 || !e.message.includes(token.slice(-20))));
        return e.code;
      }
    };
    const good = await encode({ token: claims, secret: SECRET, salt: SALT, maxAge: 3600 });
    const now = Math.floor(Date.now() / 1000);
    // The app did not stamp iss/aud: Auth.js decodes it; the policy refuses it.
    const bare = await encode({ token: { sub: "user_1" }, secret: SECRET, salt: SALT });
    assert.equal((await decode({ token: bare, secret: SECRET, salt: SALT })).sub, "user_1");
    assert.equal(await code(bare), "missing_claim");
    // Another cookie name (salt), another secret: Auth.js's decode throws too.
    const otherSalt = await encode({ token: claims, secret: SECRET, salt: "authjs.session-token" });
    const otherSecret = await encode({ token: claims, secret: OLD, salt: SALT });
    for (const t of [otherSalt, otherSecret]) {
      await assert.rejects(decode({ token: t, secret: SECRET, salt: SALT }));
      assert.equal(await code(t), "key_not_found");
    }
    const parts = good.split(".");
    const c = parts[3];
    parts[3] = c.slice(0, 5) + (c[5] === "A" ? "B" : "A") + c.slice(6);
    await assert.rejects(decode({ token: parts.join("."), secret: SECRET, salt: SALT }));
    assert.equal(await code(parts.join(".")), "signature");
    assert.equal(await code(good, { now: now + 3600 + 31 }), "expired");
    assert.equal(await code("a.b.c"), "malformed");
    assert.equal(await code(""), "malformed");
  });

  test(`${entry}: settings that could open nothing are config errors`, () => {
    const field = (p, o) => {
      try {
        new m.AuthJsCookie(p, o);
        return "built";
      } catch (e) {
        assert.equal(e.code, "config");
        return e.field;
      }
    };
    assert.equal(field(policy, {}), "secret");
    assert.equal(field(policy, { secret: "short" }), "secret[0]");
    assert.equal(field(policy, { secret: [SECRET, 7] }), "secret");
    assert.equal(field(policy, { secret: [SECRET, SECRET] }), "secret[1]");
    assert.equal(field(policy, { secret: SECRET, cookieName: "a;b" }), "cookie");
    assert.equal(field(policy, { secret: SECRET, cookieName: 3 }), "cookieName");
    assert.equal(field({ ...policy, issuer: "" }, { secret: SECRET }), "issuer");
    assert.equal(field({ ...policy, typo: 1 }, { secret: SECRET }), "policy.typo");
  });
}

// The A256GCM cookie of tests/fixtures/authjs/cookies.json (made by the real @auth/core `encode`
// with `enc: "A256GCM"`, which Auth.js's `decode` accepts): the Node build's AES is node:crypto's
// (cargo `jwe-reader` without `jwe`), the web build's WebCrypto's (openAsync), the pure build's
// RustCrypto's; all open it the same way.
const fixture = JSON.parse(readFileSync(new URL("../fixtures/authjs/cookies.json", import.meta.url), "utf8"));
const fixturePolicy = { issuer: "https://app.example", audience: "app", algorithms: ["HS256"] };
const fixtureNow = fixture.iat + 10;
const flipLast = (token, i) => {
  const parts = token.split(".");
  const bytes = Buffer.from(parts[i], "base64url");
  bytes[bytes.length - 1] ^= 1;
  parts[i] = bytes.toString("base64url");
  return parts.join(".");
};
const codeOf = (f) => {
  try {
    f();
    return "opened";
  } catch (e) {
    return e.code;
  }
};
const codeOfAsync = async (f) => {
  try {
    await f();
    return "opened";
  } catch (e) {
    return e.code;
  }
};

test("every entry opens Auth.js's A256GCM and A256CBC-HS512 cookies alike, and refuses altered ones", async () => {
  const opened = [];
  for (const [entry, m, open] of ENTRIES) {
    const reader = new m.AuthJsCookie(fixturePolicy, { secret: fixture.secret, cookieName: fixture.secureCookie });
    for (const enc of ["gcm", "cbc"]) {
      // Tag, ciphertext and iv: one bit each.
      for (const i of [4, 3, 2]) {
        const code = await codeOfAsync(() => open(reader, flipLast(fixture[enc], i), { now: fixtureNow }));
        assert.equal(code, "signature", `${entry}: ${enc} part ${i}`);
      }
    }
    const both = [];
    for (const enc of ["gcm", "cbc"]) both.push(await open(reader, fixture[enc], { now: fixtureNow }));
    opened.push(both);
  }
  assert.equal(opened[0][0].sub, "user_1");
  assert.deepEqual(opened[1], opened[0]);
  assert.deepEqual(opened[2], opened[0]);
});

test("web build: open refuses (config, naming openAsync) with no host; openAsync without WebCrypto is config; openAsync of the others answers as open", async () => {
  const reader = new web.AuthJsCookie(fixturePolicy, { secret: fixture.secret, cookieName: fixture.secureCookie });
  assert.throws(() => reader.open(fixture.gcm, { now: fixtureNow }), (e) => e.code === "config" && /openAsync/.test(e.message));
  const saved = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  Object.defineProperty(globalThis, "crypto", { value: undefined, configurable: true, writable: true });
  try {
    await assert.rejects(reader.openAsync(fixture.gcm, { now: fixtureNow }), (e) => e.code === "config" && /WebCrypto/.test(e.message));
  } finally {
    Object.defineProperty(globalThis, "crypto", saved);
  }
  // Errors before decryption need no WebCrypto, and a bad `now` is the same config error.
  await assert.rejects(reader.openAsync("a.b.c", { now: fixtureNow }), (e) => e.code === "malformed");
  await assert.rejects(reader.openAsync(fixture.gcm, { now: "soon" }), (e) => e.code === "config" && e.field === "now");
  for (const m of [node, pure]) {
    const r = new m.AuthJsCookie(fixturePolicy, { secret: fixture.secret, cookieName: fixture.secureCookie });
    assert.deepEqual(await r.openAsync(fixture.cbc, { now: fixtureNow }), r.open(fixture.cbc, { now: fixtureNow }));
  }
});

test("Node build: AES is the host's; no decrypt, or one failing the known answers, is a config error; later failures open nothing", () => {
  const { nodeCryptoHost } = require(fileURLToPath(new URL("../../pkg/host/node-crypto.cjs", import.meta.url)));
  const real = nodeCryptoHost(require("node:crypto"));
  const open = () =>
    new node.AuthJsCookie(fixturePolicy, { secret: fixture.secret, cookieName: fixture.secureCookie }).open(fixture.gcm, {
      now: fixtureNow,
    });
  try {
    const { decrypt, ...noDecrypt } = real;
    node.setHostCrypto(noDecrypt);
    assert.equal(codeOf(open), "config");
    node.setHostCrypto(null);
    assert.equal(codeOf(open), "config");
    // A host whose decrypt answers oddly fails the known answers: no reader at all.
    const odd = [
      () => new Uint8Array(0),
      () => "plaintext",
      (...args) => Array.from(real.decrypt(...args)), // an Array, not a Uint8Array
      (cipher, key, iv, data) => new Uint8Array(data.length), // zeros, the right length
      () => {
        throw new Error("host down");
      },
    ];
    for (const answer of odd) {
      node.setHostCrypto({ ...real, decrypt: answer });
      assert.equal(codeOf(open), "config", String(answer));
    }
    // One that passes the known answers and then fails: the cookie is refused, never opened.
    for (const later of odd) {
      let calls = 0;
      node.setHostCrypto({ ...real, decrypt: (...args) => (calls++ < 2 ? real.decrypt(...args) : later(...args)) });
      // Refused: `signature` where the host throws or answers no bytes of the right length,
      // `malformed` where its bytes are not the claims.
      assert.ok(["signature", "malformed"].includes(codeOf(open)), String(later));
    }
    // A host that answers the plaintext of the right length opens it.
    node.setHostCrypto(real);
    assert.equal(open().sub, "user_1");
  } finally {
    node.setHostCrypto(real);
  }
});
