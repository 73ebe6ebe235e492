//! The TLS scan opens connections ahead of need, but never more at once than `--max-connections`:
//! counted at a relay in front of a real `openssl s_server`, which also delays every chunk so that
//! connections overlap as they would at a distance.

#[allow(unused_imports)]
use crate::{support, tls_support};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tls_support::{SServer, suites};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

const MODERN: &str = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:\
ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256";

/// Copies one direction, each chunk `delay` late, the end passed on as a half-close. The reading
/// never waits for the writing, so `closed` runs as soon as the end is read.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    delay: Duration,
    closed: impl FnOnce(),
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let write = async move {
        while let Some((due, data)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if data.is_empty() || to.write_all(&data).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    let read = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = from.read(&mut buf).await.unwrap_or(0);
            let _ = tx.send((tokio::time::Instant::now() + delay, buf[..n].to_vec()));
            if n == 0 {
                break;
            }
        }
        closed();
    };
    futures_util::future::join(read, write).await;
}

/// Connections open at once, seen by the relay: a client connection counts from its accept until
/// the client closes its side.
#[derive(Default)]
struct Count {
    open: AtomicUsize,
    peak: AtomicUsize,
    total: AtomicUsize,
}

async fn counting_relay(upstream: u16, delay: Duration) -> (u16, Arc<Count>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let count = Arc::new(Count::default());
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = l.accept().await {
            let c = c.clone();
            c.open.fetch_add(1, Ordering::SeqCst);
            c.total.fetch_add(1, Ordering::SeqCst);
            // The peak is read a moment after the accept: the client's close of its previous
            // connection may be sent before this connect yet be seen after it.
            let sample = c.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(3)).await;
                sample
                    .peak
                    .fetch_max(sample.open.load(Ordering::SeqCst), Ordering::SeqCst);
            });
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    c.open.fetch_sub(1, Ordering::SeqCst);
                    return;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let up = pump(cr, sw, delay, || {
                    c.open.fetch_sub(1, Ordering::SeqCst);
                });
                let _ = tokio::time::timeout(
                    Duration::from_secs(20),
                    futures_util::future::join(up, pump(sr, cw, delay, || ())),
                )
                .await;
            });
        }
    });
    (port, count)
}

#[test]
fn never_more_connections_at_once_than_max_connections() {
    let s = SServer::start(&["-min_protocol", "TLSv1.2", "-cipher", MODERN], false);
    let direct = tls_support::scan(s.port, &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for max in [2usize, 3] {
        let (port, count) = rt.block_on(counting_relay(s.port, Duration::from_millis(5)));
        let r = tls_support::scan(port, &["--max-connections", &max.to_string()]);
        let peak = count.peak.load(Ordering::SeqCst);
        assert!(
            peak <= max,
            "{peak} connections at once with --max-connections {max}"
        );
        // The relay accepts at once, so the address looks near: one connection at a time, from
        // the hello until the server has closed it (Kamailio 5.6's shared OpenSSL state).
        assert_eq!(peak, 1, "a near address gets one connection at a time");
        assert!(count.total.load(Ordering::SeqCst) > 10);
        for v in ["TLSv1.2", "TLSv1.3"] {
            assert_eq!(
                suites(&r, v),
                suites(&direct, v),
                "{v} suites and order through the relay at --max-connections {max}"
            );
        }
    }
    drop(rt);
}
