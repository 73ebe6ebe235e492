//! What discovery found, as data: the records seen, what was cut and why, and the endpoints.
//!
//! The `dns.*` findings are written from this, so it keeps every record that mattered, not only the
//! ones that became endpoints.

use serde::{Deserialize, Serialize};

use crate::target::Endpoint;

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

pub use crate::findings::dns::{AddressRecord, NaptrRecord, Outcome, QueryLog, SrvRecord};

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

    /// The queries made (or recorded as not made) for `name` and `kind`.
    pub fn asked<'a>(&'a self, name: &'a str, kind: &'a str) -> impl Iterator<Item = &'a QueryLog> {
        self.queries
            .iter()
            .filter(move |q| q.kind == kind && q.name == name)
    }

    /// The NAPTR and SRV lookups that failed (SERVFAIL, timeout, …), in words.
    pub fn failed_lookups(&self) -> Vec<String> {
        self.queries
            .iter()
            .filter(|q| (q.kind == "NAPTR" || q.kind == "SRV") && q.outcome.is_failure())
            .map(QueryLog::describe)
            .collect()
    }

    /// When NAPTR/SRV lookups failed and the endpoints came from the A/AAAA fallback: a sentence
    /// saying the servers probed may not be the ones the domain publishes (a failed lookup is not an
    /// absence, so the fallback is a guess).
    pub fn fallback_after_failure(&self) -> Option<String> {
        let failed = self.failed_lookups();
        let fell_back = self.mode == Mode::Rfc3263 && self.naptr.is_empty() && self.srv.is_empty();
        (fell_back && !failed.is_empty() && !self.endpoints.is_empty()).then(|| {
            format!(
                "NAPTR/SRV lookups failed ({}): discovery fell back to A/AAAA on the default ports, so the servers probed may not be the ones the domain publishes",
                failed.join("; ")
            )
        })
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
