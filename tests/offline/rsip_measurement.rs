//! Why sipcheck parses SIP itself instead of with `rsip` (the design named it): this test keeps the
//! measurement reproducible. rsip 0.4 rejects inputs real trunks send — IPv6 Via hosts (RFC 5118),
//! compact header forms and folded headers (RFC 3261 §7.3) — that sipcheck's parser must read. If a
//! future rsip accepts them, this test fails and the decision in `docs/architecture.md` "Dependencies and why" should
//! be revisited.

use sipcheck::sip::{Limits, Message};

const CASES: &[(&str, &str)] = &[
    (
        "IPv6 Via",
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1\r\nFrom: <sip:a@[2001:db8::2]>;tag=1\r\nTo: <sip:b@[2001:db8::3]>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    ),
    (
        "compact forms",
        "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\nf: <sip:a@example.com>;tag=1\r\nt: <sip:b@example.com>;tag=2\r\ni: x\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n",
    ),
    (
        "folded header",
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nAllow: INVITE,\r\n  REFER\r\nContent-Length: 0\r\n\r\n",
    ),
];

/// Whether rsip reads the message fully enough to use its Via, Call-ID and CSeq (what matching needs).
fn rsip_reads(raw: &str) -> bool {
    use rsip::prelude::*;
    let Ok(rsip::SipMessage::Response(r)) = rsip::SipMessage::try_from(raw) else {
        return false;
    };
    let via_ok = r.via_header().ok().and_then(|v| v.typed().ok()).is_some();
    let callid_ok = r.call_id_header().is_ok();
    let cseq_ok = r.cseq_header().ok().and_then(|c| c.typed().ok()).is_some();
    let allow_ok = !raw.contains("Allow:")
        || r.headers()
            .iter()
            .any(|h| matches!(h, rsip::Header::Allow(a) if a.value().contains("REFER")));
    via_ok && callid_ok && cseq_ok && allow_ok
}

#[test]
fn rsip_fails_where_sipcheck_must_not() {
    let mut rsip_failures = Vec::new();
    for (name, raw) in CASES {
        let m = Message::parse(raw.as_bytes(), &Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(m.top_via_branch().as_deref(), Some("z9hG4bK1"), "{name}");
        assert_eq!(m.header("Call-ID"), Some("x"), "{name}");
        if !rsip_reads(raw) {
            rsip_failures.push(*name);
        }
    }
    assert_eq!(
        rsip_failures,
        ["IPv6 Via", "compact forms", "folded header"],
        "rsip now reads some of these: revisit the dependency decision in docs/architecture.md"
    );
}
