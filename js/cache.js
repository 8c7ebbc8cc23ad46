// The verified-token cache of `Verifier.prototype.verify`, installed by the package's entries
// (pkg/node/index.cjs, pkg/web/index.js). scripts/build-pkg.sh wraps this file as CommonJS and
// as an ES module (it has no import or export of its own).
//
// Only tokens that verified are kept, keyed by the whole token, with the payload text and the
// whole-second window [from, until) in which every time rule holds (computed in Rust by
// `TimeWindow::bounds` from the same code that checks exp, nbf, iat, auth_time and the maximum
// age). The other rules (signature, alg, kid, iss, aud, typ, required claims) do not depend on the
// time. A hit inside the window returns a fresh JSON.parse of the payload; a hit outside it is
// dropped and the token goes through the full check again, which gives the exact error. At most
// `cacheSize` entries; the oldest insertion is evicted first. `cacheSize: 0` turns it off.

/** Wraps `Verifier.prototype.verify` of a wasm-bindgen build with the cache. Idempotent. */
function installTokenCache(Verifier) {
  const proto = Verifier.prototype;
  if (proto.verify.jwtgateCached) return;
  const uncached = proto.verify;
  const caches = new WeakMap();

  function verify(token, options) {
    let cache = caches.get(this);
    if (cache === undefined) {
      cache = { size: this.cacheSize, map: new Map() };
      caches.set(this, cache);
    }
    if (cache.size === 0 || typeof token !== "string") return uncached.call(this, token, options);
    // The current time as Rust computes it; any other form of options goes to Rust, which
    // validates it (and throws `config` for a bad `now`).
    let now;
    const t = options === undefined || options === null ? undefined : options.now;
    if (t === undefined || t === null) {
      if (options !== undefined && options !== null && typeof options !== "object") {
        return uncached.call(this, token, options);
      }
      now = Math.floor(Date.now() / 1000);
    } else if (typeof t === "number" && Number.isFinite(t) && Math.abs(t) < 1e15) {
      now = Math.floor(t);
    } else {
      return uncached.call(this, token, options);
    }
    const map = cache.map;
    const hit = map.get(token);
    if (hit !== undefined) {
      if (now >= hit.from && now < hit.until) return JSON.parse(hit.payload);
      map.delete(token); // outside its window: the full check below gives the exact error
    }
    const [payload, from, until] = this.verifyForCache(token, { now });
    if (map.size >= cache.size) map.delete(map.keys().next().value);
    map.set(token, { payload, from, until });
    return JSON.parse(payload);
  }
  verify.jwtgateCached = true;
  proto.verify = verify;
}
