//! ClientHello encoding (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2), by hand so that every version, suite,
//! group and extension can be offered, including the ones no modern library will send.

use super::groups;
use super::version::Version;

/// Signature algorithms offered: modern first, then the legacy SHA-1 ones old servers need.
pub const SIG_ALGS_ALL: &[u16] = &[
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B, 0x0401,
    0x0501, 0x0601, 0x0303, 0x0203, 0x0301, 0x0201, 0x0402, 0x0502, 0x0602, 0x0302, 0x0202,
];

/// encrypt_then_mac, RFC 7366.
pub const EXT_ENCRYPT_THEN_MAC: u16 = 0x0016;
/// extended_master_secret, RFC 7627.
pub const EXT_EXTENDED_MASTER_SECRET: u16 = 0x0017;
/// SessionTicket, RFC 5077.
pub const EXT_SESSION_TICKET: u16 = 0x0023;
/// heartbeat, RFC 6520.
pub const EXT_HEARTBEAT: u16 = 0x000F;
/// renegotiation_info, RFC 5746.
pub const EXT_RENEGOTIATION_INFO: u16 = 0xFF01;

/// TLS_FALLBACK_SCSV (RFC 7507).
pub const FALLBACK_SCSV: u16 = 0x5600;

/// What one ClientHello offers.
#[derive(Debug, Clone)]
pub struct Hello {
    /// Highest version offered. TLS 1.3 is offered through `supported_versions` only.
    pub version: Version,
    pub suites: Vec<u16>,
    /// SNI host name (never an IP literal, RFC 6066 §3).
    pub sni: Option<String>,
    pub groups: Vec<u16>,
    /// Groups to send a key share for (TLS 1.3); without one the server answers a HelloRetryRequest.
    pub key_shares: Vec<u16>,
    pub sig_algs: Vec<u16>,
    pub fallback_scsv: bool,
    /// Also offer DEFLATE compression (CRIME, RFC 9325 §3.3).
    pub offer_compression: bool,
    /// Offer the heartbeat extension (RFC 6520), for the Heartbleed check only.
    pub heartbeat: bool,
    /// A renegotiation's renegotiation_info: the previous client Finished verify_data (RFC 5746 §3.5);
    /// the SCSV is then left out.
    pub renegotiation_info: Option<Vec<u8>>,
}

impl Hello {
    /// A hello offering `suites` at `version` with every group and signature algorithm.
    pub fn new(version: Version, suites: Vec<u16>, sni: Option<String>) -> Hello {
        let tls13 = version == Version::Tls13;
        Hello {
            version,
            suites,
            sni,
            groups: if tls13 {
                groups::tls13_groups()
            } else {
                groups::all()
            },
            key_shares: if tls13 {
                vec![groups::X25519]
            } else {
                Vec::new()
            },
            sig_algs: SIG_ALGS_ALL.to_vec(),
            fallback_scsv: false,
            offer_compression: !tls13,
            heartbeat: false,
            renegotiation_info: None,
        }
    }

    /// The record bytes to send.
    pub fn encode(&self) -> Vec<u8> {
        let tls13 = self.version == Version::Tls13;
        let legacy = if tls13 { 0x0303 } else { self.version.wire() };
        let mut body = Vec::with_capacity(1024);
        put16(&mut body, legacy);
        let random: [u8; 32] = rand::random();
        body.extend_from_slice(&random);
        if tls13 {
            // A legacy session id makes middleboxes treat TLS 1.3 like a resumption (RFC 8446 §D.4).
            body.push(32);
            body.extend_from_slice(&rand::random::<[u8; 32]>());
        } else {
            body.push(0);
        }
        let mut suites = self.suites.clone();
        if self.fallback_scsv {
            suites.push(FALLBACK_SCSV);
        }
        if !tls13 && self.renegotiation_info.is_none() {
            // Signals secure renegotiation support in SSLv3 too, where extensions may be ignored.
            suites.push(0x00FF);
        }
        put16(&mut body, (suites.len() * 2) as u16);
        for s in suites {
            put16(&mut body, s);
        }
        if self.offer_compression {
            body.extend_from_slice(&[2, 1, 0]);
        } else {
            body.extend_from_slice(&[1, 0]);
        }
        let exts = self.extensions(tls13);
        if self.version != Version::Ssl3 {
            put16(&mut body, exts.len() as u16);
            body.extend_from_slice(&exts);
        }
        let mut hs = Vec::with_capacity(body.len() + 4);
        hs.push(1);
        put24(&mut hs, body.len());
        hs.extend_from_slice(&body);
        let mut rec = Vec::with_capacity(hs.len() + 5);
        rec.push(22);
        put16(
            &mut rec,
            if self.version == Version::Ssl3 {
                0x0300
            } else {
                0x0301
            },
        );
        put16(&mut rec, hs.len() as u16);
        rec.extend_from_slice(&hs);
        rec
    }

    fn extensions(&self, tls13: bool) -> Vec<u8> {
        let mut e = Vec::with_capacity(512);
        if let Some(host) = &self.sni {
            let h = host.as_bytes();
            let mut d = Vec::new();
            put16(&mut d, (h.len() + 3) as u16);
            d.push(0);
            put16(&mut d, h.len() as u16);
            d.extend_from_slice(h);
            ext(&mut e, 0x0000, &d);
        }
        // status_request (OCSP), RFC 6066 §8.
        ext(&mut e, 0x0005, &[1, 0, 0, 0, 0]);
        let mut g = Vec::new();
        put16(&mut g, (self.groups.len() * 2) as u16);
        for c in &self.groups {
            put16(&mut g, *c);
        }
        ext(&mut e, 0x000A, &g);
        ext(&mut e, 0x000B, &[1, 0]);
        let mut s = Vec::new();
        put16(&mut s, (self.sig_algs.len() * 2) as u16);
        for a in &self.sig_algs {
            put16(&mut s, *a);
        }
        ext(&mut e, 0x000D, &s);
        ext(&mut e, EXT_EXTENDED_MASTER_SECRET, &[]);
        if tls13 {
            ext(&mut e, 0x002B, &[2, 0x03, 0x04]);
            ext(&mut e, 0x002D, &[1, 1]);
            let mut ks = Vec::new();
            for g in &self.key_shares {
                let share = key_share(*g);
                put16(&mut ks, *g);
                put16(&mut ks, share.len() as u16);
                ks.extend_from_slice(&share);
            }
            let mut d = Vec::new();
            put16(&mut d, ks.len() as u16);
            d.extend_from_slice(&ks);
            ext(&mut e, 0x0033, &d);
        } else {
            let info = self.renegotiation_info.clone().unwrap_or_default();
            let mut d = vec![info.len() as u8];
            d.extend_from_slice(&info);
            ext(&mut e, EXT_RENEGOTIATION_INFO, &d);
            // encrypt_then_mac (RFC 7366) and an empty session_ticket (RFC 5077): the ServerHello's
            // echo tells whether the server does either, at no extra hello.
            ext(&mut e, EXT_ENCRYPT_THEN_MAC, &[]);
            ext(&mut e, EXT_SESSION_TICKET, &[]);
        }
        if self.heartbeat {
            // peer_allowed_to_send (RFC 6520 §2).
            ext(&mut e, EXT_HEARTBEAT, &[1]);
        }
        e
    }
}

/// A public key share for a group. The scan never completes a handshake, so any well-formed value
/// the server accepts will do: 32 random bytes are a valid X25519 key.
fn key_share(group: u16) -> Vec<u8> {
    match group {
        groups::X25519 => rand::random::<[u8; 32]>().to_vec(),
        _ => Vec::new(),
    }
}

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn put24(b: &mut Vec<u8>, v: usize) {
    b.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
}

fn ext(b: &mut Vec<u8>, kind: u16, data: &[u8]) {
    put16(b, kind);
    put16(b, data.len() as u16);
    b.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_consistent_lengths() {
        let h = Hello::new(
            Version::Tls12,
            crate::tls::suites::candidates(Version::Tls12),
            Some("sip.example.test".into()),
        );
        let b = h.encode();
        assert_eq!(b[0], 22);
        let rec_len = u16::from_be_bytes([b[3], b[4]]) as usize;
        assert_eq!(rec_len + 5, b.len());
        let hs_len = ((b[6] as usize) << 16) | ((b[7] as usize) << 8) | b[8] as usize;
        assert_eq!(hs_len + 4, rec_len);
        assert_eq!(&b[9..11], &[3, 3]);
        assert!(b.len() < 16384);
        let h13 = Hello::new(Version::Tls13, vec![0x1301], None).encode();
        assert_eq!(&h13[9..11], &[3, 3]);
    }
}
