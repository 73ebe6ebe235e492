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
    let pki = TestPki::new(&LeafSpec {
        not_after_days: days,
        ..LeafSpec::default()
    });
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
