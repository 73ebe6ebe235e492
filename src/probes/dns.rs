//! `dns.naptr`, `dns.srv`, `dns.aaaa`, `dns.dnssec`: what the SIP domain publishes in DNS (RFC 3263) and
//! what it implies — TLS advertised or not, plaintext still advertised, IPv6, DNSSEC.
//!
//! Each verdict is judged only from discovery's query log: a finding describes a query that was
//! made, a failed lookup (SERVFAIL, timeout) is an `error` and never "no records", and a query that
//! was not made is said to be not asked, with the reason.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::discover::{Discovery, Mode};
use crate::findings::dns::{
    Aaaa, AaaaDetails, DnsCommon, DnssecDetails, NaptrDetails, NaptrRecord, Outcome, QueryLog,
    SrvDetails,
};
use crate::findings::ids;
use crate::findings::{Finding, Severity, Status};
use crate::probe::{BoxFuture, Context, Probe};
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

fn is_plain(service: &str) -> bool {
    ["SIP+D2U", "SIP+D2T"]
        .iter()
        .any(|s| service.eq_ignore_ascii_case(s))
}

fn is_tls(service: &str) -> bool {
    service.eq_ignore_ascii_case("SIPS+D2T")
}

/// What the SRV lookups of one owner name showed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SrvState {
    /// At least one record with a real target.
    Advertised,
    /// Only records with the target "." (RFC 2782: decidedly not available).
    Unavailable,
    /// NODATA or NXDOMAIN.
    Absent(String),
    /// The lookup failed: nothing is known.
    Failed(String),
    /// Not asked, and why.
    NotAsked(String),
}

impl SrvState {
    fn describe(&self) -> String {
        match self {
            SrvState::Advertised => "advertised".into(),
            SrvState::Unavailable => "declared unavailable (SRV target \".\", RFC 2782)".into(),
            SrvState::Absent(q) => format!("absent ({q})"),
            SrvState::Failed(q) => format!("lookup failed ({q})"),
            SrvState::NotAsked(why) => format!("not asked: {why}"),
        }
    }
}

/// The state of the SRV queries selected by `pick`, from the records and the query log.
fn srv_state(d: &Discovery, pick: impl Fn(&QueryLog) -> bool) -> SrvState {
    let qs: Vec<&QueryLog> = d
        .queries
        .iter()
        .filter(|q| q.kind == "SRV" && pick(q))
        .collect();
    let owners: Vec<&str> = qs
        .iter()
        .filter(|q| q.outcome == Outcome::Answer)
        .map(|q| q.name.as_str())
        .collect();
    let recs: Vec<_> = d
        .srv
        .iter()
        .filter(|r| owners.contains(&r.owner.as_str()))
        .collect();
    if recs.iter().any(|r| !r.target.is_empty()) {
        return SrvState::Advertised;
    }
    if !recs.is_empty() {
        return SrvState::Unavailable;
    }
    if let Some(q) = qs.iter().find(|q| q.outcome.is_failure()) {
        return SrvState::Failed(q.describe());
    }
    if let Some(q) = qs.iter().find(|q| q.outcome.is_absence()) {
        return SrvState::Absent(q.describe());
    }
    match qs.first() {
        Some(q) => SrvState::NotAsked(q.reason.clone().unwrap_or_default()),
        None => SrvState::NotAsked("not reached".into()),
    }
}

/// Whether the chain a NAPTR record starts leads anywhere: for flag "S", its SRV owner.
fn chain_of(d: &Discovery, r: &NaptrRecord) -> SrvState {
    if r.flags.eq_ignore_ascii_case("s") {
        srv_state(d, |q| q.name == r.replacement)
    } else if r.used.starts_with("not probed") {
        SrvState::NotAsked(r.used.clone())
    } else {
        SrvState::Advertised
    }
}

fn naptr(d: &Discovery) -> (Status, String) {
    let asked: Vec<&QueryLog> = d.asked(&d.domain, "NAPTR").collect();
    let Some(q) = asked.first() else {
        return (
            Status::Skipped,
            format!("NAPTR for {} was not asked", d.domain),
        );
    };
    match q.outcome {
        Outcome::NotAsked => {
            return (
                Status::Skipped,
                format!(
                    "NAPTR for {} not asked: {}",
                    d.domain,
                    q.reason.clone().unwrap_or_default()
                ),
            );
        }
        Outcome::Failed | Outcome::Timeout => {
            return (
                Status::Error,
                format!(
                    "{}: whether {} publishes NAPTR records is unknown; SRV was asked directly{}",
                    q.describe(),
                    d.domain,
                    if d.fallback_after_failure().is_some() {
                        "; no SRV record was had either, so discovery fell back to A/AAAA and the servers probed may not be the ones the domain publishes"
                    } else {
                        ""
                    }
                ),
            );
        }
        Outcome::Nodata | Outcome::Nxdomain => {
            return (
                Status::Info,
                format!("no NAPTR records ({}): SRV queried directly", q.describe()),
            );
        }
        Outcome::Answer => {}
    }
    if d.naptr.is_empty() {
        return (
            Status::Info,
            format!(
                "{}, none of them a NAPTR record sipcheck can read: SRV queried directly",
                q.describe()
            ),
        );
    }
    let key = |r: &NaptrRecord| (r.order, r.preference);
    let tls: Vec<&NaptrRecord> = d.naptr.iter().filter(|r| is_tls(&r.service)).collect();
    let plain = d
        .naptr
        .iter()
        .filter(|r| is_plain(&r.service))
        .min_by_key(|r| key(r));
    let services: Vec<String> = d.naptr.iter().map(|r| r.service.clone()).collect();
    let chains: Vec<(&NaptrRecord, SrvState)> = tls.iter().map(|r| (*r, chain_of(d, r))).collect();
    let reachable = chains
        .iter()
        .filter(|(_, s)| *s == SrvState::Advertised)
        .map(|(r, _)| key(r))
        .min();
    let unknown: Vec<String> = chains
        .iter()
        .filter(|(_, s)| matches!(s, SrvState::Failed(_) | SrvState::NotAsked(_)))
        .map(|(r, s)| format!("{} → {}: {}", r.service, r.replacement, s.describe()))
        .collect();
    let dangling: Vec<String> = chains
        .iter()
        .filter(|(_, s)| matches!(s, SrvState::Absent(_) | SrvState::Unavailable))
        .map(|(r, s)| format!("{} → {} is {}", r.service, r.replacement, s.describe()))
        .collect();
    let best_tls = reachable.or_else(|| {
        chains
            .iter()
            .filter(|(_, s)| !matches!(s, SrvState::Absent(_) | SrvState::Unavailable))
            .map(|(r, _)| key(r))
            .min()
    });
    let mut s = match (best_tls, plain) {
        (None, _) if !dangling.is_empty() => (
            Status::Warn,
            format!(
                "NAPTR advertises SIPS+D2T, but TLS cannot be reached through it: {}",
                dangling.join("; ")
            ),
        ),
        (None, _) => (
            Status::Warn,
            format!(
                "NAPTR advertises no SIPS+D2T (TLS) service, only {}",
                services.join(", ")
            ),
        ),
        (Some(t), Some(p)) if key(p) < t => (
            Status::Warn,
            format!(
                "NAPTR prefers plaintext {} (order {}, preference {}) over SIPS+D2T: RFC 3263 clients pick plaintext first",
                p.service, p.order, p.preference
            ),
        ),
        (Some(t), Some(p)) if key(p) == t => (
            Status::Warn,
            format!(
                "NAPTR gives SIPS+D2T and plaintext {} the same order {} and preference {}: neither is preferred (RFC 3403 §4.1), so a client may pick plaintext",
                p.service, p.order, p.preference
            ),
        ),
        (Some(_), Some(p)) => (
            Status::Pass,
            format!(
                "NAPTR prefers SIPS+D2T (TLS); plaintext {} still advertised at a later order or preference",
                p.service
            ),
        ),
        (Some(_), None) => (
            Status::Pass,
            "NAPTR advertises SIPS+D2T (TLS) only".to_string(),
        ),
    };
    if best_tls.is_some() && reachable.is_none() && !unknown.is_empty() {
        s.1 = format!(
            "{}; whether the TLS chain leads to a server is unknown: {}",
            s.1,
            unknown.join("; ")
        );
    }
    if best_tls.is_some() && !dangling.is_empty() {
        s.1 = format!("{}; broken SIPS+D2T chain: {}", s.1, dangling.join("; "));
        if s.0 == Status::Pass {
            s.0 = Status::Warn;
        }
    }
    let cuts = bounded_cuts(d, "NAPTR");
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

fn srv(d: &Discovery) -> (Status, String, BTreeMap<String, String>) {
    let state: BTreeMap<Transport, SrvState> = Transport::ALL
        .into_iter()
        .map(|t| (t, srv_state(d, |q| q.transport == Some(t))))
        .collect();
    let table = state
        .iter()
        .map(|(t, s)| (t.as_str().to_string(), s.describe()))
        .collect();
    let of = |t: Transport| {
        state
            .get(&t)
            .cloned()
            .unwrap_or(SrvState::NotAsked(String::new()))
    };
    let plain = [Transport::Udp, Transport::Tcp];
    let plain_with = |want: fn(&SrvState) -> bool| -> Vec<&'static str> {
        plain
            .into_iter()
            .filter(|t| want(&of(*t)))
            .map(|t| t.via_token())
            .collect()
    };
    let advertised = plain_with(|s| *s == SrvState::Advertised);
    // Plaintext that the NAPTR set does not name is not advertised to RFC 3263 clients, even if an
    // SRV record for it exists: that one is known. Anything else not asked is unknown.
    let naptr_says_no = |why: &str| why.starts_with("NAPTR advertises no service");
    let unasked: Vec<String> = plain
        .into_iter()
        .filter_map(|t| match of(t) {
            SrvState::NotAsked(why) if !naptr_says_no(&why) => {
                Some(format!("{} not asked ({why})", t.via_token()))
            }
            _ => None,
        })
        .collect();
    let failed: Vec<String> = Transport::ALL
        .into_iter()
        .filter_map(|t| match of(t) {
            SrvState::Failed(q) => Some(q),
            _ => None,
        })
        .collect();
    let plain_text = if !advertised.is_empty() {
        format!("plaintext {} still advertised", advertised.join(" and "))
    } else if !unasked.is_empty() {
        format!("plaintext {}", unasked.join(", "))
    } else {
        "no plaintext SRV".to_string()
    };
    let (mut status, mut summary) = match of(Transport::Tls) {
        SrvState::Advertised if advertised.is_empty() && unasked.is_empty() => {
            (Status::Pass, "only TLS is advertised in SRV".to_string())
        }
        SrvState::Advertised => (Status::Info, format!("TLS advertised in SRV; {plain_text}")),
        SrvState::Unavailable => (
            Status::Warn,
            format!(
                "TLS is declared decidedly not available: _sips._tcp has only the target \".\" (RFC 2782); {plain_text}"
            ),
        ),
        SrvState::Absent(q) if advertised.is_empty() && unasked.is_empty() && failed.is_empty() => {
            let srv_absent_everywhere = plain
                .into_iter()
                .all(|t| matches!(of(t), SrvState::Absent(_)));
            if srv_absent_everywhere && d.naptr.is_empty() {
                (
                    Status::Info,
                    format!(
                        "no SRV records for {}: clients fall back to A/AAAA on the default ports (RFC 3263 §4.2)",
                        d.domain
                    ),
                )
            } else {
                (
                    Status::Warn,
                    format!("no TLS SRV record ({q}); {plain_text}"),
                )
            }
        }
        SrvState::Absent(q) => (
            Status::Warn,
            format!("no TLS SRV record: TLS is not advertised ({q}); {plain_text}"),
        ),
        SrvState::Failed(_) => (
            Status::Error,
            format!("whether TLS is advertised in SRV is unknown; {plain_text}"),
        ),
        SrvState::NotAsked(why) => (
            Status::Info,
            format!("TLS SRV not asked ({why}); {plain_text}"),
        ),
    };
    if !failed.is_empty() {
        status = Status::Error;
        summary = format!("SRV lookup failed: {}; {summary}", failed.join("; "));
        if d.fallback_after_failure().is_some() {
            summary.push_str(
                "; discovery fell back to A/AAAA on the default ports, so the servers probed may not be the ones the domain publishes",
            );
        }
    }
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
    if !problems.is_empty() {
        if status != Status::Error {
            status = Status::Warn;
        }
        summary = format!("{summary}; {}", problems.join("; "));
    }
    (status, summary, table)
}

fn aaaa_failures(d: &Discovery) -> Vec<String> {
    d.queries
        .iter()
        .filter(|q| q.kind == "AAAA" && q.outcome.is_failure())
        .map(QueryLog::describe)
        .collect()
}

impl Dns {
    async fn aaaa(self, ctx: &Context, d: &Discovery, common: DnsCommon) -> Finding {
        let v6: Vec<_> = ctx
            .endpoints
            .iter()
            .filter(|e| matches!(e.address, IpAddr::V6(_)))
            .collect();
        let published: Vec<Aaaa> = d
            .addresses
            .iter()
            .filter(|a| a.kind == "AAAA")
            .map(|a| Aaaa {
                name: a.name.clone(),
                address: a.address.to_string(),
            })
            .collect();
        let mut details = AaaaDetails {
            common,
            failed: aaaa_failures(d),
            ..AaaaDetails::default()
        };
        if published.is_empty() {
            let (status, summary) = if details.failed.is_empty() {
                (
                    Status::Info,
                    "no AAAA records for the SIP servers: not reachable over IPv6".to_string(),
                )
            } else {
                (
                    Status::Error,
                    format!(
                        "no AAAA record seen, but AAAA lookups failed, so IPv6 reachability is unknown: {}",
                        details.failed.join("; ")
                    ),
                )
            };
            return ids::DNS_AAAA
                .finding(status, summary)
                .with_details(&details);
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
        details.aaaa = published;
        details.ipv6_endpoints = v6.iter().map(|e| e.label()).collect();
        details.ipv6_answered = up.clone();
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
        ids::DNS_AAAA
            .finding(status, summary)
            .severity(severity(status))
            .with_details(&details)
    }
}

fn severity(status: Status) -> Severity {
    if status == Status::Warn {
        Severity::Medium
    } else {
        Severity::None
    }
}

/// The NAPTR, SRV and DNSSEC verdicts of a discovery, for the `dns_answers` fuzz property.
#[cfg(feature = "internals")]
pub(crate) fn verdicts(d: &Discovery) -> [(Status, String); 3] {
    let (s, t, _) = srv(d);
    [naptr(d), (s, t), dnssec(d)]
}

fn dnssec(d: &Discovery) -> (Status, String) {
    match d.authenticated() {
        None => (
            Status::Info,
            "no answer carried records, so nothing could be validated".to_string(),
        ),
        Some(true) => (
            Status::Info,
            "every answer was DNSSEC-validated by the resolver (AD bit set)".to_string(),
        ),
        Some(false) => (
            Status::Info,
            format!(
                "the resolver {} did not mark the answers as DNSSEC-validated (AD bit clear): a forged NAPTR/SRV answer could redirect clients; sipcheck does not validate itself",
                d.server.as_deref().unwrap_or("system")
            ),
        ),
    }
}

fn queries_of(d: &Discovery, kind: &str) -> Vec<QueryLog> {
    d.queries
        .iter()
        .filter(|q| q.kind == kind)
        .cloned()
        .collect()
}

impl Probe for Dns {
    fn id(&self) -> &'static str {
        match self {
            Dns::Naptr => ids::DNS_NAPTR.id,
            Dns::Srv => ids::DNS_SRV.id,
            Dns::Aaaa => ids::DNS_AAAA.id,
            Dns::Dnssec => ids::DNS_DNSSEC.id,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Dns::Naptr => ids::DNS_NAPTR.spec().title,
            Dns::Srv => ids::DNS_SRV.spec().title,
            Dns::Aaaa => ids::DNS_AAAA.spec().title,
            Dns::Dnssec => ids::DNS_DNSSEC.spec().title,
        }
    }

    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let d = match (not_applicable(ctx, *self), ctx.discovery.as_deref()) {
                (None, Some(d)) => d,
                (why, _) => {
                    return vec![Finding::of(
                        self.id(),
                        Status::Skipped,
                        why.unwrap_or("no DNS discovery"),
                    )];
                }
            };
            let common = DnsCommon {
                domain: d.domain.clone(),
                dns_server: d.server.clone(),
                cut: d.cut.clone(),
                notes: d.notes.clone(),
            };
            let f = match self {
                Dns::Naptr => {
                    let (s, m) = naptr(d);
                    ids::DNS_NAPTR
                        .finding(s, m)
                        .severity(severity(s))
                        .with_details(&NaptrDetails {
                            common,
                            records: d.naptr.clone(),
                            queries: queries_of(d, "NAPTR"),
                        })
                }
                Dns::Srv => {
                    let (s, m, transports) = srv(d);
                    ids::DNS_SRV
                        .finding(s, m)
                        .severity(severity(s))
                        .with_details(&SrvDetails {
                            common,
                            records: d.srv.clone(),
                            absent: d.srv_absent.clone(),
                            unresolved: d.unresolved.clone(),
                            transports,
                            queries: queries_of(d, "SRV"),
                        })
                }
                Dns::Aaaa => self.aaaa(ctx, d, common).await,
                Dns::Dnssec => {
                    let (s, m) = dnssec(d);
                    ids::DNS_DNSSEC.finding(s, m).with_details(&DnssecDetails {
                        common,
                        queries: d.queries.clone(),
                    })
                }
            };
            vec![f]
        })
    }
}
