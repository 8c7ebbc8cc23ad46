// What the package's entries (pkg/node/index.cjs, pkg/web/index.js) add to the wasm-bindgen
// `Verifier`: the verified-token cache on `verify`, and `verifyAsync` (signatures through
// WebCrypto). scripts/build-pkg.sh copies it (with ./webcrypto.js) into the web build and
// bundles both as CommonJS for the Node build.
//
// The cache keeps only tokens that verified, keyed by the whole token, with the payload text and
// the whole-second window [from, until) in which every time rule holds (computed in Rust by
// `TimeWindow::bounds`, from the same code that checks exp, nbf, iat, auth_time and the maximum
// age). The other rules (signature, alg, kid, iss, aud, typ, required claims) do not depend on the
// time. A hit inside the window returns a fresh JSON.parse of the payload; a hit outside it is
// dropped and the token is checked in full again, which gives the exact error. At most
// `cacheSize` entries; the oldest insertion is evicted first. `cacheSize: 0` turns it off.
//
// verifyAsync: where no host crypto is registered (browsers, workerd, edge runtimes) and
// WebCrypto is there, Rust does everything except the raw RSA/ECDSA/Ed25519 signature check
// (parsing, header rules, kid selection, key–algorithm binding, the signature's form, claims) and
// hands that one check to js/webcrypto.js (shared with the edge gate), with a CryptoKey imported
// once per key and algorithm. A claim failure is thrown only after the signature verified, as
// `verify` does. Keys WebCrypto cannot import (e.g. Ed25519 on an older runtime) are checked by
// Rust.

import { hasWebKey, webVerify } from "./webcrypto.js";

/**
 * Adds the cache and `verifyAsync` to a wasm-bindgen `Verifier` class, and returns it. `internal`
 * holds the module's `__jwtgate_*` functions (see `takeInternals`): they stay in this closure.
 */
export function extendVerifier(Verifier, internal) {
  const {
    __jwtgate_verifyForCache: verifyForCache,
    __jwtgate_prepareVerify: prepareVerify,
    __jwtgate_publicJwkAt: publicJwkAt,
    __jwtgate_checkSignatureAt: checkSignatureAt,
    __jwtgate_hostKeyAt: hostKeyAt,
    __jwtgate_signatureError: signatureError,
    __jwtgate_webCryptoParams: webCryptoParams,
  } = internal;
  const proto = Verifier.prototype;
  if (proto.verify.jwtgateCached) return Verifier;
  const uncached = proto.verify;
  const states = new WeakMap();

  function state(verifier) {
    let s = states.get(verifier);
    if (s === undefined) {
      // Both getters are fixed for a verifier's life: read them from wasm once.
      s = {
        size: verifier.cacheSize,
        native: verifier.nativeCrypto,
        map: new Map(),
        webKeys: new Map(), // CryptoKeys by "<key index>/<alg>" (js/webcrypto.js)
        hostKeys: new Map(), // host handles by "<key index>/<alg>" (null: none)
      };
      states.set(verifier, s);
    }
    return s;
  }

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

  function lookup(s, token, now) {
    const hit = s.map.get(token);
    if (hit === undefined) return undefined;
    if (now >= hit.from && now < hit.until) return hit.payload;
    s.map.delete(token); // outside its window: the full check gives the exact error
    return undefined;
  }

  function remember(s, token, payload, from, until) {
    if (s.map.size >= s.size) s.map.delete(s.map.keys().next().value);
    s.map.set(token, { payload, from, until });
  }

  function verify(token, options) {
    const s = state(this);
    const now = nowOf(options);
    if (s.size === 0 || typeof token !== "string" || now === undefined) {
      return uncached.call(this, token, options);
    }
    const hit = lookup(s, token, now);
    if (hit !== undefined) return JSON.parse(hit);
    const { payload, from, until } = verifyForCache(this, token, { now });
    remember(s, token, payload, from, until);
    return JSON.parse(payload);
  }
  verify.jwtgateCached = true;
  proto.verify = verify;

  const subtle = () => globalThis.crypto && globalThis.crypto.subtle;
  // WebCrypto [import, verify] parameters per JWS algorithm: jwtgate's table (src/platform.rs).
  const paramsCache = new Map();
  function params(alg) {
    if (!paramsCache.has(alg)) paramsCache.set(alg, webCryptoParams(alg));
    return paramsCache.get(alg);
  }

  // Checks a signature Rust left to WebCrypto (js/webcrypto.js, the check the edge gate uses
  // too), or to Rust where WebCrypto cannot answer; then settles the answer as `verify` would.
  async function finish(verifier, s, token, r) {
    const { keyIndex: index, alg, signingInput: input, signature: sig } = r.pending;
    const id = `${index}/${alg}`;
    const jwk = hasWebKey(s.webKeys, id) ? undefined : publicJwkAt(verifier, index);
    let valid;
    try {
      valid = await webVerify(s.webKeys, id, jwk, params(alg), sig, input);
    } catch {
      valid = null;
    }
    if (typeof valid !== "boolean") valid = checkSignatureAt(verifier, index, alg, input, sig);
    return settle(s, token, r, valid);
  }

  // Checks a signature Rust left to the host (node:crypto): its callback form, off the main
  // thread, where the handle has `verifyAsync`; else the handle's `verify`; Rust where neither
  // gives exactly true or false.
  async function finishHost(verifier, s, token, r) {
    const { keyIndex: index, alg, signingInput: input, signature: sig } = r.pending;
    const id = `${index}/${alg}`;
    let handle = s.hostKeys.get(id);
    if (handle === undefined) {
      handle = hostKeyAt(verifier, index, alg) ?? null;
      s.hostKeys.set(id, handle);
    }
    let valid = null;
    try {
      if (handle && typeof handle.verifyAsync === "function") valid = await handle.verifyAsync(input, sig);
      else if (handle) valid = handle.verify(input, sig);
    } catch {
      valid = null;
    }
    if (typeof valid !== "boolean") valid = checkSignatureAt(verifier, index, alg, input, sig);
    return settle(s, token, r, valid);
  }

  // The answer once the signature is decided: as `verify` orders them, a claim failure only
  // for a valid signature.
  function settle(s, token, r, valid) {
    const { payload, from, until } = r;
    const { claimsError } = r.pending;
    if (valid !== true) throw signatureError();
    if (claimsError !== undefined) throw claimsError;
    if (s.size > 0) remember(s, token, payload, from, until);
    return JSON.parse(payload);
  }

  // Not an async function: answers that need no WebCrypto (cache hits, HMAC, errors found before
  // the signature) settle without an extra turn of the event loop.
  proto.verifyAsync = function verifyAsync(token, options) {
    try {
      const s = state(this);
      if (!s.native && !subtle()) return Promise.resolve(this.verify(token, options));
      const now = nowOf(options);
      if (typeof token !== "string" || now === undefined) {
        return Promise.resolve(uncached.call(this, token, options));
      }
      if (s.size > 0) {
        const payload = lookup(s, token, now);
        if (payload !== undefined) return Promise.resolve(JSON.parse(payload));
      }
      const r = prepareVerify(this, token, { now });
      if (r.pending) return s.native ? finishHost(this, s, token, r) : finish(this, s, token, r);
      if (s.size > 0) remember(s, token, r.payload, r.from, r.until);
      return Promise.resolve(JSON.parse(r.payload));
    } catch (e) {
      return Promise.reject(e);
    }
  };
  return Verifier;
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
