//! The `tls.certificate` finding of the TLS scan: every certificate chain the server sent (one per key
//! type), RFC 5922 identity, RFC 5924 EKU, expiry, key and signature, and the TLS policy facts seen in
//! the same flights (OCSP stapling, client certificate request, secure renegotiation, compression).

use serde_json::{Map, Value, json};

use super::tls_scan::{base, with};
use crate::probe::Context;
use crate::report::{Finding, Status};
use crate::target::Endpoint;
use crate::tls::cert::{self, CertInfo};
use crate::tls::scan::ScanResult;
use crate::tls::suites;
use crate::tls::tls13_cert::{self, Family};
use crate::tls::version::Version;

/// RFC 5924 §4: a SIP domain certificate has no EKU, or anyExtendedKeyUsage, or id-kp-sipDomain.
fn eku_ok(c: &CertInfo) -> bool {
    c.eku.is_empty() || c.eku.iter().any(|e| e == "sipDomain" || e == "any")
}

fn chain_json(ctx: &Context, chain: &[CertInfo]) -> Value {
    let leaf = chain.first();
    let ordered = chain.windows(2).all(|w| w[0].issuer == w[1].subject);
    json!({
        "certificates": chain,
        "ordered": ordered,
        "identity": leaf.map(|c| cert::sip_identity(c, &ctx.config.domain)),
        "eku_rfc5924_ok": leaf.map(eku_ok),
    })
}

pub(crate) async fn finding(ctx: &Context, ep: &Endpoint, r: &ScanResult, title: &str) -> Finding {
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
            let der = tls13_cert::chain(
                ep.socket_addr(),
                &ctx.config.domain,
                family,
                ctx.config.timers.timeout,
            )
            .await;
            let chain: Vec<CertInfo> = der.iter().filter_map(|d| cert::analyse(d, now)).collect();
            if let Some(leaf) = chain.first()
                && !chains.iter().any(|(_, _, c)| c.first() == Some(leaf))
            {
                chains.push((leaf.key_type.clone(), "TLSv1.3".into(), chain));
            }
        }
    }
    let mut problems: Vec<(Status, String)> = Vec::new();
    let mut by_key = Map::new();
    for (key, suite, chain) in &chains {
        let Some(leaf) = chain.first() else {
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
        for c in chain.iter().filter(|c| c.weak_signature && !c.self_signed) {
            problems.push((
                Status::Fail,
                format!("{} signed with {}", c.subject, c.signature_algorithm),
            ));
        }
        if leaf.key_type == "RSA" && leaf.key_bits < 2048 {
            problems.push((Status::Fail, format!("RSA key of {} bits", leaf.key_bits)));
        }
        let id = cert::sip_identity(leaf, &ctx.config.domain);
        if !id.matched {
            problems.push((
                Status::Fail,
                format!("{key} certificate does not prove {}: {}", id.domain, id.how),
            ));
        }
        if leaf.self_signed {
            problems.push((Status::Warn, format!("{key} certificate is self-signed")));
        }
        if !eku_ok(leaf) {
            problems.push((
                Status::Warn,
                format!(
                    "{key} certificate EKU {:?} lacks id-kp-sipDomain (RFC 5924)",
                    leaf.eku
                ),
            ));
        }
        let mut j = chain_json(ctx, chain);
        if let Value::Object(o) = &mut j {
            o.insert("seen_with_suite".into(), json!(suite));
        }
        by_key.insert(
            if key.is_empty() {
                "unknown".into()
            } else {
                key.clone()
            },
            j,
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
            ctx.config.domain,
            if r.ocsp_stapled { "on" } else { "off" },
            if r.client_cert_requested {
                "requested"
            } else {
                "not requested"
            }
        )
    } else {
        problems
            .iter()
            .map(|(_, p)| p.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    with(
        base(
            "tls.certificate",
            title,
            ep,
            &[4],
            &[
                "RFC 5922 §7",
                "RFC 5924",
                "RFC 6066 §8",
                "RFC 5746",
                "RFC 9325",
            ],
        ),
        status,
        summary,
        json!({
            "source": source,
            "chains": by_key,
            "ocsp_stapled": r.ocsp_stapled,
            "client_certificate_requested": r.client_cert_requested,
            "secure_renegotiation": r.secure_renegotiation,
            "compression": r.compression,
            "problems": problems.iter().map(|(_, p)| p).collect::<Vec<_>>(),
        }),
    )
}
