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

/// Opens one TCP connection to `addr` by `deadline`; a failure is the answer.
pub async fn connect(addr: SocketAddr, deadline: Instant) -> Result<TcpStream, Answer> {
    match timeout_at(deadline, TcpStream::connect(addr)).await {
        Err(_) => Err(Answer::Timeout),
        Ok(Err(e)) => Err(io_answer(&e)),
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
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
    match connect(addr, deadline).await {
        Err(a) => a,
        Ok(s) => ask_on(s, hello, None, want_flight, deadline).await,
    }
}

/// Sends `hello` on an open connection and reads the answer by `deadline`, then closes it.
///
/// `close_first` is a plaintext close_notify alert sent right behind the hello: a server that works
/// through records in order answers the hello first and then closes at once, instead of holding the
/// connection for the round trip our close would otherwise take (`openssl s_server` serves nothing
/// else meanwhile). Whether that cost the answer is the caller's question.
pub async fn ask_on(
    mut s: TcpStream,
    hello: &[u8],
    close_first: Option<[u8; 7]>,
    want_flight: bool,
    deadline: Instant,
) -> Answer {
    let sent;
    let bytes = match close_first {
        Some(close) => {
            let mut b = hello.to_vec();
            b.extend_from_slice(&close);
            sent = b;
            &sent[..]
        }
        None => hello,
    };
    let answer = exchange(&mut s, bytes, want_flight, deadline).await;
    let _ = timeout(Duration::from_millis(100), async {
        if close_first.is_none() {
            let _ = s.write_all(&CLOSE_NOTIFY).await;
        }
        let _ = s.shutdown().await;
    })
    .await;
    answer
}

/// A close_notify alert in the record version of a hello for `version` (RFC 5246 §6.2.1: records
/// after the ServerHello carry the negotiated version; TLS 1.3 records say 1.2).
pub fn close_notify(version: u16) -> [u8; 7] {
    let v = version.min(0x0303).to_be_bytes();
    [21, v[0], v[1], 0, 2, 1, 0]
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
