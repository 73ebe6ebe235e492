//! The IANA cipher-suite registry (data in `probes/tls_cipher_suites.tsv`) and a classification of
//! every suite following RFC 9325 (BCP 195) and Mozilla's server-side TLS profiles.

use std::sync::OnceLock;

use serde::Serialize;

use super::version::Version;

const REGISTRY_TSV: &str = include_str!("../../probes/tls_cipher_suites.tsv");

/// One registered cipher suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suite {
    pub code: u16,
    pub name: String,
}

/// How good a suite is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    /// RFC 9325 says MUST NOT (NULL, export, anonymous, RC4, DES, RC2, < 112-bit).
    Insecure,
    /// Allowed but discouraged: no forward secrecy, CBC, SHA-1 MAC, 3DES, short tags, unreviewed ciphers.
    Weak,
    /// AEAD with forward secrecy, not in the recommended list.
    Secure,
    /// RFC 9325 §4.2 / Mozilla intermediate: ECDHE or DHE with AES-GCM or ChaCha20-Poly1305, and TLS 1.3.
    Recommended,
}

/// A suite's grade and the reasons for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Class {
    pub grade: Grade,
    pub reasons: Vec<&'static str>,
}

/// The whole registry, parsed once; malformed lines of the data file are skipped.
pub fn registry() -> &'static [Suite] {
    static REG: OnceLock<Vec<Suite>> = OnceLock::new();
    REG.get_or_init(|| {
        REGISTRY_TSV
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (code, name) = l.split_once('\t')?;
                let code = u16::from_str_radix(code.trim().trim_start_matches("0x"), 16).ok()?;
                Some(Suite {
                    code,
                    name: name.trim().to_string(),
                })
            })
            .collect()
    })
}

/// The IANA name of a code, or `0xNNNN` for an unregistered one.
pub fn name(code: u16) -> String {
    registry()
        .iter()
        .find(|s| s.code == code)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| format!("0x{code:04X}"))
}

/// TLS 1.3 suites name only the AEAD and hash (no key exchange).
pub fn is_tls13(name: &str) -> bool {
    !name.contains("_WITH_")
}

/// Suites defined for TLS 1.2 only (AEAD or SHA-2 PRF), which a server must not pick for older versions.
pub fn tls12_only(name: &str) -> bool {
    [
        "GCM", "CCM", "POLY1305", "_SHA256", "_SHA384", "MGM", "OMAC", "_SM3",
    ]
    .iter()
    .any(|m| name.contains(m))
}

/// The registry codes worth offering for a version.
pub fn candidates(v: Version) -> Vec<u16> {
    registry()
        .iter()
        .filter(|s| match v {
            Version::Tls13 => is_tls13(&s.name),
            Version::Tls12 => !is_tls13(&s.name),
            _ => !is_tls13(&s.name) && !tls12_only(&s.name),
        })
        .map(|s| s.code)
        .collect()
}

/// Key exchange part of a TLS 1.0–1.2 name (`ECDHE_RSA`, `DH_anon_EXPORT`, …).
fn kex(name: &str) -> &str {
    let n = name
        .strip_prefix("TLS_")
        .or_else(|| name.strip_prefix("SSL_"))
        .unwrap_or(name);
    n.split("_WITH_").next().unwrap_or(n)
}

fn bulk(name: &str) -> &str {
    name.split_once("_WITH_").map(|(_, b)| b).unwrap_or(name)
}

/// Classifies a suite by its IANA name.
pub fn classify(name: &str) -> Class {
    let mut insecure: Vec<&'static str> = Vec::new();
    let mut weak: Vec<&'static str> = Vec::new();
    if is_tls13(name) {
        let n = name.trim_start_matches("TLS_");
        if !(n.contains("GCM") || n.contains("CCM") || n.contains("POLY1305")) {
            return Class {
                grade: Grade::Insecure,
                reasons: vec!["NULL encryption (integrity only, RFC 9150)"],
            };
        }
        if n.contains("CCM_8") {
            weak.push("64-bit authentication tag (CCM_8)");
        }
        if n.contains("SM4") {
            weak.push("cipher not covered by RFC 9325");
        }
        let grade = if !weak.is_empty() {
            Grade::Weak
        } else if n.contains("GCM") || n.contains("CHACHA20") {
            Grade::Recommended
        } else {
            Grade::Secure
        };
        return Class {
            grade,
            reasons: weak,
        };
    }
    let k = kex(name);
    let b = bulk(name);
    if b.starts_with("NULL") {
        insecure.push("NULL encryption");
    }
    if k.contains("EXPORT") || b.contains("_40_") || b.contains("DES40") {
        insecure.push("export-grade");
    }
    if k.contains("anon") || k == "NULL" {
        insecure.push("anonymous (no authentication)");
    }
    if b.contains("RC4") {
        insecure.push("RC4");
    }
    if b.contains("RC2") {
        insecure.push("RC2");
    }
    if (b.starts_with("DES_") || b.contains("DES_CBC")) && !b.contains("3DES") {
        insecure.push("single DES");
    }
    let fs = k.starts_with("DHE") || k.starts_with("ECDHE") || k.starts_with("ECCPWD");
    if !fs && !insecure.contains(&"anonymous (no authentication)") {
        weak.push("no forward secrecy");
    }
    if b.contains("3DES") || b.contains("IDEA") {
        weak.push("64-bit block cipher");
    }
    if b.contains("CBC") {
        weak.push("CBC mode");
    }
    if b.ends_with("_SHA") || b.ends_with("SHA1") {
        weak.push("SHA-1 MAC");
    }
    if b.ends_with("_MD5") {
        weak.push("MD5 MAC");
    }
    if b.contains("CCM_8") {
        weak.push("64-bit authentication tag (CCM_8)");
    }
    if [
        "GOST",
        "KUZNYECHIK",
        "MAGMA",
        "28147",
        "SM4",
        "SM1",
        "SALSA20",
    ]
    .iter()
    .any(|m| name.contains(m))
    {
        weak.push("cipher not covered by RFC 9325");
    }
    let aead = b.contains("GCM") || b.contains("CCM") || b.contains("POLY1305");
    if !aead && insecure.is_empty() && !weak.contains(&"CBC mode") {
        weak.push("no AEAD");
    }
    if !insecure.is_empty() {
        insecure.extend(weak);
        return Class {
            grade: Grade::Insecure,
            reasons: insecure,
        };
    }
    if !weak.is_empty() {
        return Class {
            grade: Grade::Weak,
            reasons: weak,
        };
    }
    let recommended = (k == "ECDHE_RSA" || k == "ECDHE_ECDSA" || k == "DHE_RSA")
        && (b.starts_with("AES_128_GCM") || b.starts_with("AES_256_GCM") || b.contains("CHACHA20"));
    Class {
        grade: if recommended {
            Grade::Recommended
        } else {
            Grade::Secure
        },
        reasons: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_complete_and_named() {
        let r = registry();
        assert!(r.len() > 330, "{}", r.len());
        assert_eq!(name(0xC02F), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(name(0x1301), "TLS_AES_128_GCM_SHA256");
        assert_eq!(name(0xFFFF), "0xFFFF");
        let c13 = candidates(Version::Tls13);
        assert!((0x1301..=0x1305).all(|c| c13.contains(&c)), "{c13:?}");
        assert!(!c13.contains(&0xC02F));
        let c10 = candidates(Version::Tls10);
        assert!(c10.contains(&0x002F) && !c10.contains(&0xC02F));
        let mut codes: Vec<u16> = r.iter().map(|s| s.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), r.len(), "no duplicate codes");
        let mut names: Vec<&str> = r.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), r.len(), "no duplicate names");
    }

    #[test]
    fn classification_follows_rfc_9325() {
        let g = |n: &str| classify(n).grade;
        assert_eq!(
            g("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            Grade::Recommended
        );
        assert_eq!(
            g("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
            Grade::Recommended
        );
        assert_eq!(g("TLS_AES_256_GCM_SHA384"), Grade::Recommended);
        assert_eq!(g("TLS_AES_128_CCM_8_SHA256"), Grade::Weak);
        assert_eq!(g("TLS_SHA256_SHA256"), Grade::Insecure);
        assert_eq!(g("TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256"), Grade::Secure);
        assert_eq!(g("TLS_RSA_WITH_AES_128_GCM_SHA256"), Grade::Weak);
        assert_eq!(g("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"), Grade::Weak);
        assert_eq!(g("TLS_RSA_WITH_3DES_EDE_CBC_SHA"), Grade::Weak);
        assert_eq!(g("TLS_RSA_WITH_RC4_128_SHA"), Grade::Insecure);
        assert_eq!(g("TLS_RSA_WITH_NULL_SHA256"), Grade::Insecure);
        assert_eq!(g("TLS_RSA_EXPORT_WITH_RC4_40_MD5"), Grade::Insecure);
        assert_eq!(g("TLS_DH_anon_WITH_AES_256_GCM_SHA384"), Grade::Insecure);
        assert_eq!(g("TLS_ECDH_anon_WITH_AES_128_CBC_SHA"), Grade::Insecure);
        assert_eq!(g("TLS_RSA_WITH_DES_CBC_SHA"), Grade::Insecure);
        let c = classify("TLS_RSA_WITH_AES_128_CBC_SHA");
        assert!(c.reasons.contains(&"no forward secrecy") && c.reasons.contains(&"SHA-1 MAC"));
        for s in registry() {
            let _ = classify(&s.name);
        }
    }
}
