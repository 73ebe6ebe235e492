//! What the user asked to probe: `host`, `host:port`, `[v6]:port`, `sip:`/`sips:` URIs.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A TCP/UDP port number; never zero.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct Port(u16);

impl Port {
    /// The RFC 3261 default port for `sip:` over UDP and TCP.
    pub const SIP: Port = Port(5060);
    /// The RFC 3261 default port for SIP over TLS (`sips:`).
    pub const SIPS: Port = Port(5061);

    /// A port, or `None` for zero.
    pub fn new(port: u16) -> Option<Port> {
        (port != 0).then_some(Port(port))
    }

    /// The port number.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A SIP transport.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// SIP over UDP.
    Udp,
    /// SIP over TCP.
    Tcp,
    /// SIP over TLS (SIPS).
    Tls,
}

impl Transport {
    /// Every transport, in probing order.
    pub const ALL: [Transport; 3] = [Transport::Udp, Transport::Tcp, Transport::Tls];

    /// The token used in `Via` headers (`SIP/2.0/UDP`).
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// Whether messages on this transport are framed by `Content-Length` on a byte stream.
    pub fn is_stream(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// The RFC 3261 default port: 5060, or 5061 for TLS.
    pub fn default_port(self) -> Port {
        match self {
            Transport::Tls => Port::SIPS,
            _ => Port::SIP,
        }
    }

    /// The lower-case name (`udp`, `tcp`, `tls`).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Transport {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "udp" => Ok(Transport::Udp),
            "tcp" => Ok(Transport::Tcp),
            "tls" => Ok(Transport::Tls),
            other => Err(Error::BadOption(format!(
                "unknown transport {other:?} (expected udp, tcp or tls)"
            ))),
        }
    }
}

/// The host part of a target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Host {
    /// An IP literal.
    Ip(IpAddr),
    /// A name to resolve (RFC 3263 discovery, or A/AAAA only).
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(a)) => write!(f, "[{a}]"),
            Host::Ip(a) => write!(f, "{a}"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

/// A parsed probe target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// What the user typed.
    pub input: String,
    /// The host part: an IP literal or a name.
    pub host: Host,
    /// An explicit port, if one was given.
    pub port: Option<Port>,
    /// `true` for a `sips:` URI: TLS only.
    pub sips: bool,
    /// A `;transport=` URI parameter, if any.
    pub transport_param: Option<Transport>,
    /// The user part of a `sip:user@host` URI (it may carry `;` parameters, `+15551234;npdi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl Target {
    /// Parses `host`, `host:port`, `1.2.3.4`, `[::1]:5062`, `sip:host;transport=tcp`, `sips:user@host:5061`.
    pub fn parse(input: &str) -> Result<Target> {
        let bad = |reason: &str| Error::BadTarget {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(bad("empty"));
        }
        if s.len() > 1024 {
            return Err(bad("longer than 1024 characters"));
        }
        let lower = s.to_ascii_lowercase();
        let (sips, rest) = if lower.starts_with("sips:") {
            (true, &s[5..])
        } else if lower.starts_with("sip:") {
            (false, &s[4..])
        } else if s.contains("://") {
            return Err(bad("only sip: and sips: URIs are understood"));
        } else {
            (false, s)
        };
        let is_uri = rest.len() != s.len();
        // RFC 3261 §25.1: `@` appears only between userinfo and host (parameters and headers must
        // escape it), while the user part may contain `;` and `?` (user-unreserved), as in
        // `sip:+15551234;npdi@host`. So the user part is split off first, then the parameters at the
        // first `;` and the headers at the first `?` after the host.
        let mut user_part = None;
        let after_user = match rest.split_once('@') {
            Some((user, after)) => {
                if !is_uri {
                    return Err(bad("a user part is only allowed in a sip: URI"));
                }
                if user.is_empty() || after.contains('@') {
                    return Err(bad("malformed user part"));
                }
                user_part = Some(user.to_string());
                after
            }
            None => rest,
        };
        let without_headers = after_user.split('?').next().unwrap_or_default();
        let (hostport, params) = match without_headers.split_once(';') {
            Some((a, b)) => (a, Some(b)),
            None => (without_headers, None),
        };
        let mut transport_param = None;
        if let Some(params) = params {
            for p in params.split(';') {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                if k.eq_ignore_ascii_case("transport") {
                    transport_param = Some(v.parse().map_err(|_| bad("unknown ;transport="))?);
                } else if k.eq_ignore_ascii_case("maddr") {
                    // RFC 3261 §19.1.1: maddr overrides the address derived from the host, which
                    // would silently send the scan somewhere other than the target named. Refused
                    // rather than ignored.
                    return Err(bad(&format!(
                        "maddr={v} is not supported: it would override the host (RFC 3261 §19.1.1); give {v} as the target instead"
                    )));
                }
            }
        }
        let (host, port) = split_host_port(hostport).map_err(|r| bad(&r))?;
        Ok(Target {
            input: s.to_string(),
            host,
            port,
            sips,
            transport_param,
            user: user_part,
        })
    }

    /// The transports to probe when the user did not narrow them.
    pub fn default_transports(&self) -> Vec<Transport> {
        if self.sips {
            return vec![Transport::Tls];
        }
        if let Some(t) = self.transport_param {
            return vec![t];
        }
        Transport::ALL.to_vec()
    }

    /// The name for the SIP domain (RFC 5922 identity) when none is given: the host itself.
    pub fn domain(&self) -> String {
        match &self.host {
            Host::Name(n) => n.clone(),
            Host::Ip(ip) => ip.to_string(),
        }
    }
}

fn split_host_port(s: &str) -> std::result::Result<(Host, Option<Port>), String> {
    if s.is_empty() {
        return Err("no host".into());
    }
    let (host_str, port_str) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed '[' in IPv6 literal".to_string())?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| format!("unexpected {p:?} after IPv6 literal"))?,
            ),
        };
        let ip: std::net::Ipv6Addr = h
            .parse()
            .map_err(|_| format!("{h:?} is not an IPv6 address"))?;
        return Ok((Host::Ip(IpAddr::V6(ip)), parse_port(port)?));
    } else if s.matches(':').count() > 1 {
        // A bare IPv6 literal without brackets: no port possible.
        let ip: std::net::Ipv6Addr = s
            .parse()
            .map_err(|_| format!("{s:?} is not an IPv6 address (use [addr]:port)"))?;
        return Ok((Host::Ip(IpAddr::V6(ip)), None));
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = parse_port(port_str)?;
    if let Ok(ip) = host_str.parse::<IpAddr>() {
        return Ok((Host::Ip(ip), port));
    }
    validate_hostname(host_str)?;
    Ok((
        Host::Name(host_str.trim_end_matches('.').to_ascii_lowercase()),
        port,
    ))
}

fn parse_port(p: Option<&str>) -> std::result::Result<Option<Port>, String> {
    match p {
        None => Ok(None),
        Some(p) => {
            let n: u16 = p
                .parse()
                .map_err(|_| format!("{p:?} is not a port number"))?;
            Port::new(n)
                .map(Some)
                .ok_or_else(|| "port 0 is not a port".to_string())
        }
    }
}

fn validate_hostname(h: &str) -> std::result::Result<(), String> {
    let h = h.trim_end_matches('.');
    if h.is_empty() || h.len() > 253 {
        return Err("host name empty or longer than 253 characters".into());
    }
    for label in h.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!("{label:?} is not a valid host name label"));
        }
    }
    if h.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!("{h:?} is not a valid IPv4 address"));
    }
    Ok(())
}

/// One concrete place to send SIP to: a transport, an address and a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Endpoint {
    /// The transport.
    pub transport: Transport,
    /// The address.
    pub address: IpAddr,
    /// The port.
    pub port: Port,
    /// How this endpoint was found (e.g. `"literal"`, or the DNS chain).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discovered_by: Vec<String>,
}

impl Endpoint {
    /// An endpoint with no discovery chain.
    pub fn new(transport: Transport, address: IpAddr, port: Port) -> Endpoint {
        Endpoint {
            transport,
            address,
            port,
            discovered_by: Vec::new(),
        }
    }

    /// The address and port as a socket address.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port.get())
    }

    /// A short stable label such as `tls:[::1]:5061`, used to tag findings.
    pub fn label(&self) -> String {
        format!("{}:{}", self.transport, self.socket_addr())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        let t = Target::parse("trunk.example.com").unwrap();
        assert_eq!(t.host, Host::Name("trunk.example.com".into()));
        assert_eq!(t.port, None);
        assert_eq!(t.default_transports(), Transport::ALL.to_vec());

        let t = Target::parse("127.0.0.1:5070").unwrap();
        assert_eq!(t.host, Host::Ip("127.0.0.1".parse().unwrap()));
        assert_eq!(t.port, Port::new(5070));

        let t = Target::parse("[::1]:5062").unwrap();
        assert_eq!(t.host, Host::Ip("::1".parse().unwrap()));
        assert_eq!(t.port, Port::new(5062));

        let t = Target::parse("::1").unwrap();
        assert_eq!(t.host, Host::Ip("::1".parse().unwrap()));

        let t = Target::parse("sips:alice@Example.COM:5061;transport=tcp").unwrap();
        assert!(t.sips);
        assert_eq!(t.host, Host::Name("example.com".into()));
        assert_eq!(t.default_transports(), vec![Transport::Tls]);

        // Issue 11 class 10: URI headers, a user part with `;`, and maddr refused with the reason.
        let t = Target::parse("sip:host.example;transport=tcp?Subject=x").unwrap();
        assert_eq!(t.transport_param, Some(Transport::Tcp));
        assert_eq!(t.host, Host::Name("host.example".into()));
        let t = Target::parse("sip:+15551234;npdi@host.example").unwrap();
        assert_eq!(t.host, Host::Name("host.example".into()));
        assert_eq!(t.user.as_deref(), Some("+15551234;npdi"));
        assert_eq!(t.transport_param, None);
        let t =
            Target::parse("sip:+15551234;npdi;rn=+1555@host.example:5070;transport=udp").unwrap();
        assert_eq!(t.port.map(|p| p.get()), Some(5070));
        assert_eq!(t.transport_param, Some(Transport::Udp));
        let e = Target::parse("sip:host.example;maddr=127.0.0.9")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("maddr=127.0.0.9 is not supported") && e.contains("§19.1.1"),
            "{e}"
        );
        assert!(Target::parse("sip:a@b@host.example").is_err());
        let t = Target::parse("sip:example.com;transport=udp").unwrap();
        assert_eq!(t.default_transports(), vec![Transport::Udp]);
    }

    #[test]
    fn rejects_bad_targets() {
        for bad in [
            "",
            "sip:@@bad",
            "sip:",
            "http://x",
            "host:0",
            "host:99999",
            "host:abc",
            "[::1",
            "[zz]:5",
            "a..b",
            "-a.com",
            "1.2.3.999",
            "bad host",
            "user@host",
            "sip:a@b@c",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn endpoint_label_brackets_v6() {
        let e = Endpoint::new(Transport::Tls, "::1".parse().unwrap(), Port::SIPS);
        assert_eq!(e.label(), "tls:[::1]:5061");
    }
}
