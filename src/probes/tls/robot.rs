//! `tls.robot`: the Bleichenbacher oracle check ([`crate::tls::robot`]) on every SIP-TLS endpoint.
//! It opens up to 21 handshakes per endpoint, five or more with malformed key exchanges, where the
//! safe scan's extra checks open one connection each: so it is intrusive, and runs only with
//! `--intrusive`; without it the finding says so.

use crate::findings::{Evidence, Finding, ids};
use crate::probe::{BoxFuture, Context, Probe};
use crate::target::{Endpoint, Transport};
use crate::tls::robot;

pub struct TlsRobot;

impl Probe for TlsRobot {
    fn id(&self) -> &'static str {
        "tls.robot"
    }
    fn title(&self) -> &'static str {
        "ROBOT: Bleichenbacher oracle over static-RSA key exchange"
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            if let Some(why) = self.gate(ctx) {
                return crate::probe::skipped(
                    self,
                    &format!(
                        "{why}: up to {} handshakes per endpoint, with malformed key exchanges",
                        robot::MAX_HANDSHAKES
                    ),
                );
            }
            let eps: Vec<Endpoint> = ctx.endpoints_on(Transport::Tls).cloned().collect();
            if eps.is_empty() {
                return crate::probe::skipped(self, "no TLS endpoint");
            }
            ctx.per_endpoint(eps, |ep| async move { vec![measure(ctx, &ep).await] })
                .await
        })
    }
}

async fn measure(ctx: &Context, ep: &Endpoint) -> Finding {
    let domain = &ctx.config.domain;
    let sni = (!domain.is_empty() && domain.parse::<std::net::IpAddr>().is_err())
        .then(|| domain.clone());
    let start = ctx.elapsed();
    let d = robot::check(
        ep.socket_addr(),
        sni,
        ctx.config.timers.timeout,
        &ctx.limiter,
    )
    .await;
    let (status, summary) = d.judge();
    let evidence = evidence(ep, start.as_millis() as u64, &d);
    ids::TLS_ROBOT
        .finding(status, summary)
        .endpoint(ep)
        .evidence(evidence)
        .with_details(&d)
}

fn evidence(ep: &Endpoint, at_ms: u64, d: &crate::findings::tls::RobotDetails) -> Vec<Evidence> {
    let one = |sent: String, received: String| Evidence {
        transport: Transport::Tls,
        remote: ep.socket_addr().to_string(),
        local: None,
        at_ms,
        rtt_ms: None,
        sent,
        received,
        note: None,
    };
    let mut out = vec![one(
        "ClientHello offering only static-RSA key exchange suites (TLS 1.2)".into(),
        format!(
            "{}{}",
            d.hello,
            d.suite
                .as_ref()
                .map(|s| format!(", {s}"))
                .unwrap_or_default()
        ),
    )];
    for r in &d.rounds {
        for (payload, answer) in &r.answers {
            out.push(one(
                format!("ClientKeyExchange ({payload} PKCS#1 block); {}", r.flow),
                answer.clone(),
            ));
        }
    }
    out
}
