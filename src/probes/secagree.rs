//! `secagree.rfc3329`: does the trunk do the RFC 3329 security agreement, which mechanisms does it
//! offer, and does it refuse a request whose `Security-Verify` does not echo its own list (the
//! protection against a man in the middle downgrading the mechanism)?

use super::{answered, unanswered};
pub use crate::findings::secagree::Mechanism;
use crate::findings::secagree::{Downgrade, SecAgreeDetails};
use crate::findings::{Finding, Severity, Status};
use crate::probe::{BoxFuture, Context, Probe};
use crate::sip::Message;

mod register;

/// What we offer: TLS and digest as in RFC 3329 §2.3.1, plus a 3GPP IPsec variant (TS 33.203).
pub const SECURITY_CLIENT: &str = "tls;q=0.2, digest;d-alg=md5;q=0.1, ipsec-3gpp;q=0.1;alg=hmac-sha-1-96;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064";
/// A `Security-Verify` that cannot be the server's list: what a downgrading attacker would leave.
pub const MISMATCHED_VERIFY: &str = "digest;d-alg=md5;q=0.1";

/// The mechanisms of every `Security-Server` header of a response, in order.
pub fn mechanisms(m: &Message) -> Vec<Mechanism> {
    m.headers_named("Security-Server")
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next()?.to_ascii_lowercase();
            if name.is_empty() {
                return None;
            }
            let mut q = None;
            let mut params = Vec::new();
            for p in parts.filter(|p| !p.is_empty()) {
                match p.split_once('=') {
                    Some((k, v)) if k.trim().eq_ignore_ascii_case("q") => {
                        q = v.trim().parse().ok();
                    }
                    _ => params.push(p.to_string()),
                }
            }
            Some(Mechanism {
                mechanism: name,
                q,
                params,
            })
        })
        .take(32)
        .collect()
}

/// Whether 3GPP media security (TS 24.229 `mediasec`) is advertised.
pub fn mediasec(m: &Message, mechs: &[Mechanism]) -> bool {
    mechs
        .iter()
        .any(|x| x.params.iter().any(|p| p.eq_ignore_ascii_case("mediasec")))
        || ["Supported", "Require", "Proxy-Require"].iter().any(|h| {
            m.list_header(h)
                .iter()
                .any(|t| t.eq_ignore_ascii_case("mediasec"))
        })
}

pub struct SecAgree;

fn code_text(m: Option<&Message>) -> String {
    m.and_then(|m| m.status())
        .map(|c| c.to_string())
        .unwrap_or_else(|| "none".into())
}

impl Probe for SecAgree {
    fn id(&self) -> &'static str {
        "secagree.rfc3329"
    }
    fn title(&self) -> &'static str {
        "RFC 3329 security agreement"
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let got = answered(ctx).await;
            if got.is_empty() {
                return unanswered(self);
            }
            ctx.per_endpoint(got, |(ep, _)| async move {
                let uri = ctx.request_uri(&ep, false);
                let offer = |verify: Option<&str>| {
                    let r = ctx
                        .request("OPTIONS", &uri)
                        .header("Require", "sec-agree")
                        .header("Proxy-Require", "sec-agree")
                        .header("Supported", "sec-agree")
                        .header("Security-Client", SECURITY_CLIENT);
                    match verify {
                        Some(v) => r.header("Security-Verify", v),
                        None => r,
                    }
                };
                // A challenge is answered with --user (the shared rule); without, or when the
                // credentials are refused, the agreement is not judged.
                let authed = ctx.exchange_authed(&ep, &offer(None)).await;
                let ex = authed.last();
                let m = authed.answer();
                let code = m.and_then(|m| m.status());
                let mechs = m.map(mechanisms).unwrap_or_default();
                let unsupported = m.map(|m| m.list_header("Unsupported")).unwrap_or_default();
                let media = m.is_some_and(|m| mediasec(m, &mechs));
                let supported = code == Some(494) && !mechs.is_empty();
                let mut evidence = authed.evidence(ctx);
                let mut downgrade = None;
                let (status, summary) = if supported {
                    let dauthed = ctx
                        .exchange_authed(&ep, &offer(Some(MISMATCHED_VERIFY)))
                        .await;
                    let dm = dauthed.answer();
                    let dcode = dm.and_then(|m| m.status());
                    evidence.extend(dauthed.evidence(ctx));
                    let list = mechs
                        .iter()
                        .map(|x| match x.q {
                            Some(q) => format!("{} (q={q})", x.mechanism),
                            None => x.mechanism.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    let refused = dcode.is_some_and(|c| c >= 300);
                    downgrade = Some(Downgrade {
                        security_verify: MISMATCHED_VERIFY.into(),
                        response: dcode,
                        refused,
                    });
                    match dcode {
                        Some(c) if c >= 300 => (
                            Status::Pass,
                            format!(
                                "supported: 494 offering {list}; a mismatched Security-Verify was refused with {}",
                                code_text(dm)
                            ),
                        ),
                        Some(c) => (
                            Status::Fail,
                            format!(
                                "supported (494 offering {list}) but a request whose Security-Verify does not match was answered {c}: no downgrade protection"
                            ),
                        ),
                        None => match dauthed.unjudged() {
                            Some(why) => (
                                Status::Info,
                                format!(
                                    "supported (494 offering {list}); downgrade protection not measured: {why}"
                                ),
                            ),
                            None => (
                                Status::Warn,
                                format!(
                                    "supported (494 offering {list}); no answer to a mismatched Security-Verify, so downgrade protection is unknown"
                                ),
                            ),
                        },
                    }
                } else if let Some(why) = authed.unjudged() {
                    (Status::Info, format!("not measured: {why}"))
                } else {
                    match (code, m) {
                        (Some(420), _) => (
                            Status::Info,
                            format!(
                                "not supported: 420 Bad Extension{}",
                                if unsupported
                                    .iter()
                                    .any(|t| t.eq_ignore_ascii_case("sec-agree"))
                                {
                                    " with Unsupported: sec-agree"
                                } else {
                                    " (without Unsupported: sec-agree)"
                                }
                            ),
                        ),
                        (Some(494), Some(m)) => (
                            Status::Warn,
                            format!("{} without a usable Security-Server list", m.first_line()),
                        ),
                        (Some(c @ 200..=299), Some(m)) => (
                            Status::Warn,
                            format!(
                                "not supported, and Require: sec-agree was ignored ({}); RFC 3261 §8.2.2.3 requires 420 (answered {c})",
                                m.first_line()
                            ),
                        ),
                        (Some(_), Some(m)) => (
                            Status::Info,
                            format!("not supported: answered {}", m.first_line()),
                        ),
                        _ => (
                            Status::Error,
                            format!(
                                "no answer to an OPTIONS requiring sec-agree ({})",
                                ex.error.as_ref().map(|e| e.to_string()).unwrap_or_default()
                            ),
                        ),
                    }
                };
                // With credentials the agreement is also tried where it matters most, on REGISTER.
                let mut summary = summary;
                let mut reg = None;
                if let Some(creds) = &ctx.config.calls.credentials {
                    let o = register::register(ctx, &ep, creds).await;
                    summary = format!("{summary}; {}", o.summary);
                    reg = Some(o.details);
                    evidence.extend(o.evidence);
                }
                let severity = match status {
                    Status::Fail => Severity::High,
                    Status::Warn => Severity::Low,
                    Status::Error => Severity::Low,
                    _ => Severity::None,
                };
                vec![
                    Finding::of(self.id(), status, summary)
                        .severity(severity)
                        .endpoint(&ep)
                        .with_details(&SecAgreeDetails {
                            supported,
                            mechanisms: mechs,
                            response: code_text(ex.final_response()),
                            unsupported,
                            downgrade,
                            mediasec: media,
                            security_client: SECURITY_CLIENT.into(),
                            register: reg,
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

    #[test]
    fn parses_security_server_lists() {
        let m = Message::parse(
            b"SIP/2.0 494 Security Agreement Required\r\nSecurity-Server: tls;q=0.2, ipsec-3gpp;q=0.1;alg=hmac-sha-1-96;spi-c=1;spi-s=2\r\nSecurity-Server: sdes-srtp;mediasec\r\nContent-Length: 0\r\n\r\n",
            &Limits::default(),
        )
        .unwrap();
        let ms = mechanisms(&m);
        assert_eq!(ms.len(), 3);
        assert_eq!(ms[0].mechanism, "tls");
        assert_eq!(ms[0].q, Some(0.2));
        assert_eq!(
            ms[1].params,
            vec!["alg=hmac-sha-1-96", "spi-c=1", "spi-s=2"]
        );
        assert!(mediasec(&m, &ms));
        assert!(!mediasec(&m, &ms[..2]));
    }
}
