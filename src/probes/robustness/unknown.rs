//! `robustness.unknown_header` and `robustness.unknown_require`: RFC 3261 asks a server to ignore
//! header fields it does not know (§8.2.2, §7.3) but to refuse option tags it does not know in
//! `Require` with 420 Bad Extension listing them in `Unsupported` (§8.2.2.3).

use crate::findings::sip::{UnknownHeaderDetails, UnknownRequireDetails};

use super::targets;
use crate::findings::{Finding, Severity, Status};
use crate::probe::{BoxFuture, Context, Probe};
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
            ctx.per_endpoint(eps, |(ep, _)| async move {
                let uri = ctx.request_uri(&ep, false);
                let req = ctx
                    .request("OPTIONS", &uri)
                    .header("X-Sipcheck-Unknown", "probe; param=1")
                    .header(
                        "Sipcheck-Unknown-Header",
                        "<sip:nobody@invalid>;weird=\"yes\"",
                    );
                let (base, authed) = futures_util::future::join(
                    ctx.options_authed(&ep),
                    ctx.exchange_authed(&ep, &req),
                )
                .await;
                let ex = authed.last();
                let base_answer = base.answer().or(base.last().final_response());
                let base_code = base_answer.and_then(|m| m.status());
                let got = authed.answer();
                let code = got.and_then(|m| m.status());
                let (status, summary) = match (authed.unjudged(), code, base_code) {
                    (Some(why), _, _) => (
                        Status::Info,
                        format!("whether unknown headers are ignored not measured: {why}"),
                    ),
                    (None, Some(c), Some(b)) if c / 100 == b / 100 => (
                        Status::Pass,
                        format!(
                            "unknown headers ignored: answered {} like a plain OPTIONS ({})",
                            line(got),
                            line(base_answer)
                        ),
                    ),
                    (None, Some(c), _) if (400..500).contains(&c) => (
                        Status::Warn,
                        format!(
                            "refused a request because of unknown headers: {} (a plain OPTIONS got {})",
                            line(got),
                            line(base_answer)
                        ),
                    ),
                    (None, Some(_), _) => (
                        Status::Warn,
                        format!(
                            "answered {} with unknown headers, {} without",
                            line(got),
                            line(base_answer)
                        ),
                    ),
                    (None, None, _) => (
                        Status::Warn,
                        format!(
                            "no answer to an OPTIONS with unknown headers ({}), though a plain one got {}",
                            ex.error.as_ref().map(|e| e.to_string()).unwrap_or_default(),
                            line(base_answer)
                        ),
                    ),
                };
                vec![
                    finding(self, &ep, status, summary)
                        .with_details(&UnknownHeaderDetails {
                            response: ex.final_response().and_then(|m| m.status()),
                            baseline_response: base_code,
                            headers_sent: vec![
                                "X-Sipcheck-Unknown".into(),
                                "Sipcheck-Unknown-Header".into(),
                            ],
                        })
                        .evidence(authed.evidence(ctx)),
                ]
            })
            .await
        })
    }
}

pub struct UnknownRequire;

/// How the answer to a request with an unknown `Require` tag measures up. `m` is the answer the
/// shared rule for challenges gives, or why there is none to judge ([`crate::probe::Authed`]): a
/// 401/407 says nothing about the extension check (RFC 3261 §8.2.2.3 runs after authentication), so
/// then only the same server's answer to `Proxy-Require` (`proxy`, also judged after any challenge)
/// is reported, as a witness, and nothing about `Require` is judged.
pub fn judge_require(
    m: Result<Option<&Message>, &str>,
    proxy: Option<&Message>,
) -> (Status, String) {
    let m = match m {
        Ok(m) => m,
        Err(why) => {
            let witness = match proxy {
                Some(p) if p.status() == Some(420) => format!(
                    "; the same server refused Proxy-Require with {}{}",
                    p.first_line(),
                    if p.list_header("Unsupported")
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(UNKNOWN_TAG))
                    {
                        ", listing the tag in Unsupported"
                    } else {
                        " (without the tag in Unsupported)"
                    }
                ),
                Some(p) => format!("; Proxy-Require with the same tag got {}", p.first_line()),
                None => String::new(),
            };
            return (
                Status::Info,
                format!("Require not measured: {why}{witness}"),
            );
        }
    };
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
            ctx.per_endpoint(eps, |(ep, _)| async move {
                let uri = ctx.request_uri(&ep, false);
                let req = ctx.request("OPTIONS", &uri).header("Require", UNKNOWN_TAG);
                let preq = ctx
                    .request("OPTIONS", &uri)
                    .header("Proxy-Require", UNKNOWN_TAG);
                // Independent of each other: in flight together.
                let (authed, pauthed) = futures_util::future::join(
                    ctx.exchange_authed(&ep, &req),
                    ctx.exchange_authed(&ep, &preq),
                )
                .await;
                let got = authed.last().final_response();
                let pgot = pauthed.last().final_response();
                let (status, summary) = judge_require(
                    authed.unjudged().map_or(Ok(authed.answer()), Err),
                    pauthed.answer(),
                );
                let mut evidence = authed.evidence(ctx);
                evidence.extend(pauthed.evidence(ctx));
                vec![
                    finding(self, &ep, status, summary)
                        .with_details(&UnknownRequireDetails {
                            option_tag: UNKNOWN_TAG.into(),
                            response: got.and_then(|m| m.status()),
                            reason: got.map(|m| m.reason().to_string()),
                            unsupported: got
                                .map(|m| m.list_header("Unsupported"))
                                .unwrap_or_default(),
                            proxy_require_response: pgot.and_then(|m| m.status()),
                            proxy_require_unsupported: pgot
                                .map(|m| m.list_header("Unsupported"))
                                .unwrap_or_default(),
                        })
                        .evidence(evidence),
                ]
            })
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Limits;

    fn msg(b: &str) -> Message {
        Message::parse(b.as_bytes(), &Limits::default()).unwrap()
    }

    /// Issue 11 class 7: a 407 to the Require probe is "credentials needed", not "ignored an
    /// unknown Require", and not a pass either; the 420 the same server gave to Proxy-Require is
    /// reported as what could be measured.
    #[test]
    fn a_challenge_is_not_an_ignored_require() {
        let bad_ext = msg(&format!(
            "SIP/2.0 420 Bad Extension\r\nUnsupported: {UNKNOWN_TAG}\r\nContent-Length: 0\r\n\r\n"
        ));
        let why = "needs credentials: the OPTIONS was challenged with SIP/2.0 407 Proxy Authentication Required";
        let (s, m) = judge_require(Err(why), Some(&bad_ext));
        assert_eq!(s, Status::Info, "{m}");
        assert!(
            m.contains("Require not measured")
                && m.contains("refused Proxy-Require with SIP/2.0 420 Bad Extension, listing"),
            "{m}"
        );
        assert!(!m.contains("ignored"), "{m}");
        let (s, m) = judge_require(Err(why), None);
        assert_eq!(s, Status::Info, "{m}");
        let ok = msg("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(judge_require(Ok(Some(&ok)), None).0, Status::Warn);
        assert_eq!(judge_require(Ok(Some(&bad_ext)), None).0, Status::Pass);
    }
}
