// Next.js 16 proxy (formerly middleware): unauthenticated visits to /protected go to sign-in.
import { NextResponse } from "next/server";
import { auth } from "./auth";

export default auth((req) => {
  if (!req.auth && req.nextUrl.pathname.startsWith("/protected")) {
    const url = new URL("/api/auth/signin", req.nextUrl.origin);
    url.searchParams.set("callbackUrl", req.nextUrl.href);
    return NextResponse.redirect(url);
  }
  return NextResponse.next();
});

export const config = { matcher: ["/protected/:path*"] };
