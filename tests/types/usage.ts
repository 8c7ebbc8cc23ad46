// Type-checks the package's declarations (wasm-bindgen's classes plus js/types.d.ts, as
// scripts/build-pkg.sh joins them) the way a TypeScript user writes against them:
// `tsc --noEmit -p tests/types` in the test command, after the package is built. Every
// `@ts-expect-error` line is a misuse the types must refuse (tsc fails if one is accepted).
import * as node from "../../pkg/node/jwtgate.js";
import * as web from "../../pkg/web/jwtgate.js";
import * as pure from "../../pkg/pure/jwtgate.js";
import type { Claims, HostCrypto, Jwks, JwtGateError, JwtGateErrorCode, Policy } from "../../pkg/node/jwtgate.js";

const policy: Policy = {
  issuer: "https://issuer.example",
  audience: ["api"],
  algorithms: ["ES256", "HS256"],
  keys: { keys: [{ kty: "EC", crv: "P-256", kid: "k", x: "x", y: "y" }] },
  leewaySeconds: 30,
  maxAgeSeconds: 3600,
  requiredClaims: ["sub"],
  tenantClaim: "org.id",
  refresh: { audience: "https://issuer.example/refresh" },
};

for (const m of [node, web, pure]) {
  const verifier = new m.Verifier(policy, { cacheSize: 0, nativeCrypto: true });
  const claims: Claims = verifier.verify("a.b.c", { now: 1_800_000_000 });
  const later: Promise<Claims> = verifier.verifyAsync("a.b.c");
  void later;
  const sub: unknown = claims.sub;
  void sub;
  const tenantChecked: void = verifier.checkTenant(claims, "acme");
  void tenantChecked;
  const kids: (string | undefined)[] = verifier.keys().map((k) => k.kid);
  void kids;
  verifier.verifyDpop("a.b.c", "p.r.f", { method: "GET", url: "https://api.example/x" });

  const signer = new m.Signer(policy, { ttlSeconds: 60 });
  const token: string = signer.sign({ sub: "u" });
  void token;
  const signed: Promise<string> = signer.signAsync({ sub: "u" }, { now: 1_800_000_000 });
  const same: Promise<string> = signer.signAsIsAsync({ sub: "u" });
  void signed, same;
  const published: Jwks = signer.publicJwks();
  void published;

  const cookie = new m.AuthJsCookie({ issuer: "i", audience: "a", algorithms: ["HS256"] }, { secret: ["s"] });
  cookie.open("jwe", { now: 1 });
  const opened: Promise<Claims> = cookie.openAsync("jwe");
  void opened;

  const refresher = new m.Refresher(policy);
  const r = refresher.refresh(refresher.start({ sub: "u", sid: "s" }));
  const access: string = r.accessToken;
  void access;
  const capped = new m.Refresher(policy, { maxSessions: 3, onSessionCap: "refuse" });
  capped.start({ sub: "u" }, { now: 1, userAgent: "curl/8" });
  const live: number[] = capped.sessions("u").map((s) => s.generation);
  const trail: string[] = capped.auditTrail("u").map((e) => e.event);
  const ended: boolean = capped.endSession("u", "s");
  const all: string[] = capped.endSessions("u");
  const keys: Jwks = capped.publicJwks();
  void live, trail, ended, all, keys;
  // @ts-expect-error: the cap is "endOldest" or "refuse"
  new m.Refresher(policy, { maxSessions: 3, onSessionCap: "oldest" });

  const explained = m.explain("a.b.c", policy);
  void explained;
  m.signingAlgorithms(policy.keys);

  // @ts-expect-error: `none` is never an algorithm
  const none: Policy = { ...policy, algorithms: ["none"] };
  void none;
  // @ts-expect-error: a policy needs an audience
  new m.Verifier({ issuer: "i", algorithms: ["HS256"], keys: { keys: [] } });
  // @ts-expect-error: `now` is a number of seconds
  verifier.verify("a.b.c", { now: new Date() });
  // @ts-expect-error: the token is a string
  verifier.verify(42);
}

// A host crypto of one's own: importKey may decline; decrypt (Node build's AES) is optional.
const host: HostCrypto = {
  importKey: () => undefined,
  checkKey: () => true,
  sign: () => new Uint8Array(64),
  decrypt: (cipher, key, iv, data) => (cipher === "aes-256-gcm" ? data : key.subarray(0, iv.length)),
};
node.setHostCrypto(host);
node.setHostCrypto(null);
// @ts-expect-error: a host must have importKey
node.setHostCrypto({ checkKey: () => true });

try {
  new node.Verifier("{}");
} catch (e) {
  const err = e as JwtGateError;
  const code: JwtGateErrorCode = err.code;
  // @ts-expect-error: codes are the stable set only
  const wrong: JwtGateErrorCode = "oops";
  void code;
  void wrong;
}
