//! The rustls client used for SIP over TLS.
//!
//! sipcheck measures, it does not refuse: the handshake goes ahead whatever the certificate, and the
//! verification outcome against the trust roots is recorded for the certificate findings instead.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, Result};

/// Trust roots and session settings shared by every TLS connection of a run.
#[derive(Clone)]
pub struct TlsSettings {
    pub roots: Arc<RootCertStore>,
    /// Where the roots came from, for the report (`"webpki-roots"` or a file path).
    pub roots_source: String,
    /// Optional NSS key log writer (`--keylog`).
    pub key_log: Option<Arc<dyn rustls::KeyLog>>,
    /// Optional tap on every connection's bytes (`--pcap`); lives here because every connection gets these settings.
    pub capture: Option<super::capture::Sink>,
    /// The client certificate to present when a server asks for one (`--client-cert`, `--client-key`).
    pub client_identity: Option<Arc<ClientIdentity>>,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("roots", &self.roots.len())
            .field("roots_source", &self.roots_source)
            .field("client_identity", &self.client_identity)
            .finish()
    }
}

impl TlsSettings {
    /// The Mozilla roots shipped in `webpki-roots`.
    pub fn webpki() -> TlsSettings {
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        TlsSettings {
            roots: Arc::new(roots),
            roots_source: "webpki-roots".into(),
            key_log: None,
            capture: None,
            client_identity: None,
        }
    }

    /// Roots from a PEM file (`--ca-file`).
    pub fn from_ca_file(path: &str) -> Result<TlsSettings> {
        use rustls::pki_types::pem::PemObject;
        let bad = |reason: String| Error::BadFile {
            path: path.to_string(),
            reason,
        };
        let mut roots = RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))?;
        for c in certs {
            let c = c.map_err(|e| bad(e.to_string()))?;
            roots.add(c).map_err(|e| bad(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(bad("no certificates found".into()));
        }
        Ok(TlsSettings {
            roots: Arc::new(roots),
            roots_source: path.to_string(),
            key_log: None,
            capture: None,
            client_identity: None,
        })
    }
}

/// A client certificate chain and its private key, checked to belong together when loaded.
pub struct ClientIdentity {
    key: Arc<CertifiedKey>,
    /// The certificate file, for the report.
    pub cert_path: String,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("cert_path", &self.cert_path)
            .finish()
    }
}

impl ClientIdentity {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, PKCS#1 or SEC1);
    /// a missing or unreadable file, a file without a certificate or key, or a key that is not the
    /// certificate's is a one-line error naming the file.
    pub fn from_pem_files(cert_path: &str, key_path: &str) -> Result<ClientIdentity> {
        use rustls::pki_types::pem::PemObject;
        let bad = |path: &str, reason: String| Error::BadFile {
            path: path.to_string(),
            reason,
        };
        let chain = CertificateDer::pem_file_iter(cert_path)
            .map_err(|e| {
                bad(
                    cert_path,
                    format!("cannot read the client certificate: {e}"),
                )
            })?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| bad(cert_path, format!("not a PEM certificate file: {e}")))?;
        if chain.is_empty() {
            return Err(bad(cert_path, "no CERTIFICATE block found".into()));
        }
        let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| {
            bad(
                key_path,
                format!("no usable PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"),
            )
        })?;
        let provider = rustls::crypto::ring::default_provider();
        let key = CertifiedKey::from_der(chain, key, &provider).map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => bad(
                key_path,
                format!("this private key does not belong to the certificate in {cert_path}"),
            ),
            e => bad(key_path, format!("unusable private key: {e}")),
        })?;
        Ok(ClientIdentity {
            key: Arc::new(key),
            cert_path: cert_path.to_string(),
        })
    }
}

/// Whether the server asked for a client certificate (a CertificateRequest arrived) and whether one
/// was sent in answer.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ClientAuthSeen {
    pub requested: bool,
    pub sent: bool,
}

/// Offers the configured client certificate, if any, and records what the server asked for. rustls
/// calls `resolve` exactly when a CertificateRequest arrives, whether or not there is a certificate.
#[derive(Debug)]
struct RecordingResolver {
    identity: Option<Arc<ClientIdentity>>,
    seen: Arc<Mutex<ClientAuthSeen>>,
}

impl ResolvesClientCert for RecordingResolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let key = self
            .identity
            .as_ref()
            .map(|i| i.key.clone())
            .filter(|k| k.key.choose_scheme(sigschemes).is_some());
        if let Ok(mut s) = self.seen.lock() {
            s.requested = true;
            s.sent = key.is_some();
        }
        key
    }

    fn has_certs(&self) -> bool {
        self.identity.is_some()
    }
}

/// The client-auth part of a rustls config: the resolver to install and the slot it writes into.
pub fn client_auth(
    identity: Option<Arc<ClientIdentity>>,
) -> (Arc<dyn ResolvesClientCert>, Arc<Mutex<ClientAuthSeen>>) {
    let seen = Arc::new(Mutex::new(ClientAuthSeen::default()));
    let resolver = Arc::new(RecordingResolver {
        identity,
        seen: seen.clone(),
    });
    (resolver, seen)
}

/// The verification outcome of one handshake, filled in by the verifier and the client-cert resolver.
#[derive(Debug, Default, Clone)]
pub struct Captured {
    pub chain: Vec<Vec<u8>>,
    /// `Ok` when the chain verified for the server name against the roots, else the reason.
    pub verified: Option<Result<(), String>>,
    /// Set by the resolver (shared slot, see [`client_auth`]).
    pub client_auth: Arc<Mutex<ClientAuthSeen>>,
}

impl Captured {
    pub fn client_auth(&self) -> ClientAuthSeen {
        self.client_auth.lock().map(|s| *s).unwrap_or_default()
    }
}

#[derive(Debug)]
struct CapturingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    captured: Arc<Mutex<Captured>>,
}

impl ServerCertVerifier for CapturingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let outcome = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map(|_| ())
            .map_err(|e| e.to_string());
        if let Ok(mut c) = self.captured.lock() {
            c.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.as_ref().to_vec())
                .collect();
            c.verified = Some(outcome);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A client config for one connection, and the slot its verifier writes into.
pub fn client_config(
    settings: &TlsSettings,
) -> Result<(Arc<rustls::ClientConfig>, Arc<Mutex<Captured>>), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner =
        WebPkiServerVerifier::builder_with_provider(settings.roots.clone(), provider.clone())
            .build()
            .map_err(|e| e.to_string())?;
    let (resolver, seen) = client_auth(settings.client_identity.clone());
    let captured = Arc::new(Mutex::new(Captured {
        client_auth: seen,
        ..Captured::default()
    }));
    let verifier = Arc::new(CapturingVerifier {
        inner,
        captured: captured.clone(),
    });
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(resolver);
    if let Some(k) = &settings.key_log {
        cfg.key_log = k.clone();
    }
    Ok((Arc::new(cfg), captured))
}

/// The server name to send as SNI and verify against: a DNS name, or an IP address (no SNI).
pub fn server_name(domain: &str) -> Result<ServerName<'static>, String> {
    let d = domain.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(d.to_string())
        .map_err(|e| format!("{domain:?} is not a usable TLS server name: {e}"))
}
