//! What carriers deliver instead of (or beside) an Identity header: the verification result of their
//! own verification service, as `verstat` (3GPP TS 24.229 §7.2A.20) on the P-Asserted-Identity or
//! From URI, or as a vendor header. sipcheck did not verify these; it reports them as the carrier's.

use serde::{Deserialize, Serialize};

use crate::sip::Message;

/// Vendor headers seen in carriers' public documentation.
pub const VENDOR_HEADERS: &[&str] = &[
    "P-Attestation-Indicator",
    "P-Origination-ID",
    "X-Twilio-VerStat",
    "X-Attestation-Info",
    "Attestation-Info",
    "X-Plivo-Stir-Verification",
];
const MAX_VALUE: usize = 200;

/// One indication, as the carrier wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarrierIndication {
    /// The header it was found in.
    pub header: String,
    /// `verstat` or the vendor header's name.
    pub name: String,
    pub value: String,
    /// A, B or C when the value states one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<String>,
    /// Whether the value says the carrier's verification passed, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
}

pub fn indications(msg: &Message) -> Vec<CarrierIndication> {
    let mut out = Vec::new();
    for header in ["P-Asserted-Identity", "From"] {
        for v in msg.headers_named(header).take(8) {
            if let Some(vs) = verstat(v) {
                let (attestation, passed) = classify(&vs);
                out.push(CarrierIndication {
                    header: header.to_string(),
                    name: "verstat".into(),
                    value: vs,
                    attestation,
                    passed,
                });
            }
        }
    }
    for name in VENDOR_HEADERS {
        for v in msg.headers_named(name).take(4) {
            let value = bounded(v.trim());
            let (attestation, passed) = classify(&value);
            out.push(CarrierIndication {
                header: name.to_string(),
                name: name.to_string(),
                value,
                attestation,
                passed,
            });
        }
    }
    out
}

fn bounded(s: &str) -> String {
    s.chars().take(MAX_VALUE).collect()
}

/// The `verstat` value in a name-addr: a URI parameter (`sip:+1…@h;verstat=…`) or a user-part
/// parameter (`sip:+1…;verstat=…@h`).
fn verstat(v: &str) -> Option<String> {
    let lower = v.to_ascii_lowercase();
    let at = lower.find("verstat=")? + "verstat=".len();
    let rest = &v[at..];
    let end = rest
        .find([';', '>', '@', ',', ' ', '"', '&'])
        .unwrap_or(rest.len());
    let val = bounded(&rest[..end]);
    (!val.is_empty()).then_some(val)
}

/// `TN-Validation-Passed-A` → (A, passed); `TN-Validation-Failed` → (none, failed); a bare `A`…
fn classify(v: &str) -> (Option<String>, Option<bool>) {
    let l = v.trim().to_ascii_lowercase();
    let letter = |s: &str| {
        s.rsplit(['-', ' ', '_', '='])
            .next()
            .filter(|x| matches!(*x, "a" | "b" | "c"))
            .map(|x| x.to_ascii_uppercase())
    };
    if l.contains("tn-validation-passed") {
        (letter(&l), Some(true))
    } else if l.contains("tn-validation-failed") {
        (letter(&l), Some(false))
    } else if l.contains("no-tn-validation") {
        (None, None)
    } else if matches!(l.as_str(), "a" | "b" | "c") {
        (Some(l.to_ascii_uppercase()), None)
    } else {
        (None, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Limits;

    #[test]
    fn finds_verstat_in_user_part_and_uri_and_vendor_headers() {
        let raw = b"INVITE sip:1@h SIP/2.0\r\nFrom: <sip:+12155550100@h;verstat=TN-Validation-Passed-A>;tag=1\r\nP-Asserted-Identity: <sip:+12155550100;verstat=No-TN-Validation@h;user=phone>\r\nX-Twilio-VerStat: TN-Validation-Failed-B\r\nP-Attestation-Indicator: c\r\nContent-Length: 0\r\n\r\n";
        let m = Message::parse(raw, &Limits::default()).unwrap();
        let ind = indications(&m);
        let got: Vec<(&str, &str, Option<&str>, Option<bool>)> = ind
            .iter()
            .map(|i| {
                (
                    i.header.as_str(),
                    i.value.as_str(),
                    i.attestation.as_deref(),
                    i.passed,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("P-Asserted-Identity", "No-TN-Validation", None, None),
                ("From", "TN-Validation-Passed-A", Some("A"), Some(true)),
                ("P-Attestation-Indicator", "c", Some("C"), None),
                (
                    "X-Twilio-VerStat",
                    "TN-Validation-Failed-B",
                    Some("B"),
                    Some(false)
                ),
            ]
        );
    }
}
