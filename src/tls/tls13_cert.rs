//! TLS 1.3 encrypts the Certificate message, so a hand-made hello cannot see it: one real handshake
//! per signature family (ECDSA/EdDSA only, then RSA only) shows each certificate a server holds.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
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

/// The chain a TLS 1.3 server sends when the client only accepts `family` signatures; empty when the
/// server has no such certificate or the handshake failed before the certificate.
pub async fn chain(addr: SocketAddr, sni: &str, family: Family, wait: Duration) -> Vec<Vec<u8>> {
    let look = Arc::new(Look {
        schemes: family.schemes(),
        chain: Mutex::new(Vec::new()),
    });
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let Ok(builder) = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
    else {
        return Vec::new();
    };
    let cfg = builder
        .dangerous()
        .with_custom_certificate_verifier(look.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(
        sni.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    )
    .unwrap_or_else(|_| ServerName::IpAddress(addr.ip().into()));
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let _ = timeout(wait, async {
        let tcp = TcpStream::connect(addr).await?;
        let _ = tcp.set_nodelay(true);
        let mut s = connector.connect(name, tcp).await?;
        tokio::io::AsyncWriteExt::shutdown(&mut s).await
    })
    .await;
    look.chain.lock().map(|c| c.clone()).unwrap_or_default()
}
