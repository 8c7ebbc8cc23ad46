// A route on Next.js's edge runtime verifying with jwtgate's web entry (the `edge-light`
// export condition): GET /api/edge?token=<HS256 or ES256 token>. The web build has no ECDSA
// code of its own: `verifyAsync` checks ES256 signatures with the runtime's WebCrypto (and
// HS256 in Rust, as `verify` does).
import { Verifier } from "jwtgate";

export const runtime = "edge";

const verifier = new Verifier({
  issuer: "https://example.test",
  audience: "edge-api",
  algorithms: ["HS256", "ES256"],
  keys: {
    keys: [
      { kty: "oct", kid: "edge-1", k: "ZWRnZS1leGFtcGxlLXNlY3JldC1mb3ItdGVzdHMtb25seS0zMmI" },
      // The public half of smoke.test.mjs's test-only key.
      {
        kty: "EC",
        crv: "P-256",
        kid: "edge-ec-1",
        x: "9enUa0b3L7caQ3vaK8F8BSKAmSxupreJ2SKExkCZnB4",
        y: "onZHYRU9fz3uWHl33c2KjZlZRNYpYot_qOH-4sYHSFE",
      },
    ],
  },
});

export async function GET(request: Request): Promise<Response> {
  const token = new URL(request.url).searchParams.get("token") ?? "";
  try {
    const claims = (await verifier.verifyAsync(token)) as { sub?: string };
    return Response.json({ ok: true, sub: claims.sub });
  } catch (e) {
    return Response.json({ ok: false, code: (e as { code?: string }).code ?? "error" }, { status: 401 });
  }
}
