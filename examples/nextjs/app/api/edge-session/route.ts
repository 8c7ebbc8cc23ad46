// The Auth.js adapter on Next.js's edge runtime (jwtgate/authjs's `edge-light` entry, which loads
// the wasm on import): a session signed and read back, and a tampered one refused.
// GET /api/edge-session?sub=<id>.
import { authjs } from "jwtgate/authjs";

export const runtime = "edge";

const adapter = authjs({
  issuer: "https://example.test",
  audience: "edge-sessions",
  secret: "edge-session-secret-for-tests-only-0123456789",
});

export async function GET(request: Request): Promise<Response> {
  const sub = new URL(request.url).searchParams.get("sub") ?? "";
  const token = await adapter.jwt.encode({ token: await adapter.stamp({ sub }) });
  const back = await adapter.jwt.decode({ token });
  const tampered = await adapter.jwt.decode({ token: token.slice(0, -2) + (token.endsWith("A") ? "BB" : "AA") });
  return Response.json({ sub: back?.sub ?? null, iss: back?.iss ?? null, tampered });
}
