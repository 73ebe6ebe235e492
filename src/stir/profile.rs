//! The SHAKEN certificate profile (ATIS-1000080 v004/v005 §6.4.1, the STI end-entity certificate)
//! as lints: each a pure function over the parsed certificate, `Ok(fact)` or `Err(why)`.

use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::*;

use super::cert::TN_AUTH_LIST_OID;

/// Extensions an STI end-entity certificate carries (ATIS-1000080 v005 §6.4.1): Basic Constraints,
/// Key Usage, Subject and Authority Key Identifier, CRL Distribution Points, Certificate Policies,
/// TNAuthList.
const EXPECTED_EXTENSIONS: &[&str] = &[
    "2.5.29.19",
    "2.5.29.15",
    "2.5.29.14",
    "2.5.29.35",
    "2.5.29.31",
    "2.5.29.32",
    TN_AUTH_LIST_OID,
];
/// v005: only these two may be marked critical.
const MAY_BE_CRITICAL: &[&str] = &["2.5.29.19", "2.5.29.15"];

/// The subject's common name, when there is one.
pub fn common_name(cert: &X509Certificate<'_>) -> Option<String> {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(|s| s.chars().take(128).collect())
}

/// The SPC a `SHAKEN <SPC>` common name states.
pub fn cn_spc(cn: &str) -> Option<&str> {
    cn.strip_prefix("SHAKEN ").filter(|s| !s.is_empty())
}

/// ATIS-1000080 v004 §6.4.1: the subject CN is `SHAKEN` and the SPC of the TNAuthList, with one space.
pub fn cn_matches_spc(cert: &X509Certificate<'_>, spc: Option<&str>) -> Result<String, String> {
    let Some(cn) = common_name(cert) else {
        return Err("the subject has no CN (expected \"SHAKEN <SPC>\")".into());
    };
    match (cn_spc(&cn), spc) {
        (Some(c), Some(s)) if c == s => Ok(format!("CN {cn:?} names the TNAuthList SPC")),
        (Some(c), Some(s)) => Err(format!(
            "CN {cn:?} names SPC {c:?}; the TNAuthList says {s:?}"
        )),
        (Some(_), None) => Err(format!(
            "CN {cn:?}, but no single TNAuthList SPC to compare"
        )),
        (None, _) => Err(format!("CN {cn:?} is not \"SHAKEN <SPC>\"")),
    }
}

/// The serial number's size in bits (its magnitude, a leading sign octet left out).
pub fn serial_bits(cert: &X509Certificate<'_>) -> usize {
    let raw = cert.raw_serial();
    let raw = match raw.iter().position(|b| *b != 0) {
        Some(i) => &raw[i..],
        None => &[],
    };
    match raw.first() {
        Some(b) => (raw.len() - 1) * 8 + (8 - b.leading_zeros() as usize),
        None => 0,
    }
}

/// ATIS-1000080 v005 §6.4.1 (the CA/Browser Forum rule): at least 64 bits of CSPRNG output. A
/// serial shorter than 8 octets cannot hold them.
pub fn serial_ok(cert: &X509Certificate<'_>) -> Result<String, String> {
    let bits = serial_bits(cert);
    if bits > 56 {
        Ok(format!("serial {bits} bits"))
    } else {
        Err(format!(
            "serial is {bits} bits; at least 64 bits of random output are required"
        ))
    }
}

/// One CRL Distribution Point as the certificate states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cdp {
    /// The URIs of its fullName.
    pub uris: Vec<String>,
    /// The DER of each directoryName of its cRLIssuer.
    pub crl_issuers: Vec<Vec<u8>>,
    /// The cRLIssuer names, readable.
    pub crl_issuer_names: Vec<String>,
}

/// The certificate's CRL Distribution Points; `None` without the extension.
pub fn cdps(cert: &X509Certificate<'_>) -> Result<Option<Vec<Cdp>>, String> {
    let Some(ext) = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == "2.5.29.31")
    else {
        return Ok(None);
    };
    let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() else {
        return Err("the CRL Distribution Points extension does not parse".into());
    };
    let mut out = Vec::new();
    for p in points.points.iter().take(8) {
        let mut cdp = Cdp {
            uris: Vec::new(),
            crl_issuers: Vec::new(),
            crl_issuer_names: Vec::new(),
        };
        if let Some(DistributionPointName::FullName(names)) = &p.distribution_point {
            for n in names {
                if let GeneralName::URI(u) = n {
                    cdp.uris.push(u.chars().take(512).collect());
                }
            }
        }
        for n in p.crl_issuer.iter().flatten() {
            if let GeneralName::DirectoryName(name) = n {
                cdp.crl_issuers.push(name.as_raw().to_vec());
                cdp.crl_issuer_names.push(name.to_string());
            }
        }
        out.push(cdp);
    }
    Ok(Some(out))
}

/// ATIS-1000080 v004 §6.4.1: one distribution point with the HTTP URL of the STI-PA CRL and a
/// cRLIssuer naming the STI-PA.
pub fn cdp_ok(cert: &X509Certificate<'_>) -> Result<String, String> {
    let points = match cdps(cert)? {
        None => return Err("no CRL Distribution Points extension".into()),
        Some(p) => p,
    };
    let [one] = points.as_slice() else {
        return Err(format!(
            "{} distribution points (expected exactly one)",
            points.len()
        ));
    };
    let Some(uri) = one.uris.first() else {
        return Err("the distribution point names no URI".into());
    };
    if !uri.to_ascii_lowercase().starts_with("http://")
        && !uri.to_ascii_lowercase().starts_with("https://")
    {
        return Err(format!("the CRL URI {uri:?} is not an HTTP URL"));
    }
    match one.crl_issuer_names.first() {
        Some(issuer) => Ok(format!("CRL {uri} issued by {issuer}")),
        None => Err(format!("CRL {uri} without a cRLIssuer")),
    }
}

/// Whether a certificate carries a TNAuthList (ATIS-1000080 v005 disallows it in STI root and
/// intermediate certificates).
pub fn has_tn_auth_list(cert: &X509Certificate<'_>) -> bool {
    cert.extensions()
        .iter()
        .any(|e| e.oid.to_id_string() == TN_AUTH_LIST_OID)
}

/// ATIS-1000080 v005 §6.4.1: no extension outside the profile, and only Basic Constraints and Key
/// Usage critical.
pub fn extensions_ok(cert: &X509Certificate<'_>) -> Result<String, String> {
    let mut odd = Vec::new();
    for e in cert.extensions() {
        let oid = e.oid.to_id_string();
        if !EXPECTED_EXTENSIONS.contains(&oid.as_str()) {
            odd.push(format!("unexpected extension {oid}"));
        } else if e.critical && !MAY_BE_CRITICAL.contains(&oid.as_str()) {
            odd.push(format!("{oid} marked critical"));
        }
    }
    if odd.is_empty() {
        Ok(format!(
            "{} extensions, all in the profile",
            cert.extensions().len()
        ))
    } else {
        Err(odd.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, CustomExtension, DnType, KeyPair};

    fn cert(cn: &str, serial: Option<Vec<u8>>, exts: Vec<CustomExtension>) -> Vec<u8> {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.serial_number = serial.map(|s| rcgen::SerialNumber::from_slice(&s));
        p.custom_extensions = exts;
        p.self_signed(&KeyPair::generate().unwrap())
            .unwrap()
            .der()
            .to_vec()
    }

    #[test]
    fn cn_serial_and_extension_lints() {
        let tn = CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 5, 5, 7, 1, 26],
            vec![0x30, 0x08, 0xa0, 0x06, 0x16, 0x04, b'1', b'2', b'3', b'4'],
        );
        let odd = CustomExtension::from_oid_content(&[1, 2, 3, 4], vec![0x05, 0x00]);
        let der = cert("SHAKEN 1234", Some(vec![0x01, 0x02]), vec![tn, odd]);
        let (_, c) = X509Certificate::from_der(&der).unwrap();
        assert!(cn_matches_spc(&c, Some("1234")).is_ok());
        assert!(cn_matches_spc(&c, Some("5678")).is_err());
        assert_eq!(serial_bits(&c), 9);
        assert!(serial_ok(&c).is_err());
        assert!(has_tn_auth_list(&c));
        let e = extensions_ok(&c).unwrap_err();
        assert!(e.contains("unexpected extension 1.2.3.4"), "{e}");
        assert!(
            cdp_ok(&c)
                .unwrap_err()
                .contains("no CRL Distribution Points")
        );

        let plain = cert("Acme", None, vec![]);
        let (_, c) = X509Certificate::from_der(&plain).unwrap();
        assert!(cn_matches_spc(&c, Some("1234")).is_err());
        assert!(serial_ok(&c).is_ok(), "rcgen's 20-byte serial");
        assert!(!has_tn_auth_list(&c));
    }
}
