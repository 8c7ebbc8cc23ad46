// Wycheproof helpers shared by the npm package's tests: where the vectors are, and the byte
// conversions their JSON needs. The vectors are read from ../shared/vectors (or $JWTGATE_VECTORS).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const vectorsDir =
  process.env.JWTGATE_VECTORS ?? fileURLToPath(new URL("../../../shared/vectors/", import.meta.url));

/** A vector file, parsed (`name` relative to the vectors directory). */
export const load = (name) => JSON.parse(readFileSync(`${vectorsDir}/${name}`, "utf8"));
export const hex = (s) => Buffer.from(s, "hex");
export const b64 = (b) => Buffer.from(b).toString("base64url");

/** Big-endian integer bytes → exactly `width` bytes (leading zeros dropped or added); null if too long. */
export function fixed(bytes, width) {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  const t = bytes.subarray(i);
  return t.length > width ? null : Buffer.concat([Buffer.alloc(width - t.length), t]);
}

/** The public JWK of a Wycheproof ECDSA P-256 test group; null if a coordinate is too long. */
export function p256Jwk(group) {
  if (group.publicKeyJwk) return group.publicKeyJwk;
  const x = fixed(hex(group.publicKey.wx), 32);
  const y = fixed(hex(group.publicKey.wy), 32);
  return x && y ? { kty: "EC", crv: "P-256", x: b64(x), y: b64(y) } : null;
}
