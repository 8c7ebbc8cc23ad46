// js/webcrypto.js, the one WebCrypto check of verifyAsync and the edge gate, on its own: only
// exactly true or false is an answer, a refused key is remembered as refused, and no call ever
// waits on another call's key import (in workerd a request must not await a promise another
// request made: the runtime drops a finished request's continuations).
import { test } from "node:test";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { hasWebKey, webVerify } from "../../pkg/web/webcrypto.js";

const params = [
  { name: "ECDSA", namedCurve: "P-256" },
  { name: "ECDSA", hash: "SHA-256" },
];
const { publicKey, privateKey } = await webcrypto.subtle.generateKey(params[0], true, ["sign", "verify"]);
const jwk = await webcrypto.subtle.exportKey("jwk", publicKey);
const input = new TextEncoder().encode("header.payload");
const signature = new Uint8Array(await webcrypto.subtle.sign(params[1], privateKey, input));

/** Runs `fn` with globalThis.crypto.subtle replaced by `subtle`. */
async function withSubtle(subtle, fn) {
  const saved = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  Object.defineProperty(globalThis, "crypto", { value: { subtle }, configurable: true, writable: true });
  try {
    return await fn();
  } finally {
    Object.defineProperty(globalThis, "crypto", saved);
  }
}

test("true for a good signature, false for a bad one; the key is imported once", async () => {
  let imports = 0;
  const subtle = {
    importKey: (...a) => (imports++, webcrypto.subtle.importKey(...a)),
    verify: (...a) => webcrypto.subtle.verify(...a),
  };
  await withSubtle(subtle, async () => {
    const keys = new Map();
    assert.equal(await webVerify(keys, "0/ES256", jwk, params, signature, input), true);
    assert.ok(hasWebKey(keys, "0/ES256"));
    const bad = signature.slice();
    bad[5] ^= 1;
    assert.equal(await webVerify(keys, "0/ES256", undefined, undefined, bad, input), false);
    assert.equal(imports, 1);
  });
});

test("a key WebCrypto refuses is remembered as refused: no answer, no second import", async () => {
  let imports = 0;
  const subtle = {
    importKey: () => (imports++, Promise.reject(new Error("unsupported"))),
    verify: () => assert.fail("verify without a key"),
  };
  await withSubtle(subtle, async () => {
    const keys = new Map();
    assert.equal(await webVerify(keys, "0/ES256", jwk, params, signature, input), null);
    assert.equal(await webVerify(keys, "0/ES256", jwk, params, signature, input), null);
    assert.equal(imports, 1);
  });
});

test("answers other than a boolean are no answer; a throwing subtle never throws through", async () => {
  for (const verify of [() => Promise.resolve(1), () => Promise.resolve("true"), () => {
    throw new Error("boom");
  }, () => Promise.reject(new Error("no"))]) {
    const subtle = { importKey: (...a) => webcrypto.subtle.importKey(...a), verify };
    await withSubtle(subtle, async () => {
      let answer;
      try {
        answer = await webVerify(new Map(), "0/ES256", jwk, params, signature, input);
      } catch {
        answer = "rejected";
      }
      assert.ok(answer !== true && answer !== false, String(answer));
    });
  }
});

test("a call never waits on another call's import that is still under way", async () => {
  let imports = 0;
  const subtle = {
    // The first import never settles (its request went away); the second is a real one.
    importKey: (...a) => (imports++ === 0 ? new Promise(() => {}) : webcrypto.subtle.importKey(...a)),
    verify: (...a) => webcrypto.subtle.verify(...a),
  };
  await withSubtle(subtle, async () => {
    const keys = new Map();
    const stuck = webVerify(keys, "0/ES256", jwk, params, signature, input);
    assert.ok(!hasWebKey(keys, "0/ES256"), "a pending import is not shared");
    const second = await Promise.race([
      webVerify(keys, "0/ES256", jwk, params, signature, input),
      new Promise((r) => setTimeout(() => r("waited"), 1000)),
    ]);
    assert.equal(second, true);
    assert.ok(hasWebKey(keys, "0/ES256"));
    void stuck;
  });
});
