//! Random and mutated peer input must never panic the parser or the stream framer, and every accepted
//! message must respect the limits. Seeded, so a failure is reproducible.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sipcheck::sip::{Limits, Message};
use sipcheck::transport::framing::{Frame, next_frame};

const VALID: &[u8] = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKx;rport=1\r\n\
From: <sip:a@b>;tag=1\r\nTo: <sip:b@c>;tag=2\r\ni: abc\r\nCSeq: 1 OPTIONS\r\nAllow: INVITE,\r\n  REFER\r\n\
Content-Type: application/sdp\r\nl: 5\r\n\r\nv=0\r\n";

fn check(input: &[u8], limits: &Limits) {
    if let Ok(m) = Message::parse(input, limits) {
        assert!(m.headers.len() <= limits.max_headers);
        assert!(m.raw.len() <= input.len());
        assert!(m.body.len() <= input.len());
        let _ = (
            m.top_via_branch(),
            m.cseq(),
            m.list_header("Allow"),
            m.content_length(),
        );
    }
    match next_frame(input, limits) {
        Frame::Message(n) => assert!(n <= input.len()),
        Frame::Need | Frame::Invalid(_) => {}
    }
}

#[test]
fn random_bytes_never_panic() {
    let limits = Limits::default();
    let mut rng = StdRng::seed_from_u64(0x5195);
    for _ in 0..20_000 {
        let len = rng.random_range(0..300);
        let v: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        check(&v, &limits);
    }
}

#[test]
fn mutated_messages_never_panic() {
    let limits = Limits::default();
    let mut rng = StdRng::seed_from_u64(3261);
    let alphabet = b"\r\n :;,=<>\"[]@\t\x00\xffSIP/2.0l0123456789";
    for _ in 0..50_000 {
        let mut v = VALID.to_vec();
        for _ in 0..rng.random_range(1..8) {
            let i = rng.random_range(0..v.len());
            match rng.random_range(0..4) {
                0 => v[i] = alphabet[rng.random_range(0..alphabet.len())],
                1 => {
                    v.remove(i);
                }
                2 => v.insert(i, alphabet[rng.random_range(0..alphabet.len())]),
                _ => v.truncate(i),
            }
            if v.is_empty() {
                break;
            }
        }
        check(&v, &limits);
    }
}

#[test]
fn the_valid_seed_parses() {
    let m = Message::parse(VALID, &Limits::default()).unwrap();
    assert_eq!(m.list_header("Allow"), ["INVITE", "REFER"]);
    assert_eq!(m.body, b"v=0\r\n");
}
