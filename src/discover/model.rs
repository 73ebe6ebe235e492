//! What discovery found, as data: the records seen, what was cut and why, and the endpoints.
//!
//! The `dns.*` findings are written from this, so it keeps every record that mattered, not only the
//! ones that became endpoints.

use serde::{Deserialize, Serialize};

use crate::target::{Endpoint, Transport};

/// How the endpoints were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// An IP literal: no DNS at all.
    Literal,
    /// `--no-discovery`: the name as a single host (A/AAAA only).
    NoDiscovery,
    /// An explicit port: RFC 3263 §4.2 says A/AAAA only.
    ExplicitPort,
    /// The full RFC 3263 chain (NAPTR → SRV → A/AAAA).
    Rfc3263,
}

/// One NAPTR record of the SIP domain (or of a name a non-terminal NAPTR led to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NaptrRecord {
    pub owner: String,
    pub order: u16,
    pub preference: u16,
    pub flags: String,
    pub service: String,
    pub regexp: String,
    pub replacement: String,
    /// What sipcheck did with it (`followed`, `not selected`, `unsupported transport`, …).
    pub used: String,
}

/// One SRV record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SrvRecord {
    /// `_sips._tcp.example.com`
    pub owner: String,
    pub transport: Transport,
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

/// One A or AAAA answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressRecord {
    pub name: String,
    /// `A` or `AAAA`.
    pub kind: String,
    pub address: std::net::IpAddr,
}

/// One query as it happened, for the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryLog {
    pub name: String,
    pub kind: String,
    /// `answer`, `nodata`, `nxdomain`, `error: …`, `skipped: …`
    pub outcome: String,
    pub records: usize,
    /// How long the answer took.
    pub elapsed_ms: u64,
    /// The resolver set the AD bit: it validated the answer with DNSSEC.
    pub authenticated: bool,
}

/// Everything discovery learnt about a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discovery {
    pub mode: Mode,
    /// The SIP domain (the name the user gave); TLS identity is checked against it, not SRV targets.
    pub domain: String,
    /// The DNS server asked (`127.0.0.1:5353`, or `system`), when DNS was used.
    pub server: Option<String>,
    pub naptr: Vec<NaptrRecord>,
    pub srv: Vec<SrvRecord>,
    /// SRV names queried and found empty (e.g. `_sips._tcp.example.com`).
    pub srv_absent: Vec<String>,
    pub addresses: Vec<AddressRecord>,
    /// Host names (SRV or NAPTR targets) that resolved to nothing, with the reason.
    pub unresolved: Vec<String>,
    /// What the bounds cut (record caps, loops, the time budget), in plain words.
    pub cut: Vec<String>,
    /// Other remarks (fallbacks taken, unsupported services advertised).
    pub notes: Vec<String>,
    pub queries: Vec<QueryLog>,
    pub endpoints: Vec<Endpoint>,
}

impl Discovery {
    pub fn new(mode: Mode, domain: &str) -> Discovery {
        Discovery {
            mode,
            domain: domain.to_string(),
            server: None,
            naptr: Vec::new(),
            srv: Vec::new(),
            srv_absent: Vec::new(),
            addresses: Vec::new(),
            unresolved: Vec::new(),
            cut: Vec::new(),
            notes: Vec::new(),
            queries: Vec::new(),
            endpoints: Vec::new(),
        }
    }

    /// Whether every answer that carried records was DNSSEC-validated by the resolver
    /// (`None` when no answer carried records).
    pub fn authenticated(&self) -> Option<bool> {
        let answered: Vec<&QueryLog> = self.queries.iter().filter(|q| q.records > 0).collect();
        if answered.is_empty() {
            None
        } else {
            Some(answered.iter().all(|q| q.authenticated))
        }
    }
}
