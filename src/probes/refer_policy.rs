//! `sip.refer_policy`: how the trunk treats REFER, beyond `Allow`. An unauthenticated out-of-dialog
//! REFER pointing at an outside URI must be challenged or refused (accepting it lets anyone make the
//! trunk place calls: a call-transfer fraud vector), and a REFER inside a dialog that does not exist,
//! asking to replace another unknown dialog, must get 481 (RFC 3261 §12.2.2, RFC 3891 §3).
//!
//! Only these unauthenticated, unknown-dialog checks run: none can transfer a real call. The outside
//! URI is in `.invalid` (RFC 2606), so even a trunk that accepts cannot reach anyone.

use crate::findings::sip::{ReferAttempt, ReferPolicyDetails};

use super::{answered, unanswered};
use crate::probe::{BoxFuture, Context, Probe};
use crate::report::{Finding, Severity, Status};
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
            ctx.per_endpoint(got, |(ep, opts)| async move {
                vec![self.measure(ctx, &ep, &opts).await]
            })
            .await
        })
    }
}

impl ReferPolicy {
    /// Both REFERs to one endpoint, in flight together (neither depends on the other's answer).
    async fn measure(&self, ctx: &Context, ep: &Endpoint, opts: &Exchange) -> Finding {
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
        let (ex, dex) =
            futures_util::future::join(ctx.exchange(ep, &refer), ctx.exchange(ep, &dialog)).await;
        let m = ex.final_response();
        let ood = Treatment::of(m);
        let dm = dex.final_response();
        let dcode = dm.and_then(|m| m.status());
        let unknown = Treatment::of(dm);

        let base = opts.best_response();
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
            Treatment::Challenged => (
                Status::Pass,
                format!("out-of-dialog REFER challenged ({})", first_line(m)),
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
            Treatment::Accepted => Status::Fail,
            _ => status,
        };
        summary.push_str(&match (unknown, dcode) {
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
                    response: dcode,
                    reason: dm.map(|m| m.reason().to_string()),
                    treatment: unknown.as_str().into(),
                    got_481: Some(dcode == Some(481)),
                },
                allow_refer,
                supported_replaces: has("replaces"),
                supported_norefersub: has("norefersub"),
            })
            .evidence([ctx.evidence(&ex), ctx.evidence(&dex)])
    }
}
