//! Rich Call Data: the `rcd` claim (RFC 9795: `nam`, `jcd`, `jcl`, `icn`, `apn`), its `rcdi`
//! integrity digests over referenced content, the call reason `crn`, and Call-Info RCD (RFC 9796:
//! `purpose=jcard` / `purpose=icon`, `call-reason`). Whether the name the far end displays (the From
//! display-name) is the name that was signed answers "can a caller show a name it does not own".

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::sip::Message;

/// Referenced documents fetched per PASSporT for `rcdi` at most.
pub const MAX_RCDI_FETCHES: usize = 4;

/// What a PASSporT's `rcd` says, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RcdSummary {
    /// The signed display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nam: Option<String>,
    /// The jCard URL (`jcl`), when referenced rather than inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jcl: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icn: Option<String>,
    /// An inline jCard (`jcd`) is present.
    #[serde(default)]
    pub jcd: bool,
    /// The signed call reason (`crn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crn: Option<String>,
    /// The JSON pointers `rcdi` protects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rcdi: Vec<String>,
}

/// RCD sent as Call-Info (RFC 9796), unsigned unless a PASSporT's `rcdi` covers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallInfoRcd {
    pub uri: String,
    /// `jcard` or `icon`.
    pub purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_reason: Option<String>,
}

fn text(v: Option<&serde_json::Value>) -> Option<String> {
    v.and_then(|v| v.as_str())
        .map(|s| s.chars().take(256).collect())
}

pub fn summary(claims: &serde_json::Value) -> Option<RcdSummary> {
    let rcd = claims.get("rcd")?;
    Some(RcdSummary {
        nam: text(rcd.get("nam")),
        jcl: text(rcd.get("jcl")),
        icn: text(rcd.get("icn")),
        jcd: rcd.get("jcd").is_some(),
        crn: text(claims.get("crn")),
        rcdi: claims
            .get("rcdi")
            .and_then(|r| r.as_object())
            .map(|o| o.keys().take(16).cloned().collect())
            .unwrap_or_default(),
    })
}

/// RFC 9795 §5-§6: `rcd` is an object; `nam` a string; `jcd` an object or array and `jcl` a URL,
/// never both; `icn`, `jcl` HTTPS URLs; `rcdi`, when present, an object of JSON pointer → digest.
pub fn shape(claims: &serde_json::Value, required: bool) -> Result<String, String> {
    let Some(rcd) = claims.get("rcd") else {
        return if required {
            Err("ppt=rcd without an rcd claim".into())
        } else {
            Ok("no rcd claim".into())
        };
    };
    let Some(o) = rcd.as_object() else {
        return Err("rcd is not a JSON object".into());
    };
    let mut bad = Vec::new();
    if o.get("nam").is_some_and(|n| !n.is_string()) {
        bad.push("nam is not a string".to_string());
    }
    if o.contains_key("jcd") && o.contains_key("jcl") {
        bad.push("both jcd and jcl".into());
    }
    if o.get("jcd")
        .is_some_and(|j| !j.is_array() && !j.is_object())
    {
        bad.push("jcd is not a jCard".into());
    }
    for k in ["jcl", "icn"] {
        if let Some(v) = o.get(k) {
            match v.as_str() {
                Some(u) if u.to_ascii_lowercase().starts_with("https://") => {}
                _ => bad.push(format!("{k} is not an https URL")),
            }
        }
    }
    if let Some(r) = claims.get("rcdi")
        && !r.as_object().is_some_and(|m| {
            m.keys().all(|k| k.starts_with('/')) && m.values().all(|v| v.is_string())
        })
    {
        bad.push("rcdi is not an object of JSON pointer -> digest string".into());
    }
    if bad.is_empty() {
        Ok(format!(
            "rcd with {}",
            o.keys().take(8).cloned().collect::<Vec<_>>().join(", ")
        ))
    } else {
        Err(bad.join(", "))
    }
}

/// The `rcdi` entries that point at a URL inside `rcd`: (pointer, URL, digest as written).
pub fn referenced(claims: &serde_json::Value) -> Vec<(String, String, String)> {
    let (Some(rcd), Some(rcdi)) = (
        claims.get("rcd"),
        claims.get("rcdi").and_then(|r| r.as_object()),
    ) else {
        return Vec::new();
    };
    rcdi.iter()
        .filter_map(|(ptr, digest)| {
            let url = rcd.pointer(ptr)?.as_str()?;
            let digest = digest.as_str()?;
            url.to_ascii_lowercase()
                .starts_with("https://")
                .then(|| (ptr.clone(), url.to_string(), digest.to_string()))
        })
        .take(MAX_RCDI_FETCHES)
        .collect()
}

/// Whether `body` has the SRI-style digest `sha256-<base64>` (also sha384, sha512) RFC 9795 §7 uses.
pub fn digest_matches(digest: &str, body: &[u8]) -> Result<(), String> {
    let (alg, want) = digest
        .split_once('-')
        .ok_or_else(|| format!("digest {digest:?} is not alg-base64"))?;
    let algorithm = match alg {
        "sha256" => &ring::digest::SHA256,
        "sha384" => &ring::digest::SHA384,
        "sha512" => &ring::digest::SHA512,
        a => return Err(format!("unknown digest algorithm {a:?}")),
    };
    let got = ring::digest::digest(algorithm, body);
    let b64 = base64::engine::general_purpose::STANDARD.encode(got.as_ref());
    let url_b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(got.as_ref());
    if want == b64 || want.trim_end_matches('=') == url_b64 {
        Ok(())
    } else {
        Err(format!("{alg} of the content is {b64}, rcdi says {want}"))
    }
}

/// The display-name of a name-addr (`"Acme Corp" <sip:…>` → `Acme Corp`), as the far end shows it.
pub fn display_name(header_value: &str) -> Option<String> {
    let before = header_value.split('<').next()?;
    if !header_value.contains('<') {
        return None;
    }
    let name = before.trim().trim_matches('"').trim();
    (!name.is_empty()).then(|| name.chars().take(128).collect())
}

/// The name the far end displays: the P-Asserted-Identity display-name, else From's.
pub fn displayed_name(msg: &Message) -> Option<String> {
    msg.header("P-Asserted-Identity")
        .and_then(display_name)
        .or_else(|| msg.header("From").and_then(display_name))
}

/// RFC 9795 §6.1.1: the signed `nam` is the name to display; a different one in From is unsigned.
pub fn name_matches(nam: Option<&str>, displayed: Option<&str>) -> Result<String, String> {
    match (nam, displayed) {
        (None, _) => Ok("no nam signed".into()),
        (Some(n), None) => Ok(format!(
            "nam {n:?} signed; the request shows no display-name"
        )),
        (Some(n), Some(d)) if n.trim() == d.trim() => {
            Ok(format!("the displayed name {d:?} is the signed nam"))
        }
        (Some(n), Some(d)) => Err(format!(
            "the far end displays {d:?} but the signed nam is {n:?}"
        )),
    }
}

/// RFC 9796 with RFC 9795: a Call-Info jCard the far end may render is the one the PASSporT signed
/// (`jcl`), else it is unsigned.
pub fn call_info_matches(
    signed: Option<&RcdSummary>,
    info: &[CallInfoRcd],
) -> Result<String, String> {
    let cards: Vec<&str> = info
        .iter()
        .filter(|c| c.purpose == "jcard")
        .map(|c| c.uri.as_str())
        .collect();
    match (signed.and_then(|s| s.jcl.as_deref()), cards.as_slice()) {
        (_, []) => Ok("no Call-Info jCard".into()),
        (Some(jcl), cards) if cards.iter().all(|c| *c == jcl) => {
            Ok("the Call-Info jCard is the signed jcl".into())
        }
        (Some(jcl), cards) => Err(format!(
            "Call-Info jCard {} is not the signed jcl {jcl}",
            cards.join(", ")
        )),
        (None, cards) => Err(format!(
            "Call-Info jCard {} with no signed jcl (unsigned RCD)",
            cards.join(", ")
        )),
    }
}

/// Call-Info header fields carrying RCD (RFC 9796 §4: `purpose=jcard` or `purpose=icon`); at most
/// 8 entries of each of the first 8 fields.
pub fn call_info(msg: &Message) -> Vec<CallInfoRcd> {
    msg.headers_named("Call-Info")
        .take(8)
        .flat_map(|v| {
            v.split(',')
                .take(8)
                .map(str::trim)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter_map(|v| {
            let purpose = crate::sip::parse::param(&v, "purpose")?.to_ascii_lowercase();
            if !matches!(purpose.as_str(), "jcard" | "icon") {
                return None;
            }
            let uri = v
                .split('<')
                .nth(1)?
                .split('>')
                .next()?
                .chars()
                .take(512)
                .collect();
            Some(CallInfoRcd {
                uri,
                purpose,
                call_reason: crate::sip::parse::param(&v, "call-reason"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shape_and_pointers() {
        let c = json!({"rcd": {"nam": "Acme", "jcl": "https://x.test/j.json"},
            "rcdi": {"/jcl": "sha256-AAAA"}});
        assert!(shape(&c, true).is_ok());
        assert_eq!(
            referenced(&c),
            [(
                "/jcl".into(),
                "https://x.test/j.json".into(),
                "sha256-AAAA".into()
            )]
        );
        let both = json!({"rcd": {"jcd": [], "jcl": "https://x"}});
        assert!(shape(&both, true).unwrap_err().contains("both"));
        assert!(shape(&json!({}), true).is_err());
        assert!(shape(&json!({}), false).is_ok());
        assert!(shape(&json!({"rcd": {"icn": "http://x"}}), true).is_err());
    }

    #[test]
    fn digests_and_names() {
        let body = b"{\"a\":1}";
        let d = ring::digest::digest(&ring::digest::SHA256, body);
        let good = format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD.encode(d.as_ref())
        );
        assert!(digest_matches(&good, body).is_ok());
        assert!(digest_matches(&good, b"{\"a\":2}").is_err());
        assert!(digest_matches("md5-xx", body).is_err());
        assert_eq!(
            display_name("\"Acme Bank\" <sip:+1@h>;tag=1").as_deref(),
            Some("Acme Bank")
        );
        assert_eq!(display_name("<sip:+1@h>"), None);
        assert!(name_matches(Some("Acme"), Some("Acme")).is_ok());
        assert!(name_matches(Some("Acme"), Some("Your Bank")).is_err());
        let signed = RcdSummary {
            jcl: Some("https://x.test/j.json".into()),
            ..RcdSummary::default()
        };
        let card = |u: &str| CallInfoRcd {
            uri: u.into(),
            purpose: "jcard".into(),
            call_reason: None,
        };
        assert!(call_info_matches(Some(&signed), &[card("https://x.test/j.json")]).is_ok());
        assert!(call_info_matches(Some(&signed), &[card("https://evil.test/j")]).is_err());
        assert!(call_info_matches(None, &[card("https://x.test/j.json")]).is_err());
        assert!(call_info_matches(None, &[]).is_ok());
    }
}
