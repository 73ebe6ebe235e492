//! One ClientHello on one fresh TCP connection, with a deadline on every wait and a prompt close.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use super::answer::{Answer, Parser, Step};

/// A fatal `user_canceled`-free goodbye: a plaintext close_notify alert, valid before keys exist.
const CLOSE_NOTIFY: [u8; 7] = [21, 3, 3, 0, 2, 1, 0];

fn io_answer(e: &io::Error) -> Answer {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => Answer::Refused,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => Answer::Reset,
        io::ErrorKind::UnexpectedEof => Answer::Closed,
        _ => Answer::Io(e.to_string()),
    }
}

/// Sends `hello` to `addr` and reads the answer, all within `wait`. `connections` counts the TCP
/// connections opened. The connection is closed as soon as the answer is known, because some servers
/// (`openssl s_server`) serve one connection at a time.
pub async fn ask(
    addr: SocketAddr,
    hello: &[u8],
    want_flight: bool,
    wait: Duration,
    connections: &AtomicUsize,
) -> Answer {
    let deadline = Instant::now() + wait;
    connections.fetch_add(1, Ordering::Relaxed);
    let mut s = match timeout_at(deadline, TcpStream::connect(addr)).await {
        Err(_) => return Answer::Timeout,
        Ok(Err(e)) => return io_answer(&e),
        Ok(Ok(s)) => s,
    };
    let _ = s.set_nodelay(true);
    let answer = exchange(&mut s, hello, want_flight, deadline).await;
    let _ = timeout(Duration::from_millis(100), async {
        let _ = s.write_all(&CLOSE_NOTIFY).await;
        let _ = s.shutdown().await;
    })
    .await;
    answer
}

async fn exchange(s: &mut TcpStream, hello: &[u8], want_flight: bool, deadline: Instant) -> Answer {
    match timeout_at(deadline, s.write_all(hello)).await {
        Err(_) => return Answer::Timeout,
        Ok(Err(e)) => return io_answer(&e),
        Ok(Ok(())) => {}
    }
    let mut parser = Parser::new(want_flight);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = match timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => return parser.finish(Answer::Timeout),
            Ok(Err(e)) => return parser.finish(io_answer(&e)),
            Ok(Ok(0)) => return parser.finish(Answer::Closed),
            Ok(Ok(n)) => n,
        };
        if let Step::Done(a) = parser.feed(&chunk[..n]) {
            return a;
        }
    }
}
