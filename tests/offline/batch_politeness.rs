//! A batch's trunks that share an SBC address share its politeness budget: six trunks on one loopback
//! address, scanned at once, together receive no more new requests in any second than one trunk's
//! `--rate` and burst allow (each with its own budget, the first instant alone would bring 12).

#[allow(unused_imports)]
use crate::support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sipcheck::batch::scan_all;
use sipcheck::exit::FailOn;
use sipcheck::sip::Message;
use sipcheck::{Config, ScanOptions, Target, Transport};
use support::fake::{self, Reply};

const RATE: f64 = 4.0;
const BURST: u32 = 2;
const TRUNKS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trunks_on_one_address_share_its_budget() {
    let mut fakes = Vec::new();
    for _ in 0..TRUNKS {
        fakes.push(
            fake::udp(
                "127.0.0.1:0",
                Arc::new(|m: &Message| Reply::Send(fake::respond(m, 200, "OK", &[]))),
            )
            .await,
        );
    }
    let mut template = ScanOptions::new(Target::parse("127.0.0.1").unwrap());
    template.transports = Some(vec![Transport::Udp]);
    template.selectors = vec!["transport".into(), "sip".into()];
    template.config = Config {
        rate: RATE,
        burst: BURST,
        ..Config::default()
    };
    let targets: Vec<String> = fakes.iter().map(|f| f.addr.to_string()).collect();
    let items = tokio::time::timeout(
        Duration::from_secs(120),
        scan_all(targets, template, TRUNKS, FailOn::Fail, true, |_, _| {}),
    )
    .await
    .expect("bounded");
    assert!(items.iter().all(|i| i.report.is_some()), "{items:#?}");

    // New requests (not retransmissions) at the address, from every trunk, in arrival order.
    let at: Vec<Instant> = fakes
        .iter()
        .flat_map(|f| f.first_arrivals().into_iter().map(|(t, _)| t))
        .collect();
    assert!(at.len() >= 2 * TRUNKS, "{} requests", at.len());
    let within = fake::most_in_one_second(&at);
    assert!(
        within <= BURST as usize + RATE as usize + 1,
        "{within} new requests within one second at one address (budget {RATE}/s, burst {BURST})"
    );
}
