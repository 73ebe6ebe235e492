//! Revocation: the CRL a certificate's CRL Distribution Point names (ATIS-1000080 §6.4.1: the HTTP
//! URL of the STI-PA CRL, with a cRLIssuer naming the STI-PA), fetched through the run's guarded
//! client (bounded in size and time, public addresses only), cached for the run until its
//! nextUpdate, its issuer and signature checked, and the certificate's serial looked up in it.
//!
//! Outcomes (the `revocation` check): a revoked leaf or intermediate fails with 437 Unsupported
//! Credential (RFC 8224 §6.2.2: the verifier cannot use the credential). A CRL that cannot be had,
//! or whose signature cannot be checked for want of the STI-PA root, leaves the status undetermined
//! (RFC 5280 §6.3.3), which no SHAKEN document makes fatal: a warn. A missing distribution point is
//! a profile violation the `cert_cdp` check fails on (ATIS-1000080 §6.4.1 "shall"); here it only
//! means nothing could be checked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use x509_parser::prelude::*;

use super::profile;
use super::x5u::{Scheme, X5uFetcher};

const MAX_CACHED: usize = 32;

/// A CRL as fetched (DER) and its nextUpdate (Unix seconds).
type Cached = (Vec<u8>, Option<i64>);

/// The CRLs fetched in this run, by URL.
#[derive(Clone, Default)]
pub struct CrlStore {
    cache: Arc<Mutex<HashMap<String, Cached>>>,
}

/// What the CRL says about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Good(String),
    Revoked(String),
    /// The status could not be learnt: no CRL, unusable CRL, unverifiable signature.
    Undetermined(String),
}

/// A certificate whose status is asked, and the certificates that may have signed its CRL.
pub struct Subject<'a, 'b> {
    pub cert: &'a X509Certificate<'b>,
    /// What to call it in sentences ("leaf", "intermediate").
    pub role: &'static str,
}

impl CrlStore {
    /// The status of `s.cert`, fetching its CRL (or reusing this run's copy while it is current).
    pub async fn status(
        &self,
        s: &Subject<'_, '_>,
        signers: &[X509Certificate<'_>],
        fetcher: &X5uFetcher,
        now: i64,
    ) -> Status {
        let points = match profile::cdps(s.cert) {
            Err(e) => return Status::Undetermined(format!("{}: {e}", s.role)),
            Ok(None) => {
                return Status::Undetermined(format!(
                    "{}: no CRL Distribution Point, revocation not checked",
                    s.role
                ));
            }
            Ok(Some(p)) => p,
        };
        let Some((url, issuers)) = points
            .iter()
            .find_map(|p| p.uris.first().map(|u| (u.clone(), p.crl_issuers.clone())))
        else {
            return Status::Undetermined(format!(
                "{}: the distribution point names no URI",
                s.role
            ));
        };
        let der = match self.get(&url, fetcher, now).await {
            Ok(d) => d,
            Err(e) => {
                return Status::Undetermined(format!(
                    "{}: CRL {url} unavailable ({e}); revocation status undetermined",
                    s.role
                ));
            }
        };
        judge(s, &url, &der, &issuers, signers, now)
    }

    async fn get(&self, url: &str, fetcher: &X5uFetcher, now: i64) -> Result<Vec<u8>, String> {
        if let Ok(c) = self.cache.lock()
            && let Some((der, next)) = c.get(url)
            && next.is_none_or(|n| now < n)
        {
            return Ok(der.clone());
        }
        let (f, _) = fetcher
            .fetch_uncached(url, Scheme::Any)
            .await
            .map_err(|e| e.to_string())?;
        let der = crl_der(&f.body).ok_or("neither a DER nor a PEM CRL")?;
        let next = CertificateRevocationList::from_der(&der)
            .ok()
            .and_then(|(_, c)| c.next_update())
            .map(|t| t.timestamp());
        if let Ok(mut c) = self.cache.lock()
            && c.len() < MAX_CACHED
        {
            c.insert(url.to_string(), (der.clone(), next));
        }
        Ok(der)
    }
}

/// A CRL body as DER: as served, or from an `X509 CRL` PEM block.
fn crl_der(body: &[u8]) -> Option<Vec<u8>> {
    if body.first() == Some(&0x30) {
        return Some(body.to_vec());
    }
    Pem::iter_from_buffer(body)
        .take(4)
        .filter_map(Result::ok)
        .find(|p| p.label == "X509 CRL")
        .map(|p| p.contents)
}

/// The verdict of one CRL on one certificate: issuer, signature, freshness, then the serial.
pub fn judge(
    s: &Subject<'_, '_>,
    url: &str,
    der: &[u8],
    crl_issuers: &[Vec<u8>],
    signers: &[X509Certificate<'_>],
    now: i64,
) -> Status {
    let role = s.role;
    let crl = match CertificateRevocationList::from_der(der) {
        Ok((_, c)) => c,
        Err(e) => return Status::Undetermined(format!("{role}: CRL {url} does not parse: {e}")),
    };
    let issuer = crl.issuer().as_raw();
    // RFC 5280 §4.2.1.13: without cRLIssuer the certificate's own issuer signs the CRL.
    let expected_ok = if crl_issuers.is_empty() {
        issuer == s.cert.issuer().as_raw()
    } else {
        crl_issuers.iter().any(|i| i.as_slice() == issuer)
    };
    if !expected_ok {
        return Status::Undetermined(format!(
            "{role}: CRL {url} is issued by {}, not by the issuer the certificate names",
            crl.issuer()
        ));
    }
    let Some(signer) = signers.iter().find(|c| c.subject().as_raw() == issuer) else {
        return Status::Undetermined(format!(
            "{role}: CRL signature not verified: no certificate of {} (give the STI-PA root with --sti-ca-file)",
            crl.issuer()
        ));
    };
    if let Err(e) = crl.verify_signature(signer.public_key()) {
        return Status::Undetermined(format!(
            "{role}: CRL {url} signature does not verify under {}: {e}",
            signer.subject()
        ));
    }
    let serial = s.cert.raw_serial();
    if let Some(r) = crl
        .iter_revoked_certificates()
        .find(|r| trim(r.raw_serial()) == trim(serial))
    {
        let reason = r
            .reason_code()
            .map(|(_, c)| format!(", reason {c}"))
            .unwrap_or_default();
        return Status::Revoked(format!(
            "{role} serial {} revoked on {}{reason} (CRL {url})",
            hex(serial),
            r.revocation_date
        ));
    }
    if let Some(next) = crl.next_update()
        && next.timestamp() < now
    {
        return Status::Undetermined(format!(
            "{role}: CRL {url} expired at its nextUpdate {next}; status undetermined"
        ));
    }
    Status::Good(format!(
        "{role} not revoked (CRL {url}, signed by {})",
        crl.issuer()
    ))
}

fn trim(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[i..]
}

fn hex(b: &[u8]) -> String {
    trim(b).iter().map(|x| format!("{x:02x}")).collect()
}
