//! Protocol versions as they appear on the wire and in the report.

use serde::Serialize;

/// SSLv2 to TLS 1.3, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Version {
    /// Its own hello format (see `crate::tls::sslv2`); not in [`Version::ALL`].
    Ssl2,
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl Version {
    /// The versions offered with a TLS-record ClientHello.
    pub const ALL: [Version; 5] = [
        Version::Ssl3,
        Version::Tls10,
        Version::Tls11,
        Version::Tls12,
        Version::Tls13,
    ];

    /// Every version `tls.versions` reports, SSLv2 included.
    pub const REPORTED: [Version; 6] = [
        Version::Ssl2,
        Version::Ssl3,
        Version::Tls10,
        Version::Tls11,
        Version::Tls12,
        Version::Tls13,
    ];

    /// The two-byte code (`ProtocolVersion`; SSLv2's SERVER-HELLO says 0x0002).
    pub fn wire(self) -> u16 {
        match self {
            Version::Ssl2 => 0x0002,
            Version::Ssl3 => 0x0300,
            Version::Tls10 => 0x0301,
            Version::Tls11 => 0x0302,
            Version::Tls12 => 0x0303,
            Version::Tls13 => 0x0304,
        }
    }

    pub fn from_wire(v: u16) -> Option<Version> {
        Version::REPORTED.into_iter().find(|x| x.wire() == v)
    }

    /// The key used in the report (output contract of `tls.versions`).
    pub fn label(self) -> &'static str {
        match self {
            Version::Ssl2 => "SSLv2",
            Version::Ssl3 => "SSLv3",
            Version::Tls10 => "TLSv1.0",
            Version::Tls11 => "TLSv1.1",
            Version::Tls12 => "TLSv1.2",
            Version::Tls13 => "TLSv1.3",
        }
    }

    /// The version a report label names (`TLSv1.2`).
    pub fn from_label(label: &str) -> Option<Version> {
        Version::REPORTED.into_iter().find(|v| v.label() == label)
    }

    /// RFC 9325 (BCP 195) and RFC 8996: everything below TLS 1.2 must not be negotiated.
    pub fn deprecated(self) -> bool {
        self < Version::Tls12
    }
}

/// A label for any wire version, including ones sipcheck does not offer.
pub fn wire_label(v: u16) -> String {
    Version::from_wire(v)
        .map(|v| v.label().to_string())
        .unwrap_or_else(|| format!("0x{v:04x}"))
}
