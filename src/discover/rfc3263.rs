//! The RFC 3263 walk: NAPTR (ordered by order, preference) → SRV (ordered by priority, weight) →
//! A/AAAA, with SRV directly when there is no NAPTR and A/AAAA on the default ports when there is
//! neither. Unlike a client, which stops at the first server that works, a scanner follows every
//! branch so that every server the carrier publishes is probed.
//!
//! Every step is bounded (records per name, queries, NAPTR depth, endpoints, a time budget) because the
//! zone is peer input; what a bound cuts is written into [`Discovery::cut`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

use super::model::{AddressRecord, Discovery, Mode, NaptrRecord, Outcome, QueryLog, SrvRecord};
use super::source::{Answer, Kind, Rdata, Source, normalise};
use crate::error::{Error, Result};
use crate::target::{Endpoint, Port, Target, Transport};

/// Limits on what a zone can make discovery do.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// NAPTR records considered per name.
    pub max_naptr: usize,
    /// SRV records considered per name.
    pub max_srv: usize,
    /// Addresses kept per host name and family.
    pub max_addresses: usize,
    /// DNS queries per target.
    pub max_queries: usize,
    /// How many non-terminal NAPTR hops are followed.
    pub max_naptr_depth: usize,
    /// Endpoints per target.
    pub max_endpoints: usize,
    /// Wall time for the whole walk.
    pub budget: Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_naptr: 16,
            max_srv: 16,
            max_addresses: 8,
            max_queries: 64,
            max_naptr_depth: 4,
            max_endpoints: 64,
            budget: Duration::from_secs(10),
        }
    }
}

/// A host to resolve, for a transport and port, with the records that led to it.
#[derive(Debug, Clone)]
struct Hop {
    transport: Transport,
    host: String,
    port: Port,
    chain: Vec<String>,
}

/// The SRV owner names of RFC 3263 §4.1 when there is no NAPTR.
fn srv_name(t: Transport, domain: &str) -> String {
    match t {
        Transport::Tls => format!("_sips._tcp.{domain}"),
        Transport::Tcp => format!("_sip._tcp.{domain}"),
        Transport::Udp => format!("_sip._udp.{domain}"),
    }
}

/// The transport a NAPTR service field stands for (RFC 3263 §4.1), `None` for services sipcheck
/// cannot probe (SCTP `D2S`, WebSocket `D2W` of RFC 7118) or does not know.
fn naptr_transport(service: &str) -> Option<Transport> {
    match service.to_ascii_uppercase().as_str() {
        "SIPS+D2T" => Some(Transport::Tls),
        "SIP+D2T" => Some(Transport::Tcp),
        "SIP+D2U" => Some(Transport::Udp),
        _ => None,
    }
}

struct Walk<'a> {
    src: &'a dyn Source,
    bounds: Bounds,
    deadline: Instant,
    d: Discovery,
}

impl Walk<'_> {
    fn cut(&mut self, what: String) {
        if !self.d.cut.contains(&what) {
            self.d.cut.push(what);
        }
    }

    /// Records a query that discovery decided not to make, and why: a finding may only describe
    /// queries that were made.
    fn not_asked(&mut self, name: &str, kind: Kind, transport: Option<Transport>, why: String) {
        self.d.queries.push(QueryLog {
            name: name.to_string(),
            kind: kind.as_str().to_string(),
            transport,
            reason: Some(why),
            ..QueryLog::default()
        });
    }

    async fn ask(&mut self, name: &str, kind: Kind) -> Answer {
        self.ask_for(name, kind, None).await
    }

    /// One query under the query cap and the time budget, logged with what came back.
    async fn ask_for(&mut self, name: &str, kind: Kind, transport: Option<Transport>) -> Answer {
        let asked = self
            .d
            .queries
            .iter()
            .filter(|q| q.outcome != Outcome::NotAsked)
            .count();
        let skipped = if asked >= self.bounds.max_queries {
            Some(format!(
                "query cap of {} reached: later lookups were not made",
                self.bounds.max_queries
            ))
        } else if Instant::now() >= self.deadline {
            Some(format!(
                "time budget of {} s exhausted: later lookups were not made",
                self.bounds.budget.as_secs_f64()
            ))
        } else {
            None
        };
        if let Some(why) = skipped {
            self.cut(why.clone());
            self.not_asked(name, kind, transport, why.clone());
            return Answer::Failed {
                rcode: None,
                reason: why,
            };
        }
        let started = Instant::now();
        let mut reason = None;
        let answer = match tokio::time::timeout_at(self.deadline, self.src.query(name, kind)).await
        {
            Ok(a) => a,
            Err(_) => {
                let why = format!(
                    "time budget of {} s exhausted during {} {name}",
                    self.bounds.budget.as_secs_f64(),
                    kind.as_str()
                );
                self.cut(why.clone());
                reason = Some(why);
                Answer::Timeout
            }
        };
        let mut log = QueryLog {
            name: name.to_string(),
            kind: kind.as_str().to_string(),
            transport,
            server: self.src.describe(),
            elapsed_ms: started.elapsed().as_millis() as u64,
            reason,
            ..QueryLog::default()
        };
        match &answer {
            Answer::Records {
                records,
                authenticated,
            } => {
                log.outcome = Outcome::Answer;
                log.records = records.len();
                log.authenticated = *authenticated;
            }
            Answer::NoData => log.outcome = Outcome::Nodata,
            Answer::NxDomain => log.outcome = Outcome::Nxdomain,
            Answer::Failed { rcode, reason } => {
                log.outcome = Outcome::Failed;
                log.rcode = rcode.clone();
                log.reason = Some(reason.clone());
            }
            Answer::Timeout => {
                log.outcome = Outcome::Timeout;
                log.reason
                    .get_or_insert_with(|| "no answer before the per-query deadline".into());
            }
        }
        self.d.queries.push(log);
        answer
    }

    /// A and AAAA of a host, capped per family. `Err` carries why nothing was found.
    async fn addresses(
        &mut self,
        host: &str,
    ) -> std::result::Result<Vec<(Kind, IpAddr)>, (bool, String)> {
        let mut out = Vec::new();
        let mut reasons = Vec::new();
        let mut nx = false;
        for kind in [Kind::A, Kind::Aaaa] {
            match self.ask(host, kind).await {
                Answer::Records { records, .. } => {
                    // Sorted, so the address cap keeps the same ones whatever the RRset order.
                    let mut ips: Vec<IpAddr> = records
                        .into_iter()
                        .filter_map(|r| match r {
                            Rdata::Ip(ip) => Some(ip),
                            _ => None,
                        })
                        .collect();
                    ips.sort();
                    ips.dedup();
                    if ips.len() > self.bounds.max_addresses {
                        self.cut(format!(
                            "{host} has {} {} records; only the first {} were probed",
                            ips.len(),
                            kind.as_str(),
                            self.bounds.max_addresses
                        ));
                    }
                    for ip in ips.into_iter().take(self.bounds.max_addresses) {
                        if !out.iter().any(|(_, a)| *a == ip) {
                            out.push((kind, ip));
                        }
                    }
                }
                Answer::NoData => reasons.push(format!("no {} record", kind.as_str())),
                Answer::NxDomain => {
                    nx = true;
                    reasons.push("NXDOMAIN".to_string());
                    // The name does not exist: asking for AAAA as well adds nothing.
                    break;
                }
                Answer::Failed { rcode, reason } => reasons.push(format!(
                    "{} lookup failed: {}",
                    kind.as_str(),
                    rcode.unwrap_or(reason)
                )),
                Answer::Timeout => reasons.push(format!("{} lookup timed out", kind.as_str())),
            }
        }
        for (kind, ip) in &out {
            self.d.addresses.push(AddressRecord {
                name: host.to_string(),
                kind: kind.as_str().to_string(),
                address: *ip,
            });
        }
        if out.is_empty() {
            reasons.dedup();
            Err((nx, reasons.join(", ")))
        } else {
            Ok(out)
        }
    }

    /// NAPTR of the domain, following non-terminal records; returns the SRV names and A-flag hosts to
    /// use. `Err` only for an NXDOMAIN of the domain itself.
    async fn naptr(
        &mut self,
        domain: &str,
        transports: &[Transport],
    ) -> Result<(Vec<(Transport, String, Vec<String>)>, Vec<Hop>)> {
        let mut srv_names: Vec<(Transport, String, Vec<String>)> = Vec::new();
        let mut hops = Vec::new();
        let mut queue: VecDeque<(String, usize, Vec<String>)> =
            VecDeque::from([(domain.to_string(), 0, Vec::new())]);
        let mut visited = HashSet::new();
        while let Some((name, depth, chain)) = queue.pop_front() {
            if !visited.insert(name.clone()) {
                self.cut(format!(
                    "NAPTR loop: {name} was reached again (via {}); not followed",
                    chain.join(" ⇒ ")
                ));
                continue;
            }
            if depth > self.bounds.max_naptr_depth {
                self.cut(format!(
                    "NAPTR chain deeper than {} non-terminal records at {name}; not followed",
                    self.bounds.max_naptr_depth
                ));
                continue;
            }
            let mut recs: Vec<Rdata> = match self.ask(&name, Kind::Naptr).await {
                Answer::Records { records, .. } => records,
                Answer::NxDomain if depth == 0 => {
                    return Err(Error::Resolve {
                        name: domain.to_string(),
                        reason: format!(
                            "NXDOMAIN: the domain does not exist (DNS server {})",
                            self.src.describe()
                        ),
                    });
                }
                Answer::NxDomain | Answer::NoData => {
                    if depth > 0 {
                        self.d.notes.push(format!(
                            "non-terminal NAPTR led to {name}, which has no NAPTR records"
                        ));
                    }
                    continue;
                }
                Answer::Failed { rcode, reason } => {
                    self.d.notes.push(format!(
                        "NAPTR lookup for {name} failed: {}",
                        rcode.unwrap_or(reason)
                    ));
                    continue;
                }
                Answer::Timeout => {
                    self.d
                        .notes
                        .push(format!("NAPTR lookup for {name} timed out"));
                    continue;
                }
            };
            // Equal order and preference prefer neither (RFC 3403 §4.1): list TLS first among
            // equals, then by the record's text. An RRset is a set (RFC 2181 §5): the order the
            // server sent records in must change neither the report nor what the caps keep.
            recs.sort_by_cached_key(|r| match r {
                Rdata::Naptr {
                    order,
                    preference,
                    flags,
                    service,
                    regexp,
                    replacement,
                } => (
                    *order,
                    *preference,
                    naptr_transport(service).map_or(3, |t| match t {
                        Transport::Tls => 0,
                        Transport::Tcp => 1,
                        Transport::Udp => 2,
                    }),
                    (
                        service.to_ascii_uppercase(),
                        flags.to_ascii_lowercase(),
                        replacement.clone(),
                        regexp.clone(),
                        service.clone(),
                        flags.clone(),
                    ),
                ),
                _ => (u16::MAX, u16::MAX, 3, Default::default()),
            });
            if recs.len() > self.bounds.max_naptr {
                self.cut(format!(
                    "{name} has {} NAPTR records; only the first {} (by order and preference) were considered",
                    recs.len(),
                    self.bounds.max_naptr
                ));
                recs.truncate(self.bounds.max_naptr);
            }
            for r in recs {
                let Rdata::Naptr {
                    order,
                    preference,
                    flags,
                    service,
                    regexp,
                    replacement,
                } = r
                else {
                    continue;
                };
                let line = format!(
                    "NAPTR {name} {order} {preference} \"{flags}\" \"{service}\" \"{regexp}\" → {}",
                    if replacement.is_empty() {
                        "."
                    } else {
                        &replacement
                    }
                );
                let mut next = chain.clone();
                next.push(line);
                let t = naptr_transport(&service);
                let flags_l = flags.to_ascii_lowercase();
                let used = if replacement.is_empty() {
                    "ignored: no replacement (SIP NAPTRs do not use regexp rewriting, RFC 3263 §4.1)"
                        .to_string()
                } else if flags_l.is_empty() {
                    queue.push_back((replacement.clone(), depth + 1, next));
                    "non-terminal: followed".to_string()
                } else if t.is_none() {
                    let s = service.to_ascii_uppercase();
                    if s.ends_with("+D2S") || s.ends_with("+D2W") {
                        self.d.notes.push(format!(
                            "{service} advertised at {name} (SCTP/WebSocket): sipcheck does not probe it"
                        ));
                        "advertised, not probed (transport not supported by sipcheck)".to_string()
                    } else {
                        "ignored: not a SIP service".to_string()
                    }
                } else if !t.is_some_and(|t| transports.contains(&t)) {
                    "not probed: transport not selected".to_string()
                } else if let Some(t) = t.filter(|_| flags_l == "s") {
                    if !srv_names
                        .iter()
                        .any(|(tt, n, _)| *tt == t && *n == replacement)
                    {
                        srv_names.push((t, replacement.clone(), next));
                    }
                    "followed to SRV".to_string()
                } else if let Some(t) = t.filter(|_| flags_l == "a") {
                    hops.push(Hop {
                        transport: t,
                        host: replacement.clone(),
                        port: t.default_port(),
                        chain: next,
                    });
                    "followed to A/AAAA".to_string()
                } else {
                    format!("ignored: flags \"{flags}\"")
                };
                self.d.naptr.push(NaptrRecord {
                    owner: name.clone(),
                    order,
                    preference,
                    flags,
                    service,
                    regexp,
                    replacement,
                    used,
                });
            }
        }
        Ok((srv_names, hops))
    }

    /// SRV records of one owner name, ordered by priority then weight (highest first), as hops.
    async fn srv(&mut self, t: Transport, name: &str, chain: &[String]) -> Vec<Hop> {
        let mut recs: Vec<(u16, u16, u16, String)> =
            match self.ask_for(name, Kind::Srv, Some(t)).await {
                Answer::Records { records, .. } => records
                    .into_iter()
                    .filter_map(|r| match r {
                        Rdata::Srv {
                            priority,
                            weight,
                            port,
                            target,
                        } => Some((priority, weight, port, target)),
                        _ => None,
                    })
                    .collect(),
                Answer::NoData | Answer::NxDomain => {
                    self.d.srv_absent.push(name.to_string());
                    return Vec::new();
                }
                Answer::Failed { rcode, reason } => {
                    self.d.notes.push(format!(
                        "SRV lookup for {name} failed: {}",
                        rcode.unwrap_or(reason)
                    ));
                    return Vec::new();
                }
                Answer::Timeout => {
                    self.d
                        .notes
                        .push(format!("SRV lookup for {name} timed out"));
                    return Vec::new();
                }
            };
        // RFC 2782 picks among equal priorities at random by weight; a report must be reproducible,
        // and every target is probed anyway, so heavier targets simply come first.
        // Ties then by target and port: the server's order within the RRset must not decide what
        // the record cap keeps or the order of the report (RFC 2181 §5).
        recs.sort_by(|a, b| {
            (a.0, std::cmp::Reverse(a.1), &a.3, a.2).cmp(&(b.0, std::cmp::Reverse(b.1), &b.3, b.2))
        });
        if recs.len() > self.bounds.max_srv {
            self.cut(format!(
                "{name} has {} SRV records; only the first {} (by priority and weight) were considered",
                recs.len(),
                self.bounds.max_srv
            ));
            recs.truncate(self.bounds.max_srv);
        }
        let mut hops = Vec::new();
        for (priority, weight, port, target) in recs {
            self.d.srv.push(SrvRecord {
                owner: name.to_string(),
                transport: t,
                priority,
                weight,
                port,
                target: target.clone(),
            });
            let Some(port) = Port::new(port) else {
                self.d
                    .notes
                    .push(format!("SRV {name} → {target} has port 0: not usable"));
                continue;
            };
            if target.is_empty() {
                self.d.notes.push(format!(
                    "SRV {name} has target \".\": the service is declared unavailable (RFC 2782)"
                ));
                continue;
            }
            let mut c = chain.to_vec();
            c.push(format!("SRV {name} {priority} {weight} {port} → {target}"));
            hops.push(Hop {
                transport: t,
                host: target,
                port,
                chain: c,
            });
        }
        hops
    }

    /// Resolves hops to endpoints, once per host name, capped.
    async fn endpoints(&mut self, hops: Vec<Hop>) -> Vec<Endpoint> {
        let mut cache: HashMap<String, std::result::Result<Vec<(Kind, IpAddr)>, String>> =
            HashMap::new();
        let mut out: Vec<Endpoint> = Vec::new();
        for hop in hops {
            if !cache.contains_key(&hop.host) {
                let got = self.addresses(&hop.host).await.map_err(|(_, why)| why);
                if let Err(why) = &got {
                    self.d.unresolved.push(format!("{}: {why}", hop.host));
                }
                cache.insert(hop.host.clone(), got);
            }
            let Some(Ok(addrs)) = cache.get(&hop.host) else {
                continue;
            };
            for (kind, ip) in addrs.clone() {
                if out
                    .iter()
                    .any(|e| e.transport == hop.transport && e.address == ip && e.port == hop.port)
                {
                    continue;
                }
                if out.len() >= self.bounds.max_endpoints {
                    self.cut(format!(
                        "more than {} endpoints: the rest were not probed",
                        self.bounds.max_endpoints
                    ));
                    return out;
                }
                let mut e = Endpoint::new(hop.transport, ip, hop.port);
                e.discovered_by = hop.chain.clone();
                e.discovered_by
                    .push(format!("{} {} → {ip}", kind.as_str(), hop.host));
                out.push(e);
            }
        }
        out
    }
}

/// Why a transport is not part of this run.
fn not_selected(target: &Target, t: Transport, transports: &[Transport]) -> String {
    if target.sips {
        format!("a sips: URI asks for TLS only, not {t} (RFC 3263 §4.1)")
    } else if let Some(p) = target.transport_param {
        format!("the URI says ;transport={p}")
    } else {
        format!(
            "--transport {} excludes {t}",
            transports
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(",")
        )
    }
}

/// Discovery for a host name: the full RFC 3263 walk in [`Mode::Rfc3263`], A/AAAA only otherwise.
/// `port_for` gives the port when DNS does not (explicit port, no SRV).
pub async fn walk(
    src: &dyn Source,
    target: &Target,
    name: &str,
    transports: &[Transport],
    mode: Mode,
    bounds: Bounds,
    port_for: impl Fn(Transport) -> Port,
) -> Result<Discovery> {
    let name = normalise(name);
    let mut w = Walk {
        src,
        bounds,
        deadline: Instant::now() + bounds.budget,
        d: Discovery::new(mode, &name),
    };
    w.d.server = Some(src.describe());
    let mut hops = Vec::new();
    let mut from_dns = false;
    if mode == Mode::Rfc3263 {
        let (mut srv_names, naptr_hops) = if target.transport_param.is_none() {
            w.naptr(&name, transports).await?
        } else {
            w.not_asked(
                &name,
                Kind::Naptr,
                None,
                "the URI names a transport (;transport=): RFC 3263 §4.1 skips NAPTR".into(),
            );
            w.d.notes.push(format!(
                "transport given in the URI: NAPTR skipped (RFC 3263 §4.1), SRV for {} only",
                transports
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            (Vec::new(), Vec::new())
        };
        hops.extend(naptr_hops);
        if srv_names.is_empty() && hops.is_empty() {
            if !w.d.naptr.is_empty() {
                w.d.notes.push(
                    "NAPTR records exist but none leads to a selected SIP transport: SRV queried directly"
                        .into(),
                );
            }
            // Most secure first, so reports list TLS endpoints before plaintext ones.
            srv_names = [Transport::Tls, Transport::Tcp, Transport::Udp]
                .into_iter()
                .filter(|t| transports.contains(t))
                .map(|t| (t, srv_name(t, &name), Vec::new()))
                .collect();
        }
        let via_naptr = !srv_names.is_empty() || !hops.is_empty();
        let direct_hosts: Vec<Transport> = hops.iter().map(|h| h.transport).collect();
        for (t, owner, chain) in srv_names {
            let got = w.srv(t, &owner, &chain).await;
            hops.extend(got);
        }
        for t in Transport::ALL {
            if w.d.queries.iter().any(|q| q.transport == Some(t)) {
                continue;
            }
            let why = if !transports.contains(&t) {
                not_selected(target, t, transports)
            } else if direct_hosts.contains(&t) {
                format!("a NAPTR record with flag \"A\" points straight at hosts for {t}")
            } else if via_naptr {
                format!(
                    "NAPTR advertises no service for {t} (RFC 3263 §4.1: only the NAPTR services are used)"
                )
            } else {
                "not reached".to_string()
            };
            w.not_asked(&srv_name(t, &name), Kind::Srv, Some(t), why);
        }
        from_dns = !hops.is_empty() || !w.d.srv.is_empty();
    }
    if !from_dns {
        let failed = w.d.failed_lookups();
        let why = match mode {
            // A failed lookup is not an absence: say which failed, not "no records".
            Mode::Rfc3263 if !failed.is_empty() => format!(
                "NAPTR/SRV lookups failed ({}), A/AAAA fallback: the servers probed may not be the published ones",
                failed.join("; ")
            ),
            Mode::Rfc3263 => "no usable NAPTR or SRV records".to_string(),
            Mode::ExplicitPort => "explicit port: A/AAAA only (RFC 3263 §4.2)".to_string(),
            _ => "--no-discovery: A/AAAA only".to_string(),
        };
        match w.addresses(&name).await {
            Ok(addrs) => {
                'all: for &t in transports {
                    let port = port_for(t);
                    for (kind, ip) in &addrs {
                        if w.d.endpoints.len() >= bounds.max_endpoints {
                            w.cut(format!(
                                "more than {} endpoints: the rest were not probed",
                                bounds.max_endpoints
                            ));
                            break 'all;
                        }
                        let mut e = Endpoint::new(t, *ip, port);
                        e.discovered_by = vec![
                            format!("{why}: port {port} for {t}"),
                            format!("{} {name} → {ip}", kind.as_str()),
                        ];
                        w.d.endpoints.push(e);
                    }
                }
            }
            Err((nx, reason)) => {
                return Err(Error::Resolve {
                    name,
                    reason: if nx {
                        format!(
                            "NXDOMAIN: the domain does not exist (DNS server {})",
                            src.describe()
                        )
                    } else {
                        format!("{why}, and {reason} (DNS server {})", src.describe())
                    },
                });
            }
        }
    } else {
        let eps = w.endpoints(hops).await;
        if eps.is_empty() {
            let mut why = Vec::new();
            if !w.d.unresolved.is_empty() {
                why.push(format!(
                    "no SRV/NAPTR target resolves ({})",
                    w.d.unresolved.join("; ")
                ));
            }
            why.extend(w.d.cut.iter().cloned());
            if why.is_empty() && !w.d.srv.is_empty() && w.d.srv.iter().all(|r| r.target.is_empty())
            {
                why.push(
                    "every SRV record has the target \".\": the domain declares SIP decidedly not available (RFC 2782), and sipcheck does not fall back to A/AAAA"
                        .into(),
                );
            }
            if why.is_empty() {
                why.push("the published records lead to no usable server".into());
            }
            return Err(Error::Resolve {
                name,
                reason: why.join("; "),
            });
        }
        w.d.endpoints = eps;
    }
    Ok(w.d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::source::BoxFuture;

    /// A table zone; names not in it are NXDOMAIN, and `silent` names never answer.
    struct Table(
        Vec<(&'static str, Kind, Vec<Rdata>)>,
        &'static [&'static str],
    );

    impl Source for Table {
        fn query<'a>(&'a self, name: &'a str, kind: Kind) -> BoxFuture<'a, Answer> {
            Box::pin(async move {
                if self.1.contains(&name) {
                    std::future::pending::<()>().await;
                }
                let known = self.0.iter().any(|(n, _, _)| *n == name);
                match self.0.iter().find(|(n, k, _)| *n == name && *k == kind) {
                    Some((_, _, r)) => Answer::Records {
                        records: r.clone(),
                        authenticated: false,
                    },
                    None if known => Answer::NoData,
                    None => Answer::NxDomain,
                }
            })
        }
        fn describe(&self) -> String {
            "table".into()
        }
    }

    fn srv(port: u16, target: &str) -> Rdata {
        Rdata::Srv {
            priority: 10,
            weight: 10,
            port,
            target: target.into(),
        }
    }

    async fn go(t: &Table, bounds: Bounds) -> Result<Discovery> {
        let target = Target::parse("sip.test").unwrap();
        walk(
            t,
            &target,
            "sip.test",
            &Transport::ALL,
            Mode::Rfc3263,
            bounds,
            |t| t.default_port(),
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_server_spends_the_budget_and_says_so() {
        let t = Table(
            vec![
                ("sip.test", Kind::Srv, vec![]),
                (
                    "_sips._tcp.sip.test",
                    Kind::Srv,
                    vec![srv(5061, "slow.sip.test")],
                ),
            ],
            &["slow.sip.test"],
        );
        let bounds = Bounds {
            budget: Duration::from_secs(3),
            ..Bounds::default()
        };
        let e = go(&t, bounds).await.unwrap_err();
        assert!(
            e.to_string().contains("time budget of 3 s exhausted"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn srv_target_dot_means_unavailable() {
        let t = Table(
            vec![
                (
                    "sip.test",
                    Kind::A,
                    vec![Rdata::Ip("127.0.0.9".parse().unwrap())],
                ),
                ("_sips._tcp.sip.test", Kind::Srv, vec![srv(5061, "")]),
                (
                    "_sip._tcp.sip.test",
                    Kind::Srv,
                    vec![srv(5060, "sbc.sip.test")],
                ),
                (
                    "sbc.sip.test",
                    Kind::A,
                    vec![Rdata::Ip("127.0.0.2".parse().unwrap())],
                ),
            ],
            &[],
        );
        let d = go(&t, Bounds::default()).await.unwrap();
        let labels: Vec<String> = d.endpoints.iter().map(|e| e.label()).collect();
        assert_eq!(labels, ["tcp:127.0.0.2:5060"]);
        assert!(
            d.notes.iter().any(|n| n.contains("declared unavailable")),
            "{:?}",
            d.notes
        );
    }

    #[tokio::test]
    async fn the_query_cap_holds() {
        let many: Vec<Rdata> = (1..=200)
            .map(|i| srv(5000 + i, &format!("h{i}.sip.test")))
            .collect();
        let mut zone = vec![("_sip._udp.sip.test", Kind::Srv, many)];
        zone.push(("sip.test", Kind::A, vec![]));
        let t = Table(zone, &[]);
        let bounds = Bounds {
            max_srv: 100,
            max_queries: 20,
            ..Bounds::default()
        };
        // Every target is NXDOMAIN, so the walk runs into the query cap and reports it.
        let e = go(&t, bounds).await.unwrap_err();
        assert!(e.to_string().contains("query cap of 20"), "{e}");
    }
}
