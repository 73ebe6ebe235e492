//! `auth.challenge` and `auth.invite_unauthenticated`: how the trunk asks for credentials (RFC 3261
//! §22, RFC 7616, RFC 8760), and whether it lets a call through without any (toll fraud).
//!
//! The challenge is read from the OPTIONS answer when the trunk challenges OPTIONS, else from a
//! REGISTER with `Expires: 0` (it can only remove a binding of ours, never create one), else from the
//! unauthenticated INVITE when calls are allowed. The INVITE places a call, so it runs only with
//! `--call-to` and `--allow-calls`; a provisional other than 100 is cancelled at once, a 2xx is ACKed
//! and hung up at once.

use super::media::call_endpoints;
use crate::call::{self, InviteOptions, Offer};
use crate::findings::auth::{
    ChallengeDetails, ChallengeSeen, InviteUnauthenticatedDetails, Teardown,
};
use crate::findings::{Evidence, Finding, Severity, Status};
use crate::probe::{BoxFuture, Context, Probe};
use crate::sip::Message;
use crate::sip::digest::{Algorithm, Challenge};
use crate::target::{Endpoint, Transport};

pub struct Auth;

impl Probe for Auth {
    fn id(&self) -> &'static str {
        "auth"
    }
    fn title(&self) -> &'static str {
        "Digest authentication"
    }
    fn gate(&self, ctx: &Context) -> Option<String> {
        ctx.config
            .calls
            .permitted()
            .err()
            .map(|r| format!("auth.invite_unauthenticated {r}"))
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let invite = invite_unauthenticated(ctx).await;
            let mut out = challenges(ctx, invite.as_ref().and_then(|(_, c)| c.clone())).await;
            match invite {
                Some((f, _)) => out.push(f),
                None => out.push(Finding::of(
                    "auth.invite_unauthenticated",
                    Status::Skipped,
                    ctx.config
                        .calls
                        .permitted()
                        .err()
                        .unwrap_or_else(|| "--max-calls reached".into()),
                )),
            }
            out
        })
    }
}

/// A challenge seen during the unauthenticated INVITE: where, the response, and the evidence.
type InviteChallenge = Option<(Endpoint, Message, Vec<Evidence>)>;

fn describe(chs: &[Challenge]) -> Vec<ChallengeSeen> {
    chs.iter()
        .map(|c| ChallengeSeen {
            header: if c.proxy {
                "Proxy-Authenticate"
            } else {
                "WWW-Authenticate"
            }
            .into(),
            realm: c.realm.clone(),
            algorithm: c.algorithm_name.clone(),
            qop: c.qop.clone(),
            stale: c.stale,
            opaque: c.opaque.is_some(),
        })
        .collect()
}

/// Judges a set of challenges seen on `ep`.
fn judge(ep: &Endpoint, source: &str, m: &Message, ev: Vec<Evidence>) -> Finding {
    let chs = Challenge::all_in(m);
    let mut algs: Vec<Algorithm> = chs.iter().filter_map(|c| c.algorithm).collect();
    algs.sort();
    algs.dedup();
    let names: Vec<&str> = chs.iter().map(|c| c.algorithm_name.as_str()).collect();
    let mut problems = Vec::new();
    if chs.is_empty() {
        problems.push(format!(
            "the {} carried no Digest challenge sipcheck understands",
            m.first_line()
        ));
    } else {
        if algs.iter().all(|a| *a == Algorithm::Md5) {
            problems.push("MD5 only (RFC 8760 adds SHA-256 and SHA-512-256)".to_string());
        }
        if chs.iter().all(|c| c.qop.is_empty()) {
            problems.push("no qop (RFC 2069 digest: no client nonce, no nonce count)".to_string());
        }
        if ep.transport != Transport::Tls {
            problems.push(format!(
                "challenged over {} (plaintext): the digest exchange can be captured and attacked offline",
                ep.transport
            ));
        }
    }
    let status = if problems.is_empty() {
        Status::Pass
    } else {
        Status::Warn
    };
    let summary = if chs.is_empty() {
        problems.join("; ")
    } else {
        let mut s = format!(
            "{} challenged with {} ({})",
            source,
            names.join(", "),
            m.first_line()
        );
        if !problems.is_empty() {
            s.push_str(": ");
            s.push_str(&problems.join("; "));
        }
        s
    };
    Finding::of("auth.challenge", status, summary)
        .severity(if status == Status::Warn {
            Severity::Medium
        } else {
            Severity::None
        })
        .endpoint(ep)
        .with_details(&ChallengeDetails {
            source: Some(source.into()),
            response: Some(m.first_line()),
            challenges: describe(&chs),
            md5_only: !algs.is_empty() && algs.iter().all(|a| *a == Algorithm::Md5),
            algorithms: algs.iter().map(|a| a.as_str().to_string()).collect(),
            plaintext_transport: ep.transport != Transport::Tls,
        })
        .evidence(ev)
}

async fn challenges(ctx: &Context, from_invite: InviteChallenge) -> Vec<Finding> {
    let eps: Vec<Endpoint> = call_endpoints(ctx)
        .await
        .into_iter()
        .filter_map(|(ep, answered)| answered.then_some(ep))
        .collect();
    let from_invite = &from_invite;
    let mut out = ctx.per_endpoint(eps, |ep| async move {
        let opt = ctx.options(&ep).await;
        if let Some(m) = opt
            .final_response()
            .filter(|m| matches!(m.status(), Some(401 | 407)))
        {
            return vec![judge(&ep, "OPTIONS", m, vec![ctx.evidence(&opt)])];
        }
        let user = ctx
            .config
            .calls
            .credentials
            .as_ref()
            .map(|c| c.user.clone())
            .unwrap_or_else(|| "sipcheck".into());
        let host = ctx.uri_host(&ep);
        let mut req = ctx
            .request("REGISTER", &format!("sip:{host}"))
            .header("Expires", "0");
        req.to = format!("<sip:{user}@{host}>");
        req.from = format!("<sip:{user}@{host}>");
        let ex = ctx.exchange(&ep, &req).await;
        if let Some(m) = ex
            .final_response()
            .filter(|m| matches!(m.status(), Some(401 | 407)))
        {
            return vec![judge(&ep, "REGISTER", m, vec![ctx.evidence(&ex)])];
        }
        if let Some((iep, m, ev)) = from_invite
            && *iep == ep
        {
            return vec![judge(&ep, "INVITE", m, ev.clone())];
        }
        let what = ex
            .final_response()
            .map(|m| format!("REGISTER got {}", m.first_line()))
            .or_else(|| ex.error.as_ref().map(|e| format!("REGISTER: {e}")))
            .unwrap_or_else(|| "no answer to REGISTER".into());
        // A registrar that accepts a REGISTER without credentials lets anyone take over a user's calls.
        let accepted = ex
            .final_response()
            .and_then(Message::status)
            .is_some_and(|c| (200..300).contains(&c));
        let (status, summary) = if accepted {
            (
                Status::Warn,
                format!(
                    "a REGISTER without credentials was accepted ({what}): registrations are not authenticated"
                ),
            )
        } else {
            (
                Status::Info,
                format!(
                    "no Digest challenge seen on OPTIONS or REGISTER ({what}); the trunk may authenticate by source address"
                ),
            )
        };
        vec![
            Finding::of("auth.challenge", status, summary)
                .endpoint(&ep)
                // Nothing was challenged: no source, no challenge.
                .with_details(&ChallengeDetails {
                    plaintext_transport: ep.transport != Transport::Tls,
                    ..ChallengeDetails::default()
                })
                .evidence([ctx.evidence(&opt), ctx.evidence(&ex)]),
        ]
    })
    .await;
    if out.is_empty() {
        out.push(Finding::of(
            "auth.challenge",
            Status::Error,
            "no endpoint answered OPTIONS, so no challenge could be read",
        ));
    }
    out
}

/// Places the call without credentials. `None` when calls are not permitted or the budget is spent.
async fn invite_unauthenticated(ctx: &Context) -> Option<(Finding, InviteChallenge)> {
    let policy = &ctx.config.calls;
    let to = policy.permitted().ok()?.to_string();
    let (ep, _) = call_endpoints(ctx).await.into_iter().next()?;
    let uri = call::request_uri(&to, &ctx.uri_host(&ep), ep.port.get());
    let opts = InviteOptions {
        cancel_on_ringing: true,
        exchange_media: false,
        ..InviteOptions::default()
    };
    let f = |status, summary: String| {
        Finding::of("auth.invite_unauthenticated", status, summary).endpoint(&ep)
    };
    // A refusal on media grounds (488/606/415) means the INVITE was routed without credentials and only
    // the offer was unwelcome: try once more with an SDES offer before judging.
    let mut evidence = Vec::new();
    let mut placed = None;
    for offer in [Offer::Plain, Offer::Sdes] {
        let _one = policy.one_at_a_time().await;
        if !policy.take_call() {
            break;
        }
        ctx.call_placed();
        let p = match call::place(ctx, &ep, &uri, offer, None, &opts).await {
            Ok(p) => p,
            Err(e) => return Some((f(Status::Error, e), None)),
        };
        evidence.extend(p.evidence.iter().cloned());
        let media_refusal = matches!(p.outcome.final_code(), Some(488 | 606 | 415));
        placed = Some(p);
        if !media_refusal {
            break;
        }
    }
    let placed = placed?;
    let o = &placed.outcome;
    let code = o.final_code();
    let ringing: Vec<u16> = o.provisional.iter().copied().filter(|c| *c > 100).collect();
    let (status, summary) = match code {
        Some(c @ (401 | 407)) if ringing.is_empty() => (
            Status::Pass,
            format!("an INVITE without credentials was challenged ({c})"),
        ),
        Some(c) if (200..300).contains(&c) => (
            Status::Fail,
            format!(
                "an INVITE without credentials was ANSWERED ({c}): anyone can place calls through this trunk (toll fraud); the call was hung up at once"
            ),
        ),
        _ if !ringing.is_empty() => (
            Status::Fail,
            format!(
                "an INVITE without credentials was put through (provisional {:?}); it was cancelled at once",
                ringing
            ),
        ),
        Some(403) => (
            Status::Pass,
            format!(
                "an INVITE without credentials was refused ({})",
                o.final_response
                    .as_ref()
                    .map(|m| m.first_line())
                    .unwrap_or_default()
            ),
        ),
        Some(c) if c >= 300 => (
            Status::Warn,
            format!(
                "an INVITE without credentials was not challenged but refused with {}: the refusal may be about the destination or the media rather than authentication, so an acceptable call might get through",
                o.final_response
                    .as_ref()
                    .map(|m| m.first_line())
                    .unwrap_or_default()
            ),
        ),
        _ => (
            Status::Error,
            format!(
                "no final answer to the INVITE: {}",
                o.error.clone().unwrap_or_else(|| "unknown".into())
            ),
        ),
    };
    let challenge = o
        .challenge
        .clone()
        .map(|m| (ep.clone(), m, evidence.clone()));
    let finding = f(status, summary)
        .severity(if status == Status::Fail {
            Severity::Critical
        } else {
            crate::findings::Severity::None
        })
        .with_details(&InviteUnauthenticatedDetails {
            request_uri: uri,
            offer: serde_json::to_value(placed.offer)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            provisional: o.provisional.clone(),
            final_response: o.final_response.as_ref().map(|m| m.first_line()),
            challenges: describe(&o.challenges),
            cancelled: o.cancelled.clone(),
            teardown: Teardown {
                established: placed.teardown.established,
                bye_response: placed.teardown.bye_response,
                ended_by_peer: placed.teardown.ended_by_peer,
                clean: placed.teardown.clean(),
            },
        })
        .evidence(evidence);
    Some((finding, challenge))
}
