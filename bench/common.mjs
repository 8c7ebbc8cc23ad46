// What bench/verify.mjs and bench/workerd.mjs share: the policy's issuer and audience, fresh keys
// per algorithm, a pool of distinct tokens signed by jose, and the median.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import * as jose from "jose";

export const ISS = "https://issuer.example.com";
export const AUD = "bench-api";

/**
 * Fresh keys for `alg` (HS256, RS256, ES256 or EdDSA): `sign` (jose's signing key), `verify`
 * (the secret or public KeyObject), `pem` (SPKI PEM, or the secret), `jwk` (public, kid "k1").
 */
export function keys(alg) {
  if (alg === "HS256") {
    const secret = randomBytes(32);
    const jwk = { kty: "oct", kid: "k1", k: secret.toString("base64url") };
    return { sign: secret, verify: secret, pem: secret, jwk };
  }
  const { publicKey, privateKey } =
    alg === "RS256"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : alg === "ES256"
        ? generateKeyPairSync("ec", { namedCurve: "P-256" })
        : generateKeyPairSync("ed25519");
  return {
    sign: privateKey,
    verify: publicKey,
    pem: publicKey.export({ type: "spki", format: "pem" }),
    jwk: { ...publicKey.export({ format: "jwk" }), kid: "k1" },
  };
}

/** `n` distinct tokens (sub `user-<i>`, its own jti), valid for an hour, signed by jose. */
export async function tokens(alg, k, n) {
  const now = Math.floor(Date.now() / 1000);
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await new jose.SignJWT({ sub: `user-${i}`, scope: "read write", n: i })
        .setProtectedHeader({ alg, kid: "k1", typ: "JWT" })
        .setIssuer(ISS)
        .setAudience(AUD)
        .setIssuedAt(now)
        .setNotBefore(now - 5)
        .setExpirationTime(now + 3600)
        .setJti(`jti-${i}-${randomBytes(4).toString("hex")}`)
        .sign(k.sign),
    );
  }
  return out;
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
