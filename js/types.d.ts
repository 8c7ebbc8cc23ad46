// TypeScript declarations of the npm package's own types, appended by scripts/build-pkg.sh
// to each build's jwtgate.d.ts (the classes' declarations there are wasm-bindgen's, and name
// these). Checked by `tsc --noEmit -p tests/types` in the test command.

/** A JSON Web Key (RFC 7517). Private members (`d`, `p`, `q`, `k`) are needed only for signing. */
export interface Jwk {
  /** Other key types are accepted in a set and listed as inert by `keys()`. */
  kty: "oct" | "RSA" | "EC" | "OKP" | (string & {});
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  crv?: string;
  [member: string]: unknown;
}

/** A JWS algorithm jwtgate implements (exact names; `none` never). */
export type Algorithm = "HS256" | "HS384" | "HS512" | "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "ES512" | "EdDSA" | "Ed25519";

/** A JSON Web Key Set (RFC 7517 §5). */
export interface Jwks {
  keys: Jwk[];
}

/** The one policy shape shared by the issuer, every verifier and the edge gate. */
export interface Policy {
  /** Accepted `iss` value(s). Required, non-empty. Signing needs exactly one. */
  issuer: string | string[];
  /** Accepted `aud` value(s). Required, non-empty. */
  audience: string | string[];
  /** Algorithm allowlist, exact names. Required, non-empty; `none` is never allowed. */
  algorithms: Algorithm[];
  /** The key set (JWKS). Required, non-empty. */
  keys: Jwks;
  /** Clock tolerance in seconds. Default 30, allowed 0..=300. */
  leewaySeconds?: number;
  /** Absolute age limit in seconds, from `auth_time` (else `iat`). Default: none. */
  maxAgeSeconds?: number;
  /** Claims required in addition to `exp`, `iss`, `aud` (and `iat` with `maxAgeSeconds`). Default []. */
  requiredClaims?: string[];
  /** The claim naming a token's tenant (`"tenant_id"`, `"org.id"`, `'["https://ns.example/tenant"]'`): then every token must carry it (a non-empty string or an integer), and `Verifier.checkTenant` compares it with the request's tenant. */
  tenantClaim?: string;
  /** Expected header `typ` (case-insensitive, `application/` optional). Signers write it (default "JWT"). */
  typ?: string;
  /** Longest accepted token in bytes. Default 16384, allowed 256..=1048576. */
  maxTokenBytes?: number;
  /** Accept DPoP-bound tokens (RFC 9449) via `verifyDpop`: proof algorithms (asymmetric) and a proof's lifetime (default 60 s, 1..=600). */
  dpop?: { algorithms: Algorithm[]; maxAgeSeconds?: number };
  /** Rotate refresh tokens (`Refresher`, the edge gate's JWTGATE_REFRESH_PATH): their own audience, idle lifetime (default 1209600 s) and the issued access tokens' (default 900 s). Needs maxAgeSeconds. */
  refresh?: { audience: string; ttlSeconds?: number; accessTtlSeconds?: number };
}

/** One stage's or claim rule's verdict in an `Explanation`. */
export interface ExplainedVerdict {
  verdict: "pass" | "fail" | "not_run";
  /** With `fail`: the error code, message and claim, as a `JwtGateError` would carry them. */
  code?: string;
  message?: string;
  claim?: string;
}

/** What `explain` returns (the parts are unverified: what the token says, not what is vouched for). */
export interface Explanation {
  /** `.`-separated segments (a compact JWS has 3). */
  segments: number;
  header: Record<string, unknown> | { error: string };
  claims: Claims | { error: string };
  /** The signature's length in bytes (never the signature); null if it is not base64url. */
  signatureBytes: number | null;
  /** With a policy: size, structure, algorithm, header, key, signature, claims, in order. */
  stages: (ExplainedVerdict & { stage: string })[];
  /** With a policy and decodable claims: every claim rule that applies, run even after a failure. */
  rules: (ExplainedVerdict & { rule: string })[];
  /** With a policy: what `verify` answers; null without one. */
  result: { ok: true } | { ok: false; code: string; message: string; claim?: string } | null;
}

/** Options for a `Verifier`. */
export interface VerifierOptions {
  /**
   * Entries in the verified-token cache kept by the package entries (`jwtgate`, `jwtgate/web`):
   * keyed by the whole token, bounded, oldest evicted first. Only tokens that verified are kept,
   * with the window of seconds in which all their time rules (exp, nbf, iat, auth_time, maxAge)
   * hold, computed by the same Rust code that checks them; the other rules do not depend on the
   * time. A hit inside the window skips parsing and the signature; outside it, the token is
   * checked in full again (and the exact error thrown). Failures are never cached. A token is
   * admitted on its second verification within about `cacheSize` misses (one seen once costs no
   * entry). Default 1000; 0 turns the cache off.
   */
  cacheSize?: number;
  /**
   * Check RSA, ECDSA and Ed25519 signatures with the host crypto registered by
   * `setHostCrypto` (the Node entry registers `node:crypto`), when there is one. Default true.
   * Parsing, key selection, algorithm binding and claim rules stay in jwtgate either way.
   * The Node and web builds have no signature arithmetic of their own: there `false` is a
   * `config` error (`jwtgate/pure` has its own).
   */
  nativeCrypto?: boolean;
}

/** A public key imported by a `HostCrypto`, bound to one algorithm. */
export interface HostKey {
  /** Whether `signature` is valid over `data`. May throw: jwtgate then checks it itself. */
  verify(data: Uint8Array, signature: Uint8Array): boolean;
  /**
   * Optional, for `verifyAsync`: the same check off the main thread (node:crypto's callback
   * form). Anything but a promise of exactly `true` or `false`, or a rejection, leaves the
   * check to jwtgate.
   */
  verifyAsync?(data: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

/**
 * How the platforms name `alg`'s raw signature check (one table, in jwtgate), passed to
 * `HostCrypto.importKey` so a host needs no table of its own.
 */
export interface HostAlgorithm {
  /** For `node:crypto`'s `crypto.verify(digest, data, key, signature)`. */
  node: { digest: string | null; padding: "plain" | "pss" | "p1363"; saltLength?: number };
  /** For WebCrypto's `importKey` and `verify`. */
  webCrypto: { importParams: object; verifyParams: object };
}

/**
 * Native signature checks supplied by the host (see `jwtgate/host/node-crypto`).
 *
 * The package's Node build (`jwtgate` under Node, `jwtgate/node`) has no RSA, ECDSA or Ed25519
 * arithmetic of its own: there a host is required for those keys (the Node entry registers
 * node:crypto), and it must also have `checkKey` and `sign`. Any answer but the expected type,
 * or a throw, refuses the key, the signature or the signing: never a pass.
 */
export interface HostCrypto {
  /** A handle for a public JWK used with `alg`, or `undefined` to leave that key to jwtgate. */
  importKey(jwk: Jwk, alg: string, params: HostAlgorithm): HostKey | undefined | null;
  /**
   * Node build: whether a JWK (RSA, EC or OKP; public, or with its private members) is a valid
   * key: the public key imports (an EC point on its curve, an Ed25519 `x` that is a point), and
   * a private half belongs to it. `true` accepts it; anything else refuses it.
   */
  checkKey?(jwk: Jwk): boolean;
  /** Node build: the raw signature over `data` with a private JWK (`params` as for `importKey`). */
  sign?(jwk: Jwk, alg: string, params: HostAlgorithm, data: Uint8Array): Uint8Array;
  /**
   * Node build: AES-256 decryption for Auth.js cookies (`AuthJsCookie`), `"aes-256-cbc"` (the
   * host removes the PKCS#7 padding; jwtgate has checked the HMAC tag) or `"aes-256-gcm"` (with
   * `aad` and the 16-byte `tag`): the plaintext. A throw, or anything but a `Uint8Array` of the
   * right length, refuses the cookie.
   */
  decrypt?(
    cipher: "aes-256-cbc" | "aes-256-gcm",
    key: Uint8Array,
    iv: Uint8Array,
    data: Uint8Array,
    aad: Uint8Array,
    tag: Uint8Array,
  ): Uint8Array;
}

/** Added to `Verifier` by the package entries (`jwtgate`, `jwtgate/web`, `jwtgate/pure`). */
export interface Verifier {
  /**
   * `verify`, with RSA, ECDSA and Ed25519 signatures checked by WebCrypto (`crypto.subtle`)
   * where the key was loaded with no host crypto registered (browsers, workerd, edge runtimes:
   * the web build has no such arithmetic of its own, and its `verify` refuses those keys with
   * `config`); everything else is checked by jwtgate as in `verify`, and the same errors are
   * thrown. A key WebCrypto will not import is `config`. Uses the same cache. Where host crypto
   * checked the key (the Node entry), the host's `verifyAsync` does that one check: node:crypto's
   * callback form, on libuv's thread pool (more throughput with calls in flight; one awaited call
   * takes a thread hop longer than `verify`).
   */
  verifyAsync(token: string, options?: TimeOptions): Promise<Claims>;
}

/** Added to `Signer` by the package entries. */
export interface Signer {
  /**
   * `sign`, with an RSA, EC or OKP key loaded with no host crypto registered (the web build in
   * browsers, workerd, edge runtimes) signing through WebCrypto; its first signature must verify
   * under the key's public half, or it is `config`. Otherwise the same as `sign`.
   */
  signAsync(claims: Claims, options?: TimeOptions): Promise<string>;
  /** `signAsIs`, signing as `signAsync` does. */
  signAsIsAsync(claims: Claims, options?: TimeOptions): Promise<string>;
}

/** Added to `AuthJsCookie` by the package entries. */
export interface AuthJsCookie {
  /**
   * `open`, with the AES-256 decryption by WebCrypto where the reader was built with no host
   * crypto registered (the web build in browsers, workerd, edge runtimes, whose `open` refuses
   * with `config` there). Every other check is jwtgate's, as in `open`.
   */
  openAsync(token: string, options?: TimeOptions): Promise<Claims>;
}

/** Why a key of the set is kept out of selection (see `KeyInfo`). */
export type InertReason =
  | "algorithm_not_allowed" | "key_type_not_allowed" | "unsupported_key_type" | "feature_disabled"
  | "not_for_signatures" | "ambiguous_algorithm" | "duplicate_kid" | "invalid";

/** What a `Verifier` or `Signer` made of one JWK of its set (never key material). */
export interface KeyInfo {
  /** Where the JWK was, e.g. `"keys.keys[3]"`. */
  field: string;
  kid?: string;
  kty?: string;
  /** Usable keys: the one algorithm the key is bound to. */
  alg?: string;
  /** Usable keys: whether it may verify / sign. */
  verify?: boolean;
  sign?: boolean;
  /** Inert keys: why, as a stable code, and as a sentence. */
  inert?: InertReason;
  reason?: string;
}

/** Options for an `AuthJsCookie`. */
export interface AuthJsCookieOptions {
  /**
   * The app's `AUTH_SECRET`, or several (the current one and older ones, for rotation: each
   * cookie names its key). Each at least 32 bytes; at most 8.
   */
  secret: string | string[];
  /** The session cookie's name, Auth.js's key salt. Default `"__Secure-authjs.session-token"`. */
  cookieName?: string;
}

/** Options for a single call. */
export interface TimeOptions {
  /** The current time in seconds since the epoch. Default: `Date.now() / 1000`, rounded down. */
  now?: number;
}

/** The request a DPoP proof must name (`Verifier.verifyDpop`). */
export interface DpopRequest extends TimeOptions {
  /** The HTTP method, exactly as received (`"GET"`). */
  method: string;
  /** The request's absolute URL as the client addressed it (query and fragment are ignored). */
  url: string;
}

/** Options for a `Refresher`. */
export interface RefresherOptions {
  /** Most concurrent sessions per subject (1..=256). Default: no cap (256 kept at most). */
  maxSessions?: number;
  /** Beyond `maxSessions`: end the subject's oldest session (default) or refuse the new one (`revoked`). */
  onSessionCap?: "endOldest" | "refuse";
}

/** Options for `Refresher.start` and `Refresher.refresh`. */
export interface SessionOptions extends TimeOptions {
  /** The client's User-Agent: only its family (`chrome`, `firefox`, `curl`, …) is kept. */
  userAgent?: string;
}

/** One live session of a subject (`Refresher.sessions`). Never a token, key or IP. */
export interface SessionInfo {
  sid: string;
  provider: string;
  /** `auth_time`, seconds. */
  started: number;
  /** The last rotation, seconds. */
  lastRotation: number;
  generation: number;
  /** The user agent's family: `chrome`, `firefox`, `safari`, `edge`, `opera`, `curl`, `okhttp`, `node` or `other`. */
  client: string;
}

/** One entry of a subject's session audit trail (`Refresher.auditTrail`). */
export interface SessionEvent {
  /** Seconds. */
  at: number;
  event: "start" | "rotate" | "reuse" | "end" | "cap";
  sid: string;
}

/** What `Refresher.refresh` issues. */
export interface RefreshResult {
  /** The new access token. */
  accessToken: string;
  /** Its lifetime in seconds. */
  accessExpiresIn: number;
  /** The family's next refresh token (set it as the HttpOnly refresh cookie). */
  refreshToken: string;
  /** Its lifetime in seconds (the cookie's Max-Age). */
  refreshExpiresIn: number;
}

/** Options for a `Signer`. */
export interface SignerOptions {
  /** Token lifetime in seconds. Default 900, allowed 1..=31536000; never past `auth_time + maxAgeSeconds`. */
  ttlSeconds?: number;
}

/** A JWT claims set. */
export type Claims = Record<string, unknown>;

/** The stable error codes. */
export type JwtGateErrorCode =
  | "malformed" | "too_large" | "algorithm" | "header" | "key_not_found" | "signature"
  | "expired" | "not_yet_valid" | "issued_in_future" | "too_old" | "audience" | "issuer"
  | "missing_claim" | "type" | "tenant" | "revoked" | "dpop_proof" | "dpop_binding" | "replayed" | "use_dpop_nonce" | "config";

/** What every jwtgate failure throws. */
export interface JwtGateError extends Error {
  name: "JwtGateError";
  code: JwtGateErrorCode;
  /** The claim concerned, for claim errors (`"exp"`, `"aud"`, ...). */
  claim?: string;
  /** The policy field or argument concerned, for `config` errors. */
  field?: string;
}
