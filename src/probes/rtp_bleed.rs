//! `media.rtp_bleed` (opt-in with `--rtp-bleed`, inside our own answered call only): does the far end's
//! media follow a second source? See [`crate::media::bleed`] for the test; this judges it. A relay that
//! sends the call's media to whoever sent RTP last (or first) leaks calls to anyone who can reach it.

use super::media::{call_endpoints, one_answered_call, unjudgeable};
use crate::call::{After, InviteOptions, Placed};
use crate::findings::call::RtpBleedDetails;
use crate::findings::{Finding, Severity, Status};
use crate::probe::{BoxFuture, Context, Probe};

pub struct RtpBleed;

const ID: &str = "media.rtp_bleed";

fn finding(status: Status, summary: impl Into<String>) -> Finding {
    Finding::of(ID, status, summary)
}

impl Probe for RtpBleed {
    fn id(&self) -> &'static str {
        ID
    }
    fn title(&self) -> &'static str {
        "RTP bleed: does the far end's media follow a second source port?"
    }
    fn gate(&self, ctx: &Context) -> Option<String> {
        gate(ctx).err()
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(run(ctx))
    }
}

fn gate(ctx: &Context) -> Result<String, String> {
    let to = ctx.config.calls.permitted()?.to_string();
    if ctx.config.calls.rtp_bleed {
        Ok(to)
    } else {
        Err("opt-in: give --rtp-bleed (one more call, with --call-to and --allow-calls)".into())
    }
}

async fn run(ctx: &Context) -> Vec<Finding> {
    let to = match gate(ctx) {
        Ok(t) => t,
        Err(reason) => return vec![finding(Status::Skipped, reason)],
    };
    let Some((ep, _)) = call_endpoints(ctx).await.first().cloned() else {
        return vec![finding(Status::Skipped, "no endpoint to call")];
    };
    match one_answered_call(ctx, &ep, &to, &InviteOptions::default(), &After::Bleed).await {
        Ok(Some(p)) => vec![judge(&p)],
        Ok(None) => vec![finding(
            Status::Skipped,
            format!(
                "--max-calls ({}) reached before the RTP bleed call",
                ctx.config.calls.max_calls
            ),
        )],
        Err(e) => vec![finding(Status::Error, e).endpoint(&ep)],
    }
}

fn judge(p: &Placed) -> Finding {
    let base = |st, s: String| {
        let d = RtpBleedDetails {
            offer: p.offer,
            transport: Some(p.endpoint.transport),
            call: p.outcome.final_response.as_ref().map(|m| m.first_line()),
            call_answered_by: p.answered_by.clone(),
            bleed: p.bleed.clone(),
            teardown: p.teardown.details(),
        };
        finding(st, s)
            .endpoint(&p.endpoint)
            .with_details(&d)
            .evidence(p.evidence.clone())
    };
    if let Some(reason) = unjudgeable(p) {
        return base(Status::Error, format!("no answered call to test: {reason}"));
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
            format!("no answered call to test: the call was answered \"{line}\""),
        );
    }
    let Some(b) = &p.bleed else {
        return base(
            Status::Error,
            "the far end hung up (or the answer named no media address) before the test could run"
                .into(),
        );
    };
    if let Some(e) = &b.error {
        return base(Status::Error, format!("not tested: {e}"));
    }
    let second = b.second_port.clone().unwrap_or_default();
    if b.received_on_second_port > 0 {
        return base(
            Status::Fail,
            format!(
                "the far end's media followed a second source: after {} RTP packets with the call's SSRC from {second}, {} RTP packets of the call arrived there (first from {}); anyone who can reach the media relay can take the call's audio (RTP bleed)",
                b.sent_from_second_port,
                b.received_on_second_port,
                b.first_leak_from.clone().unwrap_or_default()
            ),
        )
        .severity(Severity::High);
    }
    if b.received_on_call_port_after == 0 {
        return base(
            Status::Warn,
            format!(
                "inconclusive: no RTP arrived at {second}, but the far end also stopped sending to the call's port after {} packets from a second port",
                b.sent_from_second_port
            ),
        );
    }
    base(
        Status::Pass,
        format!(
            "media stayed on the negotiated address: {} RTP packets with the call's SSRC from a second port ({second}) drew none of the call's media there, and {} more arrived on the call's port",
            b.sent_from_second_port, b.received_on_call_port_after
        ),
    )
}
