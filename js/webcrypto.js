// The one WebCrypto signature check of both wasm32 surfaces: the npm package's `verifyAsync`
// (js/extend.js imports this file) and the edge gate (src/platform.rs binds it with
// wasm-bindgen, which bundles it into the Worker). By the time it is called the core has done
// everything but the raw RSA/ECDSA/Ed25519 arithmetic (`Verifier::prepare`: parsing, header
// rules, kid selection, key–algorithm binding, the signature's form); the claims are settled by
// the core afterwards, whatever this answers.
//
// `keys` is a Map the caller keeps per key set (so a rotated set starts with no CryptoKeys),
// keyed by `id` = "<key index>/<alg>". Each key is imported once, with the parameters of the
// core's platform table (src/platform.rs, `[importParams, verifyParams]`). The answer is `true`
// or `false`; anything else (`null`, or a rejection) means WebCrypto cannot answer (no
// crypto.subtle, a key it refuses, e.g. Ed25519 on an older runtime, a verify that fails): the
// caller then has the core check the signature. A refused key is remembered as refused.

/** Whether `keys` already holds the CryptoKey (or the refusal) for `id`: no JWK is needed. */
export function hasWebKey(keys, id) {
  return keys.has(id);
}

/**
 * Checks `signature` over `input` (Uint8Arrays the caller owns) with the CryptoKey cached
 * under `id`, importing `jwk` (the key's public JWK) with `params` first when there is none.
 * Resolves to `true` or `false`; `null` or a rejection where WebCrypto gives no answer.
 *
 * Only settled imports are shared: a call that finds none imports the key itself, even while
 * another call's import is under way. In workerd a promise made during one request must not be
 * awaited by another (the runtime drops a finished request's continuations, and the waiter
 * would never be woken), and the edge gate's verifier serves every request of its isolate.
 */
export function webVerify(keys, id, jwk, params, signature, input) {
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  const entry = keys.get(id);
  if (entry !== undefined) return check(subtle, entry, signature, input);
  return importKey(subtle, jwk, params).then((key) => {
    const own = { key, params };
    if (!keys.has(id)) keys.set(id, own); // the first settled import serves later calls
    return check(subtle, own, signature, input);
  });
}

function importKey(subtle, jwk, params) {
  if (!subtle || !jwk || !params) return Promise.resolve(null);
  try {
    return Promise.resolve(subtle.importKey("jwk", jwk, params[0], false, ["verify"])).catch(() => null);
  } catch {
    return Promise.resolve(null);
  }
}

// WebCrypto's own promise, unwrapped (a `.then` here would cost every check a turn of the
// microtask queue; `Promise.resolve` of a native promise is that promise): the callers take
// anything but a boolean, and a rejection, as "no answer".
function check(subtle, entry, signature, input) {
  if (entry.key === null) return Promise.resolve(null);
  try {
    return Promise.resolve(subtle.verify(entry.params[1], entry.key, signature, input));
  } catch {
    return Promise.resolve(null);
  }
}
