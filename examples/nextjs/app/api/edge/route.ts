// A route on Next.js's edge runtime verifying with jwtgate's web entry (the `edge-light`
// export condition): GET /api/edge?token=<HS256 token>.
import { Verifier } from "jwtgate";

export const runtime = "edge";

const verifier = new Verifier({
  issuer: "https://example.test",
  audience: "edge-api",
  algorithms: ["HS256"],
  keys: { keys: [{ kty: "oct", kid: "edge-1", k: "ZWRnZS1leGFtcGxlLXNlY3JldC1mb3ItdGVzdHMtb25seS0zMmI" }] },
});

export function GET(request: Request): Response {
  const token = new URL(request.url).searchParams.get("token") ?? "";
  try {
    const claims = verifier.verify(token) as { sub?: string };
    return Response.json({ ok: true, sub: claims.sub });
  } catch (e) {
    return Response.json({ ok: false, code: (e as { code?: string }).code ?? "error" }, { status: 401 });
  }
}
