//! `tls.sni`: which certificate a (possibly multi-tenant) server presents without SNI, with the SIP
//! domain, and with a name it cannot know, and whether each proves the SIP domain (RFC 5922 §7.1).
//! Many SIP user agents send no SNI: a server that shows the domain's certificate only to clients
//! that name it fails the others.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::IdentityMatch;
use super::verdict::{Kind, Verdict, flip};
use crate::findings::Status;

/// `tls.sni` details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SniDetails {
    pub domain: String,
    /// One per SNI sent: none, the SIP domain, an unknown name.
    pub cases: Vec<SniCase>,
    /// Every completed case got the same leaf certificate.
    pub same_certificate: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One handshake's SNI and the certificate it got.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SniCase {
    /// `no SNI`, `SIP domain`, `unknown name`.
    pub case: String,
    /// The server_name sent, if any.
    pub sni: Option<String>,
    /// `completed` or why the handshake failed (e.g. `alert:unrecognized_name`).
    pub handshake: String,
    pub leaf_subject: Option<String>,
    /// SHA-256 of the leaf certificate (DER), to compare the cases.
    pub leaf_sha256: Option<String>,
    /// RFC 5922 identity of the SIP domain in that leaf.
    pub identity: Option<IdentityMatch>,
}

/// The case names, in the order they are sent.
pub const NO_SNI: &str = "no SNI";
pub const DOMAIN: &str = "SIP domain";
pub const UNKNOWN: &str = "unknown name";

impl SniDetails {
    fn case(&self, name: &str) -> Option<&SniCase> {
        self.cases.iter().find(|c| c.case == name)
    }

    fn proves(&self, name: &str) -> Option<bool> {
        self.case(name)
            .and_then(|c| c.identity.as_ref())
            .map(|i| i.matched)
    }

    /// The domain's own certificate not proving it is a fail; a client that sends no SNI getting a
    /// certificate that does not prove the domain is a warn; the unknown name is a fact.
    pub fn judge(&self) -> Verdict {
        if let Some(e) = &self.error {
            return (Status::Error, e.clone());
        }
        let words = |c: &SniCase| match (&c.identity, &c.leaf_subject) {
            (Some(i), Some(s)) if i.matched => format!("{}: {s} (proves {})", c.case, i.domain),
            (Some(i), Some(s)) => format!("{}: {s} (does not prove {})", c.case, i.domain),
            _ => format!("{}: {}", c.case, c.handshake),
        };
        let all: Vec<String> = self.cases.iter().map(words).collect();
        if all.is_empty() || self.cases.iter().all(|c| c.leaf_sha256.is_none()) {
            return (
                Status::Error,
                format!("no certificate read: {}", all.join("; ")),
            );
        }
        let same = match self.same_certificate {
            Some(true) => "the same certificate in every case",
            Some(false) => "different certificates by SNI",
            None => "",
        };
        let summary = format!("{same}; {}", all.join("; "))
            .trim_start_matches("; ")
            .to_string();
        match (self.proves(DOMAIN), self.proves(NO_SNI)) {
            (Some(false), _) => (Status::Fail, summary),
            (_, Some(false)) => (
                Status::Warn,
                format!(
                    "clients without SNI get a certificate that does not prove {}; {summary}",
                    self.domain
                ),
            ),
            (Some(true), Some(true)) | (None, Some(true)) => (Status::Pass, summary),
            _ => (Status::Info, summary),
        }
    }

    pub fn changes(&self, new: &SniDetails) -> Vec<(Kind, String)> {
        [
            flip(
                self.proves(NO_SNI),
                new.proves(NO_SNI),
                false,
                "the certificate without SNI now proves the SIP domain",
                "the certificate without SNI no longer proves the SIP domain",
            ),
            flip(
                self.same_certificate,
                new.same_certificate,
                false,
                "now the same certificate whatever the SNI",
                "now a different certificate by SNI",
            )
            .map(|(_, w)| (Kind::New, w)),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    pub fn answer(&self, question: u8) -> Option<String> {
        (question == 14 && self.error.is_none()).then(|| {
            format!(
                "RFC 5922 identity with SNI {}, without SNI {}",
                super::verdict::yes_no(self.proves(DOMAIN)),
                super::verdict::yes_no(self.proves(NO_SNI))
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, proves: bool, leaf: &str) -> SniCase {
        SniCase {
            case: name.into(),
            handshake: "completed".into(),
            leaf_subject: Some(format!("CN={leaf}")),
            leaf_sha256: Some(leaf.into()),
            identity: Some(IdentityMatch {
                domain: "sip.example".into(),
                matched: proves,
                how: String::new(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_default_certificate_without_sni_warns() {
        let d = SniDetails {
            domain: "sip.example".into(),
            cases: vec![
                case(NO_SNI, false, "default"),
                case(DOMAIN, true, "tenant"),
                case(UNKNOWN, false, "default"),
            ],
            same_certificate: Some(false),
            error: None,
        };
        assert_eq!(d.judge().0, Status::Warn, "{:?}", d.judge());
        let good = SniDetails {
            cases: vec![case(NO_SNI, true, "a"), case(DOMAIN, true, "a")],
            same_certificate: Some(true),
            ..d.clone()
        };
        assert_eq!(good.judge().0, Status::Pass);
        assert_eq!(good.changes(&d)[0].0, Kind::Worse);
    }
}
