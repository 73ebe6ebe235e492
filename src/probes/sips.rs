//! `sips.options`: OPTIONS to a `sips:` Request-URI over TLS, with the certificate the trunk presents
//! and whether it proves the SIP domain (RFC 5922).

use crate::findings::sip::SipsDetails;

use crate::findings::{Finding, Severity, Status};
use crate::probe::{BoxFuture, Context, Probe};
use crate::target::Transport;
use crate::tls::cert::{self, CertInfo};

pub struct SipsOptions;

impl Probe for SipsOptions {
    fn id(&self) -> &'static str {
        "sips.options"
    }
    fn title(&self) -> &'static str {
        "SIPS (SIP over TLS) with a certificate for the SIP domain"
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let eps: Vec<_> = ctx.endpoints_on(Transport::Tls).cloned().collect();
            if eps.is_empty() {
                return vec![Finding::of(
                    self.id(),
                    Status::Skipped,
                    "no TLS endpoint (TLS not selected, or not published in DNS: see dns.srv)",
                )];
            }
            // Concurrent per endpoint (silent endpoints share one wait); each kept as it is made.
            ctx.per_endpoint(eps, |ep| async move {
                let authed = ctx.sips_options_authed(&ep).await;
                // The TLS session is the first one's; the answer is the last one's.
                let ex = &*authed.first;
                let base = Finding::of(self.id(), Status::Info, "")
                    .endpoint(&ep)
                    .evidence(authed.evidence(ctx));
                let Some(tls) = &ex.tls else {
                    let why = ex
                        .error
                        .as_ref()
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| "no TLS session".into());
                    // A server that asked for a client certificate offers SIPS, to clients that have one.
                    let mtls = ex.error.as_ref().is_some_and(|e| e.is_client_cert());
                    return vec![
                        Finding {
                            status: if mtls { Status::Info } else { Status::Warn },
                            severity: if mtls {
                                Severity::None
                            } else {
                                Severity::Medium
                            },
                            summary: if mtls {
                                format!("SIPS not measured: {why}")
                            } else {
                                format!("SIPS not available: {why}")
                            },
                            ..base
                        }
                        .with_details(&SipsDetails {
                            offered: mtls,
                            error: ex.error.as_ref().map(|e| e.kind().to_string()),
                            ..SipsDetails::default()
                        }),
                    ];
                };
                let now = cert::now_unix();
                let chain: Vec<CertInfo> = tls
                    .chain
                    .iter()
                    .filter_map(|d| cert::analyse(d, now))
                    .collect();
                let identity = chain
                    .first()
                    .map(|c| cert::sip_identity(c, &ctx.config.domain));
                let verified = tls.verified.clone().unwrap_or(Err("not verified".into()));
                let response = authed.last().best_response();
                // A challenge (or a blanket 403) to the OPTIONS says nothing about SIPS: the TLS
                // session and the certificate are judged, and the summary says the answer was not.
                let unjudged = authed.unjudged();
                let mut problems = Vec::new();
                let mut worst = Status::Pass;
                if let Some(leaf) = chain.first() {
                    if leaf.days_left < 0 {
                        problems.push(format!("certificate expired {} days ago", -leaf.days_left));
                        worst = Status::Fail;
                    }
                    if leaf.weak_signature {
                        problems.push(format!("weak signature {}", leaf.signature_algorithm));
                        worst = Status::Fail;
                    }
                } else {
                    problems.push("no certificate could be parsed".into());
                    worst = Status::Fail;
                }
                if let Some(id) = &identity
                    && !id.matched
                {
                    problems.push(format!(
                        "certificate does not prove {}: {}",
                        id.domain, id.how
                    ));
                    worst = Status::Fail;
                }
                if let Err(e) = &verified {
                    problems.push(format!(
                        "chain not trusted by {}: {e}",
                        ctx.config.tls.roots_source
                    ));
                    if worst == Status::Pass {
                        worst = Status::Warn;
                    }
                }
                match response {
                    _ if unjudged.is_some() => {}
                    Some(m) if m.status().is_some_and(|c| c < 300) => {}
                    Some(m) => {
                        problems.push(format!("sips: OPTIONS answered {}", m.first_line()));
                        if worst == Status::Pass {
                            worst = Status::Warn;
                        }
                    }
                    None => match ex.error.as_ref().filter(|e| e.is_client_cert()) {
                        // Not the trunk's fault, and not a pass either: the OPTIONS was not measured.
                        Some(e) => {
                            problems.push(e.to_string());
                            if worst == Status::Pass {
                                worst = Status::Info;
                            }
                        }
                        None => {
                            problems.push("no answer to a sips: OPTIONS over TLS".into());
                            if worst == Status::Pass {
                                worst = Status::Warn;
                            }
                        }
                    },
                }
                let mut summary = match (problems.is_empty(), unjudged) {
                    (true, Some(_)) => format!(
                        "SIPS offered over {} with a trusted certificate for {}",
                        tls.version, ctx.config.domain
                    ),
                    (true, None) => format!(
                        "SIPS answered {}{} over {} with a trusted certificate for {}",
                        response.map(|m| m.first_line()).unwrap_or_default(),
                        if authed.authenticated() {
                            " (authenticated)"
                        } else {
                            ""
                        },
                        tls.version,
                        ctx.config.domain
                    ),
                    (false, _) => format!(
                        "SIPS offered over {}, but {}",
                        tls.version,
                        problems.join("; ")
                    ),
                };
                if let Some(why) = unjudged {
                    summary.push_str(&format!("; the sips: OPTIONS answer not measured: {why}"));
                }
                vec![
                    Finding {
                        status: worst,
                        severity: match worst {
                            Status::Fail => Severity::High,
                            Status::Warn => Severity::Medium,
                            _ => Severity::None,
                        },
                        summary,
                        ..base
                    }
                    .with_details(&SipsDetails {
                        offered: true,
                        error: None,
                        response: response.map(|m| m.first_line()),
                        tls_version: Some(tls.version.clone()),
                        cipher_suite: Some(tls.cipher_suite.clone()),
                        server_name: Some(tls.server_name.clone()),
                        trusted: Some(verified.is_ok()),
                        trust_error: verified.err(),
                        trust_roots: Some(ctx.config.tls.roots_source.clone()),
                        identity,
                        chain,
                        problems,
                    }),
                ]
            })
            .await
        })
    }
}
