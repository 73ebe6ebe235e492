//! One ClientHello on one fresh TCP connection, with a deadline on every wait and a prompt close.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use super::answer::{Answer, Parser, Step};
use crate::transport::HandshakeTurn;
use crate::transport::closing;

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
/// (`openssl s_server`) serve one connection at a time; `turn` is given back once the server closed.
pub async fn ask(
    addr: SocketAddr,
    hello: &[u8],
    want_flight: bool,
    wait: Duration,
    connections: &AtomicUsize,
    turn: HandshakeTurn,
) -> Answer {
    let deadline = Instant::now() + wait;
    connections.fetch_add(1, Ordering::Relaxed);
    let t = Instant::now();
    match connect(addr, deadline).await {
        Err(a) => a,
        Ok(s) => {
            turn.connected(t.elapsed());
            ask_on(s, hello, None, want_flight, deadline, turn).await
        }
    }
}

/// Sends `hello` on an open connection and reads the answer by `deadline`, then closes it.
///
/// `close_first` is a plaintext close_notify alert sent right behind the hello, followed by our FIN
/// (a half-close: the answer still comes back). A server that works through records in order
/// answers the hello first and then closes at once. Both halves matter for `openssl s_server`, which
/// serves one connection at a time and, after closing one, reads it until the peer's FIN (up to
/// 500 ms, apps/lib/s_socket.c) before it accepts the next: without our FIN already there, every
/// connection held it a round trip after its answer. Whether the early close cost the answer is the
/// caller's question.
///
/// The answer is returned at once; the close (without `close_first`: close_notify and our FIN, at a
/// spaced moment) and the wait for the server's FIN go on in the background, holding `turn` until
/// the server has torn the connection down ([`closing::close_behind`]).
pub async fn ask_on(
    mut s: TcpStream,
    hello: &[u8],
    close_first: Option<[u8; 7]>,
    want_flight: bool,
    deadline: Instant,
    turn: HandshakeTurn,
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
    let t = Instant::now();
    let answer = exchange(&mut s, bytes, close_first.is_some(), want_flight, deadline).await;
    let goodbye = close_first.is_none().then(|| CLOSE_NOTIFY.to_vec());
    closing::close_behind(s, goodbye, turn, closing::bound_after(t.elapsed()));
    answer
}

/// A close_notify alert in the record version of a hello for `version` (RFC 5246 §6.2.1: records
/// after the ServerHello carry the negotiated version; TLS 1.3 records say 1.2).
pub fn close_notify(version: u16) -> [u8; 7] {
    let v = version.min(0x0303).to_be_bytes();
    [21, v[0], v[1], 0, 2, 1, 0]
}

async fn exchange(
    s: &mut TcpStream,
    hello: &[u8],
    half_close: bool,
    want_flight: bool,
    deadline: Instant,
) -> Answer {
    let sent = timeout_at(deadline, async {
        s.write_all(hello).await?;
        if half_close {
            s.shutdown().await?;
        }
        Ok::<(), io::Error>(())
    });
    match sent.await {
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;
    use tokio::time::timeout;

    /// Plays `openssl s_server`'s part that made every connection cost it a round trip: it reads
    /// the connection to the peer's FIN before it answers (s_server drains to EOF before it accepts
    /// the next connection). With the early close the answer comes; a hello without it would wait.
    #[tokio::test]
    async fn an_early_close_is_a_half_close_the_answer_still_arrives() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut got = Vec::new();
            timeout(Duration::from_secs(5), s.read_to_end(&mut got))
                .await
                .expect("the client's FIN came behind its hello")
                .unwrap();
            // handshake_failure, the answer to the hello.
            s.write_all(&[21, 3, 3, 0, 2, 2, 40]).await.unwrap();
            got
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        let s = connect(addr, deadline).await.unwrap();
        let hello = [22, 3, 1, 0, 1, 1];
        let turn = crate::transport::Limiter::new(1.0, 1, 1)
            .handshake(addr.ip())
            .await;
        let a = ask_on(s, &hello, Some(close_notify(0x0303)), false, deadline, turn).await;
        assert!(
            matches!(
                a,
                Answer::Alert {
                    description: 40,
                    ..
                }
            ),
            "{a:?}"
        );
        let got = server.await.unwrap();
        assert_eq!(&got[..6], &hello);
        assert_eq!(&got[6..], &close_notify(0x0303));
    }
}
