//! One connection (or connected UDP socket) to one endpoint, with bounded, deadline-driven reads.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};

use super::{TxError, Turns};
use super::capture::{Direction, Sink, Tap};
use super::framing::{Frame, Framer};
use super::tls::{Captured, ClientAuthSeen, TlsSettings, client_config, server_name};
use crate::sip::parse::{Limits, Message};
use crate::target::{Endpoint, Transport};

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// What the TLS handshake showed about the peer.
#[derive(Debug, Clone, Default)]
pub struct TlsInfo {
    pub version: String,
    pub cipher_suite: String,
    /// The name sent as SNI and checked against the certificate.
    pub server_name: String,
    /// DER certificates as sent, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// `Ok` when the chain verified against the trust roots for `server_name`.
    pub verified: Option<Result<(), String>>,
    /// The server sent a CertificateRequest.
    pub client_cert_requested: bool,
    /// A client certificate was sent in answer.
    pub client_cert_sent: bool,
}

/// `e` as a client-certificate error when a certificate was requested (sent or not) and the session
/// then failed the way a refusal shows (an alert, a reset, a close); else `e`. Only for errors before
/// anything was read: TLS 1.3 servers refuse a missing certificate after the client's Finished, so
/// the handshake "succeeds" and the first read gets the alert.
fn explain_client_auth(seen: ClientAuthSeen, e: TxError) -> TxError {
    if !seen.requested {
        return e;
    }
    let detail = match &e {
        TxError::Tls(m) | TxError::Io(m) => m.clone(),
        TxError::Reset | TxError::Closed => e.to_string(),
        _ => return e,
    };
    if seen.sent {
        TxError::ClientCertRefused(detail)
    } else {
        TxError::ClientCertRequired(detail)
    }
}

/// One item read from a connection.
#[derive(Debug, Clone)]
pub enum Incoming {
    Message(Message),
    /// Bytes that are not a SIP message we could parse, and why.
    Garbage(Vec<u8>, String),
}

enum Inner {
    Udp(UdpSocket),
    /// The stream, what it delivered and has not been taken yet, and where framing got to in it.
    Stream(Box<dyn Stream>, Vec<u8>, Framer),
}

/// A connection to one endpoint.
pub struct Connection {
    inner: Inner,
    pub endpoint: Endpoint,
    pub local: SocketAddr,
    pub tls: Option<TlsInfo>,
    limits: Limits,
    capture: Option<Sink>,
    /// Reads in a row started past their deadline (see [`late_read`]).
    late: u32,
    /// Nothing read yet: an error now may be the server's verdict on the client certificate.
    read_nothing: bool,
    /// The address's TLS handshake turns: the close is sent in one, held until the server closed.
    turns: Option<Turns>,
}

fn io_err(e: io::Error) -> TxError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => TxError::Refused,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => TxError::Reset,
        io::ErrorKind::UnexpectedEof => TxError::Closed,
        _ => TxError::Io(e.to_string()),
    }
}

impl Connection {
    /// Connects (and for TLS, handshakes with `sni` as the server name) before `deadline`.
    pub async fn open(
        endpoint: &Endpoint,
        tls: &TlsSettings,
        sni: &str,
        limits: Limits,
        deadline: Instant,
    ) -> Result<Connection, TxError> {
        let remote = endpoint.socket_addr();
        match endpoint.transport {
            Transport::Udp => {
                let bind: SocketAddr = if remote.is_ipv6() {
                    "[::]:0".parse().expect("literal")
                } else {
                    "0.0.0.0:0".parse().expect("literal")
                };
                let sock = UdpSocket::bind(bind).await.map_err(io_err)?;
                sock.connect(remote).await.map_err(io_err)?;
                let local = sock.local_addr().map_err(io_err)?;
                Ok(Connection {
                    inner: Inner::Udp(sock),
                    endpoint: endpoint.clone(),
                    local,
                    tls: None,
                    limits,
                    capture: tls.capture.clone(),
                    late: 0,
                    read_nothing: true,
                    turns: None,
                })
            }
            Transport::Tcp | Transport::Tls => {
                let tcp = timeout_at(deadline, TcpStream::connect(remote))
                    .await
                    .map_err(|_| TxError::Timeout)?
                    .map_err(io_err)?;
                let _ = tcp.set_nodelay(true);
                let local = tcp.local_addr().map_err(io_err)?;
                if let Some(c) = &tls.capture {
                    c.opened(endpoint.transport, local, remote);
                }
                if endpoint.transport == Transport::Tcp {
                    return Ok(Connection {
                        inner: Inner::Stream(Box::new(tcp), Vec::new(), Framer::new(limits)),
                        endpoint: endpoint.clone(),
                        local,
                        tls: None,
                        limits,
                        capture: tls.capture.clone(),
                        late: 0,
                        read_nothing: true,
                    turns: None,
                    });
                }
                // Under TLS the tap sits below rustls, so the capture holds real TLS records.
                let tcp = Tap {
                    inner: tcp,
                    sink: tls.capture.clone(),
                    transport: Transport::Tls,
                    local,
                    remote,
                };
                let (cfg, captured) = client_config(tls).map_err(TxError::Tls)?;
                let name = server_name(sni).map_err(TxError::Tls)?;
                let connector = tokio_rustls::TlsConnector::from(cfg);
                let stream = timeout_at(deadline, connector.connect(name, tcp))
                    .await
                    .map_err(|_| TxError::Timeout)?
                    .map_err(|e| {
                        let e = match e.kind() {
                            io::ErrorKind::InvalidData => TxError::Tls(e.to_string()),
                            _ => io_err(e),
                        };
                        let seen = captured.lock().map(|c| c.client_auth()).unwrap_or_default();
                        explain_client_auth(seen, e)
                    })?;
                let info = tls_info(&stream, sni, &captured);
                Ok(Connection {
                    inner: Inner::Stream(Box::new(stream), Vec::new(), Framer::new(limits)),
                    endpoint: endpoint.clone(),
                    local,
                    tls: Some(info),
                    limits,
                    capture: tls.capture.clone(),
                    late: 0,
                    read_nothing: true,
                    turns: None,
                })
            }
        }
    }

    pub async fn send(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), TxError> {
        let fut = async {
            match &mut self.inner {
                Inner::Udp(s) => s.send(bytes).await.map(|_| ()),
                Inner::Stream(s, _, _) => {
                    s.write_all(bytes).await?;
                    s.flush().await
                }
            }
        };
        let tls = self.tls.as_ref().filter(|_| self.read_nothing);
        timeout_at(deadline, fut)
            .await
            .map_err(|_| TxError::Timeout)?
            .map_err(|e| explain(tls, io_err(e)))?;
        self.tap(Direction::Sent, bytes);
        Ok(())
    }

    /// Reports plaintext SIP to the capture sink (TLS is reported below rustls, by the [`Tap`]).
    fn tap(&self, dir: Direction, bytes: &[u8]) {
        if let Some(c) = &self.capture
            && self.endpoint.transport != Transport::Tls
            && !bytes.is_empty()
        {
            let remote = self.endpoint.socket_addr();
            c.data(self.endpoint.transport, self.local, remote, dir, bytes);
        }
    }

    /// The next message (or unparseable datagram / stream prefix), waiting no later than `deadline`.
    pub async fn recv(&mut self, deadline: Instant) -> Result<Incoming, TxError> {
        let tls = self.tls.clone().filter(|_| self.read_nothing);
        let got = self
            .recv_inner(deadline)
            .await
            .map_err(|e| explain(tls.as_ref(), e));
        if got.is_ok() {
            self.read_nothing = false;
        }
        got
    }

    async fn recv_inner(&mut self, deadline: Instant) -> Result<Incoming, TxError> {
        let limits = self.limits;
        let (transport, local, remote) = (
            self.endpoint.transport,
            self.local,
            self.endpoint.socket_addr(),
        );
        let capture = self.capture.clone();
        let late = &mut self.late;
        match &mut self.inner {
            Inner::Udp(s) => {
                late_read(late, deadline)?;
                let mut buf = vec![0u8; limits.max_message + 1];
                let n = timeout_at(deadline, s.recv(&mut buf))
                    .await
                    .map_err(|_| TxError::Timeout)?
                    .map_err(io_err)?;
                buf.truncate(n);
                if let Some(c) = &capture {
                    c.data(transport, local, remote, Direction::Received, &buf);
                }
                Ok(parse_incoming(buf, &limits))
            }
            Inner::Stream(s, buf, framer) => loop {
                match framer.next(buf) {
                    Frame::Message(n) => {
                        let rest = buf.split_off(n);
                        let msg = std::mem::replace(buf, rest);
                        return Ok(parse_incoming(msg, &limits));
                    }
                    Frame::Invalid(reason) => {
                        let junk = std::mem::take(buf);
                        return Err(TxError::Protocol(reason, junk));
                    }
                    Frame::Need => {}
                }
                late_read(late, deadline)?;
                let mut chunk = [0u8; 8192];
                let n = timeout_at(deadline, s.read(&mut chunk))
                    .await
                    .map_err(|_| TxError::Timeout)?
                    .map_err(io_err)?;
                if n == 0 {
                    return Err(if buf.iter().all(|b| b.is_ascii_whitespace()) {
                        TxError::Closed
                    } else {
                        TxError::Protocol(
                            "connection closed mid-message".into(),
                            std::mem::take(buf),
                        )
                    });
                }
                if let Some(c) = &capture
                    && transport != Transport::Tls
                {
                    c.data(transport, local, remote, Direction::Received, &chunk[..n]);
                }
                buf.extend_from_slice(&chunk[..n]);
            },
        }
    }

    /// Takes the keep-alive CRLFs (RFC 5626 §4.4.1: a ping is CRLFCRLF, a pong CRLF) a stream holds
    /// with no message begun after them, and returns how many bytes they were; 0 on UDP or when a
    /// message has begun (its leading CRLFs stay with it). A reader on a registered flow calls this
    /// after a read timed out, to see pongs and pings that [`recv`](Self::recv) never returns alone.
    pub fn take_keepalives(&mut self) -> usize {
        match &mut self.inner {
            Inner::Stream(_, buf, framer)
                if !buf.is_empty() && buf.iter().all(|b| matches!(b, b'\r' | b'\n')) =>
            {
                let n = buf.len();
                buf.clear();
                // The framer saw only CRLFs, so it is still at a message's start.
                *framer = Framer::new(self.limits);
                n
            }
            _ => 0,
        }
    }

    /// Closes this connection in one of the address's TLS handshake turns, held until the server
    /// has torn it down (see [`super::closing`]).
    pub fn close_in_turn(&mut self, turns: Turns) {
        self.turns = Some(turns);
    }

    /// Closes a stream politely (TLS close_notify, TCP FIN), without waiting long. In a handshake
    /// turn (see [`Connection::close_in_turn`]), the close waits for that turn and the turn is given
    /// back once the server has closed too, in the background.
    pub async fn close(self) {
        if let Inner::Stream(mut s, _, _) = self.inner {
            match self.turns {
                Some(turns) => {
                    tokio::spawn(async move {
                        let turn = turns.take().await;
                        let _ = tokio::time::timeout(CLOSE_WAIT, s.shutdown()).await;
                        super::closing::drained(&mut s, super::closing::bound_after(CLOSE_WAIT))
                            .await;
                        drop(turn);
                    });
                }
                None => {
                    let _ = tokio::time::timeout(CLOSE_WAIT, s.shutdown()).await;
                }
            }
            if let Some(c) = &self.capture {
                c.closed(
                    self.endpoint.transport,
                    self.local,
                    self.endpoint.socket_addr(),
                );
            }
        }
    }
}

/// The longest wait for our close to be sent.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// Reads past the deadline that still return data already there: enough for a slow CPU to collect
/// what arrived in time, too few for a flood to keep a caller's loop going.
pub(crate) const MAX_LATE_READS: u32 = 64;

/// Counts a read started at or after `deadline`; `Timeout` once there were too many in a row. A read
/// that is always ready (a peer flooding us) completes before `timeout_at` ever looks at its timer, so
/// without this a caller looping on `recv` would run past its deadline for as long as the flood lasts.
fn late_read(late: &mut u32, deadline: Instant) -> Result<(), TxError> {
    if Instant::now() < deadline {
        *late = 0;
        return Ok(());
    }
    *late += 1;
    if *late > MAX_LATE_READS {
        return Err(TxError::Timeout);
    }
    Ok(())
}

/// A stream error, explained by the session's client-auth outcome when the session is TLS.
fn explain(tls: Option<&TlsInfo>, e: TxError) -> TxError {
    match tls {
        Some(t) => explain_client_auth(
            ClientAuthSeen {
                requested: t.client_cert_requested,
                sent: t.client_cert_sent,
            },
            e,
        ),
        None => e,
    }
}

fn parse_incoming(bytes: Vec<u8>, limits: &Limits) -> Incoming {
    match Message::parse(&bytes, limits) {
        Ok(m) => Incoming::Message(m),
        Err(e) => Incoming::Garbage(bytes, e.to_string()),
    }
}

fn tls_info<S>(
    stream: &tokio_rustls::client::TlsStream<S>,
    sni: &str,
    captured: &Arc<Mutex<Captured>>,
) -> TlsInfo {
    let (_, conn) = stream.get_ref();
    let captured = captured.lock().map(|c| c.clone()).unwrap_or_default();
    let auth = captured.client_auth();
    TlsInfo {
        client_cert_requested: auth.requested,
        client_cert_sent: auth.sent,
        version: conn
            .protocol_version()
            .map(|v| match v {
                rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
                rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
                other => format!("{other:?}"),
            })
            .unwrap_or_default(),
        cipher_suite: conn
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str().map(str::to_string))
            .unwrap_or_default(),
        server_name: sni.to_string(),
        chain: captured.chain,
        verified: captured.verified,
    }
}
