// Auth.js with jwtgate sessions: signed JWS cookies checked for issuer, audience, typ and an
// absolute 8-hour lifetime from sign-in. The demo user is ana / pw.
import NextAuth from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { authjs } from "jwtgate/authjs";

// AUTH_URL (or NEXTAUTH_URL) is the issuer; AUTH_SESSION_SECRET signs the sessions (HS256,
// >= 32 bytes; use `keys` with an ES256/EdDSA JWK when other services verify them too).
const gate = authjs({
  audience: "nextjs-example",
  secret: process.env.AUTH_SESSION_SECRET,
  maxAgeSeconds: 8 * 3600,
  updateAgeSeconds: 15 * 60,
});

export const { handlers, auth, signIn, signOut } = NextAuth({
  secret: process.env.AUTH_SECRET,
  trustHost: true,
  providers: [
    Credentials({
      credentials: { username: { label: "Username" }, password: { label: "Password", type: "password" } },
      authorize: async (c) =>
        c?.username === "ana" && c?.password === "pw" ? { id: "user_ana", name: "Ana", email: "ana@example.com" } : null,
    }),
  ],
  session: gate.session,
  jwt: gate.jwt,
  callbacks: { ...gate.callbacks },
});
