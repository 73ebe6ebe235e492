//! SIP over UDP, TCP and TLS: client transactions with RFC 3261 timers, bounded reads and deadlines.

pub mod capture;
pub mod closing;
pub mod conn;
pub mod framing;
mod handshakes;
mod limiter;
pub mod tls;
mod wire;

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

pub use conn::{Connection, Incoming, TlsInfo};
pub use handshakes::{HandshakeTurn, Turns};
pub use limiter::Limiter;
pub use tls::{ClientIdentity, TlsSettings};
pub use wire::Wire;

use crate::sip::Message;
use crate::target::Transport;

/// Why a transaction got no final answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxError {
    /// Nothing (or nothing final) before the deadline.
    Timeout,
    /// Connection refused (TCP RST to SYN, or ICMP port unreachable on UDP).
    Refused,
    /// The peer reset the connection.
    Reset,
    /// The peer closed the connection cleanly.
    Closed,
    /// The TLS handshake failed.
    Tls(String),
    /// The server asked for a client certificate (CertificateRequest), none was sent, and the
    /// handshake or the first exchange after it failed.
    ClientCertRequired(String),
    /// A client certificate was sent on request and the handshake or the first exchange failed.
    ClientCertRefused(String),
    /// The peer sent something that can never be a valid message within our limits (reason, bytes).
    Protocol(String, Vec<u8>),
    Io(String),
}

impl TxError {
    /// The server asked for a client certificate and then failed the session.
    pub fn is_client_cert(&self) -> bool {
        matches!(
            self,
            TxError::ClientCertRequired(_) | TxError::ClientCertRefused(_)
        )
    }

    /// A short machine-friendly word (`timeout`, `refused`, `reset`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            TxError::Timeout => "timeout",
            TxError::Refused => "refused",
            TxError::Reset => "reset",
            TxError::Closed => "closed",
            TxError::Tls(_) => "tls",
            TxError::ClientCertRequired(_) => "client_certificate_required",
            TxError::ClientCertRefused(_) => "client_certificate_refused",
            TxError::Protocol(..) => "protocol",
            TxError::Io(_) => "io",
        }
    }
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxError::Timeout => f.write_str("no answer before the timeout"),
            TxError::Refused => f.write_str("connection refused"),
            TxError::Reset => f.write_str("connection reset by peer"),
            TxError::Closed => f.write_str("connection closed by peer"),
            TxError::Tls(e) => write!(f, "TLS handshake failed: {e}"),
            TxError::ClientCertRequired(e) => write!(
                f,
                "the server requires a client certificate (it sent a CertificateRequest and none was sent; see --client-cert): {e}"
            ),
            TxError::ClientCertRefused(e) => {
                write!(f, "the server refused the client certificate sent: {e}")
            }
            TxError::Protocol(r, _) => write!(f, "unusable reply: {r}"),
            TxError::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

/// RFC 3261 §17.1 timer values, and the overall deadline that caps Timer B/F.
#[derive(Debug, Clone, Copy)]
pub struct Timers {
    pub t1: Duration,
    pub t2: Duration,
    /// The longest a transaction may take; Timer B/F (64·T1) when larger.
    pub timeout: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            timeout: Duration::from_secs(5),
        }
    }
}

impl Timers {
    /// Timer B / Timer F, capped by the configured timeout.
    pub fn give_up_after(&self) -> Duration {
        (self.t1 * 64).min(self.timeout)
    }

    /// The wait before the next retransmission after a wait of `interval`: Timer A doubles (INVITE),
    /// Timer E doubles up to T2 (non-INVITE), RFC 3261 §17.1.1.2 and §17.1.2.2.
    pub fn next_interval(&self, interval: Duration, invite: bool) -> Duration {
        if invite {
            interval * 2
        } else {
            (interval * 2).min(self.t2)
        }
    }

    /// How many datagrams one UDP transaction sends when nothing answers: the request, then one per
    /// Timer A/E firing before Timer B/F ([`give_up_after`](Self::give_up_after)). The dry run's
    /// packet budget; [`transaction`] follows the same schedule.
    pub fn udp_sends(&self, invite: bool) -> u32 {
        let give_up = self.give_up_after();
        let (mut at, mut interval, mut n) = (Duration::ZERO, self.t1, 1u32);
        while !interval.is_zero() && at + interval < give_up && n < 64 {
            at += interval;
            interval = self.next_interval(interval, invite);
            n += 1;
        }
        n
    }
}

/// At most this many unrelated messages are kept per exchange, so a chatty peer cannot grow memory.
const MAX_STRAYS: usize = 16;
/// At most this many matching responses are kept; past it a provisional replaces the last one kept, so
/// an endless stream of 1xx (each up to the message limit) cannot grow memory until the deadline.
const MAX_RESPONSES: usize = 16;

/// One client transaction as it happened.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub transport: Transport,
    pub remote: std::net::SocketAddr,
    pub local: Option<std::net::SocketAddr>,
    /// When the transaction started, relative to the start of the run.
    pub at: Duration,
    pub sent: Vec<u8>,
    pub retransmissions: u32,
    /// Responses matching our branch and method, in arrival order.
    pub responses: Vec<Message>,
    /// Messages and bytes that did not match this transaction (bounded).
    pub strays: Vec<Incoming>,
    /// Time from first send to the first matching response.
    pub rtt: Option<Duration>,
    pub tls: Option<TlsInfo>,
    /// Set when no final response arrived.
    pub error: Option<TxError>,
    /// True when a connection was established or any reply arrived: something is there.
    pub reached: bool,
    /// Why an earlier attempt of the same request failed, when it was retried.
    pub earlier_attempt: Option<String>,
}

impl Exchange {
    /// An exchange that never got to send: the connection could not be opened.
    pub fn not_sent(
        ep: &crate::target::Endpoint,
        at: Duration,
        error: Option<TxError>,
    ) -> Exchange {
        Exchange {
            transport: ep.transport,
            remote: ep.socket_addr(),
            local: None,
            at,
            sent: Vec::new(),
            retransmissions: 0,
            responses: Vec::new(),
            strays: Vec::new(),
            rtt: None,
            tls: None,
            error,
            reached: false,
            earlier_attempt: None,
        }
    }

    /// The final (≥ 200) response, if one arrived.
    pub fn final_response(&self) -> Option<&Message> {
        self.responses
            .iter()
            .find(|m| m.status().is_some_and(|c| c >= 200))
    }

    /// The final response, or the last provisional one.
    pub fn best_response(&self) -> Option<&Message> {
        self.final_response().or_else(|| self.responses.last())
    }

    /// Why unrelated bytes that arrived could not be understood, if any did (for honest summaries).
    pub fn garbage_reason(&self) -> Option<String> {
        self.strays.iter().find_map(|s| match s {
            Incoming::Garbage(b, why) => Some(format!("{} unparseable bytes ({why})", b.len())),
            Incoming::Message(_) => None,
        })
    }

    /// Every byte received for this transaction, matching responses first, for evidence.
    pub fn received_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for m in &self.responses {
            out.extend_from_slice(&m.raw);
        }
        for s in &self.strays {
            match s {
                Incoming::Message(m) => out.extend_from_slice(&m.raw),
                Incoming::Garbage(b, _) => out.extend_from_slice(&b[..b.len().min(4096)]),
            }
        }
        if let Some(TxError::Protocol(_, b)) = &self.error {
            out.extend_from_slice(&b[..b.len().min(4096)]);
        }
        out
    }
}

/// What identifies the responses to a request.
#[derive(Debug, Clone)]
pub struct TxKey {
    pub branch: String,
    pub method: String,
}

impl TxKey {
    fn matches(&self, m: &Message) -> bool {
        m.status().is_some()
            && m.top_via_branch().as_deref() == Some(self.branch.as_str())
            && m.cseq()
                .is_some_and(|(_, meth)| meth.eq_ignore_ascii_case(&self.method))
    }
}

/// Runs one client transaction on an open connection: sends `bytes`, retransmits on UDP per Timer A/E,
/// and collects matching responses until a final one or until the deadline.
pub async fn transaction(
    conn: &mut Connection,
    bytes: Vec<u8>,
    key: &TxKey,
    timers: &Timers,
    run_start: Instant,
) -> Exchange {
    let start = Instant::now();
    let deadline = start + timers.give_up_after();
    let mut ex = Exchange {
        transport: conn.endpoint.transport,
        remote: conn.endpoint.socket_addr(),
        local: Some(conn.local),
        at: start.saturating_duration_since(run_start),
        sent: bytes,
        retransmissions: 0,
        responses: Vec::new(),
        strays: Vec::new(),
        rtt: None,
        tls: conn.tls.clone(),
        error: None,
        reached: conn.endpoint.transport.is_stream(),
        earlier_attempt: None,
    };
    if let Err(e) = conn.send(&ex.sent, deadline).await {
        ex.error = Some(e);
        return ex;
    }
    let udp = conn.endpoint.transport == Transport::Udp;
    let invite = key.method.eq_ignore_ascii_case("INVITE");
    let mut interval = timers.t1;
    let mut next_retx = start + interval;
    let mut provisional = false;
    loop {
        let wait_until = if udp && !(invite && provisional) {
            next_retx.min(deadline)
        } else {
            deadline
        };
        match conn.recv(wait_until).await {
            Ok(Incoming::Message(m)) if key.matches(&m) => {
                ex.reached = true;
                ex.rtt.get_or_insert_with(|| start.elapsed());
                let code = m.status().unwrap_or(0);
                if ex.responses.len() >= MAX_RESPONSES && code < 200 {
                    ex.responses.pop();
                }
                ex.responses.push(m);
                if code >= 200 {
                    return ex;
                }
                provisional = true;
                if udp && !invite {
                    interval = timers.t2;
                    next_retx = Instant::now() + interval;
                }
            }
            Ok(other) => {
                ex.reached = true;
                if ex.strays.len() < MAX_STRAYS {
                    ex.strays.push(other);
                }
            }
            Err(TxError::Timeout) if Instant::now() < deadline => {
                // Timer A/E fired: retransmit with doubling interval (capped at T2 for non-INVITE).
                if let Err(e) = conn.send(&ex.sent, deadline).await {
                    ex.error = Some(e);
                    return ex;
                }
                ex.retransmissions += 1;
                interval = timers.next_interval(interval, invite);
                next_retx = Instant::now() + interval;
            }
            Err(e) => {
                ex.error = Some(e);
                return ex;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Limits;
    use crate::target::{Endpoint, Port};
    use tokio::net::UdpSocket;

    fn reply(code: u16) -> Vec<u8> {
        format!(
            "SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKflood\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    /// A flooding peer keeps the socket always readable, and a ready read completes before its timer is
    /// looked at: without a bound, a loop over `recv` (every transaction) ran seconds past its deadline
    /// for as long as the flood lasted. Data already there is still collected by a few late reads.
    #[tokio::test]
    async fn ready_data_does_not_outlive_the_deadline() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = Port::new(server.local_addr().unwrap().port()).unwrap();
        let ep = Endpoint::new(Transport::Udp, "127.0.0.1".parse().unwrap(), port);
        let soon = Instant::now() + Duration::from_secs(5);
        let mut conn = Connection::open(&ep, &TlsSettings::webpki(), "x", Limits::default(), soon)
            .await
            .unwrap();
        conn.send(b"OPTIONS sip:x SIP/2.0\r\n\r\n", soon)
            .await
            .unwrap();
        let mut buf = [0u8; 2048];
        let (_, from) = server.recv_from(&mut buf).await.unwrap();
        let queued = conn::MAX_LATE_READS + 10;
        for _ in 0..=queued {
            server.send_to(&reply(200), from).await.unwrap();
        }
        // Loopback delivers at once: once the first is read, the others are queued behind it.
        assert!(matches!(conn.recv(soon).await, Ok(Incoming::Message(_))));
        let passed = Instant::now() - Duration::from_millis(1);
        for i in 0..conn::MAX_LATE_READS {
            let got = conn.recv(passed).await;
            assert!(
                matches!(got, Ok(Incoming::Message(_))),
                "late read {i}: {got:?}"
            );
        }
        assert_eq!(conn.recv(passed).await.err(), Some(TxError::Timeout));
        // A read before its deadline starts the count afresh.
        assert!(matches!(conn.recv(soon).await, Ok(Incoming::Message(_))));
    }

    /// A peer answering with a long run of provisionals before the final response: memory stays bounded
    /// and the final response is still what the exchange reports.
    #[tokio::test]
    async fn endless_provisionals_do_not_grow_the_exchange() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = Port::new(server.local_addr().unwrap().port()).unwrap();
        let peer = tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            let (_, from) = server.recv_from(&mut buf).await.unwrap();
            for i in 0..100 {
                server.send_to(&reply(100), from).await.unwrap();
                if i % 10 == 0 {
                    // Lets the client drain its socket so no datagram is dropped on loopback.
                    tokio::task::yield_now().await;
                }
            }
            server.send_to(&reply(200), from).await.unwrap();
        });
        let ep = Endpoint::new(Transport::Udp, "127.0.0.1".parse().unwrap(), port);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut conn = Connection::open(
            &ep,
            &TlsSettings::webpki(),
            "127.0.0.1",
            Limits::default(),
            deadline,
        )
        .await
        .unwrap();
        let key = TxKey {
            branch: "z9hG4bKflood".into(),
            method: "OPTIONS".into(),
        };
        let timers = Timers {
            timeout: Duration::from_secs(5),
            ..Timers::default()
        };
        let ex = transaction(
            &mut conn,
            b"OPTIONS sip:x SIP/2.0\r\n\r\n".to_vec(),
            &key,
            &timers,
            Instant::now(),
        )
        .await;
        peer.await.unwrap();
        assert!(
            ex.responses.len() <= MAX_RESPONSES + 1,
            "{}",
            ex.responses.len()
        );
        assert_eq!(ex.final_response().and_then(Message::status), Some(200));
        assert_eq!(ex.responses[0].status(), Some(100));
    }

    /// The dry run's packet budget ([`Timers::udp_sends`]) is what a transaction really sends to a
    /// silent peer: the same schedule, not a second copy of it.
    #[tokio::test]
    async fn a_silent_peer_gets_the_budgeted_number_of_datagrams() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = Port::new(server.local_addr().unwrap().port()).unwrap();
        let ep = Endpoint::new(Transport::Udp, "127.0.0.1".parse().unwrap(), port);
        // Sends at 0, 20, 60, 140 and 300 ms; the next would be at 620, past the 500 ms give-up.
        let timers = Timers {
            t1: Duration::from_millis(20),
            t2: Duration::from_secs(4),
            timeout: Duration::from_millis(500),
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut conn = Connection::open(
            &ep,
            &TlsSettings::webpki(),
            "x",
            Limits::default(),
            deadline,
        )
        .await
        .unwrap();
        let key = TxKey {
            branch: "z9hG4bKsilent".into(),
            method: "OPTIONS".into(),
        };
        let bytes = b"OPTIONS sip:x SIP/2.0\r\n\r\n".to_vec();
        let ex = transaction(&mut conn, bytes, &key, &timers, Instant::now()).await;
        let mut buf = [0u8; 2048];
        let mut got = 0;
        while let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_millis(50), server.recv_from(&mut buf)).await
        {
            got += 1;
        }
        assert_eq!(ex.retransmissions + 1, got);
        assert_eq!(got, timers.udp_sends(false));
        assert!(timers.udp_sends(true) <= got, "INVITE backs off faster");
    }
}
