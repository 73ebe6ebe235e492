//! An optional tap on what connections send and receive (`--pcap`). The transport layer reports raw
//! bytes: SIP messages for UDP and TCP, and for TLS the TLS records as they cross the socket (so a key
//! log can decrypt them). What a sink does with them — redaction, framing, writing — is its business.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::target::Transport;

/// Which way bytes went, seen from sipcheck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
}

/// Receives what connections carry. Must be cheap and must not block for long: it is called inline.
pub trait CaptureSink: Send + Sync {
    /// A TCP or TLS connection was established.
    fn opened(&self, transport: Transport, local: SocketAddr, remote: SocketAddr);
    /// Bytes sent or received: a whole datagram on UDP, a stream chunk on TCP/TLS.
    fn data(
        &self,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
        dir: Direction,
        bytes: &[u8],
    );
    /// We closed a TCP or TLS connection.
    fn closed(&self, transport: Transport, local: SocketAddr, remote: SocketAddr);
}

/// A shared sink, as carried in [`TlsSettings`](super::TlsSettings).
pub type Sink = Arc<dyn CaptureSink>;

/// A byte stream that reports every chunk read and written to a sink (used under TLS, where the
/// connection above only sees plaintext).
pub(crate) struct Tap<S> {
    pub inner: S,
    pub sink: Option<Sink>,
    pub transport: Transport,
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

impl<S> Tap<S> {
    fn report(&self, dir: Direction, bytes: &[u8]) {
        if let Some(s) = &self.sink
            && !bytes.is_empty()
        {
            s.data(self.transport, self.local, self.remote, dir, bytes);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &r {
            let got = buf.filled()[before..].to_vec();
            self.report(Direction::Received, &got);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.report(Direction::Sent, &buf[..*n]);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
