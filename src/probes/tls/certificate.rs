//! The `tls.certificate` finding of the TLS scan: every certificate chain the server sent (one per key
//! type), RFC 5922 identity, RFC 5924 EKU, expiry, key and signature, and the TLS policy facts seen in
//! the same flights (OCSP stapling, client certificate request, secure renegotiation, compression).

use crate::findings::ids;
use crate::findings::tls::{CertificateDetails, Chain, ClientCertOutcome};
use crate::findings::{Finding, Status};
use crate::probe::Context;
use crate::target::Endpoint;
use crate::tls::cert::{self, CertInfo};
use crate::tls::scan::ScanResult;
use crate::tls::suites;
use crate::tls::tls13_cert::{self, Family, Handshake};
use crate::tls::version::Version;

/// RFC 5924: the certificate is not restricted away from SIP: no EKU, anyExtendedKeyUsage, or
/// id-kp-sipDomain (the fact recorded as `eku_rfc5924_ok`).
fn eku_ok(c: &CertInfo) -> bool {
    c.eku.is_empty() || c.eku.iter().any(|e| e == "sipDomain" || e == "any")
}

/// Whether a TLS client can take the leaf for a SIP server at all: no EKU, or one that names
/// serverAuth, clientAuth, id-kp-sipDomain or anyExtendedKeyUsage. A serverAuth certificate without
/// id-kp-sipDomain is what public CAs issue (their baseline requirements allow serverAuth and
/// clientAuth only) and what RFC 5922, the standards-track rule for SIP domain certificates,
/// accepts. Only a verifier that implements RFC 5924 §5 (Experimental) refuses it for SIP (an EKU
/// present with neither id-kp-sipDomain nor anyExtendedKeyUsage): that is recorded as
/// `eku_rfc5924_ok: false` and said in the EKU column, not graded as a warn.
fn eku_usable(c: &CertInfo) -> bool {
    eku_ok(c)
        || c
            .eku
            .iter()
            .any(|e| e == "serverAuth" || e == "clientAuth")
}

fn chain(domain: &str, suite: &str, certificates: Vec<CertInfo>) -> Chain {
    let leaf = certificates.first();
    Chain {
        ordered: certificates.windows(2).all(|w| w[0].issuer == w[1].subject),
        identity: leaf.map(|c| cert::sip_identity(c, domain)),
        eku_rfc5924_ok: leaf.map(eku_ok),
        seen_with_suite: suite.to_string(),
        certificates,
    }
}

/// The chains the scan measured: (key type, suite, chain), and where they came from.
pub(super) struct Measured {
    source: String,
    chains: Vec<(String, String, Vec<CertInfo>)>,
    /// The real handshake that answered a CertificateRequest, if one did.
    client_auth: Option<Handshake>,
}

/// Reads the chains of the scan's TLS ≤ 1.2 flights; when there were none and TLS 1.3 is accepted,
/// fetches them with two more handshakes (ECDSA-only, then RSA-only signature algorithms). When the
/// flights carried a CertificateRequest, one real handshake answers it (with `--client-cert` if given)
/// to see whether the server requires, accepts or refuses a client certificate.
pub(super) async fn measure(ctx: &Context, ep: &Endpoint, r: &ScanResult) -> Measured {
    let identity = ctx.config.tls.client_identity.clone();
    let mut client_auth: Option<Handshake> = None;
    let now = cert::now_unix();
    let mut chains: Vec<(String, String, Vec<CertInfo>)> = r
        .flights
        .iter()
        .map(|f| {
            let chain: Vec<CertInfo> = f
                .chain
                .iter()
                .filter_map(|d| cert::analyse(d, now))
                .collect();
            (
                chain
                    .first()
                    .map(|c| c.key_type.clone())
                    .unwrap_or_default(),
                suites::name(f.suite),
                chain,
            )
        })
        .collect();
    let mut source = "TLS ≤ 1.2 Certificate messages (per key type)".to_string();
    if chains.is_empty() && r.accepted().contains(&Version::Tls13) {
        source = "TLS 1.3 handshakes (ECDSA-only, then RSA-only signature algorithms)".into();
        for family in [Family::Ecdsa, Family::Rsa] {
            let _permit = ctx.limiter.connection(ep.address).await;
            let _turn = ctx.limiter.handshake(ep.address).await;
            let h = tls13_cert::chain(
                ep.socket_addr(),
                &ctx.config.domain,
                family,
                identity.clone(),
                ctx.config.timers.timeout,
            )
            .await;
            let der = h.chain.clone();
            if h.client_auth.requested && client_auth.is_none() {
                client_auth = Some(h);
            }
            let chain: Vec<CertInfo> = der.iter().filter_map(|d| cert::analyse(d, now)).collect();
            if let Some(leaf) = chain.first()
                && !chains.iter().any(|(_, _, c)| c.first() == Some(leaf))
            {
                chains.push((leaf.key_type.clone(), "TLSv1.3".into(), chain));
            }
        }
    }
    if r.client_cert_requested && client_auth.is_none() {
        let _permit = ctx.limiter.connection(ep.address).await;
        let _turn = ctx.limiter.handshake(ep.address).await;
        let h = tls13_cert::client_auth(
            ep.socket_addr(),
            &ctx.config.domain,
            identity,
            ctx.config.timers.timeout,
        )
        .await;
        client_auth = Some(h).filter(|h| h.client_auth.requested);
    }
    Measured {
        source,
        chains,
        client_auth,
    }
}

/// How the summary says the client-certificate exchange.
fn client_cert_words(requested: bool, outcome: Option<ClientCertOutcome>) -> &'static str {
    match (requested, outcome) {
        (false, _) => "not requested",
        (true, None) => "requested",
        (true, Some(ClientCertOutcome::Accepted)) => "requested, sent and accepted",
        (true, Some(ClientCertOutcome::Optional)) => "requested but optional",
        (true, Some(ClientCertOutcome::Required)) => {
            "required (none sent: use --client-cert and --client-key)"
        }
        (true, Some(ClientCertOutcome::Refused)) => "required, and the one sent was refused",
    }
}

/// Expiry, weak signatures, small RSA keys and a failed RFC 5922 identity are fails; self-signed, an
/// EKU that allows neither TLS server use nor SIP, and expiry within 30 days are warns (a serverAuth
/// EKU without id-kp-sipDomain is not a problem: see [`eku_usable`]); so are compression and no secure
/// renegotiation (fails), seen in the same flights.
pub(super) fn judge(domain: &str, r: &ScanResult, m: &Measured) -> Finding {
    let Measured {
        source,
        chains,
        client_auth,
    } = m;
    let mut problems: Vec<(Status, String)> = Vec::new();
    let auth = client_auth.as_ref();
    let outcome = auth.and_then(|h| {
        ClientCertOutcome::of(
            h.client_auth.requested,
            h.client_auth.sent,
            h.failure.is_some(),
        )
    });
    let requested = r.client_cert_requested || auth.is_some();
    let mut d = CertificateDetails {
        source: source.clone(),
        ocsp_stapled: r.ocsp_stapled,
        client_certificate_requested: requested,
        client_certificate_sent: auth.is_some_and(|h| h.client_auth.sent),
        client_certificate_outcome: outcome,
        client_certificate_failure: auth.and_then(|h| h.failure.clone()),
        secure_renegotiation: r.secure_renegotiation,
        compression: r.compression,
        ..Default::default()
    };
    for (key, suite, chain_certs) in chains {
        let Some(leaf) = chain_certs.first() else {
            problems.push((
                Status::Fail,
                "a Certificate message held no parseable certificate".into(),
            ));
            continue;
        };
        if leaf.days_left < 0 {
            problems.push((
                Status::Fail,
                format!("{key} certificate expired {} days ago", -leaf.days_left),
            ));
        } else if leaf.days_left < 30 {
            problems.push((
                Status::Warn,
                format!("{key} certificate expires in {} days", leaf.days_left),
            ));
        }
        for c in chain_certs
            .iter()
            .filter(|c| c.weak_signature && !c.self_signed)
        {
            problems.push((
                Status::Fail,
                format!("{} signed with {}", c.subject, c.signature_algorithm),
            ));
        }
        if leaf.key_type == "RSA" && leaf.key_bits < 2048 {
            problems.push((Status::Fail, format!("RSA key of {} bits", leaf.key_bits)));
        }
        let id = cert::sip_identity(leaf, domain);
        if !id.matched {
            problems.push((
                Status::Fail,
                format!("{key} certificate does not prove {}: {}", id.domain, id.how),
            ));
        }
        if leaf.self_signed {
            problems.push((Status::Warn, format!("{key} certificate is self-signed")));
        }
        if !eku_usable(leaf) {
            problems.push((
                Status::Warn,
                format!(
                    "{key} certificate EKU ({}) names neither serverAuth nor id-kp-sipDomain (RFC 5280 §4.2.1.12, RFC 5924)",
                    leaf.eku.join(", ")
                ),
            ));
        }
        d.chains.insert(
            if key.is_empty() {
                "unknown".into()
            } else {
                key.clone()
            },
            chain(domain, suite, chain_certs.clone()),
        );
    }
    if r.compression == Some(true) {
        problems.push((
            Status::Fail,
            "TLS compression enabled (CRIME, RFC 9325 §3.3)".into(),
        ));
    }
    if r.secure_renegotiation == Some(false) {
        problems.push((
            Status::Fail,
            "no secure renegotiation (RFC 5746, RFC 9325 §3.5)".into(),
        ));
    }
    let status = if chains.is_empty() {
        Status::Error
    } else if problems.iter().any(|(s, _)| *s == Status::Fail) {
        Status::Fail
    } else if problems.iter().any(|(s, _)| *s == Status::Warn) {
        Status::Warn
    } else {
        Status::Pass
    };
    let summary = if chains.is_empty() {
        "no certificate could be read".to_string()
    } else if problems.is_empty() {
        format!(
            "{} certificate(s) for {} valid; OCSP stapling {}, client certificate {}",
            chains.len(),
            domain,
            if r.ocsp_stapled { "on" } else { "off" },
            client_cert_words(requested, outcome)
        )
    } else {
        let mut parts: Vec<&str> = problems.iter().map(|(_, p)| p.as_str()).collect();
        let client = format!(
            "client certificate {}",
            client_cert_words(requested, outcome)
        );
        if requested {
            parts.push(&client);
        }
        parts.join("; ")
    };
    d.problems = problems.iter().map(|(_, p)| p.clone()).collect();
    ids::TLS_CERTIFICATE
        .finding(status, summary)
        .with_details(&d)
}
