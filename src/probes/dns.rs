//! `dns.naptr`, `dns.srv`, `dns.aaaa`, `dns.dnssec`: what the SIP domain publishes in DNS (RFC 3263) and
//! what it implies — TLS advertised or not, plaintext still advertised, IPv6, DNSSEC.

use std::net::IpAddr;

use serde_json::json;

use crate::discover::{Discovery, Mode};
use crate::probe::{BoxFuture, Context, Probe};
use crate::report::{Finding, Severity, Status};
use crate::target::Transport;

/// One of the DNS findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dns {
    Naptr,
    Srv,
    Aaaa,
    Dnssec,
}

/// Why this DNS finding has nothing to say for this run, if so. A/AAAA (and so IPv6 and the AD bit)
/// are looked up whenever the target is a name; NAPTR and SRV only in the full RFC 3263 walk.
fn not_applicable(ctx: &Context, which: Dns) -> Option<&'static str> {
    let needs_srv = matches!(which, Dns::Naptr | Dns::Srv);
    match ctx.discovery.as_deref().map(|d| d.mode) {
        None => Some("no DNS discovery in this run"),
        Some(Mode::Literal) => Some("the target is an IP address: no DNS involved"),
        Some(Mode::NoDiscovery) if needs_srv => Some("--no-discovery: NAPTR and SRV not queried"),
        Some(Mode::ExplicitPort) if needs_srv => {
            Some("an explicit port was given: RFC 3263 §4.2 skips NAPTR and SRV")
        }
        _ => None,
    }
}

fn bounded_cuts<'a>(d: &'a Discovery, word: &'a str) -> Vec<&'a String> {
    d.cut.iter().filter(|c| c.contains(word)).collect()
}

fn naptr(d: &Discovery) -> (Status, String) {
    let cuts = bounded_cuts(d, "NAPTR");
    if d.naptr.is_empty() {
        return (
            Status::Info,
            format!("no NAPTR records for {}: SRV queried directly", d.domain),
        );
    }
    let tls = d
        .naptr
        .iter()
        .filter(|r| r.service.eq_ignore_ascii_case("SIPS+D2T"))
        .map(|r| (r.order, r.preference))
        .min();
    let plain = d
        .naptr
        .iter()
        .filter(|r| {
            ["SIP+D2U", "SIP+D2T"]
                .iter()
                .any(|s| r.service.eq_ignore_ascii_case(s))
        })
        .min_by_key(|r| (r.order, r.preference));
    let services: Vec<String> = d.naptr.iter().map(|r| r.service.clone()).collect();
    let mut s = match (tls, plain) {
        (None, _) => (
            Status::Warn,
            format!(
                "NAPTR advertises no SIPS+D2T (TLS) service, only {}",
                services.join(", ")
            ),
        ),
        (Some(t), Some(p)) if (p.order, p.preference) < t => (
            Status::Warn,
            format!(
                "NAPTR prefers plaintext {} (order {}, preference {}) over SIPS+D2T: RFC 3263 clients pick plaintext first",
                p.service, p.order, p.preference
            ),
        ),
        (Some(_), Some(p)) => (
            Status::Pass,
            format!(
                "NAPTR prefers SIPS+D2T (TLS); plaintext {} still advertised at a lower preference",
                p.service
            ),
        ),
        (Some(_), None) => (
            Status::Pass,
            "NAPTR advertises SIPS+D2T (TLS) only".to_string(),
        ),
    };
    if !cuts.is_empty() {
        s.0 = Status::Warn;
        s.1 = format!(
            "{}; discovery was bounded: {}",
            s.1,
            cuts.iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    s
}

fn srv(d: &Discovery) -> (Status, String) {
    let has = |t: Transport| d.srv.iter().any(|r| r.transport == t);
    let mut problems = Vec::new();
    if !d.unresolved.is_empty() {
        problems.push(format!(
            "target(s) that do not resolve: {}",
            d.unresolved.join("; ")
        ));
    }
    for c in bounded_cuts(d, "SRV") {
        problems.push(c.clone());
    }
    if d.srv.is_empty() {
        let s = if d
            .endpoints
            .iter()
            .any(|e| e.discovered_by.iter().any(|c| c.starts_with("NAPTR")))
        {
            "no SRV records; NAPTR pointed straight at hosts".to_string()
        } else {
            format!(
                "no SRV records for {}: clients fall back to A/AAAA on the default ports (RFC 3263 §4.2)",
                d.domain
            )
        };
        return (Status::Info, s);
    }
    let plain: Vec<&str> = [Transport::Udp, Transport::Tcp]
        .into_iter()
        .filter(|t| has(*t))
        .map(|t| t.via_token())
        .collect();
    let (mut status, mut summary) = if !has(Transport::Tls) {
        (
            Status::Warn,
            format!(
                "no TLS SRV record: TLS is not advertised (only {})",
                plain.join(", ")
            ),
        )
    } else if plain.is_empty() {
        (Status::Pass, "only TLS is advertised in SRV".to_string())
    } else {
        (
            Status::Info,
            format!(
                "TLS advertised in SRV; plaintext {} still advertised",
                plain.join(" and ")
            ),
        )
    };
    if !problems.is_empty() {
        status = Status::Warn;
        summary = format!("{summary}; {}", problems.join("; "));
    }
    (status, summary)
}

impl Dns {
    async fn aaaa(self, ctx: &Context, d: &Discovery) -> (Status, String, serde_json::Value) {
        let v6: Vec<_> = ctx
            .endpoints
            .iter()
            .filter(|e| matches!(e.address, IpAddr::V6(_)))
            .collect();
        let published: Vec<_> = d.addresses.iter().filter(|a| a.kind == "AAAA").collect();
        if published.is_empty() {
            return (
                Status::Info,
                "no AAAA records for the SIP servers: not reachable over IPv6".into(),
                json!({"aaaa": []}),
            );
        }
        let answered = futures_util::future::join_all(v6.iter().map(|e| ctx.options(e))).await;
        let up: Vec<String> = v6
            .iter()
            .zip(&answered)
            .filter(|(_, ex)| ex.best_response().is_some())
            .map(|(e, _)| e.label())
            .collect();
        let v4_up = futures_util::future::join_all(
            ctx.endpoints
                .iter()
                .filter(|e| matches!(e.address, IpAddr::V4(_)))
                .map(|e| ctx.options(e)),
        )
        .await
        .iter()
        .any(|ex| ex.best_response().is_some());
        let details = json!({
            "aaaa": published.iter().map(|a| json!({"name": a.name, "address": a.address})).collect::<Vec<_>>(),
            "ipv6_endpoints": v6.iter().map(|e| e.label()).collect::<Vec<_>>(),
            "ipv6_answered": up,
        });
        let (status, summary) = if !up.is_empty() {
            (
                Status::Info,
                format!("reachable over IPv6: {} answered OPTIONS", up.join(", ")),
            )
        } else if v4_up {
            (
                Status::Warn,
                "AAAA records are published but no IPv6 endpoint answered while IPv4 did: IPv6 clients fail"
                    .to_string(),
            )
        } else {
            (
                Status::Info,
                "AAAA records are published; no endpoint answered on either family".to_string(),
            )
        };
        (status, summary, details)
    }
}

impl Probe for Dns {
    fn id(&self) -> &'static str {
        match self {
            Dns::Naptr => "dns.naptr",
            Dns::Srv => "dns.srv",
            Dns::Aaaa => "dns.aaaa",
            Dns::Dnssec => "dns.dnssec",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Dns::Naptr => "NAPTR records of the SIP domain",
            Dns::Srv => "SRV records of the SIP domain",
            Dns::Aaaa => "IPv6 (AAAA) for the SIP servers",
            Dns::Dnssec => "DNSSEC validation of the discovery answers",
        }
    }

    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let base = |status, summary: String| Finding::of(self.id(), status, summary);
            let d = match (not_applicable(ctx, *self), ctx.discovery.as_deref()) {
                (None, Some(d)) => d,
                (why, _) => {
                    return vec![base(
                        Status::Skipped,
                        why.unwrap_or("no DNS discovery").into(),
                    )];
                }
            };
            let common = json!({
                "domain": d.domain,
                "dns_server": d.server,
                "cut": d.cut,
                "notes": d.notes,
            });
            let (status, summary, mut details) = match self {
                Dns::Naptr => {
                    let (s, m) = naptr(d);
                    (s, m, json!({"records": d.naptr}))
                }
                Dns::Srv => {
                    let (s, m) = srv(d);
                    (
                        s,
                        m,
                        json!({"records": d.srv, "absent": d.srv_absent, "unresolved": d.unresolved}),
                    )
                }
                Dns::Aaaa => self.aaaa(ctx, d).await,
                Dns::Dnssec => {
                    let (s, m) = match d.authenticated() {
                        None => (
                            Status::Info,
                            "no answer carried records, so nothing could be validated".to_string(),
                        ),
                        Some(true) => (
                            Status::Info,
                            "every answer was DNSSEC-validated by the resolver (AD bit set)"
                                .to_string(),
                        ),
                        Some(false) => (
                            Status::Info,
                            format!(
                                "the resolver {} did not mark the answers as DNSSEC-validated (AD bit clear): a forged NAPTR/SRV answer could redirect clients; sipcheck does not validate itself",
                                d.server.as_deref().unwrap_or("system")
                            ),
                        ),
                    };
                    (s, m, json!({"queries": d.queries}))
                }
            };
            if let (Some(o), Some(c)) = (details.as_object_mut(), common.as_object()) {
                o.extend(c.clone());
            }
            let severity = if status == Status::Warn {
                Severity::Medium
            } else {
                Severity::None
            };
            vec![base(status, summary).severity(severity).details(details)]
        })
    }
}
