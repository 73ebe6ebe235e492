//! RFC 3263 discovery against a real DNS server (dnsmasq, started per test): the shapes a carrier's
//! zone can take, and the bounds that keep a hostile zone from running discovery away.

#[allow(unused_imports)]
use crate::dnsmasq;

use dnsmasq::{Dnsmasq, Rr};
use sipcheck::discover::{self, Discovery, Mode, Settings};
use sipcheck::{Target, Transport};

const ALL: [Transport; 3] = Transport::ALL;

async fn run(dns: &Dnsmasq, target: &str, transports: &[Transport]) -> sipcheck::Result<Discovery> {
    let settings = Settings {
        dns_server: Some(dns.addr()),
        ..Settings::default()
    };
    discover::discover(&Target::parse(target).unwrap(), transports, None, &settings).await
}

fn labels(d: &Discovery) -> Vec<String> {
    d.endpoints.iter().map(|e| e.label()).collect()
}

#[tokio::test]
async fn naptr_then_srv_then_a_and_aaaa_in_order() {
    let dns = Dnsmasq::start(
        "sip.test",
        &[
            // Listed out of order: discovery must sort by order, then preference.
            Rr::naptr("sip.test", 20, 10, "S", "SIP+D2U", "_sip._udp.sip.test"),
            Rr::naptr("sip.test", 10, 10, "S", "SIPS+D2T", "_sips._tcp.sip.test"),
            Rr::naptr("sip.test", 10, 20, "S", "SIP+D2T", "_sip._tcp.sip.test"),
            Rr::naptr("sip.test", 30, 10, "S", "SIP+D2W", "_sip._ws.sip.test"),
            Rr::srv("_sips._tcp.sip.test", 20, 10, 5071, "sbc2.sip.test"),
            Rr::srv("_sips._tcp.sip.test", 10, 10, 5061, "sbc1.sip.test"),
            Rr::srv("_sip._tcp.sip.test", 10, 10, 5060, "sbc1.sip.test"),
            Rr::srv("_sip._udp.sip.test", 10, 10, 5060, "sbc1.sip.test"),
            Rr::host("sbc1.sip.test", &["127.0.0.2", "::1"]),
            Rr::host("sbc2.sip.test", &["127.0.0.3"]),
        ],
    );
    let d = run(&dns, "sip.test", &ALL).await.unwrap();
    assert_eq!(d.mode, Mode::Rfc3263);
    assert_eq!(
        labels(&d),
        [
            "tls:127.0.0.2:5061",
            "tls:[::1]:5061",
            "tls:127.0.0.3:5071",
            "tcp:127.0.0.2:5060",
            "tcp:[::1]:5060",
            "udp:127.0.0.2:5060",
            "udp:[::1]:5060",
        ]
    );
    let chain = &d.endpoints[2].discovered_by;
    assert_eq!(chain.len(), 3, "{chain:?}");
    assert!(
        chain[0].starts_with("NAPTR sip.test 10 10 \"S\" \"SIPS+D2T\""),
        "{chain:?}"
    );
    assert!(
        chain[1].starts_with("SRV _sips._tcp.sip.test 20 10 5071 → sbc2.sip.test"),
        "{chain:?}"
    );
    assert_eq!(chain[2], "A sbc2.sip.test → 127.0.0.3");
    assert_eq!(d.endpoints[1].discovered_by[2], "AAAA sbc1.sip.test → ::1");
    let ws = d.naptr.iter().find(|r| r.service == "SIP+D2W").unwrap();
    assert!(ws.used.contains("not probed"), "{ws:?}");
    assert!(d.cut.is_empty(), "{:?}", d.cut);
}

#[tokio::test]
async fn selected_transports_filter_naptr_services() {
    let dns = Dnsmasq::start(
        "sip.test",
        &[
            Rr::naptr("sip.test", 10, 10, "S", "SIPS+D2T", "_sips._tcp.sip.test"),
            Rr::naptr("sip.test", 20, 10, "S", "SIP+D2U", "_sip._udp.sip.test"),
            Rr::srv("_sips._tcp.sip.test", 10, 10, 5061, "sbc1.sip.test"),
            Rr::srv("_sip._udp.sip.test", 10, 10, 5060, "sbc1.sip.test"),
            Rr::host("sbc1.sip.test", &["127.0.0.2"]),
        ],
    );
    let d = run(&dns, "sips:sip.test", &[Transport::Tls]).await.unwrap();
    assert_eq!(labels(&d), ["tls:127.0.0.2:5061"]);
    let udp = d.naptr.iter().find(|r| r.service == "SIP+D2U").unwrap();
    assert_eq!(udp.used, "not probed: transport not selected");
}

#[tokio::test]
async fn srv_directly_when_there_is_no_naptr() {
    let dns = Dnsmasq::start(
        "sip.test",
        &[
            Rr::srv("_sip._udp.sip.test", 10, 10, 5062, "sbc1.sip.test"),
            Rr::srv("_sip._tcp.sip.test", 10, 10, 5062, "sbc1.sip.test"),
            Rr::host("sbc1.sip.test", &["127.0.0.2"]),
            Rr::host("sip.test", &["127.0.0.9"]),
        ],
    );
    let d = run(&dns, "sip.test", &ALL).await.unwrap();
    assert!(d.naptr.is_empty());
    assert_eq!(labels(&d), ["tcp:127.0.0.2:5062", "udp:127.0.0.2:5062"]);
    assert_eq!(d.srv_absent, ["_sips._tcp.sip.test"]);
    assert!(d.endpoints[0].discovered_by[0].starts_with("SRV _sip._tcp.sip.test"));
}

#[tokio::test]
async fn default_ports_on_a_and_aaaa_when_neither_naptr_nor_srv() {
    let dns = Dnsmasq::start("sip.test", &[Rr::host("sip.test", &["127.0.0.4", "::1"])]);
    let d = run(&dns, "sip.test", &ALL).await.unwrap();
    assert_eq!(
        labels(&d),
        [
            "udp:127.0.0.4:5060",
            "udp:[::1]:5060",
            "tcp:127.0.0.4:5060",
            "tcp:[::1]:5060",
            "tls:127.0.0.4:5061",
            "tls:[::1]:5061",
        ]
    );
    assert!(d.endpoints[0].discovered_by[0].contains("no usable NAPTR or SRV"));
    assert_eq!(d.srv_absent.len(), 3);
}

#[tokio::test]
async fn explicit_port_and_no_discovery_use_a_and_aaaa_only() {
    let dns = Dnsmasq::start(
        "sip.test",
        &[
            Rr::naptr("sip.test", 10, 10, "S", "SIPS+D2T", "_sips._tcp.sip.test"),
            Rr::srv("_sips._tcp.sip.test", 10, 10, 5061, "sbc1.sip.test"),
            Rr::host("sbc1.sip.test", &["127.0.0.2"]),
            Rr::host("sip.test", &["127.0.0.5"]),
        ],
    );
    let d = run(&dns, "sip.test:5080", &ALL).await.unwrap();
    assert_eq!(d.mode, Mode::ExplicitPort);
    assert_eq!(
        labels(&d),
        [
            "udp:127.0.0.5:5080",
            "tcp:127.0.0.5:5080",
            "tls:127.0.0.5:5081"
        ]
    );
    assert!(d.queries.iter().all(|q| q.kind == "A" || q.kind == "AAAA"));

    let settings = Settings {
        dns_server: Some(dns.addr()),
        no_discovery: true,
        ..Settings::default()
    };
    let d = discover::discover(
        &Target::parse("sip.test").unwrap(),
        &[Transport::Tls],
        None,
        &settings,
    )
    .await
    .unwrap();
    assert_eq!(d.mode, Mode::NoDiscovery);
    assert_eq!(labels(&d), ["tls:127.0.0.5:5061"]);
}

#[tokio::test]
async fn srv_target_that_does_not_resolve_is_reported_and_skipped() {
    let dns = Dnsmasq::start(
        "sip.test",
        &[
            Rr::srv("_sips._tcp.sip.test", 10, 10, 5061, "ghost.sip.test"),
            Rr::srv("_sips._tcp.sip.test", 20, 10, 5061, "sbc1.sip.test"),
            Rr::host("sbc1.sip.test", &["127.0.0.2"]),
        ],
    );
    let d = run(&dns, "sip.test", &[Transport::Tls]).await.unwrap();
    assert_eq!(labels(&d), ["tls:127.0.0.2:5061"]);
    assert_eq!(d.unresolved.len(), 1, "{:?}", d.unresolved);
    assert!(
        d.unresolved[0].starts_with("ghost.sip.test: NXDOMAIN"),
        "{:?}",
        d.unresolved
    );

    // When no target resolves there is nothing to probe: a resolve error (exit 3 in the CLI).
    let dns = Dnsmasq::start(
        "sip.test",
        &[Rr::srv(
            "_sips._tcp.sip.test",
            10,
            10,
            5061,
            "ghost.sip.test",
        )],
    );
    let e = run(&dns, "sip.test", &[Transport::Tls]).await.unwrap_err();
    assert!(
        matches!(&e, sipcheck::Error::Resolve { reason, .. } if reason.contains("ghost.sip.test")),
        "{e}"
    );
}

#[tokio::test]
async fn naptr_loop_is_cut_and_reported() {
    let dns = Dnsmasq::start(
        "sip.test",
        &[
            // Non-terminal NAPTRs (empty flags) pointing at each other.
            Rr::naptr("sip.test", 10, 10, "", "SIP+D2T", "a.sip.test"),
            Rr::naptr("a.sip.test", 10, 10, "", "SIP+D2T", "sip.test"),
            Rr::naptr("sip.test", 20, 10, "S", "SIPS+D2T", "_sips._tcp.sip.test"),
            Rr::srv("_sips._tcp.sip.test", 10, 10, 5061, "sbc1.sip.test"),
            Rr::host("sbc1.sip.test", &["127.0.0.2"]),
        ],
    );
    let d = run(&dns, "sip.test", &ALL).await.unwrap();
    assert!(
        d.cut
            .iter()
            .any(|c| c.starts_with("NAPTR loop: sip.test was reached again")),
        "{:?}",
        d.cut
    );
    // The loop is cut, and the terminal record next to it is still followed.
    assert_eq!(labels(&d), ["tls:127.0.0.2:5061"]);
    assert!(d.queries.iter().filter(|q| q.kind == "NAPTR").count() <= 2);
}

#[tokio::test]
async fn absurd_record_counts_are_capped_and_reported() {
    const N_SRV: u16 = 40;
    let mut rrs: Vec<Rr> = (0..40)
        .map(|i| {
            Rr::naptr(
                "sip.test",
                10,
                i,
                "S",
                "SIPS+D2T",
                &format!("_sips{i}._tcp.sip.test"),
            )
        })
        .collect();
    rrs.extend(
        (0..N_SRV).map(|i| Rr::srv("_sips0._tcp.sip.test", 10, 10, 5061 + i, "sbc1.sip.test")),
    );
    rrs.push(Rr::host("sbc1.sip.test", &["127.0.0.2"]));
    let dns = Dnsmasq::start("sip.test", &rrs);
    let d = run(&dns, "sip.test", &ALL).await.unwrap();
    let bounds = discover::Bounds::default();
    assert!(
        d.cut.iter().any(|c| c.contains("40 NAPTR records")),
        "{:?}",
        d.cut
    );
    assert!(
        d.cut.iter().any(|c| c.contains("40 SRV records")),
        "{:?}",
        d.cut
    );
    assert_eq!(d.naptr.len(), bounds.max_naptr);
    assert_eq!(d.endpoints.len(), bounds.max_srv);
    assert!(d.queries.len() <= bounds.max_queries);
}

#[tokio::test]
async fn nxdomain_is_a_resolve_error() {
    let dns = Dnsmasq::start("sip.test", &[Rr::host("other.sip.test", &["127.0.0.2"])]);
    let e = run(&dns, "nope.sip.test", &ALL).await.unwrap_err();
    assert!(
        matches!(&e, sipcheck::Error::Resolve { reason, .. } if reason.starts_with("NXDOMAIN")),
        "{e}"
    );
}

#[tokio::test]
async fn a_transport_in_the_uri_skips_naptr_and_asks_one_srv() {
    let dns = Dnsmasq::start(
        "sip.test",
        &[
            Rr::naptr("sip.test", 10, 10, "S", "SIPS+D2T", "_sips._tcp.sip.test"),
            Rr::srv("_sips._tcp.sip.test", 10, 10, 5061, "sbc1.sip.test"),
            Rr::srv("_sip._tcp.sip.test", 10, 10, 5070, "sbc1.sip.test"),
            Rr::host("sbc1.sip.test", &["127.0.0.2"]),
        ],
    );
    let target = Target::parse("sip:sip.test;transport=tcp").unwrap();
    let d = run(
        &dns,
        "sip:sip.test;transport=tcp",
        &target.default_transports(),
    )
    .await
    .unwrap();
    assert_eq!(labels(&d), ["tcp:127.0.0.2:5070"]);
    // NAPTR is recorded as not asked, with the reason, so no finding can describe it as absent.
    assert!(
        d.queries
            .iter()
            .filter(|q| q.kind == "NAPTR")
            .all(
                |q| q.outcome == sipcheck::discover::model::Outcome::NotAsked && q.reason.is_some()
            ),
        "{:?}",
        d.queries
    );
}
