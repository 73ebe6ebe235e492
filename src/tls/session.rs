//! Real handshakes (rustls) that a hand-made hello cannot finish: session resumption (TLS 1.2 session
//! ids and tickets, TLS 1.3 PSK with DHE), TLS 1.3 early data, client-initiated renegotiation, and the
//! certificate a server picks for a given SNI.
//!
//! Each handshake runs on a blocking thread over a plain socket that this module reads and writes
//! itself, so every byte is seen: what a TLS 1.2 server sends in the clear (ServerHello extensions,
//! the session id, NewSessionTicket and its lifetime hint) is read from the bytes, and rustls does the
//! cryptography. Every wait has a deadline; nothing read is kept beyond [`MAX_TAP`] bytes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ClientSessionMemoryCache, ClientSessionStore, Resumption, Tls12Resumption};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, HandshakeKind, SignatureScheme,
};

use crate::transport::{Turns, closing};

/// Most bytes of one connection kept for reading the clear-text handshake.
pub const MAX_TAP: usize = 256 * 1024;

/// Accepts any certificate and keeps the chain: these handshakes look, they never send SIP.
#[derive(Debug, Default)]
struct Look {
    chain: Mutex<Vec<Vec<u8>>>,
}

impl ServerCertVerifier for Look {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut c) = self.chain.lock() {
            *c = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.as_ref().to_vec())
                .collect();
        }
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Counts what the server handed out for resumption, beside rustls's own cache.
#[derive(Debug)]
struct Store {
    inner: ClientSessionMemoryCache,
    tls13_tickets: Mutex<usize>,
    max_early_data: Mutex<Option<u32>>,
}

impl Store {
    fn new() -> Store {
        Store {
            inner: ClientSessionMemoryCache::new(8),
            tls13_tickets: Mutex::new(0),
            max_early_data: Mutex::new(None),
        }
    }
    fn tickets(&self) -> usize {
        self.tls13_tickets.lock().map(|n| *n).unwrap_or_default()
    }
    fn early(&self) -> Option<u32> {
        self.max_early_data.lock().ok().and_then(|m| *m)
    }
}

impl ClientSessionStore for Store {
    fn set_kx_hint(&self, n: ServerName<'static>, g: rustls::NamedGroup) {
        self.inner.set_kx_hint(n, g)
    }
    fn kx_hint(&self, n: &ServerName<'_>) -> Option<rustls::NamedGroup> {
        self.inner.kx_hint(n)
    }
    fn set_tls12_session(
        &self,
        n: ServerName<'static>,
        v: rustls::client::Tls12ClientSessionValue,
    ) {
        self.inner.set_tls12_session(n, v)
    }
    fn tls12_session(&self, n: &ServerName<'_>) -> Option<rustls::client::Tls12ClientSessionValue> {
        self.inner.tls12_session(n)
    }
    fn remove_tls12_session(&self, n: &ServerName<'static>) {
        self.inner.remove_tls12_session(n)
    }
    fn insert_tls13_ticket(
        &self,
        n: ServerName<'static>,
        v: rustls::client::Tls13ClientSessionValue,
    ) {
        if let Ok(mut c) = self.tls13_tickets.lock() {
            *c += 1;
        }
        if let Ok(mut m) = self.max_early_data.lock() {
            *m = Some(m.unwrap_or(0).max(v.max_early_data_size()));
        }
        self.inner.insert_tls13_ticket(n, v)
    }
    fn take_tls13_ticket(
        &self,
        n: &ServerName<'static>,
    ) -> Option<rustls::client::Tls13ClientSessionValue> {
        self.inner.take_tls13_ticket(n)
    }
}

/// Which protocol a handshake speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tls12,
    Tls13,
    /// TLS 1.2 or 1.3, whichever the server picks.
    Any,
}

/// How one handshake is configured.
struct Setup {
    proto: Proto,
    /// `None`: no SNI at all.
    sni: Option<String>,
    tls12_tickets: bool,
    store: Arc<Store>,
    /// Only ECDHE AES-GCM (the renegotiation check encrypts its own record with them).
    gcm_only: bool,
    secrets: bool,
    early_data: bool,
}

fn config(s: &Setup, look: Arc<Look>) -> Result<ClientConfig, String> {
    let mut provider = rustls::crypto::ring::default_provider();
    if s.gcm_only {
        provider.cipher_suites.retain(|c| {
            format!("{:?}", c.suite()).contains("GCM") && c.version() == &rustls::version::TLS12
        });
    }
    let version: &[&rustls::SupportedProtocolVersion] = match s.proto {
        Proto::Tls12 => &[&rustls::version::TLS12],
        Proto::Tls13 => &[&rustls::version::TLS13],
        Proto::Any => rustls::DEFAULT_VERSIONS,
    };
    let mut cfg = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(version)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(look)
        .with_no_client_auth();
    cfg.resumption = Resumption::store(s.store.clone()).tls12_resumption(if s.tls12_tickets {
        Tls12Resumption::SessionIdOrTickets
    } else {
        Tls12Resumption::SessionIdOnly
    });
    cfg.enable_sni = s.sni.is_some();
    cfg.enable_secret_extraction = s.secrets;
    cfg.enable_early_data = s.early_data;
    Ok(cfg)
}

/// One handshake's outcome.
#[derive(Debug, Default)]
pub struct Shake {
    /// `None` when the handshake completed; else why it did not.
    pub failure: Option<String>,
    pub resumed: bool,
    pub suite: Option<String>,
    pub chain: Vec<Vec<u8>>,
    /// The server's clear-text TLS ≤ 1.2 handshake, read from the bytes.
    pub clear: Clear,
    /// Early data: sent (bytes), and whether the server accepted it.
    pub early_sent: usize,
    pub early_accepted: Option<bool>,
    /// What the renegotiation attempt got, when asked for.
    pub renegotiation: Option<Renegotiation>,
}

/// What a TLS ≤ 1.2 server sent before its ChangeCipherSpec.
#[derive(Debug, Default, Clone)]
pub struct Clear {
    pub session_id_len: Option<u8>,
    pub extensions: Vec<u16>,
    /// NewSessionTicket lifetime hint (seconds) and ticket length.
    pub ticket: Option<(u32, usize)>,
}

/// How a client-initiated renegotiation was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renegotiation {
    /// The server answered the new ClientHello with a ServerHello.
    Accepted,
    /// A `no_renegotiation` (or other) alert: `alert:NAME`.
    Refused(String),
    /// Closed, reset or silence.
    Dropped(String),
    /// Not tested, and why.
    NotTested(String),
}

struct Conn {
    sock: TcpStream,
    tls: ClientConnection,
    got: Vec<u8>,
    sent: Vec<u8>,
    deadline: Instant,
}

fn left(deadline: Instant) -> Result<Duration, String> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| "no answer before the timeout".to_string())
}

impl Conn {
    fn flush(&mut self) -> Result<(), String> {
        while self.tls.wants_write() {
            let mut buf = Vec::new();
            self.tls.write_tls(&mut buf).map_err(|e| e.to_string())?;
            if self.sent.len() < MAX_TAP {
                self.sent.extend_from_slice(&buf);
            }
            self.sock.set_write_timeout(Some(left(self.deadline)?)).ok();
            self.sock.write_all(&buf).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn read_some(&mut self) -> Result<(), String> {
        self.sock.set_read_timeout(Some(left(self.deadline)?)).ok();
        let mut buf = [0u8; 16 * 1024];
        let n = match self.sock.read(&mut buf) {
            Ok(0) => return Err("closed by the server".into()),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err("no answer before the timeout".into());
            }
            Err(e) => return Err(e.to_string()),
        };
        if self.got.len() < MAX_TAP {
            self.got.extend_from_slice(&buf[..n]);
        }
        let mut slice = &buf[..n];
        while !slice.is_empty() {
            self.tls.read_tls(&mut slice).map_err(|e| e.to_string())?;
            if let Err(e) = self.tls.process_new_packets() {
                let _ = self.flush();
                return Err(e.to_string());
            }
        }
        Ok(())
    }

    fn handshake(&mut self) -> Result<(), String> {
        for _ in 0..64 {
            self.flush()?;
            if !self.tls.is_handshaking() {
                return Ok(());
            }
            self.read_some()?;
        }
        Err("handshake did not finish in 64 reads".into())
    }

    /// After the handshake, reads what the server sends within `wait` (TLS 1.3 tickets).
    fn linger(&mut self, wait: Duration) {
        let until = (Instant::now() + wait).min(self.deadline);
        while Instant::now() < until {
            let d = self.deadline;
            self.deadline = until;
            let r = self.read_some();
            self.deadline = d;
            if r.is_err() {
                break;
            }
        }
    }

    /// close_notify and our FIN, then the server's FIN (within `bound`): the caller's handshake
    /// turn is held until the server has torn the connection down.
    fn close(mut self, bound: Duration) {
        self.tls.send_close_notify();
        let _ = self.flush();
        closing::server_closed_blocking(&mut self.sock, bound);
    }
}

fn server_name(sni: &Option<String>, addr: SocketAddr) -> ServerName<'static> {
    sni.as_ref()
        .and_then(|s| ServerName::try_from(s.clone()).ok())
        .unwrap_or_else(|| ServerName::IpAddress(addr.ip().into()))
}

/// A configured client: every handshake of one line shares it, since rustls only offers a session
/// to the configuration (and certificate verifier) that made it.
struct Client {
    cfg: Arc<ClientConfig>,
    look: Arc<Look>,
    sni: Option<String>,
}

impl Client {
    fn new(setup: &Setup) -> Result<Client, String> {
        let look = Arc::new(Look::default());
        let cfg = Arc::new(config(setup, look.clone())?);
        Ok(Client {
            cfg,
            look,
            sni: setup.sni.clone(),
        })
    }
}

/// One handshake; `early` is sent as early data when the session allows it, `renegotiate` asks for
/// a renegotiation after the handshake, `linger` waits for post-handshake messages. The handshake
/// and the close run in one of the address's handshake turns, held until the server has closed.
fn shake(
    addr: SocketAddr,
    client: &Result<Client, String>,
    wait: Duration,
    early: Option<&[u8]>,
    renegotiate: bool,
    linger: Duration,
    turns: &Turns,
) -> Shake {
    let mut out = Shake::default();
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            out.failure = Some(e.clone());
            return out;
        }
    };
    let look = client.look.clone();
    if let Ok(mut c) = look.chain.lock() {
        c.clear();
    }
    let deadline = Instant::now() + wait;
    let tls = match ClientConnection::new(client.cfg.clone(), server_name(&client.sni, addr)) {
        Ok(t) => t,
        Err(e) => {
            out.failure = Some(e.to_string());
            return out;
        }
    };
    // The turn before the connect (see crate::transport::HandshakeTurn).
    let _turn = turns.take_blocking();
    let sock = match TcpStream::connect_timeout(&addr, wait) {
        Ok(s) => s,
        Err(e) => {
            out.failure = Some(format!("connect: {e}"));
            return out;
        }
    };
    let _ = sock.set_nodelay(true);
    let started = Instant::now();
    let mut c = Conn {
        sock,
        tls,
        got: Vec::new(),
        sent: Vec::new(),
        deadline,
    };
    if let (Some(data), Some(mut w)) = (early, c.tls.early_data()) {
        out.early_sent = w.write(data).unwrap_or(0);
    }
    let r = c.handshake();
    out.chain = look.chain.lock().map(|c| c.clone()).unwrap_or_default();
    out.clear = clear_text(&c.got);
    if let Err(e) = r {
        out.failure = Some(e);
        closing::server_closed_blocking(&mut c.sock, closing::bound_after(started.elapsed()));
        return out;
    }
    out.resumed = c.tls.handshake_kind() == Some(HandshakeKind::Resumed);
    out.suite = c
        .tls
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()));
    if out.early_sent > 0 {
        out.early_accepted = Some(c.tls.is_early_data_accepted());
    }
    if !linger.is_zero() {
        c.linger(linger);
    }
    let bound = closing::bound_after(started.elapsed());
    if renegotiate {
        out.renegotiation = Some(super::renegotiate::attempt(
            c.sock, c.tls, &c.sent, &c.got, deadline, bound,
        ));
        return out;
    }
    c.close(bound);
    out
}

/// Reads the server's clear-text handshake messages up to its ChangeCipherSpec.
pub fn clear_text(bytes: &[u8]) -> Clear {
    let mut out = Clear::default();
    let mut hs = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 5 {
        let kind = rest[0];
        let len = u16::from_be_bytes([rest[3], rest[4]]) as usize;
        if rest.len() < 5 + len || kind == 20 {
            break;
        }
        if kind == 22 {
            hs.extend_from_slice(&rest[5..5 + len]);
        }
        rest = &rest[5 + len..];
    }
    let mut m = &hs[..];
    while m.len() >= 4 {
        let kind = m[0];
        let len = ((m[1] as usize) << 16) | ((m[2] as usize) << 8) | m[3] as usize;
        if m.len() < 4 + len {
            break;
        }
        let body = &m[4..4 + len];
        match kind {
            2 => {
                if let Some((sid, exts)) = hello_facts(body) {
                    out.session_id_len = Some(sid);
                    out.extensions = exts;
                }
            }
            4 if body.len() >= 6 => {
                let hint = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let n = u16::from_be_bytes([body[4], body[5]]) as usize;
                out.ticket = Some((hint, n));
            }
            _ => {}
        }
        m = &m[4 + len..];
    }
    out
}

/// A ServerHello's session id length and extension types.
fn hello_facts(b: &[u8]) -> Option<(u8, Vec<u16>)> {
    let sid = *b.get(34)? as usize;
    let mut at = 35 + sid + 3;
    let mut exts = Vec::new();
    if b.len() >= at + 2 {
        let total = u16::from_be_bytes([b[at], b[at + 1]]) as usize;
        at += 2;
        let end = (at + total).min(b.len());
        while at + 4 <= end {
            let kind = u16::from_be_bytes([b[at], b[at + 1]]);
            let len = u16::from_be_bytes([b[at + 2], b[at + 3]]) as usize;
            exts.push(kind);
            at += 4 + len;
        }
    }
    Some((sid as u8, exts))
}

/// Session resumption at one protocol: a full handshake, then one offering what it gave, then (when
/// that was not resumed) up to [`RESUME_TRIES`] in all, each offering the newest session.
#[derive(Debug, Default)]
pub struct ResumeResult {
    pub first: Shake,
    /// `None` when the first handshake gave nothing to resume (or failed).
    pub second: Option<Shake>,
    /// The attempts after `second`, plain resumptions (no renegotiation, no early data).
    pub retries: Vec<Shake>,
    /// TLS 1.3: tickets received after the first handshake, and the largest max_early_data_size.
    pub tickets: usize,
    pub max_early_data: Option<u32>,
}

/// How the TLS 1.3 early-data check is run: the bytes to send in 0-RTT. A SIP keep-alive
/// (double CRLF, RFC 5626 §4.4.1) is the only thing safe to replay.
pub const EARLY_DATA: &[u8] = b"\r\n\r\n";

/// Resumption attempts at most. One refusal is not the server's answer: a server whose processes
/// each hold their own session cache and ticket keys (Kamailio 5.6 keeps an SSL_CTX per process)
/// resumes only when the connection reaches the process that issued the session.
pub const RESUME_TRIES: usize = 3;

impl ResumeResult {
    /// Whether any resumption attempt was resumed (`None`: none was made).
    pub fn resumed(&self) -> Option<bool> {
        let second = self.second.as_ref()?;
        Some(
            std::iter::once(second)
                .chain(&self.retries)
                .any(|s| s.failure.is_none() && s.resumed),
        )
    }

    /// More plain resumptions while the last was refused without failing, up to [`RESUME_TRIES`].
    fn retry(&mut self, resumable: bool, again: impl Fn() -> Shake) {
        while resumable && self.retries.len() + 1 < RESUME_TRIES {
            let last = self.retries.last().or(self.second.as_ref());
            if !last.is_some_and(|l| l.failure.is_none() && !l.resumed) {
                break;
            }
            self.retries.push(again());
        }
    }
}

/// TLS 1.2 resumption. With `tickets`, the first handshake asks for a ticket too; with `renegotiate`,
/// the second handshake (or the first, when nothing was resumable) ends with a renegotiation
/// attempt.
pub fn resume12(
    addr: SocketAddr,
    sni: Option<String>,
    tickets: bool,
    renegotiate: bool,
    wait: Duration,
    turns: &Turns,
) -> ResumeResult {
    let setup = Setup {
        proto: Proto::Tls12,
        sni,
        tls12_tickets: tickets,
        store: Arc::new(Store::new()),
        gcm_only: renegotiate,
        secrets: renegotiate,
        early_data: false,
    };
    let client = Client::new(&setup);
    let first = shake(addr, &client, wait, None, false, Duration::ZERO, turns);
    let resumable = first.failure.is_none()
        && (first.clear.session_id_len.unwrap_or(0) > 0 || first.clear.ticket.is_some());
    let second = (first.failure.is_none() && (resumable || renegotiate))
        .then(|| shake(addr, &client, wait, None, renegotiate, Duration::ZERO, turns));
    let mut r = ResumeResult {
        first,
        second,
        ..ResumeResult::default()
    };
    r.retry(resumable, || {
        shake(addr, &client, wait, None, false, Duration::ZERO, turns)
    });
    r
}

/// TLS 1.3: a full handshake that waits briefly for NewSessionTicket, then a resumption offering the
/// ticket (PSK with DHE, the only mode rustls offers), with [`EARLY_DATA`] as 0-RTT when the ticket
/// allows early data.
pub fn resume13(
    addr: SocketAddr,
    sni: Option<String>,
    wait: Duration,
    turns: &Turns,
) -> ResumeResult {
    let store = Arc::new(Store::new());
    let setup = Setup {
        proto: Proto::Tls13,
        sni,
        tls12_tickets: false,
        store: store.clone(),
        gcm_only: false,
        secrets: false,
        early_data: true,
    };
    let linger = Duration::from_millis(300).min(wait);
    let client = Client::new(&setup);
    let first = shake(addr, &client, wait, None, false, linger, turns);
    let tickets = store.tickets();
    let max_early_data = store.early();
    let second = (first.failure.is_none() && tickets > 0)
        .then(|| {
            let early = Some(EARLY_DATA);
            shake(addr, &client, wait, early, false, Duration::ZERO, turns)
        });
    let mut r = ResumeResult {
        first,
        second,
        retries: Vec::new(),
        tickets,
        max_early_data,
    };
    r.retry(tickets > 0, || {
        shake(addr, &client, wait, None, false, Duration::ZERO, turns)
    });
    r
}

/// The certificate chain sent for `sni` (`None`: no SNI), by the highest protocol that completes.
pub fn chain_for(
    addr: SocketAddr,
    sni: Option<String>,
    proto: Proto,
    wait: Duration,
    turns: &Turns,
) -> Shake {
    let setup = Setup {
        proto,
        sni,
        tls12_tickets: false,
        store: Arc::new(Store::new()),
        gcm_only: false,
        secrets: false,
        early_data: false,
    };
    shake(
        addr,
        &Client::new(&setup),
        wait,
        None,
        false,
        Duration::ZERO,
        turns,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_text_reads_session_id_extensions_and_ticket() {
        let mut sh = vec![3, 3];
        sh.extend_from_slice(&[9; 32]);
        sh.push(32);
        sh.extend_from_slice(&[1; 32]);
        sh.extend_from_slice(&[0xC0, 0x2F, 0]);
        sh.extend_from_slice(&[0, 8, 0x00, 0x17, 0, 0, 0x00, 0x23, 0, 0]);
        let mut msg = vec![2, 0, 0, sh.len() as u8];
        msg.extend_from_slice(&sh);
        msg.extend_from_slice(&[4, 0, 0, 8, 0, 0, 0x1C, 0x20, 0, 2, 7, 7]);
        let mut rec = vec![22, 3, 3, 0, msg.len() as u8];
        rec.extend_from_slice(&msg);
        rec.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
        let c = clear_text(&rec);
        assert_eq!(c.session_id_len, Some(32));
        assert_eq!(c.extensions, [0x0017, 0x0023]);
        assert_eq!(c.ticket, Some((7200, 2)));
        assert!(clear_text(&rec[..7]).session_id_len.is_none());
    }
}
