import { auth } from "@/auth";
import { redirect } from "next/navigation";

export default async function Protected() {
  const session = await auth();
  if (!session?.user) redirect("/api/auth/signin?callbackUrl=/protected");
  return (
    <main>
      <h1>Hello {session.user.name}</h1>
      <p>Your session ends at {session.expires} at the latest, however active you are.</p>
    </main>
  );
}
