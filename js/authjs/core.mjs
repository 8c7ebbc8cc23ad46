// jwtgate for Auth.js (NextAuth v5, @auth/core): signed, verified, absolutely bounded sessions.
// Shared by the Node entry (node.mjs) and the web/edge entry (web.mjs); `load()` returns the
// jwtgate module ({ Signer, Verifier, ... }) once its wasm is ready, `loaded()` returns it at
// once where it is ready already (always under Node) and `undefined` where it is not.
//
// The rules themselves are the core's: the policy's validation (secret length, key checks, the
// leeway's default and range), the algorithms a key set's signing keys default to
// (`signingAlgorithms`), and the verifier over the public halves (`Verifier.forSigner`). This
// file only gathers the options, reads AUTH_URL, and carries Auth.js's calls.

const DEFAULT_TYP = "authjs-session+jwt";
const HOUR = 3600;

function configError(field, message) {
  const e = new Error(`config: ${message} (field \`${field}\`)`);
  e.name = "JwtGateError";
  e.code = "config";
  e.field = field;
  return e;
}

function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Builds the policy and Auth.js options. Throws a `config` JwtGateError at once when the issuer,
 * audience or keys are missing (never a session that silently checks nothing), and, where the
 * wasm is loaded already (Node), for anything else the core refuses in the policy.
 */
export function createAuthjs(load, loaded = () => undefined) {
  return function authjs(options = {}) {
    const env = options.env ?? (typeof process !== "undefined" ? process.env : {});
    const issuer = options.issuer ?? env.AUTH_URL ?? env.NEXTAUTH_URL;
    if (typeof issuer !== "string" || issuer.trim() === "") {
      throw configError("AUTH_URL", "no issuer: pass `issuer`, or set AUTH_URL (or NEXTAUTH_URL)");
    }
    const audience = options.audience;
    if (audience === undefined || audience === "" || (Array.isArray(audience) && audience.length === 0)) {
      throw configError("audience", "no audience: name the app these sessions are for");
    }
    let keys = options.keys;
    const fromSecret = !keys && options.secret !== undefined;
    if (fromSecret) {
      if (typeof options.secret !== "string") throw configError("secret", "the secret must be a string");
      keys = { keys: [{ kty: "oct", kid: options.kid ?? "authjs-session", k: toBase64Url(options.secret) }] };
    }
    if (!keys || !Array.isArray(keys.keys) || keys.keys.length === 0) {
      throw configError("keys", "no keys: pass `keys` (a JWKS with a private key) or `secret`");
    }
    const maxAge = options.maxAgeSeconds ?? 8 * HOUR;
    const updateAge = options.updateAgeSeconds ?? 15 * 60;
    // Pinned by default to the signing key(s)' algorithm(s) only (the core's
    // `signingAlgorithms`: a JWK's own `alg`, else its type's default), so that the other keys
    // of an issuer's whole set are inert in the core, never extra ways in. Filled in when the
    // wasm is loaded (at once under Node).
    const policy = {
      issuer,
      audience,
      algorithms: options.algorithms,
      keys,
      maxAgeSeconds: maxAge,
      // The core's default and range apply unless the app sets one.
      ...(options.leewaySeconds === undefined ? {} : { leewaySeconds: options.leewaySeconds }),
      typ: options.typ ?? DEFAULT_TYP,
      requiredClaims: options.requiredClaims ?? ["sub"],
    };
    const clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
    const onRefuse =
      options.onRefuse ?? ((code) => console.warn(`[jwtgate] session refused: ${code}`));
    // Without an idle timeout, a token lives as long as the absolute bound allows.
    const ttlSeconds = options.idleTimeoutSeconds ?? maxAge;
    // A revocation list: anything with `get(key)` answering the entry's text or null (a KV
    // namespace, a Map-like store, a Redis client); the same entries as the gate's JWTGATE_REVOKED.
    const revocation = options.revocation;
    if (revocation !== undefined && (revocation === null || typeof revocation.get !== "function")) {
      throw configError("revocation", "a revocation list needs a get(key) method");
    }

    let built;
    // The signer, and the core's verifier for its tokens (over the public halves of the keys).
    function build(jwtgate) {
      try {
        if (policy.algorithms === undefined) policy.algorithms = jwtgate.signingAlgorithms(keys);
        built = {
          signer: new jwtgate.Signer(policy, { ttlSeconds }),
          verifier: jwtgate.Verifier.forSigner(policy),
        };
      } catch (e) {
        // The core's reason, under the option the app wrote: the one key was made from `secret`.
        const field = e && e.code === "config" ? String(e.field) : "";
        if (fromSecret && (field === "keys.keys[0]" || field.startsWith("keys.keys[0]."))) {
          const reason = String(e.message).replace(/^config: /, "").replace(/ \(field `[^`]*`\)$/, "");
          throw configError("secret", `the secret is no HMAC key this policy can use: ${reason}`);
        }
        throw e;
      }
      return built;
    }
    async function parts() {
      return built ?? build(await load());
    }
    const ready = loaded();
    if (ready !== undefined) build(ready);

    /** Auth.js `jwt.encode`: a signed JWS (not Auth.js's JWE), refreshed only past updateAge. */
    async function encode({ token }) {
      if (!token) return "";
      const { signer } = await parts();
      const now = clock();
      const claims = { ...token };
      if (typeof claims.iat === "number" && typeof claims.jti === "string" && now - claims.iat < updateAge) {
        // Young enough: the same header and claims, byte for byte (the same token, where the
        // signature is deterministic: HMAC, RS*, EdDSA; ECDSA and PSS draw a fresh nonce).
        try {
          return await signer.signAsIsAsync(claims, { now });
        } catch {
          // The callbacks changed something the policy refuses as-is: stamp afresh below.
        }
      }
      // The async forms: on the web build an RSA, EC or OKP key signs through WebCrypto.
      return signer.signAsync(claims, { now });
    }

    /** Auth.js `jwt.decode`: every check, `null` on any failure (Auth.js then clears the cookie). */
    async function decode({ token }) {
      if (!token) return null;
      const { verifier } = await parts();
      let claims;
      try {
        // verifyAsync: WebCrypto signatures on edge runtimes; `verify` itself under Node.
        claims = await verifier.verifyAsync(token, { now: clock() });
      } catch (e) {
        onRefuse(e && e.code ? e.code : "malformed");
        return null;
      }
      if (revocation === undefined) return claims;
      // The core names the entries and judges the answers (jti, sid, sub cut-off at the
      // session's start); this only carries them. A store that fails refuses the session.
      const jwtgate = await load();
      try {
        const keys = jwtgate.revocationKeys(claims);
        const values = await Promise.all(keys.map((k) => revocation.get(k)));
        const answers = {};
        keys.forEach((k, i) => {
          answers[k] = values[i] === undefined ? null : values[i];
        });
        jwtgate.checkRevocation(claims, answers);
      } catch (e) {
        onRefuse(e && e.name === "JwtGateError" ? e.code : "revocation_unavailable");
        return null;
      }
      return claims;
    }

    return {
      jwt: { encode, decode, maxAge },
      session: { strategy: "jwt", maxAge, updateAge },
      callbacks: {
        /**
         * Passes the token through; compose: `jwt: (p) => mine(p).then(t => gate.callbacks.jwt({ ...p, token: t }))`.
         * Outside a sign-in, a token without `auth_time` or `sid` is one that a callback rebuilt
         * and lost them: stamping fresh ones would restart the absolute lifetime or escape a
         * `sid:` revocation, so the session ends (null).
         */
        async jwt({ token, trigger }) {
          const signingIn = trigger === "signIn" || trigger === "signUp";
          const lost = typeof token?.auth_time !== "number" || typeof token?.sid !== "string" || token.sid === "";
          if (token && !signingIn && lost) {
            onRefuse("missing_claim");
            return null;
          }
          return token;
        },
        /** Adds `user.id` (the `sub`) and the session's real end: `expires` never passes auth_time + maxAge. */
        async session({ session, token }) {
          if (token && typeof token.sub === "string") {
            session.user = { ...(session.user ?? {}), id: token.sub };
          }
          if (token && typeof token.exp === "number") {
            const absolute = typeof token.auth_time === "number" ? token.auth_time + maxAge : token.exp;
            session.expires = new Date(Math.min(token.exp, absolute) * 1000).toISOString();
          }
          return session;
        },
      },
      /** For apps that keep Auth.js's own encoding: stamp claims in the `jwt` callback. */
      async stamp(claims) {
        const { signer } = await parts();
        return signer.stamp(claims, { now: clock() });
      },
      /** ...and check them in the `session` callback (throws a JwtGateError; fails closed). */
      async checkClaims(claims) {
        const { verifier } = await parts();
        verifier.checkClaims(claims, { now: clock() });
      },
      policy,
    };
  };
}
