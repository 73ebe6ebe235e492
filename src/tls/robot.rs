//! ROBOT (the Return Of Bleichenbacher's Oracle Threat, CVE-2017-13099 and its family), bounded.
//!
//! One hello offering only static-RSA key exchange suites reads the server's certificate; only if a
//! suite is accepted, five ClientKeyExchange messages follow, each on its own handshake: an RSA block
//! that is correct PKCS#1 v1.5, and four that are not (wrong first two bytes, the 0x00 separator in the
//! wrong place, no separator, a wrong version in the premaster secret). RFC 5246 §7.4.7.1 requires a
//! server to treat them all alike; an oracle answers them differently (another alert, a close, a
//! reset, silence). The first flow sends ChangeCipherSpec and a Finished the server cannot decrypt
//! behind each; only when those all get the same answer does a second flow send the ClientKeyExchange
//! alone. A flow whose answers differ is repeated once, and counts as an oracle only when the second
//! round says exactly the same. The five of a round go side by side; an attempt whose hello was
//! answered too late to send its key exchange (a server that serves one connection at a time) is
//! retried once, one at a time, and a round with one still missing is never judged. At most
//! [`MAX_HANDSHAKES`] handshakes, each within two `wait`s (one for the hello, a fresh one for the
//! answer to the key exchange).

use std::net::SocketAddr;
use std::time::Duration;

use openssl::bn::BigNum;
use openssl::rsa::{Padding, Rsa};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use super::answer::{Answer, Parser, Step, alert_name};
use super::hello::Hello;
use super::suites;
use super::version::{self, Version};
use super::wire;
use crate::findings::tls::robot::{
    PAYLOADS, RobotDetails, RobotRound, complete, grade, measured, oracle_of,
};
pub use crate::findings::tls::robot::MAX_HANDSHAKES;
use crate::transport::Limiter;

/// The client_version of the check's hello (TLS 1.2).
const CLIENT_VERSION: u16 = 0x0303;
const WITH_FINISHED: &str = "ClientKeyExchange, ChangeCipherSpec, Finished";
const CKE_ONLY: &str = "ClientKeyExchange only";

/// The static-RSA key exchange suites the check offers, GCM first (some servers are oracles only
/// with GCM).
pub fn rsa_suites() -> Vec<u16> {
    let mut s: Vec<u16> = suites::candidates(Version::Tls12)
        .into_iter()
        .filter(|c| {
            let n = suites::name(*c);
            n.starts_with("TLS_RSA_WITH_") && !n.contains("NULL")
        })
        .collect();
    s.sort_by_key(|c| !suites::name(*c).contains("GCM"));
    s
}

/// The server's RSA key from the leaf certificate.
fn rsa_key(der: &[u8]) -> Option<Rsa<openssl::pkey::Public>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    match cert.public_key().parsed().ok()? {
        x509_parser::public_key::PublicKey::RSA(k) => Rsa::from_public_components(
            BigNum::from_slice(k.modulus).ok()?,
            BigNum::from_slice(k.exponent).ok()?,
        )
        .ok(),
        _ => None,
    }
}

/// The PKCS#1 block of payload `i` (see [`PAYLOADS`]) for a `k`-byte modulus: non-zero padding,
/// and a premaster secret without zero bytes so the separator is where the payload puts it.
fn block(i: usize, k: usize, version: u16) -> Vec<u8> {
    let pad: Vec<u8> = (0..k - 3 - 48).map(|_| rand::random_range(1..=255u8)).collect();
    let pms: Vec<u8> = (0..46).map(|_| rand::random_range(1..=255u8)).collect();
    let v = version.to_be_bytes();
    let mut b = Vec::with_capacity(k);
    match i {
        0 => b.extend([0x00, 0x02]),
        1 => b.extend([0x41, 0x17]),
        _ => b.extend([0x00, 0x02]),
    }
    b.extend_from_slice(&pad);
    match i {
        2 => {
            b.push(0x11);
            b.extend_from_slice(&pms);
            b.extend([0x00, 0x11]);
        }
        3 => {
            b.extend([0x11, 0x11, 0x11]);
            b.extend_from_slice(&pms);
        }
        4 => {
            b.extend([0x00, 0x02, 0x02]);
            b.extend_from_slice(&pms);
        }
        _ => {
            b.push(0x00);
            b.extend_from_slice(&v);
            b.extend_from_slice(&pms);
        }
    }
    b
}

/// The ClientKeyExchange record of payload `i`, and when `finished`, a ChangeCipherSpec and a
/// Finished record of the suite's size that the server cannot decrypt.
fn flight(key: &Rsa<openssl::pkey::Public>, i: usize, version: u16, aead: bool, finished: bool) -> Option<Vec<u8>> {
    let k = key.size() as usize;
    // The premaster secret carries the hello's client_version, not the negotiated one (RFC 5246
    // §7.4.7.1); the records carry the negotiated one.
    let plain = block(i, k, CLIENT_VERSION);
    let mut enc = vec![0u8; k];
    key.public_encrypt(&plain, &mut enc, Padding::NONE).ok()?;
    let v = version.to_be_bytes();
    let mut hs = vec![16];
    hs.extend_from_slice(&((k + 2) as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&(k as u16).to_be_bytes());
    hs.extend_from_slice(&enc);
    let mut out = vec![22, v[0], v[1]];
    out.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    out.extend(hs);
    if finished {
        out.extend([20, v[0], v[1], 0, 1, 1]);
        // GCM: explicit nonce, 16 bytes of Finished, tag; CBC-SHA: IV, Finished, MAC, padding.
        let len: usize = if aead { 8 + 16 + 16 } else { 64 };
        out.extend([22, v[0], v[1], 0, len as u8]);
        out.extend((0..len).map(|_| rand::random::<u8>()));
    }
    Some(out)
}

/// Reads the server's first flight to ServerHelloDone.
async fn first_flight(s: &mut TcpStream, deadline: Instant) -> Answer {
    let mut parser = Parser::new(true);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = match timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => return parser.finish(Answer::Timeout),
            Ok(Err(_)) => return parser.finish(Answer::Reset),
            Ok(Ok(0)) => return parser.finish(Answer::Closed),
            Ok(Ok(n)) => n,
        };
        if let Step::Done(a) = parser.feed(&chunk[..n]) {
            return a;
        }
    }
}

/// What came back after the ClientKeyExchange: the first record's kind (an alert by name), or how
/// the connection ended.
async fn reply(s: &mut TcpStream, deadline: Instant) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if buf.len() >= 7 && buf[0] == 21 {
            return format!("alert:{}", alert_name(buf[6]));
        }
        if buf.len() >= 5 && buf[0] != 21 {
            return format!("record type {}", buf[0]);
        }
        match timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => return "timeout".into(),
            Ok(Err(_)) => return "reset".into(),
            Ok(Ok(0)) => return "closed".into(),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n.min(64)]),
        }
    }
}

/// The hello every handshake of the check sends.
fn hello(sni: Option<String>) -> Vec<u8> {
    let mut h = Hello::new(Version::Tls12, rsa_suites(), sni);
    h.offer_compression = false;
    h.encode()
}

/// What one handshake with one payload got.
async fn attempt(
    addr: SocketAddr,
    hello: &[u8],
    key: &Rsa<openssl::pkey::Public>,
    i: usize,
    finished: bool,
    wait: Duration,
) -> String {
    let deadline = Instant::now() + wait;
    let mut s = match wire::connect(addr, deadline).await {
        Ok(s) => s,
        Err(a) => return format!("no connection: {}", a.refusal()),
    };
    if s.write_all(hello).await.is_err() {
        return "reset before the ServerHello".into();
    }
    let sh = match first_flight(&mut s, deadline).await {
        Answer::Hello(h) if h.flight_complete => h,
        a => return format!("hello {}", a.refusal()),
    };
    let aead = suites::name(sh.suite).contains("GCM");
    let Some(bytes) = flight(key, i, sh.version, aead, finished) else {
        return "not sent: RSA encryption failed".into();
    };
    if s.write_all(&bytes).await.is_err() {
        return "reset".into();
    }
    // The answer to the key exchange gets a whole `wait` of its own: a hello answered late (a server
    // busy with another of our connections) must not leave it a moment, which would read as silence.
    let r = reply(&mut s, Instant::now() + wait).await;
    let _ = s.shutdown().await;
    r
}

/// Connections a check may open again, one at a time, for attempts that never got as far as the
/// key exchange (a server that serves one connection at a time answers the others' hellos late).
pub const RETRIES: usize = 5;

/// The same connection slots and budget for every round of one check.
struct Rounds<'a> {
    addr: SocketAddr,
    hello: Vec<u8>,
    key: Rsa<openssl::pkey::Public>,
    wait: Duration,
    limiter: &'a Limiter,
    handshakes: usize,
    retries_left: usize,
}

impl Rounds<'_> {
    async fn one(&self, i: usize, finished: bool) -> String {
        let _slot = self.limiter.connection(self.addr.ip()).await;
        // Hellos spaced as the scan's are (Kamailio's TLS workers, see `transport::handshakes`).
        let _turn = self.limiter.handshake(self.addr.ip()).await;
        attempt(self.addr, &self.hello, &self.key, i, finished, self.wait).await
    }

    /// One round: the five payloads on concurrent connections, each holding a connection slot; then
    /// the attempts that never sent their key exchange once more, one at a time, while the retry
    /// budget lasts.
    async fn round(&mut self, finished: bool) -> RobotRound {
        let mut answers =
            futures_util::future::join_all((0..PAYLOADS.len()).map(|i| self.one(i, finished)))
                .await;
        self.handshakes += PAYLOADS.len();
        for (i, a) in answers.iter_mut().enumerate() {
            if measured(a) || self.retries_left == 0 {
                continue;
            }
            self.retries_left -= 1;
            self.handshakes += 1;
            *a = self.one(i, finished).await;
        }
        RobotRound {
            flow: if finished { WITH_FINISHED } else { CKE_ONLY }.into(),
            answers: PAYLOADS.iter().map(|p| p.to_string()).zip(answers).collect(),
        }
    }
}

/// Runs the check against `addr`; every wait is bounded by `wait`, at most [`MAX_HANDSHAKES`]
/// handshakes.
pub async fn check(
    addr: SocketAddr,
    sni: Option<String>,
    wait: Duration,
    limiter: &Limiter,
) -> RobotDetails {
    let mut d = RobotDetails {
        max_handshakes: MAX_HANDSHAKES,
        ..Default::default()
    };
    let hello = hello(sni);
    let first = {
        let _slot = limiter.connection(addr.ip()).await;
        let _turn = limiter.handshake(addr.ip()).await;
        let deadline = Instant::now() + wait;
        d.handshakes += 1;
        match wire::connect(addr, deadline).await {
            Err(a) => a,
            Ok(mut s) => {
                let a = if s.write_all(&hello).await.is_err() {
                    Answer::Reset
                } else {
                    first_flight(&mut s, deadline).await
                };
                let _ = s.shutdown().await;
                a
            }
        }
    };
    d.hello = first.refusal();
    let Some(sh) = first.hello() else {
        return d;
    };
    d.version = Some(version::wire_label(sh.version).to_string());
    d.suite = Some(suites::name(sh.suite));
    d.rsa_key_exchange = sh.version <= 0x0303 && rsa_suites().contains(&sh.suite);
    if !d.rsa_key_exchange {
        return d;
    }
    let Some(key) = sh.chain.first().and_then(|c| rsa_key(c)) else {
        d.error = Some("static RSA accepted, but the certificate holds no RSA key".into());
        return d;
    };
    d.key_bits = Some(key.size() as usize * 8);
    let mut rounds = Rounds {
        addr,
        hello,
        key,
        wait,
        limiter,
        handshakes: 0,
        retries_left: RETRIES,
    };
    for finished in [true, false] {
        let one = rounds.round(finished).await;
        let (complete, differs) = (complete(&one), one.differs());
        d.rounds.push(one);
        if !complete {
            // Some variant never reached the server's key exchange: nothing to compare.
            d.vulnerable = None;
            break;
        }
        if !differs {
            d.vulnerable = Some(false);
            continue;
        }
        let again = rounds.round(finished).await;
        let verdict = oracle_of(&d.rounds[d.rounds.len() - 1], Some(&again));
        if verdict == Some(true) {
            d.oracle = Some(grade(&again).into());
        }
        d.rounds.push(again);
        d.vulnerable = verdict;
        // An oracle (or a disagreement) in the first flow settles it; the second flow runs only
        // when the first showed nothing.
        break;
    }
    d.handshakes += rounds.handshakes;
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_shaped_as_named() {
        let k = 256;
        let v = 0x0303;
        let b: Vec<Vec<u8>> = (0..5).map(|i| block(i, k, v)).collect();
        assert!(b.iter().all(|x| x.len() == k));
        let sep = |x: &[u8]| x[2..].iter().position(|b| *b == 0).map(|p| p + 2);
        assert_eq!(&b[0][..2], &[0, 2]);
        assert_eq!(sep(&b[0]), Some(k - 49), "valid: 48 bytes behind the separator");
        assert_eq!(&b[0][k - 48..k - 46], &[3, 3]);
        assert_eq!(&b[1][..2], &[0x41, 0x17]);
        assert_eq!(sep(&b[2]), Some(k - 2), "the separator two bytes from the end");
        assert_eq!(sep(&b[3]), None, "no separator");
        assert_eq!(&b[4][k - 48..k - 46], &[2, 2], "wrong version");
    }

    #[test]
    fn only_static_rsa_is_offered() {
        let s = rsa_suites();
        assert!(s.contains(&0x009c) && s.contains(&0x002f));
        assert!(s.iter().all(|c| suites::name(*c).starts_with("TLS_RSA_WITH_")));
        assert!(suites::name(s[0]).contains("GCM"));
    }
}
