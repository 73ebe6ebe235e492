//! TCP and TLS for the listener: bounded connections, each framed by Content-Length within the
//! limits, closed when idle, unframeable, or at the end of the run.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::{HANDSHAKE, IDLE, MAX_CONNECTIONS, Shared};
use crate::error::{Error, Result};
use crate::target::Transport;
use crate::transport::framing::{Frame, Framer};

/// The TLS acceptor for `--listen-cert` / `--listen-key`.
pub(super) fn acceptor(files: Option<&(String, String)>) -> Result<TlsAcceptor> {
    let (cert, key) = files.ok_or_else(|| {
        Error::BadOption("a tls: listener needs --listen-cert and --listen-key".into())
    })?;
    let bad = |path: &str, reason: String| Error::BadFile {
        path: path.to_string(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, e.to_string()))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(bad(cert, "no certificates found".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(cert, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| bad(key, e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(cfg)))
}

pub(super) async fn serve(
    l: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    transport: Transport,
) {
    let open = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            r = l.accept() => {
                let Ok((tcp, remote)) = r else { continue };
                let Ok(permit) = open.clone().try_acquire_owned() else {
                    shared.bump(|s| s.connections_refused += 1);
                    drop(tcp);
                    continue;
                };
                shared.bump(|s| s.connections += 1);
                let local = tcp.local_addr().unwrap_or(shared.cfg.at.addr);
                let (sh, tls, stop) = (shared.clone(), tls.clone(), stop.clone());
                tasks.spawn(async move {
                    let _permit = permit;
                    match tls {
                        None => connection(tcp, sh, stop, transport, remote, local).await,
                        Some(acc) => match tokio::time::timeout(HANDSHAKE, acc.accept(tcp)).await {
                            Ok(Ok(s)) => connection(s, sh, stop, transport, remote, local).await,
                            _ => sh.bump(|s| s.connections_closed_bad += 1),
                        },
                    }
                });
            }
        }
    }
    tasks.abort_all();
}

async fn connection<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    transport: Transport,
    remote: std::net::SocketAddr,
    local: std::net::SocketAddr,
) {
    let limits = shared.cfg.limits;
    let mut buf: Vec<u8> = Vec::new();
    let mut framer = Framer::new(limits);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        // Whole messages already buffered first.
        loop {
            match framer.next(&buf) {
                Frame::Message(n) => {
                    let msg: Vec<u8> = buf.drain(..n).collect();
                    let start = msg
                        .iter()
                        .position(|b| *b != b'\r' && *b != b'\n')
                        .unwrap_or(msg.len());
                    for resp in shared.handle(&msg[start..], transport, remote, local) {
                        if s.write_all(&resp).await.is_err() {
                            return;
                        }
                    }
                }
                Frame::Need => break,
                Frame::Invalid(why) => {
                    shared.handle(
                        &buf[..buf.len().min(limits.max_message)],
                        transport,
                        remote,
                        local,
                    );
                    let _ = why;
                    shared.bump(|s| s.connections_closed_bad += 1);
                    return;
                }
            }
        }
        tokio::select! {
            _ = stop.changed() => return,
            r = tokio::time::timeout(IDLE, s.read(&mut chunk)) => match r {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
                Err(_) => {
                    shared.bump(|s| s.connections_closed_bad += 1);
                    return;
                }
            },
        }
    }
}
