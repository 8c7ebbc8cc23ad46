export default function Home() {
  return (
    <main>
      <h1>jwtgate + Auth.js</h1>
      <p>
        <a href="/protected">A protected page</a> (sign in as ana / pw).
      </p>
    </main>
  );
}
