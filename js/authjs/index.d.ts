import type { Jwk, Claims } from "../node/jwtgate";

/** Options for `authjs()`. */
export interface AuthjsOptions {
  /** The issuer; default `AUTH_URL`, then `NEXTAUTH_URL`. Neither set: a `config` error. */
  issuer?: string;
  /** The audience these sessions are for (required). Defends against cross-service replay. */
  audience: string | string[];
  /** A JWKS with a private key (ES256/EdDSA recommended: other services need only the public key). */
  keys?: { keys: Jwk[] };
  /** Or an HMAC secret (HS256; the core requires at least 32 bytes: a `config` error names `secret`). */
  secret?: string;
  /** `kid` for the `secret` key. Default `"authjs-session"`. */
  kid?: string;
  /** Algorithm allowlist. Default: the core's `signingAlgorithms(keys)` (the private keys' own `alg`, else their type's default); the other keys of the set are inert (see `Verifier.keys()`). */
  algorithms?: string[];
  /** Absolute session lifetime from sign-in (`auth_time`), seconds. Default 8 h. No activity extends it. */
  maxAgeSeconds?: number;
  /** A session token younger than this is kept byte-identical; older ones are re-signed. Default 900. */
  updateAgeSeconds?: number;
  /** Idle timeout: each token lives this long (never past the absolute bound). Default: maxAgeSeconds. */
  idleTimeoutSeconds?: number;
  /** Clock tolerance, seconds. Default 30. */
  leewaySeconds?: number;
  /** Header `typ`. Default `"authjs-session+jwt"`, so other tokens cannot be replayed as sessions. */
  typ?: string;
  /** Required claims. Default `["sub"]`. */
  requiredClaims?: string[];
  /** Seconds since the epoch (tests). Default: the host clock. */
  clock?: () => number;
  /** Called with the error code of every refused session cookie (never the token). */
  onRefuse?: (code: string) => void;
  /**
   * A revocation list `decode` consults after every other check: anything with `get(key)`
   * answering the entry's text or `null` (a Cloudflare KV namespace, a Map, a Redis client).
   * Entries as the gate's `JWTGATE_REVOKED`: `jti:<jti>`, `sid:<sid>` (a whole session), and
   * `sub:<sub>` = NumericDate (the subject's sessions started before it). A store that throws
   * refuses the session (`onRefuse("revocation_unavailable")`).
   */
  revocation?: { get(key: string): Promise<string | null | undefined> | string | null | undefined };
  /** Environment to read AUTH_URL / NEXTAUTH_URL from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Web build only: the wasm (bytes, WebAssembly.Module or URL) where the default fetch is unavailable. */
  wasm?: unknown;
}

/** What `authjs()` returns: spread `jwt`, `session` and `callbacks` into the Auth.js config. */
export interface AuthjsAdapter {
  jwt: {
    encode(params: { token?: Claims | null }): Promise<string>;
    decode(params: { token?: string | null }): Promise<Claims | null>;
    maxAge: number;
  };
  session: { strategy: "jwt"; maxAge: number; updateAge: number };
  callbacks: {
    jwt(params: { token: Claims; trigger?: "signIn" | "signUp" | "update" }): Promise<Claims | null>;
    session(params: { session: any; token: Claims }): Promise<any>;
  };
  stamp(claims: Claims): Promise<Claims>;
  checkClaims(claims: Claims): Promise<void>;
  /** The policy the adapter built (share it with the gate). On the web entry, `algorithms` is filled in once the wasm has loaded. */
  policy: Record<string, unknown>;
}

export declare function authjs(options: AuthjsOptions): AuthjsAdapter;
export default authjs;
