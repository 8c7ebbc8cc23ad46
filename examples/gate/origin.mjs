// The demo origin behind the gate: answers every request with what it received, so you can see
// the identity headers the gate adds (and the client-sent x-jwtgate-* headers it removed).
// Usage: node examples/gate/origin.mjs [port]   (default 8788, loopback only)
import http from "node:http";

const port = Number(process.argv[2] ?? process.env.PORT ?? 8788);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const claims = req.headers["x-jwtgate-claims"];
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify(
        {
          origin: "demo",
          method: req.method,
          url: req.url,
          sub: req.headers["x-jwtgate-sub"] ?? null,
          claims: claims ? JSON.parse(Buffer.from(claims, "base64url").toString()) : null,
          expiresIn: req.headers["x-jwtgate-expires-in"] ?? null,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        },
        null,
        2,
      ) + "\n",
    );
  });
});
server.listen(port, "127.0.0.1", () => console.log(`demo origin on http://127.0.0.1:${port}`));
