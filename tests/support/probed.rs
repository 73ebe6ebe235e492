//! Findings written by the real probes, for the report tests (policy, diff, compare, schema): each
//! helper starts a server that behaves as asked (the hand-made TLS hello server, a rustls server with
//! a certificate of the given validity, a UDP fake answering OPTIONS), runs `sipcheck::scan` with the
//! one finding selected, and returns the finding the probe wrote. Its details are the probe's own, so
//! a renamed field fails the tests that read it instead of passing them with a shape no probe writes.
//!
//! The finding is then placed on the fixed endpoint of [`crate::handmade::report`] (the servers run on
//! free ports), so two reports of "the same trunk" pair up in a diff.

#![allow(dead_code)]

use std::time::Duration;

use crate::handmade::{at, tls};
use crate::support::certs::{LeafSpec, TestPki};
use crate::support::fake;
use crate::tls_hello_fake::{self, code, wire};
use sipcheck::probe::Config;
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::{Finding, Report, Target, Transport};

async fn one(target: String, transport: Transport, id: &str, cfg: Config) -> Finding {
    let mut o = ScanOptions::new(Target::parse(&target).unwrap());
    o.transports = Some(vec![transport]);
    if transport == Transport::Tls {
        let port: u16 = target.rsplit(':').next().unwrap().parse().unwrap();
        o.tls_port = sipcheck::Port::new(port);
    }
    o.selectors = vec![id.into()];
    o.config = cfg;
    o.config.timers.timeout = Duration::from_secs(2);
    let r: Report = tokio::time::timeout(Duration::from_secs(90), scan(o))
        .await
        .expect("scan hung")
        .expect("scan");
    r.findings
        .iter()
        .find(|f| f.id == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {id} in {:#?}", r.findings))
}

/// `tls.versions` from a server accepting these versions (the others refused with an alert).
pub async fn versions(accepted: &[&str]) -> Finding {
    let accepts = accepted
        .iter()
        .map(|v| {
            let suite = match *v {
                "TLSv1.3" => "TLS_AES_128_GCM_SHA256",
                "TLSv1.2" => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                _ => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            };
            (wire(v), vec![code(suite)])
        })
        .collect();
    let addr = tls_hello_fake::start(accepts).await;
    tls(one(
        addr.to_string(),
        Transport::Tls,
        "tls.versions",
        Config::default(),
    )
    .await)
}

/// `tls.cipher_suites` from a TLS 1.2 server accepting these suites, in this order of preference.
pub async fn suites(list: &[&str]) -> Finding {
    let codes = list.iter().map(|s| code(s)).collect();
    let addr = tls_hello_fake::start(vec![(tls_hello_fake::TLS12, codes)]).await;
    tls(one(
        addr.to_string(),
        Transport::Tls,
        "tls.cipher_suites",
        Config::default(),
    )
    .await)
}

/// A TLS server (rustls, answering OPTIONS) whose leaf certificate expires in `days` days (negative:
/// expired), and the configuration that trusts its CA.
async fn cert_server(days: i64) -> (fake::Fake, TestPki, Config) {
    cert_server_with(LeafSpec {
        not_after_days: days,
        ..LeafSpec::default()
    })
    .await
}

async fn cert_server_with(spec: LeafSpec) -> (fake::Fake, TestPki, Config) {
    let pki = TestPki::new(&spec);
    let f = fake::tls("127.0.0.1:0", fake::ok_with(&[]), &pki).await;
    let cfg = Config {
        tls: sipcheck::transport::TlsSettings::from_ca_file(pki.ca_pem.to_str().unwrap()).unwrap(),
        domain: "sip.test".into(),
        ..Config::default()
    };
    (f, pki, cfg)
}

/// `sips.options` from a SIPS server whose leaf certificate has about `days` days left.
pub async fn sips(days: i64) -> Finding {
    let (f, _pki, cfg) = cert_server(days).await;
    tls(one(f.addr.to_string(), Transport::Tls, "sips.options", cfg).await)
}

/// `tls.certificate` from a TLS server whose leaf certificate has about `days` days left.
pub async fn certificate(days: i64) -> Finding {
    let (f, _pki, cfg) = cert_server(days).await;
    tls(one(f.addr.to_string(), Transport::Tls, "tls.certificate", cfg).await)
}

/// `tls.certificate` from a TLS server whose leaf certificate carries these extended key usages.
pub async fn certificate_with_eku(eku: Vec<rcgen::ExtendedKeyUsagePurpose>) -> Finding {
    let (f, _pki, cfg) = cert_server_with(LeafSpec {
        eku,
        ..LeafSpec::default()
    })
    .await;
    tls(one(f.addr.to_string(), Transport::Tls, "tls.certificate", cfg).await)
}

/// `sip.server_header` from a UDP trunk whose OPTIONS answer names its product with (or without) a
/// version.
pub async fn server_header(version: bool) -> Finding {
    let header: &'static [&'static str] = if version {
        &["Server: FakeSBC/4.2.1"]
    } else {
        &["Server: FakeSBC"]
    };
    let f = fake::udp("127.0.0.1:0", fake::ok_with(header)).await;
    let found = one(
        f.addr.to_string(),
        Transport::Udp,
        "sip.server_header",
        Config::default(),
    )
    .await;
    at(found, Transport::Udp, 5060)
}

/// `auth.challenge` from a UDP trunk that answers REGISTER with a 401 carrying one Digest challenge
/// per algorithm in `algorithms`, or (none given) with 200 OK: nothing challenged.
pub async fn auth_challenge(algorithms: &[&str]) -> Finding {
    let headers: Vec<String> = algorithms
        .iter()
        .map(|a| {
            format!(
                r#"WWW-Authenticate: Digest realm="fake", nonce="n1", qop="auth", algorithm={a}"#
            )
        })
        .collect();
    let f = fake::udp(
        "127.0.0.1:0",
        std::sync::Arc::new(move |m: &sipcheck::sip::Message| {
            let extra: Vec<&str> = headers.iter().map(String::as_str).collect();
            fake::Reply::Send(match m.method() {
                Some("REGISTER") if !extra.is_empty() => {
                    fake::respond(m, 401, "Unauthorized", &extra)
                }
                _ => fake::respond(m, 200, "OK", &[]),
            })
        }),
    )
    .await;
    let found = one(
        f.addr.to_string(),
        Transport::Udp,
        "auth.challenge",
        Config::default(),
    )
    .await;
    at(found, Transport::Udp, 5060)
}

/// `secagree.rfc3329` from a UDP trunk that answers `Require: sec-agree` with 494 and a
/// `Security-Server` list (supported; a mismatched `Security-Verify` is refused with 494 again), or
/// with 420 Bad Extension (not supported).
pub async fn secagree(supported: bool) -> Finding {
    let f = fake::udp(
        "127.0.0.1:0",
        std::sync::Arc::new(move |m: &sipcheck::sip::Message| {
            let requires = m
                .list_header("Require")
                .iter()
                .any(|t| t.eq_ignore_ascii_case("sec-agree"));
            fake::Reply::Send(match (requires, supported) {
                (false, _) => fake::respond(m, 200, "OK", &[]),
                (true, true) => fake::respond(
                    m,
                    494,
                    "Security Agreement Required",
                    &["Security-Server: tls;q=0.2", "Require: sec-agree"],
                ),
                (true, false) => {
                    fake::respond(m, 420, "Bad Extension", &["Unsupported: sec-agree"])
                }
            })
        }),
    )
    .await;
    let found = one(
        f.addr.to_string(),
        Transport::Udp,
        "secagree.rfc3329",
        Config::default(),
    )
    .await;
    at(found, Transport::Udp, 5060)
}

/// `robustness.malformed` from a UDP trunk that answers every message with 200 OK, or that falls
/// silent for good after the `SIP/7.0` case (`dies`).
pub async fn malformed(dies: bool) -> Finding {
    let dead = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let f = fake::udp(
        "127.0.0.1:0",
        std::sync::Arc::new(move |m: &sipcheck::sip::Message| {
            use std::sync::atomic::Ordering;
            if let sipcheck::sip::StartLine::Request { version, .. } = &m.start
                && version == "SIP/7.0"
                && dies
            {
                dead.store(true, Ordering::SeqCst);
            }
            if dead.load(Ordering::SeqCst) {
                fake::Reply::Silence
            } else {
                fake::Reply::Send(fake::respond(m, 200, "OK", &[]))
            }
        }),
    )
    .await;
    let cfg = Config {
        rate: 1000.0,
        burst: 50,
        ..Config::default()
    };
    let found = one(
        f.addr.to_string(),
        Transport::Udp,
        "robustness.malformed",
        cfg,
    )
    .await;
    at(found, Transport::Udp, 5060)
}

/// A fake trunk answering OPTIONS on UDP and TCP (one port) and TLS (the next free port), each
/// answer naming the product in a `Server` header; whole reports of it come from [`Trunk::scan`].
pub struct Trunk {
    udp: fake::Fake,
    _tcp: fake::Fake,
    tls: fake::Fake,
    _pki: TestPki,
    cfg: Config,
}

impl Trunk {
    pub async fn start(server: &'static [&'static str]) -> Trunk {
        let pki = TestPki::new(&LeafSpec::default());
        let (udp, tcp) = fake::udp_and_tcp(fake::ok_with(server)).await;
        let tls = fake::tls("127.0.0.1:0", fake::ok_with(server), &pki).await;
        let cfg = Config {
            tls: sipcheck::transport::TlsSettings::from_ca_file(pki.ca_pem.to_str().unwrap())
                .unwrap(),
            domain: "sip.test".into(),
            ..Config::default()
        };
        Trunk {
            udp,
            _tcp: tcp,
            tls,
            _pki: pki,
            cfg,
        }
    }

    /// Runs from now on hold at most `n` connections to the trunk at once (`--max-connections`).
    pub fn max_connections(&mut self, n: usize) {
        self.cfg.max_connections = n;
    }

    /// The whole report of a run over these transports and probes, judged by `policy` if given.
    pub async fn scan(
        &self,
        transports: &[Transport],
        probes: &[&str],
        policy: Option<&str>,
    ) -> Report {
        let mut o = ScanOptions::new(Target::parse(&self.udp.addr.to_string()).unwrap());
        o.transports = Some(transports.to_vec());
        o.tls_port = sipcheck::Port::new(self.tls.addr.port());
        o.selectors = probes.iter().map(|p| p.to_string()).collect();
        o.config = self.cfg.clone();
        o.config.timers.timeout = Duration::from_secs(2);
        o.policy = policy.map(|p| sipcheck::report::policy::load(p).unwrap());
        tokio::time::timeout(Duration::from_secs(90), scan(o))
            .await
            .expect("scan hung")
            .expect("scan")
    }
}
