//! `transport.udp`, `transport.tcp`, `transport.tls`: does each transport answer a plain OPTIONS?

use crate::findings::sip::TransportDetails;

use crate::findings::{Finding, Severity, Status};
use crate::probe::{BoxFuture, Context, Probe};
use crate::target::Transport;
use crate::transport::TxError;

/// OPTIONS over one transport on every endpoint of that transport.
pub struct Reachability(pub Transport);

impl Probe for Reachability {
    fn id(&self) -> &'static str {
        match self.0 {
            Transport::Udp => "transport.udp",
            Transport::Tcp => "transport.tcp",
            Transport::Tls => "transport.tls",
        }
    }

    fn title(&self) -> &'static str {
        match self.0 {
            Transport::Udp => "SIP over UDP answers OPTIONS",
            Transport::Tcp => "SIP over TCP answers OPTIONS",
            Transport::Tls => "SIP over TLS answers OPTIONS",
        }
    }

    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let eps: Vec<_> = ctx.endpoints_on(self.0).cloned().collect();
            if eps.is_empty() {
                return vec![Finding::of(
                    self.id(),
                    Status::Skipped,
                    format!(
                        "no {} endpoint ({} not selected, or not published in DNS: see dns.srv)",
                        self.0.via_token(),
                        self.0
                    ),
                )];
            }
            // Fetched together (shared with the other probes), so silent endpoints share one wait.
            ctx.options_of(&eps).await;
            let mut out = Vec::new();
            for ep in eps {
                let ex = ctx.options(&ep).await;
                let rtt = ex.rtt.map(|d| (d.as_secs_f64() * 1e5).round() / 100.0);
                let (status, summary) = match (ex.best_response(), &ex.error) {
                    (Some(m), _) => (
                        if self.0 == Transport::Tls {
                            Status::Pass
                        } else {
                            Status::Info
                        },
                        format!(
                            "{} answered OPTIONS with {} in {:.1} ms{}",
                            self.0.via_token(),
                            m.first_line().trim_start_matches("SIP/2.0 "),
                            rtt.unwrap_or(0.0),
                            ex.tls
                                .as_ref()
                                .map(|t| format!(" ({} negotiated, {})", t.version, t.cipher_suite))
                                .unwrap_or_default()
                        ),
                    ),
                    (None, Some(e)) if e.is_client_cert() => (
                        Status::Info,
                        format!("{} did not answer OPTIONS: {e}", self.0.via_token()),
                    ),
                    (None, e) if ex.reached => (
                        Status::Warn,
                        match (ex.garbage_reason(), e) {
                            (Some(g), _) => {
                                format!("{} answered OPTIONS with {g}", self.0.via_token())
                            }
                            (None, Some(e)) => format!(
                                "{} accepted a connection but did not answer OPTIONS: {e}",
                                self.0.via_token()
                            ),
                            (None, None) => {
                                format!("{} gave no usable answer to OPTIONS", self.0.via_token())
                            }
                        },
                    ),
                    (None, e) => (
                        if self.0 == Transport::Tls {
                            Status::Warn
                        } else {
                            Status::Info
                        },
                        format!(
                            "{} unreachable: {}",
                            self.0.via_token(),
                            e.as_ref()
                                .map(|e| e.to_string())
                                .unwrap_or_else(|| "no answer".into())
                        ),
                    ),
                };
                let severity = if status == Status::Warn {
                    Severity::Medium
                } else {
                    Severity::None
                };
                out.push(
                    Finding::of(self.id(), status, summary)
                        .severity(severity)
                        .endpoint(&ep)
                        .with_details(&TransportDetails {
                            reachable: ex.best_response().is_some(),
                            connected: ex.reached,
                            status: ex.best_response().and_then(|m| m.status()),
                            reason: ex.best_response().map(|m| m.reason().to_string()),
                            rtt_ms: rtt,
                            retransmissions: ex.retransmissions,
                            error: ex.error.as_ref().map(|e| e.kind().to_string()),
                            tls_version: ex.tls.as_ref().map(|t| t.version.clone()),
                            tls_cipher_suite: ex.tls.as_ref().map(|t| t.cipher_suite.clone()),
                            client_certificate_requested: ex
                                .tls
                                .as_ref()
                                .map(|t| t.client_cert_requested)
                                .unwrap_or_else(|| {
                                    ex.error.as_ref().is_some_and(|e| e.is_client_cert())
                                }),
                            client_certificate_sent: ex
                                .tls
                                .as_ref()
                                .map(|t| t.client_cert_sent)
                                .unwrap_or_else(|| {
                                    matches!(ex.error, Some(TxError::ClientCertRefused(_)))
                                }),
                        })
                        .evidence([ctx.evidence(&ex)]),
                );
            }
            out
        })
    }
}
