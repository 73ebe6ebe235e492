//! No call outlives the run: every probe that places calls (media, call.refer, media.rtp_bleed,
//! auth.invite_unauthenticated) runs against one fake trunk that records each dialog, and every INVITE
//! the trunk answered got a BYE, and every one it left ringing got a CANCEL.

#[allow(unused_imports)]
use crate::{media_fake, support};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use media_fake::{CallFake, KEY30, response, sdes_answer};
use sipcheck::probe::Config;
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::sip::Message;
use sipcheck::{Target, Transport};

const PLAIN: &str = "v=0\r\no=fake 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// Answers plain and SDES offers (180 then 200), rings forever on a DTLS-SRTP offer, accepts REFER
/// without ever notifying.
fn trunk() -> media_fake::Handler {
    Arc::new(|m: &Message| match m.method().unwrap_or_default() {
        "OPTIONS" | "BYE" | "CANCEL" => vec![response(m, 200, "OK", &[], None)],
        "REFER" => vec![response(m, 202, "Accepted", &[], None)],
        "INVITE" => {
            let body = String::from_utf8_lossy(&m.body).to_string();
            let ringing = response(m, 180, "Ringing", &[], None);
            if body.contains("UDP/TLS") {
                return vec![ringing];
            }
            let sdp = if body.contains("RTP/SAVP") {
                sdes_answer(
                    9,
                    &format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY30}\r\n"),
                )
            } else {
                PLAIN.to_string()
            };
            let contact = ["Contact: <sip:bob@127.0.0.1>".to_string()];
            vec![ringing, response(m, 200, "OK", &contact, Some(&sdp))]
        }
        _ => vec![],
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn every_dialog_gets_bye_or_cancel() {
    let fake = CallFake::start(trunk()).await;
    let mut cfg = Config::default();
    cfg.timers.timeout = Duration::from_secs(2);
    cfg.calls.call_to = Some("bob".into());
    cfg.calls.allow = true;
    cfg.calls.refer_to = Some("carol".into());
    cfg.calls.rtp_bleed = true;
    cfg.calls.max_calls = 12;
    let mut o = ScanOptions::new(Target::parse(&fake.target()).unwrap());
    o.transports = Some(vec![Transport::Udp]);
    o.selectors = vec![
        "media".into(),
        "call.refer".into(),
        "auth.invite_unauthenticated".into(),
    ];
    o.config = cfg;
    let r = scan(o).await.unwrap();
    for id in ["media.sdes", "call.refer", "media.rtp_bleed"] {
        assert!(r.findings_with_id(id).next().is_some(), "{id} ran");
    }
    // Per Call-ID: did the fake answer it, and what ended it. The last BYE may still be in flight.
    let tally = || {
        // (invited, answered, BYE seen, CANCEL seen)
        let mut calls: HashMap<String, (bool, bool, bool, bool)> = HashMap::new();
        for m in fake.requests.lock().unwrap().iter() {
            let id = m.header("Call-ID").unwrap_or_default().to_string();
            let e = calls.entry(id).or_default();
            match m.method().unwrap_or_default() {
                "INVITE" => {
                    let body = String::from_utf8_lossy(&m.body).to_string();
                    e.0 = true;
                    e.1 = !body.contains("UDP/TLS");
                }
                "BYE" => e.2 = true,
                "CANCEL" => e.3 = true,
                _ => {}
            }
        }
        calls
    };
    let until = Instant::now() + Duration::from_secs(3);
    let calls = loop {
        let c = tally();
        let open = c
            .values()
            .filter(|(invited, answered, bye, cancel)| {
                *invited && if *answered { !bye } else { !cancel }
            })
            .count();
        if open == 0 || Instant::now() > until {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let invites: Vec<_> = calls.iter().filter(|(_, c)| c.0).collect();
    assert!(invites.len() >= 5, "{calls:?}");
    for (id, (_, answered, bye, cancel)) in invites {
        if *answered {
            assert!(bye, "answered call {id} was not hung up: {calls:?}");
        } else {
            assert!(cancel, "ringing call {id} was not cancelled: {calls:?}");
        }
    }
}
