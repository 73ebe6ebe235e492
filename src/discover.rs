//! From a target to concrete endpoints. IP literals need no DNS; a SIP domain is discovered per
//! RFC 3263 (NAPTR → SRV → A/AAAA, see [`rfc3263`]); an explicit port or `--no-discovery` means A/AAAA
//! only. Every endpoint carries the chain of records that led to it.

pub mod model;
pub mod rfc3263;
pub mod source;

pub use model::{Discovery, Mode};
pub use rfc3263::Bounds;
pub use source::Hickory;

use crate::error::Result;
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

/// How discovery should run; the defaults are what `sipcheck probe` does without flags.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `--dns-server`: the only DNS server asked; `None` means the system configuration.
    pub dns_server: Option<std::net::SocketAddr>,
    /// `--no-discovery`: treat the name as a single host (A/AAAA only).
    pub no_discovery: bool,
    pub bounds: Bounds,
}

/// Discovers the endpoints of a target on the given transports (RFC 3263 for a bare SIP domain).
/// Errors only when there is nothing to probe (NXDOMAIN, no usable record).
pub async fn discover(
    target: &Target,
    transports: &[Transport],
    tls_port: Option<Port>,
    settings: &Settings,
) -> Result<Discovery> {
    let only = transports.len() == 1;
    let name = match &target.host {
        Host::Ip(ip) => {
            let mut d = Discovery::new(Mode::Literal, &ip.to_string());
            for &t in transports {
                let mut e = Endpoint::new(t, *ip, port_for(target, t, only, tls_port));
                e.discovered_by.push("literal".to_string());
                d.endpoints.push(e);
            }
            return Ok(d);
        }
        Host::Name(n) => n.clone(),
    };
    let mode = if settings.no_discovery {
        Mode::NoDiscovery
    } else if target.port.is_some() {
        Mode::ExplicitPort
    } else {
        Mode::Rfc3263
    };
    let src = resolver(settings)?;
    let ports = |t| port_for(target, t, only, tls_port);
    rfc3263::walk(
        &src,
        target,
        &name,
        transports,
        mode,
        settings.bounds,
        ports,
    )
    .await
}

/// The resolver `settings` ask for (`--dns-server`, or the system's).
pub fn resolver(settings: &Settings) -> Result<Hickory> {
    // One silent or confused server must not eat the whole budget at once.
    let per_query = (settings.bounds.budget / 4).clamp(
        std::time::Duration::from_millis(200),
        std::time::Duration::from_millis(2500),
    );
    Hickory::new(settings.dns_server, per_query)
}

/// Endpoints for a target on the given transports, with default discovery settings (for tests).
#[cfg(feature = "internals")]
pub async fn endpoints(
    target: &Target,
    transports: &[Transport],
    tls_port: Option<Port>,
) -> Result<Vec<Endpoint>> {
    Ok(discover(target, transports, tls_port, &Settings::default())
        .await?
        .endpoints)
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
