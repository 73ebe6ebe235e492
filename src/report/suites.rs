//! Weakness classes of TLS cipher suites, read from their IANA names, shared by the policy rules and
//! the baseline diff. The classes follow RFC 9325 (BCP 195) and the Mozilla profiles.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One reason a suite can be considered weak.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SuiteClass {
    /// No encryption at all (`..._WITH_NULL_...`).
    Null,
    /// Export-grade keys.
    Export,
    /// Anonymous key exchange: no server authentication.
    Anon,
    Rc4,
    /// Single DES (56-bit).
    Des,
    /// Triple DES (Sweet32).
    #[serde(rename = "3des")]
    TripleDes,
    /// MD5 record MAC.
    Md5,
    /// SHA-1 record MAC (`..._SHA`).
    Sha1,
    /// CBC mode (padding-oracle history; RFC 9325 prefers AEAD).
    Cbc,
    /// Static RSA, DH, ECDH or PSK key exchange: no forward secrecy.
    NoForwardSecrecy,
}

impl SuiteClass {
    pub const ALL: [SuiteClass; 10] = [
        SuiteClass::Null,
        SuiteClass::Export,
        SuiteClass::Anon,
        SuiteClass::Rc4,
        SuiteClass::Des,
        SuiteClass::TripleDes,
        SuiteClass::Md5,
        SuiteClass::Sha1,
        SuiteClass::Cbc,
        SuiteClass::NoForwardSecrecy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SuiteClass::Null => "null",
            SuiteClass::Export => "export",
            SuiteClass::Anon => "anon",
            SuiteClass::Rc4 => "rc4",
            SuiteClass::Des => "des",
            SuiteClass::TripleDes => "3des",
            SuiteClass::Md5 => "md5",
            SuiteClass::Sha1 => "sha1",
            SuiteClass::Cbc => "cbc",
            SuiteClass::NoForwardSecrecy => "no_forward_secrecy",
        }
    }
}

impl fmt::Display for SuiteClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SuiteClass {
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

/// The weakness classes of a suite given by its IANA name (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`).
/// TLS 1.3 names (`TLS_AES_128_GCM_SHA256`) have no `_WITH_` and are in no class.
pub fn classify(name: &str) -> Vec<SuiteClass> {
    let n = name.to_ascii_uppercase();
    let Some((kx, cipher)) = n.split_once("_WITH_") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if cipher.starts_with("NULL") {
        out.push(SuiteClass::Null);
    }
    if n.contains("EXPORT") {
        out.push(SuiteClass::Export);
    }
    if kx.contains("_ANON") {
        out.push(SuiteClass::Anon);
    }
    if cipher.starts_with("RC4") {
        out.push(SuiteClass::Rc4);
    }
    if cipher.starts_with("DES_") || cipher.starts_with("DES40") {
        out.push(SuiteClass::Des);
    }
    if cipher.starts_with("3DES") {
        out.push(SuiteClass::TripleDes);
    }
    if cipher.ends_with("_MD5") {
        out.push(SuiteClass::Md5);
    }
    if cipher.ends_with("_SHA") {
        out.push(SuiteClass::Sha1);
    }
    if cipher.contains("_CBC") {
        out.push(SuiteClass::Cbc);
    }
    let ephemeral = kx.contains("DHE") && !kx.contains("_ANON");
    if !ephemeral && !kx.contains("_ANON") {
        out.push(SuiteClass::NoForwardSecrecy);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{SuiteClass::*, classify};

    #[test]
    fn classes_from_iana_names() {
        assert!(classify("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").is_empty());
        assert!(classify("TLS_AES_256_GCM_SHA384").is_empty());
        assert!(classify("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256").is_empty());
        assert_eq!(
            classify("TLS_RSA_WITH_AES_128_CBC_SHA"),
            [Sha1, Cbc, NoForwardSecrecy]
        );
        assert_eq!(
            classify("TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
            [TripleDes, Sha1, Cbc, NoForwardSecrecy]
        );
        assert_eq!(
            classify("TLS_RSA_WITH_NULL_MD5"),
            [Null, Md5, NoForwardSecrecy]
        );
        assert_eq!(
            classify("TLS_RSA_EXPORT_WITH_RC4_40_MD5"),
            [Export, Rc4, Md5, NoForwardSecrecy]
        );
        assert_eq!(classify("TLS_DH_anon_WITH_AES_128_GCM_SHA256"), [Anon]);
        assert_eq!(classify("TLS_DHE_RSA_WITH_DES_CBC_SHA"), [Des, Sha1, Cbc]);
        assert_eq!(
            classify("TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256"),
            [NoForwardSecrecy]
        );
    }
}
