//! `sipcheck listen`: a SIP listener (UAS) that receives the calls a trunk delivers and keeps each
//! inbound request byte for byte, so the far side of a call can be judged (who the trunk says is
//! calling, with what STIR/SHAKEN identity).
//!
//! It never rings anything and never answers a call: INVITE gets `100 Trying` then a final `486 Busy
//! Here` (no dialog, no bill), OPTIONS gets 200, CANCEL and ACK are absorbed, anything else is refused.
//! It is bounded like the client side: messages by [`Limits`], at most `max_requests` inbound
//! requests per run (past that, requests are counted and dropped unanswered), at most
//! [`MAX_CONNECTIONS`] stream connections at once, each closed after [`IDLE`] without a complete
//! message, and everything stops at the run's deadline.

pub mod flow;
pub mod report;
mod stream;
pub mod uas;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::{Notify, watch};

use crate::error::{Error, Result};
use crate::sip::{Limits, Message};
use crate::target::Transport;

/// Stream connections served at once; more are closed on accept.
pub const MAX_CONNECTIONS: usize = 32;
/// A stream connection that sends no complete message for this long is closed.
pub const IDLE: Duration = Duration::from_secs(10);
/// Default `--max-requests`.
pub const DEFAULT_MAX_REQUESTS: usize = 200;
/// A TLS handshake must finish within this.
const HANDSHAKE: Duration = Duration::from_secs(5);

/// Where to listen: `ADDR:PORT` (UDP), `tcp:ADDR:PORT`, `tls:ADDR:PORT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenAddr {
    pub transport: Transport,
    pub addr: SocketAddr,
}

impl ListenAddr {
    pub fn parse(s: &str) -> Result<ListenAddr> {
        let t = s.trim();
        let (transport, rest) = match t.split_once(':') {
            Some((p, rest)) if p.eq_ignore_ascii_case("udp") => (Transport::Udp, rest),
            Some((p, rest)) if p.eq_ignore_ascii_case("tcp") => (Transport::Tcp, rest),
            Some((p, rest)) if p.eq_ignore_ascii_case("tls") => (Transport::Tls, rest),
            _ => (Transport::Udp, t),
        };
        let addr: SocketAddr = rest.parse().map_err(|_| {
            Error::BadOption(format!(
                "listen address {s:?}: give ADDR:PORT, tcp:ADDR:PORT or tls:ADDR:PORT (an IP literal, [v6] in brackets)"
            ))
        })?;
        Ok(ListenAddr { transport, addr })
    }
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.transport.as_str(), self.addr)
    }
}

/// How the listener runs.
#[derive(Clone)]
pub struct ListenConfig {
    /// Where to listen (`udp:`, `tcp:` or `tls:` and an address).
    pub at: ListenAddr,
    /// `--listen-cert` / `--listen-key` (PEM), for `tls:`.
    pub tls: Option<(String, String)>,
    /// The run ends after this many requests (`--max-requests`).
    pub max_requests: usize,
    /// The final answer to INVITE.
    pub final_code: u16,
    /// Bounds on what a caller may send (message and header sizes).
    pub limits: Limits,
}

impl ListenConfig {
    /// A listener at `at` with the defaults: 486 Busy Here, [`DEFAULT_MAX_REQUESTS`].
    pub fn new(at: ListenAddr) -> ListenConfig {
        ListenConfig {
            at,
            tls: None,
            max_requests: DEFAULT_MAX_REQUESTS,
            final_code: 486,
            limits: Limits::default(),
        }
    }

    /// A listener at `addr` (`ADDR:PORT`, `tcp:ADDR:PORT`, `tls:ADDR:PORT`) with the PEM certificate
    /// and key of a `tls:` listener (`--listen-cert`, `--listen-key`: both or neither).
    pub fn parse(addr: &str, cert: Option<&str>, key: Option<&str>) -> Result<ListenConfig> {
        let mut cfg = ListenConfig::new(ListenAddr::parse(addr)?);
        cfg.tls = match (cert, key) {
            (Some(c), Some(k)) => Some((c.to_string(), k.to_string())),
            (None, None) => None,
            _ => {
                return Err(Error::BadOption(
                    "--listen-cert and --listen-key go together".into(),
                ));
            }
        };
        Ok(cfg)
    }
}

/// One inbound request as received, with what we answered.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub seq: usize,
    /// Since the listener started.
    pub at: Duration,
    /// Unix seconds when it arrived (the "now" its Identity is verified at).
    pub unix: i64,
    pub transport: Transport,
    pub remote: SocketAddr,
    pub local: SocketAddr,
    /// The bytes as received (cut to the message limit).
    pub raw: Vec<u8>,
    pub message: Option<Message>,
    /// Why it did not parse, when it did not.
    pub error: Option<String>,
    /// What we sent back.
    pub answered: Vec<Vec<u8>>,
    pub codes: Vec<u16>,
}

impl Inbound {
    pub fn method(&self) -> Option<&str> {
        self.message.as_ref().and_then(|m| m.method())
    }

    pub fn evidence(&self) -> crate::findings::Evidence {
        crate::findings::Evidence {
            transport: self.transport,
            remote: self.remote.to_string(),
            local: Some(self.local.to_string()),
            at_ms: self.at.as_millis() as u64,
            rtt_ms: None,
            sent: crate::evidence::printable(&self.answered.concat()),
            received: crate::evidence::printable(&self.raw),
            note: self.error.clone(),
        }
    }
}

/// Counts over the whole run (the typed details of `listen.summary`).
pub use crate::findings::listen::ListenStats as Stats;

pub(crate) struct Shared {
    cfg: ListenConfig,
    started: Instant,
    records: Mutex<Vec<Inbound>>,
    stats: Mutex<Stats>,
    tx: Mutex<uas::Transactions>,
    notify: Notify,
}

impl Shared {
    /// Records one datagram or framed message and returns the bytes to send back.
    pub(crate) fn handle(
        &self,
        bytes: &[u8],
        transport: Transport,
        remote: SocketAddr,
        local: SocketAddr,
    ) -> Vec<Vec<u8>> {
        let parsed = Message::parse(bytes, &self.cfg.limits);
        let answer = match &parsed {
            Ok(m) if m.method().is_some() => self
                .tx
                .lock()
                .ok()
                .map(|mut t| t.answer(m, self.cfg.final_code)),
            _ => None,
        };
        let Ok(mut stats) = self.stats.lock() else {
            return Vec::new();
        };
        if answer.as_ref().is_some_and(|a| a.retransmission) {
            stats.retransmissions += 1;
            return answer.map(|a| a.responses).unwrap_or_default();
        }
        if stats.requests >= self.cfg.max_requests {
            stats.dropped += 1;
            return Vec::new();
        }
        stats.requests += 1;
        let (message, error) = match parsed {
            Ok(m) if m.method().is_some() => (Some(m), None),
            Ok(_) => (None, Some("a response, not a request".to_string())),
            Err(e) => (None, Some(e.to_string())),
        };
        if error.is_some() {
            stats.unparseable += 1;
        }
        let seq = stats.requests;
        drop(stats);
        let (answered, codes) = answer.map(|a| (a.responses, a.codes)).unwrap_or_default();
        let rec = Inbound {
            seq,
            at: self.started.elapsed(),
            unix: now_unix(),
            transport,
            remote,
            local,
            raw: bytes[..bytes.len().min(self.cfg.limits.max_message)].to_vec(),
            message,
            error,
            answered: answered.clone(),
            codes,
        };
        if let Ok(mut r) = self.records.lock() {
            r.push(rec);
        }
        self.notify.notify_waiters();
        answered
    }

    fn bump(&self, f: impl FnOnce(&mut Stats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s)
        }
    }
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Loads a `tls:` listener's certificate and key, for errors before any traffic.
pub fn check_tls(cfg: &ListenConfig) -> Result<()> {
    stream::acceptor(cfg.tls.as_ref()).map(|_| ())
}

/// A running listener.
pub struct Listener {
    shared: Arc<Shared>,
    local: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    /// A registered flow's account of itself, when the calls come over one ([`Listener::register`]).
    flow: Option<Arc<Mutex<flow::FlowReport>>>,
    /// How long [`stop`](Listener::stop) waits for the task (a flow unregisters first).
    stop_wait: Duration,
}

impl Listener {
    /// Binds and starts serving in the background; bind and certificate errors come back here.
    pub async fn start(cfg: ListenConfig) -> Result<Listener> {
        let at = cfg.at;
        let bind_err = |e: std::io::Error| Error::io(format!("cannot listen on {at}"), e);
        let shared = Arc::new(Shared {
            cfg: cfg.clone(),
            started: Instant::now(),
            records: Mutex::new(Vec::new()),
            stats: Mutex::new(Stats::default()),
            tx: Mutex::new(uas::Transactions::default()),
            notify: Notify::new(),
        });
        let (stop, stop_rx) = watch::channel(false);
        let (local, task) = match at.transport {
            Transport::Udp => {
                let sock = UdpSocket::bind(at.addr).await.map_err(bind_err)?;
                let local = sock.local_addr().map_err(bind_err)?;
                let sh = shared.clone();
                (local, tokio::spawn(serve_udp(sock, sh, stop_rx)))
            }
            Transport::Tcp | Transport::Tls => {
                let acceptor = match at.transport {
                    Transport::Tls => Some(stream::acceptor(cfg.tls.as_ref())?),
                    _ => None,
                };
                let l = tokio::net::TcpListener::bind(at.addr)
                    .await
                    .map_err(bind_err)?;
                let local = l.local_addr().map_err(bind_err)?;
                let sh = shared.clone();
                (
                    local,
                    tokio::spawn(stream::serve(l, acceptor, sh, stop_rx, at.transport)),
                )
            }
        };
        Ok(Listener {
            shared,
            local,
            stop,
            task,
            flow: None,
            stop_wait: Duration::from_secs(2),
        })
    }

    /// Receives over a flow instead of a listening socket: REGISTERs on `conn` (an open TCP or TLS
    /// connection to the registrar) and, once accepted, serves the requests that come back over it
    /// in the background (see [`flow`]). A REGISTER that is not accepted comes back as `Err` with
    /// what the flow saw; nothing is left running then.
    pub async fn register(
        conn: crate::transport::Connection,
        reg: flow::Registration,
        cfg: ListenConfig,
    ) -> std::result::Result<Listener, flow::FlowReport> {
        let local = conn.local;
        // Unregistering may take a new connection and two transactions, each bounded by the timeout.
        let stop_wait = reg.timers.timeout * 3 + Duration::from_secs(1);
        let shared = Arc::new(Shared {
            cfg,
            started: Instant::now(),
            records: Mutex::new(Vec::new()),
            stats: Mutex::new(Stats::default()),
            tx: Mutex::new(uas::Transactions::default()),
            notify: Notify::new(),
        });
        let report = Arc::new(Mutex::new(flow::FlowReport::default()));
        let mut f = flow::Flow::new(conn, reg, shared.clone(), report.clone());
        f.start().await;
        let snapshot = report.lock().map(|r| r.clone()).unwrap_or_default();
        if !snapshot.registered() {
            f.close().await;
            return Err(snapshot);
        }
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(f.serve(stop_rx));
        Ok(Listener {
            shared,
            local,
            stop,
            task,
            flow: Some(report),
            stop_wait,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn records(&self) -> Vec<Inbound> {
        self.shared
            .records
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    pub fn stats(&self) -> Stats {
        self.shared
            .stats
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// The first record from `from_seq` on that matches, waiting until `deadline`.
    pub async fn wait_for(
        &self,
        from_seq: usize,
        deadline: Instant,
        pred: impl Fn(&Inbound) -> bool,
    ) -> Option<Inbound> {
        loop {
            let notified = self.shared.notify.notified();
            if let Some(hit) = self
                .records()
                .into_iter()
                .find(|r| r.seq > from_seq && pred(r))
            {
                return Some(hit);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            let _ = tokio::time::timeout(deadline - now, notified).await;
        }
    }

    /// The sequence number of the last record so far.
    pub fn last_seq(&self) -> usize {
        self.stats().requests
    }

    /// Stops serving (open connections are closed) and returns everything recorded.
    pub async fn stop(self) -> (Vec<Inbound>, Stats) {
        let (records, stats, _) = self.stop_flow().await;
        (records, stats)
    }

    /// As [`stop`](Self::stop); a registered flow is unregistered first and says how it went.
    pub async fn stop_flow(self) -> (Vec<Inbound>, Stats, Option<flow::FlowReport>) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(self.stop_wait, self.task).await;
        let flow = self
            .flow
            .and_then(|f| f.lock().ok().map(|r| r.clone()));
        let records = self
            .shared
            .records
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default();
        let stats = self
            .shared
            .stats
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        (records, stats, flow)
    }
}

async fn serve_udp(sock: UdpSocket, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let local = sock.local_addr().unwrap_or_else(|_| shared.cfg.at.addr);
    let mut buf = vec![0u8; 65_535];
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            r = sock.recv_from(&mut buf) => {
                let Ok((n, from)) = r else { continue };
                // Keep-alive CRLFs (RFC 5626 §4.4.1) are not requests.
                if buf[..n].iter().all(|b| matches!(b, b'\r' | b'\n' | b' ')) {
                    continue;
                }
                for resp in shared.handle(&buf[..n], Transport::Udp, from, local) {
                    let _ = sock.send_to(&resp, from).await;
                }
            }
        }
    }
}
