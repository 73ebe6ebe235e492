//! sipcheck's RFC 3263 discovery side by side with another implementation: Sofia-SIP's `sip-dig`
//! (Debian `sofia-sip-bin`), on zones served by dnsmasq. Where the two choose different servers, the
//! case says which RFC sentence decides. For every zone the `dns.*` findings of a real run are
//! asserted: each must describe only the queries that were made (issue 11, classes 1–5).

#[allow(unused_imports)]
use crate::{dnsmasq, support};

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dnsmasq::{Dnsmasq, Rr};
use sipcheck::discover::{self, Settings};
use sipcheck::{Target, Transport};

/// One zone and what both resolvers and the findings must make of it.
struct Case {
    name: &'static str,
    records: Vec<Rr>,
    /// The URI both are given.
    uri: &'static str,
    /// `--transport` for sipcheck, and the matching sip-dig flags.
    transport: Option<(&'static str, &'static [&'static str])>,
    /// sipcheck's endpoints (empty: discovery fails).
    sipcheck: &'static [&'static str],
    /// sip-dig's servers.
    sip_dig: &'static [&'static str],
    /// When they differ: the RFC sentence that decides, and why sipcheck's answer is the one kept.
    differs: Option<&'static str>,
    /// (finding id, status, a phrase of its summary); a phrase starting with `!` must be absent.
    findings: &'static [(&'static str, &'static str, &'static str)],
}

const D: &str = "sip.test";

fn naptr(order: u16, pref: u16, service: &str, to: &str) -> Rr {
    Rr::naptr(D, order, pref, "S", service, to)
}

fn srv(owner: &str, port: u16, target: &str) -> Rr {
    Rr::srv(owner, 10, 10, port, target)
}

fn hosts() -> Vec<Rr> {
    vec![
        Rr::host("sbc1.sip.test", &["127.0.0.2"]),
        Rr::host("sbc2.sip.test", &["127.0.0.3"]),
    ]
}

fn all_srv() -> Vec<Rr> {
    vec![
        srv("_sips._tcp.sip.test", 5061, "sbc1.sip.test"),
        srv("_sip._tcp.sip.test", 5060, "sbc1.sip.test"),
        srv("_sip._udp.sip.test", 5060, "sbc1.sip.test"),
    ]
}

fn with(mut a: Vec<Rr>, b: Vec<Rr>) -> Vec<Rr> {
    a.extend(b);
    a
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "NAPTR tie between SIPS+D2T and SIP+D2U",
            records: with(
                vec![
                    naptr(10, 10, "SIPS+D2T", "_sips._tcp.sip.test"),
                    naptr(10, 10, "SIP+D2U", "_sip._udp.sip.test"),
                ],
                with(all_srv(), hosts()),
            ),
            uri: "sip:sip.test",
            transport: None,
            sipcheck: &["tls:127.0.0.2:5061", "udp:127.0.0.2:5060"],
            sip_dig: &["tls:127.0.0.2:5061", "udp:127.0.0.2:5060"],
            differs: None,
            findings: &[
                ("dns.naptr", "warn", "neither is preferred (RFC 3403 §4.1)"),
                ("dns.naptr", "warn", "!prefers SIPS+D2T"),
                ("dns.srv", "info", "TLS advertised in SRV"),
            ],
        },
        Case {
            name: "NAPTR prefers TLS by order; SRV priorities and weights",
            records: with(
                vec![
                    naptr(20, 10, "SIP+D2U", "_sip._udp.sip.test"),
                    naptr(10, 50, "SIPS+D2T", "_sips._tcp.sip.test"),
                    Rr::srv("_sips._tcp.sip.test", 20, 10, 5071, "sbc2.sip.test"),
                    Rr::srv("_sips._tcp.sip.test", 10, 5, 5061, "sbc1.sip.test"),
                    Rr::srv("_sips._tcp.sip.test", 10, 50, 5062, "sbc2.sip.test"),
                    srv("_sip._udp.sip.test", 5060, "sbc1.sip.test"),
                ],
                hosts(),
            ),
            uri: "sip:sip.test",
            transport: None,
            sipcheck: &[
                "tls:127.0.0.3:5062",
                "tls:127.0.0.2:5061",
                "tls:127.0.0.3:5071",
                "udp:127.0.0.2:5060",
            ],
            sip_dig: &[
                "tls:127.0.0.3:5062",
                "tls:127.0.0.2:5061",
                "tls:127.0.0.3:5071",
            ],
            differs: Some(
                "RFC 3403 §4.1: once a record of one order matches, a client must not consider records of another order, so sip-dig stops at order 10. sipcheck is a scanner, not a client: it probes every server the carrier publishes (later orders included), in the order a client would try them",
            ),
            findings: &[
                ("dns.naptr", "pass", "NAPTR prefers SIPS+D2T"),
                ("dns.srv", "info", "plaintext UDP still advertised"),
            ],
        },
        Case {
            name: "dangling SIPS+D2T: its _sips._tcp SRV does not exist",
            records: with(
                vec![
                    naptr(10, 10, "SIPS+D2T", "_sips._tcp.sip.test"),
                    naptr(20, 10, "SIP+D2U", "_sip._udp.sip.test"),
                    srv("_sip._udp.sip.test", 5060, "sbc1.sip.test"),
                ],
                hosts(),
            ),
            uri: "sip:sip.test",
            transport: None,
            sipcheck: &["udp:127.0.0.2:5060"],
            sip_dig: &["udp:127.0.0.2:5060"],
            differs: None,
            findings: &[
                ("dns.naptr", "warn", "TLS cannot be reached through it"),
                ("dns.naptr", "warn", "!prefers SIPS+D2T"),
                ("dns.srv", "warn", "no TLS SRV record"),
            ],
        },
        Case {
            name: "SRV target \".\" for TLS, plaintext published",
            records: with(
                vec![
                    Rr::Raw("--srv-host=_sips._tcp.sip.test".into()),
                    srv("_sip._udp.sip.test", 5060, "sbc1.sip.test"),
                ],
                hosts(),
            ),
            uri: "sip:sip.test",
            transport: None,
            sipcheck: &["udp:127.0.0.2:5060"],
            sip_dig: &["udp:127.0.0.2:5060"],
            differs: None,
            findings: &[
                ("dns.naptr", "info", "no NAPTR records"),
                ("dns.srv", "warn", "decidedly not available"),
                ("dns.srv", "warn", "!TLS advertised in SRV"),
            ],
        },
        Case {
            name: "only \".\" SRV targets, with an A record for the domain",
            records: vec![
                Rr::Raw("--srv-host=_sips._tcp.sip.test".into()),
                Rr::Raw("--srv-host=_sip._tcp.sip.test".into()),
                Rr::Raw("--srv-host=_sip._udp.sip.test".into()),
                Rr::host(D, &["127.0.0.4"]),
            ],
            uri: "sip:sip.test",
            transport: None,
            sipcheck: &[],
            sip_dig: &["udp:127.0.0.4:5060", "tcp:127.0.0.4:5060"],
            differs: Some(
                "RFC 2782: a target of \".\" means the service is decidedly not available at this domain. RFC 3263 §4.2 falls back to A/AAAA only when no SRV records are found; these exist. sip-dig falls back anyway; sipcheck does not (docs/usage.md: Targets)",
            ),
            findings: &[],
        },
        Case {
            name: "SRV target behind a CNAME, AAAA-only host",
            records: vec![
                srv("_sips._tcp.sip.test", 5061, "alias.sip.test"),
                Rr::Raw("--cname=alias.sip.test,sbc6.sip.test".into()),
                Rr::host("sbc6.sip.test", &["::1"]),
            ],
            uri: "sip:sip.test",
            transport: None,
            sipcheck: &["tls:[::1]:5061"],
            sip_dig: &["tls:[::1]:5061"],
            differs: None,
            findings: &[
                ("dns.srv", "pass", "only TLS is advertised in SRV"),
                ("dns.aaaa", "info", "AAAA records are published"),
            ],
        },
        Case {
            name: "non-terminal NAPTR leading to the SIP services",
            records: with(
                vec![
                    Rr::naptr(D, 10, 10, "", "", "next.sip.test"),
                    Rr::naptr(
                        "next.sip.test",
                        10,
                        10,
                        "S",
                        "SIPS+D2T",
                        "_sips._tcp.sip.test",
                    ),
                    Rr::host("next.sip.test", &["127.0.0.9"]),
                ],
                with(all_srv(), hosts()),
            ),
            uri: "sip:sip.test",
            transport: None,
            sipcheck: &["tls:127.0.0.2:5061"],
            sip_dig: &[
                "tls:127.0.0.2:5061",
                "tcp:127.0.0.2:5060",
                "udp:127.0.0.2:5060",
            ],
            differs: Some(
                "RFC 3403 §4.1: an empty flags field means the replacement is the next domain name to look up. sip-dig does not follow it and queries SRV directly; sipcheck follows it and uses only the services it leads to (RFC 3263 §4.1)",
            ),
            findings: &[("dns.naptr", "pass", "SIPS+D2T (TLS) only")],
        },
        Case {
            name: "NAPTR loop",
            records: with(
                vec![
                    Rr::naptr(D, 10, 10, "", "", "loop.sip.test"),
                    Rr::naptr("loop.sip.test", 10, 10, "", "", "sip.test"),
                ],
                with(all_srv(), hosts()),
            ),
            uri: "sip:sip.test",
            transport: None,
            sipcheck: &[
                "tls:127.0.0.2:5061",
                "tcp:127.0.0.2:5060",
                "udp:127.0.0.2:5060",
            ],
            sip_dig: &[
                "tls:127.0.0.2:5061",
                "tcp:127.0.0.2:5060",
                "udp:127.0.0.2:5060",
            ],
            differs: None,
            findings: &[("dns.naptr", "warn", "NAPTR loop")],
        },
        Case {
            name: ";transport=tcp in the URI",
            records: with(
                vec![
                    naptr(10, 10, "SIPS+D2T", "_sips._tcp.sip.test"),
                    naptr(20, 10, "SIP+D2T", "_sip._tcp.sip.test"),
                ],
                with(all_srv(), hosts()),
            ),
            uri: "sip:sip.test;transport=tcp",
            transport: None,
            sipcheck: &["tcp:127.0.0.2:5060"],
            sip_dig: &["tcp:127.0.0.2:5060"],
            differs: None,
            findings: &[
                ("dns.naptr", "skipped", "not asked"),
                ("dns.naptr", "skipped", "!no NAPTR records"),
                (
                    "dns.srv",
                    "info",
                    "TLS SRV not asked (the URI says ;transport=tcp)",
                ),
                ("dns.srv", "info", "!no TLS SRV"),
            ],
        },
        Case {
            name: "sips: URI on a domain that also publishes UDP",
            records: with(all_srv(), hosts()),
            uri: "sips:sip.test",
            transport: None,
            sipcheck: &["tls:127.0.0.2:5061"],
            sip_dig: &["tls:127.0.0.2:5061"],
            differs: None,
            findings: &[
                ("dns.srv", "info", "TLS advertised in SRV; plaintext"),
                ("dns.srv", "info", "a sips: URI asks for TLS only"),
                ("dns.srv", "info", "!only TLS is advertised"),
            ],
        },
        Case {
            name: "--transport udp narrows the walk",
            records: with(
                vec![
                    naptr(10, 10, "SIPS+D2T", "_sips._tcp.sip.test"),
                    naptr(20, 10, "SIP+D2U", "_sip._udp.sip.test"),
                ],
                with(all_srv(), hosts()),
            ),
            uri: "sip:sip.test",
            transport: Some(("udp", &["--udp"])),
            sipcheck: &["udp:127.0.0.2:5060"],
            sip_dig: &["udp:127.0.0.2:5060"],
            differs: None,
            findings: &[
                ("dns.naptr", "pass", "NAPTR prefers SIPS+D2T"),
                ("dns.naptr", "pass", "not asked"),
                (
                    "dns.srv",
                    "info",
                    "TLS SRV not asked (--transport udp excludes tls)",
                ),
                ("dns.srv", "info", "!no TLS SRV"),
            ],
        },
    ]
}

fn sip_dig(server: SocketAddr, uri: &str, flags: &[&str]) -> Vec<String> {
    let mut conf = tempfile::NamedTempFile::new().unwrap();
    // Sofia's resolver takes the port as its own resolv.conf option, not as host:port.
    writeln!(conf, "nameserver {}\nport {}", server.ip(), server.port()).unwrap();
    let child = Command::new("sip-dig")
        .args(flags)
        .arg(uri)
        .env("SRESOLV_CONF", conf.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sip-dig (Debian sofia-sip-bin, see scripts/setup-test-rig.sh)");
    let out = support::wait_bounded(child, 30);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            // `\t<priority> <weight> <transport> <port> <address>`
            let f: Vec<&str> = l.split_whitespace().collect();
            let [_, _, t, port, addr] = f[..] else {
                return None;
            };
            let ip: std::net::IpAddr = addr.parse().ok()?;
            Some(format!("{t}:{}", SocketAddr::new(ip, port.parse().ok()?)))
        })
        .collect()
}

async fn sipcheck_endpoints(
    server: SocketAddr,
    uri: &str,
    transport: Option<&str>,
) -> Result<Vec<String>, String> {
    let target = Target::parse(uri).unwrap();
    let transports: Vec<Transport> = match transport {
        Some(t) => vec![t.parse().unwrap()],
        None => target.default_transports(),
    };
    let settings = Settings {
        dns_server: Some(server),
        ..Settings::default()
    };
    discover::discover(&target, &transports, None, &settings)
        .await
        .map(|d| d.endpoints.iter().map(|e| e.label()).collect())
        .map_err(|e| e.to_string())
}

fn dns_findings(server: SocketAddr, uri: &str, transport: Option<&str>) -> serde_json::Value {
    let server = server.to_string();
    let mut args = vec![
        "probe",
        uri,
        "--dns-server",
        &server,
        "--probes",
        "dns",
        "--timeout",
        "2s",
        "--format",
        "json",
    ];
    if let Some(t) = transport {
        args.extend(["--transport", t]);
    }
    support::json(&support::sipcheck(&args))
}

fn check_findings(case: &Case, report: &serde_json::Value) {
    for (id, status, phrase) in case.findings {
        let f = support::findings(report, id);
        let f = f
            .first()
            .unwrap_or_else(|| panic!("{}: no {id} in {report:#}", case.name));
        assert_eq!(f["status"], *status, "{}: {f:#}", case.name);
        let summary = f["summary"].as_str().unwrap_or_default();
        match phrase.strip_prefix('!') {
            Some(absent) => assert!(!summary.contains(absent), "{}: {summary}", case.name),
            None => assert!(summary.contains(phrase), "{}: {summary}", case.name),
        }
    }
}

fn set(v: &[impl AsRef<str>]) -> BTreeSet<String> {
    v.iter().map(|s| s.as_ref().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zones_side_by_side_with_sofia_sip_dig() {
    for case in cases() {
        let dns = Dnsmasq::start(D, &case.records);
        let t = case.transport.map(|(t, _)| t);
        let ours = sipcheck_endpoints(dns.addr(), case.uri, t).await;
        let flags = case.transport.map(|(_, f)| f).unwrap_or(&[]);
        let theirs = sip_dig(dns.addr(), case.uri, flags);
        match &ours {
            Ok(eps) => assert_eq!(eps, case.sipcheck, "{}: sipcheck's order", case.name),
            Err(e) => assert!(case.sipcheck.is_empty(), "{}: {e}", case.name),
        }
        assert_eq!(
            set(&theirs),
            set(case.sip_dig),
            "{}: sip-dig answered {theirs:?}",
            case.name
        );
        let same = set(ours.as_deref().unwrap_or(&[])) == set(&theirs);
        assert_eq!(
            same,
            case.differs.is_none(),
            "{}: sipcheck {ours:?}, sip-dig {theirs:?}; a difference needs the RFC sentence that decides",
            case.name
        );
        if ours.is_ok() {
            check_findings(&case, &dns_findings(dns.addr(), case.uri, t));
        }
    }
}

/// Only "." SRV targets: RFC 2782 says the service is "decidedly not available"; RFC 3263 leaves
/// open whether to fall back to A/AAAA. sipcheck does not, and says why.
#[tokio::test]
async fn only_dot_srv_targets_do_not_fall_back_to_a_records() {
    let case = cases().into_iter().nth(4).unwrap();
    let dns = Dnsmasq::start(D, &case.records);
    let e = sipcheck_endpoints(dns.addr(), case.uri, None)
        .await
        .unwrap_err();
    assert!(
        e.contains("decidedly not available") && e.contains("does not fall back"),
        "{e}"
    );
}

/// A DNS server that answers every query with SERVFAIL, except A for the domain (over UDP and TCP),
/// or never answers at all. dnsmasq cannot be made to do either on purpose.
fn failing_dns(silent: bool) -> SocketAddr {
    // The TCP port of the same number can be taken by another test's connection: pick again.
    let (udp, tcp, addr) = (0..50)
        .find_map(|_| {
            let udp = UdpSocket::bind("127.0.0.1:0").ok()?;
            let addr = udp.local_addr().ok()?;
            Some((udp, TcpListener::bind(addr).ok()?, addr))
        })
        .expect("a UDP and TCP port pair on 127.0.0.1");
    let deadline = Instant::now() + Duration::from_secs(60);
    udp.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while Instant::now() < deadline {
            if let Ok((n, from)) = udp.recv_from(&mut buf)
                && !silent
            {
                let _ = udp.send_to(&reply(&buf[..n]), from);
            }
        }
    });
    std::thread::spawn(move || {
        use std::io::Read;
        for s in tcp.incoming().take(200) {
            let Ok(mut s) = s else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let mut len = [0u8; 2];
                    if s.read_exact(&mut len).is_err() {
                        return;
                    }
                    let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
                    if s.read_exact(&mut q).is_err() {
                        return;
                    }
                    if silent {
                        std::thread::sleep(Duration::from_secs(5));
                        return;
                    }
                    let r = reply(&q);
                    let _ = s.write_all(&(r.len() as u16).to_be_bytes());
                    let _ = s.write_all(&r);
                }
            });
        }
    });
    addr
}

/// SERVFAIL for the query, or an A record 127.0.0.2 when it asks A for the domain itself.
fn reply(q: &[u8]) -> Vec<u8> {
    if q.len() < 12 {
        return Vec::new();
    }
    let mut i = 12;
    let mut labels = Vec::new();
    while i < q.len() && q[i] != 0 {
        let n = q[i] as usize;
        labels.push(
            String::from_utf8_lossy(q.get(i + 1..i + 1 + n).unwrap_or_default()).to_lowercase(),
        );
        i += 1 + n;
    }
    let end = (i + 5).min(q.len());
    let qtype = q
        .get(i + 1..i + 3)
        .map(|t| u16::from_be_bytes([t[0], t[1]]));
    let question = &q[12..end];
    let mut r = q[..2].to_vec();
    let answer_a = labels.join(".") == D && qtype == Some(1);
    r.extend_from_slice(if answer_a {
        &[0x81, 0x80]
    } else {
        &[0x81, 0x82]
    });
    r.extend_from_slice(&[0, 1, 0, u8::from(answer_a), 0, 0, 0, 0]);
    r.extend_from_slice(question);
    if answer_a {
        r.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 2]);
    }
    r
}

/// Class 5: SERVFAIL to NAPTR and SRV is a failed lookup (`error`, with the rcode), never "no records".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servfail_is_an_error_not_an_absence() {
    let server = failing_dns(false);
    let theirs = sip_dig(server, "sip:sip.test", &[]);
    // sip-dig falls back to the A record too (RFC 3263 §4.2 only covers a name without records).
    assert!(theirs.iter().all(|t| t.contains("127.0.0.2")), "{theirs:?}");
    let ours = sipcheck_endpoints(server, "sip:sip.test", None)
        .await
        .unwrap();
    assert!(
        ours.iter()
            .all(|e| e.contains("127.0.0.2:5060") || e.contains("127.0.0.2:5061")),
        "{ours:?}"
    );
    let report = dns_findings(server, "sip:sip.test", None);
    let naptr = &support::findings(&report, "dns.naptr")[0];
    assert_eq!(naptr["status"], "error", "{naptr:#}");
    let s = naptr["summary"].as_str().unwrap();
    assert!(
        s.contains("SERVFAIL") && !s.contains("no NAPTR records"),
        "{s}"
    );
    let srv = &support::findings(&report, "dns.srv")[0];
    assert_eq!(srv["status"], "error", "{srv:#}");
    let s = srv["summary"].as_str().unwrap();
    assert!(
        s.contains("SERVFAIL") && !s.contains("no SRV records"),
        "{s}"
    );
    assert_eq!(srv["details"]["queries"][0]["rcode"], "SERVFAIL", "{srv:#}");
    // Class 5/7: the A/AAAA fallback after failed lookups is a guess, and the report says so.
    assert!(
        s.contains("fell back to A/AAAA") && s.contains("may not be the ones the domain publishes"),
        "{s}"
    );
    let incomplete = report["incomplete"].as_str().unwrap_or_default();
    assert!(
        incomplete.contains("SERVFAIL")
            && incomplete.contains("may not be the ones the domain publishes"),
        "{report:#}"
    );
    let target = Target::parse("sip:sip.test").unwrap();
    let settings = Settings {
        dns_server: Some(server),
        ..Settings::default()
    };
    let d = discover::discover(&target, &target.default_transports(), None, &settings)
        .await
        .unwrap();
    for e in &d.endpoints {
        let by = e.discovered_by.join(" / ");
        assert!(
            by.contains("lookups failed") && !by.contains("no usable NAPTR or SRV records"),
            "{by}"
        );
    }
}

/// Class 5: a server that never answers makes discovery fail with the timeout, not "no records".
#[tokio::test]
async fn a_silent_server_is_a_timeout() {
    let server = failing_dns(true);
    let settings = Settings {
        dns_server: Some(server),
        bounds: discover::Bounds {
            budget: Duration::from_secs(3),
            ..discover::Bounds::default()
        },
        ..Settings::default()
    };
    let target = Target::parse("sip.test").unwrap();
    let e = discover::discover(&target, &Transport::ALL, None, &settings)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("timed out") || e.contains("time budget"), "{e}");
    assert!(!e.contains("no A record"), "{e}");
    // A silent resolver is not a zone without records.
    assert!(!e.contains("no usable NAPTR or SRV records"), "{e}");
}
