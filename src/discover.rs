//! From a target to concrete endpoints. IP literals need no DNS; names are resolved to A/AAAA here
//! (RFC 3263 NAPTR/SRV discovery builds on this).

use std::net::IpAddr;

use crate::error::{Error, Result};
use crate::target::{Endpoint, Host, Port, Target, Transport};

/// Which port each transport uses for a target: the explicit port for UDP and TCP, and for TLS the
/// explicit port + 1 (the 5060/5061 and 5080/5081 convention) unless TLS is the only transport or a
/// `sips:` URI was given, or `tls_port` says otherwise.
pub fn port_for(
    target: &Target,
    t: Transport,
    only_transport: bool,
    tls_port: Option<Port>,
) -> Port {
    if t == Transport::Tls
        && let Some(p) = tls_port
    {
        return p;
    }
    match target.port {
        None => t.default_port(),
        Some(p) if t == Transport::Tls && !only_transport && !target.sips => {
            Port::new(p.get().saturating_add(1)).unwrap_or(p)
        }
        Some(p) => p,
    }
}

/// Endpoints for a target on the given transports, resolving a host name with the system resolver.
pub async fn endpoints(
    target: &Target,
    transports: &[Transport],
    tls_port: Option<Port>,
) -> Result<Vec<Endpoint>> {
    let addrs: Vec<IpAddr> = match &target.host {
        Host::Ip(ip) => vec![*ip],
        Host::Name(name) => {
            let found = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                tokio::net::lookup_host((name.as_str(), 0)),
            )
            .await
            .map_err(|_| Error::Resolve {
                name: name.clone(),
                reason: "resolver timed out".into(),
            })?
            .map_err(|e| Error::Resolve {
                name: name.clone(),
                reason: e.to_string(),
            })?;
            let mut v: Vec<IpAddr> = found.map(|a| a.ip()).collect();
            v.dedup();
            if v.is_empty() {
                return Err(Error::Resolve {
                    name: name.clone(),
                    reason: "no A or AAAA record".into(),
                });
            }
            v
        }
    };
    let only = transports.len() == 1;
    let mut out = Vec::new();
    for &t in transports {
        for &a in &addrs {
            let mut e = Endpoint::new(t, a, port_for(target, t, only, tls_port));
            e.discovered_by.push(match &target.host {
                Host::Ip(_) => "literal".to_string(),
                Host::Name(n) => format!("{n} A/AAAA {a}"),
            });
            out.push(e);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_follow_the_convention() {
        let t = Target::parse("127.0.0.1").unwrap();
        assert_eq!(port_for(&t, Transport::Udp, false, None), Port::SIP);
        assert_eq!(port_for(&t, Transport::Tls, false, None), Port::SIPS);
        let t = Target::parse("127.0.0.1:5080").unwrap();
        assert_eq!(port_for(&t, Transport::Tcp, false, None).get(), 5080);
        assert_eq!(port_for(&t, Transport::Tls, false, None).get(), 5081);
        assert_eq!(port_for(&t, Transport::Tls, true, None).get(), 5080);
        assert_eq!(
            port_for(&t, Transport::Tls, false, Port::new(6000)).get(),
            6000
        );
        let t = Target::parse("sips:127.0.0.1:7000").unwrap();
        assert_eq!(port_for(&t, Transport::Tls, false, None).get(), 7000);
    }
}
