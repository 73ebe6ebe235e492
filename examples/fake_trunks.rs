//! Many fake SIP trunks in one process, for `bench/multi-target.sh`: trunk `i` (1..=N, N up to
//! 2,000) listens on UDP and TCP `127.0.1.i:PORT` (from the 255th on, [`address`]) and answers every request it can parse `200 OK` after
//! `(i % 10) * DELAY_MS` (each request on its own, in parallel), so the trunks differ in speed and the
//! slowest one bounds a well-parallelised run. What it cannot parse it ignores, as many stacks do.
//!
//! Usage: `fake_trunks N PORT DELAY_MS [SILENT_METHOD]`. With SILENT_METHOD (e.g. `REFER`) requests of
//! that method are dropped without an answer, as a stack that ignores them does. Prints `ready` when
//! every socket is bound, then serves until killed. Loopback only.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use sipcheck::sip::{Limits, Message};
use sipcheck::transport::framing::{Frame, next_frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

fn reply(req: &[u8], silent: &str) -> Option<Vec<u8>> {
    let m = Message::parse(req, &Limits::default()).ok()?;
    if m.method()?.eq_ignore_ascii_case(silent) {
        return None;
    }
    let mut s = String::from("SIP/2.0 200 OK\r\n");
    for v in m.headers_named("Via") {
        s.push_str(&format!("Via: {v}\r\n"));
    }
    for h in ["From", "Call-ID", "CSeq"] {
        if let Some(v) = m.header(h) {
            s.push_str(&format!("{h}: {v}\r\n"));
        }
    }
    if let Some(to) = m.header("To") {
        s.push_str(&format!("To: {to};tag=bench\r\n"));
    }
    s.push_str("Allow: INVITE, ACK, CANCEL, OPTIONS, BYE\r\nContent-Length: 0\r\n\r\n");
    Some(s.into_bytes())
}

async fn serve(addr: SocketAddr, delay: Duration, silent: &'static str) -> std::io::Result<()> {
    let udp = std::sync::Arc::new(UdpSocket::bind(addr).await?);
    let tcp = TcpListener::bind(addr).await?;
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_535];
        loop {
            let Ok((n, from)) = udp.recv_from(&mut buf).await else {
                continue;
            };
            // Each answer is delayed on its own, as a trunk handling requests in parallel would: a
            // fake that slept in its receive loop would answer one request per delay.
            if let Some(r) = reply(&buf[..n], silent) {
                let udp = udp.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = udp.send_to(&r, from).await;
                });
            }
        }
    });
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = tcp.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                // Bounded: a benchmark client sends a handful of requests per connection.
                for _ in 0..64 {
                    let read =
                        tokio::time::timeout(Duration::from_secs(30), s.read(&mut chunk)).await;
                    let Ok(Ok(n)) = read else { return };
                    if n == 0 || buf.len() > 1 << 20 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Frame::Message(len) = next_frame(&buf, &Limits::default()) {
                        let msg: Vec<u8> = buf.drain(..len).collect();
                        if let Some(r) = reply(&msg, silent) {
                            tokio::time::sleep(delay).await;
                            if s.write_all(&r).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    Ok(())
}

/// Trunk `i`'s address: `127.0.1.i` for the first 254, then on through `127.0.2.1`, ... (254 a block).
fn address(i: u16) -> Ipv4Addr {
    let k = i - 1;
    Ipv4Addr::new(127, 0, 1 + (k / 254) as u8, 1 + (k % 254) as u8)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u16 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100)
        .clamp(1, 2000);
    let port: u16 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5060);
    let delay_ms: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(50);
    let silent: &'static str = args.get(4).cloned().unwrap_or_default().leak();
    for i in 1..=n {
        let addr = SocketAddr::new(IpAddr::V4(address(i)), port);
        let delay = Duration::from_millis(u64::from(i % 10) * delay_ms);
        if let Err(e) = serve(addr, delay, silent).await {
            eprintln!("fake_trunks: cannot bind {addr}: {e}");
            std::process::exit(1);
        }
    }
    println!("ready");
    // Serve until killed (the benchmark stops us by PID).
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}
