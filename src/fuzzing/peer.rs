//! Properties of the parsers of bytes a peer sends.

use crate::evidence::{MAX_EVIDENCE_BYTES, printable, redact, secret_header_colon};
use crate::media::rtp::{Kind, classify, parse_rtcp, rtp_ssrc_seq};
use crate::sip::digest::{Challenge, Credentials, DigestClient};
use crate::sip::sdp::{Sdp, Suite, redact_keys};
use crate::sip::{Limits, Message, StartLine};
use crate::tls::answer::{Answer, Parser, Step};
use crate::transport::framing::{Frame, Framer, next_frame};

/// Small limits as well as the defaults, so the fuzzer reaches every bound with short inputs.
fn limits_for(data: &[u8]) -> Limits {
    if data.first().is_some_and(|b| b & 1 == 1) {
        Limits {
            max_message: 512,
            max_headers: 8,
            max_line: 64,
        }
    } else {
        Limits::default()
    }
}

/// The message printed back from what was parsed: start line, `Name: value` lines, body.
fn print(m: &Message) -> Vec<u8> {
    let mut out = m.first_line().into_bytes();
    out.extend_from_slice(b"\r\n");
    for (n, v) in &m.headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&m.body);
    out
}

/// SIP message parsing plus every helper a probe calls on a parsed message.
pub fn sip_message(data: &[u8]) {
    let limits = limits_for(data);
    let Ok(m) = Message::parse(data, &limits) else {
        return;
    };
    assert!(m.headers.len() <= limits.max_headers);
    assert!(data.starts_with(&m.raw), "raw is what was read");
    assert!(m.raw.ends_with(&m.body));
    let cl = m
        .content_length()
        .expect("a parsed message has a usable length");
    if let Some(cl) = cl {
        assert!(m.body.len() <= cl);
    }
    for (n, v) in &m.headers {
        assert!(!n.is_empty() && !n.contains([':', '\n']) && !v.contains('\n'));
        assert_eq!(v.trim(), v, "values are trimmed");
        assert!(
            v.len() <= limits.max_line,
            "a joined value stays within the line bound"
        );
    }
    for name in [
        "Allow",
        "Supported",
        "Require",
        "Via",
        "Security-Server",
        "k",
    ] {
        for t in m.list_header(name) {
            assert!(!t.is_empty() && !t.contains(','));
        }
        if let Some(q) = m.quote_header(name) {
            let long = crate::sip::parse::canonical_name(name);
            let quoted = q.get(..long.len()).unwrap_or_default();
            assert!(quoted.eq_ignore_ascii_case(long) && q[long.len()..].starts_with(": "));
        }
    }
    assert!(!m.first_line().contains('\n'));
    let _ = (m.cseq(), m.top_via_branch(), m.reason(), m.method());
    let _ = crate::sip::digest::Challenge::all_in(&m);
    match &m.start {
        StartLine::Response { code, .. } => {
            assert!((100..=699).contains(code) && m.status() == Some(*code))
        }
        StartLine::Request { method, .. } => assert_eq!(m.method(), Some(method.as_str())),
    }
    // Round trip: what was understood, printed canonically, reads back the same.
    let wide = Limits {
        max_message: limits.max_message * 4 + 1024,
        max_headers: limits.max_headers,
        max_line: limits.max_line * 2 + 64,
    };
    let again = Message::parse(&print(&m), &wide).expect("the printed message parses");
    assert_eq!(again.start, m.start);
    assert_eq!(again.headers, m.headers);
    assert_eq!(again.body, m.body);
}

/// Every message the framer cuts from `chunks` fed in order, and how the stream ended: by the
/// incremental [`Framer`] streams use, or by [`next_frame`] looking at the whole buffer each time.
fn frame_all<'a>(
    chunks: impl Iterator<Item = &'a [u8]>,
    limits: &Limits,
    incremental: bool,
) -> (Vec<Vec<u8>>, String) {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut framer = Framer::new(*limits);
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            let frame = if incremental {
                framer.next(&buf)
            } else {
                next_frame(&buf, limits)
            };
            match frame {
                Frame::Message(n) => {
                    assert!(n > 0 && n <= buf.len() && n <= limits.max_message);
                    out.push(buf.drain(..n).collect());
                }
                Frame::Invalid(why) => return (out, format!("invalid: {why}")),
                Frame::Need => break,
            }
        }
    }
    (out, format!("need, {} bytes left", buf.len()))
}

/// Stream framing: one read, byte-by-byte reads and reads of varying sizes give the same messages,
/// whether framed incrementally or from the whole buffer, and every frame is a message the parser
/// accepts whole.
pub fn sip_stream(data: &[u8]) {
    let limits = limits_for(data);
    let whole = frame_all(std::iter::once(data), &limits, false);
    assert_eq!(whole, frame_all(std::iter::once(data), &limits, true));
    let bytes = frame_all(data.chunks(1), &limits, true);
    assert_eq!(whole, bytes, "one read and byte-by-byte reads disagree");
    let step = 1 + data.get(1).copied().unwrap_or(0) as usize % 17;
    assert_eq!(whole, frame_all(data.chunks(step), &limits, true));
    assert_eq!(whole, frame_all(data.chunks(step), &limits, false));
    for frame in &whole.0 {
        let m = Message::parse(frame, &limits).expect("the parser accepts what the framer framed");
        assert_eq!(m.raw, *frame, "the parser reads the whole frame");
        assert_eq!(m.body.len(), m.content_length().unwrap().unwrap_or(0));
    }
    // A datagram holding the same bytes reads as the first stream message when that one says its
    // length (without Content-Length a datagram's body is all that follows).
    if let (Some(first), true) = (whole.0.first(), data.len() <= limits.max_message) {
        let m = Message::parse(data, &limits).expect("the first frame parses as a datagram");
        if m.content_length().ok().flatten().is_some() {
            assert_eq!(m.raw, *first);
        }
    }
}

/// The answer of a fresh reader fed `chunks` in order, and what it made of the end.
fn tls_read<'a>(chunks: impl Iterator<Item = &'a [u8]>, want_flight: bool) -> String {
    let mut p = Parser::new(want_flight);
    for c in chunks {
        if let Step::Done(a) = p.feed(c) {
            return format!("{a:?}");
        }
    }
    format!("{:?}", p.finish(Answer::Closed))
}

/// The TLS answer reader: the verdict does not depend on how the bytes were cut into reads.
pub fn tls_answer(data: &[u8]) {
    let (want_flight, data) = match data.split_first() {
        Some((f, rest)) => (f & 1 == 1, rest),
        None => (true, data),
    };
    // The SSLv2 SERVER-HELLO reader decides on the first record only: an answer read from a prefix
    // is the answer of the whole input.
    let v2 = crate::tls::sslv2::parse(data);
    for cut in [1, 2, 7, data.len() / 2] {
        if let Some(a) = data.get(..cut).and_then(crate::tls::sslv2::parse) {
            assert_eq!(Some(a), v2, "SSLv2 answer of a prefix vs the whole");
        }
    }
    let whole = tls_read(std::iter::once(data), want_flight);
    assert_eq!(
        whole,
        tls_read(data.chunks(1), want_flight),
        "one read vs byte by byte"
    );
    assert_eq!(
        whole,
        tls_read(data.chunks(7), want_flight),
        "one read vs 7-byte reads"
    );
    let mut p = Parser::new(want_flight);
    let answer = match p.feed(data) {
        Step::Done(a) => a,
        Step::Need => p.finish(Answer::Timeout),
    };
    if let Answer::Hello(h) = &answer {
        assert!(h.chain.iter().map(Vec::len).sum::<usize>() <= data.len());
        assert!(h.extensions.len() <= data.len() / 4);
        let _ = (h.downgrade_sentinel(), answer.refusal());
    }
    assert!(answer.refusal().len() < 256, "a refusal is one short line");
}

/// SDP answers: bounded, keys decoded to the suite's lengths, no key left after redaction.
pub fn sdp(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let sdp = Sdp::parse(&text);
    assert!(sdp.media.len() <= 16 && sdp.attributes.len() <= 256);
    for m in &sdp.media {
        assert!(m.attributes.len() <= 256);
        let _ = (
            sdp.rtp_target(m),
            sdp.rtcp_target(m, true),
            sdp.rtcp_target(m, false),
        );
        let _ = (sdp.fingerprint(m), m.setup(), m.rtcp_mux(), m.rtcp_port());
        let _ = m.secure_profile();
        for c in m.cryptos() {
            assert!(c.describe().contains("inline:<key>"));
            if let Some((k, s)) = c.key_salt() {
                let (kl, sl) = c.suite.map(Suite::key_salt_len).unwrap_or_default();
                assert_eq!((k.len(), s.len()), (kl, sl));
            }
        }
    }
    let red = redact_keys(&text);
    assert_no_keys(&red);
}

/// No `a=crypto` line of `text` still carries a decodable, non-empty key.
fn assert_no_keys(text: &str) {
    let sdp = Sdp::parse(text);
    for m in &sdp.media {
        for c in m.cryptos() {
            assert!(
                c.key.as_ref().is_none_or(Vec::is_empty),
                "a key survived redaction: {c:?}"
            );
        }
    }
}

/// Digest challenges and the response: deterministic, well-formed, and the answer reads back with
/// the challenge's realm, nonce and opaque (so quoting round-trips).
pub fn digest_challenge(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let proxy = data.first().is_some_and(|b| b & 1 == 1);
    let Some(ch) = Challenge::parse(&text, proxy) else {
        return;
    };
    let answer = |cnonce: &str| {
        DigestClient::new(Credentials::new("alice", "pw\"\\")).answer_with_cnonce(
            &ch,
            "REGISTER",
            "sip:example.org",
            cnonce,
        )
    };
    let Some(a) = answer("0a4f113b") else {
        return;
    };
    assert_eq!(
        Some(&a),
        answer("0a4f113b").as_ref(),
        "same inputs, same response"
    );
    assert_eq!(a.header_name.starts_with("Proxy"), proxy);
    let v = &a.header_value;
    assert!(
        !v.contains(['\r', '\n', '\0']),
        "no line break in our header: {v:?}"
    );
    assert!(v.starts_with("Digest username=\"alice\""));
    let back = Challenge::parse(v, proxy).expect("our answer reads back");
    assert_eq!(
        (&back.realm, &back.nonce, &back.opaque),
        (&ch.realm, &ch.nonce, &ch.opaque)
    );
    let hex_len = match a.algorithm {
        crate::sip::digest::Algorithm::Md5 => 32,
        _ => 64,
    };
    let hex_response = |(i, _): (usize, &str)| {
        let r = &v.as_bytes()[i + "response=\"".len()..];
        r.len() > hex_len && r[..hex_len].iter().all(u8::is_ascii_hexdigit) && r[hex_len] == b'"'
    };
    assert!(v.match_indices("response=\"").any(hex_response), "{v}");
}

/// RTP/RTCP demultiplexing and report reading: bounded and consistent with each other.
pub fn rtp_rtcp(data: &[u8]) {
    let kind = classify(data);
    if kind == Kind::Rtp {
        assert!(rtp_ssrc_seq(data).is_some(), "an RTP packet has an SSRC");
    }
    let s = parse_rtcp(data);
    assert!(s.types.len() <= 32 && s.reported_ssrcs.len() <= 32 * 31);
    assert!(s.types.len() * 4 <= data.len());
    if let Some((ssrc, seq)) = rtp_ssrc_seq(data) {
        let mut built = crate::media::rtp::rtp_packet(ssrc, seq, 0);
        built[1] = data[1];
        assert_eq!(rtp_ssrc_seq(&built), Some((ssrc, seq)));
    }
}

/// SRTP: arbitrary packets never break the receiver; what we protect unprotects to itself, and any
/// changed byte is refused.
pub fn srtp(data: &[u8]) {
    let suites = [
        Suite::AesCm128HmacSha1_80,
        Suite::AesCm128HmacSha1_32,
        Suite::Aes256CmHmacSha1_80,
        Suite::AeadAes128Gcm,
        Suite::AeadAes256Gcm,
    ];
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let suite = suites[*first as usize % suites.len()];
    let (k, s) = suite.key_salt_len();
    if rest.len() < k + s {
        return;
    }
    let (key, packet) = rest.split_at(k + s);
    let ctx = || crate::media::flow::context(suite, key).expect("a full-length key");
    let _ = ctx().decrypt_rtp(packet);
    if let Err(e) = crate::media::flow::unprotect_rtcp(suite, &mut ctx(), packet) {
        // sipcheck refuses what the library cannot read instead of relying on catching its panic.
        assert!(!e.contains("panicked"), "{e}");
    }
    // Protect an RTCP packet made of the input, then unprotect it through sipcheck's path.
    let mut rtcp = vec![0x80, 200 + packet.first().copied().unwrap_or(0) % 8, 0, 1];
    rtcp.extend(packet.iter().skip(1).take(4).copied());
    rtcp.resize(8, 0);
    if let Ok(sealed) = ctx().encrypt_rtcp(&rtcp) {
        let opened = crate::media::flow::unprotect_rtcp(suite, &mut ctx(), &sealed);
        assert_eq!(
            opened.as_deref(),
            Ok(&rtcp[..]),
            "our SRTCP packet unprotects"
        );
    }
    // A plain RTP packet whose header and payload come from the input.
    let mut plain = vec![0x80, packet.first().copied().unwrap_or(0) & 0x7f];
    plain.extend(packet.iter().skip(1).take(10).copied());
    plain.resize(12, 0);
    plain.extend(packet.iter().skip(11).take(256));
    let Ok(sealed) = ctx().encrypt_rtp(&plain) else {
        return;
    };
    let opened = ctx()
        .decrypt_rtp(&sealed)
        .expect("our own packet unprotects");
    assert_eq!(&opened[..], &plain[..]);
    let at = packet.len() % sealed.len();
    let mut tampered = sealed.to_vec();
    tampered[at] ^= 0x01;
    assert!(
        ctx().decrypt_rtp(&tampered).is_err(),
        "a changed byte {at} authenticated"
    );
}

/// Certificate analysis on arbitrary DER: what it reports comes from the bytes, identity matching
/// agrees with the SANs it lists.
pub fn cert_der(data: &[u8]) {
    let Some(info) = crate::tls::cert::analyse(data, 1_767_225_600) else {
        return;
    };
    let sans = info.dns_sans.len() + info.uri_sans.len() + info.ip_sans.len();
    assert!(sans <= data.len());
    let sip_uris = info
        .uri_sans
        .iter()
        .any(|u| u.to_ascii_lowercase().starts_with("sip:"));
    for d in info.dns_sans.iter().take(4) {
        // Names sip_identity would first normalise (brackets, a final dot) or read as an address
        // are not compared as written.
        let as_written = !d.contains(['[', ']']) && !d.ends_with('.');
        if !sip_uris && as_written && d.parse::<std::net::IpAddr>().is_err() {
            let m = crate::tls::cert::sip_identity(&info, d);
            assert!(m.matched, "{d} is a DNS SAN: {m:?}");
        }
    }
    let _ = crate::tls::cert::sip_identity(&info, "sip.example.org");
}

/// Evidence: bounded printable text, no NUL or other raw control byte, every credential header and
/// each of its folded continuation lines redacted, SDES keys masked keeping their length.
pub fn evidence_redaction(data: &[u8]) {
    let red = redact(data);
    let lines_in: Vec<&[u8]> = data.split_inclusive(|b| *b == b'\n').collect();
    let lines_out: Vec<&[u8]> = red.split_inclusive(|b| *b == b'\n').collect();
    assert_eq!(lines_in.len(), lines_out.len(), "redaction keeps the lines");
    let mut in_secret = false;
    for (a, b) in lines_in.iter().zip(&lines_out) {
        let folded = a.first().is_some_and(|c| matches!(c, b' ' | b'\t'));
        if in_secret && folded {
            assert_eq!(trim(b), b"<redacted>", "a credential continuation survived");
            continue;
        }
        in_secret = false;
        if let Some(i) = secret_header_colon(a) {
            in_secret = true;
            assert_eq!(
                trim(&b[i + 1..]),
                b"<redacted>",
                "a credential line survived"
            );
        } else if is_crypto_line(a) {
            assert_eq!(a.len(), b.len(), "SDES masking keeps the length");
        } else {
            assert_eq!(a, b, "other lines are kept");
        }
    }
    assert_no_keys(&String::from_utf8_lossy(&red));
    // What the SIP parser reads in the redacted bytes carries no credential either.
    if let Ok(m) = Message::parse(&red, &Limits::default()) {
        for (n, v) in &m.headers {
            if secret_header_colon(format!("{n}:").as_bytes()).is_some() {
                assert!(v.split(' ').all(|w| w == "<redacted>"), "{n}: {v}");
            }
        }
    }
    let text = printable(data);
    assert!(
        text.len() <= 4 * MAX_EVIDENCE_BYTES + 64,
        "evidence is bounded"
    );
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\r' | '\n' | '\t')),
        "no raw control character (NUL included) in evidence"
    );
}

fn is_crypto_line(line: &[u8]) -> bool {
    crate::evidence::is_crypto_line(line)
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}
