//! `media.rtp_bleed` against two in-process media relays, one that latches onto the newest RTP source
//! (the RTP bleed flaw) and one that keeps sending to the negotiated address, and against a real
//! baresip (measured: it keeps sending to the address in our offer). Every call is hung up.

#[allow(unused_imports)]
use crate::{baresip, media_fake, support};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use baresip::{Baresip, MediaMode};
use media_fake::{CallFake, offer_rtp, response};
use sipcheck::probe::Config;
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::sip::Message;
use sipcheck::{Status, Target, Transport};
use support::{findings, sipcheck};

/// Sends 20 ms RTP to the offer's address for a few seconds; with `latch`, to the source of the newest
/// RTP packet received instead.
async fn relay(sock: tokio::net::UdpSocket, mut to: SocketAddr, latch: bool) {
    let mut buf = vec![0u8; 2048];
    let until = tokio::time::Instant::now() + Duration::from_secs(9);
    let mut seq = 0u16;
    while tokio::time::Instant::now() < until {
        let pkt = sipcheck::media::rtp::rtp_packet(5150, seq, u32::from(seq) * 160);
        seq = seq.wrapping_add(1);
        let _ = sock.send_to(&pkt, to).await;
        if let Ok(Ok((_, from))) =
            tokio::time::timeout(Duration::from_millis(20), sock.recv_from(&mut buf)).await
            && latch
        {
            to = from;
        }
    }
}

fn trunk(latch: bool) -> media_fake::Handler {
    Arc::new(move |m: &Message| match m.method().unwrap_or_default() {
        "OPTIONS" | "BYE" | "CANCEL" => vec![response(m, 200, "OK", &[], None)],
        "INVITE" => {
            let Some(to) = offer_rtp(m) else {
                return vec![response(m, 488, "Not Acceptable Here", &[], None)];
            };
            let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            sock.set_nonblocking(true).unwrap();
            let port = sock.local_addr().unwrap().port();
            tokio::spawn(relay(
                tokio::net::UdpSocket::from_std(sock).unwrap(),
                to,
                latch,
            ));
            let sdp = format!(
                "v=0\r\no=fake 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                 m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            );
            vec![response(
                m,
                200,
                "OK",
                &["Contact: <sip:bob@127.0.0.1>".into()],
                Some(&sdp),
            )]
        }
        _ => vec![],
    })
}

async fn run(fake: &CallFake, opt_in: bool) -> sipcheck::Report {
    let mut cfg = Config::default();
    cfg.timers.timeout = Duration::from_secs(2);
    cfg.calls.call_to = Some("bob".into());
    cfg.calls.allow = true;
    cfg.calls.rtp_bleed = opt_in;
    let mut o = ScanOptions::new(Target::parse(&fake.target()).unwrap());
    o.transports = Some(vec![Transport::Udp]);
    o.selectors = vec!["media.rtp_bleed".into()];
    o.config = cfg;
    scan(o).await.unwrap()
}

async fn hung_up(fake: &CallFake) {
    let until = std::time::Instant::now() + Duration::from_secs(3);
    while fake.count("BYE") < 1 && std::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fake.count("BYE"), 1, "{:?}", fake.methods());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_latching_relay_fails() {
    let fake = CallFake::start(trunk(true)).await;
    let r = run(&fake, true).await;
    let f = r.findings_with_id("media.rtp_bleed").next().unwrap();
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(f.summary.contains("RTP bleed"), "{}", f.summary);
    let b = &f.details["bleed"];
    assert!(b["received_on_second_port"].as_u64().unwrap() > 0, "{b:#}");
    assert_eq!(b["sent_from_second_port"], 10);
    hung_up(&fake).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_that_keeps_the_negotiated_address_passes() {
    let fake = CallFake::start(trunk(false)).await;
    let r = run(&fake, true).await;
    let f = r.findings_with_id("media.rtp_bleed").next().unwrap();
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    let b = &f.details["bleed"];
    assert_eq!(b["received_on_second_port"], 0, "{b:#}");
    assert!(b["received_on_call_port_after"].as_u64().unwrap() > 0);
    hung_up(&fake).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_opt_in_no_call_is_placed() {
    let fake = CallFake::start(trunk(true)).await;
    let r = run(&fake, false).await;
    let f = r.findings_with_id("media.rtp_bleed").next().unwrap();
    assert_eq!(f.status, Status::Skipped, "{f:#?}");
    assert!(f.summary.contains("--rtp-bleed"));
    assert_eq!(fake.count("INVITE"), 0);
}

/// Measured with baresip 1.0.0: it keeps sending to the address in our offer, so it passes.
#[test]
fn baresip_keeps_media_on_the_negotiated_address() {
    let b = Baresip::start(MediaMode::Plain, "127.0.0.9");
    let out = sipcheck(&[
        "probe",
        &b.target(),
        "--transport",
        "udp",
        "--probes",
        "media.rtp_bleed",
        "--rtp-bleed",
        "--call-to",
        &b.user,
        "--allow-calls",
        "--timeout",
        "3s",
        "--format",
        "json",
    ]);
    let r = support::json(&out);
    let f = findings(&r, "media.rtp_bleed");
    assert_eq!(f[0]["status"], "pass", "{:#}\n{}", f[0], b.log_text());
    assert_eq!(f[0]["details"]["bleed"]["received_on_second_port"], 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while b.calls_answered_and_closed().1 < 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(b.calls_answered_and_closed(), (1, 1), "{}", b.log_text());
}
