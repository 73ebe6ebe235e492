//! Writes the fuzz seed corpora (`fuzz/corpus/<target>/`) from real peers, once: Kamailio's and
//! baresip's answers as sipcheck recorded them, `openssl s_server`'s raw first flights and
//! certificates, the catalog cases (RFC 4475 messages) and the shipped policies. Ignored by default
//! (it rewrites files in the repository); run it with
//! `cargo test --test peers fuzz_capture -- --ignored` after a change that should reach the seeds.

#[allow(unused_imports)]
use crate::{baresip, support, tls_support};

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use baresip::{Baresip, MediaMode};
use serde_json::Value;
use sipcheck::tls::answer::{Answer, Parser, Step};
use sipcheck::tls::hello::Hello;
use sipcheck::tls::version::Version;
use support::kamailio::Kamailio;
use support::sti;
use support::{json, sipcheck};

fn corpus(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn seed(target: &str, name: &str, bytes: &[u8]) {
    std::fs::write(corpus(target).join(name), bytes).unwrap();
}

/// A SIP message seed; requests also seed the listener's answer.
fn seed_sip(name: &str, bytes: &[u8]) {
    seed("sip_message", name, bytes);
    if !bytes.starts_with(b"SIP/") {
        seed("listen_request", name, bytes);
    }
}

/// Evidence text back to bytes: `printable` writes non-printable bytes as `\xNN`.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 2..i + 4)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (
            b[i],
            b.get(i + 1),
            hex.and_then(|h| u8::from_str_radix(h, 16).ok()),
        ) {
            (b'\\', Some(b'x'), Some(v)) => {
                out.push(v);
                i += 4;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The distinct messages sent and received in a report's evidence, in order, at most `max`.
fn evidence(r: &Value, max: usize) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for f in r["findings"].as_array().unwrap() {
        for e in f["evidence"].as_array().into_iter().flatten() {
            for dir in ["sent", "received"] {
                let bytes = unescape(e[dir].as_str().unwrap_or_default());
                if !bytes.is_empty() && !out.contains(&bytes) && out.len() < max {
                    out.push(bytes);
                }
            }
        }
    }
    out
}

fn sip_seeds(source: &str, msgs: &[Vec<u8>]) {
    for (i, m) in msgs.iter().enumerate() {
        seed_sip(&format!("{source}-{i:02}"), m);
        seed("evidence_redaction", &format!("{source}-{i:02}"), m);
        if let Some(at) = sipcheck::sip::parse::header_end(m)
            && m.len() > at + 4
        {
            seed("sdp", &format!("{source}-{i:02}"), &m[at..]);
        }
    }
    // A stream of several messages, as a TCP connection carries them.
    seed("sip_stream", &format!("{source}-stream"), &msgs.concat());
}

/// The first certificate of a PEM file, as DER.
fn pem_to_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

fn kamailio() {
    let k = Kamailio::start();
    let ca = k.pki.ca_pem.display().to_string();
    let out = sipcheck(&[
        "probe",
        &k.target(),
        "--format",
        "json",
        "--ca-file",
        &ca,
        "--domain",
        "sip.test",
        "--timeout",
        "3s",
    ]);
    let r = json(&out);
    sip_seeds("kamailio", &evidence(&r, 24));
    // The certificates Kamailio serves (its TLS 1.3 handshake encrypts them on the wire).
    for (name, pem) in [
        ("kamailio-ca", &k.pki.ca_pem),
        ("kamailio-leaf", &k.pki.cert_pem),
    ] {
        seed(
            "cert_der",
            &format!("{name}.der"),
            &pem_to_der(&std::fs::read_to_string(pem).unwrap()),
        );
    }
    let mut small = r.clone();
    for f in small["findings"].as_array_mut().unwrap() {
        f["evidence"] = Value::Array(Vec::new());
    }
    seed(
        "report_json",
        "kamailio-report.json",
        small.to_string().as_bytes(),
    );
}

fn baresip() {
    let b = Baresip::start(MediaMode::SdesMandatory, "127.0.0.1");
    let out = sipcheck(&[
        "probe",
        &b.target(),
        "--transport",
        "udp",
        "--probes",
        "media",
        "--call-to",
        &b.user,
        "--allow-calls",
        "--format",
        "json",
        "--timeout",
        "3s",
    ]);
    let r = json(&out);
    sip_seeds("baresip", &evidence(&r, 12));
    seed(
        "report_json",
        "baresip-report.json",
        r.to_string().as_bytes(),
    );
}

/// The raw bytes an `openssl s_server` sends back to one ClientHello, up to the reader's verdict.
fn first_flight(port: u16, hello: &Hello) -> (Vec<u8>, Answer) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.write_all(&hello.encode()).unwrap();
    let (mut raw, mut p, mut chunk) = (Vec::new(), Parser::new(true), [0u8; 16384]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let n = match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        raw.extend_from_slice(&chunk[..n]);
        if let Step::Done(a) = p.feed(&chunk[..n]) {
            return (raw, a);
        }
    }
    (raw, p.finish(Answer::Closed))
}

fn openssl() {
    let suites = vec![
        0x1301, 0x1302, 0x1303, 0xC02F, 0xC030, 0xC02B, 0xC02C, 0xCCA8, 0x009E, 0x0033, 0x002F,
        0x0035, 0x000A,
    ];
    for ecdsa in [false, true] {
        let server = tls_support::SServer::start(&[], ecdsa);
        let tag = if ecdsa { "ecdsa" } else { "rsa" };
        for v in Version::ALL {
            let mut hellos = vec![Hello::new(v, suites.clone(), Some("sip.test".into()))];
            if v == Version::Tls13 {
                // No key share: the server answers a HelloRetryRequest.
                let mut hrr = hellos[0].clone();
                hrr.key_shares.clear();
                hellos.push(hrr);
            }
            for (i, h) in hellos.iter().enumerate() {
                let (raw, answer) = first_flight(server.port, h);
                // The target reads its first byte as the want-flight flag.
                let mut flagged = vec![1u8];
                flagged.extend_from_slice(&raw);
                seed("tls_answer", &format!("openssl-{tag}-{v:?}-{i}"), &flagged);
                if let Answer::Hello(h) = answer {
                    for (n, der) in h.chain.iter().enumerate() {
                        seed("cert_der", &format!("openssl-{tag}-{n}.der"), der);
                    }
                }
            }
        }
    }
}

fn user_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let v = sipcheck::catalog::template::Values::example();
    for (dir, target) in [
        ("probes/malformed", "catalog_case"),
        ("probes/policies", "policy_toml"),
    ] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            seed(target, &name, &std::fs::read(&p).unwrap());
        }
    }
    for case in sipcheck::catalog::builtin().unwrap() {
        let name = case
            .source
            .trim_start_matches("builtin:")
            .trim_end_matches(".toml");
        seed("catalog_template", name, case.message.as_bytes());
        let filled = sipcheck::catalog::template::fill(&case.message, &v).unwrap();
        if filled.len() <= 4096 {
            seed_sip(&format!("rfc4475-{name}"), &filled);
            seed("sip_stream", &format!("rfc4475-{name}"), &filled);
        }
    }
}

fn media() {
    use sipcheck::media::rtp::{rtp_packet, sender_report};
    seed("rtp_rtcp", "rtp-pcmu", &rtp_packet(0x1234_5678, 7, 160));
    seed(
        "rtp_rtcp",
        "rtcp-sr-sdes",
        &sender_report(0x1234_5678, 10, 1600, 99),
    );
    seed(
        "rtp_rtcp",
        "stun-like",
        &[0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42],
    );
    // SRTP seeds: suite selector, key ‖ salt, then a packet.
    for (i, len) in [(0u8, 30usize), (1, 30), (2, 46), (3, 28), (4, 44)] {
        let mut s = vec![i];
        s.extend((0..len).map(|b| b as u8 ^ 0x5a));
        s.extend(rtp_packet(0xdead_beef, 1, 160));
        seed("srtp", &format!("suite-{i}"), &s);
    }
}

/// Signed PASSporTs and x5u bundles from the tests' STI PKI (real ES256 signatures over rcgen keys).
fn stir() {
    let pki = sti::StiPki::new();
    for name in ["good", "expired", "no_tnauth", "tn_entry", "other_ca"] {
        seed("stir_x5u_pem", name, pki.chain(name).as_bytes());
    }
    let url = "https://127.0.0.1:8443/good.pem";
    let good = sti::token(
        &sti::jose(url),
        &sti::claims("A", 1_767_225_600),
        &pki.leaf("good").signer,
    );
    let identity = sti::identity(&good, url);
    seed("stir_identity", "shaken-full", identity.as_bytes());
    let compact = format!("..{}", good.rsplit('.').next().unwrap());
    seed(
        "stir_identity",
        "shaken-compact",
        sti::identity(&compact, url).as_bytes(),
    );
    let invite = sti::invite(sti::ORIG, sti::DEST, &[format!("Identity: {identity}")]);
    seed("stir_identity", "invite-with-identity", invite.as_bytes());
    seed_sip("invite-with-identity", invite.as_bytes());
}

/// Written from the RFCs' examples where no test peer says it (Kamailio's challenges need a user
/// database this capture does not set up).
fn from_rfcs() {
    let challenges = [
        (
            "rfc2617-3.5",
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        ),
        (
            "rfc7616-3.9.1",
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
        ),
        (
            "rfc8760-sess",
            r#"Digest realm="sip.example.org", algorithm=SHA-512-256-sess, qop="auth", nonce="n\"q", stale=TRUE"#,
        ),
        (
            "rfc2069",
            r#"Digest realm="biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359""#,
        ),
    ];
    for (name, c) in challenges {
        seed("digest_challenge", name, c.as_bytes());
    }
    seed("sdp", "rfc4568-sdes", b"v=0\r\no=sam 2890844526 2890842807 IN IP4 10.47.16.5\r\ns=SRTP Discussion\r\nc=IN IP4 168.2.17.12\r\nt=2854894500 2854901700\r\nm=audio 49170 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAo|2^20|1:4 FEC_ORDER=FEC_SRTP\r\na=crypto:2 AEAD_AES_256_GCM inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJD\r\n");
    seed("evidence_redaction", "issue16-folded-credential", b"INVITE sip:b@x SIP/2.0\r\nProxy-Authorization: Digest username=\"alice\",\r\n realm=\"r\", response=\"deadbeef\"\r\n\r\n");
    seed("evidence_redaction", "sdes-offer", b"INVITE sip:b@x SIP/2.0\r\nl: 60\r\n\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAo|2^20\r\n");
}

#[test]
#[ignore = "rewrites fuzz/corpus from real peers"]
fn capture_fuzz_seeds() {
    user_files();
    media();
    from_rfcs();
    stir();
    openssl();
    kamailio();
    baresip();
}
