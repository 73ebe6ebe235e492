//! In-process fake trunks for behaviours no packaged server shows (garbage, huge bodies, silence,
//! TLS-only, expired or wrong certificates). A handler decides what to answer to each request.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sipcheck::sip::{Limits, Message};
use sipcheck::transport::framing::{Frame, next_frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;

use super::certs::TestPki;

/// What the fake does with one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Send these bytes (possibly several messages).
    Send(Vec<u8>),
    /// Say nothing.
    Silence,
    /// Close the connection (streams) / say nothing (UDP).
    Close,
    /// Send these bytes and then keep the connection open without ever finishing (streams).
    SendAndHang(Vec<u8>),
}

pub type Handler = Arc<dyn Fn(&Message) -> Reply + Send + Sync>;

/// A running fake; stops when dropped.
pub struct Fake {
    pub addr: SocketAddr,
    /// Raw bytes of every request received, in order.
    pub received: Arc<Mutex<Vec<Vec<u8>>>>,
    /// When each of them arrived (same order), to count what a politeness budget let through.
    pub arrived: Arc<Mutex<Vec<Instant>>>,
    task: JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    pub fn requests(&self) -> Vec<Message> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter_map(|b| Message::parse(b, &Limits::default()).ok())
            .collect()
    }

    /// When each new request (not a retransmission: same Call-ID and CSeq) arrived, with its method.
    pub fn first_arrivals(&self) -> Vec<(Instant, String)> {
        let received = self.received.lock().unwrap().clone();
        let arrived = self.arrived.lock().unwrap().clone();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (bytes, at) in received.iter().zip(arrived) {
            let Ok(m) = Message::parse(bytes, &Limits::default()) else {
                continue;
            };
            let key = (
                m.header("Call-ID").unwrap_or_default().to_string(),
                m.header("CSeq").unwrap_or_default().to_string(),
            );
            if seen.insert(key) {
                out.push((at, m.method().unwrap_or_default().to_string()));
            }
        }
        out
    }

    /// Methods of the requests received so far.
    pub fn methods(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter_map(|m| m.method().map(str::to_string))
            .collect()
    }
}

/// A response to `req` copying Via, From, To (with a tag), Call-ID and CSeq, plus `extra` header lines.
pub fn respond(req: &Message, code: u16, reason: &str, extra: &[&str]) -> Vec<u8> {
    respond_with_body(req, code, reason, extra, "", b"")
}

/// Status line, Via/From/Call-ID/CSeq copied from `req`, To with `tag` added when it has none, and the
/// `extra` header lines; no Content-* headers and no blank line yet.
pub fn response_head(
    req: &Message,
    code: u16,
    reason: &str,
    tag: &str,
    extra: &[impl AsRef<str>],
) -> String {
    let mut s = format!("SIP/2.0 {code} {reason}\r\n");
    for v in req.headers_named("Via") {
        s.push_str(&format!("Via: {v}\r\n"));
    }
    for h in ["From", "Call-ID", "CSeq"] {
        if let Some(v) = req.header(h) {
            s.push_str(&format!("{h}: {v}\r\n"));
        }
    }
    if let Some(to) = req.header("To") {
        if to.contains(";tag=") {
            s.push_str(&format!("To: {to}\r\n"));
        } else {
            s.push_str(&format!("To: {to};tag={tag}\r\n"));
        }
    }
    for e in extra {
        s.push_str(e.as_ref());
        s.push_str("\r\n");
    }
    s
}

pub fn respond_with_body(
    req: &Message,
    code: u16,
    reason: &str,
    extra: &[&str],
    content_type: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut s = response_head(req, code, reason, &format!("fake{code}"), extra);
    if !content_type.is_empty() {
        s.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    s.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = s.into_bytes();
    out.extend_from_slice(body);
    out
}

/// A handler answering every request `200 OK` with these extra headers.
pub fn ok_with(extra: &'static [&'static str]) -> Handler {
    Arc::new(move |m: &Message| Reply::Send(respond(m, 200, "OK", extra)))
}

pub async fn udp(addr: &str, handler: Handler) -> Fake {
    let sock = UdpSocket::bind(addr).await.unwrap();
    let local = sock.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let rec = received.clone();
    let arrived = Arc::new(Mutex::new(Vec::new()));
    let arr = arrived.clone();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 70_000];
        // Bounded: a test fake never needs more than this many datagrams.
        for _ in 0..10_000 {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                return;
            };
            rec.lock().unwrap().push(buf[..n].to_vec());
            arr.lock().unwrap().push(Instant::now());
            let Ok(m) = Message::parse(&buf[..n], &Limits::default()) else {
                continue;
            };
            if m.method().is_none() {
                continue;
            }
            if let Reply::Send(b) | Reply::SendAndHang(b) = handler(&m) {
                let _ = sock.send_to(&b, from).await;
            }
        }
    });
    Fake {
        addr: local,
        received,
        arrived,
        task,
    }
}

/// A UDP and a TCP fake on one loopback port number (a trunk answering both transports on one port).
/// The UDP port is picked by the kernel; the same TCP port may be taken, so a few are tried.
pub async fn udp_and_tcp(handler: Handler) -> (Fake, Fake) {
    for _ in 0..50 {
        let udp = udp("127.0.0.1:0", handler.clone()).await;
        if std::net::TcpListener::bind(udp.addr).is_ok() {
            let tcp = tcp(&udp.addr.to_string(), handler).await;
            return (udp, tcp);
        }
    }
    panic!("no loopback port free on both UDP and TCP in 50 tries")
}

pub async fn tcp(addr: &str, handler: Handler) -> Fake {
    stream(addr, handler, None).await
}

pub async fn tls(addr: &str, handler: Handler, pki: &TestPki) -> Fake {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&pki.chain_pem)
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(&pki.key_pem).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    stream(
        addr,
        handler,
        Some(tokio_rustls::TlsAcceptor::from(Arc::new(cfg))),
    )
    .await
}

async fn stream(addr: &str, handler: Handler, tls: Option<tokio_rustls::TlsAcceptor>) -> Fake {
    let listener = TcpListener::bind(addr).await.unwrap();
    let local = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let rec = received.clone();
    let arrived = Arc::new(Mutex::new(Vec::new()));
    let arr = arrived.clone();
    let task = tokio::spawn(async move {
        for _ in 0..1_000 {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let rec = rec.clone();
            let arr = arr.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    Some(acc) => {
                        if let Ok(Ok(s)) =
                            tokio::time::timeout(Duration::from_secs(5), acc.accept(sock)).await
                        {
                            serve_stream(s, handler, rec, arr).await;
                        }
                    }
                    None => serve_stream(sock, handler, rec, arr).await,
                }
            });
        }
    });
    Fake {
        addr: local,
        received,
        arrived,
        task,
    }
}

async fn serve_stream<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    handler: Handler,
    rec: Arc<Mutex<Vec<Vec<u8>>>>,
    arr: Arc<Mutex<Vec<Instant>>>,
) {
    let limits = Limits::default();
    let mut buf = Vec::new();
    for _ in 0..1_000 {
        match next_frame(&buf, &limits) {
            Frame::Message(n) => {
                let msg: Vec<u8> = buf.drain(..n).collect();
                rec.lock().unwrap().push(msg.clone());
                arr.lock().unwrap().push(Instant::now());
                let Ok(m) = Message::parse(&msg, &limits) else {
                    continue;
                };
                if m.method().is_none() {
                    continue;
                }
                match handler(&m) {
                    Reply::Send(b) => {
                        if s.write_all(&b).await.is_err() {
                            return;
                        }
                        let _ = s.flush().await;
                    }
                    Reply::Silence => {}
                    Reply::Close => {
                        let _ = s.shutdown().await;
                        return;
                    }
                    Reply::SendAndHang(b) => {
                        let _ = s.write_all(&b).await;
                        let _ = s.flush().await;
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        return;
                    }
                }
            }
            Frame::Invalid(_) => return,
            Frame::Need => {
                let mut chunk = [0u8; 8192];
                match tokio::time::timeout(Duration::from_secs(30), s.read(&mut chunk)).await {
                    Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    _ => return,
                }
            }
        }
    }
}

/// The most of `at` (arrival times, any order) that fall within any one second: what a rate
/// budget of `rate`/s with bursts of `burst` allows is `burst + rate + 1` (one for a window's edge).
pub fn most_in_one_second(at: &[Instant]) -> usize {
    let mut at = at.to_vec();
    at.sort();
    (0..at.len())
        .map(|i| {
            at[i..]
                .iter()
                .take_while(|u| u.duration_since(at[i]) < std::time::Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}
