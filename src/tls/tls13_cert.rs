//! TLS 1.3 encrypts the Certificate message, so a hand-made hello cannot see it: one real handshake
//! per signature family (ECDSA/EdDSA only, then RSA only) shows each certificate a server holds.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::transport::tls::{ClientAuthSeen, ClientIdentity, client_auth as client_auth_resolver};
use tokio::time::timeout;

/// Which certificate to ask for.
#[derive(Debug, Clone, Copy)]
pub enum Family {
    Ecdsa,
    Rsa,
}

impl Family {
    fn schemes(self) -> Vec<SignatureScheme> {
        match self {
            Family::Ecdsa => vec![
                SignatureScheme::ECDSA_NISTP256_SHA256,
                SignatureScheme::ECDSA_NISTP384_SHA384,
                SignatureScheme::ECDSA_NISTP521_SHA512,
                SignatureScheme::ED25519,
            ],
            Family::Rsa => vec![
                SignatureScheme::RSA_PSS_SHA256,
                SignatureScheme::RSA_PSS_SHA384,
                SignatureScheme::RSA_PSS_SHA512,
                SignatureScheme::RSA_PKCS1_SHA256,
                SignatureScheme::RSA_PKCS1_SHA384,
                SignatureScheme::RSA_PKCS1_SHA512,
            ],
        }
    }
}

/// Records the chain and accepts anything: this handshake only looks, it never sends data.
#[derive(Debug)]
struct Look {
    schemes: Vec<SignatureScheme>,
    chain: Mutex<Vec<Vec<u8>>>,
}

impl ServerCertVerifier for Look {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut c) = self.chain.lock() {
            *c = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.as_ref().to_vec())
                .collect();
        }
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

/// What one real handshake showed: the chain, the client-certificate exchange, and how it ended.
#[derive(Debug, Clone, Default)]
pub struct Handshake {
    pub chain: Vec<Vec<u8>>,
    pub client_auth: ClientAuthSeen,
    /// `None` when the handshake completed (and, after a CertificateRequest, the session was not
    /// failed right after it); else the failure.
    pub failure: Option<String>,
}

/// The chain a TLS 1.3 server sends when the client only accepts `family` signatures; empty when the
/// server has no such certificate or the handshake failed before the certificate. `identity` is
/// presented if the server asks for a client certificate.
pub async fn chain(
    addr: SocketAddr,
    sni: &str,
    family: Family,
    identity: Option<Arc<ClientIdentity>>,
    wait: Duration,
) -> Handshake {
    handshake(addr, sni, Some(family), true, identity, wait).await
}

/// One rustls handshake at the safe default versions (TLS 1.2 and 1.3), to see how a server that
/// sent a CertificateRequest in the scan's flights treats the client certificate (or its absence).
pub async fn client_auth(
    addr: SocketAddr,
    sni: &str,
    identity: Option<Arc<ClientIdentity>>,
    wait: Duration,
) -> Handshake {
    handshake(addr, sni, None, false, identity, wait).await
}

async fn handshake(
    addr: SocketAddr,
    sni: &str,
    family: Option<Family>,
    tls13_only: bool,
    identity: Option<Arc<ClientIdentity>>,
    wait: Duration,
) -> Handshake {
    let look = Arc::new(Look {
        schemes: match family {
            Some(f) => f.schemes(),
            None => [Family::Ecdsa, Family::Rsa]
                .into_iter()
                .flat_map(Family::schemes)
                .collect(),
        },
        chain: Mutex::new(Vec::new()),
    });
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if tls13_only {
        &[&rustls::version::TLS13]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let Ok(builder) =
        rustls::ClientConfig::builder_with_provider(provider).with_protocol_versions(versions)
    else {
        return Handshake::default();
    };
    let (resolver, seen) = client_auth_resolver(identity);
    let cfg = builder
        .dangerous()
        .with_custom_certificate_verifier(look.clone())
        .with_client_cert_resolver(resolver);
    let name = ServerName::try_from(
        sni.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    )
    .unwrap_or_else(|_| ServerName::IpAddress(addr.ip().into()));
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let seen_now = || seen.lock().map(|s| *s).unwrap_or_default();
    let outcome = timeout(wait, async {
        let tcp = TcpStream::connect(addr).await?;
        let _ = tcp.set_nodelay(true);
        let mut s = connector.connect(name, tcp).await?;
        // A TLS 1.3 server judges the client certificate after the client's Finished, so its verdict
        // (an alert, or a close) comes after the handshake "completed": wait briefly for it.
        if seen_now().requested {
            let mut b = [0u8; 512];
            match timeout(Duration::from_millis(300).min(wait), s.read(&mut b)).await {
                Ok(Ok(0)) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "closed right after the handshake",
                    ));
                }
                Ok(Err(e)) => return Err(e),
                Ok(Ok(_)) | Err(_) => {}
            }
        }
        tokio::io::AsyncWriteExt::shutdown(&mut s).await
    })
    .await;
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some("no handshake before the timeout".into()),
    };
    Handshake {
        chain: look.chain.lock().map(|c| c.clone()).unwrap_or_default(),
        client_auth: seen_now(),
        failure,
    }
}
