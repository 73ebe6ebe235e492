//! Issue 15 item 2: a probe measures a trunk's endpoints concurrently, within each address's budget.
//! A fake trunk of 10 UDP endpoints (5 ports on each of two loopback addresses) that answers OPTIONS
//! and silently drops REFER: every endpoint's REFERs must arrive before the first REFER's wait could
//! have ended (a serial probe sends the next endpoint's only after that wait), and no address may
//! receive new requests faster than `--rate` allows. Ordering against the wait, not wall time.

#[allow(unused_imports)]
use crate::support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sipcheck::probe::{Config, Context, Probe};
use sipcheck::probes::refer_policy::ReferPolicy;
use sipcheck::report::Status;
use sipcheck::sip::Message;
use sipcheck::{Target, Transport};
use support::fake::{self, Reply};

const RATE: f64 = 5.0;
const BURST: u32 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refer_policy_measures_endpoints_together_within_the_address_budget() {
    let mut fakes = Vec::new();
    for addr in ["127.0.0.1:0", "127.0.0.2:0"] {
        for _ in 0..5 {
            fakes.push(
                fake::udp(
                    addr,
                    Arc::new(|m: &Message| match m.method() {
                        Some("REFER") => Reply::Silence,
                        _ => Reply::Send(fake::respond(m, 200, "OK", &[])),
                    }),
                )
                .await,
            );
        }
    }
    let config = Config {
        rate: RATE,
        burst: BURST,
        ..Config::default()
    };
    let wait = config.timers.give_up_after();
    let endpoints: Vec<sipcheck::Endpoint> = fakes
        .iter()
        .map(|f| {
            sipcheck::Endpoint::new(
                Transport::Udp,
                f.addr.ip(),
                sipcheck::Port::new(f.addr.port()).unwrap(),
            )
        })
        .collect();
    let ctx = Context::new(
        Target::parse("127.0.0.1").unwrap(),
        endpoints.clone(),
        config,
    );
    let findings = tokio::time::timeout(Duration::from_secs(120), ReferPolicy.run(&ctx))
        .await
        .expect("bounded by the transaction timeout");

    // Every endpoint measured, each REFER unanswered.
    assert_eq!(findings.len(), endpoints.len(), "{findings:#?}");
    for f in &findings {
        assert_eq!(f.status, Status::Warn, "{f:#?}");
        assert!(
            f.summary.contains("no answer to an out-of-dialog REFER"),
            "{}",
            f.summary
        );
    }

    // Overlap: the first REFER anywhere, then every endpoint's two REFERs before its wait ended.
    let per_fake: Vec<Vec<(Instant, String)>> =
        fakes.iter().map(fake::Fake::first_arrivals).collect();
    let refers: Vec<Vec<Instant>> = per_fake
        .iter()
        .map(|a| {
            a.iter()
                .filter(|(_, m)| m == "REFER")
                .map(|(t, _)| *t)
                .collect()
        })
        .collect();
    let first = refers.iter().flatten().min().copied().expect("a REFER");
    for (f, r) in fakes.iter().zip(&refers) {
        assert_eq!(r.len(), 2, "{}: both REFERs, once each", f.addr);
        for t in r {
            assert!(
                t.duration_since(first) < wait,
                "{}: a REFER {:?} after the first one, which waits {wait:?}: endpoints were measured one after another",
                f.addr,
                t.duration_since(first)
            );
        }
    }

    // The budget per address, counted on what the fakes received: in any window of one second, at
    // most the burst plus one second's tokens (plus one for a window's edge).
    for ip in ["127.0.0.1", "127.0.0.2"] {
        let at: Vec<Instant> = fakes
            .iter()
            .zip(&per_fake)
            .filter(|(f, _)| f.addr.ip().to_string() == ip)
            .flat_map(|(_, a)| a.iter().map(|(t, _)| *t))
            .collect();
        assert_eq!(at.len(), 15, "{ip}: 5 OPTIONS and 10 REFERs");
        let within = fake::most_in_one_second(&at);
        assert!(
            within <= BURST as usize + RATE as usize + 1,
            "{ip}: {within} new requests within one second (budget {RATE}/s, burst {BURST})"
        );
    }
}
