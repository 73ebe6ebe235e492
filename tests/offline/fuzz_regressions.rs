//! The failures coverage-guided fuzzing found (issue 16), each as its minimized input, so a plain
//! `cargo test` reproduces them without nightly. Stream cases are fed both in one read and byte by
//! byte; each also goes through the same property check its fuzz target runs.

use sipcheck::evidence::{printable, redact};
use sipcheck::fuzzing;
use sipcheck::sip::{Limits, Message};
use sipcheck::tls::answer::{Answer, Parser, Step};
use sipcheck::transport::framing::{Frame, Framer, next_frame};

/// The messages cut from `chunks` fed in order, and whether the stream stayed usable.
fn frames<'a>(chunks: impl Iterator<Item = &'a [u8]>, limits: &Limits) -> (Vec<Vec<u8>>, bool) {
    let (mut buf, mut out) = (Vec::new(), Vec::new());
    for c in chunks {
        buf.extend_from_slice(c);
        loop {
            match next_frame(&buf, limits) {
                Frame::Message(n) => out.push(buf.drain(..n).collect()),
                Frame::Invalid(_) => return (out, false),
                Frame::Need => break,
            }
        }
    }
    (out, true)
}

/// The same, by the incremental framer streams use.
fn frames_incrementally<'a>(
    chunks: impl Iterator<Item = &'a [u8]>,
    limits: &Limits,
) -> (Vec<Vec<u8>>, bool) {
    let (mut buf, mut out, mut framer) = (Vec::new(), Vec::new(), Framer::new(*limits));
    for c in chunks {
        buf.extend_from_slice(c);
        loop {
            match framer.next(&buf) {
                Frame::Message(n) => out.push(buf.drain(..n).collect()),
                Frame::Invalid(_) => return (out, false),
                Frame::Need => break,
            }
        }
    }
    (out, true)
}

fn one_read_and_byte_by_byte(stream: &[u8], limits: &Limits) -> (Vec<Vec<u8>>, bool) {
    let whole = frames(std::iter::once(stream), limits);
    let bytes = frames(stream.chunks(1), limits);
    assert_eq!(whole, bytes, "segmentation changed the frames");
    let incremental = frames_incrementally(stream.chunks(1), limits);
    assert_eq!(whole, incremental, "the incremental framer disagrees");
    whole
}

#[test]
fn redaction_covers_folded_continuations_of_credentials() {
    let msg = b"INVITE sip:b@x SIP/2.0\r\nProxy-Authorization: Digest username=\"alice\",\r\n realm=\"r\", response=\"deadbeef\"\r\n\tnonce=\"n\"\r\nVia: SIP/2.0/UDP h\r\n\r\n";
    let text = printable(msg);
    assert!(
        !text.contains("deadbeef") && !text.contains("realm") && !text.contains("nonce"),
        "{text}"
    );
    assert!(text.contains("Proxy-Authorization: <redacted>\r\n <redacted>\r\n\t<redacted>\r\nVia: SIP/2.0/UDP h\r\n"), "{text}");
    // The parser reads the redacted header as redacted too.
    let m = Message::parse(&redact(msg), &Limits::default()).unwrap();
    assert_eq!(
        m.header("Proxy-Authorization"),
        Some("<redacted> <redacted> <redacted>")
    );
    fuzzing::evidence_redaction(msg);
}

#[test]
fn redaction_masks_crypto_lines_whatever_their_case() {
    // The SDP reader matches attribute names without regard to case; the masker did not.
    let sdp = b"v=0\r\nm=audio 1 RTP/SAVP 0\r\na=CRYPTO:1 AES_CM_128_HMAC_SHA1_80 inline:GjeNAGlV6Fg/RY6KFeIrMZPGCG3ohesoBjxdlG39\r\n";
    let red = redact(sdp);
    assert_eq!(red.len(), sdp.len());
    assert!(!String::from_utf8_lossy(&red).contains("GjeNAG"));
    fuzzing::evidence_redaction(sdp);
}

#[test]
fn redaction_covers_authentication_info() {
    // rspauth is a digest over the password, as crackable as a response.
    let text = printable(b"SIP/2.0 200 OK\r\nAuthentication-Info: rspauth=\"0123abcd\"\r\n\r\n");
    assert!(!text.contains("0123abcd"), "{text}");
}

#[test]
fn a_folded_compact_content_length_is_part_of_the_header_before_it() {
    // ` l: 5` continues the Subject header for the parser; the framer once read it as a 5-byte body.
    let stream =
        b"SIP/2.0 200 OK\r\nSubject: x\r\n l: 5\r\n\r\nSIP/2.0 180 Ringing\r\nl: 0\r\n\r\n";
    let (msgs, ok) = one_read_and_byte_by_byte(stream, &Limits::default());
    fuzzing::sip_stream(stream);
    assert!(ok);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    let first = Message::parse(&msgs[0], &Limits::default()).unwrap();
    assert_eq!(first.header("Subject"), Some("x l: 5"));
    assert!(first.body.is_empty());
    assert_eq!(
        Message::parse(&msgs[1], &Limits::default())
            .unwrap()
            .status(),
        Some(180)
    );
}

#[test]
fn lf_only_line_ends_frame_the_same_in_one_read_and_byte_by_byte() {
    // One read once found the later CRLF CRLF first and framed one message; byte by byte found the
    // bare-LF blank line and framed two.
    let stream = b"SIP/2.0 200 OK\nl: 0\n\nSIP/2.0 180 Ringing\r\nl: 0\r\n\r\n";
    let (msgs, ok) = one_read_and_byte_by_byte(stream, &Limits::default());
    fuzzing::sip_stream(stream);
    assert!(ok);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(msgs[0], b"SIP/2.0 200 OK\nl: 0\n\n");
}

#[test]
fn the_framer_refuses_what_the_parser_refuses_as_too_large() {
    // Keep-alive CRLFs count towards the message the parser is given; the framer did not count them.
    // Small limits keep the byte-by-byte feed quick in a debug build.
    let limits = Limits {
        max_message: 512,
        ..Limits::default()
    };
    let head = b"SIP/2.0 200 OK\r\nl: 100\r\n\r\n";
    let mut stream = b"\r\n".repeat((limits.max_message - head.len() - 100) / 2 + 1);
    stream.extend_from_slice(head);
    stream.extend(std::iter::repeat_n(b'x', 100));
    assert!(stream.len() > limits.max_message);
    assert!(Message::parse(&stream, &limits).is_err());
    let (msgs, ok) = one_read_and_byte_by_byte(&stream, &limits);
    assert!(
        msgs.is_empty() && !ok,
        "a frame the parser would refuse: {}",
        msgs.len()
    );
    // The fuzz target's small limits (odd first byte) are these.
    fuzzing::sip_stream(&stream);
}

#[test]
fn a_head_the_parser_refuses_ends_the_stream() {
    // No trustworthy boundary after a header the parser cannot read: the framer once framed it by a
    // Content-Length found on its own.
    let stream = b"SIP/2.0 200 OK\r\nNo colon here\r\nl: 3\r\n\r\nabcSIP/2.0 200 OK\r\n\r\n";
    let (msgs, ok) = one_read_and_byte_by_byte(stream, &Limits::default());
    fuzzing::sip_stream(stream);
    assert!(msgs.is_empty() && !ok);
}

#[test]
fn folding_adds_no_stray_space() {
    // A value folded onto an empty one, or a blank continuation, printed back read differently.
    let m = Message::parse(
        b"SIP/2.0 200 OK\r\nSubject:\r\n  x\r\nAllow: A\r\n \r\n\r\n",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(m.header("Subject"), Some("x"));
    assert_eq!(m.header("Allow"), Some("A"));
    fuzzing::sip_message(&m.raw);
}

/// The reader's verdict on `bytes` fed in `chunks`, as text.
fn tls_verdict(chunks: &[&[u8]]) -> String {
    let mut p = Parser::new(true);
    for c in chunks {
        if let Step::Done(a) = p.feed(c) {
            return a.refusal();
        }
    }
    p.finish(Answer::Closed).refusal()
}

#[test]
fn tls_garbage_is_classified_the_same_in_one_read_and_byte_by_byte() {
    for garbage in [
        &b"\x80\x2e\x02\x00\x02\x00\x01\x00"[..],
        b"SIP/2.0 400 Bad Request\r\n",
        b"\x16\x03\x03",
    ] {
        let bytes: Vec<&[u8]> = garbage.chunks(1).collect();
        assert_eq!(
            tls_verdict(&[garbage]),
            tls_verdict(&bytes),
            "{garbage:02x?}"
        );
        let mut flagged = vec![1u8];
        flagged.extend_from_slice(garbage);
        fuzzing::tls_answer(&flagged);
    }
    assert!(tls_verdict(&[b"\x80\x2e\x02\x00\x02\x00\x01"]).starts_with("garbage: SSLv2-style"));
}

#[test]
fn digest_challenges_with_line_breaks_are_not_answered() {
    // A CR in a realm was copied into our Authorization header, splitting it.
    use sipcheck::sip::digest::Challenge;
    assert!(Challenge::parse("Digest realm=\"a\rX-Injected: 1\", nonce=\"n\"", false).is_none());
    assert!(Challenge::parse("Digest realm=\"a\", nonce=\"n\"", false).is_some());
    fuzzing::digest_challenge(b"Digest realm=\"a\rX-Injected: 1\", nonce=\"n\"");
}

#[test]
fn dns_sans_match_without_regard_to_case() {
    let mut params = rcgen::CertificateParams::new(vec!["SIP.Example.ORG".into()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    let key = rcgen::KeyPair::generate().unwrap();
    let der = params.self_signed(&key).unwrap().der().to_vec();
    let info = sipcheck::tls::cert::analyse(&der, sipcheck::tls::cert::now_unix()).unwrap();
    assert!(sipcheck::tls::cert::sip_identity(&info, "sip.example.org").matched);
    fuzzing::cert_der(&der);
}

#[test]
fn short_srtcp_packets_are_refused_before_the_library_reads_them() {
    // webrtc-srtp indexed the trailer and the SSRC of a short SRTCP packet and panicked; sipcheck
    // caught the panic, printing it. The target's input: suite selector, key ‖ salt, packet.
    let crash = [
        94u8, 95, 92, 93, 82, 73, 79, 76, 77, 72, 78, 66, 67, 64, 65, 128, 0, 0, 1, 0, 0, 0, 160,
        222, 173, 75, 72, 73, 78, 79, 76, 77, 66, 109, 61, 118, 105, 100, 101, 111, 32, 1, 0, 35,
        0, 160, 222, 173, 190, 239, 255, 255,
    ];
    fuzzing::srtp(&crash);
    // An 8-byte RTCP receiver report under AES_CM_128_HMAC_SHA1_80 (no room for index and tag).
    let mut short = vec![0u8];
    short.extend([7u8; 30]);
    short.extend([0x80, 201, 0, 1, 0, 0, 0, 1]);
    fuzzing::srtp(&short);
}

/// The `dns_answers` input: small bounds (3 SRV records per name, 2 addresses per host), no NAPTR,
/// four SRV records of equal priority and weight for `_sip._udp.sip.test`, and three A records for
/// the first host.
const EQUAL_SRV: &[u8] = &[
    0x40, 0, 12, 3, 1, 3, 0, 0, 1, 4, 0, 0, 1, 5, 0, 0, 1, 7, 0, 0, 1, 14, 4, 2, 2, 1, 2, 3, 5, 2,
    0, 2, 7, 2, 0, 3, 14, 2, 0, 4,
];

#[test]
fn discovery_does_not_depend_on_the_order_of_an_rrset() {
    // Which records the SRV and address caps kept, and the order endpoints were listed in,
    // followed the order the server sent an RRset in (a set, RFC 2181 §5).
    fuzzing::dns_answers(EQUAL_SRV);
    let mut naptr_ties = vec![0x40, 0, 0, 3];
    for rep in [1u8, 2, 3, 1] {
        // Equal order and preference, "s" flag, services SIPS+D2T, SIP+D2T, SIP+D2U.
        naptr_ties.extend([0, 0, 0, rep - 1, 0, rep]);
    }
    naptr_ties.extend([1, 1, 0, 0, 0, 1, 4, 2, 1, 0, 0, 1, 5, 3, 1, 0, 0, 1, 7]);
    naptr_ties.extend([4, 2, 0, 1, 5, 2, 0, 2, 7, 2, 0, 3]);
    fuzzing::dns_answers(&naptr_ties);
}

#[test]
fn underscores_next_to_letter_like_symbols_are_escaped_in_markdown() {
    // `Ⓐ` (category So) is alphabetic to Rust but punctuation to CommonMark: pandoc 2.17 rendered
    // `Ⓐ_x_Ⓐ`, escaped as it was, with x emphasised.
    assert_eq!(sipcheck::report::escape::md("Ⓐ_x_Ⓐ"), "Ⓐ\\_x\\_Ⓐ");
    assert_eq!(
        sipcheck::report::escape::md("TLS13_AES_128"),
        "TLS13_AES_128"
    );
    fuzzing::report_render("Ⓐ_x_Ⓐ".as_bytes());
}

#[test]
fn the_incremental_framer_frames_as_the_whole_buffer_does() {
    // Keep-alives before, between and alone; LF-only and CRLF heads; a body cut anywhere; a
    // head past the bound made of keep-alives only.
    let stream = b"\r\n\r\nOPTIONS sip:a SIP/2.0\nl: 3\n\nabc\r\nSIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n\r\n\r\nSIP/2.0 180 R\r\nl: 2\r\n\r\nx";
    let (msgs, ok) = one_read_and_byte_by_byte(stream, &Limits::default());
    assert_eq!(msgs.len(), 2);
    assert!(ok);
    let small = Limits {
        max_message: 64,
        max_headers: 8,
        max_line: 64,
    };
    let (msgs, ok) = one_read_and_byte_by_byte(&[b'\n'; 100], &small);
    assert!(
        msgs.is_empty() && !ok,
        "keep-alives alone past the bound end the stream"
    );
    for step in 1..8 {
        assert_eq!(
            frames_incrementally(stream.chunks(step), &Limits::default()),
            frames(std::iter::once(&stream[..]), &Limits::default()),
            "{step}-byte reads"
        );
    }
}

/// An x5u answer fed to the reader in one read or byte by byte, until it says it is complete.
fn x5u_answer(answer: &[u8], step: usize) -> Result<Vec<u8>, String> {
    let mut r = sipcheck::stir::x5u::AnswerReader::default();
    for c in answer.chunks(step) {
        if r.push(c).map_err(|e| e.to_string())? {
            break;
        }
    }
    r.finish().map(|(body, _)| body).map_err(|e| e.to_string())
}

#[test]
fn x5u_answers_with_differing_content_lengths_are_refused_however_they_arrive() {
    // Framed by the first Content-Length (complete after "abc" byte by byte) but parsed by the
    // last: "abcde" in one read, "body shorter than Content-Length" byte by byte.
    let two = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde";
    let list = b"HTTP/1.1 200 OK\r\nContent-Length: 5, 3\r\n\r\nabcde";
    for bad in [&two[..], &list[..]] {
        for step in [bad.len(), 1, 7] {
            let e = x5u_answer(bad, step).unwrap_err();
            assert!(e.contains("differing Content-Length"), "{e}");
        }
    }
    // Repeating one value is allowed (RFC 9112 §6.3); a sign is not a length.
    let same = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3, 3\r\n\r\nabcdef";
    for step in [same.len(), 1, 7] {
        assert_eq!(x5u_answer(same, step).unwrap(), b"abc");
    }
    let signed = b"HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc";
    assert!(x5u_answer(signed, 1).is_err());
    assert_eq!(
        sipcheck::stir::x5u::parse_response(same).unwrap().0,
        x5u_answer(same, 1).unwrap()
    );
}
