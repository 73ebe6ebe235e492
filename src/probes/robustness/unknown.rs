//! `robustness.unknown_header` and `robustness.unknown_require`: RFC 3261 asks a server to ignore
//! header fields it does not know (§8.2.2, §7.3) but to refuse option tags it does not know in
//! `Require` with 420 Bad Extension listing them in `Unsupported` (§8.2.2.3).

use crate::findings::sip::{UnknownHeaderDetails, UnknownRequireDetails};

use super::targets;
use crate::probe::{BoxFuture, Context, Probe};
use crate::report::{Finding, Severity, Status};
use crate::sip::Message;
use crate::target::Endpoint;

/// The option tag nobody supports.
pub const UNKNOWN_TAG: &str = "x-sipcheck-unknown-extension";

fn line(m: Option<&Message>) -> String {
    m.map(|m| m.first_line())
        .unwrap_or_else(|| "no answer".into())
}

/// A finding of these probes about `ep`: of low severity unless it passed.
fn finding(p: &dyn Probe, ep: &Endpoint, status: Status, summary: String) -> Finding {
    let severity = if status == Status::Pass {
        Severity::None
    } else {
        Severity::Low
    };
    Finding::of(p.id(), status, summary)
        .severity(severity)
        .endpoint(ep)
}

pub struct UnknownHeader;

impl Probe for UnknownHeader {
    fn id(&self) -> &'static str {
        "robustness.unknown_header"
    }
    fn title(&self) -> &'static str {
        "Unknown header fields are ignored"
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let eps = targets(ctx).await;
            if eps.is_empty() {
                return super::super::unanswered(self);
            }
            let mut out = Vec::new();
            for (ep, base) in eps {
                let uri = ctx.request_uri(&ep, false);
                let req = ctx
                    .request("OPTIONS", &uri)
                    .header("X-Sipcheck-Unknown", "probe; param=1")
                    .header(
                        "Sipcheck-Unknown-Header",
                        "<sip:nobody@invalid>;weird=\"yes\"",
                    );
                let ex = ctx.exchange(&ep, &req).await;
                let base_code = base.final_response().and_then(|m| m.status());
                let got = ex.final_response();
                let code = got.and_then(|m| m.status());
                let (status, summary) = match (code, base_code) {
                    (Some(c), Some(b)) if c / 100 == b / 100 => (
                        Status::Pass,
                        format!(
                            "unknown headers ignored: answered {} like a plain OPTIONS ({})",
                            line(got),
                            line(base.final_response())
                        ),
                    ),
                    (Some(c), _) if (400..500).contains(&c) => (
                        Status::Warn,
                        format!(
                            "refused a request because of unknown headers: {} (a plain OPTIONS got {})",
                            line(got),
                            line(base.final_response())
                        ),
                    ),
                    (Some(_), _) => (
                        Status::Warn,
                        format!(
                            "answered {} with unknown headers, {} without",
                            line(got),
                            line(base.final_response())
                        ),
                    ),
                    (None, _) => (
                        Status::Warn,
                        format!(
                            "no answer to an OPTIONS with unknown headers ({}), though a plain one got {}",
                            ex.error.as_ref().map(|e| e.to_string()).unwrap_or_default(),
                            line(base.final_response())
                        ),
                    ),
                };
                out.push(
                    finding(self, &ep, status, summary)
                        .with_details(&UnknownHeaderDetails {
                            response: code,
                            baseline_response: base_code,
                            headers_sent: vec![
                                "X-Sipcheck-Unknown".into(),
                                "Sipcheck-Unknown-Header".into(),
                            ],
                        })
                        .evidence([ctx.evidence(&ex)]),
                );
            }
            out
        })
    }
}

pub struct UnknownRequire;

/// How a response to a request with an unknown `Require` tag measures up.
pub fn judge_require(m: Option<&Message>) -> (Status, String) {
    let Some(m) = m else {
        return (
            Status::Warn,
            "no answer to an OPTIONS with an unknown Require option tag".into(),
        );
    };
    let code = m.status().unwrap_or(0);
    let unsupported = m.list_header("Unsupported");
    let lists_tag = unsupported
        .iter()
        .any(|t| t.eq_ignore_ascii_case(UNKNOWN_TAG));
    match code {
        420 if lists_tag => (
            Status::Pass,
            format!(
                "refused with {} listing the tag in Unsupported, as RFC 3261 §8.2.2.3 asks",
                m.first_line()
            ),
        ),
        420 => (
            Status::Warn,
            format!(
                "refused with {} but without the tag in Unsupported",
                m.first_line()
            ),
        ),
        200..=299 => (
            Status::Warn,
            format!(
                "ignored an unknown Require option tag and answered {} (RFC 3261 §8.2.2.3 requires 420)",
                m.first_line()
            ),
        ),
        _ => (
            Status::Warn,
            format!(
                "answered {} to an unknown Require option tag (420 expected)",
                m.first_line()
            ),
        ),
    }
}

impl Probe for UnknownRequire {
    fn id(&self) -> &'static str {
        "robustness.unknown_require"
    }
    fn title(&self) -> &'static str {
        "Unknown Require option tags are refused with 420"
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let eps = targets(ctx).await;
            if eps.is_empty() {
                return super::super::unanswered(self);
            }
            let mut out = Vec::new();
            for (ep, _) in eps {
                let uri = ctx.request_uri(&ep, false);
                let req = ctx.request("OPTIONS", &uri).header("Require", UNKNOWN_TAG);
                let ex = ctx.exchange(&ep, &req).await;
                let preq = ctx
                    .request("OPTIONS", &uri)
                    .header("Proxy-Require", UNKNOWN_TAG);
                let pex = ctx.exchange(&ep, &preq).await;
                let got = ex.final_response();
                let (status, summary) = judge_require(got);
                out.push(
                    finding(self, &ep, status, summary)
                        .with_details(&UnknownRequireDetails {
                            option_tag: UNKNOWN_TAG.into(),
                            response: got.and_then(|m| m.status()),
                            reason: got.map(|m| m.reason().to_string()),
                            unsupported: got
                                .map(|m| m.list_header("Unsupported"))
                                .unwrap_or_default(),
                            proxy_require_response: pex.final_response().and_then(|m| m.status()),
                            proxy_require_unsupported: pex
                                .final_response()
                                .map(|m| m.list_header("Unsupported"))
                                .unwrap_or_default(),
                        })
                        .evidence([ctx.evidence(&ex), ctx.evidence(&pex)]),
                );
            }
            out
        })
    }
}
