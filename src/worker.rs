//! The Cloudflare Worker: I/O around [`crate::gate`]. It reads the environment once per isolate,
//! keeps the JWKS and the verified-token cache in isolate memory, fetches JWKS (sharing one
//! fetch among concurrent requests, with a timeout, warm-started from the Cache API), reads the
//! revocation list from KV, and forwards accepted requests upstream with the body streamed.
//! Every decision is made by `crate::gate` and the core verifier.

use crate::gate::answer::{self, Answer};
use crate::gate::config::{check_setting_names, JwksSettings, DO_BINDING, KV_BINDING, SETTINGS};
use crate::gate::flow;
use crate::gate::jwks::{self, JwksFailure, Turn};
use crate::gate::request::{self, Done, ForwardPlan, Plan, Refusal, RequestView, Unavailable};
use crate::gate::state::{self, StateAnswer, StateRequest, MARK};
use crate::gate::{
    keys_loaded_log, ConfigError, GateConfig, JwksAction, JwksState, ProviderId, VerifiedCache,
};
use crate::jwk::KeySet;
use crate::platform::WebVerifier;
use crate::unix_now;
use crate::verify::{Verified, Verifier};
use futures_util::future::{select, Either};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{
    console_error, console_log, event, js_sys, web_sys, AbortController, Cache, Context, Delay,
    Env, Fetch, Headers, Request, Response, Result,
};

/// What one isolate keeps between requests.
struct Isolate {
    /// The `env` object the settings were read from: the same object again means the same
    /// settings (bindings are fixed for an isolate's deployment), so they are not read again.
    env: JsValue,
    fingerprint: Vec<Option<String>>,
    config: std::result::Result<Rc<GateConfig>, ConfigError>,
    /// Per provider (at its [`ProviderId::index`]), its own keys, JWKS state and verified-token cache.
    providers: Vec<ProviderState>,
}

/// One provider's keys between requests: a token verified under one provider's keys is never
/// found in another's cache.
struct ProviderState {
    jwks: JwksState,
    verifier: Option<Rc<WebVerifier>>,
    cache: VerifiedCache,
}

thread_local! {
    static ISOLATE: RefCell<Option<Isolate>> = const { RefCell::new(None) };
}

#[cfg(feature = "host-keys")]
#[worker::wasm_bindgen::prelude::wasm_bindgen(module = "/js/host/node-crypto.js")]
extern "C" {
    /// workerd's `node:crypto` as host crypto (`undefined` without the `nodejs_compat` flag).
    #[wasm_bindgen(js_name = builtinNodeCryptoHost)]
    fn builtin_node_crypto_host() -> JsValue;
}

/// Registers workerd's `node:crypto` as the host crypto, once per isolate: this build has no
/// RSA, ECDSA or Ed25519 arithmetic of its own (`host-keys`). Without `nodejs_compat` there is
/// none, and keys of those types are configuration errors that say so. (Built without
/// `host-keys`, the wasm carries RustCrypto's arithmetic and needs no host.)
#[cfg(feature = "host-keys")]
fn register_host_crypto() {
    if !crate::host_crypto::registered() {
        crate::host_crypto::register(builtin_node_crypto_host());
    }
}

/// A var or secret as text; object vars (TOML tables in `wrangler.toml`) as JSON text.
fn env_string(env: &Env, name: &str) -> Option<String> {
    let v = js_sys::Reflect::get(env, &JsValue::from_str(name)).ok()?;
    if v.is_undefined() || v.is_null() {
        return None;
    }
    // Bindings: the config accepts only their markers, so a var (text or an object table) or
    // another binding type under their names is refused. workers-rs's `env.kv()` and
    // `env.durable_object()` would accept any object (they read its members unchecked), so the
    // binding's own methods are checked here.
    let binding = |methods: &[&str], marker: &str, other: &str| {
        let is_it = v.is_object()
            && methods.iter().all(|m| {
                js_sys::Reflect::get(&v, &JsValue::from_str(m)).is_ok_and(|f| f.is_function())
            });
        Some(if is_it { marker } else { other }.to_owned())
    };
    match name {
        // Only a Durable Object namespace (the gate's JwtgateState class) is the gate's store.
        "JWTGATE_STATE" => {
            return binding(
                &["idFromName", "idFromString", "newUniqueId", "get"],
                DO_BINDING,
                "<not a Durable Object namespace>",
            )
        }
        "JWTGATE_REVOKED" => {
            return binding(
                &["get", "getWithMetadata", "put", "list", "delete"],
                KV_BINDING,
                "<not a KV namespace>",
            )
        }
        _ => {}
    }
    if let Some(s) = v.as_string() {
        return Some(s);
    }
    js_sys::JSON::stringify(&v).ok()?.as_string()
}

/// The isolate's configuration, parsed on first use. Read once per isolate: a request with the
/// same `env` object reuses it without touching the environment; another `env` object is read
/// and compared value by value (parsed again only if a setting changed).
fn config(env: &Env) -> std::result::Result<Rc<GateConfig>, ConfigError> {
    let env_js: &JsValue = env.as_ref();
    let same_env = ISOLATE.with(|cell| {
        cell.borrow()
            .as_ref()
            .filter(|iso| js_sys::Object::is(&iso.env, env_js))
            .map(|iso| iso.config.clone())
    });
    if let Some(config) = same_env {
        return config;
    }
    let fingerprint: Vec<Option<String>> = SETTINGS.iter().map(|s| env_string(env, s)).collect();
    ISOLATE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if let Some(iso) = slot.as_mut() {
            if iso.fingerprint == fingerprint {
                iso.env = env_js.clone();
                return iso.config.clone();
            }
        }
        let values = fingerprint.clone();
        #[cfg(feature = "host-keys")]
        register_host_crypto();
        // Every name in the environment: a misspelt JWTGATE_* setting is an error, not a default.
        let names: Vec<String> = js_sys::Object::keys(env.unchecked_ref::<js_sys::Object>())
            .iter()
            .filter_map(|v| v.as_string())
            .collect();
        let parsed = check_setting_names(names.iter().map(String::as_str))
            .and_then(|()| {
                GateConfig::from_env(|name| {
                    SETTINGS
                        .iter()
                        .position(|s| *s == name)
                        .and_then(|i| values[i].clone())
                })
            })
            .map(Rc::new);
        let mut providers = Vec::new();
        if let Ok(c) = &parsed {
            for provider in c.providers() {
                let (policy, jwks) = (&provider.policy, &provider.jwks);
                // Without a remote JWKS, the static keys are all there is.
                let verifier = if jwks.is_none() {
                    Verifier::new(policy.clone())
                        .ok()
                        .map(|v| Rc::new(WebVerifier::new(v)))
                } else {
                    None
                };
                // Once per (re)load of the settings: the configured keys.
                if !policy.keys().report().is_empty() {
                    console_log!("{}", keys_loaded_log("config", policy.keys().report()));
                }
                providers.push(ProviderState {
                    jwks: JwksState::new(),
                    verifier,
                    cache: VerifiedCache::new(c.cache_size),
                });
            }
        }
        *slot = Some(Isolate {
            env: env_js.clone(),
            fingerprint,
            config: parsed.clone(),
            providers,
        });
        parsed
    })
}

/// Provider `p`'s state in this isolate.
fn with_provider<T>(p: ProviderId, f: impl FnOnce(&mut ProviderState) -> T) -> Option<T> {
    ISOLATE.with(|cell| {
        cell.borrow_mut()
            .as_mut()
            .and_then(|iso| iso.providers.get_mut(p.index()))
            .map(f)
    })
}

fn respond(a: Answer) -> Result<Response> {
    let headers = Headers::new();
    // Appended, not set: an answer may carry several `Set-Cookie` headers.
    for (k, v) in &a.headers {
        headers.append(k, v)?;
    }
    if !a.body.is_empty() && !headers.has("content-type")? {
        headers.set("content-type", "application/json")?;
    }
    if !headers.has("cache-control")? {
        headers.set("cache-control", "no-store")?;
    }
    Ok(Response::ok(a.body)?
        .with_status(a.status)
        .with_headers(headers))
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    let now = unix_now();
    let config = match config(&env) {
        Ok(c) => c,
        Err(e) => {
            console_error!(
                "{}",
                serde_json::json!({"jwtgate": "misconfigured", "setting": e.setting, "message": e.message})
            );
            return respond(answer::misconfigured()).map(Into::into);
        }
    };
    // Read the request; `gate::request` decides, this carries it out.
    let url_text = req.inner().url();
    let Some(url) = crate::uri::request_url(&url_text) else {
        return respond(request::unreadable_url()).map(Into::into);
    };
    let headers = req.headers();
    let header_names: Vec<String> = headers.keys().collect();
    let (authorization, cookie, accept) = (
        headers.get("authorization")?,
        headers.get("cookie")?,
        headers.get("accept")?,
    );
    let token_headers = config
        .token_headers()
        .map(|(_, name)| headers.get(name))
        .collect::<Result<Vec<_>>>()?;
    let ray = headers.get("cf-ray")?;
    let dpop = headers.get("dpop")?;
    let (origin, sec_fetch_site) = (headers.get("origin")?, headers.get("sec-fetch-site")?);
    // The method exactly as received (workers-rs's `Method` reads unknown methods as GET):
    // the one a DPoP proof's `htm` must name, and the one forwarded.
    let method = req.inner().method();
    let view = RequestView {
        method: &method,
        url: &url_text,
        host: &url.host,
        raw_path: url.path,
        header_names: &header_names,
        authorization: authorization.as_deref(),
        token_headers: &token_headers,
        cookie: cookie.as_deref(),
        accept: accept.as_deref(),
        preflight_headers: headers.has("access-control-request-method")?
            && headers.has("origin")?,
        ray: ray.as_deref(),
        dpop: dpop.as_deref(),
        origin: origin.as_deref(),
        sec_fetch_site: sec_fetch_site.as_deref(),
    };
    let host = WorkerHost {
        config: &config,
        env: &env,
    };
    let done = match request::plan(&config, &view) {
        Plan::Done(done) => done,
        Plan::Verify(pending) => {
            let outcome = match pending.session_reader(&config) {
                Some(reader) => {
                    flow::open_session(&config, &host, reader, &pending.token, now).await
                }
                None => flow::verify_token(&config, &host, &view, &pending, now).await,
            };
            request::after_verify(&config, &view, pending, outcome, now)
        }
        Plan::Admin(op) => {
            let name = op.name();
            let answer = crate::gate::admin::run(&host, op).await;
            // Every admin action leaves a line (never the secret, the subject or a session id).
            console_log!(
                "{}",
                serde_json::json!({"jwtgate": "admin", "op": name, "status": answer.status})
            );
            Done::Answer(answer, None)
        }
        Plan::Refresh(token) => {
            let user_agent = req.headers().get("user-agent")?;
            let outcome = flow::rotate(&config, &host, &token, user_agent.as_deref(), now).await;
            request::after_refresh(&config, &view, &token, outcome)
        }
    };
    match done {
        Done::Answer(answer, rejection) => {
            if let Some(r) = rejection {
                if r.error {
                    console_error!("{}", r.line);
                } else {
                    console_log!("{}", r.line);
                }
            }
            respond(answer).map(Into::into)
        }
        Done::Forward(plan) => {
            if let Some(line) = &plan.log {
                console_log!("{line}");
            }
            forward(&req, &config, plan, url.query).await
        }
    }
}

/// [`flow::Host`] over workerd: the isolate's keys and caches, WebCrypto, KV, the Durable
/// Object, the console. I/O only; the order and every refusal are `gate::flow`'s.
struct WorkerHost<'a> {
    config: &'a GateConfig,
    env: &'a Env,
}

impl flow::Host for WorkerHost<'_> {
    fn now(&self) -> i64 {
        unix_now()
    }

    type Keys = Rc<WebVerifier>;

    async fn keys(
        &self,
        provider: ProviderId,
        now: i64,
        unknown_kid: bool,
    ) -> std::result::Result<(Rc<WebVerifier>, u64), Refusal> {
        current_verifier(self.config, provider, now, unknown_kid).await
    }

    async fn check(
        &self,
        keys: &Rc<WebVerifier>,
        token: &str,
        presentation: crate::Presentation,
        now: i64,
    ) -> crate::Result<Verified> {
        crate::platform::webcrypto::verify(keys, token, presentation, now).await
    }

    fn with_cache<T>(
        &self,
        provider: ProviderId,
        f: impl FnOnce(&mut VerifiedCache) -> T,
    ) -> Option<T> {
        with_provider(provider, |ps| f(&mut ps.cache))
    }

    async fn proof_signature(&self, proof: &crate::dpop::PreparedProof<'_>) -> Option<bool> {
        crate::platform::webcrypto::verify_once(
            proof.key(),
            proof.alg(),
            proof.signature(),
            proof.signing_input(),
        )
        .await
    }

    async fn revocation_values(&self, keys: &[&str]) -> Option<Vec<Option<Option<String>>>> {
        // Checked when the settings were read: the binding is a KV namespace.
        let kv = self.env.kv("JWTGATE_REVOKED").ok()?;
        let lookups = keys.iter().map(|key| {
            let kv = &kv;
            async move { kv.get(key).text().await.ok() }
        });
        Some(futures_util::future::join_all(lookups).await)
    }

    async fn state(&self, object: &str, path: &str, body: Option<String>) -> Option<(u16, String)> {
        state_call(self.env, object, path, body).await
    }

    fn log_error(&self, line: String) {
        console_error!("{line}");
    }
}

/// One request to the gate's Durable Object `name` (POST with `body`, else GET): its status
/// and body text, or `None` if it could not be reached within [`STATE_TIMEOUT_MS`].
async fn state_call(
    env: &Env,
    name: &str,
    path: &str,
    body: Option<String>,
) -> Option<(u16, String)> {
    let call = async {
        let ns = env.durable_object("JWTGATE_STATE").ok()?;
        let stub = ns.id_from_name(name).ok()?.get_stub().ok()?;
        let mut init = worker::RequestInit::new();
        if let Some(body) = body {
            init.with_method(worker::Method::Post)
                .with_body(Some(JsValue::from_str(&body)));
        }
        let req = Request::new_with_init(&format!("https://jwtgate-state{path}"), &init).ok()?;
        let mut response = stub.fetch_with_request(req).await.ok()?;
        // Only the gate's own class marks its answers: another class bound as JWTGATE_STATE
        // is no store, whatever it says.
        let ours = response.headers().get(MARK).ok().flatten().as_deref() == Some("1");
        let status = response.status_code();
        let text = response.text().await.ok()?;
        ours.then_some((status, text))
    };
    let timeout = Delay::from(Duration::from_millis(STATE_TIMEOUT_MS));
    match select(Box::pin(call), Box::pin(timeout)).await {
        Either::Left((answer, _)) => answer,
        Either::Right(_) => None,
    }
}

/// One answer of the gate's Durable Object, as [`StateAnswer::encode`] writes it.
fn state_answer(answer: StateAnswer) -> Result<Response> {
    let (status, body) = answer.encode();
    Ok(Response::ok(body)?.with_status(status))
}

/// How long the gate waits for the replay store before answering 503.
const STATE_TIMEOUT_MS: u64 = 2000;

/// The verifier to use now, fetching the JWKS first when the state machine says so.
async fn current_verifier(
    config: &GateConfig,
    p: ProviderId,
    now: i64,
    unknown_kid: bool,
) -> std::result::Result<(Rc<WebVerifier>, u64), Refusal> {
    let Some(settings) = config.provider(p).and_then(|p| p.jwks.clone()) else {
        return with_provider(p, |ps| {
            ps.verifier.clone().map(|v| (v, ps.jwks.generation()))
        })
        .flatten()
        .ok_or(Refusal::Unavailable(Unavailable::NoKeys, 60));
    };
    let fetch_now = with_provider(p, |ps| {
        if unknown_kid {
            ps.jwks.may_refetch_for_unknown_kid(now, &settings)
        } else {
            ps.jwks.before_verify(now, &settings) == JwksAction::Fetch
        }
    })
    .unwrap_or(false);
    if fetch_now {
        shared_refresh(config, p, &settings, now, unknown_kid).await;
    }
    with_provider(p, |ps| {
        if ps.jwks.usable(now, &settings).is_some() {
            ps.verifier.clone().map(|v| (v, ps.jwks.generation()))
        } else {
            None
        }
    })
    .flatten()
    .ok_or(Refusal::Unavailable(
        Unavailable::Jwks,
        settings.cooldown_seconds,
    ))
}

/// One JWKS fetch per isolate at a time (`JwksState::claim_fetch`): the request that claims it
/// fetches and settles it; the others poll, on their own timers, until it ends or their wait
/// is over. The Worker does the I/O and the waiting; every rule is `gate::jwks`'s.
async fn shared_refresh(
    config: &GateConfig,
    p: ProviderId,
    settings: &JwksSettings,
    now: i64,
    skip_cache: bool,
) {
    let started = js_sys::Date::now();
    let turn = with_provider(p, |ps| ps.jwks.claim_fetch(started, settings));
    match turn {
        Some(Turn::Fetch) => {}
        Some(Turn::Wait) => loop {
            Delay::from(Duration::from_millis(5)).await;
            let now_ms = js_sys::Date::now();
            if with_provider(p, |ps| ps.jwks.wait_over(started, now_ms, settings)).unwrap_or(true) {
                return;
            }
        },
        None => return,
    }
    let Some(policy) = config.provider(p).map(|p| &p.policy) else {
        return;
    };
    let fetched = fetch_jwks(policy, settings, now, skip_cache).await;
    with_provider(p, |ps| match ps.jwks.settle(policy, fetched, now) {
        Ok(verifier) => {
            ps.verifier = Some(Rc::new(WebVerifier::new(verifier)));
            ps.cache.sync_generation(ps.jwks.generation());
        }
        Err(line) => console_error!("{}", line),
    });
}

/// The provider's JWKS: a fresh Cache API copy (unless `skip_cache`), else one fetch with one
/// deadline for the whole body, redirects refused, the body capped; the rules are
/// `gate::jwks`'s. Returns the set and when it was fetched.
async fn fetch_jwks(
    policy: &crate::Policy,
    s: &JwksSettings,
    now: i64,
    skip_cache: bool,
) -> std::result::Result<(KeySet, i64), JwksFailure> {
    let cache = Cache::default();
    if !skip_cache {
        if let Ok(Some(mut cached)) = cache.get(s.url.as_str(), false).await {
            let fetched_at = cached
                .headers()
                .get("x-jwtgate-fetched-at")
                .ok()
                .flatten()
                .and_then(|t| t.parse::<i64>().ok());
            if let (Some(at), Ok(text)) = (fetched_at, cached.text().await) {
                if jwks::cached_copy_fresh(at, now, s.cache_seconds) {
                    if let Ok(set) = load_set(policy, &text) {
                        return Ok((set, at));
                    }
                }
            }
        }
    }

    let controller = AbortController::default();
    let signal = controller.signal();
    let mut init = worker::RequestInit::new();
    init.with_redirect(worker::RequestRedirect::Manual);
    let request = Request::new_with_init(&s.url, &init).map_err(|_| JwksFailure::BadUrl)?;
    let whole = async {
        let mut response = Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(|_| JwksFailure::Network)?;
        jwks::check_status(response.status_code())?;
        read_capped(&mut response).await
    };
    let timeout = Delay::from(Duration::from_millis(u64::from(s.timeout_ms)));
    let text = match select(Box::pin(whole), Box::pin(timeout)).await {
        Either::Left((result, _)) => result?,
        Either::Right(_) => {
            controller.abort();
            return Err(JwksFailure::TimedOut);
        }
    };
    let set = load_set(policy, &text)?;

    // Warm copy for new isolates.
    if let Ok(copy) = Response::ok(text.clone()) {
        let headers = Headers::new();
        let _ = headers.set("content-type", "application/json");
        let _ = headers.set("cache-control", &format!("max-age={}", s.cache_seconds));
        let _ = headers.set("x-jwtgate-fetched-at", &now.to_string());
        let _ = cache.put(s.url.as_str(), copy.with_headers(headers)).await;
    }
    Ok((set, now))
}

/// A JWKS body as the provider's key set (`gate::jwks`), with the report of what was made of
/// each key logged once per load (no key material).
fn load_set(policy: &crate::Policy, text: &str) -> std::result::Result<KeySet, JwksFailure> {
    let (set, value) = jwks::parse(policy, text)?;
    console_log!("{}", keys_loaded_log("jwks", set.report()));
    jwks::require_usable(policy, &set, &value)?;
    Ok(set)
}

/// Reads a body as UTF-8 text, stopping past [`jwks::MAX_BYTES`] (never buffering more).
async fn read_capped(response: &mut Response) -> std::result::Result<String, JwksFailure> {
    use futures_util::StreamExt;
    let declared = response.headers().get("content-length").ok().flatten();
    jwks::check_declared_length(declared.as_deref())?;
    let mut stream = response.stream().map_err(|_| JwksFailure::Unreadable)?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| JwksFailure::Unreadable)?;
        jwks::check_length(body.len() + chunk.len())?;
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| JwksFailure::Unreadable)
}

/// Forwards the request upstream as `gate::request` planned it: same method, the canonical
/// path, the query as it came, the (streamed) body unless the plan drops it, and exactly the
/// plan's header edits.
#[worker::wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The runtime's own `fetch`: its `Response` goes back to the client as it is (workers-rs's
    /// `Fetch` would take it apart into status, headers and body stream and build a new one).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &web_sys::Request) -> js_sys::Promise;
}

/// Forwards upstream per `plan` and returns the upstream's response untouched.
async fn forward(
    req: &Request,
    config: &GateConfig,
    plan: ForwardPlan,
    query: Option<&str>,
) -> Result<web_sys::Response> {
    let mut target = format!("{}{}", config.upstream, plan.path);
    if let Some(q) = query {
        target.push('?');
        target.push_str(q);
    }
    let inner = req.inner();
    let headers = Headers(web_sys::Headers::new_with_headers(&inner.headers())?);
    for name in &plan.remove {
        headers.delete(name)?;
    }
    for (name, value) in &plan.set {
        headers.set(name, value)?;
    }
    let with_body = plan.with_body;
    let init = web_sys::RequestInit::new();
    init.set_method(&inner.method());
    init.set_headers(&headers.0);
    if with_body {
        if let Some(body) = inner.body() {
            init.set_body(&body);
        }
    }
    // Upstream redirects go back to the client, as a proxy should; never followed here.
    js_sys::Reflect::set(&init, &"redirect".into(), &"manual".into())?;
    let outgoing = web_sys::Request::new_with_str_and_init(&target, &init)?;
    let response = wasm_bindgen_futures::JsFuture::from(global_fetch(&outgoing)).await?;
    Ok(response.unchecked_into())
}

/// The gate's Durable Object (binding `JWTGATE_STATE`, class `JwtgateState`): the replay store
/// for DPoP proofs. One object per holder key (`dpop:<jkt>`); each proof's replay key is kept
/// in the object's transactional storage until its window ends, and an alarm sweeps expired
/// keys. A Durable Object runs one request at a time between storage calls (its input gate),
/// so a read and the write after it cannot interleave with another request's: of two
/// concurrent uses of one proof, exactly one is first.
#[worker::durable_object]
pub struct JwtgateState {
    state: worker::State,
}

impl JwtgateState {
    /// The refresh family this object holds (stored as `"<generation>:<0|1>"` under `family`).
    async fn family(&self) -> Result<Option<crate::refresh::Family>> {
        let Some(stored) = stored_text(&self.state.storage(), "family").await? else {
            return Ok(None);
        };
        // Only this class writes it: anything unreadable is an error (the gate answers 503),
        // never "a family not seen yet", which would let generation 0 rotate again.
        state::decode_family(&stored)
            .map(Some)
            .ok_or_else(|| worker::Error::RustError("unreadable refresh family state".into()))
    }

    /// A subject's registry requests: [`state::apply_subject`] decides, this reads the
    /// registry from `subject` and writes it back.
    async fn subject(&self, kind: StateRequest, mut req: Request) -> Result<Response> {
        // The body first: awaiting it opens the object's input gate, and another request's
        // read and write of the registry must not fall between this one's.
        let body = req.text().await.unwrap_or_default();
        let storage = self.state.storage();
        let stored = stored_text(&storage, "subject").await?;
        // Only this class writes it: unreadable is an error (the gate answers 503).
        let mut registry = state::read_registry(stored.as_deref())
            .map_err(|_| worker::Error::RustError("unreadable session registry".into()))?;
        let Some(answer) = state::apply_subject(kind, &body, &mut registry, unix_now()) else {
            return state_answer(StateAnswer::BadRequest);
        };
        if kind != StateRequest::Subject {
            storage
                .put("subject", registry.to_json().to_string())
                .await?;
        }
        let (status, body) = answer.encode();
        Ok(Response::ok(body)?.with_status(status))
    }

    /// `POST /family/rotate {"gen"}`: [`crate::refresh::decide`] on the stored state, the new
    /// state written before answering: 200 `rotated:<generation>`, or 409 `reused`,
    /// `revoked` or `inconsistent`; 400 for a malformed body.
    async fn rotate(&self, mut req: Request) -> Result<Response> {
        use crate::refresh::Outcome;
        let body = req.text().await.unwrap_or_default();
        let Some(generation) = state::read_rotation(&body) else {
            return state_answer(StateAnswer::BadRequest);
        };
        let outcome = crate::refresh::decide(self.family().await?, generation);
        if let Outcome::Rotated(f) | Outcome::Reused(f) | Outcome::Inconsistent(f) = outcome {
            let record = state::encode_family(&f);
            self.state.storage().put("family", record).await?;
        }
        state_answer(StateAnswer::of_rotation(&outcome))
    }
}

/// The value stored under `key`, as JavaScript holds it (`None` if there is none). Read
/// untyped (workers-rs's typed `get` deserializes through serde, whose error paths format
/// floats: code the gate never needs).
async fn stored(storage: &worker::Storage, key: &str) -> Result<Option<JsValue>> {
    let map = storage.get_multiple(vec![key]).await?;
    let value = map.get(&JsValue::from_str(key));
    Ok((!value.is_undefined()).then_some(value))
}

/// The text stored under `key`; anything but text there is an error (only this class writes).
async fn stored_text(storage: &worker::Storage, key: &str) -> Result<Option<String>> {
    match stored(storage, key).await? {
        None => Ok(None),
        Some(v) => v
            .as_string()
            .map(Some)
            .ok_or_else(|| worker::Error::RustError(format!("{key}: not text"))),
    }
}

/// Keys read per page by the sweep.
const STATE_SWEEP_PAGE: usize = 1000;

impl worker::DurableObject for JwtgateState {
    fn new(state: worker::State, _env: Env) -> Self {
        JwtgateState { state }
    }

    /// Every answer, marked with [`STATE_MARK`] so the gate knows its own class.
    async fn fetch(&self, req: Request) -> Result<Response> {
        let response = self.handle(req).await?;
        response.headers().set(MARK, "1")?;
        Ok(response)
    }

    /// Deletes the keys whose window ended a grace period ago (page by page: an object may
    /// hold many), and comes back for the next one.
    async fn alarm(&self) -> Result<Response> {
        self.sweep().await
    }
}

impl JwtgateState {
    /// The object's answer to one request. `POST /replay {"key", "until"}`: 200 `fresh` if the
    /// key is new (then kept until `until`), 409 if it is kept or its window is over; `POST
    /// /family/rotate` ([`JwtgateState::rotate`]); `GET /family/status`: `live` or `revoked`;
    /// 400 for a malformed body, 404 for anything else.
    async fn handle(&self, mut req: Request) -> Result<Response> {
        let url = req.inner().url();
        let path = crate::uri::request_url(&url).map_or("", |u| u.path);
        match StateRequest::route(&req.inner().method(), path) {
            Some(StateRequest::Replay) => {}
            Some(StateRequest::Rotate) => return self.rotate(req).await,
            Some(StateRequest::FamilyRevoke) => {
                let revoked = crate::refresh::revoked(self.family().await?);
                let record = state::encode_family(&revoked);
                self.state.storage().put("family", record).await?;
                return state_answer(StateAnswer::Revoked { to_rotation: false });
            }
            Some(
                kind @ (StateRequest::SubjectSeen
                | StateRequest::SubjectReused
                | StateRequest::SubjectRevoked
                | StateRequest::SubjectEnd
                | StateRequest::Subject),
            ) => return self.subject(kind, req).await,
            Some(StateRequest::FamilyStatus) => {
                let revoked = self.family().await?.is_some_and(|f| f.revoked);
                return state_answer(if revoked {
                    StateAnswer::Revoked { to_rotation: false }
                } else {
                    StateAnswer::Live
                });
            }
            None => return state_answer(StateAnswer::NotFound),
        }
        let body = req.text().await.unwrap_or_default();
        let Some((key, until)) = state::read_replay(&body) else {
            return state_answer(StateAnswer::BadRequest);
        };
        let now = unix_now();
        let Some(until) = state::replay_keep_until(until, now) else {
            return state_answer(StateAnswer::Replayed);
        };
        let storage = self.state.storage();
        let kept = stored(&storage, &key).await?;
        if kept.is_some() {
            return state_answer(StateAnswer::Replayed);
        }
        storage.put(&key, until).await?;
        if storage.get_alarm().await?.is_none() {
            let wait = state::sweep_delay(until, now);
            storage.set_alarm(Duration::from_secs(wait)).await?;
        }
        state_answer(StateAnswer::Fresh)
    }

    /// Deletes the keys whose window ended a grace period ago (page by page: an object may
    /// hold many), and comes back for the next one.
    async fn sweep(&self) -> Result<Response> {
        let now = unix_now();
        let storage = self.state.storage();
        let mut next: Option<i64> = None;
        let mut start: Option<String> = None;
        loop {
            let mut options = worker::ListOptions::new().limit(STATE_SWEEP_PAGE);
            if let Some(s) = start.as_deref() {
                options = options.start(s);
            }
            let page = storage.list_with_options(options).await?;
            let mut expired = Vec::new();
            let mut last = None;
            let mut count = 0;
            page.for_each(&mut |value, key| {
                count += 1;
                // Replay keys hold numbers; anything else (a refresh family's state) is not swept.
                let (Some(k), Some(until)) = (key.as_string(), value.as_f64()) else {
                    return;
                };
                let until = until as i64;
                if state::sweep_due(until, now) {
                    expired.push(k.clone());
                } else {
                    next = Some(next.map_or(until, |n| n.min(until)));
                }
                last = Some(k);
            });
            for chunk in expired.chunks(128) {
                storage.delete_multiple(chunk.to_vec()).await?;
            }
            match last {
                // `start` is inclusive: go on after the last key seen.
                Some(k) if count == STATE_SWEEP_PAGE => start = Some(format!("{k}\u{0}")),
                _ => break,
            }
        }
        if let Some(next) = next {
            let wait = state::sweep_delay(next, now);
            storage.set_alarm(Duration::from_secs(wait)).await?;
        }
        Response::ok("swept")
    }
}
