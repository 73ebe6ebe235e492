//! `sip.refer_policy`: how the trunk treats REFER, beyond `Allow`. An unauthenticated out-of-dialog
//! REFER pointing at an outside URI must be challenged or refused (accepting it lets anyone make the
//! trunk place calls: a call-transfer fraud vector), and a REFER inside a dialog that does not exist,
//! asking to replace another unknown dialog, must get 481 (RFC 3261 §12.2.2, RFC 3891 §3).
//!
//! Only these unauthenticated, unknown-dialog checks run: none can transfer a real call. The outside
//! URI is in `.invalid` (RFC 2606), so even a trunk that accepts cannot reach anyone.

use crate::findings::sip::{ReferAttempt, ReferPolicyDetails};

use super::{answered, unanswered};
use std::sync::Arc;

use crate::findings::{Finding, Severity, Status};
use crate::probe::{Authed, BoxFuture, Context, Probe};
use crate::sip::Message;
use crate::sip::request::token;
use crate::target::Endpoint;
use crate::transport::Exchange;

/// Where the REFER asks the trunk to send a call.
pub const EXTERNAL_TARGET: &str = "sip:sipcheck-transfer-test@example.invalid";

/// A dialog no trunk has (RFC 3891 Replaces value, escaped for a URI header): a fixed name is as
/// unknown as a random one, and keeps reports comparable between runs.
pub const UNKNOWN_DIALOG: &str = "sipcheck-unknown-dialog%40sipcheck.invalid%3Bto-tag%3Dsipcheck-none%3Bfrom-tag%3Dsipcheck-none";

/// How a REFER was treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    Accepted,
    Challenged,
    Refused,
    NoAnswer,
}

impl Treatment {
    pub fn of(m: Option<&Message>) -> Treatment {
        match m.and_then(|m| m.status()) {
            None => Treatment::NoAnswer,
            Some(200..=299) => Treatment::Accepted,
            Some(401 | 407) => Treatment::Challenged,
            Some(_) => Treatment::Refused,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Treatment::Accepted => "accepted",
            Treatment::Challenged => "challenged",
            Treatment::Refused => "refused",
            Treatment::NoAnswer => "no answer",
        }
    }
}

/// Whether a plain OPTIONS got 401/403/407: the trunk admits nobody it does not know.
fn admits_nobody(opts: &Exchange) -> bool {
    matches!(
        opts.final_response().and_then(|m| m.status()),
        Some(401 | 403 | 407)
    )
}

fn first_line(m: Option<&Message>) -> String {
    m.map(|m| m.first_line())
        .unwrap_or_else(|| "no answer".into())
}

pub struct ReferPolicy;

impl Probe for ReferPolicy {
    fn id(&self) -> &'static str {
        "sip.refer_policy"
    }
    fn title(&self) -> &'static str {
        "REFER to an outside URI is refused; unknown dialogs get 481"
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let got = answered(ctx).await;
            if got.is_empty() {
                return unanswered(self);
            }
            ctx.per_endpoint(
                got,
                |(ep, _)| async move { vec![self.measure(ctx, &ep).await] },
            )
            .await
        })
    }
}

impl ReferPolicy {
    /// Both REFERs to one endpoint, in flight together (neither depends on the other's answer), with
    /// the shared rule for challenges applied to the unknown-dialog one.
    async fn measure(&self, ctx: &Context, ep: &Endpoint) -> Finding {
        let uri = ctx.request_uri(ep, false);
        let referred_by = format!("<sip:sipcheck@{}>", ctx.config.domain);
        let refer = ctx
            .request("REFER", &uri)
            .header("Refer-To", format!("<{EXTERNAL_TARGET}>"))
            .header("Referred-By", referred_by.clone());

        // A REFER "inside" a dialog nobody has, asking to replace another unknown dialog.
        let mut dialog = ctx
            .request("REFER", &uri)
            .header(
                "Refer-To",
                format!("<{EXTERNAL_TARGET}?Replaces={UNKNOWN_DIALOG}>"),
            )
            .header("Referred-By", referred_by);
        dialog.to = format!("{};tag=sipcheck-{}", dialog.to, token(8));
        dialog.cseq = 2;
        // The out-of-dialog REFER is never answered with credentials: what is measured is whether a
        // REFER from anyone is acted on. The 481 check is about dialog matching, which a challenge
        // comes before: with --user and --intrusive (a REFER with credentials is intrusive) that
        // challenge is answered; the dialog does not exist and the target is in .invalid, so even a
        // trunk that accepted could transfer nothing.
        let unknown_dialog = async {
            if ctx.config.intrusive {
                ctx.exchange_authed(ep, &dialog).await
            } else {
                let dex = Arc::new(ctx.exchange(ep, &dialog).await);
                let blanket = admits_nobody(ctx.options(ep).await.as_ref());
                Authed::unanswered(
                    &dialog,
                    dex,
                    blanket,
                    "--user with --intrusive sends it with credentials",
                )
            }
        };
        let (ex, dauthed, opts) = futures_util::future::join3(
            ctx.exchange(ep, &refer),
            unknown_dialog,
            ctx.options_authed(ep),
        )
        .await;
        let m = ex.final_response();
        let ood = Treatment::of(m);
        // A trunk that answers a plain OPTIONS with 401/403/407 admits nobody unknown: its 403 to
        // the REFER is that, not a decision about transfers.
        let blanket = admits_nobody(&opts.first);
        let dm = dauthed.answer();
        let dcode = dm.and_then(|m| m.status());
        let dlast = dauthed.last().final_response();
        let unknown = Treatment::of(dlast);

        let base = opts.answer().or(opts.first.best_response());
        let supported = base.map(|m| m.list_header("Supported")).unwrap_or_default();
        let has = |t: &str| supported.iter().any(|s| s.eq_ignore_ascii_case(t));
        let allow_refer = base.map(|m| {
            m.list_header("Allow")
                .iter()
                .any(|a| a.eq_ignore_ascii_case("REFER"))
        });

        let (status, mut summary) = match ood {
            Treatment::Accepted => (
                Status::Fail,
                format!(
                    "accepted an unauthenticated out-of-dialog REFER to {EXTERNAL_TARGET} with {}: anyone can make the trunk place calls",
                    first_line(m)
                ),
            ),
            // RFC 3261 §22.1: a challenged request is not processed until credentials come; what
            // is judged is whether a REFER from anyone is acted on, and this one was not.
            Treatment::Challenged => (
                Status::Pass,
                format!(
                    "an unauthenticated out-of-dialog REFER was not acted on: challenged with {}",
                    first_line(m)
                ),
            ),
            Treatment::Refused if blanket && m.and_then(|m| m.status()) == Some(403) => (
                Status::Pass,
                format!(
                    "an unauthenticated out-of-dialog REFER was not acted on: answered {}, as is every request without credentials here",
                    first_line(m)
                ),
            ),
            Treatment::Refused => (
                Status::Pass,
                format!("out-of-dialog REFER refused ({})", first_line(m)),
            ),
            Treatment::NoAnswer => (
                Status::Warn,
                "no answer to an out-of-dialog REFER: cannot tell whether it was acted on"
                    .to_string(),
            ),
        };
        let status = match unknown {
            Treatment::Accepted if dauthed.unjudged().is_none() => Status::Fail,
            _ => status,
        };
        summary.push_str(&match (unknown, dcode) {
            _ if dauthed.unjudged().is_some() => format!(
                "; whether a REFER for an unknown dialog gets 481 not measured: {}",
                dauthed.unjudged().unwrap_or_default()
            ),
            (_, Some(481)) => "; REFER for an unknown dialog got 481".to_string(),
            (Treatment::Accepted, _) => format!(
                "; REFER for an unknown dialog was ACCEPTED ({})",
                first_line(dm)
            ),
            (Treatment::NoAnswer, _) => "; no answer to a REFER for an unknown dialog".to_string(),
            _ => format!(
                "; REFER for an unknown dialog got {} (481 expected)",
                first_line(dm)
            ),
        });
        let severity = match status {
            Status::Fail => Severity::Critical,
            Status::Warn => Severity::Low,
            _ => Severity::None,
        };
        Finding::of(self.id(), status, summary)
            .severity(severity)
            .endpoint(ep)
            .with_details(&ReferPolicyDetails {
                out_of_dialog: ReferAttempt {
                    refer_to: Some(EXTERNAL_TARGET.into()),
                    response: m.and_then(|m| m.status()),
                    reason: m.map(|m| m.reason().to_string()),
                    treatment: ood.as_str().into(),
                    got_481: None,
                },
                unknown_dialog: ReferAttempt {
                    refer_to: None,
                    response: dlast.and_then(|m| m.status()),
                    reason: dlast.map(|m| m.reason().to_string()),
                    treatment: unknown.as_str().into(),
                    got_481: Some(dcode == Some(481)),
                },
                allow_refer,
                supported_replaces: has("replaces"),
                supported_norefersub: has("norefersub"),
            })
            .evidence(std::iter::once(ctx.evidence(&ex)).chain(dauthed.evidence(ctx)))
    }
}
