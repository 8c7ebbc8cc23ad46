// What the package's entries (pkg/node/index.cjs, pkg/web/index.js, pkg/pure/index.js) add to
// the wasm-bindgen classes: the verified-token cache on `Verifier.verify`, and the async methods
// (`verifyAsync`, `signAsync`, `signAsIsAsync`, `AuthJsCookie.openAsync`). scripts/build-pkg.sh
// copies it (with ./webcrypto.js and ./host/node-crypto.js) into the web and pure builds and
// bundles them as CommonJS for the Node build.
//
// The cache keeps only tokens that verified, keyed by the whole token, with the payload text and
// the whole-second window [from, until) in which every time rule holds (computed in Rust by
// `TimeWindow::bounds`, from the same code that checks exp, nbf, iat, auth_time and the maximum
// age). The other rules (signature, alg, kid, iss, aud, typ, required claims) do not depend on the
// time. A hit inside the window returns a fresh JSON.parse of the payload; a hit outside it is
// dropped and the token is checked in full again, which gives the exact error. At most
// `cacheSize` entries; the oldest insertion is evicted first. `cacheSize: 0` turns it off.
// A token is admitted on its second verification within about `cacheSize` misses: a token seen
// once (every request with a new token) costs no entry, no retained strings and no eviction.
//
// The async methods: where the key was loaded with no host crypto registered (a *deferred* key:
// the web entry in browsers, workerd, edge runtimes; this build has no RSA, ECDSA, Ed25519 or
// AES code of its own), WebCrypto does the one operation Rust leaves it, and Rust does every
// other step before and after it:
// - verifyAsync: Rust parses, applies the header rules, selects the key, checks its binding and
//   the signature's form (`prepareVerify`); WebCrypto checks the raw signature (js/webcrypto.js,
//   shared with the edge gate), with a CryptoKey imported once per key and algorithm (WebCrypto's
//   import checks an EC point; an Ed25519 `x` that is no point is refused here first); Rust then
//   settles the token (`PendingVerify.finish`: `signature` unless valid, then the claims). A key
//   WebCrypto will not import is `config`. A key host crypto checked goes to the host's handle
//   (node:crypto's callback form); in the build with its own arithmetic (`jwtgate/pure`) a key
//   WebCrypto will not import is checked by Rust.
// - signAsync, signAsIsAsync: Rust stamps or checks the claims and builds the signing input
//   (`prepareSign`); WebCrypto signs with the private JWK; the signer's first signature must
//   verify under the key's public half; Rust checks the signature's form and assembles the
//   token (`finishSign`).
// - openAsync: Rust checks the JWE header, selects the key and checks A256CBC-HS512's HMAC tag
//   (`openRequest`); WebCrypto decrypts (AES-CBC or AES-GCM, which checks GCM's tag); Rust checks
//   the plaintext's length and the claims (`openFinish`).
// Where the key is an HMAC secret, or host crypto checked it, each async method answers as its
// synchronous counterpart does, without an extra turn of the event loop.

import { hasWebKey, webVerify } from "./webcrypto.js";
import { ed25519Point } from "./host/node-crypto.js";

const subtle = () => globalThis.crypto && globalThis.crypto.subtle;

// The current time as Rust computes it, or undefined where Rust must decide (it validates
// `now`, and throws `config` for a bad one).
function nowOf(options) {
  if (options === undefined || options === null) return Math.floor(Date.now() / 1000);
  if (typeof options !== "object") return undefined;
  const t = options.now;
  if (t === undefined || t === null) return Math.floor(Date.now() / 1000);
  if (typeof t === "number" && Number.isFinite(t) && Math.abs(t) < 1e15) return Math.floor(t);
  return undefined;
}

/** Whether `x` is an ArrayBuffer (of any realm): WebCrypto's only answer that is bytes. */
function isArrayBuffer(x) {
  return Object.prototype.toString.call(x) === "[object ArrayBuffer]";
}

/**
 * The cache admission table's slot for `token` in a table of `n` slots (a power of two): a hash
 * of its last 8 characters, its signature's. Exported for the tests only.
 */
export function admissionSlot(token, n) {
  let h = 0;
  for (let i = Math.max(0, token.length - 8); i < token.length; i++) h = (Math.imul(h, 31) + token.charCodeAt(i)) | 0;
  return (h ^ (h >>> 16)) & (n - 1);
}

/** base64url text to bytes (`null` if it is not). */
function unb64url(text) {
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * Adds the cache and the async methods to a wasm-bindgen module's `Verifier`, `Signer` and
 * `AuthJsCookie` classes (`module` holds them). `internal` holds the module's `__jwtgate_*`
 * functions (see `takeInternals`): they stay in this closure.
 */
export function extend(module, internal) {
  extendVerifier(module.Verifier, internal);
  extendSigner(module.Signer, internal);
  if (module.AuthJsCookie) extendAuthJsCookie(module.AuthJsCookie, internal);
}

function extendVerifier(Verifier, internal) {
  const {
    __jwtgate_verifyText: verifyText,
    __jwtgate_prepareVerify: prepareVerify,
    __jwtgate_publicJwkAt: publicJwkAt,
    __jwtgate_hostKeyAt: hostKeyAt,
    __jwtgate_webCryptoParams: webCryptoParams,
  } = internal;
  const proto = Verifier.prototype;
  if (proto.verify.jwtgateCached) return;
  const uncached = proto.verify;
  const states = new WeakMap();

  function state(verifier) {
    let s = states.get(verifier);
    if (s === undefined) {
      // Fixed for a verifier's life: read it from wasm once.
      s = {
        size: verifier.cacheSize,
        map: new Map(),
        // The cached tokens in insertion order, a ring: the slot `next` holds the oldest, which
        // the next insertion evicts (O(1): no walk of a Map's deleted entries). The map only
        // holds tokens in the ring, so it never exceeds `size`.
        ring: [],
        next: 0,
        // Admission: generation stamps of recent misses, by a hash of the token's last
        // characters (its signature's); the generation moves every `half` misses, so a stamp of
        // this or the last one means "missed within about `size` misses". A collision only
        // admits a token early (lookups are by the whole token).
        seen: null,
        gen: 1,
        misses: 0,
        half: 1,
        webKeys: new Map(), // CryptoKeys by "<key index>/<alg>" (js/webcrypto.js)
        hostKeys: new Map(), // host handles by "<key index>/<alg>" (null: none)
      };
      states.set(verifier, s);
    }
    return s;
  }

  function lookup(s, token, now) {
    const hit = s.map.get(token);
    if (hit === undefined) return undefined;
    if (now >= hit.from && now < hit.until) return hit.payload;
    s.map.delete(token); // outside its window: the full check gives the exact error
    return undefined;
  }

  // Whether a miss of `token` should be cached: it missed before, within about `size` misses.
  // The table has 16 slots per entry (a token seen once is admitted early about 1 time in 16).
  function admit(s, token) {
    if (s.seen === null) {
      let n = 256;
      while (n < 16 * s.size && n < 1 << 18) n *= 2;
      s.seen = new Uint32Array(n);
      s.half = Math.max(1, s.size >> 1);
    }
    const h = admissionSlot(token, s.seen.length);
    if (++s.misses >= s.half) {
      s.misses = 0;
      s.gen++;
    }
    const last = s.seen[h];
    s.seen[h] = s.gen;
    return last !== 0 && last + 1 >= s.gen;
  }

  // Keeps `text` ("<from> <until> <payload>", from Rust) for `token` if `admitted`; returns the
  // payload.
  function remember(s, token, text, admitted = true) {
    const a = text.indexOf(" ");
    const b = text.indexOf(" ", a + 1);
    const payload = text.slice(b + 1);
    if (s.size === 0 || !admitted) return payload;
    const old = s.ring[s.next];
    if (old !== undefined) s.map.delete(old);
    s.ring[s.next] = token;
    s.next = s.next + 1 === s.size ? 0 : s.next + 1;
    s.map.set(token, { payload, from: +text.slice(0, a), until: +text.slice(a + 1, b) });
    return payload;
  }

  function verify(token, options) {
    const s = state(this);
    const now = nowOf(options);
    if (typeof token !== "string" || now === undefined) return uncached.call(this, token, options);
    if (s.size === 0) return JSON.parse(verifyText(this, token, now, false));
    const hit = lookup(s, token, now);
    if (hit !== undefined) return JSON.parse(hit);
    if (!admit(s, token)) return JSON.parse(verifyText(this, token, now, false));
    return JSON.parse(remember(s, token, verifyText(this, token, now, true)));
  }
  verify.jwtgateCached = true;
  proto.verify = verify;

  // WebCrypto [import, verify] parameters per JWS algorithm: jwtgate's table (src/platform.rs).
  const paramsCache = new Map();
  function params(alg) {
    if (!paramsCache.has(alg)) paramsCache.set(alg, webCryptoParams(alg));
    return paramsCache.get(alg);
  }

  // The raw check Rust left: `true`, `false`, or `null` where no one answered (Rust decides
  // then: `config` for a deferred key, its own check otherwise).
  async function check(verifier, s, p) {
    const { keyIndex: index, alg, signingInput: input, signature: sig } = p;
    const id = `${index}/${alg}`;
    try {
      if (!p.deferred) {
        let handle = s.hostKeys.get(id);
        if (handle === undefined) {
          handle = hostKeyAt(verifier, index, alg) ?? null;
          s.hostKeys.set(id, handle);
        }
        // node:crypto's callback form, off the main thread, where the handle has it.
        if (handle && typeof handle.verifyAsync === "function") return await handle.verifyAsync(input, sig);
        if (handle) return handle.verify(input, sig);
      }
      let jwk = hasWebKey(s.webKeys, id) ? undefined : publicJwkAt(verifier, index);
      // WebCrypto imports any 32 bytes as an Ed25519 key: a deferred `x` must be a point.
      if (jwk && p.deferred && jwk.kty === "OKP" && !ed25519Point(unb64url(jwk.x) ?? new Uint8Array(0))) {
        jwk = null; // refused, and remembered as refused
      }
      return await webVerify(s.webKeys, id, jwk, params(alg), sig, input);
    } catch {
      return null;
    }
  }

  // Not an async function: answers that need no WebCrypto (cache hits, HMAC, errors found before
  // the signature) settle without an extra turn of the event loop.
  proto.verifyAsync = function verifyAsync(token, options) {
    try {
      const s = state(this);
      const now = nowOf(options);
      if (typeof token !== "string" || now === undefined) {
        return Promise.resolve(uncached.call(this, token, options));
      }
      if (s.size > 0) {
        const payload = lookup(s, token, now);
        if (payload !== undefined) return Promise.resolve(JSON.parse(payload));
      }
      const admitted = s.size > 0 && admit(s, token);
      const r = prepareVerify(this, token, now);
      if (typeof r === "string") return Promise.resolve(JSON.parse(remember(s, token, r, admitted)));
      // `r.settle` (a PendingVerify, in wasm) gives the answer once the signature check has.
      return check(this, s, r).then((valid) => JSON.parse(remember(s, token, r.settle.finish(this, valid), admitted)));
    } catch (e) {
      return Promise.reject(e);
    }
  };
}

function extendSigner(Signer, internal) {
  const {
    __jwtgate_prepareSign: prepareSign,
    __jwtgate_finishSign: finishSign,
    __jwtgate_webCryptoParams: webCryptoParams,
  } = internal;
  const proto = Signer.prototype;
  if (proto.signAsync) return;
  // Per signer: its private CryptoKey once imported, and whether a signature it made verified
  // under the public half.
  const states = new WeakMap();

  function state(signer) {
    let s = states.get(signer);
    if (s === undefined) states.set(signer, (s = { key: null, checked: false }));
    return s;
  }

  async function webSign(signer, s, r) {
    const input = new TextEncoder().encode(r.input);
    let signature = new Uint8Array(0);
    let checked = s.checked;
    try {
      const crypto = subtle();
      const [importParams, signParams] = webCryptoParams(r.alg);
      // Only a settled CryptoKey is kept (never a promise another call would await).
      const key = s.key ?? (await crypto.importKey("jwk", r.jwk, importParams, false, ["sign"]));
      s.key = key;
      const raw = await crypto.sign(signParams, key, input);
      // Only bytes are an answer: `new Uint8Array(n)` of a number would be n zeros.
      if (!isArrayBuffer(raw)) throw new Error("not a signature");
      signature = new Uint8Array(raw);
      if (!checked) {
        // eslint-disable-next-line no-unused-vars
        const { d, p, q, dp, dq, qi, ...pub } = r.jwk;
        const x = pub.kty === "OKP" ? unb64url(pub.x) : null;
        const point = pub.kty !== "OKP" || (x !== null && ed25519Point(x));
        const pk = await crypto.importKey("jwk", pub, importParams, false, ["verify"]);
        checked = point && (await crypto.verify(signParams, pk, signature, input)) === true;
        s.checked = checked;
      }
    } catch {
      checked = false;
    }
    return finishSign(signer, r.input, signature, checked);
  }

  function signWith(signer, claims, options, asIs) {
    try {
      const s = state(signer);
      // The private JWK crosses into JavaScript only until its CryptoKey is imported.
      const r = prepareSign(signer, claims, options, asIs, s.key === null);
      if (r.token !== undefined) return Promise.resolve(r.token);
      return webSign(signer, s, r);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  proto.signAsync = function signAsync(claims, options) {
    return signWith(this, claims, options, false);
  };
  proto.signAsIsAsync = function signAsIsAsync(claims, options) {
    return signWith(this, claims, options, true);
  };
}

function extendAuthJsCookie(AuthJsCookie, internal) {
  const { __jwtgate_openRequest: openRequest, __jwtgate_openFinish: openFinish } = internal;
  const proto = AuthJsCookie.prototype;
  if (proto.openAsync) return;

  // WebCrypto's plaintext; `null` where the decryption itself refused (a wrong GCM tag, bad
  // padding: the cookie is refused); `undefined` where WebCrypto could not be asked (none, a key
  // it would not import) or answered anything but bytes (a config error).
  async function decrypt(r) {
    const crypto = subtle();
    let key;
    try {
      key = await crypto.importKey("raw", r.key, r.cipher, false, ["decrypt"]);
    } catch {
      return undefined;
    }
    let raw;
    try {
      if (r.cipher === "AES-GCM") {
        const data = new Uint8Array(r.data.length + r.tag.length);
        data.set(r.data);
        data.set(r.tag, r.data.length);
        const params = { name: "AES-GCM", iv: r.iv, additionalData: r.aad, tagLength: 128 };
        raw = await crypto.decrypt(params, key, data);
      } else {
        raw = await crypto.decrypt({ name: "AES-CBC", iv: r.iv }, key, r.data);
      }
    } catch {
      return null;
    }
    return isArrayBuffer(raw) ? new Uint8Array(raw) : undefined;
  }

  proto.openAsync = function openAsync(token, options) {
    try {
      const now = nowOf(options);
      // A bad `now` or token: the synchronous path gives the exact error.
      const opts = now === undefined ? options : { now };
      const r = openRequest(this, token, opts);
      if (r.payload !== undefined) return Promise.resolve(JSON.parse(r.payload));
      return decrypt(r).then((plain) => JSON.parse(openFinish(this, token, opts, plain)));
    } catch (e) {
      return Promise.reject(e);
    }
  };
}

/**
 * Takes the wasm module's `__jwtgate_*` internals out of `exports` (a CommonJS exports object)
 * and returns them: they hand out payloads before their signature is checked, so no user of the
 * package may reach them.
 */
export function takeInternals(exports) {
  const internal = {};
  for (const name of Object.keys(exports)) {
    if (name.startsWith("__jwtgate_")) {
      internal[name] = exports[name];
      delete exports[name];
    }
  }
  return internal;
}
