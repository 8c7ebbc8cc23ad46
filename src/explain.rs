//! What `jwtgate explain` shows: one token's parts, decoded locally and unverified, and, given a
//! policy, each verification stage's verdict and every claim rule's, with the outcome
//! [`Verifier::verify`] gives. Nothing here decides anything a verifier does not: the stages are
//! [`Verifier::prepare`]'s own (it reports where it stopped), the claim rules
//! [`ClaimRules::walk`](crate::ClaimRules::walk)'s (which `check` stops at the first failure of),
//! so an explanation cannot disagree with a verification.
//!
//! The signature is never shown: only its length. The claims are shown even when the token is
//! refused; they are then what the token *says*, not what anyone vouches for.

use crate::b64;
use crate::claims::Rule;
use crate::error::{Error, Result};
use crate::jws::{object_part, PartError};
use crate::verify::{Stage, Verifier};
use serde_json::{json, Map, Value};
use std::ops::ControlFlow;

/// One stage's or rule's verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// It passed.
    Pass,
    /// It failed with this error.
    Fail(Error),
    /// An earlier stage failed first, so it was not reached.
    NotRun,
}

/// A decoded part of the token, or why it does not decode.
pub type Part = std::result::Result<Map<String, Value>, &'static str>;

/// An explanation of one token (see the module docs).
#[derive(Debug, Clone)]
pub struct Explanation {
    /// How many `.`-separated segments the token has (a compact JWS has 3).
    pub segments: usize,
    /// The header, unverified.
    pub header: Part,
    /// The claims, unverified.
    pub claims: Part,
    /// The signature's length in bytes, when it is base64url.
    pub signature_len: Option<usize>,
    /// With a policy: each stage, in order.
    pub stages: Vec<(Stage, Verdict)>,
    /// With a policy and decodable claims: every claim rule that applies (name, verdict), even
    /// when an earlier stage failed.
    pub rules: Vec<(String, Verdict)>,
    /// With a policy: exactly what [`Verifier::verify`] answers.
    pub outcome: Option<Result<()>>,
}

/// A header or payload segment decoded as the verifier's structure stage decodes it.
fn part(segment: Option<&str>) -> Part {
    match object_part(segment.ok_or("missing")?.as_bytes()) {
        Ok((object, _)) => Ok(object),
        Err(PartError::Base64) => Err("not base64url"),
        Err(PartError::Json) => Err(
            "not a strict JSON object (invalid UTF-8, a duplicate member, trailing data, or not an object)",
        ),
    }
}

/// Explains `token` at `now`, under `verifier`'s policy when one is given.
pub fn explain(verifier: Option<&Verifier>, token: &str, now: i64) -> Explanation {
    let mut segments = token.split('.');
    let (h, p, s) = (segments.next(), segments.next(), segments.next());
    let mut out = Explanation {
        segments: token.split('.').count(),
        header: part(h),
        claims: part(p),
        signature_len: s
            .and_then(|s| b64::decode(s.as_bytes()).ok())
            .map(|s| s.len()),
        stages: Vec::new(),
        rules: Vec::new(),
        outcome: None,
    };
    let Some(verifier) = verifier else {
        return out;
    };
    if let Ok(claims) = &out.claims {
        let _ = verifier
            .policy()
            .rules
            .walk(claims, now, &mut |rule: Rule<'_>, result| {
                let verdict = result.map_or_else(Verdict::Fail, |()| Verdict::Pass);
                out.rules.push((rule.to_string(), verdict));
                ControlFlow::Continue(())
            });
    }
    let (stopped, outcome) = match verifier.prepare_staged(token, now, crate::Presentation::Bearer)
    {
        Err((stage, e)) => (Some((stage, e.clone())), Err(e)),
        Ok(prepared)
            if verifier
                .policy()
                .keys
                .keys()
                .get(prepared.key_index())
                .is_some_and(crate::Key::deferred) =>
        {
            // No host checked this key (the npm web build with none registered): only
            // WebCrypto, asynchronously, can check its signatures.
            let e = Error::config(
                "keys",
                "this key has no host crypto to check a signature with here: verifyAsync \
                 checks it (WebCrypto)",
            );
            (Some((Stage::Signature, e.clone())), Err(e))
        }
        Ok(prepared) => {
            let valid = prepared.check_here(verifier);
            let outcome = prepared.finish(valid).map(drop);
            let stage = if valid {
                Stage::Claims
            } else {
                Stage::Signature
            };
            (outcome.clone().err().map(|e| (stage, e)), outcome)
        }
    };
    let mut reached = true;
    for stage in Stage::ALL {
        let verdict = match &stopped {
            Some((at, e)) if *at == stage => {
                reached = false;
                Verdict::Fail(e.clone())
            }
            _ if reached => Verdict::Pass,
            _ => Verdict::NotRun,
        };
        out.stages.push((stage, verdict));
    }
    out.outcome = Some(outcome);
    out
}

fn verdict_json(verdict: &Verdict) -> Value {
    match verdict {
        Verdict::Pass => json!({"verdict": "pass"}),
        Verdict::NotRun => json!({"verdict": "not_run"}),
        Verdict::Fail(e) => {
            let mut v = error_json(e);
            v["verdict"] = json!("fail");
            v
        }
    }
}

fn error_json(e: &Error) -> Value {
    let mut v = json!({"code": e.code().as_str(), "message": e.message()});
    if let Some(claim) = e.claim_name() {
        v["claim"] = json!(claim);
    }
    v
}

impl Explanation {
    /// As JSON, for the CLI and the npm `explain`: `segments`, `header` and `claims` (the object,
    /// or `{"error": why}`), `signatureBytes`, and with a policy `stages` and `rules` (each
    /// `{stage|rule, verdict: "pass"|"fail"|"not_run", code?, message?, claim?}`) and `result`
    /// (`{"ok": true}` or `{"ok": false, code, message, claim?}`; `null` without a policy).
    pub fn to_json(&self) -> Value {
        let part = |p: &Part| match p {
            Ok(map) => Value::Object(map.clone()),
            Err(why) => json!({ "error": why }),
        };
        let stages: Vec<Value> = self
            .stages
            .iter()
            .map(|(stage, verdict)| {
                let mut v = verdict_json(verdict);
                v["stage"] = json!(stage.name());
                v
            })
            .collect();
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|(rule, verdict)| {
                let mut v = verdict_json(verdict);
                v["rule"] = json!(rule);
                v
            })
            .collect();
        let result = match &self.outcome {
            None => Value::Null,
            Some(Ok(())) => json!({"ok": true}),
            Some(Err(e)) => {
                let mut v = error_json(e);
                v["ok"] = json!(false);
                v
            }
        };
        json!({
            "segments": self.segments,
            "header": part(&self.header),
            "claims": part(&self.claims),
            "signatureBytes": self.signature_len,
            "stages": stages,
            "rules": rules,
            "result": result,
        })
    }
}
