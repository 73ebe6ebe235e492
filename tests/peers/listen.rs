//! The listener (UAS) against hostile and ordinary inbound traffic: it answers INVITE with 100 then
//! 486, OPTIONS with 200, refuses the rest, keeps every request byte for byte, and neither crashes nor
//! stalls on garbage, oversized messages, floods or idle connections.

#[allow(unused_imports)]
use crate::support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sipcheck::listen::{ListenAddr, ListenConfig, Listener};
use sipcheck::sip::{Limits, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

fn request(method: &str, branch: &str, extra: &str) -> String {
    format!(
        "{method} sip:+12155550199@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK{branch}\r\nFrom: <sip:+12155550100@127.0.0.1>;tag=a\r\nTo: <sip:+12155550199@127.0.0.1>\r\nCall-ID: {branch}@test\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"
    )
}

async fn start(at: &str, max: usize) -> Listener {
    let mut cfg = ListenConfig::new(ListenAddr::parse(at).unwrap());
    cfg.max_requests = max;
    Listener::start(cfg).await.unwrap()
}

/// Every datagram that arrives within `wait`, parsed.
async fn answers(sock: &UdpSocket, want: usize, wait: Duration) -> Vec<Message> {
    let deadline = Instant::now() + wait;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65_535];
    while out.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, sock.recv(&mut buf)).await {
            Ok(Ok(n)) => out.push(Message::parse(&buf[..n], &Limits::default()).unwrap()),
            _ => break,
        }
    }
    out
}

#[tokio::test]
async fn udp_answers_and_keeps_requests_byte_for_byte() {
    let l = start("127.0.0.1:0", 100).await;
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.connect(l.local_addr()).await.unwrap();
    let invite = request(
        "INVITE",
        "inv1",
        "Authorization: Digest username=\"u\", response=\"secret\"\r\n",
    );
    sock.send(invite.as_bytes()).await.unwrap();
    let got = answers(&sock, 2, Duration::from_secs(10)).await;
    let codes: Vec<u16> = got.iter().filter_map(Message::status).collect();
    assert_eq!(codes, [100, 486]);
    // A retransmission gets the same final answer and is not recorded twice.
    sock.send(invite.as_bytes()).await.unwrap();
    let again = answers(&sock, 1, Duration::from_secs(10)).await;
    assert_eq!(again[0].raw, got[1].raw);
    for (m, want) in [
        ("OPTIONS", 200u16),
        ("REGISTER", 405),
        ("SUBSCRIBE", 405),
        ("BYE", 481),
    ] {
        sock.send(request(m, &format!("{m}1"), "").as_bytes())
            .await
            .unwrap();
        let a = answers(&sock, 1, Duration::from_secs(10)).await;
        assert_eq!(a.first().and_then(Message::status), Some(want), "{m}");
    }
    sock.send(b"\x00\xffgarbage\r\n\r\n").await.unwrap();
    assert!(
        answers(&sock, 1, Duration::from_millis(300))
            .await
            .is_empty(),
        "garbage is not answered"
    );
    let want_records = 6;
    let ok = l
        .wait_for(0, Instant::now() + Duration::from_secs(10), |r| {
            r.seq == want_records
        })
        .await;
    assert!(ok.is_some());
    let (records, stats) = l.stop().await;
    assert_eq!(records.len(), want_records, "{stats:?}");
    assert_eq!(records[0].raw, invite.as_bytes(), "kept byte for byte");
    assert_eq!(stats.retransmissions, 1);
    assert_eq!(stats.unparseable, 1);
    let ev = records[0].evidence();
    assert!(
        ev.received.contains("Authorization: <redacted>"),
        "{}",
        ev.received
    );
    assert!(!ev.received.contains("secret"));
    assert!(ev.sent.contains("SIP/2.0 486 Busy Here"));
}

#[tokio::test]
async fn a_flood_of_invites_is_bounded_and_the_listener_stays_up() {
    let l = start("127.0.0.1:0", 50).await;
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.connect(l.local_addr()).await.unwrap();
    for i in 0..400 {
        let _ = sock
            .send(request("INVITE", &format!("flood{i}"), "").as_bytes())
            .await;
        if i % 50 == 0 {
            tokio::task::yield_now().await;
        }
    }
    // Oversized datagram too.
    let big = request(
        "INVITE",
        "big",
        &format!("X-Pad: {}\r\n", "a".repeat(60_000)),
    );
    let _ = sock.send(big.as_bytes()).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let s = l.stats();
        if s.requests == 50 && s.dropped > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let s = l.stats();
    assert_eq!(s.requests, 50, "{s:?}");
    assert!(s.dropped > 0, "{s:?}");
    let (records, _) = l.stop().await;
    assert_eq!(records.len(), 50);
}

#[tokio::test]
async fn tcp_garbage_oversized_and_idle_connections_cannot_stall_it() {
    let l = start("tcp:127.0.0.1:0", 100).await;
    let addr = l.local_addr();
    // Headers that never end: closed once past the limit.
    let mut junk = TcpStream::connect(addr).await.unwrap();
    let _ = junk.write_all(&vec![b'A'; 200 * 1024]).await;
    let mut b = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(10), junk.read(&mut b)).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "{closed:?}");
    // A Content-Length beyond the limit: closed too.
    let mut huge = TcpStream::connect(addr).await.unwrap();
    let _ = huge
        .write_all(
            request("INVITE", "cl", "")
                .replace("Content-Length: 0", "Content-Length: 99999999")
                .as_bytes(),
        )
        .await;
    let closed = tokio::time::timeout(Duration::from_secs(10), huge.read(&mut b)).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "{closed:?}");
    // More idle connections than allowed: the extra ones are closed, not queued.
    let mut idle = Vec::new();
    for _ in 0..(sipcheck::listen::MAX_CONNECTIONS + 8) {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while l.stats().connections_refused < 8 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(l.stats().connections_refused >= 8, "{:?}", l.stats());
    drop(idle);
    // Service continues: a well-formed OPTIONS on a new connection is answered (within the idle bound).
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut answered = false;
    while !answered && Instant::now() < deadline {
        if let Ok(mut c) = TcpStream::connect(addr).await {
            let _ = c
                .write_all(
                    request("OPTIONS", &format!("o{}", l.stats().connections), "").as_bytes(),
                )
                .await;
            let mut buf = vec![0u8; 4096];
            if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(3), c.read(&mut buf)).await
            {
                answered = buf[..n].starts_with(b"SIP/2.0 200 OK");
            }
        }
    }
    assert!(answered, "{:?}", l.stats());
    // Two messages in one segment are both served.
    let mut c = TcpStream::connect(addr).await.unwrap();
    let two = format!(
        "{}{}",
        request("OPTIONS", "p1", ""),
        request("INVITE", "p2", "")
    );
    c.write_all(two.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline
        && got.windows(13).filter(|w| w == b"SIP/2.0 486 B").count() == 0
    {
        let mut buf = vec![0u8; 8192];
        match tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("SIP/2.0 200 OK"), "{text}");
    assert!(
        text.contains("SIP/2.0 100 Trying") && text.contains("SIP/2.0 486 Busy Here"),
        "{text}"
    );
    l.stop().await;
}

#[tokio::test]
async fn tls_listener_answers_with_the_given_certificate() {
    let pki = support::certs::TestPki::new(&support::certs::LeafSpec::default());
    let mut cfg = ListenConfig::new(ListenAddr::parse("tls:127.0.0.1:0").unwrap());
    cfg.tls = Some((
        pki.chain_pem.display().to_string(),
        pki.key_pem.display().to_string(),
    ));
    let l = Listener::start(cfg).await.unwrap();
    let tls = sipcheck::transport::TlsSettings::from_ca_file(pki.ca_pem.to_str().unwrap()).unwrap();
    let cc = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates((*tls.roots).clone())
    .with_no_client_auth();
    let tcp = TcpStream::connect(l.local_addr()).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut s = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cc))
        .connect(name, tcp)
        .await
        .unwrap();
    s.write_all(request("INVITE", "tls1", "").as_bytes())
        .await
        .unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !String::from_utf8_lossy(&got).contains("486 Busy Here") {
        let mut buf = vec![0u8; 8192];
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    assert!(String::from_utf8_lossy(&got).contains("SIP/2.0 486 Busy Here"));
    // A client that never finishes the handshake does not hold the listener.
    let _stuck = TcpStream::connect(l.local_addr()).await.unwrap();
    let (records, _) = l.stop().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].transport, sipcheck::Transport::Tls);
}

#[test]
fn listen_addresses_and_usage_errors() {
    let a = ListenAddr::parse("tcp:[::1]:5070").unwrap();
    assert_eq!(
        (a.transport, a.addr),
        (
            sipcheck::Transport::Tcp,
            "[::1]:5070".parse::<SocketAddr>().unwrap()
        )
    );
    assert_eq!(
        ListenAddr::parse("127.0.0.1:5070").unwrap().transport,
        sipcheck::Transport::Udp
    );
    for bad in ["sip.example.com:5060", "tcp:", "udp:1.2.3.4"] {
        assert!(ListenAddr::parse(bad).is_err(), "{bad}");
    }
    let out = support::sipcheck(&["listen", "tls:127.0.0.1:0", "--duration", "1s"]);
    assert_eq!(out.status.code(), Some(2), "tls without a certificate");
    let out = support::sipcheck(&["listen", "nonsense", "--duration", "1s"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The CLI reports each inbound call's identity verdict: a call signed by the test STI PKI is a pass
/// with attestation A; one without Identity is a warn.
#[test]
fn cli_reports_each_inbound_calls_identity() {
    use support::sti::{self, DEST, ORIG};
    let pki = sti::StiPki::new();
    let server = sti::X5uServer::start(&[("good.pem", sti::ok_answer(&pki.chain("good")))]);
    let port = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("listen.json");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sipcheck"))
        .args([
            "listen",
            &format!("127.0.0.1:{port}"),
            "--duration",
            "4s",
            "--format",
            "json",
            "-o",
        ])
        .arg(&out_file)
        .arg("--sti-ca-file")
        .arg(&pki.root_pem)
        .arg("--x5u-ca-file")
        .arg(&server.web.ca_pem)
        .args(["--fetch-allow", sti::FETCH_ALLOW])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let x5u = server.url("good.pem");
    let signed = sti::identity(
        &sti::token(
            &sti::jose(&x5u),
            &sti::claims("A", sti::now()),
            &pki.leaf("good").signer,
        ),
        &x5u,
    );
    let calls = [
        sti::invite(ORIG, DEST, &[format!("Identity: {signed}")])
            .replace("sti-test@", "c1@")
            .replace("sti1", "c1"),
        sti::invite(ORIG, DEST, &[])
            .replace("sti-test@", "c2@")
            .replace("sti1", "c2"),
    ];
    // Sent until answered (the listener may still be starting), bounded.
    for call in &calls {
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            sock.send_to(call.as_bytes(), ("127.0.0.1", port)).unwrap();
            if let Ok(n) = sock.recv(&mut buf)
                && buf[..n].starts_with(b"SIP/2.0 1")
            {
                break;
            }
        }
    }
    let out = support::wait_bounded(child, 60);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let calls = support::findings(&report, "listen.call");
    assert_eq!(calls.len(), 2, "{report:#}");
    assert_eq!(calls[0]["status"], "pass", "{:#}", calls[0]);
    assert_eq!(
        calls[0]["details"]["identity"]["identities"][0]["passport"]["attest"],
        "A"
    );
    assert_eq!(calls[1]["status"], "warn", "{:#}", calls[1]);
    assert_eq!(
        calls[1]["details"]["identity"]["identities"][0]["failure"]["code"],
        428
    );
    let summary = support::findings(&report, "listen.summary");
    assert_eq!(summary[0]["details"]["invites"], 2, "{:#}", summary[0]);
}

/// While listening, a hostile INVITE naming an x5u at a private or metadata address gets no fetch:
/// the call is a fail whose check says "refused without connecting" (no --fetch-allow here, so even
/// loopback would be refused), and an INVITE signed by a third party's SPC fails under --expect-spc.
#[test]
fn hostile_x5u_urls_are_refused_while_listening() {
    use support::sti::{self, DEST, ORIG};
    let pki = sti::StiPki::new();
    let port = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("listen.json");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sipcheck"))
        .args([
            "listen",
            &format!("127.0.0.1:{port}"),
            "--duration",
            "3s",
            "--format",
            "json",
            "--expect-spc",
            "1234",
            "-o",
        ])
        .arg(&out_file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let signer = &pki.leaf("good").signer;
    let calls: Vec<String> = [
        "https://10.0.0.1/cert.pem",
        "https://169.254.169.254/latest/meta-data/cert.pem",
        "https://[::ffff:192.168.1.1]/cert.pem",
    ]
    .iter()
    .enumerate()
    .map(|(i, x5u)| {
        let id = sti::identity(
            &sti::token(&sti::jose(x5u), &sti::claims("A", sti::now()), signer),
            x5u,
        );
        sti::invite(ORIG, DEST, &[format!("Identity: {id}")])
            .replace("sti-test@", &format!("h{i}@"))
            .replace("sti1", &format!("h{i}"))
    })
    .collect();
    for call in &calls {
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            sock.send_to(call.as_bytes(), ("127.0.0.1", port)).unwrap();
            if let Ok(n) = sock.recv(&mut buf)
                && buf[..n].starts_with(b"SIP/2.0 1")
            {
                break;
            }
        }
    }
    let out = support::wait_bounded(child, 60);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let calls = support::findings(&report, "listen.call");
    assert_eq!(calls.len(), 3, "{report:#}");
    for c in calls {
        assert_eq!(c["status"], "fail", "{c:#}");
        let first = &c["details"]["identity"]["identities"][0];
        assert_eq!(first["failure"]["check"], "x5u_fetch", "{c:#}");
        assert!(
            first["failure"]["detail"]
                .as_str()
                .unwrap()
                .contains("refused without connecting"),
            "{c:#}"
        );
    }
}

/// An inbound call whose signed RCD name (`nam`) is not the display-name it shows: `listen.call`
/// warns, question 11's answer names the mismatch, question 12's the signer.
#[test]
fn rcd_name_mismatch_answers_question_11() {
    use base64::Engine;
    use support::sti::{self, DEST, ORIG};
    let pki = sti::StiPki::new();
    let card = r#"["vcard",[["version",{},"text","4.0"],["fn",{},"text","Acme Bank"]]]"#;
    let server = sti::X5uServer::start(&[
        ("good.pem", sti::ok_answer(&pki.chain("good"))),
        (
            "card.json",
            format!(
                "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=60\r\nContent-Length: {}\r\n\r\n{card}",
                card.len()
            ),
        ),
    ]);
    let port = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("listen.json");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sipcheck"))
        .args([
            "listen",
            &format!("127.0.0.1:{port}"),
            "--duration",
            "3s",
            "--format",
            "json",
            "--fetch-allow",
            sti::FETCH_ALLOW,
            "-o",
        ])
        .arg(&out_file)
        .arg("--sti-ca-file")
        .arg(&pki.root_pem)
        .arg("--x5u-ca-file")
        .arg(&server.web.ca_pem)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let x5u = server.url("good.pem");
    let digest = format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD
            .encode(ring::digest::digest(&ring::digest::SHA256, card.as_bytes()))
    );
    let mut hdr = sti::jose(&x5u);
    hdr["ppt"] = "rcd".into();
    let claims = serde_json::json!({
        "dest": {"tn": [DEST]}, "iat": sti::now(), "orig": {"tn": ORIG},
        "rcd": {"nam": "Acme Bank", "jcl": server.url("card.json")}, "rcdi": {"/jcl": digest}
    });
    let rcd = format!(
        "{};info=<{x5u}>;alg=ES256;ppt=rcd",
        sti::token(&hdr, &claims, &pki.leaf("good").signer)
    );
    let shaken = sti::identity(
        &sti::token(
            &sti::jose(&x5u),
            &sti::claims("A", sti::now()),
            &pki.leaf("good").signer,
        ),
        &x5u,
    );
    let call = sti::invite(
        ORIG,
        DEST,
        &[format!("Identity: {shaken}"), format!("Identity: {rcd}")],
    )
    .replacen(
        &format!("From: <sip:+{ORIG}"),
        &format!("From: \"Your Bank\" <sip:+{ORIG}"),
        1,
    );
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        sock.send_to(call.as_bytes(), ("127.0.0.1", port)).unwrap();
        if let Ok(n) = sock.recv(&mut buf)
            && buf[..n].starts_with(b"SIP/2.0 1")
        {
            break;
        }
    }
    let out = support::wait_bounded(child, 60);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let calls = support::findings(&json, "listen.call");
    assert_eq!(calls.len(), 1, "{json:#}");
    assert_eq!(calls[0]["status"], "warn", "{:#}", calls[0]);
    assert_eq!(calls[0]["details"]["rcd"]["nam"], "Acme Bank");
    assert_eq!(calls[0]["details"]["rcd"]["displayed_name"], "Your Bank");
    assert_eq!(calls[0]["details"]["signer"]["spc"], "1234");
    let report: sipcheck::report::Report = serde_json::from_value(json.clone()).unwrap();
    let answers = sipcheck::report::answers::all(&report);
    let q = |n: u8| {
        answers
            .iter()
            .find(|a| a.question.number == n)
            .unwrap()
            .text
            .clone()
    };
    assert!(
        q(11).contains("RCD: the far end displays \"Your Bank\""),
        "{}",
        q(11)
    );
    assert!(
        q(12).contains("SPC 1234") && q(12).contains("attestation A"),
        "{}",
        q(12)
    );
}
