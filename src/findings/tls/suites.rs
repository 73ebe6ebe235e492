//! The IANA cipher-suite registry (data in `probes/tls_cipher_suites.tsv`) and a classification of
//! every suite following RFC 9325 (BCP 195) and Mozilla's server-side TLS profiles.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::version::Version;

const REGISTRY_TSV: &str = include_str!("../../../probes/tls_cipher_suites.tsv");

/// One registered cipher suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suite {
    pub code: u16,
    /// The IANA name.
    pub name: String,
    /// The OpenSSL name (`ECDHE-RSA-AES128-GCM-SHA256`), where OpenSSL has one.
    pub openssl: Option<String>,
}

/// How good a suite is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    /// RFC 9325 says MUST NOT (NULL, export, anonymous, RC4, DES, RC2, < 112-bit).
    Insecure,
    /// Allowed but discouraged: no forward secrecy, CBC, SHA-1 MAC, 3DES, short tags, unreviewed ciphers.
    Weak,
    /// AEAD with forward secrecy, not in the recommended list.
    #[default]
    Secure,
    /// RFC 9325 §4.2 / Mozilla intermediate: ECDHE or DHE with AES-GCM or ChaCha20-Poly1305, and TLS 1.3.
    Recommended,
}

/// One reason a suite is weak or insecure; policies forbid suites by these names
/// (`forbidden_suite_classes`). The grade of a suite follows from its classes, so the probe's verdict
/// and a policy's view of a suite cannot disagree.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SuiteClass {
    /// No encryption at all (`..._WITH_NULL_...`, or a TLS 1.3 integrity-only suite of RFC 9150).
    Null,
    /// Export-grade keys.
    Export,
    /// Anonymous key exchange: no server authentication.
    Anon,
    Rc4,
    Rc2,
    /// Single DES (56-bit).
    Des,
    /// Static RSA, DH, ECDH or PSK key exchange: no forward secrecy.
    NoForwardSecrecy,
    /// Triple DES (Sweet32).
    #[serde(rename = "3des")]
    TripleDes,
    /// IDEA, another 64-bit block cipher.
    Idea,
    /// CBC mode (padding-oracle history; RFC 9325 prefers AEAD).
    Cbc,
    /// SHA-1 record MAC (`..._SHA`).
    Sha1,
    /// MD5 record MAC.
    Md5,
    /// A 64-bit authentication tag.
    Ccm8,
    /// A cipher RFC 9325 does not cover (GOST, SM4, Salsa20, …).
    Unreviewed,
    /// Neither AEAD nor CBC (a stream cipher other than RC4).
    NoAead,
}

impl SuiteClass {
    pub const ALL: [SuiteClass; 15] = [
        SuiteClass::Null,
        SuiteClass::Export,
        SuiteClass::Anon,
        SuiteClass::Rc4,
        SuiteClass::Rc2,
        SuiteClass::Des,
        SuiteClass::NoForwardSecrecy,
        SuiteClass::TripleDes,
        SuiteClass::Idea,
        SuiteClass::Cbc,
        SuiteClass::Sha1,
        SuiteClass::Md5,
        SuiteClass::Ccm8,
        SuiteClass::Unreviewed,
        SuiteClass::NoAead,
    ];

    /// The name used in policies and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SuiteClass::Null => "null",
            SuiteClass::Export => "export",
            SuiteClass::Anon => "anon",
            SuiteClass::Rc4 => "rc4",
            SuiteClass::Rc2 => "rc2",
            SuiteClass::Des => "des",
            SuiteClass::NoForwardSecrecy => "no_forward_secrecy",
            SuiteClass::TripleDes => "3des",
            SuiteClass::Idea => "idea",
            SuiteClass::Cbc => "cbc",
            SuiteClass::Sha1 => "sha1",
            SuiteClass::Md5 => "md5",
            SuiteClass::Ccm8 => "ccm8",
            SuiteClass::Unreviewed => "unreviewed",
            SuiteClass::NoAead => "no_aead",
        }
    }

    /// RFC 9325 §4.1 MUST NOTs make a suite insecure; every other class makes it weak.
    pub fn insecure(self) -> bool {
        matches!(
            self,
            SuiteClass::Null
                | SuiteClass::Export
                | SuiteClass::Anon
                | SuiteClass::Rc4
                | SuiteClass::Rc2
                | SuiteClass::Des
        )
    }

    /// The reason in words, as the report prints it.
    pub fn reason(self) -> &'static str {
        match self {
            SuiteClass::Null => "NULL encryption",
            SuiteClass::Export => "export-grade",
            SuiteClass::Anon => "anonymous (no authentication)",
            SuiteClass::Rc4 => "RC4",
            SuiteClass::Rc2 => "RC2",
            SuiteClass::Des => "single DES",
            SuiteClass::NoForwardSecrecy => "no forward secrecy",
            SuiteClass::TripleDes | SuiteClass::Idea => "64-bit block cipher",
            SuiteClass::Cbc => "CBC mode",
            SuiteClass::Sha1 => "SHA-1 MAC",
            SuiteClass::Md5 => "MD5 MAC",
            SuiteClass::Ccm8 => "64-bit authentication tag (CCM_8)",
            SuiteClass::Unreviewed => "cipher not covered by RFC 9325",
            SuiteClass::NoAead => "no AEAD",
        }
    }
}

impl std::fmt::Display for SuiteClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SuiteClass {
    type Err = String;
    fn from_str(s: &str) -> Result<SuiteClass, String> {
        SuiteClass::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = SuiteClass::ALL.iter().map(|c| c.as_str()).collect();
                format!(
                    "unknown suite class {s:?} (expected one of {})",
                    all.join(", ")
                )
            })
    }
}

/// A suite's grade, its classes, and the reasons in words.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Class {
    pub grade: Grade,
    pub reasons: Vec<String>,
    pub classes: Vec<SuiteClass>,
}

/// The whole registry, parsed once; malformed lines of the data file are skipped.
pub fn registry() -> &'static [Suite] {
    static REG: OnceLock<Vec<Suite>> = OnceLock::new();
    REG.get_or_init(|| {
        REGISTRY_TSV
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut cols = l.split('\t').map(str::trim);
                let code = cols.next()?.trim_start_matches("0x");
                let code = u16::from_str_radix(code, 16).ok()?;
                let name = cols.next().filter(|n| !n.is_empty())?.to_string();
                let openssl = cols.next().filter(|n| !n.is_empty()).map(String::from);
                Some(Suite {
                    code,
                    name,
                    openssl,
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

/// The OpenSSL name of a suite given by its IANA name, where OpenSSL has one (TLS 1.3 suites keep
/// their IANA names in OpenSSL).
pub fn openssl_name(iana: &str) -> Option<&'static str> {
    registry()
        .iter()
        .find(|s| s.name == iana)
        .and_then(|s| s.openssl.as_deref())
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

/// The classes of a suite given by its IANA name, in [`SuiteClass::ALL`] order.
pub fn classes(name: &str) -> Vec<SuiteClass> {
    use SuiteClass::*;
    let mut out = Vec::new();
    if is_tls13(name) {
        let n = name.trim_start_matches("TLS_");
        if !(n.contains("GCM") || n.contains("CCM") || n.contains("POLY1305")) {
            out.push(Null);
        }
        if n.contains("CCM_8") {
            out.push(Ccm8);
        }
        if n.contains("SM4") {
            out.push(Unreviewed);
        }
        return out;
    }
    let k = kex(name);
    let b = bulk(name);
    let anon = k.contains("anon") || k == "NULL";
    let push = |out: &mut Vec<SuiteClass>, yes: bool, c| {
        if yes {
            out.push(c);
        }
    };
    push(&mut out, b.starts_with("NULL"), Null);
    push(
        &mut out,
        k.contains("EXPORT") || b.contains("_40_") || b.contains("DES40"),
        Export,
    );
    push(&mut out, anon, Anon);
    push(&mut out, b.contains("RC4"), Rc4);
    push(&mut out, b.contains("RC2"), Rc2);
    push(
        &mut out,
        (b.starts_with("DES_") || b.contains("DES_CBC")) && !b.contains("3DES"),
        Des,
    );
    let fs = k.starts_with("DHE") || k.starts_with("ECDHE") || k.starts_with("ECCPWD");
    push(&mut out, !fs && !anon, NoForwardSecrecy);
    push(&mut out, b.contains("3DES"), TripleDes);
    push(&mut out, b.contains("IDEA"), Idea);
    push(&mut out, b.contains("CBC"), Cbc);
    push(&mut out, b.ends_with("_SHA") || b.ends_with("SHA1"), Sha1);
    push(&mut out, b.ends_with("_MD5"), Md5);
    push(&mut out, b.contains("CCM_8"), Ccm8);
    push(
        &mut out,
        [
            "GOST",
            "KUZNYECHIK",
            "MAGMA",
            "28147",
            "SM4",
            "SM1",
            "SALSA20",
        ]
        .iter()
        .any(|m| name.contains(m)),
        Unreviewed,
    );
    let aead = b.contains("GCM") || b.contains("CCM") || b.contains("POLY1305");
    let insecure = out.iter().any(|c| c.insecure());
    push(&mut out, !aead && !insecure && !b.contains("CBC"), NoAead);
    out
}

/// Classifies a suite by its IANA name: the grade follows from [`classes`] alone.
pub fn classify(name: &str) -> Class {
    let classes = classes(name);
    let mut reasons: Vec<String> = Vec::new();
    // Insecure reasons first: they decide the verdict.
    for c in classes
        .iter()
        .filter(|c| c.insecure())
        .chain(classes.iter().filter(|c| !c.insecure()))
    {
        let mut r = c.reason().to_string();
        if *c == SuiteClass::Null && is_tls13(name) {
            r = "NULL encryption (integrity only, RFC 9150)".into();
        }
        if !reasons.contains(&r) {
            reasons.push(r);
        }
    }
    let grade = if classes.iter().any(|c| c.insecure()) {
        Grade::Insecure
    } else if !classes.is_empty() {
        Grade::Weak
    } else if recommended(name) {
        Grade::Recommended
    } else {
        Grade::Secure
    };
    Class {
        grade,
        reasons,
        classes,
    }
}

/// RFC 9325 §4.2 and Mozilla intermediate: ECDHE or DHE with AES-GCM or ChaCha20-Poly1305, and the
/// TLS 1.3 GCM and ChaCha20 suites.
fn recommended(name: &str) -> bool {
    if is_tls13(name) {
        return name.contains("GCM") || name.contains("CHACHA20");
    }
    let (k, b) = (kex(name), bulk(name));
    (k == "ECDHE_RSA" || k == "ECDHE_ECDSA" || k == "DHE_RSA")
        && (b.starts_with("AES_128_GCM") || b.starts_with("AES_256_GCM") || b.contains("CHACHA20"))
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
        // OpenSSL's names, from OpenSSL 3 and (for what it no longer builds) its old headers.
        assert_eq!(
            openssl_name("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            Some("ECDHE-RSA-AES128-GCM-SHA256")
        );
        assert_eq!(
            openssl_name("TLS_AES_128_GCM_SHA256"),
            Some("TLS_AES_128_GCM_SHA256")
        );
        assert_eq!(openssl_name("TLS_RSA_WITH_RC4_128_SHA"), Some("RC4-SHA"));
        assert_eq!(
            openssl_name("TLS_RSA_EXPORT_WITH_RC4_40_MD5"),
            Some("EXP-RC4-MD5")
        );
        assert_eq!(
            openssl_name("TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
            Some("DHE-RSA-AES256-SHA")
        );
        assert_eq!(openssl_name("TLS_SHA256_SHA256"), None);
        assert!(r.iter().filter(|s| s.openssl.is_some()).count() >= 200);
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
        assert!(
            c.reasons.iter().any(|r| r == "no forward secrecy")
                && c.reasons.iter().any(|r| r == "SHA-1 MAC")
        );
        for s in registry() {
            let _ = classify(&s.name);
        }
    }

    #[test]
    fn classes_from_iana_names() {
        use SuiteClass::*;
        assert!(classes("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").is_empty());
        assert!(classes("TLS_AES_256_GCM_SHA384").is_empty());
        assert!(classes("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256").is_empty());
        assert_eq!(
            classes("TLS_RSA_WITH_AES_128_CBC_SHA"),
            [NoForwardSecrecy, Cbc, Sha1]
        );
        assert_eq!(
            classes("TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
            [NoForwardSecrecy, TripleDes, Cbc, Sha1]
        );
        assert_eq!(
            classes("TLS_RSA_WITH_NULL_MD5"),
            [Null, NoForwardSecrecy, Md5]
        );
        assert_eq!(
            classes("TLS_RSA_EXPORT_WITH_RC4_40_MD5"),
            [Export, Rc4, NoForwardSecrecy, Md5]
        );
        assert_eq!(classes("TLS_DH_anon_WITH_AES_128_GCM_SHA256"), [Anon]);
        assert_eq!(classes("TLS_DHE_RSA_WITH_DES_CBC_SHA"), [Des, Cbc, Sha1]);
        assert_eq!(
            classes("TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256"),
            [NoForwardSecrecy]
        );
        // RFC 9150's integrity-only TLS 1.3 suites encrypt nothing: a policy forbidding `null` catches them.
        assert_eq!(classes("TLS_SHA256_SHA256"), [Null]);
    }

    /// The probe's verdict (grade) and a policy's view (classes) of every registered suite agree:
    /// insecure exactly when an RFC 9325 §4.1 MUST NOT class applies, weak when only other classes do.
    #[test]
    fn grade_and_classes_agree_for_every_registered_suite() {
        for s in registry() {
            let c = classify(&s.name);
            let insecure = c.classes.iter().any(|k| k.insecure());
            assert_eq!(c.grade == Grade::Insecure, insecure, "{}: {c:?}", s.name);
            assert_eq!(
                c.grade == Grade::Weak,
                !insecure && !c.classes.is_empty(),
                "{}: {c:?}",
                s.name
            );
            assert_eq!(c.reasons.is_empty(), c.classes.is_empty(), "{}", s.name);
            for k in &c.classes {
                assert_eq!(k.as_str().parse::<SuiteClass>(), Ok(*k));
            }
        }
    }
}
