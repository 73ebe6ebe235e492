//! DTLS-SRTP (RFC 5763/5764) on a call's media socket: the handshake in the role the answer's
//! `a=setup` gives us, the peer certificate checked against the answer's `a=fingerprint`, and the SRTP
//! master keys taken from the DTLS exporter (`EXTRACTOR-dtls_srtp`, RFC 5764 §4.2).
//!
//! OpenSSL (the system's, as baresip and most SBCs use) runs sans-IO over an in-memory datagram queue:
//! the async side moves whole datagrams between it and the UDP socket, so the handshake shares the
//! socket that later carries SRTP, and every wait is bounded in time and in datagrams.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::ssl::{HandshakeError, Ssl, SslContext, SslMethod, SslStream, SslVerifyMode};
use openssl::x509::X509;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::rtp::{Kind, classify};
use crate::sip::sdp::Suite;

/// Longest a handshake may take, and most datagrams it may read.
pub const HANDSHAKE_TIME: Duration = Duration::from_secs(5);
const MAX_DATAGRAMS: u32 = 64;
/// SRTP protection profiles offered in the use_srtp extension, best first.
const PROFILES: &str =
    "SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32";

/// Our DTLS certificate: a fresh self-signed one per call, and its SHA-256 fingerprint for the offer.
pub struct Identity {
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
    /// Colon-separated upper-case hex, as `a=fingerprint:sha-256` wants it.
    pub fingerprint: String,
}

impl Identity {
    pub fn new() -> Result<Identity, String> {
        let c = rcgen::generate_simple_self_signed(vec!["sipcheck.invalid".to_string()])
            .map_err(|e| format!("cannot make a DTLS certificate: {e}"))?;
        let cert_der = c.cert.der().to_vec();
        Ok(Identity {
            fingerprint: hex_colons(
                ring::digest::digest(&ring::digest::SHA256, &cert_der).as_ref(),
            ),
            key_der: c.signing_key.serialize_der(),
            cert_der,
        })
    }
}

fn hex_colons(b: &[u8]) -> String {
    b.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub use crate::findings::media::{DtlsReport, Role};

impl Role {
    /// RFC 5763 §5: the answerer's `active` makes it the client, so we serve; `passive` (and an absent
    /// attribute, the RFC 4145 default) makes us the client.
    pub fn for_answer(setup: Option<&str>) -> Role {
        match setup {
            Some("active") => Role::Server,
            _ => Role::Client,
        }
    }
}

/// SRTP keys from a completed handshake: ours (what we send with) and the peer's, each key ‖ salt.
#[derive(Clone)]
pub struct Keys {
    pub suite: Suite,
    pub local: Vec<u8>,
    pub remote: Vec<u8>,
}

/// Whole datagrams in and out of OpenSSL.
#[derive(Default, Debug)]
struct Datagrams {
    inbox: VecDeque<Vec<u8>>,
    outbox: Vec<Vec<u8>>,
}

impl Read for Datagrams {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inbox.pop_front() {
            Some(d) => {
                let n = d.len().min(buf.len());
                buf[..n].copy_from_slice(&d[..n]);
                Ok(n)
            }
            None => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl Write for Datagrams {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outbox.push(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn digest_for(hash: &str) -> Option<MessageDigest> {
    match hash.trim().to_ascii_lowercase().as_str() {
        "sha-1" => Some(MessageDigest::sha1()),
        "sha-224" => Some(MessageDigest::sha224()),
        "sha-256" => Some(MessageDigest::sha256()),
        "sha-384" => Some(MessageDigest::sha384()),
        "sha-512" => Some(MessageDigest::sha512()),
        _ => None,
    }
}

fn suite_for(profile: &str) -> Option<Suite> {
    match profile {
        "SRTP_AES128_CM_SHA1_80" => Some(Suite::AesCm128HmacSha1_80),
        "SRTP_AES128_CM_SHA1_32" => Some(Suite::AesCm128HmacSha1_32),
        "SRTP_AEAD_AES_128_GCM" => Some(Suite::AeadAes128Gcm),
        "SRTP_AEAD_AES_256_GCM" => Some(Suite::AeadAes256Gcm),
        _ => None,
    }
}

fn context(id: &Identity) -> Result<SslContext, String> {
    let e = |e: openssl::error::ErrorStack| format!("OpenSSL set-up: {e}");
    let mut b = SslContext::builder(SslMethod::dtls()).map_err(e)?;
    let cert = X509::from_der(&id.cert_der).map_err(e)?;
    let key = PKey::private_key_from_der(&id.key_der).map_err(e)?;
    b.set_certificate(&cert).map_err(e)?;
    b.set_private_key(&key).map_err(e)?;
    b.set_tlsext_use_srtp(PROFILES).map_err(e)?;
    // Self-signed certificates are the norm here: the certificate is authenticated by the fingerprint
    // check after the handshake, not by a chain (RFC 5763 §6.7.1).
    b.set_verify_callback(
        SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
        |_, _| true,
    );
    Ok(b.build())
}

/// The exporter's keys, split per RFC 5764 §4.2: client key, server key, client salt, server salt.
fn keys(s: &SslStream<Datagrams>, role: Role) -> Result<Keys, String> {
    let profile = s
        .ssl()
        .selected_srtp_profile()
        .map(|p| p.name().to_string())
        .ok_or("the peer negotiated no SRTP profile (use_srtp)")?;
    let suite = suite_for(&profile).ok_or(format!("unsupported SRTP profile {profile}"))?;
    let (k, salt) = suite.key_salt_len();
    let mut m = vec![0u8; 2 * (k + salt)];
    s.ssl()
        .export_keying_material(&mut m, "EXTRACTOR-dtls_srtp", None)
        .map_err(|e| format!("DTLS exporter: {e}"))?;
    let client = [&m[..k], &m[2 * k..2 * k + salt]].concat();
    let server = [&m[k..2 * k], &m[2 * k + salt..]].concat();
    let (local, remote) = match role {
        Role::Client => (client, server),
        Role::Server => (server, client),
    };
    Ok(Keys {
        suite,
        local,
        remote,
    })
}

/// What one handshake gave: its report, the SRTP keys (only when it completed and the fingerprint
/// matched), and the session to keep serving for the rest of the call (when it completed).
pub struct Handshake {
    pub report: DtlsReport,
    pub keys: Option<Keys>,
    pub session: Option<Session>,
}

/// Runs the handshake on `sock` with the peer at `peer` (the answer's media address) and checks the
/// peer certificate against `expected` (`(hash function, fingerprint)` from the answer). Keys only when
/// the handshake completed and the fingerprint matched.
pub async fn handshake(
    sock: &UdpSocket,
    peer: SocketAddr,
    role: Role,
    id: &Identity,
    expected: Option<&(String, String)>,
) -> Handshake {
    let start = Instant::now();
    let mut r = DtlsReport {
        role: Some(role),
        ..DtlsReport::default()
    };
    let out = run(sock, peer, role, id, expected, &mut r, start).await;
    r.duration_ms = start.elapsed().as_millis() as u64;
    match out {
        Ok((keys, session)) => Handshake {
            report: r,
            keys,
            session: Some(session),
        },
        Err(e) => {
            r.error = Some(e);
            Handshake {
                report: r,
                keys: None,
                session: None,
            }
        }
    }
}

/// A completed handshake, kept until the call ends. The side that sent the last flight must send it
/// again whenever the peer retransmits its own (RFC 6347 §4.2.4): a peer that lost our last flight
/// keeps resending its final flight, and only our answer completes the handshake on its side.
pub struct Session {
    stream: SslStream<Datagrams>,
    peer: SocketAddr,
    /// Handshake records from the peer after ours completed: its final flight again.
    pub peer_resent: u32,
    /// Datagrams we sent in answer (our last flight again).
    pub answered: u32,
}

/// The sessions of a call's components: RTP, and RTCP when it has its own port (no rtcp-mux).
#[derive(Default)]
pub struct Sessions {
    pub rtp: Option<Session>,
    pub rtcp: Option<Session>,
}

impl Sessions {
    /// Hands a DTLS datagram that arrived on a component's socket to that component's session.
    pub async fn on_datagram(&mut self, socks: &super::MediaSockets, on_rtp_port: bool, d: &[u8]) {
        let (session, sock) = if on_rtp_port {
            (self.rtp.as_mut(), &socks.rtp)
        } else {
            (self.rtcp.as_mut(), &socks.rtcp)
        };
        if let Some(s) = session {
            s.on_datagram(sock, d).await;
        }
    }

    /// Answers DTLS on both components until dropped (run beside the hang-up, so the peer's final
    /// flight is answered to the end of the call); anything else that arrives is dropped.
    pub async fn serve(&mut self, socks: &super::MediaSockets) {
        if self.rtp.is_none() && self.rtcp.is_none() {
            return std::future::pending().await;
        }
        let (mut a, mut b) = (vec![0u8; 2048], vec![0u8; 2048]);
        loop {
            let (n, on_rtp) = tokio::select! {
                got = socks.rtp.recv_from(&mut a) => (got.map(|g| g.0), true),
                got = socks.rtcp.recv_from(&mut b) => (got.map(|g| g.0), false),
            };
            let Ok(n) = n else { continue };
            let d = if on_rtp { &a[..n] } else { &b[..n] };
            if classify(d) == Kind::Dtls {
                let d = d.to_vec();
                self.on_datagram(socks, on_rtp, &d).await;
            }
        }
    }
}

impl Session {
    /// Feeds a DTLS datagram that arrived after the handshake to OpenSSL, which answers a retransmitted
    /// final flight with ours (a repeated Finished makes it resend its buffered flight), and sends that.
    pub async fn on_datagram(&mut self, sock: &UdpSocket, d: &[u8]) {
        // Content type 22 (handshake) or 20 (change cipher spec): the peer is still in its handshake.
        if matches!(d.first(), Some(20 | 22)) {
            self.peer_resent += 1;
        }
        self.stream.get_mut().inbox.push_back(d.to_vec());
        let mut buf = [0u8; 2048];
        // Each read consumes at most one datagram; application data is not ours to take.
        for _ in 0..4 {
            if self.stream.ssl_read(&mut buf).is_err() || self.stream.get_ref().inbox.is_empty() {
                break;
            }
        }
        self.stream.get_mut().inbox.clear();
        for out in std::mem::take(&mut self.stream.get_mut().outbox) {
            if sock.send_to(&out, self.peer).await.is_ok() {
                self.answered += 1;
            }
        }
    }

    /// Writes what the session saw after the handshake into its report.
    pub fn record(&self, r: &mut DtlsReport) {
        r.peer_resent_after_completion = self.peer_resent;
        r.answered_after_completion = self.answered;
    }
}

async fn run(
    sock: &UdpSocket,
    mut peer: SocketAddr,
    role: Role,
    id: &Identity,
    expected: Option<&(String, String)>,
    r: &mut DtlsReport,
    start: Instant,
) -> Result<(Option<Keys>, Session), String> {
    let ctx = context(id)?;
    let mut ssl = Ssl::new(&ctx).map_err(|e| format!("OpenSSL set-up: {e}"))?;
    ssl.set_mtu(1200)
        .map_err(|e| format!("OpenSSL set-up: {e}"))?;
    let first = match role {
        Role::Client => ssl.connect(Datagrams::default()),
        Role::Server => ssl.accept(Datagrams::default()),
    };
    let deadline = start + HANDSHAKE_TIME;
    let mut mid = match first {
        Ok(s) => return finish(s, peer, role, expected, r),
        Err(HandshakeError::WouldBlock(m)) => m,
        Err(e) => return Err(format!("DTLS handshake failed: {e}")),
    };
    let mut buf = vec![0u8; 4096];
    let mut heard = false;
    loop {
        for d in std::mem::take(&mut mid.get_mut().outbox) {
            // A server answers whoever sent the ClientHello; a client sends to the answer's address.
            if sock.send_to(&d, peer).await.is_ok() {
                r.datagrams_sent += 1;
            }
        }
        if r.datagrams_received >= MAX_DATAGRAMS {
            return Err(format!(
                "no completed handshake after {MAX_DATAGRAMS} datagrams"
            ));
        }
        // OpenSSL retransmits its flight when called after its timer (1 s, doubling) ran out.
        let wake = (Instant::now() + Duration::from_millis(250)).min(deadline);
        match tokio::time::timeout_at(wake, sock.recv_from(&mut buf)).await {
            Ok(Ok((n, from))) => {
                if classify(&buf[..n]) != Kind::Dtls {
                    // RTP or STUN before the keys exist: not part of the handshake.
                    continue;
                }
                r.datagrams_received += 1;
                if !heard {
                    heard = true;
                    r.peer = Some(from.to_string());
                    if role == Role::Server {
                        peer = from;
                    }
                }
                // Another source than the answer's address is still taken (a peer bound to a wildcard
                // answers from another local address): the fingerprint check authenticates it, and
                // `peer` in the report says where it came from.
                mid.get_mut().inbox.push_back(buf[..n].to_vec());
            }
            Ok(Err(e)) => return Err(format!("media socket: {e}")),
            Err(_) if Instant::now() >= deadline => {
                return Err(format!(
                    "no completed DTLS handshake within {} s ({} datagrams from the peer)",
                    HANDSHAKE_TIME.as_secs(),
                    r.datagrams_received
                ));
            }
            Err(_) => {}
        }
        mid = match mid.handshake() {
            Ok(s) => {
                // The last flight (our Finished as a client, or the server's) still has to go out.
                let mut s = s;
                for d in std::mem::take(&mut s.get_mut().outbox) {
                    if sock.send_to(&d, peer).await.is_ok() {
                        r.datagrams_sent += 1;
                    }
                }
                return finish(s, peer, role, expected, r);
            }
            Err(HandshakeError::WouldBlock(m)) => m,
            Err(e) => return Err(format!("DTLS handshake failed: {e}")),
        };
    }
}

fn finish(
    s: SslStream<Datagrams>,
    peer: SocketAddr,
    role: Role,
    expected: Option<&(String, String)>,
    r: &mut DtlsReport,
) -> Result<(Option<Keys>, Session), String> {
    r.completed = true;
    r.version = Some(s.ssl().version_str().to_string());
    r.cipher_suite = s.ssl().current_cipher().map(|c| c.name().to_string());
    r.srtp_profile = s
        .ssl()
        .selected_srtp_profile()
        .map(|p| p.name().to_string());
    let cert = s.ssl().peer_certificate();
    let (hash, want) = match expected {
        Some((h, f)) => (h.as_str(), Some(f.as_str())),
        None => ("sha-256", None),
    };
    let md = digest_for(hash).ok_or(format!("unknown fingerprint hash function {hash}"))?;
    let got = cert
        .as_ref()
        .and_then(|c| c.digest(md).ok())
        .map(|d| hex_colons(&d));
    r.peer_fingerprint = got.clone();
    r.fingerprint_matches = match (&got, want) {
        (Some(g), Some(w)) => Some(g.eq_ignore_ascii_case(w.trim())),
        _ => None,
    };
    let keys = match r.fingerprint_matches {
        Some(true) => Some(keys(&s, role)?),
        _ => None,
    };
    let session = Session {
        stream: s,
        peer,
        peer_resent: 0,
        answered: 0,
    };
    Ok((keys, session))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two handshakes in-process: roles, profile, fingerprints, and keys that mirror each other.
    #[tokio::test]
    async fn both_roles_agree_on_keys_and_a_wrong_fingerprint_gives_none() {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let (ia, ib) = (Identity::new().unwrap(), Identity::new().unwrap());
        let fa = ("sha-256".to_string(), ia.fingerprint.clone());
        let fb = ("sha-256".to_string(), ib.fingerprint.clone());
        let (ra, rb) = tokio::join!(
            handshake(&a, ba, Role::Client, &ia, Some(&fb)),
            handshake(&b, aa, Role::Server, &ib, Some(&fa)),
        );
        assert!(
            ra.report.completed && rb.report.completed,
            "{:?} {:?}",
            ra.report,
            rb.report
        );
        assert_eq!(ra.report.fingerprint_matches, Some(true));
        assert_eq!(ra.report.version.as_deref(), Some("DTLSv1.2"));
        let (ka, kb) = (ra.keys.unwrap(), rb.keys.unwrap());
        assert_eq!(ka.local, kb.remote);
        assert_eq!(ka.remote, kb.local);
        assert_ne!(ka.local, ka.remote);

        // The client is told a fingerprint that is not the server's certificate: completed, no keys.
        let wrong = ("sha-256".to_string(), Identity::new().unwrap().fingerprint);
        let (ra, _) = tokio::join!(
            handshake(&a, ba, Role::Client, &ia, Some(&wrong)),
            handshake(&b, aa, Role::Server, &ib, Some(&fa)),
        );
        assert!(ra.report.completed);
        assert_eq!(ra.report.fingerprint_matches, Some(false));
        assert!(ra.keys.is_none());
    }

    /// Relays datagrams between a client (the first to send) and `server`, dropping what the server
    /// sends in the 300 ms after the client's second flight: the server's final flight is lost once.
    /// (OpenSSL packs NewSessionTicket, ChangeCipherSpec and Finished into datagrams that all start
    /// with a handshake record, so the flight is told by when it comes, not by its first byte.)
    async fn lossy_relay(sock: UdpSocket, server: SocketAddr) {
        let mut buf = vec![0u8; 4096];
        let (mut client, mut dropping, mut from_client) = (None, None::<Instant>, 0);
        while let Ok(Ok((n, from))) =
            tokio::time::timeout(Duration::from_secs(8), sock.recv_from(&mut buf)).await
        {
            let d = &buf[..n];
            if from == server {
                if dropping.is_none() && from_client > 1 {
                    dropping = Some(Instant::now() + Duration::from_millis(300));
                }
                if dropping.is_some_and(|u| Instant::now() < u) {
                    continue;
                }
                if let Some(c) = client {
                    let _ = sock.send_to(d, c).await;
                }
            } else {
                client = Some(from);
                from_client += 1;
                let _ = sock.send_to(d, server).await;
            }
        }
    }

    /// RFC 6347 §4.2.4: the server sent the last flight, so when it is lost and the client resends its
    /// own, the server must send it again. A server that stops after its own side finished leaves the
    /// client without a handshake; one that keeps its session serving completes it.
    #[tokio::test]
    async fn a_lost_final_flight_is_sent_again_while_the_session_serves() {
        for serving in [false, true] {
            let (c, s) = (
                UdpSocket::bind("127.0.0.1:0").await.unwrap(),
                UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            );
            let relay = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let raddr = relay.local_addr().unwrap();
            let done = tokio::sync::Notify::new();
            let r = tokio::spawn(lossy_relay(relay, s.local_addr().unwrap()));
            let (ic, is) = (Identity::new().unwrap(), Identity::new().unwrap());
            let socks = super::super::MediaSockets {
                rtp: s,
                rtcp: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            };
            let server = async {
                let h = handshake(&socks.rtp, raddr, Role::Server, &is, None).await;
                assert!(h.report.completed, "{:?}", h.report);
                let mut sessions = Sessions {
                    rtp: h.session,
                    rtcp: None,
                };
                if serving {
                    tokio::select! {
                        _ = sessions.serve(&socks) => {}
                        _ = done.notified() => {}
                        _ = tokio::time::sleep(HANDSHAKE_TIME) => {}
                    }
                }
                sessions
            };
            let client = async {
                let h = handshake(&c, raddr, Role::Client, &ic, None).await;
                done.notify_one();
                h
            };
            let (client, sessions) = tokio::select! {
                (cl, se) = async { tokio::join!(client, server) } => (cl, Some(se)),
            };
            r.abort();
            let session = sessions.and_then(|s| s.rtp).unwrap();
            // Unserved, the client's resent flight is never even read.
            assert_eq!(
                session.peer_resent > 0,
                serving,
                "the client resent its final flight"
            );
            assert_eq!(
                client.report.completed, serving,
                "serving {serving}: {:?}",
                client.report
            );
            assert_eq!(session.answered > 0, serving);
        }
    }

    #[tokio::test]
    async fn a_silent_peer_is_bounded() {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let id = Identity::new().unwrap();
        let t = Instant::now();
        let h = handshake(&a, silent.local_addr().unwrap(), Role::Client, &id, None).await;
        let (r, k) = (h.report, h.keys);
        assert!(!r.completed && k.is_none());
        assert!(r.error.unwrap().contains("no completed DTLS handshake"));
        assert!(t.elapsed() < HANDSHAKE_TIME + Duration::from_secs(1));
        assert!(r.datagrams_sent >= 2, "the ClientHello was retransmitted");
    }
}
