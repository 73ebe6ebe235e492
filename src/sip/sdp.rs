//! SDP (RFC 8866) as far as a media-security probe needs it: building audio offers (plain RTP, SDES
//! per RFC 4568, DTLS-SRTP per RFC 5763/5764) and reading what an answer accepted.
//!
//! Parsing is tolerant and bounded: unknown lines are kept as attributes or ignored, nothing panics.

use std::net::{IpAddr, SocketAddr};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// An SDES crypto suite (RFC 4568 §6.2, RFC 6188, RFC 7714).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Suite {
    #[serde(rename = "AES_CM_128_HMAC_SHA1_80")]
    AesCm128HmacSha1_80,
    #[serde(rename = "AES_CM_128_HMAC_SHA1_32")]
    AesCm128HmacSha1_32,
    #[serde(rename = "AES_256_CM_HMAC_SHA1_80")]
    Aes256CmHmacSha1_80,
    #[serde(rename = "AEAD_AES_128_GCM")]
    AeadAes128Gcm,
    #[serde(rename = "AEAD_AES_256_GCM")]
    AeadAes256Gcm,
}

impl Suite {
    /// What sipcheck offers, in the offerer's preference order (RFC 4568 §5.1.1). The mandatory suite
    /// comes first, as phones offer it, so the answer shows what an ordinary call would get; an answer
    /// choosing a later line shows the trunk's own preference.
    pub const OFFERED: [Suite; 5] = [
        Suite::AesCm128HmacSha1_80,
        Suite::AesCm128HmacSha1_32,
        Suite::Aes256CmHmacSha1_80,
        Suite::AeadAes128Gcm,
        Suite::AeadAes256Gcm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Suite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Suite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Suite::Aes256CmHmacSha1_80 => "AES_256_CM_HMAC_SHA1_80",
            Suite::AeadAes128Gcm => "AEAD_AES_128_GCM",
            Suite::AeadAes256Gcm => "AEAD_AES_256_GCM",
        }
    }

    pub fn from_name(s: &str) -> Option<Suite> {
        Suite::OFFERED
            .into_iter()
            .find(|x| x.name().eq_ignore_ascii_case(s.trim()))
    }

    /// Master key and master salt lengths in bytes.
    pub fn key_salt_len(self) -> (usize, usize) {
        match self {
            Suite::AesCm128HmacSha1_80 | Suite::AesCm128HmacSha1_32 => (16, 14),
            Suite::Aes256CmHmacSha1_80 => (32, 14),
            Suite::AeadAes128Gcm => (16, 12),
            Suite::AeadAes256Gcm => (32, 12),
        }
    }
}

/// Fresh random key material for a suite: key ‖ salt.
pub fn random_key(suite: Suite) -> Vec<u8> {
    use rand::RngCore;
    let (k, s) = suite.key_salt_len();
    let mut v = vec![0u8; k + s];
    rand::rng().fill_bytes(&mut v);
    v
}

/// One `a=crypto` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crypto {
    pub tag: u32,
    /// The suite as written (possibly one we do not know).
    pub suite_name: String,
    pub suite: Option<Suite>,
    /// The decoded `inline:` key ‖ salt, if it decoded.
    pub key: Option<Vec<u8>>,
    /// Lifetime / MKI / session parameters after the key, as written (never the key itself).
    pub key_extras: Vec<String>,
    pub session_params: Vec<String>,
}

impl Crypto {
    /// Parses the value after `a=crypto:`.
    pub fn parse(v: &str) -> Option<Crypto> {
        let mut it = v.split_whitespace();
        let tag = it.next()?.parse().ok()?;
        let suite_name = it.next()?.to_string();
        let key_params = it.next()?;
        let session_params = it.map(str::to_string).collect();
        let inline = key_params
            .split(';')
            .next()
            .and_then(|k| k.strip_prefix("inline:"));
        let (key, key_extras) = match inline {
            Some(k) => {
                let mut parts = k.split('|');
                let key = parts.next().and_then(|b| B64.decode(b.trim()).ok());
                (key, parts.map(str::to_string).collect())
            }
            None => (None, Vec::new()),
        };
        Some(Crypto {
            tag,
            suite: Suite::from_name(&suite_name),
            suite_name,
            key,
            key_extras,
            session_params,
        })
    }

    /// `(key, salt)` when the key decoded to the suite's lengths.
    pub fn key_salt(&self) -> Option<(&[u8], &[u8])> {
        let (k, s) = self.suite?.key_salt_len();
        let key = self.key.as_deref()?;
        (key.len() == k + s).then(|| key.split_at(k))
    }

    /// The line without the key, for evidence and details.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {} inline:<key>", self.tag, self.suite_name);
        for e in &self.key_extras {
            s.push('|');
            s.push_str(e);
        }
        for p in &self.session_params {
            s.push(' ');
            s.push_str(p);
        }
        s
    }
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Media {
    pub kind: String,
    pub port: u16,
    pub proto: String,
    pub formats: Vec<String>,
    /// The section's own `c=` address, if any.
    pub connection: Option<IpAddr>,
    /// `(name, value)` of each `a=` line.
    pub attributes: Vec<(String, Option<String>)>,
}

impl Media {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }

    pub fn attrs<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.attributes
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }

    pub fn cryptos(&self) -> Vec<Crypto> {
        self.attrs("crypto").filter_map(Crypto::parse).collect()
    }

    pub fn rtcp_mux(&self) -> bool {
        self.attr("rtcp-mux").is_some()
    }

    /// The `a=rtcp:` port (RFC 3605), if given.
    pub fn rtcp_port(&self) -> Option<u16> {
        self.attr("rtcp")?.split_whitespace().next()?.parse().ok()
    }

    /// `(hash function, fingerprint)` of `a=fingerprint`.
    pub fn fingerprint(&self) -> Option<(String, String)> {
        let v = self.attr("fingerprint")?;
        let (h, f) = v.trim().split_once(' ')?;
        Some((h.to_ascii_lowercase(), f.trim().to_string()))
    }

    pub fn setup(&self) -> Option<String> {
        self.attr("setup").map(|s| s.trim().to_ascii_lowercase())
    }

    /// Whether the profile is a secure one (`RTP/SAVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVP[F]`).
    #[cfg(feature = "internals")]
    pub fn secure_profile(&self) -> bool {
        self.proto.to_ascii_uppercase().contains("SAVP")
    }
}

/// A session description.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sdp {
    pub connection: Option<IpAddr>,
    pub media: Vec<Media>,
    /// Session-level attributes (a fingerprint may sit here, RFC 8122 §5).
    pub attributes: Vec<(String, Option<String>)>,
}

/// At most this many `m=` sections are read, so a hostile answer cannot grow memory.
const MAX_MEDIA: usize = 16;
const MAX_ATTRS: usize = 256;

fn conn_addr(v: &str) -> Option<IpAddr> {
    let mut it = v.split_whitespace();
    let (_net, _fam, addr) = (it.next()?, it.next()?, it.next()?);
    addr.split('/').next()?.parse().ok()
}

impl Sdp {
    pub fn parse(text: &str) -> Sdp {
        let mut sdp = Sdp::default();
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            let Some((t, v)) = line.split_once('=') else {
                continue;
            };
            match t {
                "c" => {
                    let a = conn_addr(v);
                    match sdp.media.last_mut() {
                        Some(m) => m.connection = a,
                        None => sdp.connection = a,
                    }
                }
                "m" if sdp.media.len() < MAX_MEDIA => {
                    let mut it = v.split_whitespace();
                    let kind = it.next().unwrap_or_default().to_string();
                    let port = it
                        .next()
                        .and_then(|p| p.split('/').next())
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(0);
                    let proto = it.next().unwrap_or_default().to_string();
                    sdp.media.push(Media {
                        kind,
                        port,
                        proto,
                        formats: it.map(str::to_string).collect(),
                        ..Media::default()
                    });
                }
                "a" => {
                    let (n, val) = match v.split_once(':') {
                        Some((n, val)) => (n.to_string(), Some(val.to_string())),
                        None => (v.to_string(), None),
                    };
                    let list = match sdp.media.last_mut() {
                        Some(m) => &mut m.attributes,
                        None => &mut sdp.attributes,
                    };
                    if list.len() < MAX_ATTRS {
                        list.push((n, val));
                    }
                }
                _ => {}
            }
        }
        sdp
    }

    /// The first audio section.
    pub fn audio(&self) -> Option<&Media> {
        self.media
            .iter()
            .find(|m| m.kind.eq_ignore_ascii_case("audio"))
    }

    /// Where the answerer wants RTP for `m`: its `c=` (or the session's) and its port.
    pub fn rtp_target(&self, m: &Media) -> Option<SocketAddr> {
        let ip = m.connection.or(self.connection)?;
        (m.port != 0).then_some(SocketAddr::new(ip, m.port))
    }

    /// Where the answerer wants RTCP: the RTP port with rtcp-mux, `a=rtcp`, else port + 1.
    pub fn rtcp_target(&self, m: &Media, mux: bool) -> Option<SocketAddr> {
        let rtp = self.rtp_target(m)?;
        let port = if mux {
            rtp.port()
        } else {
            m.rtcp_port().unwrap_or(rtp.port().checked_add(1)?)
        };
        Some(SocketAddr::new(rtp.ip(), port))
    }

    /// The `a=setup` role in the section or at session level (RFC 4145 §4 allows both), lower case.
    pub fn setup(&self, m: &Media) -> Option<String> {
        m.setup().or_else(|| {
            self.attributes
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("setup"))?
                .1
                .as_deref()
                .map(|s| s.trim().to_ascii_lowercase())
        })
    }

    /// A fingerprint in the section or at session level.
    pub fn fingerprint(&self, m: &Media) -> Option<(String, String)> {
        m.fingerprint().or_else(|| {
            let v = self
                .attributes
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("fingerprint"))?
                .1
                .as_deref()?;
            let (h, f) = v.trim().split_once(' ')?;
            Some((h.to_ascii_lowercase(), f.trim().to_string()))
        })
    }
}

/// What kind of offer to build.
#[derive(Debug, Clone)]
pub enum OfferKind {
    /// `RTP/AVP`, no encryption.
    Plain,
    /// `RTP/SAVP` with one `a=crypto` line per `(suite, key‖salt)`.
    Sdes(Vec<(Suite, Vec<u8>)>),
    /// `UDP/TLS/RTP/SAVP` with a sha-256 fingerprint (colon-separated upper-case hex) and `setup:actpass`.
    Dtls { fingerprint: String },
}

/// An audio offer (PCMU, PCMA, telephone-event) for RTP at `rtp` and RTCP at `rtcp` (rtcp-mux offered
/// too; `rtcp` is announced with `a=rtcp` so the answerer need not guess port + 1).
pub fn offer(kind: &OfferKind, rtp: SocketAddr, rtcp: SocketAddr, session_id: u64) -> String {
    let (fam, ip) = match rtp.ip() {
        IpAddr::V4(a) => ("IP4", a.to_string()),
        IpAddr::V6(a) => ("IP6", a.to_string()),
    };
    let proto = match kind {
        OfferKind::Plain => "RTP/AVP",
        OfferKind::Sdes(_) => "RTP/SAVP",
        OfferKind::Dtls { .. } => "UDP/TLS/RTP/SAVP",
    };
    let mut s = format!(
        "v=0\r\no=sipcheck {session_id} 1 IN {fam} {ip}\r\ns=sipcheck media probe\r\nc=IN {fam} {ip}\r\nt=0 0\r\n\
         m=audio {} {proto} 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n\
         a=rtcp:{} IN {fam} {}\r\na=rtcp-mux\r\n",
        rtp.port(),
        rtcp.port(),
        rtcp.ip()
    );
    match kind {
        OfferKind::Plain => {}
        OfferKind::Sdes(suites) => {
            for (i, (suite, key)) in suites.iter().enumerate() {
                s.push_str(&format!(
                    "a=crypto:{} {} inline:{}\r\n",
                    i + 1,
                    suite.name(),
                    B64.encode(key)
                ));
            }
        }
        OfferKind::Dtls { fingerprint } => {
            s.push_str(&format!(
                "a=fingerprint:sha-256 {fingerprint}\r\na=setup:actpass\r\n"
            ));
        }
    }
    s
}

/// The SDP with every `inline:` key replaced by `<key>`, for evidence: a report must not carry media keys.
pub fn redact_keys(sdp: &str) -> String {
    let mut out = String::with_capacity(sdp.len());
    let mut rest = sdp;
    while let Some(i) = rest.find("inline:") {
        out.push_str(&rest[..i + "inline:".len()]);
        out.push_str("<key>");
        let after = &rest[i + "inline:".len()..];
        let end = after
            .find(|c: char| c == '|' || c.is_whitespace())
            .unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BARESIP_ANSWER: &str = "v=0\r\no=- 607839508 1648858487 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\na=tool:baresip 1.0.0\r\nm=audio 21070 RTP/SAVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\na=ssrc:3556714650 cname:sip:bob@127.0.0.1\r\na=ptime:20\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:GjeNAGlV6Fg/RY6KFeIrMZPGCG3ohesoBjxdlG39\r\n";

    #[test]
    fn reads_a_baresip_sdes_answer() {
        let sdp = Sdp::parse(BARESIP_ANSWER);
        let m = sdp.audio().unwrap();
        assert_eq!(m.proto, "RTP/SAVP");
        assert!(m.secure_profile());
        assert_eq!(sdp.rtp_target(m), Some("127.0.0.1:21070".parse().unwrap()));
        assert_eq!(
            sdp.rtcp_target(m, false),
            Some("127.0.0.1:21071".parse().unwrap())
        );
        let c = &m.cryptos()[0];
        assert_eq!(c.suite, Some(Suite::AesCm128HmacSha1_80));
        let (k, s) = c.key_salt().unwrap();
        assert_eq!((k.len(), s.len()), (16, 14));
        assert_eq!(c.describe(), "1 AES_CM_128_HMAC_SHA1_80 inline:<key>");
    }

    #[test]
    fn builds_offers_that_parse_back() {
        let rtp: SocketAddr = "127.0.0.1:30000".parse().unwrap();
        let rtcp: SocketAddr = "127.0.0.1:30001".parse().unwrap();
        let suites: Vec<_> = Suite::OFFERED
            .iter()
            .map(|s| (*s, random_key(*s)))
            .collect();
        let text = offer(&OfferKind::Sdes(suites.clone()), rtp, rtcp, 7);
        let sdp = Sdp::parse(&text);
        let m = sdp.audio().unwrap();
        assert_eq!(m.proto, "RTP/SAVP");
        let cs = m.cryptos();
        assert_eq!(cs.len(), 5);
        for (c, (s, k)) in cs.iter().zip(&suites) {
            assert_eq!(c.suite, Some(*s));
            assert_eq!(c.key.as_ref(), Some(k));
            assert!(c.key_salt().is_some());
        }
        assert_eq!(m.rtcp_port(), Some(30001));
        assert!(m.rtcp_mux());
        let red = redact_keys(&text);
        assert!(!red.contains(&B64.encode(&suites[0].1)));
        assert_eq!(red.matches("inline:<key>").count(), 5);

        let d = Sdp::parse(&offer(
            &OfferKind::Dtls {
                fingerprint: "AB:CD".into(),
            },
            rtp,
            rtcp,
            7,
        ));
        let m = d.audio().unwrap();
        assert_eq!(m.proto, "UDP/TLS/RTP/SAVP");
        assert_eq!(d.fingerprint(m), Some(("sha-256".into(), "AB:CD".into())));
        assert_eq!(m.setup().as_deref(), Some("actpass"));
        let p = Sdp::parse(&offer(&OfferKind::Plain, rtp, rtcp, 7));
        assert!(!p.audio().unwrap().secure_profile());
    }

    #[test]
    fn hostile_sdp_does_not_panic() {
        for t in [
            "",
            "m=",
            "m=audio",
            "m=audio x y",
            "c=IN IP4",
            "a=crypto:",
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:!!!",
            "a=crypto:x",
            "a=fingerprint:sha-256",
            "\u{0}=\u{0}",
        ] {
            let s = Sdp::parse(t);
            if let Some(m) = s.media.first() {
                let _ = (m.cryptos(), m.fingerprint(), s.rtp_target(m));
            }
        }
        let many = "m=audio 1 RTP/AVP 0\r\n".repeat(1000);
        assert_eq!(Sdp::parse(&many).media.len(), MAX_MEDIA);
    }
}
