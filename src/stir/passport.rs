//! The Identity header field (RFC 8224 §4) and the PASSporT it carries (RFC 8225, SHAKEN RFC 8588).
//!
//! Everything here is peer input: nothing panics, sizes are bounded, and a part that does not parse is
//! reported as such instead of guessed at.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::{Deserialize, Serialize};

/// Longest Identity header value considered (a SHAKEN one is ~600 bytes; a div chain a few of those).
pub const MAX_IDENTITY_LEN: usize = 8 * 1024;

const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// base64url without padding (RFC 7515 §2), as a PASSporT encodes its parts.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    B64URL.decode(s.as_bytes()).ok()
}

#[cfg(feature = "internals")]
pub fn b64url_encode(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// One Identity header value split into its token and parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdentityHeader {
    /// The signed-identity-digest: `header.payload.signature` (full form) or `..signature` (compact).
    pub token: String,
    /// `info=<URI>`, without the angle brackets.
    pub info: Option<String>,
    pub alg: Option<String>,
    pub ppt: Option<String>,
}

impl IdentityHeader {
    /// Splits `token;info=<https://…>;alg=ES256;ppt=shaken`. The info URI is taken up to its `>` so a
    /// `;` inside it does not end it.
    pub fn parse(value: &str) -> IdentityHeader {
        let value = &value[..floor_char_boundary(value, MAX_IDENTITY_LEN)];
        let (token, mut rest) = match value.find(';') {
            Some(i) => (value[..i].trim(), &value[i + 1..]),
            None => (value.trim(), ""),
        };
        let mut h = IdentityHeader {
            token: token.trim_matches('"').to_string(),
            ..Default::default()
        };
        while !rest.is_empty() {
            let (name, after) = rest.split_once('=').unwrap_or((rest, ""));
            let name = name.trim().to_ascii_lowercase();
            let after = after.trim_start();
            let (val, next) = if let Some(inner) = after.strip_prefix('<') {
                match inner.find('>') {
                    Some(end) => {
                        let tail = &inner[end + 1..];
                        (
                            inner[..end].to_string(),
                            tail.split_once(';').map(|x| x.1).unwrap_or(""),
                        )
                    }
                    None => (inner.to_string(), ""),
                }
            } else {
                match after.split_once(';') {
                    Some((v, n)) => (v.trim().trim_matches('"').to_string(), n),
                    None => (after.trim().trim_matches('"').to_string(), ""),
                }
            };
            match name.as_str() {
                "info" if h.info.is_none() => h.info = Some(val),
                "alg" if h.alg.is_none() => h.alg = Some(val),
                "ppt" if h.ppt.is_none() => h.ppt = Some(val),
                _ => {}
            }
            rest = next;
        }
        h
    }

    /// The three dot-separated parts, when there are exactly three.
    pub fn parts(&self) -> Option<[&str; 3]> {
        let mut it = self.token.split('.');
        let (Some(a), Some(b), Some(c), None) = (it.next(), it.next(), it.next(), it.next()) else {
            return None;
        };
        Some([a, b, c])
    }
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|i| s.is_char_boundary(*i))
        .unwrap_or(0)
}

/// The decoded PASSporT: its JOSE header and claims as JSON, and the signature bytes.
#[derive(Debug, Clone)]
pub struct Passport {
    pub header: serde_json::Value,
    pub claims: serde_json::Value,
    pub signature: Vec<u8>,
    /// `header.payload` exactly as received: the JWS signing input (RFC 7515 §5.2).
    pub signing_input: String,
}

/// Why the token is not a full-form PASSporT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    NotThreeParts,
    /// RFC 8224 §7.3 compact form: header and payload left out, to be rebuilt from the SIP message.
    Compact,
    NotBase64(&'static str),
    NotJsonObject(&'static str),
}

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormError::NotThreeParts => f.write_str("not three dot-separated base64url parts"),
            FormError::Compact => f.write_str(
                "compact form (header and payload omitted); SHAKEN requires the full form",
            ),
            FormError::NotBase64(p) => write!(f, "the {p} is not base64url"),
            FormError::NotJsonObject(p) => write!(f, "the {p} is not a JSON object"),
        }
    }
}

impl Passport {
    pub fn decode(h: &IdentityHeader) -> Result<Passport, FormError> {
        let [hdr, payload, sig] = h.parts().ok_or(FormError::NotThreeParts)?;
        if hdr.is_empty() && payload.is_empty() {
            return Err(FormError::Compact);
        }
        let json = |part: &str, what: &'static str| -> Result<serde_json::Value, FormError> {
            let bytes = b64url_decode(part).ok_or(FormError::NotBase64(what))?;
            match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(v @ serde_json::Value::Object(_)) => Ok(v),
                _ => Err(FormError::NotJsonObject(what)),
            }
        };
        let header = json(hdr, "JOSE header")?;
        let claims = json(payload, "payload")?;
        let signature = b64url_decode(sig).ok_or(FormError::NotBase64("signature"))?;
        Ok(Passport {
            header,
            claims,
            signature,
            signing_input: format!("{hdr}.{payload}"),
        })
    }

    pub fn header_str(&self, k: &str) -> Option<&str> {
        self.header.get(k).and_then(|v| v.as_str())
    }

    pub fn summary(&self) -> PassportSummary {
        let c = &self.claims;
        let tn = |v: &serde_json::Value| -> Option<String> {
            match v.get("tn")? {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Array(a) => a.first()?.as_str().map(str::to_string),
                _ => None,
            }
        };
        PassportSummary {
            alg: self.header_str("alg").map(str::to_string),
            ppt: self.header_str("ppt").map(str::to_string),
            x5u: self.header_str("x5u").map(str::to_string),
            attest: c.get("attest").and_then(|v| v.as_str()).map(str::to_string),
            orig_tn: c.get("orig").and_then(tn),
            dest_tn: c
                .get("dest")
                .and_then(|d| d.get("tn"))
                .and_then(|t| t.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            iat: c.get("iat").and_then(|v| v.as_i64()),
            origid: c.get("origid").and_then(|v| v.as_str()).map(str::to_string),
        }
    }
}

/// The PASSporT fields a report shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PassportSummary {
    pub alg: Option<String>,
    pub ppt: Option<String>,
    pub x5u: Option<String>,
    pub attest: Option<String>,
    pub orig_tn: Option<String>,
    pub dest_tn: Vec<String>,
    pub iat: Option<i64>,
    pub origid: Option<String>,
}

/// A telephone number reduced to its digits, the form PASSporT `tn` claims use (RFC 8224 §8.3):
/// visual separators dropped, a leading `+` dropped. `None` when anything else is left (a name, not a
/// number).
pub fn canonical_tn(s: &str) -> Option<String> {
    let s = s.trim().strip_prefix('+').unwrap_or(s.trim());
    let digits: String = s
        .chars()
        .filter(|c| !matches!(c, '-' | '.' | '(' | ')' | ' '))
        .collect();
    (!digits.is_empty() && digits.len() <= 32 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

/// The user part of the first `sip:`, `sips:` or `tel:` URI in a name-addr header value.
pub fn uri_user(header_value: &str) -> Option<String> {
    let v = header_value;
    let uri = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if b > a => &v[a + 1..b],
        _ => v.split(';').next().unwrap_or(v).trim(),
    };
    let lower = uri.to_ascii_lowercase();
    let rest = if lower.starts_with("tel:") {
        let r = &uri[4..];
        return Some(r.split(';').next().unwrap_or(r).to_string());
    } else if lower.starts_with("sips:") {
        &uri[5..]
    } else if lower.starts_with("sip:") {
        &uri[4..]
    } else {
        return None;
    };
    let user = rest.split('@').next().filter(|_| rest.contains('@'))?;
    Some(user.split(';').next().unwrap_or(user).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_identity_parameters_with_semicolon_inside_info() {
        let h =
            IdentityHeader::parse("a.b.c;info=<https://x.test/c.pem;v=1>;alg=ES256;ppt=\"shaken\"");
        assert_eq!(h.token, "a.b.c");
        assert_eq!(h.info.as_deref(), Some("https://x.test/c.pem;v=1"));
        assert_eq!(h.alg.as_deref(), Some("ES256"));
        assert_eq!(h.ppt.as_deref(), Some("shaken"));
        let bare = IdentityHeader::parse("only");
        assert_eq!((bare.token.as_str(), bare.info), ("only", None));
    }

    #[test]
    fn refuses_compact_and_garbage() {
        let compact = IdentityHeader::parse("..c2ln;info=<https://x>");
        assert_eq!(Passport::decode(&compact).unwrap_err(), FormError::Compact);
        for g in ["", "a.b", "a.b.c.d", "!!.??.%%", "\u{e9}.x.y"] {
            assert!(Passport::decode(&IdentityHeader::parse(g)).is_err(), "{g}");
        }
        let arr = format!("{}.{}.AA", b64url_encode(b"[1]"), b64url_encode(b"{}"));
        assert_eq!(
            Passport::decode(&IdentityHeader::parse(&arr)).unwrap_err(),
            FormError::NotJsonObject("JOSE header")
        );
    }

    #[test]
    fn numbers_and_uri_users() {
        assert_eq!(
            canonical_tn("+1 (215) 555-0100").as_deref(),
            Some("12155550100")
        );
        assert_eq!(canonical_tn("alice"), None);
        assert_eq!(
            uri_user(
                "\"A\" <sip:+12155550100;verstat=TN-Validation-Passed@t.test;user=phone>;tag=1"
            )
            .as_deref(),
            Some("+12155550100")
        );
        assert_eq!(
            uri_user("<tel:+1-215-555-0100;x=y>").as_deref(),
            Some("+1-215-555-0100")
        );
        assert_eq!(uri_user("sip:host.only"), None);
        assert_eq!(uri_user("garbage"), None);
    }
}
