// The edge gate over HTTP, shared by the gate's test files: the Worker built by
// scripts/build-worker.sh, run in workerd by Miniflare 4, in front of a real upstream HTTP server
// on 127.0.0.1, with a stub JWKS server and a KV namespace. Needs Node >= 22. Tokens are signed
// by `jose`, an independent implementation. Importing this registers the servers' before/after
// hooks in the importing test file.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as jose from "jose";
import { experimental_readRawConfig } from "wrangler";
import { buildDir, gateWorkerOptions, workerd } from "../../scripts/workerd.mjs";

export { buildDir };
export const ISS = "https://auth.example.com";
export const AUD = "orders-api";
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const nowS = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------- servers on 127.0.0.1
export function listen(handler) {
  const server = http.createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` })),
  );
}

/**
 * A JWKS endpoint on 127.0.0.1 answering `body` at exactly `path` and 404 elsewhere (a remote
 * issuer's stand-in, at its own path): `hits` counts every request, `wrong` those at another
 * path; setting `status` makes it fail. `jwksUrl` is its URL at `path`.
 */
export async function jwksAt(path, body) {
  const state = { hits: 0, wrong: 0, status: 200 };
  const server = await listen((req, res) => {
    state.hits++;
    const right = new URL(req.url, "http://x").pathname === path;
    if (!right) state.wrong++;
    res.statusCode = right ? state.status : 404;
    res.setHeader("content-type", "application/json");
    res.end(right && state.status === 200 ? JSON.stringify(body) : "{}");
  });
  return Object.assign(state, server, { jwksUrl: `${server.url}${path}` });
}

/** A `wrangler.toml` text's raw config, as wrangler's own reader gives it. */
export function readWranglerToml(text) {
  const dir = mkdtempSync(join(tmpdir(), "jwtgate-wrangler-"));
  try {
    writeFileSync(join(dir, "wrangler.toml"), text);
    return experimental_readRawConfig({ config: join(dir, "wrangler.toml") }).rawConfig;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const upstream = { hits: [], server: null, url: "" };
export const jwks = { hits: 0, status: 200, body: "", hang: false, stall: false, headers: {}, server: null, url: "" };
/** Puts the JWKS stub back to answering 200 with `body` at once. */
export function resetJwks(body = "") {
  Object.assign(jwks, { hits: 0, status: 200, body, hang: false, stall: false, headers: {} });
}

before(async () => {
  Object.assign(
    upstream,
    await listen((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        upstream.hits.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.setHeader("content-type", "application/json");
        res.setHeader("x-upstream", "yes");
        res.end(JSON.stringify({ ok: true }));
      });
    }),
  );
  Object.assign(
    jwks,
    await listen((req, res) => {
      jwks.hits++;
      if (jwks.hang) return; // never answers: the gate's timeout must fire
      res.statusCode = jwks.status;
      res.setHeader("content-type", "application/json");
      for (const [k, v] of Object.entries(jwks.headers)) res.setHeader(k, v);
      if (jwks.stall) {
        // Headers and the start of the body, then nothing: only a timeout covering the whole
        // body read ends this.
        res.setHeader("content-length", String(jwks.body.length));
        res.write(jwks.body.slice(0, 8));
        return;
      }
      res.end(jwks.body);
    }),
  );
});
export const openGates = new Set();
after(async () => {
  // Gates left open by a failed assertion would keep workerd (and this process) alive.
  await Promise.all([...openGates].map((g) => g.mf.dispose()));
  upstream.server.close();
  jwks.server.closeAllConnections?.();
  jwks.server.close();
});

// ---------------------------------------------------------------- keys and tokens
export const hsSecret = crypto.getRandomValues(new Uint8Array(32));
export const hsJwk = { kty: "oct", kid: "hs-1", k: Buffer.from(hsSecret).toString("base64url") };
export const keyA = await jose.generateKeyPair("ES256", { extractable: true });
export const keyB = await jose.generateKeyPair("ES256", { extractable: true });
export const pubA = { ...(await jose.exportJWK(keyA.publicKey)), kid: "a1" };
export const pubB = { ...(await jose.exportJWK(keyB.publicKey)), kid: "b1" };

export async function hsToken(claims = {}, { exp = "10m", iss = ISS, aud = AUD, header = {} } = {}) {
  let jwt = new jose.SignJWT({ sub: "user_1", jti: crypto.randomUUID(), ...claims })
    .setProtectedHeader({ alg: "HS256", kid: "hs-1", ...header })
    .setIssuer(iss)
    .setAudience(aud)
    .setIssuedAt();
  jwt = typeof exp === "number" ? jwt.setExpirationTime(exp) : jwt.setExpirationTime(exp);
  return jwt.sign(hsSecret);
}

export async function esToken(key, kid, claims = {}) {
  return new jose.SignJWT({ sub: "user_es", ...claims })
    .setProtectedHeader({ alg: "ES256", kid })
    .setIssuer(ISS)
    .setAudience(AUD)
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(key.privateKey);
}

// ---------------------------------------------------------------- the gate
/** A refresh token as the issuer signs it at sign-in (jose, the harness's HS256 key): header
 * `typ` jwtgate-refresh+jwt, `gen` 0 and `auth_time` now unless `claims` say otherwise. */
export const refreshToken = (claims, audience) =>
  new jose.SignJWT({ gen: 0, auth_time: nowS(), ...claims })
    .setProtectedHeader({ alg: "HS256", kid: "hs-1", typ: "jwtgate-refresh+jwt" })
    .setIssuer(ISS)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime("1h")
    .setJti(crypto.randomUUID())
    .sign(hsSecret);

export const basePolicy = { issuer: ISS, audience: AUD, algorithms: ["HS256", "ES256"], requiredClaims: ["sub"] };

// A KV-shaped revocation store whose lookups throw for keys starting with one of FAILING and
// otherwise answer from ENTRIES (Miniflare's own KV cannot be made to fail), served to the gate
// as a wrapped binding.
const FLAKY_KV_WORKER = {
  name: "flaky-kv",
  modules: true,
  script: `export default function (env) {
    const fails = (key) => env.FAILING.some((p) => key.startsWith(p));
    const get = async (key) => {
      if (fails(key)) throw new Error("kv unavailable");
      return Object.hasOwn(env.ENTRIES, key) ? env.ENTRIES[key] : null;
    };
    return { get, getWithMetadata: async (k) => ({ value: await get(k), metadata: null }),
             put: async () => {}, list: async () => ({ keys: [] }), delete: async () => {} };
  }`,
};

/** The gate's vars: the harness defaults with `vars` over them (`undefined` removes one). */
export function gateBindings(vars = {}) {
  const bindings = {
    UPSTREAM_URL: upstream.url,
    JWTGATE_POLICY: JSON.stringify(basePolicy),
    JWTGATE_KEYS: JSON.stringify({ keys: [hsJwk] }),
    ...vars,
  };
  for (const [k, v] of Object.entries(bindings)) if (v === undefined) delete bindings[k];
  return bindings;
}

/**
 * The built gate in workerd with `vars` over the defaults. `kv`: a Miniflare KV namespace as
 * JWTGATE_REVOKED; `flakyKv: { failing, entries }`: the failing store above instead.
 * `durableObjects`: the gate worker's Durable Object bindings (Miniflare's form);
 * `extraWorkers`: more workers beside it (the gate is then the worker named "gate", and
 * `g.fetchFrom(name, path, init)` reaches another one). `compatibilityFlags`: instead of
 * wrangler.toml's.
 */
export async function gate(
  vars = {},
  {
    kv = false,
    flakyKv = undefined,
    cachePersist = undefined,
    durableObjects = undefined,
    extraWorkers = [],
    compatibilityFlags = undefined,
  } = {},
) {
  const logs = [];
  const bindings = gateBindings(vars);
  const worker = {
    ...gateWorkerOptions(bindings),
    ...(compatibilityFlags ? { compatibilityFlags } : {}),
    kvNamespaces: kv ? ["JWTGATE_REVOKED"] : [],
    ...(durableObjects ? { durableObjects } : {}),
  };
  const workers = flakyKv
    ? {
        workers: [
          {
            name: "gate",
            ...worker,
            wrappedBindings: {
              JWTGATE_REVOKED: {
                scriptName: FLAKY_KV_WORKER.name,
                bindings: { FAILING: flakyKv.failing, ENTRIES: flakyKv.entries ?? {} },
              },
            },
          },
          FLAKY_KV_WORKER,
        ],
      }
    : extraWorkers.length
      ? { workers: [{ name: "gate", ...worker }, ...extraWorkers] }
      : worker;
  const mf = workerd({
    ...workers,
    cachePersist,
    handleRuntimeStdio(stdout, stderr) {
      for (const s of [stdout, stderr]) s.on("data", (d) => logs.push(...d.toString().split("\n").filter(Boolean)));
    },
  });
  await mf.ready;
  const g = {
    mf,
    logs,
    fetch: (path, init = {}) => mf.dispatchFetch(`https://app.example${path}`, { redirect: "manual", ...init }),
    fetchFrom: async (name, path, init = {}) =>
      (await mf.getWorker(name)).fetch(`https://app.example${path}`, { redirect: "manual", ...init }),
    dispose: () => {
      openGates.delete(g);
      return mf.dispose();
    },
  };
  openGates.add(g);
  return g;
}

/**
 * A worker named `name` exporting its own `JwtgateState` class whose `fetch` runs `body` (JS
 * source): a stand-in for the gate's Durable Object, bound with `stateOf(name)`.
 */
export const stateWorker = (name, body) => ({
  name,
  modules: true,
  script: `export class JwtgateState { async fetch() { ${body} } }
           export default { fetch() { return new Response("x"); } }`,
});
/** Gate options binding JWTGATE_STATE to `worker`'s class (a `stateWorker`). */
export const stateOf = (worker) => ({
  durableObjects: { JWTGATE_STATE: { className: "JwtgateState", scriptName: worker.name } },
  extraWorkers: [worker],
});

export const bearer = (t) => ({ authorization: `Bearer ${t}` });

/**
 * A gate with `vars` answers every request (protected or public) 500 misconfigured, logs the
 * setting's name and never its secret value, and forwards nothing.
 */
export async function expectMisconfigured(vars, setting, opts) {
  const before = upstream.hits.length;
  const g = await gate(vars, opts);
  for (const path of ["/orders", "/health"]) {
    const r = await g.fetch(path, { headers: bearer(await hsToken()) });
    assert.equal(r.status, 500, setting);
    assert.deepEqual(await r.json(), { error: "misconfigured" });
  }
  await sleep(50);
  assert.ok(g.logs.some((l) => l.includes(`"setting":"${setting}"`)), `${setting}: ${g.logs.join("\n")}`);
  assert.ok(!g.logs.some((l) => l.includes(hsJwk.k) || l.includes("c2hvcnQ")), "secret value logged");
  assert.equal(upstream.hits.length, before, "a misconfigured gate forwarded a request");
  await g.dispose();
}

/** Settings for a gate that takes its keys from the JWKS stub (`extra` on top). */
export const jwksVars = (extra = {}) => ({
  JWTGATE_KEYS: undefined,
  JWTGATE_JWKS_URL: `${jwks.url}/.well-known/jwks.json`,
  ...extra,
});

export async function expectInvalid(g, token, reason) {
  const r = await g.fetch("/orders", { headers: bearer(token) });
  assert.equal(r.status, 401, reason);
  assert.equal(
    r.headers.get("www-authenticate"),
    `Bearer realm="app.example", error="invalid_token", error_description="${reason}"`,
  );
  assert.deepEqual(await r.json(), { error: "invalid_token", reason });
}
