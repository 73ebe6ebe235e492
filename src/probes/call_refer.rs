//! `call.refer`: is REFER actually carried out in a call, not only advertised (`sip.refer` reads
//! `Allow`)? A test call to `--call-to` is answered, a REFER to `--refer-to` is sent inside it, and the
//! implicit subscription's NOTIFYs are followed to a final status or a deadline. Refused (the code),
//! accepted and completed (the sipfrag's final status), accepted and never completed, and handled by
//! something other than the party that answered the call are told apart.
//!
//! The transferred call (the far end calling `--refer-to`) is no longer ours once it is set up: sipcheck
//! ends its own dialog (BYE, or the far end's BYE answered), which is why `--refer-to` must be a number
//! that is safe to call, never guessed.

use std::time::Duration;

use super::media::{call_endpoints, one_answered_call, unjudgeable};
use crate::call::transfer::{self, Attended};
use crate::call::{self, After, InviteOptions, Placed, ReferOutcome};
use crate::findings::call::{CallReferDetails, ReferResult, ReplacesDetails, ReplacesResult};
use crate::findings::{Finding, Status};
use crate::probe::{BoxFuture, Context, Probe};
use crate::sip::digest::DigestClient;
use crate::target::Endpoint;

pub struct CallRefer;

const ID: &str = "call.refer";
const REPLACES: &str = "call.refer_replaces";
/// How long the NOTIFYs of an accepted REFER are followed before it counts as never completed.
pub const FOLLOW: Duration = Duration::from_secs(10);

fn finding(status: Status, summary: impl Into<String>) -> Finding {
    Finding::of(ID, status, summary)
}

impl Probe for CallRefer {
    fn id(&self) -> &'static str {
        ID
    }
    fn title(&self) -> &'static str {
        "REFER (call transfer) carried out in a test call"
    }
    fn gate(&self, ctx: &Context) -> Option<String> {
        gate(ctx).err()
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(run(ctx))
    }
}

fn gate(ctx: &Context) -> Result<(String, String), String> {
    let policy = &ctx.config.calls;
    let to = policy.permitted()?.to_string();
    match policy.refer_to.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => Ok((to, r.to_string())),
        _ => Err(
            "transfers a call: give --refer-to (a second number or URI that is safe to call; never guessed)"
                .into(),
        ),
    }
}

async fn run(ctx: &Context) -> Vec<Finding> {
    let (to, refer_to) = match gate(ctx) {
        Ok(x) => x,
        Err(reason) => {
            return vec![
                finding(Status::Skipped, reason.clone()),
                replaces_finding(Status::Skipped, reason),
            ];
        }
    };
    let Some((ep, _)) = call_endpoints(ctx).await.first().cloned() else {
        return vec![
            finding(Status::Skipped, "no endpoint to call"),
            replaces_finding(Status::Skipped, "no endpoint to call"),
        ];
    };
    let policy = &ctx.config.calls;
    let host = ctx.uri_host(&ep);
    let target = call::request_uri(&refer_to, &host, ep.port.get());
    let after = After::Refer {
        refer_to: target.clone(),
        follow: FOLLOW,
    };
    let opts = InviteOptions {
        exchange_media: false,
        ..InviteOptions::default()
    };
    let mut out = vec![
        match one_answered_call(ctx, &ep, &to, &opts, &after).await {
            Ok(Some(p)) => judge(&p),
            Ok(None) => finding(
                Status::Skipped,
                format!(
                    "--max-calls ({}) reached before the REFER call",
                    policy.max_calls
                ),
            ),
            Err(e) => finding(Status::Error, e).endpoint(&ep),
        },
    ];
    out.push(
        attended(
            ctx,
            &ep,
            &call::request_uri(&to, &host, ep.port.get()),
            &target,
        )
        .await,
    );
    out
}

/// The attended transfer: two calls up at once (held under one turn, so nothing else overlaps them).
async fn attended(ctx: &Context, ep: &Endpoint, to: &str, target: &str) -> Finding {
    let policy = &ctx.config.calls;
    let _one = policy.one_at_a_time().await;
    if !policy.take_calls(2) {
        return replaces_finding(
            Status::Skipped,
            format!(
                "an attended transfer needs two more calls than --max-calls ({}) left",
                policy.max_calls
            ),
        );
    }
    ctx.call_placed();
    let mut auth = policy.credentials.clone().map(DigestClient::new);
    match transfer::attended(ctx, ep, to, target, auth.as_mut(), FOLLOW).await {
        Ok(a) => judge_attended(ep, &a),
        Err(e) => replaces_finding(Status::Error, e).endpoint(ep),
    }
}

fn replaces_finding(status: Status, summary: impl Into<String>) -> Finding {
    Finding::new(
        REPLACES,
        "Attended transfer (REFER with Replaces)",
        status,
        summary,
    )
    .rfcs(&["RFC 3891", "RFC 5589", "RFC 3515"])
}

fn judge_attended(ep: &Endpoint, a: &Attended) -> Finding {
    let base = |st, s: String, outcome: ReplacesResult| {
        let d = ReplacesDetails {
            attended: a.data.clone(),
            outcome,
            teardown_clean: a.teardown.iter().all(|t| t.clean()),
        };
        replaces_finding(st, s)
            .endpoint(ep)
            .with_details(&d)
            .evidence(a.evidence.clone())
    };
    let line = |l: &Option<String>| {
        l.clone()
            .unwrap_or_else(|| "no final answer".into())
            .trim_start_matches("SIP/2.0 ")
            .to_string()
    };
    if a.transferee_outcome.answer().is_none() {
        return base(
            Status::Error,
            format!(
                "the call to --call-to was not answered (\"{}\")",
                line(&a.data.transferee_call)
            ),
            ReplacesResult::NotMeasured,
        );
    }
    let Some(r) = &a.data.refer else {
        return base(
            Status::Error,
            format!(
                "the call to --refer-to was not answered (\"{}\"), so there was no call to replace",
                line(&a.data.target_call)
            ),
            ReplacesResult::NotMeasured,
        );
    };
    let resp = line(&r.response);
    match r.code {
        None => base(
            Status::Error,
            format!(
                "no answer to the REFER: {}",
                r.error.clone().unwrap_or_default()
            ),
            ReplacesResult::NotMeasured,
        ),
        Some(c) if c >= 300 => base(
            Status::Info,
            format!("REFER with Replaces refused in the dialog: \"{resp}\""),
            ReplacesResult::Refused,
        ),
        Some(_) => match (r.final_notify(), a.data.target_call_replaced) {
            (Some(n), true) if n.status.is_some_and(|c| (200..300).contains(&c)) => base(
                Status::Pass,
                format!(
                    "attended transfer completed: REFER with Replaces accepted (\"{resp}\"), NOTIFY sipfrag \"{}\", and the target replaced our call to it (it hung that call up)",
                    n.sipfrag
                        .clone()
                        .unwrap_or_default()
                        .trim_start_matches("SIP/2.0 ")
                ),
                ReplacesResult::Completed,
            ),
            (Some(n), replaced) => base(
                Status::Warn,
                format!(
                    "REFER with Replaces accepted (\"{resp}\"), NOTIFY sipfrag \"{}\", but {}",
                    n.sipfrag
                        .clone()
                        .unwrap_or_default()
                        .trim_start_matches("SIP/2.0 "),
                    if replaced {
                        "the transfer did not succeed although our call to the target ended"
                    } else {
                        "our call to the target was not replaced (Replaces ignored: the target got a second call)"
                    }
                ),
                ReplacesResult::NotReplaced,
            ),
            (None, _) => base(
                Status::Warn,
                format!(
                    "REFER with Replaces accepted (\"{resp}\") but never completed: {} NOTIFY, no final status within {} s",
                    r.notifies.len(),
                    r.followed_ms / 1000
                ),
                ReplacesResult::AcceptedNotCompleted,
            ),
        },
    }
}

/// Someone other than the party that answered the call took the REFER (a B2BUA handling the transfer
/// itself): the REFER's answer names another product, or the far end re-INVITEd us during the transfer.
fn handled_by_trunk(p: &Placed, r: &ReferOutcome) -> Option<String> {
    if let (Some(call), Some(refer)) = (&p.answered_by, &r.answered_by)
        && call != refer
    {
        return Some(format!(
            "the call was answered by \"{call}\" but the REFER by \"{refer}\""
        ));
    }
    r.peer_requests
        .iter()
        .any(|m| m == "INVITE")
        .then(|| "the far end sent a re-INVITE during the transfer".to_string())
}

fn judge(p: &Placed) -> Finding {
    let base = |st, s: String, outcome: ReferResult| {
        let d = CallReferDetails {
            offer: p.offer,
            transport: Some(p.endpoint.transport),
            call: p.outcome.final_response.as_ref().map(|m| m.first_line()),
            call_answered_by: p.answered_by.clone(),
            authenticated_with: p.outcome.answered_with.map(|a| a.as_str().to_string()),
            refer: p.refer.clone(),
            teardown: p.teardown.details(),
            outcome,
        };
        finding(st, s)
            .endpoint(&p.endpoint)
            .with_details(&d)
            .evidence(p.evidence.clone())
    };
    if let Some(reason) = unjudgeable(p) {
        return base(
            Status::Error,
            format!("no answered call to transfer: {reason}"),
            ReferResult::NotMeasured,
        );
    }
    if p.outcome.answer().is_none() {
        let line = p
            .outcome
            .final_response
            .as_ref()
            .map(|m| m.first_line())
            .unwrap_or_default();
        return base(
            Status::Error,
            format!("no answered call to transfer: the call was answered \"{line}\""),
            ReferResult::NotMeasured,
        );
    }
    let Some(r) = &p.refer else {
        return base(
            Status::Error,
            "the far end hung up before the REFER could be sent".into(),
            ReferResult::NotMeasured,
        );
    };
    let Some(code) = r.code else {
        return base(
            Status::Error,
            format!(
                "no answer to the REFER: {}",
                r.error.clone().unwrap_or_else(|| "unknown".into())
            ),
            ReferResult::NotMeasured,
        );
    };
    let line = r.response.clone().unwrap_or_default();
    let line = line.trim_start_matches("SIP/2.0 ");
    if code == 401 || code == 407 {
        return base(
            Status::Error,
            format!(
                "the REFER was challenged (\"{line}\"){}",
                if r.authenticated {
                    " again after the credentials"
                } else {
                    "; give --user and SIPCHECK_PASSWORD or --password-file"
                }
            ),
            ReferResult::NotMeasured,
        );
    }
    if code >= 300 {
        return base(
            Status::Info,
            format!("REFER refused in the dialog: \"{line}\" (whatever Allow advertises)"),
            ReferResult::Refused,
        );
    }
    let trunk = handled_by_trunk(p, r);
    let by_trunk = trunk
        .as_ref()
        .map(|t| format!("; handled by the trunk itself: {t}"))
        .unwrap_or_default();
    let hung_up = if r.peer_hung_up {
        "; the far end then hung up our call"
    } else {
        ""
    };
    let notifies = r.notifies.len();
    match r.final_notify() {
        Some(n) => {
            let frag = n.sipfrag.clone().unwrap_or_default();
            let frag = frag.trim_start_matches("SIP/2.0 ");
            let ok = n.status.is_some_and(|c| (200..300).contains(&c));
            let outcome = match (&trunk, ok) {
                (Some(_), _) => ReferResult::HandledByTrunk,
                (None, true) => ReferResult::Completed,
                (None, false) => ReferResult::CompletedUnsuccessfully,
            };
            base(
                if ok { Status::Pass } else { Status::Info },
                format!(
                    "REFER accepted (\"{line}\") and the transfer {}: NOTIFY sipfrag \"{frag}\" after {} ms ({notifies} NOTIFY){by_trunk}{hung_up}",
                    if ok {
                        "completed"
                    } else {
                        "was attempted but the target did not take it"
                    },
                    n.after_ms
                ),
                outcome,
            )
        }
        None => {
            let last = r
                .notifies
                .iter()
                .rev()
                .find_map(|n| n.sipfrag.clone())
                .map(|f| format!(" (last sipfrag \"{}\")", f.trim_start_matches("SIP/2.0 ")))
                .unwrap_or_default();
            let why = if r.notifies.iter().any(|n| n.terminated()) {
                "the subscription was terminated without a final status".to_string()
            } else {
                format!("no final status within {} s", r.followed_ms / 1000)
            };
            base(
                if trunk.is_some() {
                    Status::Info
                } else {
                    Status::Warn
                },
                format!(
                    "REFER accepted (\"{line}\") but never completed: {notifies} NOTIFY{last}, {why}{by_trunk}{hung_up}"
                ),
                if trunk.is_some() {
                    ReferResult::HandledByTrunk
                } else {
                    ReferResult::AcceptedNotCompleted
                },
            )
        }
    }
}
