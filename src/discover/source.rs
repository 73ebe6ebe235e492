//! Where DNS answers come from: a small trait so the RFC 3263 walk can be tested against a table, and
//! its implementation on `hickory-resolver`, pointed at `--dns-server` or the system configuration.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};

use crate::error::{Error, Result};
/// A boxed future: what a [`Source`] answers a query with.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The record types discovery asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Naptr,
    Srv,
    A,
    Aaaa,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Naptr => "NAPTR",
            Kind::Srv => "SRV",
            Kind::A => "A",
            Kind::Aaaa => "AAAA",
        }
    }
}

/// One record's data, reduced to what discovery uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rdata {
    Naptr {
        order: u16,
        preference: u16,
        flags: String,
        service: String,
        regexp: String,
        replacement: String,
    },
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Ip(IpAddr),
}

/// The result of one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Records of the asked type; `authenticated` is the AD bit of the response.
    Records {
        records: Vec<Rdata>,
        authenticated: bool,
    },
    /// The name exists but has no record of this type.
    NoData,
    /// The name does not exist.
    NxDomain,
    /// An error answer (`rcode`: SERVFAIL, REFUSED, …) or a failed exchange (`rcode` `None`).
    Failed {
        rcode: Option<String>,
        reason: String,
    },
    /// No answer before the deadline.
    Timeout,
}

/// A DNS source.
pub trait Source: Send + Sync {
    /// Looks up `name` (absolute, without the trailing dot) for one record type.
    fn query<'a>(&'a self, name: &'a str, kind: Kind) -> BoxFuture<'a, Answer>;
    /// How to name this source in the report (`127.0.0.1:5353`, `system`).
    fn describe(&self) -> String;
}

/// Names are compared and printed without the root dot and in lower case.
pub fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// `hickory-resolver` as a [`Source`].
pub struct Hickory {
    resolver: TokioResolver,
    server: String,
}

impl Hickory {
    /// A resolver asking only `server`, or the system's configured servers when `None`.
    ///
    /// A given server is asked over TCP (RFC 7766 makes TCP mandatory for DNS servers): a carrier's
    /// NAPTR/SRV set easily exceeds a UDP answer, and after a truncated UDP answer from dnsmasq 2.90,
    /// hickory 0.26 was measured to stall the next query for one full timeout. `/etc/hosts` is never consulted for a given server,
    /// so a test zone is answered by that server alone.
    pub fn new(server: Option<SocketAddr>, timeout: Duration) -> Result<Hickory> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = match server {
            Some(addr) => {
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let ns = NameServerConfig::new(addr.ip(), true, vec![tcp]);
                let cfg = ResolverConfig::from_parts(None, Vec::new(), vec![ns]);
                TokioResolver::builder_with_config(cfg, provider)
            }
            None => TokioResolver::builder(provider).map_err(|e| Error::Resolve {
                name: "system resolver".into(),
                reason: format!("cannot read the system DNS configuration: {e}"),
            })?,
        };
        let mut opts = ResolverOpts::default();
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.ndots = 0;
        opts.try_tcp_on_error = true;
        opts.use_hosts_file = if server.is_some() {
            ResolveHosts::Never
        } else {
            ResolveHosts::Auto
        };
        // A hostile zone must not grow memory: the cache holds a few hundred answers at most.
        opts.cache_size = 1024;
        builder = builder.with_options(opts);
        let resolver = builder.build().map_err(|e| Error::Resolve {
            name: "resolver".into(),
            reason: e.to_string(),
        })?;
        Ok(Hickory {
            resolver,
            server: server.map_or_else(|| "system".to_string(), |a| a.to_string()),
        })
    }
}

/// A failed lookup, with its response code when the server sent one.
fn failure(e: &NetError) -> Answer {
    match e {
        NetError::Timeout => Answer::Timeout,
        NetError::Dns(DnsError::ResponseCode(code)) => Answer::Failed {
            rcode: Some(rcode_name(*code)),
            reason: e.to_string(),
        },
        _ => Answer::Failed {
            rcode: None,
            reason: e.to_string(),
        },
    }
}

/// The RFC 1035 mnemonic (`SERVFAIL`), as dig and resolvers' logs print it.
fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("rcode {}", u16::from(other)),
    }
}

fn txt(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Source for Hickory {
    fn describe(&self) -> String {
        self.server.clone()
    }

    fn query<'a>(&'a self, name: &'a str, kind: Kind) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            let rtype = match kind {
                Kind::Naptr => RecordType::NAPTR,
                Kind::Srv => RecordType::SRV,
                Kind::A => RecordType::A,
                Kind::Aaaa => RecordType::AAAA,
            };
            let fqdn = format!("{}.", normalise(name));
            let lookup = match self.resolver.lookup(fqdn.as_str(), rtype).await {
                Ok(l) => l,
                Err(e) if e.is_nx_domain() => return Answer::NxDomain,
                Err(e) if e.is_no_records_found() => return Answer::NoData,
                Err(e) => return failure(&e),
            };
            let authenticated = lookup.message().metadata.authentic_data;
            let records: Vec<Rdata> = lookup
                .answers()
                .iter()
                .filter_map(|r| match (&r.data, kind) {
                    (RData::NAPTR(n), Kind::Naptr) => Some(Rdata::Naptr {
                        order: n.order,
                        preference: n.preference,
                        flags: txt(&n.flags),
                        service: txt(&n.services),
                        regexp: txt(&n.regexp),
                        replacement: normalise(&n.replacement.to_string()),
                    }),
                    (RData::SRV(s), Kind::Srv) => Some(Rdata::Srv {
                        priority: s.priority,
                        weight: s.weight,
                        port: s.port,
                        target: normalise(&s.target.to_string()),
                    }),
                    (RData::A(a), Kind::A) => Some(Rdata::Ip(IpAddr::V4(a.0))),
                    (RData::AAAA(a), Kind::Aaaa) => Some(Rdata::Ip(IpAddr::V6(a.0))),
                    _ => None,
                })
                .collect();
            if records.is_empty() {
                Answer::NoData
            } else {
                Answer::Records {
                    records,
                    authenticated,
                }
            }
        })
    }
}

/// Parses `--dns-server ADDR[:PORT]` (`127.0.0.1`, `127.0.0.1:5353`, `[::1]:53`, `::1`).
pub fn parse_server(s: &str) -> Result<SocketAddr> {
    let s = s.trim();
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    if let Some(ip) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']'))
        && let Ok(ip) = ip.parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, 53));
    }
    Err(Error::BadOption(format!(
        "--dns-server {s:?}: expected an IP address with an optional port (127.0.0.1:5353, [::1]:53)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_forms() {
        assert_eq!(parse_server("127.0.0.1").unwrap().port(), 53);
        assert_eq!(parse_server("127.0.0.1:5353").unwrap().port(), 5353);
        assert_eq!(parse_server("[::1]:54").unwrap().port(), 54);
        assert_eq!(parse_server("::1").unwrap().port(), 53);
        assert_eq!(parse_server("[::1]").unwrap().port(), 53);
        assert!(parse_server("dns.example.com").is_err());
        assert!(parse_server("127.0.0.1:99999").is_err());
    }
}
