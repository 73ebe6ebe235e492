//! Reports written by the real media probe, for the tests of policy and diff: an in-process fake
//! trunk ([`crate::media_fake`]) that accepts or refuses each of the three offers (SDES, DTLS-SRTP,
//! plain RTP), called by `sipcheck::scan` like any trunk. The details the tests read are then the
//! ones the probe writes, so a renamed field fails these tests instead of passing them silently.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::media_fake::{CallFake, KEY30, offer_rtp, response, sdes_answer};
use sipcheck::media::dtls::{Identity, Role, handshake};
use sipcheck::probe::Config;
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::sip::Message;
use sipcheck::{Report, Target, Transport};

/// Which offers the fake trunk accepts; the others are refused with 488.
#[derive(Debug, Clone, Copy, Default)]
pub struct Accepts {
    pub sdes: bool,
    pub dtls: bool,
    pub plain: bool,
}

/// The fake's behaviour, switchable while it runs: a trunk changed between two scans keeps its address
/// without re-binding a port another test could take in between.
fn handler(accepts: Arc<Mutex<Accepts>>) -> crate::media_fake::Handler {
    let identity = Arc::new(Identity::new().unwrap());
    Arc::new(move |m: &Message| {
        let a = *accepts.lock().unwrap();
        answer(m, a, &identity)
    })
}

fn answer(m: &Message, a: Accepts, identity: &Arc<Identity>) -> Vec<Vec<u8>> {
    match m.method().unwrap_or_default() {
        "OPTIONS" | "BYE" | "CANCEL" => vec![response(m, 200, "OK", &[], None)],
        "INVITE" => {
            let body = String::from_utf8_lossy(&m.body).to_string();
            let refuse = || vec![response(m, 488, "Not Acceptable Here", &[], None)];
            let ok = |sdp: &str| {
                vec![response(
                    m,
                    200,
                    "OK",
                    &["Contact: <sip:bob@127.0.0.1>".into()],
                    Some(sdp),
                )]
            };
            if body.contains("UDP/TLS/RTP/SAVP") {
                let Some(to) = offer_rtp(m).filter(|_| a.dtls) else {
                    return refuse();
                };
                // The DTLS client, with the certificate the answer's fingerprint names.
                let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                sock.set_nonblocking(true).unwrap();
                let port = sock.local_addr().unwrap().port();
                let id = identity.clone();
                tokio::spawn(async move {
                    let sock = tokio::net::UdpSocket::from_std(sock).unwrap();
                    let _ = handshake(&sock, to, Role::Client, &id, None).await;
                    tokio::time::sleep(Duration::from_secs(8)).await;
                });
                ok(&format!(
                    "v=0\r\no=fake 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                     m=audio {port} UDP/TLS/RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\n\
                     a=setup:active\r\na=fingerprint:sha-256 {}\r\n",
                    identity.fingerprint
                ))
            } else if body.contains("RTP/SAVP") {
                if !a.sdes {
                    return refuse();
                }
                ok(&sdes_answer(
                    9,
                    &format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY30}\r\n"),
                ))
            } else {
                if !a.plain {
                    return refuse();
                }
                ok(
                    "v=0\r\no=fake 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
                )
            }
        }
        _ => vec![],
    }
}

/// A report of the media probe (all five `media.*` findings) against a fake trunk accepting `a`.
pub async fn report(a: Accepts) -> Report {
    let fake = CallFake::start(handler(Arc::new(Mutex::new(a)))).await;
    scan_media(&fake).await
}

/// The same trunk measured twice, before and after a change: one fake whose behaviour changes between
/// the scans, so the findings pair up by endpoint.
pub async fn before_after(before: Accepts, after: Accepts) -> (Report, Report) {
    let accepts = Arc::new(Mutex::new(before));
    let fake = CallFake::start(handler(accepts.clone())).await;
    let old = scan_media(&fake).await;
    *accepts.lock().unwrap() = after;
    (old, scan_media(&fake).await)
}

async fn scan_media(fake: &CallFake) -> Report {
    let mut cfg = Config::default();
    cfg.timers.timeout = Duration::from_secs(2);
    cfg.calls.call_to = Some("bob".into());
    cfg.calls.allow = true;
    let mut o = ScanOptions::new(Target::parse(&fake.target()).unwrap());
    o.transports = Some(vec![Transport::Udp]);
    o.selectors = vec!["media".into()];
    o.config = cfg;
    tokio::time::timeout(Duration::from_secs(90), scan(o))
        .await
        .expect("media scan hung")
        .expect("media scan")
}
