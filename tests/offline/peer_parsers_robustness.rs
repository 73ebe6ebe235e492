//! Random and mutated peer input must never panic the parsers that read what a trunk sends besides SIP
//! framing (tests/parser_robustness.rs): the TLS first-flight reader, SDP answers, digest challenges,
//! RTP/RTCP, certificates, and evidence redaction. Seeded, so a failure is reproducible; iteration
//! counts keep each test to a few seconds in a debug build.

#[allow(unused_imports)]
use crate::mutate;

use mutate::mutate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sipcheck::media::rtp::{classify, parse_rtcp, rtp_ssrc_seq, sender_report};
use sipcheck::sip::digest::{Challenge, Credentials, DigestClient};
use sipcheck::sip::sdp::{Sdp, redact_keys};
use sipcheck::tls::answer::{Answer, Parser, Step};

fn random_bytes(rng: &mut StdRng, max: usize) -> Vec<u8> {
    let len = rng.random_range(0..max);
    (0..len).map(|_| rng.random()).collect()
}

fn record(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![kind, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let mut m = vec![kind, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    m.extend_from_slice(body);
    m
}

/// A TLS 1.2 first flight: ServerHello (renegotiation_info, status_request), Certificate, a DHE
/// ServerKeyExchange, CertificateRequest, ServerHelloDone — every message kind the reader looks into.
fn tls12_flight() -> Vec<u8> {
    let mut sh = vec![3, 3];
    sh.extend_from_slice(&[7u8; 32]);
    sh.push(0);
    sh.extend_from_slice(&0x009Eu16.to_be_bytes()); // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
    sh.push(0);
    let exts = [0xFF, 0x01, 0, 1, 0, 0x00, 0x05, 0, 0];
    sh.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    sh.extend_from_slice(&exts);
    let cert = [0x30u8, 3, 1, 2, 3];
    let mut certs = vec![0, 0, (cert.len() + 3) as u8, 0, 0, cert.len() as u8];
    certs.extend_from_slice(&cert);
    let ske = [0, 4, 0x80, 1, 2, 3, 0, 1, 2, 0, 1, 5];
    let mut hs = handshake(2, &sh);
    hs.extend(handshake(11, &certs));
    hs.extend(handshake(12, &ske));
    hs.extend(handshake(13, &[1, 1, 0, 0]));
    // The flight split across two records, as servers do with long chains.
    let mut out = record(22, &hs[..hs.len() / 2]);
    out.extend(record(22, &hs[hs.len() / 2..]));
    out.extend(record(22, &handshake(14, &[])));
    out
}

/// Feeds `bytes` in random chunks; the answer at the first `Done`, or what `finish` makes of the rest.
fn feed_chunked(rng: &mut StdRng, bytes: &[u8], want_flight: bool) -> Answer {
    let mut p = Parser::new(want_flight);
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = rng.random_range(1..=rest.len().min(64));
        let (now, later) = rest.split_at(n);
        rest = later;
        if let Step::Done(a) = p.feed(now) {
            return a;
        }
    }
    p.finish(Answer::Closed)
}

#[test]
fn the_tls_flight_seed_parses_in_any_chunking() {
    let mut rng = StdRng::seed_from_u64(8446);
    for _ in 0..200 {
        let Answer::Hello(h) = feed_chunked(&mut rng, &tls12_flight(), true) else {
            panic!("the seed flight must parse");
        };
        assert_eq!(h.suite, 0x009E);
        assert!(h.flight_complete && h.secure_renegotiation && h.ocsp_acknowledged);
        assert!(h.client_cert_requested);
        assert_eq!(h.chain.len(), 1);
        assert_eq!(h.dh_bits, Some(32));
    }
}

#[test]
fn tls_answer_reader_survives_random_and_mutated_flights() {
    let mut rng = StdRng::seed_from_u64(5246);
    let seed = tls12_flight();
    let alphabet = [
        0u8, 1, 2, 3, 11, 12, 13, 14, 20, 21, 22, 23, 0x40, 0x80, 0xFF,
    ];
    for i in 0..20_000 {
        let bytes = if i % 4 == 0 {
            random_bytes(&mut rng, 200)
        } else {
            mutate(&mut rng, &seed, &alphabet, 8)
        };
        let want_flight = rng.random_bool(0.8);
        if let Answer::Hello(h) = feed_chunked(&mut rng, &bytes, want_flight) {
            // Everything kept comes from the bytes given.
            assert!(h.chain.iter().map(Vec::len).sum::<usize>() <= bytes.len());
            assert!(h.extensions.len() <= bytes.len() / 4);
            let _ = (h.downgrade_sentinel(), h.dh_bits);
        }
    }
}

const SDP_ANSWER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
a=fingerprint:sha-256 AB:CD\r\nm=audio 21070 RTP/SAVP 0 8\r\nc=IN IP6 ::1/64\r\na=rtpmap:0 PCMU/8000\r\n\
a=rtcp:21071 IN IP4 127.0.0.1\r\na=rtcp-mux\r\na=setup:active\r\n\
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:GjeNAGlV6Fg/RY6KFeIrMZPGCG3ohesoBjxdlG39|2^20|1:4 KDR=1\r\n\
m=video 0 RTP/AVP 96\r\n";

fn exercise_sdp(text: &str) {
    let sdp = Sdp::parse(text);
    assert!(sdp.media.len() <= 16);
    assert!(sdp.attributes.len() <= 256);
    for m in &sdp.media {
        assert!(m.attributes.len() <= 256);
        let _ = (sdp.rtp_target(m), sdp.rtcp_target(m, true));
        let _ = (sdp.rtcp_target(m, false), sdp.fingerprint(m), m.setup());
        let _ = (m.rtcp_mux(), m.rtcp_port(), m.secure_profile());
        for c in m.cryptos() {
            let described = c.describe();
            assert!(described.contains("inline:<key>"));
            if let Some((k, s)) = c.key_salt() {
                let (kl, sl) = c.suite.map(|s| s.key_salt_len()).unwrap_or_default();
                assert_eq!((k.len(), s.len()), (kl, sl));
            }
        }
    }
    let red = redact_keys(text);
    assert!(!red.contains("inline:GjeNAGlV6Fg/RY6KFeIrMZPGCG3ohesoBjxdlG39"));
}

#[test]
fn the_sdp_seed_parses() {
    let sdp = Sdp::parse(SDP_ANSWER);
    let m = sdp.audio().unwrap();
    assert_eq!(m.connection, Some("::1".parse().unwrap()));
    assert_eq!(m.cryptos()[0].key_extras, ["2^20", "1:4"]);
    assert!(m.cryptos()[0].key_salt().is_some());
    assert_eq!(sdp.media.len(), 2);
}

#[test]
fn sdp_answers_survive_random_and_mutated_text() {
    let mut rng = StdRng::seed_from_u64(8866);
    let alphabet = "\r\n :/|=^aAcmo0159\u{e9}\u{0}".as_bytes();
    for i in 0..20_000 {
        let bytes = if i % 4 == 0 {
            random_bytes(&mut rng, 300)
        } else {
            mutate(&mut rng, SDP_ANSWER.as_bytes(), alphabet, 8)
        };
        exercise_sdp(&String::from_utf8_lossy(&bytes));
    }
}

const CHALLENGE: &str = r#"Digest realm="sip.example.org", qop="auth,auth-int", algorithm=SHA-256-sess, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="a\"b", stale=TRUE"#;

#[test]
fn the_challenge_seed_parses() {
    let ch = Challenge::parse(CHALLENGE, false).unwrap();
    assert!(ch.sess && ch.stale);
    assert_eq!(ch.opaque.as_deref(), Some("a\"b"));
    assert_eq!(ch.qop, ["auth", "auth-int"]);
}

#[test]
fn digest_challenges_survive_random_and_mutated_text() {
    let mut rng = StdRng::seed_from_u64(7616);
    let alphabet = b" ,=\"\\\tDigestralmnoc-SHA256MD5sesqop";
    let mut client = DigestClient::new(Credentials::new("alice", "pw"));
    for i in 0..20_000 {
        let bytes = if i % 4 == 0 {
            random_bytes(&mut rng, 200)
        } else {
            mutate(&mut rng, CHALLENGE.as_bytes(), alphabet, 8)
        };
        let text = String::from_utf8_lossy(&bytes);
        if let Some(ch) = Challenge::parse(&text, i % 2 == 0)
            && let Some(a) = client.answer(&ch, "INVITE", "sip:bob@example.org")
        {
            assert!(a.header_value.starts_with("Digest username=\"alice\""));
            // A quote in the challenge stays escaped: the header keeps its quoted strings balanced.
            let unescaped = a.header_value.replace("\\\\", "").replace("\\\"", "");
            assert_eq!(unescaped.matches('"').count() % 2, 0, "{}", a.header_value);
        }
    }
}

#[test]
fn rtp_and_rtcp_readers_survive_random_and_mutated_packets() {
    let mut rng = StdRng::seed_from_u64(3550);
    let seed = sender_report(0x1234_5678, 10, 1600, 99);
    let alphabet = [0u8, 0x80, 0x81, 0x9F, 0xBF, 200, 201, 202, 0xFF];
    for i in 0..20_000 {
        let p = if i % 2 == 0 {
            random_bytes(&mut rng, 120)
        } else {
            mutate(&mut rng, &seed, &alphabet, 8)
        };
        let _ = (classify(&p), rtp_ssrc_seq(&p));
        let s = parse_rtcp(&p);
        assert!(s.types.len() <= 32);
        assert!(s.reported_ssrcs.len() <= 32 * 31);
    }
    assert_eq!(parse_rtcp(&seed).types, [200, 202]);
}

#[test]
fn certificate_analysis_survives_mutated_der() {
    let mut params = rcgen::CertificateParams::new(vec!["sip.example.org".into()]).unwrap();
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("192.0.2.1".parse().unwrap()));
    let key = rcgen::KeyPair::generate().unwrap();
    let der = params.self_signed(&key).unwrap().der().to_vec();
    let now = sipcheck::tls::cert::now_unix();
    let info = sipcheck::tls::cert::analyse(&der, now).unwrap();
    assert_eq!(info.dns_sans, ["sip.example.org"]);
    let mut rng = StdRng::seed_from_u64(5280);
    let alphabet = [0u8, 1, 2, 0x30, 0x31, 0x80, 0x81, 0x82, 0xA0, 0xA3, 0xFF];
    for _ in 0..3_000 {
        let d = mutate(&mut rng, &der, &alphabet, 8);
        if let Some(info) = sipcheck::tls::cert::analyse(&d, now) {
            let _ = sipcheck::tls::cert::sip_identity(&info, "sip.example.org");
        }
    }
}

#[test]
fn evidence_redaction_survives_random_bytes() {
    let mut rng = StdRng::seed_from_u64(3261);
    let seed = b"INVITE sip:b SIP/2.0\r\nAuthorization: Digest response=\"x\"\r\n\r\na=crypto:1 S inline:KEY|2^20\r\n";
    let alphabet = b"\r\n:a=inline|crypto\xff\x00";
    for i in 0..20_000 {
        let b = if i % 2 == 0 {
            random_bytes(&mut rng, 300)
        } else {
            mutate(&mut rng, seed, alphabet, 8)
        };
        let text = sipcheck::evidence::printable(&b);
        // Every byte may become `\xNN` (4 chars); the cut note adds a short line.
        assert!(text.len() <= 4 * sipcheck::evidence::MAX_EVIDENCE_BYTES + 64);
    }
    let red = sipcheck::evidence::printable(seed);
    assert!(!red.contains("response=") && !red.contains("KEY"));
}
