//! DTLS-SRTP against an in-process fake whose DTLS certificate is not the one its `a=fingerprint` names
//! (what a man in the middle of the media path looks like): the handshake completes, the fingerprint
//! check fails the finding, and no SRTP keys are used.

#[allow(unused_imports)]
use crate::{media_fake, support};

use std::sync::Arc;
use std::time::Duration;

use media_fake::{CallFake, offer_rtp, response};
use sipcheck::media::dtls::{Identity, Role, handshake};
use sipcheck::probe::Config;
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::sip::Message;
use sipcheck::{Status, Target, Transport};

/// Answers a DTLS-SRTP offer with `a=setup:active` (or `passive`) and the fingerprint of `advertised`,
/// then runs the DTLS client (or server) with `presented` toward the offer's media address.
fn dtls_trunk(advertised: String, presented: Arc<Identity>) -> media_fake::Handler {
    dtls_trunk_as(advertised, presented, Role::Client)
}

fn dtls_trunk_as(advertised: String, presented: Arc<Identity>, role: Role) -> media_fake::Handler {
    Arc::new(move |m: &Message| match m.method().unwrap_or_default() {
        "OPTIONS" | "BYE" | "CANCEL" => vec![response(m, 200, "OK", &[], None)],
        "INVITE" => {
            let body = String::from_utf8_lossy(&m.body).to_string();
            let Some(to) = offer_rtp(m).filter(|_| body.contains("UDP/TLS/RTP/SAVP")) else {
                return vec![response(m, 488, "Not Acceptable Here", &[], None)];
            };
            let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            sock.set_nonblocking(true).unwrap();
            let port = sock.local_addr().unwrap().port();
            let id = presented.clone();
            tokio::spawn(async move {
                let sock = tokio::net::UdpSocket::from_std(sock).unwrap();
                let _ = handshake(&sock, to, role, &id, None).await;
                // Kept open for the rest of the call so our SRTP (if any) would not draw ICMP errors.
                tokio::time::sleep(Duration::from_secs(8)).await;
            });
            let sdp = format!(
                "v=0\r\no=fake 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                 m=audio {port} UDP/TLS/RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\n\
                 a=setup:{setup}\r\na=fingerprint:sha-256 {advertised}\r\n",
                setup = if role == Role::Client {
                    "active"
                } else {
                    "passive"
                }
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

async fn run(fake: &CallFake) -> sipcheck::Report {
    let mut cfg = Config::default();
    cfg.timers.timeout = Duration::from_secs(2);
    cfg.calls.call_to = Some("bob".into());
    cfg.calls.allow = true;
    let mut o = ScanOptions::new(Target::parse(&fake.target()).unwrap());
    o.transports = Some(vec![Transport::Udp]);
    o.selectors = vec!["media.dtls_srtp".into(), "media.srtp_flow".into()];
    o.config = cfg;
    scan(o).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_other_than_the_fingerprint_fails() {
    let advertised = Identity::new().unwrap().fingerprint;
    let fake = CallFake::start(dtls_trunk(
        advertised.clone(),
        Arc::new(Identity::new().unwrap()),
    ))
    .await;
    let r = run(&fake).await;
    let d = r.findings_with_id("media.dtls_srtp").next().unwrap();
    assert_eq!(d.status, Status::Fail, "{d:#?}");
    assert!(d.summary.contains("man in the middle"), "{}", d.summary);
    let dtls = &d.details["dtls"];
    assert_eq!(dtls["completed"], true, "{dtls:#}");
    assert_eq!(dtls["role"], "server");
    assert_eq!(dtls["fingerprint_matches"], false);
    assert_ne!(dtls["peer_fingerprint"], serde_json::json!(advertised));
    // No keys from an unauthenticated handshake: nothing was sent as SRTP, so the flow is not judged.
    assert!(d.details["media"].is_null(), "{:#}", d.details["media"]);
    let flow = r.findings_with_id("media.srtp_flow").next().unwrap();
    assert_ne!(flow.status, Status::Pass, "{flow:#?}");
    assert!(
        fake.count("BYE") >= 1,
        "the call was hung up: {:?}",
        fake.methods()
    );
}

/// The control: the same fake presenting the certificate it advertises passes, with keys in use.
#[tokio::test(flavor = "multi_thread")]
async fn the_advertised_certificate_passes() {
    let id = Arc::new(Identity::new().unwrap());
    let fake = CallFake::start(dtls_trunk(id.fingerprint.clone(), id.clone())).await;
    let r = run(&fake).await;
    let d = r.findings_with_id("media.dtls_srtp").next().unwrap();
    assert_eq!(d.status, Status::Pass, "{d:#?}");
    assert_eq!(d.details["dtls"]["fingerprint_matches"], true);
    assert_eq!(d.details["dtls"]["version"], "DTLSv1.2");
    assert!(d.details["media"]["rtp_sent"].as_u64().unwrap() > 0);
}

/// `a=setup:passive`: sipcheck is the DTLS client, and the fingerprint check holds in that role too.
#[tokio::test(flavor = "multi_thread")]
async fn as_the_client_a_wrong_certificate_fails_too() {
    let advertised = Identity::new().unwrap().fingerprint;
    let fake = CallFake::start(dtls_trunk_as(
        advertised,
        Arc::new(Identity::new().unwrap()),
        Role::Server,
    ))
    .await;
    let r = run(&fake).await;
    let d = r.findings_with_id("media.dtls_srtp").next().unwrap();
    assert_eq!(d.status, Status::Fail, "{d:#?}");
    assert_eq!(d.details["dtls"]["role"], "client");
    assert_eq!(d.details["dtls"]["completed"], true);
    assert_eq!(d.details["dtls"]["fingerprint_matches"], false);
}
