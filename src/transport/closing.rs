//! Closing a TLS connection under the address's handshake turn: our goodbye is sent at a spaced
//! moment and the turn is given back only once the server has closed its side (its FIN, a reset,
//! or a bound), because the server's teardown of the connection is TLS work like a hello (see
//! [`super::handshakes`]).

use std::io::Read;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use super::HandshakeTurn;

/// The most bytes read (and dropped) while waiting for the server's FIN.
const DRAIN_CAP: usize = 64 * 1024;

/// How long to wait for the server's FIN after our close: twice the time the exchange took (a
/// close is one more round trip), at least 100 ms, at most 2 s.
pub fn bound_after(exchange: Duration) -> Duration {
    (exchange * 2).clamp(Duration::from_millis(100), Duration::from_secs(2))
}

/// Reads until the server's FIN or reset, `bound` or [`DRAIN_CAP`] bytes.
pub async fn server_closed(s: &mut TcpStream, bound: Duration) -> bool {
    drained(s, bound).await
}

/// [`server_closed`] for any stream (a TLS one ends at the server's close_notify or FIN).
pub async fn drained<S: AsyncRead + Unpin + ?Sized>(s: &mut S, bound: Duration) -> bool {
    let until = Instant::now() + bound;
    let mut buf = [0u8; 4096];
    let mut read = 0;
    while read < DRAIN_CAP {
        match timeout_at(until, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(n)) => read += n,
            Err(_) => return false,
        }
    }
    false
}

/// Sends `goodbye` (if any) and our FIN at a spaced moment, waits for the server to close, then
/// gives the turn back. Runs in the background so the caller's next hello need not wait for it
/// (that hello waits for its own turn instead).
pub fn close_behind(
    mut s: TcpStream,
    goodbye: Option<Vec<u8>>,
    turn: HandshakeTurn,
    bound: Duration,
) {
    tokio::spawn(async move {
        if let Some(g) = goodbye {
            turn.respace().await;
            let until = Instant::now() + bound;
            let _ = timeout_at(until, async {
                let _ = s.write_all(&g).await;
                let _ = s.shutdown().await;
            })
            .await;
        }
        server_closed(&mut s, bound).await;
        drop(turn);
    });
}

/// [`server_closed`] for a blocking socket: our FIN, then reads until the server's.
pub fn server_closed_blocking(s: &mut std::net::TcpStream, bound: Duration) -> bool {
    let _ = s.shutdown(std::net::Shutdown::Write);
    let until = std::time::Instant::now() + bound;
    let mut buf = [0u8; 4096];
    let mut read = 0;
    while read < DRAIN_CAP {
        let Some(left) = until
            .checked_duration_since(std::time::Instant::now())
            .filter(|d| !d.is_zero())
        else {
            return false;
        };
        let _ = s.set_read_timeout(Some(left));
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => read += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::net::TcpListener;

    /// The turn comes back only after the server has closed: a server that closes 50 ms after our
    /// goodbye keeps the next turn waiting (spacing aside) until then.
    #[tokio::test]
    async fn the_turn_is_held_until_the_server_closes() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            got
        });
        let turns = crate::transport::Turns(Arc::default());
        let s = TcpStream::connect(addr).await.unwrap();
        let turn = turns.take().await;
        let t0 = Instant::now();
        close_behind(s, Some(b"bye".to_vec()), turn, Duration::from_secs(5));
        // The goodbye's spacing passes, then the next turn waits for the server's close.
        let _next = turns.take().await;
        assert!(t0.elapsed() >= Duration::from_millis(50), "{:?}", t0.elapsed());
        assert_eq!(server.await.unwrap(), b"bye");
    }

    #[tokio::test]
    async fn a_server_that_never_closes_is_waited_for_only_the_bound() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let _server = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(s);
        });
        let mut s = TcpStream::connect(addr).await.unwrap();
        let t0 = Instant::now();
        assert!(!server_closed(&mut s, Duration::from_millis(100)).await);
        assert!(t0.elapsed() < Duration::from_secs(2));
    }
}
