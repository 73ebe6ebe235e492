//! Receiving calls over a registered flow, for a caller behind NAT: the client REGISTERs over a TCP
//! or TLS connection it opened itself and the registrar delivers the calls for that registration
//! back over the same connection (RFC 5626 flows, RFC 5923 connection reuse), so no port is ever
//! opened for the carrier to reach.
//!
//! The REGISTER offers outbound (RFC 5626 §4.2.1: `Supported: path, outbound`, a Contact with
//! `+sip.instance` and `reg-id`); a registrar without outbound support sees an ordinary Contact
//! (the connection's local address), which a NAT-aware one replaces by the address the REGISTER
//! came from. The connection is kept alive with CRLF pings (§4.4.1, at a random 80-100% of the
//! registrar's `Flow-Timer`, else of [`KEEPALIVE`]), a ping from the registrar gets its pong, the
//! registration is refreshed when half of what was granted has passed, and at the end it is
//! removed with `Expires: 0`. Inbound requests on the flow are recorded and answered exactly as the
//! listener answers them ([`super::Shared::handle`]).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;
use tokio::time::Instant;

use super::Shared;
use crate::sip::Message;
use crate::sip::digest::{Challenge, Credentials, DigestClient};
use crate::sip::request::{new_branch, token};
use crate::sip::Limits;
use crate::transport::{
    Connection, Exchange, Incoming, Timers, TlsSettings, TxError, TxKey, transaction,
};

/// The keep-alive period when the registrar names no `Flow-Timer`. Shorter than RFC 5626's 95-120 s
/// for a flow of unknown lifetime: a run lasts minutes, and NAT bindings and proxies' connection
/// lifetimes (Kamailio's `tcp_connection_lifetime` defaults to 120 s) vary.
pub const KEEPALIVE: Duration = Duration::from_secs(30);
/// RFC 5626 §4.4.1: a pong not back within 10 s means the flow failed.
pub const PONG_WAIT: Duration = Duration::from_secs(10);
/// The registration asked for; a registrar may grant less (then it is refreshed) or more.
pub const EXPIRES: u32 = 300;
/// At most this many REGISTERs per registration: the first, the digest answer, and one more after
/// a `423 Interval Too Brief` or a stale nonce.
const MAX_ATTEMPTS: u32 = 3;
/// The flow wakes at least this often to look for pongs and timers.
const TICK: Duration = Duration::from_millis(500);

/// What to register.
#[derive(Clone)]
pub struct Registration {
    /// The Request-URI (`sip:domain`).
    pub registrar: String,
    /// The address of record (`sip:user@domain`).
    pub aor: String,
    /// The user part of the Contact.
    pub contact_user: String,
    pub credentials: Option<Credentials>,
    pub user_agent: String,
    /// Transaction timers (the register timeout is their overall deadline).
    pub timers: Timers,
    /// The start of the run, for evidence times.
    pub run_start: Instant,
    /// How to open a second connection to remove the binding when the flow was lost.
    pub reopen: Reopen,
}

/// What a fresh connection to the registrar needs.
#[derive(Clone)]
pub struct Reopen {
    pub tls: TlsSettings,
    /// The TLS server name.
    pub sni: String,
    pub limits: Limits,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("registrar", &self.registrar)
            .field("aor", &self.aor)
            .finish_non_exhaustive()
    }
}

/// What the flow did, for the report.
#[derive(Debug, Clone, Default)]
pub struct FlowReport {
    pub remote: Option<SocketAddr>,
    pub local: Option<SocketAddr>,
    /// The REGISTER transactions that set the binding up, challenge included.
    pub register: Vec<Exchange>,
    /// The seconds the registrar granted.
    pub granted: Option<u32>,
    /// The registrar answered `Require: outbound` (it keeps the flow for the binding, RFC 5626).
    pub outbound: bool,
    /// The registrar's `Flow-Timer`, if it gave one.
    pub flow_timer: Option<u32>,
    pub refreshes: u32,
    pub pings: u32,
    pub pongs: u32,
    /// Pings the registrar sent us (each answered with a pong).
    pub pings_answered: u32,
    /// Pings whose pong did not come back within [`PONG_WAIT`].
    pub pongs_missing: u32,
    /// Why the flow ended before the run did.
    pub lost: Option<String>,
    /// The binding was removed over a second connection, the flow having been lost.
    pub unregistered_anew: bool,
    /// The `Expires: 0` transactions at the end.
    pub unregister: Vec<Exchange>,
}

impl FlowReport {
    /// The REGISTER that set the binding up was accepted.
    pub fn registered(&self) -> bool {
        final_code(&self.register).is_some_and(|c| (200..300).contains(&c))
    }

    /// The binding was removed at the end.
    pub fn unregistered(&self) -> bool {
        final_code(&self.unregister).is_some_and(|c| (200..300).contains(&c))
    }

    /// One sentence: how the flow went.
    pub fn sentence(&self) -> String {
        let mut s = format!(
            "registered over {} (granted {} s{}); {} keep-alive pings, {} pongs",
            self.remote.map(|r| r.to_string()).unwrap_or_default(),
            self.granted.unwrap_or(0),
            if self.outbound {
                ", outbound flow kept by the registrar"
            } else {
                ""
            },
            self.pings,
            self.pongs
        );
        if self.pongs_missing > 0 {
            s.push_str(&format!(", {} pongs missing", self.pongs_missing));
        }
        if let Some(l) = &self.lost {
            s.push_str(&format!("; the flow was lost: {l}"));
            if self.unregistered_anew {
                s.push_str(" (the binding was removed over a new connection)");
            }
        }
        s.push_str(if self.unregistered() {
            "; unregistered at the end"
        } else {
            "; NOT unregistered at the end (the binding expires by itself)"
        });
        s
    }
}

fn final_code(v: &[Exchange]) -> Option<u16> {
    v.last()
        .and_then(Exchange::final_response)
        .and_then(Message::status)
}

/// A registration on an open connection: the binding's dialog state and the flow's timers.
pub(super) struct Flow {
    conn: Connection,
    /// The address in our Contact: the first connection's, kept when a second one unregisters.
    contact: SocketAddr,
    reg: Registration,
    call_id: String,
    from_tag: String,
    instance: String,
    cseq: u32,
    auth: Option<DigestClient>,
    shared: Arc<Shared>,
    report: Arc<Mutex<FlowReport>>,
}

impl Flow {
    pub(super) fn new(
        conn: Connection,
        reg: Registration,
        shared: Arc<Shared>,
        report: Arc<Mutex<FlowReport>>,
    ) -> Flow {
        let auth = reg.credentials.clone().map(DigestClient::new);
        Flow {
            contact: conn.local,
            conn,
            reg,
            call_id: format!("{}@sipcheck", token(20)),
            from_tag: token(10),
            instance: instance_urn(),
            cseq: 0,
            auth,
            shared,
            report,
        }
    }

    fn with_report(&self, f: impl FnOnce(&mut FlowReport)) {
        if let Ok(mut r) = self.report.lock() {
            f(&mut r)
        }
    }

    /// The REGISTER bytes for `expires`, with an `Authorization` when one is given.
    fn render(&self, branch: &str, expires: u32, authorization: Option<&(String, String)>) -> Vec<u8> {
        let (local, contact) = (self.conn.local, self.contact);
        let t = self.conn.endpoint.transport;
        let scheme = if t == crate::target::Transport::Tls {
            "sips"
        } else {
            "sip"
        };
        let mut s = format!(
            "REGISTER {reg} SIP/2.0\r\nVia: SIP/2.0/{via} {local};branch={branch};rport\r\nMax-Forwards: 70\r\nFrom: <{aor}>;tag={tag}\r\nTo: <{aor}>\r\nCall-ID: {cid}\r\nCSeq: {cseq} REGISTER\r\nContact: <{scheme}:{user}@{contact};transport={tp}>;reg-id=1;+sip.instance=\"<{inst}>\"\r\nExpires: {expires}\r\nSupported: path, outbound\r\n",
            reg = self.reg.registrar,
            via = t.via_token(),
            aor = self.reg.aor,
            tag = self.from_tag,
            cid = self.call_id,
            cseq = self.cseq,
            user = self.reg.contact_user,
            tp = t.as_str(),
            inst = self.instance,
        );
        if !self.reg.user_agent.is_empty() {
            s.push_str(&format!("User-Agent: {}\r\n", self.reg.user_agent));
        }
        if let Some((n, v)) = authorization {
            s.push_str(&format!("{n}: {v}\r\n"));
        }
        s.push_str("Content-Length: 0\r\n\r\n");
        s.into_bytes()
    }

    /// REGISTERs for `expires` seconds (0 removes the binding), answering one digest challenge and
    /// one `423 Interval Too Brief`. Requests that arrive meanwhile are answered afterwards.
    async fn register(&mut self, mut expires: u32) -> Vec<Exchange> {
        let mut done = Vec::new();
        let mut authorization: Option<(String, String)> = None;
        let mut challenged = false;
        for _ in 0..MAX_ATTEMPTS {
            self.cseq += 1;
            let branch = new_branch();
            let bytes = self.render(&branch, expires, authorization.as_ref());
            let key = TxKey {
                branch,
                method: "REGISTER".into(),
            };
            let ex = transaction(
                &mut self.conn,
                bytes,
                &key,
                &self.reg.timers,
                self.reg.run_start,
            )
            .await;
            let strays: Vec<Message> = ex
                .strays
                .iter()
                .filter_map(|s| match s {
                    Incoming::Message(m) if m.method().is_some() => Some(m.clone()),
                    _ => None,
                })
                .collect();
            let answer = ex.final_response().cloned();
            done.push(ex);
            for m in strays {
                self.inbound(&m).await;
            }
            let Some(m) = answer else { break };
            match m.status() {
                Some(401 | 407) if !challenged || stale(&m) => {
                    challenged = true;
                    let chs = Challenge::all_in(&m);
                    let uri = self.reg.registrar.clone();
                    let Some(a) = self.auth.as_mut().and_then(|auth| {
                        Challenge::pick(&chs).and_then(|ch| auth.answer(ch, "REGISTER", &uri))
                    }) else {
                        break;
                    };
                    authorization = Some((a.header_name.to_string(), a.header_value));
                }
                Some(423) if expires > 0 => match m.header("Min-Expires").and_then(|v| v.trim().parse::<u32>().ok()) {
                    Some(min) if min > expires && min <= 3600 => expires = min,
                    _ => break,
                },
                _ => break,
            }
        }
        done
    }

    /// Sets the registration up; the flow is usable when the report says [`FlowReport::registered`].
    pub(super) async fn start(&mut self) {
        let (remote, local) = (self.conn.endpoint.socket_addr(), self.conn.local);
        let v = self.register(EXPIRES).await;
        let ok = v
            .last()
            .and_then(Exchange::final_response)
            .filter(|m| m.status().is_some_and(|c| (200..300).contains(&c)))
            .cloned();
        let granted = ok.as_ref().map(|m| granted(m, &self.instance, local));
        let outbound = ok.as_ref().is_some_and(|m| {
            m.list_header("Require")
                .iter()
                .any(|t| t.eq_ignore_ascii_case("outbound"))
        });
        let flow_timer = ok
            .as_ref()
            .and_then(|m| m.header("Flow-Timer"))
            .and_then(|v| v.trim().parse::<u32>().ok());
        self.with_report(|r| {
            r.remote = Some(remote);
            r.local = Some(local);
            r.register = v;
            r.granted = granted;
            r.outbound = outbound;
            r.flow_timer = flow_timer;
        });
    }

    /// Serves the flow until `stop`, then removes the binding and closes the connection.
    pub(super) async fn serve(mut self, mut stop: watch::Receiver<bool>) {
        let (granted, flow_timer) = self
            .report
            .lock()
            .map(|r| (r.granted.unwrap_or(EXPIRES), r.flow_timer))
            .unwrap_or((EXPIRES, None));
        let period = flow_timer
            .map(|s| Duration::from_secs(u64::from(s.max(1))))
            .unwrap_or(KEEPALIVE);
        let mut ping_at = Instant::now() + keepalive_wait(period);
        let mut pong_by: Option<Instant> = None;
        let mut refresh_at = Instant::now() + Duration::from_secs(u64::from(granted.max(2) / 2));
        let lost = loop {
            if *stop.borrow() {
                break None;
            }
            let wake = (Instant::now() + TICK).min(ping_at).min(refresh_at);
            let got = tokio::select! {
                _ = stop.changed() => break None,
                r = self.conn.recv(wake) => r,
            };
            match got {
                Ok(Incoming::Message(m)) => {
                    // Keep-alives just before a message are read with it.
                    if let Err(e) = self.keepalive(leading_crlfs(&m.raw), &mut pong_by).await {
                        break Some(e.to_string());
                    }
                    if m.method().is_some() {
                        self.inbound(&m).await;
                    }
                }
                Ok(Incoming::Garbage(bytes, _)) => {
                    let (t, remote, local) = self.addrs();
                    self.shared.handle(trim_crlfs(&bytes), t, remote, local);
                }
                Err(TxError::Timeout) => {}
                Err(e) => break Some(e.to_string()),
            }
            let crlfs = self.conn.take_keepalives();
            if let Err(e) = self.keepalive(crlfs, &mut pong_by).await {
                break Some(e.to_string());
            }
            let now = Instant::now();
            if pong_by.is_some_and(|t| now >= t) {
                pong_by = None;
                self.with_report(|r| r.pongs_missing += 1);
            }
            if now >= ping_at {
                if let Err(e) = self.conn.send(b"\r\n\r\n", now + TICK * 4).await {
                    break Some(e.to_string());
                }
                self.with_report(|r| r.pings += 1);
                pong_by = Some(now + PONG_WAIT);
                ping_at = now + keepalive_wait(period);
            }
            if now >= refresh_at {
                let v = self.register(granted).await;
                let ok = final_code(&v).is_some_and(|c| (200..300).contains(&c));
                self.with_report(|r| r.refreshes += 1);
                if !ok {
                    break Some(format!(
                        "the refreshing REGISTER was not accepted ({})",
                        final_code(&v).map(|c| c.to_string()).unwrap_or("no answer".into())
                    ));
                }
                refresh_at = Instant::now() + Duration::from_secs(u64::from(granted.max(2) / 2));
            }
        };
        let anew = lost.is_some() && self.reopen().await;
        let unregister = if lost.is_none() || anew {
            self.register(0).await
        } else {
            Vec::new()
        };
        self.with_report(|r| {
            r.lost = lost;
            r.unregistered_anew = anew && final_code(&unregister).is_some_and(|c| (200..300).contains(&c));
            r.unregister = unregister;
        });
        self.conn.close().await;
    }

    /// A new connection to the registrar in place of the lost one; false when none opens.
    async fn reopen(&mut self) -> bool {
        let o = &self.reg.reopen;
        let deadline = Instant::now() + self.reg.timers.timeout;
        match Connection::open(&self.conn.endpoint, &o.tls, &o.sni, o.limits, deadline).await {
            Ok(c) => {
                std::mem::replace(&mut self.conn, c).close().await;
                true
            }
            Err(_) => false,
        }
    }

    /// `crlfs` keep-alive bytes read: the registrar's ping (CRLFCRLF) gets a pong (CRLF); a CRLF
    /// while a ping of ours waits is its pong.
    async fn keepalive(&mut self, crlfs: usize, pong_by: &mut Option<Instant>) -> Result<(), TxError> {
        if crlfs >= 4 {
            self.conn.send(b"\r\n", Instant::now() + TICK * 4).await?;
            self.with_report(|r| r.pings_answered += 1);
        } else if crlfs >= 2 && pong_by.take().is_some() {
            self.with_report(|r| r.pongs += 1);
        }
        Ok(())
    }

    /// Closes the connection without serving (the REGISTER was not accepted).
    pub(super) async fn close(self) {
        self.conn.close().await;
    }

    fn addrs(&self) -> (crate::target::Transport, SocketAddr, SocketAddr) {
        (
            self.conn.endpoint.transport,
            self.conn.endpoint.socket_addr(),
            self.conn.local,
        )
    }

    /// Records and answers a request that came over the flow, as the listener does.
    async fn inbound(&mut self, m: &Message) {
        let (t, remote, local) = self.addrs();
        let answers = self.shared.handle(trim_crlfs(&m.raw), t, remote, local);
        for a in answers {
            if self
                .conn
                .send(&a, Instant::now() + self.reg.timers.timeout)
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

/// A random 80-100% of `period` (RFC 5626 §4.4.1).
fn keepalive_wait(period: Duration) -> Duration {
    period.mul_f64(rand::rng().random_range(0.8..=1.0))
}

/// A 401/407 with `stale=true` (RFC 7616 §3.3: the nonce expired, the credentials were right) may be
/// answered again.
fn stale(m: &Message) -> bool {
    Challenge::all_in(m).iter().any(|c| c.stale)
}

fn leading_crlfs(b: &[u8]) -> usize {
    b.iter().take_while(|c| matches!(c, b'\r' | b'\n')).count()
}

fn trim_crlfs(b: &[u8]) -> &[u8] {
    &b[leading_crlfs(b)..]
}

/// The seconds a 2xx granted our binding: its Contact's `expires` (the one naming our instance or
/// address), else the `Expires` header, else what was asked.
fn granted(m: &Message, instance: &str, local: SocketAddr) -> u32 {
    let ours = m
        .headers_named("Contact")
        .flat_map(|v| v.split(','))
        .find(|c| c.contains(instance) || c.contains(&local.to_string()));
    ours.and_then(|c| crate::sip::parse::param(c, "expires"))
        .or_else(|| m.header("Expires").map(str::to_string))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(EXPIRES)
}

/// A fresh `urn:uuid:` (RFC 4122 version 4) for `+sip.instance`: one run, one instance.
fn instance_urn() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listen::{ListenAddr, ListenConfig, Listener};
    use crate::target::{Endpoint, Port, Transport};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A 200 to `req` (a REGISTER), granting `expires` seconds to its Contact.
    fn ok(req: &str, expires: u32) -> String {
        let h = |n: &str| {
            req.lines()
                .find(|l| l.to_ascii_lowercase().starts_with(&format!("{n}:")))
                .unwrap_or("")
                .to_string()
        };
        format!(
            "SIP/2.0 200 OK\r\n{}\r\n{}\r\n{};tag=reg\r\n{}\r\n{}\r\n{};expires={expires}\r\nFlow-Timer: 1\r\nRequire: outbound\r\nContent-Length: 0\r\n\r\n",
            h("via"),
            h("from"),
            h("to"),
            h("call-id"),
            h("cseq"),
            h("contact"),
        )
    }

    /// A registrar on loopback that grants 2 s (so the flow refreshes after 1 s), pings the client
    /// once, delivers one INVITE over the flow, and answers the unREGISTER. It returns what it read.
    async fn registrar(l: tokio::net::TcpListener) -> String {
        let (mut s, _) = l.accept().await.unwrap();
        let mut seen = String::new();
        let mut buf = vec![0u8; 8192];
        let until = Instant::now() + Duration::from_secs(8);
        let mut pinged = false;
        while Instant::now() < until {
            let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(8), s.read(&mut buf)).await
            else {
                break;
            };
            if n == 0 {
                break;
            }
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            for req in String::from_utf8_lossy(&buf[..n]).split("\r\n\r\n") {
                if !req.starts_with("REGISTER ") {
                    continue;
                }
                let expires = if req.contains("\r\nExpires: 0") { 0 } else { 2 };
                s.write_all(ok(req, expires).as_bytes()).await.unwrap();
                if !pinged {
                    pinged = true;
                    s.write_all(b"\r\n\r\n").await.unwrap();
                    s.write_all(b"INVITE sip:alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKflow1\r\nFrom: <sip:+12155550100@x>;tag=f\r\nTo: <sip:+12155550199@x>\r\nCall-ID: flow-invite\r\nCSeq: 1 INVITE\r\nMax-Forwards: 5\r\nContent-Length: 0\r\n\r\n").await.unwrap();
                }
            }
            if seen.contains("Expires: 0") {
                break;
            }
        }
        seen
    }

    /// Registers over a fresh connection to the registrar listening on `l`'s port.
    async fn registered(
        port: Port,
    ) -> (std::result::Result<Listener, FlowReport>, SocketAddr) {
        let ep = Endpoint::new(Transport::Tcp, "127.0.0.1".parse().unwrap(), port);
        let deadline = Instant::now() + Duration::from_secs(5);
        let conn = Connection::open(&ep, &TlsSettings::webpki(), "x", Limits::default(), deadline)
            .await
            .unwrap();
        let local = conn.local;
        let reg = Registration {
            registrar: "sip:127.0.0.1".into(),
            aor: "sip:alice@127.0.0.1".into(),
            contact_user: "alice".into(),
            credentials: None,
            user_agent: String::new(),
            timers: Timers::default(),
            run_start: Instant::now(),
            reopen: Reopen {
                tls: TlsSettings::webpki(),
                sni: "x".into(),
                limits: Limits::default(),
            },
        };
        let cfg = ListenConfig::new(ListenAddr {
            transport: Transport::Tcp,
            addr: local,
        });
        (Listener::register(conn, reg, cfg).await, local)
    }

    #[tokio::test]
    async fn a_flow_answers_pings_and_invites_refreshes_and_unregisters() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = Port::new(l.local_addr().unwrap().port()).unwrap();
        let fake = tokio::spawn(registrar(l));
        let (listener, local) = registered(port).await;
        let listener = listener.unwrap();
        let got = listener
            .wait_for(0, std::time::Instant::now() + Duration::from_secs(3), |r| {
                r.method() == Some("INVITE")
            })
            .await
            .expect("the INVITE over the flow");
        assert_eq!(got.codes, [100, 486]);
        assert_eq!(got.local, local);
        // Past half the 2 s granted: one refresh, and a ping of ours (Flow-Timer: 1).
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let (_, _, flow) = listener.stop_flow().await;
        let flow = flow.unwrap();
        let seen = fake.await.unwrap();
        assert!(flow.registered() && flow.unregistered(), "{flow:?}");
        assert!(flow.outbound);
        assert_eq!(flow.flow_timer, Some(1));
        assert_eq!(flow.granted, Some(2));
        assert!(flow.refreshes >= 1, "{flow:?}");
        assert_eq!(flow.pings_answered, 1, "{flow:?}");
        assert!(flow.pings >= 1, "{flow:?}");
        assert!(flow.lost.is_none());
        // RFC 5626 §4.2.1: outbound offered, the instance and reg-id on the Contact.
        assert!(seen.contains("Supported: path, outbound"), "{seen}");
        assert!(seen.contains(";reg-id=1;+sip.instance=\"<urn:uuid:"), "{seen}");
        assert!(seen.contains("SIP/2.0 486"), "{seen}");
        assert!(seen.matches("REGISTER sip:").count() >= 3, "{seen}");
    }

    /// The registrar drops the connection after accepting: the flow is lost, and the binding is
    /// removed over a new connection, with the Contact that was registered.
    #[tokio::test]
    async fn a_lost_flow_is_unregistered_over_a_new_connection() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = Port::new(l.local_addr().unwrap().port()).unwrap();
        let fake = tokio::spawn(async move {
            let mut texts = Vec::new();
            for _ in 0..2 {
                let (mut s, _) = l.accept().await.unwrap();
                let mut buf = vec![0u8; 8192];
                let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
                    .await
                    .unwrap()
                    .unwrap();
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                s.write_all(ok(&req, 300).as_bytes()).await.unwrap();
                texts.push(req);
                // Dropping `s` closes the connection.
            }
            texts
        });
        let (listener, local) = registered(port).await;
        let listener = listener.unwrap();
        let texts = tokio::time::timeout(Duration::from_secs(5), fake)
            .await
            .unwrap()
            .unwrap();
        let (_, _, flow) = listener.stop_flow().await;
        let flow = flow.unwrap();
        assert!(flow.lost.is_some(), "{flow:?}");
        assert!(flow.unregistered_anew && flow.unregistered(), "{flow:?}");
        assert!(flow.sentence().contains("removed over a new connection"));
        let unreg = &texts[1];
        assert!(unreg.contains("Expires: 0"), "{unreg}");
        assert!(unreg.contains(&format!("@{local};transport=tcp>")), "{unreg}");
    }
}
