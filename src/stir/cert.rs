//! The certificate behind an x5u URL: a SHAKEN certificate (ATIS-1000080, RFC 8226) is an EC P-256
//! leaf with digitalSignature and a TNAuthList naming exactly one Service Provider Code, chaining to a
//! root the STI Policy Administrator trusts.

use serde::{Deserialize, Serialize};
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY};
use x509_parser::prelude::*;

/// RFC 8226 §9: id-pe-TNAuthList.
pub const TN_AUTH_LIST_OID: &str = "1.3.6.1.5.5.7.1.26";
/// Longest chain followed from the leaf to a root.
const MAX_CHAIN: usize = 6;

/// What the PEM at x5u held.
pub struct Bundle {
    /// DER certificates in the order served (leaf first).
    pub certs: Vec<Vec<u8>>,
    /// PEM labels that were not certificates (`PUBLIC KEY`, …).
    pub other_labels: Vec<String>,
}

impl Bundle {
    pub fn from_pem(body: &[u8]) -> Bundle {
        let mut b = Bundle {
            certs: Vec::new(),
            other_labels: Vec::new(),
        };
        for pem in Pem::iter_from_buffer(body).take(16) {
            match pem {
                Ok(p) if p.label == "CERTIFICATE" => b.certs.push(p.contents),
                Ok(p) => b.other_labels.push(p.label),
                Err(_) => break,
            }
        }
        b
    }
}

/// The leaf's facts, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub not_before: i64,
    pub not_after: i64,
    /// The Service Provider Code from TNAuthList, when it holds exactly one.
    pub spc: Option<String>,
    /// Subjects from the leaf up to the root that anchored it.
    pub chain: Vec<String>,
    /// The subject's common name (`SHAKEN <SPC>` in a v004+ certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cn: Option<String>,
    /// The SPC the common name states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cn_spc: Option<String>,
    /// The serial number's size in bits.
    #[serde(default)]
    pub serial_bits: usize,
    /// `good`, `revoked` or `undetermined`, once the CRLs were asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<String>,
}

pub fn summary(leaf: &X509Certificate<'_>) -> CertSummary {
    CertSummary {
        subject: leaf.subject().to_string(),
        issuer: leaf.issuer().to_string(),
        not_before: leaf.validity().not_before.timestamp(),
        not_after: leaf.validity().not_after.timestamp(),
        spc: None,
        chain: Vec::new(),
        cn: None,
        cn_spc: None,
        serial_bits: 0,
        revocation: None,
    }
}

pub fn valid_at(cert: &X509Certificate<'_>, t: i64) -> bool {
    ASN1Time::from_timestamp(t).is_ok_and(|at| cert.validity().is_valid_at(at))
}

/// `Ok(())` for an EC P-256 key whose Key Usage allows digitalSignature.
pub fn key_check(leaf: &X509Certificate<'_>) -> Result<(), String> {
    let spki = leaf.public_key();
    if spki.algorithm.algorithm != OID_KEY_TYPE_EC_PUBLIC_KEY {
        return Err(format!(
            "the key is {}, not an EC key",
            spki.algorithm.algorithm
        ));
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok());
    if curve.as_ref() != Some(&OID_EC_P256) {
        return Err("the EC key is not on P-256".into());
    }
    match leaf.key_usage() {
        Ok(Some(ku)) if ku.value.digital_signature() => Ok(()),
        Ok(Some(_)) => Err("Key Usage does not allow digitalSignature".into()),
        Ok(None) => Err("no Key Usage extension (SHAKEN requires digitalSignature)".into()),
        Err(e) => Err(format!("Key Usage does not parse: {e}")),
    }
}

/// One TNAuthList entry (RFC 8226 §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TnEntry {
    Spc(String),
    Range,
    One(String),
    Unknown(u8),
}

/// The TNAuthList entries, or why they cannot be read.
pub fn tn_auth_list(leaf: &X509Certificate<'_>) -> Result<Vec<TnEntry>, String> {
    let ext = leaf
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == TN_AUTH_LIST_OID)
        .ok_or("no TNAuthList extension (1.3.6.1.5.5.7.1.26)")?;
    let bad = || "TNAuthList is not valid DER".to_string();
    let (tag, list, rest) = der_tlv(ext.value).ok_or_else(bad)?;
    if tag != 0x30 || !rest.is_empty() {
        return Err(bad());
    }
    let mut entries = Vec::new();
    let mut cur = list;
    while !cur.is_empty() && entries.len() < 64 {
        let (tag, inner, rest) = der_tlv(cur).ok_or_else(bad)?;
        cur = rest;
        let text = |b: &[u8]| -> String {
            der_tlv(b)
                .map(|(_, v, _)| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default()
        };
        entries.push(match tag {
            0xa0 => TnEntry::Spc(text(inner)),
            0xa1 | 0x30 => TnEntry::Range,
            0xa2 | 0x82 | 0x16 => TnEntry::One(match tag {
                0xa2 => text(inner),
                _ => String::from_utf8_lossy(inner).into_owned(),
            }),
            t => TnEntry::Unknown(t),
        });
    }
    Ok(entries)
}

/// `(tag, value, rest)` of one DER TLV; definite lengths up to 4 bytes only.
fn der_tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)? as usize;
    let (len, hdr) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    Some((tag, b.get(hdr..end)?, b.get(end..)?))
}

/// Follows issuers from the leaf through the served intermediates to one of `roots`, checking each
/// signature, that each issuer is a CA, and that each certificate is valid at `at`. Returns the
/// subjects of the path.
pub fn chain_to_roots(
    leaf: &X509Certificate<'_>,
    served: &[X509Certificate<'_>],
    roots: &[X509Certificate<'_>],
    at: i64,
) -> Result<Vec<String>, String> {
    let mut path = vec![leaf.subject().to_string()];
    let mut current = leaf;
    for _ in 0..MAX_CHAIN {
        for root in roots {
            if root.subject().as_raw() == current.issuer().as_raw()
                && current.verify_signature(Some(root.public_key())).is_ok()
            {
                if !valid_at(root, at) {
                    return Err(format!("the root {} is not valid now", root.subject()));
                }
                if current.subject().as_raw() != root.subject().as_raw() {
                    path.push(root.subject().to_string());
                }
                return Ok(path);
            }
        }
        let next = served.iter().find(|c| {
            c.subject().as_raw() == current.issuer().as_raw()
                && c.subject().as_raw() != current.subject().as_raw()
        });
        let Some(next) = next else {
            return Err(format!(
                "no trusted root or served intermediate issued {:?} (issuer {})",
                current.subject().to_string(),
                current.issuer()
            ));
        };
        current
            .verify_signature(Some(next.public_key()))
            .map_err(|e| {
                format!(
                    "{} does not verify under {}: {e}",
                    current.subject(),
                    next.subject()
                )
            })?;
        let is_ca = matches!(next.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
        if !is_ca {
            return Err(format!("{} is not a CA certificate", next.subject()));
        }
        if !valid_at(next, at) {
            return Err(format!(
                "the intermediate {} is not valid now",
                next.subject()
            ));
        }
        path.push(next.subject().to_string());
        current = next;
    }
    Err("chain longer than the limit".into())
}

/// Parses the STI roots file: every `CERTIFICATE` block, DER.
pub fn load_roots(path: &str) -> crate::Result<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path).map_err(|e| crate::Error::BadFile {
        path: path.to_string(),
        reason: e.to_string(),
    })?;
    let b = Bundle::from_pem(&bytes);
    let ok: Vec<Vec<u8>> = b
        .certs
        .into_iter()
        .filter(|der| X509Certificate::from_der(der).is_ok())
        .collect();
    if ok.is_empty() {
        return Err(crate::Error::BadFile {
            path: path.to_string(),
            reason: "no certificates found".into(),
        });
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_openssl_tnauthlist_shape() {
        let der = [0x30, 0x08, 0xa0, 0x06, 0x16, 0x04, b'1', b'2', b'3', b'4'];
        let (tag, list, rest) = der_tlv(&der).unwrap();
        assert_eq!((tag, rest.len()), (0x30, 0));
        let (t, inner, _) = der_tlv(list).unwrap();
        assert_eq!(t, 0xa0);
        assert_eq!(der_tlv(inner).unwrap().1, b"1234");
        assert!(der_tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(der_tlv(&[0x30, 0x05, 1]).is_none());
        assert!(der_tlv(&[]).is_none());
    }
}
