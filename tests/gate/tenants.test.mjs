// Tenant bindings (JWTGATE_TENANTS) over HTTP in workerd, as an attacker would try them: a valid
// token of tenant `acme` (jose-signed, the default provider's HS256 key) against another
// tenant's path, host and header, in every spelling the upstream could read as that tenant.
// Nothing refused may reach the upstream.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { upstream, gate, bearer, hsToken, basePolicy, openGates, expectMisconfigured } from "./harness.mjs";

after(() => Promise.all([...openGates].map((g) => g.dispose())));

const policy = JSON.stringify({ ...basePolicy, tenantClaim: "org.id" });
const acme = () => hsToken({ org: { id: "acme" } });

async function at(g, url, token, headers = {}) {
  const before = upstream.hits.length;
  const r = await g.mf.dispatchFetch(url, { redirect: "manual", headers: { ...bearer(token), ...headers } });
  const body = r.headers.get("content-type")?.includes("json") ? await r.json() : null;
  return { status: r.status, body, www: r.headers.get("www-authenticate"), hit: upstream.hits[before] ?? null, reached: upstream.hits.length - before };
}

test("a token opens only its own tenant in the path: every other spelling is refused before the upstream", async () => {
  const g = await gate({ JWTGATE_POLICY: policy, JWTGATE_TENANTS: '[{"route": "/firms/{tenant}"}]' });
  try {
    const t = await acme();
    for (const path of ["/firms/acme", "/firms/acme/invoices/7", "/firms/%61cme/x", "/firms", "/orders/other"]) {
      const r = await at(g, `https://app.example${path}`, t);
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.reached, 1, path);
    }
    for (const path of [
      "/firms/other", // another tenant
      "/firms/other/acme", // ours as a second segment
      "/FIRMS/other", // case-folded route
      "/Firms/other/invoices",
      "/firms/%6Fther", // percent-encoded tenant
      "/firms/%6fther/x",
      "/firms/ACME", // case-folded tenant: another tenant to an exact upstream
      "/firms/acme.json",
    ]) {
      const r = await at(g, `https://app.example${path}`, t);
      assert.equal(r.status, 403, path);
      assert.deepEqual(r.body, { error: "insufficient_scope", reason: "tenant" }, path);
      assert.match(r.www, /error="insufficient_scope", error_description="tenant"/, path);
      assert.equal(r.reached, 0, path);
    }
    // Empty segments, path parameters, encoded separators: 400 before any token work.
    for (const path of ["/firms//other", "/firms/acme;x/other", "/firms/acme%2Fother", "/firms/acme%2fother", "/firms/acme%3Bx/other"]) {
      const r = await at(g, `https://app.example${path}`, t);
      assert.equal(r.status, 400, path);
      assert.equal(r.reached, 0, path);
    }
    // Dot segments: the URL parser resolves them before the gate sees the path (to
    // /firms/other, another tenant); either way nothing reaches the upstream.
    for (const path of ["/firms/acme/%2e%2e/other", "/firms/acme/../other", "/firms/acme;x/../other"]) {
      const r = await at(g, `https://app.example${path}`, t);
      assert.ok([400, 403].includes(r.status), `${path}: ${r.status}`);
      assert.equal(r.reached, 0, path);
    }
    // A token without its tenant claim never passes a bound route (nor anywhere: the policy
    // requires it), and another tenant's token is refused on ours.
    assert.equal((await at(g, "https://app.example/firms/acme", await hsToken())).status, 401);
    const other = await hsToken({ org: { id: "other" } });
    assert.equal((await at(g, "https://app.example/firms/acme", other)).status, 403);
    assert.equal((await at(g, "https://app.example/firms/other", other)).status, 200);
    // Only plain tenants (letters, digits, - and _) are bound: `other.json` could be read as
    // tenant `other` with a format.
    const dotted = await hsToken({ org: { id: "other.json" } });
    assert.equal((await at(g, "https://app.example/firms/other.json", dotted)).status, 403);
  } finally {
    await g.dispose();
  }
});

test("a token opens only its own tenant's subdomain, and the tenant header is the gate's", async () => {
  const g = await gate({
    JWTGATE_POLICY: policy,
    JWTGATE_TENANTS: JSON.stringify([
      { route: "/", host: "{tenant}.app.example" },
      { route: "/api", header: "x-jwtgate-tenant" },
    ]),
  });
  try {
    const t = await acme();
    for (const url of ["https://acme.app.example/x", "https://ACME.app.example/x", "https://acme.app.example:8443/api/x"]) {
      const r = await at(g, url, t);
      assert.equal(r.status, 200, `${url}: ${JSON.stringify(r.body)}`);
    }
    for (const url of [
      "https://other.app.example/x", // a sibling subdomain
      "https://acme.other.app.example/x", // ours one level down
      "https://other.acme.app.example/x",
      "https://acme.app.example.evil.example/x", // ours as a prefix of another host
      "https://app.example/x", // no tenant label
      "https://acme-app.example/x",
    ]) {
      const r = await at(g, url, t);
      assert.equal(r.status, 403, url);
      assert.equal(r.body?.reason, "tenant", url);
      assert.equal(r.reached, 0, url);
    }
    // The host the upstream reads is the one the gate judged: a client's forwarding headers
    // naming another tenant's host never go on.
    const forged = await at(g, "https://acme.app.example/x", t, {
      "x-forwarded-host": "other.app.example",
      forwarded: "host=other.app.example",
      "x-host": "other.app.example",
      "x-original-host": "other.app.example",
      x_forwarded_host: "other.app.example",
    });
    assert.equal(forged.status, 200);
    assert.equal(forged.hit.headers["x-forwarded-host"], "acme.app.example");
    for (const h of ["forwarded", "x-host", "x-original-host", "x_forwarded_host"]) assert.equal(forged.hit.headers[h], undefined, h);
    // The upstream reads the verified tenant from the gate's header, never the client's, in
    // any spelling the client sends.
    const r = await at(g, "https://acme.app.example/api/orders", t, { "x-jwtgate-tenant": "other", x_jwtgate_tenant: "other", "X-JWTGATE-TENANT": "other" });
    assert.equal(r.status, 200);
    assert.equal(r.hit.headers["x-jwtgate-tenant"], "acme");
    assert.equal(r.hit.headers.x_jwtgate_tenant, undefined);
    // Outside the header rule's route the header is not written (and a client's is stripped).
    const outside = await at(g, "https://acme.app.example/x", t, { "x-jwtgate-tenant": "other" });
    assert.equal(outside.hit.headers["x-jwtgate-tenant"], undefined);
  } finally {
    await g.dispose();
  }
});

test("tenant rules that could not be enforced are configuration errors, never a pass", async () => {
  // A provider without tenantClaim: its tokens name no tenant.
  await expectMisconfigured({ JWTGATE_TENANTS: '[{"route": "/firms/{tenant}"}]' }, "JWTGATE_TENANTS");
  // A bound route under a public path would check no token.
  await expectMisconfigured(
    { JWTGATE_POLICY: policy, JWTGATE_PUBLIC_PATHS: "/firms", JWTGATE_TENANTS: '[{"route": "/firms/{tenant}"}]' },
    "JWTGATE_TENANTS",
  );
  // A misspelt member, or a rule that binds twice.
  await expectMisconfigured({ JWTGATE_POLICY: policy, JWTGATE_TENANTS: '[{"route": "/firms/{tenant}", "provider": ["default"]}]' }, "JWTGATE_TENANTS");
  await expectMisconfigured({ JWTGATE_POLICY: policy, JWTGATE_TENANTS: '[{"route": "/f/{tenant}", "host": "{tenant}.app.example"}]' }, "JWTGATE_TENANTS");
});
