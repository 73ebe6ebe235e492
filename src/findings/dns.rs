//! Details of the `dns.*` findings, and the DNS records and query log discovery keeps: each finding
//! is judged only from the queries that were made, so the log says what was asked, of whom, and
//! what came back — or why it was not asked.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::target::Transport;

/// One NAPTR record of the SIP domain (or of a name a non-terminal NAPTR led to).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct NaptrRecord {
    pub owner: String,
    pub order: u16,
    pub preference: u16,
    pub flags: String,
    pub service: String,
    pub regexp: String,
    pub replacement: String,
    /// What sipcheck did with it (`followed to SRV`, `not probed: transport not selected`, …).
    pub used: String,
}

/// One SRV record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SrvRecord {
    /// `_sips._tcp.example.com`
    pub owner: String,
    pub transport: Transport,
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    /// Empty for the target "." (RFC 2782: the service is decidedly not available).
    pub target: String,
}

/// One A or AAAA answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AddressRecord {
    pub name: String,
    /// `A` or `AAAA`.
    pub kind: String,
    pub address: std::net::IpAddr,
}

/// What came back for one query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Records of the asked type.
    Answer,
    /// The name exists but has no record of this type.
    Nodata,
    /// The name does not exist.
    Nxdomain,
    /// The server answered with an error code (`rcode`: SERVFAIL, REFUSED, …) or the exchange failed.
    Failed,
    /// No answer before the deadline.
    Timeout,
    /// Not asked; `reason` says why.
    #[default]
    NotAsked,
}

impl Outcome {
    /// A lookup that says nothing about whether records exist.
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::Timeout)
    }

    /// An answer that says there are no records.
    pub fn is_absence(self) -> bool {
        matches!(self, Outcome::Nodata | Outcome::Nxdomain)
    }
}

/// One query as it happened (or did not), for the record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct QueryLog {
    pub name: String,
    pub kind: String,
    /// For an SRV query: the transport it looks for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    /// The DNS server asked (`127.0.0.1:5353`, `system`); empty when not asked.
    pub server: String,
    pub outcome: Outcome,
    /// The response code of a failed answer (`SERVFAIL`, `REFUSED`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcode: Option<String>,
    /// Why it failed, or why it was not asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub records: usize,
    /// How long the answer took.
    pub elapsed_ms: u64,
    /// The resolver set the AD bit: it validated the answer with DNSSEC.
    pub authenticated: bool,
}

impl QueryLog {
    /// `SRV _sips._tcp.example.com: SERVFAIL from 127.0.0.1:5353`, in words.
    pub fn describe(&self) -> String {
        let what = format!("{} {}", self.kind, self.name);
        let from = if self.server.is_empty() {
            String::new()
        } else {
            format!(" from {}", self.server)
        };
        match self.outcome {
            Outcome::Answer => format!("{what}: {} record(s){from}", self.records),
            Outcome::Nodata => format!("{what}: no records (NODATA{from})"),
            Outcome::Nxdomain => format!("{what}: the name does not exist (NXDOMAIN{from})"),
            Outcome::Failed => format!(
                "{what}: lookup failed{from} ({})",
                self.rcode
                    .clone()
                    .or_else(|| self.reason.clone())
                    .unwrap_or_default()
            ),
            Outcome::Timeout => format!("{what}: no answer{from} (timeout)"),
            Outcome::NotAsked => format!(
                "{what}: not asked ({})",
                self.reason.clone().unwrap_or_default()
            ),
        }
    }
}

/// What every `dns.*` finding carries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DnsCommon {
    /// The SIP domain.
    pub domain: String,
    pub dns_server: Option<String>,
    /// What the discovery bounds cut.
    pub cut: Vec<String>,
    pub notes: Vec<String>,
}

/// `dns.naptr`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct NaptrDetails {
    #[serde(flatten)]
    pub common: DnsCommon,
    pub records: Vec<NaptrRecord>,
    /// The NAPTR queries made (or not made, and why).
    pub queries: Vec<QueryLog>,
}

/// `dns.srv`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SrvDetails {
    #[serde(flatten)]
    pub common: DnsCommon,
    pub records: Vec<SrvRecord>,
    /// SRV names asked and found without records.
    pub absent: Vec<String>,
    /// Targets that did not resolve, with the reason.
    pub unresolved: Vec<String>,
    /// Per transport (`udp`, `tcp`, `tls`): `advertised`, `declared unavailable (target ".")`,
    /// `absent`, `lookup failed: …`, `not asked: …`.
    pub transports: BTreeMap<String, String>,
    /// The SRV queries made (or not made, and why).
    pub queries: Vec<QueryLog>,
}

/// An AAAA address of a SIP server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Aaaa {
    pub name: String,
    pub address: String,
}

/// `dns.aaaa`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AaaaDetails {
    #[serde(flatten)]
    pub common: DnsCommon,
    pub aaaa: Vec<Aaaa>,
    pub ipv6_endpoints: Vec<String>,
    pub ipv6_answered: Vec<String>,
    /// AAAA queries that failed (so an empty `aaaa` is not proof of absence).
    pub failed: Vec<String>,
}

/// `dns.dnssec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DnssecDetails {
    #[serde(flatten)]
    pub common: DnsCommon,
    pub queries: Vec<QueryLog>,
}
