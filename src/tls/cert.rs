//! Certificate analysis: what a chain says, and whether it proves the SIP domain (RFC 5922).

use std::net::IpAddr;

pub use crate::findings::tls::{CertInfo, IdentityMatch};
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry;
use x509_parser::prelude::*;

fn time_rfc3339(t: &ASN1Time) -> String {
    t.to_datetime()
        .format(&::time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// Parses one DER certificate; `None` for something that is not one.
pub fn analyse(der: &[u8], now_unix: i64) -> Option<CertInfo> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    let mut info = CertInfo {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        serial: tbs.raw_serial_as_string(),
        not_before: time_rfc3339(&tbs.validity.not_before),
        not_after: time_rfc3339(&tbs.validity.not_after),
        days_left: (tbs.validity.not_after.timestamp() - now_unix).div_euclid(86_400),
        self_signed: tbs.subject == tbs.issuer && cert.verify_signature(None).is_ok(),
        key_type: String::new(),
        key_bits: 0,
        signature_algorithm: String::new(),
        weak_signature: false,
        dns_sans: Vec::new(),
        uri_sans: Vec::new(),
        ip_sans: Vec::new(),
        eku: Vec::new(),
    };
    let spki = tbs.subject_pki.parsed();
    let (kt, bits) = match spki {
        Ok(x509_parser::public_key::PublicKey::RSA(k)) => ("RSA".to_string(), k.key_size()),
        Ok(x509_parser::public_key::PublicKey::EC(p)) => {
            let curve = tbs
                .subject_pki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| curve_name(&oid.to_id_string()))
                .unwrap_or_else(|| "EC".into());
            (curve, p.key_size())
        }
        Ok(x509_parser::public_key::PublicKey::DSA(_)) => ("DSA".to_string(), 0),
        Ok(other) => (format!("{other:?}").chars().take(20).collect(), 0),
        Err(_) => ("unknown".to_string(), 0),
    };
    info.key_type = kt;
    info.key_bits = bits;
    if info.key_type == "unknown" {
        let oid = tbs.subject_pki.algorithm.algorithm.to_id_string();
        if oid == "1.3.101.112" {
            info.key_type = "Ed25519".into();
            info.key_bits = 256;
        }
    }
    let sig_oid = cert.signature_algorithm.algorithm.to_id_string();
    info.signature_algorithm = sig_name(&sig_oid);
    info.weak_signature =
        info.signature_algorithm.contains("sha1") || info.signature_algorithm.contains("md5");
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => info.dns_sans.push(d.to_ascii_lowercase()),
                GeneralName::URI(u) => info.uri_sans.push(u.to_string()),
                GeneralName::IPAddress(b) => {
                    let ip = match b.len() {
                        4 => <[u8; 4]>::try_from(*b)
                            .ok()
                            .map(|a| IpAddr::from(a).to_string()),
                        16 => <[u8; 16]>::try_from(*b)
                            .ok()
                            .map(|a| IpAddr::from(a).to_string()),
                        _ => None,
                    };
                    info.ip_sans.extend(ip);
                }
                _ => {}
            }
        }
    }
    if let Ok(Some(eku)) = cert.extended_key_usage() {
        let e = eku.value;
        if e.any {
            info.eku.push("any".into());
        }
        if e.server_auth {
            info.eku.push("serverAuth".into());
        }
        if e.client_auth {
            info.eku.push("clientAuth".into());
        }
        // The other purposes x509-parser names: an EKU of only these allows no TLS server use.
        for (on, name) in [
            (e.code_signing, "codeSigning"),
            (e.email_protection, "emailProtection"),
            (e.time_stamping, "timeStamping"),
            (e.ocsp_signing, "OCSPSigning"),
        ] {
            if on {
                info.eku.push(name.into());
            }
        }
        for o in &e.other {
            // id-kp-sipDomain, RFC 5924.
            if o.to_id_string() == "1.3.6.1.5.5.7.3.20" {
                info.eku.push("sipDomain".into());
            } else {
                info.eku.push(o.to_id_string());
            }
        }
    }
    Some(info)
}

fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "EC P-256".into(),
        "1.3.132.0.34" => "EC P-384".into(),
        "1.3.132.0.35" => "EC P-521".into(),
        other => format!("EC {other}"),
    }
}

fn sig_name(oid: &str) -> String {
    let _ = oid_registry::OID_PKCS1_SHA256WITHRSA;
    match oid {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.10045.4.1" => "ecdsa-with-sha1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "ed25519",
        other => return other.to_string(),
    }
    .to_string()
}

/// RFC 5922 §7.1: if the certificate has `sip:` URI SANs, only they count; otherwise DNS SANs; wildcards
/// are not accepted (§7.2). IP targets match IP SANs.
pub fn sip_identity(cert: &CertInfo, domain: &str) -> IdentityMatch {
    let d = domain
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let result = |matched: bool, how: String| IdentityMatch {
        domain: d.clone(),
        matched,
        how,
    };
    if let Ok(ip) = d.parse::<IpAddr>() {
        return match cert
            .ip_sans
            .iter()
            .find(|s| s.parse::<IpAddr>().ok() == Some(ip))
        {
            Some(s) => result(true, format!("IP SAN {s}")),
            None => result(
                false,
                format!("no IP SAN equals {ip} (IP SANs: {:?})", cert.ip_sans),
            ),
        };
    }
    let sip_uris: Vec<&String> = cert
        .uri_sans
        .iter()
        .filter(|u| u.to_ascii_lowercase().starts_with("sip:"))
        .collect();
    if !sip_uris.is_empty() {
        return match sip_uris.iter().find(|u| u[4..].eq_ignore_ascii_case(&d)) {
            Some(u) => result(true, format!("URI SAN {u}")),
            None => result(
                false,
                format!("no sip: URI SAN names {d} (URI SANs: {sip_uris:?})"),
            ),
        };
    }
    // DNS names compare without regard to case (RFC 4343); a SAN written in capitals still names d.
    match cert.dns_sans.iter().find(|s| s.eq_ignore_ascii_case(&d)) {
        Some(s) => result(true, format!("DNS SAN {s}")),
        None => {
            let wildcard = cert.dns_sans.iter().any(|s| s.starts_with("*."));
            let why = if wildcard {
                format!(
                    "only wildcard or other DNS SANs {:?}; RFC 5922 §7.2 does not accept wildcards",
                    cert.dns_sans
                )
            } else {
                format!("no SAN names {d} (DNS SANs: {:?})", cert.dns_sans)
            };
            result(false, why)
        }
    }
}

/// Seconds since the Unix epoch now.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(sans: Vec<rcgen::SanType>) -> Vec<u8> {
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.subject_alt_names = sans;
        let key = rcgen::KeyPair::generate().unwrap();
        p.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn analyses_a_generated_certificate() {
        let der = cert(vec![rcgen::SanType::DnsName(
            "sip.example.test".try_into().unwrap(),
        )]);
        let c = analyse(&der, now_unix()).unwrap();
        assert!(c.self_signed);
        assert_eq!(c.key_type, "EC P-256");
        assert_eq!(c.signature_algorithm, "ecdsa-with-SHA256");
        assert_eq!(c.dns_sans, vec!["sip.example.test"]);
        assert!(c.days_left > 300);
        assert!(sip_identity(&c, "SIP.example.test").matched);
        assert!(!sip_identity(&c, "other.test").matched);
        assert!(analyse(b"not a cert", 0).is_none());
    }

    #[test]
    fn uri_sans_take_precedence_and_wildcards_do_not_count() {
        let der = cert(vec![
            rcgen::SanType::URI("sip:example.test".try_into().unwrap()),
            rcgen::SanType::DnsName("other.test".try_into().unwrap()),
        ]);
        let c = analyse(&der, now_unix()).unwrap();
        assert!(sip_identity(&c, "example.test").matched);
        assert!(
            !sip_identity(&c, "other.test").matched,
            "DNS SANs are ignored when sip: URI SANs exist"
        );

        let der = cert(vec![rcgen::SanType::DnsName(
            "*.example.test".try_into().unwrap(),
        )]);
        let c = analyse(&der, now_unix()).unwrap();
        let m = sip_identity(&c, "a.example.test");
        assert!(!m.matched && m.how.contains("wildcard"));

        let der = cert(vec![rcgen::SanType::IpAddress(
            "127.0.0.1".parse().unwrap(),
        )]);
        let c = analyse(&der, now_unix()).unwrap();
        assert!(sip_identity(&c, "127.0.0.1").matched);
    }
}
