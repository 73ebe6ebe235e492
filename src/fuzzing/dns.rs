//! Properties of what discovery does with DNS answers (RFC 3263 over RFC 3403 NAPTR, RFC 2782 SRV,
//! A/AAAA): the input is decoded into a small zone of a few names, so flags, services, "." targets,
//! loops and caps all come up within short inputs.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;
use std::time::Duration;

use crate::discover::rfc3263::{Bounds, walk};
use crate::discover::source::BoxFuture;
use crate::discover::source::{Answer, Kind, Rdata, Source, normalise};
use crate::discover::{Discovery, Mode};
use crate::findings::dns::Outcome;
use crate::target::{Target, Transport};

/// Owner names and targets: the domain, its SRV owners, hosts, the root (`.`, empty), and spellings
/// that normalise to the same name.
const NAMES: &[&str] = &[
    "sip.test",
    "_sips._tcp.sip.test",
    "_sip._tcp.sip.test",
    "_sip._udp.sip.test",
    "a.sip.test",
    "b.sip.test",
    "",
    "c.sip.test",
    "SIP.Test.",
    "_sip._tcp.a.sip.test",
    "_sips._tcp.b.sip.test",
    "other.test",
    "A.sip.test.",
    "_SIP._UDP.sip.test",
    "d.sip.test",
    "sip.test.",
];
const FLAGS: &[&str] = &["s", "S", "a", "A", "", "u", "p", "sa"];
const SERVICES: &[&str] = &[
    "SIPS+D2T", "SIP+D2T", "SIP+D2U", "sip+d2u", "SIP+D2S", "SIPS+D2W", "E2U+sip", "x",
];
const TARGETS: &[&str] = &[
    "sip.test",
    "sips:sip.test",
    "sip:sip.test;transport=tcp",
    "sip.test:5070",
];

/// A zone as a resolver would hand it over: record data normalised as `source::Hickory` does.
#[derive(Clone, Default)]
struct Zone(HashMap<(String, Kind), Answer>);

/// Reads bytes as they come, zero past the end.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let Some((b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        *b
    }
    fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
        from[usize::from(self.u8()) % from.len()]
    }
}

fn rdata(kind: Kind, b: &mut Bytes) -> Rdata {
    match kind {
        Kind::Naptr => Rdata::Naptr {
            // Few distinct values, so equal order and preference (ties) are common.
            order: u16::from(b.u8() % 4),
            preference: u16::from(b.u8() % 4),
            flags: b.pick(FLAGS).to_string(),
            service: b.pick(SERVICES).to_string(),
            regexp: b.pick(&["", "!^.*$!sip:x@sip.test!"]).to_string(),
            replacement: normalise(b.pick(NAMES)),
        },
        Kind::Srv => Rdata::Srv {
            priority: u16::from(b.u8() % 4),
            weight: u16::from(b.u8() % 4),
            port: match b.u8() % 4 {
                0 => 0,
                1 => 5060,
                2 => 5061,
                _ => 5000 + u16::from(b.u8()),
            },
            target: normalise(b.pick(NAMES)),
        },
        Kind::A => Rdata::Ip(IpAddr::V4(Ipv4Addr::new(127, 0, 0, b.u8() % 24))),
        Kind::Aaaa => Rdata::Ip(IpAddr::V6(Ipv6Addr::new(
            0xfd00,
            0,
            0,
            0,
            0,
            0,
            0,
            u16::from(b.u8() % 24),
        ))),
    }
}

impl Zone {
    fn decode(b: &mut Bytes) -> Zone {
        let mut z = Zone::default();
        while !b.0.is_empty() {
            let name = normalise(b.pick(NAMES));
            let tag = b.u8();
            let kind = [Kind::Naptr, Kind::Srv, Kind::A, Kind::Aaaa][usize::from(tag & 3)];
            let answer = match (tag >> 2) % 7 {
                0..=2 => {
                    let n = usize::from(b.u8() % 24) + 1;
                    Answer::Records {
                        records: (0..n).map(|_| rdata(kind, b)).collect(),
                        authenticated: tag & 0x80 != 0,
                    }
                }
                3 => Answer::NoData,
                4 => Answer::NxDomain,
                5 => Answer::Failed {
                    rcode: Some("SERVFAIL".into()),
                    reason: "server failure".into(),
                },
                _ => Answer::Timeout,
            };
            // An RRset arrives whole; a later entry for the same name and type adds records.
            match (z.0.get_mut(&(name.clone(), kind)), answer) {
                (
                    Some(Answer::Records { records, .. }),
                    Answer::Records {
                        records: more,
                        authenticated: _,
                    },
                ) => records.extend(more),
                (Some(_), _) => {}
                (None, a) => {
                    z.0.insert((name, kind), a);
                }
            }
        }
        z
    }

    /// The same zone with every RRset in another order: an RRset is a set (RFC 2181 §5), so
    /// nothing discovery reports may depend on the order a server lists records in.
    fn permuted(&self) -> Zone {
        let mut z = self.clone();
        for a in z.0.values_mut() {
            if let Answer::Records { records, .. } = a {
                records.reverse();
                let n = records.len();
                records.rotate_left(n / 2);
            }
        }
        z
    }

    fn has_name(&self, name: &str) -> bool {
        self.0.keys().any(|(n, _)| n == name)
    }
}

/// A zone answering queries, remembering every query it received.
struct Fake {
    zone: Zone,
    asked: Mutex<Vec<(String, Kind)>>,
}

impl Source for Fake {
    fn query<'a>(&'a self, name: &'a str, kind: Kind) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            let name = normalise(name);
            self.asked
                .lock()
                .expect("not poisoned")
                .push((name.clone(), kind));
            match self.zone.0.get(&(name.clone(), kind)) {
                Some(a) => a.clone(),
                None if self.zone.has_name(&name) => Answer::NoData,
                None => Answer::NxDomain,
            }
        })
    }
    fn describe(&self) -> String {
        "fuzz-zone".into()
    }
}

struct Run {
    result: Result<Discovery, String>,
    asked: Vec<(String, Kind)>,
}

fn run(zone: Zone, target: &Target, transports: &[Transport], mode: Mode, bounds: Bounds) -> Run {
    let fake = Fake {
        zone,
        asked: Mutex::new(Vec::new()),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");
    let started = std::time::Instant::now();
    let result = rt.block_on(walk(
        &fake,
        target,
        "sip.test",
        transports,
        mode,
        bounds,
        |t| crate::discover::port_for(target, t, transports.len() == 1, None),
    ));
    // Answers are instant here, so the walk itself must be quick; the budget bounds waiting only.
    assert!(
        started.elapsed() < bounds.budget + Duration::from_secs(5),
        "the walk overran its budget"
    );
    Run {
        result: result.map_err(|e| e.to_string()),
        asked: fake.asked.into_inner().expect("not poisoned"),
    }
}

/// What a report shows of a walk, timings left out.
fn shown(r: &Run) -> String {
    match &r.result {
        Ok(d) => {
            let mut d = d.clone();
            for q in &mut d.queries {
                q.elapsed_ms = 0;
            }
            serde_json::to_string(&d).expect("a discovery serialises")
        }
        Err(e) => e.clone(),
    }
}

/// DNS answers through the RFC 3263 walk: bounded endpoints and queries, every endpoint backed by
/// an address the zone gave, the query log exactly the queries made, no A/AAAA fallback once SRV
/// records exist, and the same result whatever order each RRset comes in.
pub fn dns_answers(data: &[u8]) {
    let mut b = Bytes(data);
    let cfg = b.u8();
    let target = Target::parse(TARGETS[usize::from(cfg & 3)]).expect("a valid target");
    let mask = (cfg >> 2) & 7;
    let mut transports: Vec<Transport> = Transport::ALL
        .into_iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, t)| t)
        .collect();
    if mask == 0 || target.sips || target.transport_param.is_some() {
        transports = target.default_transports();
    }
    let mode = if cfg & 0x20 != 0 {
        Mode::NoDiscovery
    } else if target.port.is_some() {
        Mode::ExplicitPort
    } else {
        Mode::Rfc3263
    };
    let bounds = if cfg & 0x40 != 0 {
        Bounds {
            max_naptr: 3,
            max_srv: 3,
            max_addresses: 2,
            max_queries: 6,
            max_naptr_depth: 1,
            max_endpoints: 4,
            budget: Duration::from_secs(10),
        }
    } else {
        Bounds::default()
    };
    let zone = Zone::decode(&mut b);
    let first = run(zone.clone(), &target, &transports, mode, bounds);
    check(&first, &zone, &transports, mode, bounds);
    let again = run(zone.permuted(), &target, &transports, mode, bounds);
    assert_eq!(
        shown(&first),
        shown(&again),
        "the order of records in an RRset changed what discovery reports"
    );
}

fn check(r: &Run, zone: &Zone, transports: &[Transport], mode: Mode, bounds: Bounds) {
    assert!(r.asked.len() <= bounds.max_queries, "query cap exceeded");
    let d = match &r.result {
        Ok(d) => d,
        Err(e) => {
            assert!(e.len() <= 16 * 1024, "runaway error ({} bytes)", e.len());
            assert_no_fallback(r, zone, mode);
            return;
        }
    };
    assert!(!d.endpoints.is_empty(), "Ok means something to probe");
    assert!(d.endpoints.len() <= bounds.max_endpoints);
    // Findings are written from the query log: it holds exactly the queries made, in order, and
    // each query not made says why.
    let made: Vec<(String, &str)> = d
        .queries
        .iter()
        .filter(|q| q.outcome != Outcome::NotAsked)
        .map(|q| (q.name.clone(), q.kind.as_str()))
        .collect();
    let asked: Vec<(String, &str)> = r
        .asked
        .iter()
        .map(|(n, k)| (n.clone(), k.as_str()))
        .collect();
    assert_eq!(made, asked, "the query log is not the queries made");
    for q in &d.queries {
        if q.outcome == Outcome::NotAsked {
            assert!(q.reason.as_ref().is_some_and(|w| !w.is_empty()) && q.server.is_empty());
        }
    }
    for e in &d.endpoints {
        assert!(
            transports.contains(&e.transport),
            "{e}: transport not selected"
        );
        // The last link of the chain is the address record the zone gave for the host.
        let last = e.discovered_by.last().expect("every endpoint has a chain");
        let (kind_host, ip) = last.split_once(" → ").expect("`KIND host → ip`");
        let (kind, host) = kind_host.split_once(' ').expect("`KIND host`");
        assert_eq!(ip, e.address.to_string());
        assert!(!host.is_empty(), "{e}: an endpoint on the root name");
        let kind = if kind == "A" { Kind::A } else { Kind::Aaaa };
        let Some(Answer::Records { records, .. }) = zone.0.get(&(host.to_string(), kind)) else {
            panic!("{e}: no {kind:?} records for {host}");
        };
        assert!(
            records.contains(&Rdata::Ip(e.address)),
            "{e}: address not in the zone"
        );
    }
    let verdicts = crate::probes::dns::verdicts(d);
    for (_, text) in &verdicts {
        assert!(
            text.len() <= 4096 + 512 * d.queries.len(),
            "runaway verdict text"
        );
    }
    assert_no_fallback(r, zone, mode);
}

/// Once SRV records were found, the domain's own A/AAAA are not a fallback (RFC 3263 §4.2 falls
/// back only when no SRV records are found): they are asked only when a record names the domain.
fn assert_no_fallback(r: &Run, zone: &Zone, mode: Mode) {
    if mode != Mode::Rfc3263 {
        return;
    }
    let domain = normalise("sip.test");
    let srv_found = r.asked.iter().any(|(n, k)| {
        *k == Kind::Srv
            && matches!(zone.0.get(&(n.clone(), Kind::Srv)), Some(Answer::Records { records, .. }) if !records.is_empty())
    });
    let named = zone.0.values().any(|a| match a {
        Answer::Records { records, .. } => records.iter().any(|r| match r {
            Rdata::Naptr { replacement, .. } => *replacement == domain,
            Rdata::Srv { target, .. } => *target == domain,
            Rdata::Ip(_) => false,
        }),
        _ => false,
    });
    if srv_found && !named {
        assert!(
            !r.asked
                .iter()
                .any(|(n, k)| *n == domain && matches!(k, Kind::A | Kind::Aaaa)),
            "A/AAAA of the domain asked although SRV records exist"
        );
    }
}
