//! Which addresses a URL a peer names may make sipcheck connect to. An x5u, CRL or `rcdi` URL comes
//! from whoever sent the INVITE; fetching it from a private or special-purpose address would let a
//! hostile caller reach the network sipcheck runs in (cloud metadata at 169.254.169.254, an admin
//! page at 10.0.0.1). So every address, after resolution and again before every connection and
//! every redirect, must be an ordinary public unicast address: none of the IANA special-purpose
//! registries (RFC 6890 and their later entries) for IPv4 and IPv6, and no multicast. A lab or a
//! test names the ranges it may use with `--fetch-allow CIDR[,CIDR]`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address block, `10.0.0.0/8` or `::1/128`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The block's first address (bits past `len` are ignored).
    pub addr: IpAddr,
    /// The prefix length: 0 to 32 for IPv4, 0 to 128 for IPv6.
    pub len: u8,
}

impl Cidr {
    /// `ADDR/LEN`, or a bare address (a /32 or /128).
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim_matches(['[', ']'])
            .parse()
            .map_err(|_| format!("{s:?} is not an address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            Some(l) => l
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| format!("{s:?}: prefix length must be 0 to {max}"))?,
            None => max,
        };
        Ok(Cidr { addr, len })
    }

    /// A comma-separated list (`--fetch-allow 127.0.0.0/8,::1`).
    pub fn parse_list(s: &str) -> Result<Vec<Cidr>, String> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Cidr::parse)
            .collect()
    }

    /// Whether `ip` lies in the block (an IPv4 block never holds an IPv6 address, nor the reverse).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), self.len),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), self.len),
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

fn prefix_eq(a: &[u8], b: &[u8], len: u8) -> bool {
    let full = (len / 8) as usize;
    let rest = len % 8;
    if a[..full] != b[..full] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[full] & mask == b[full] & mask
    }
}

/// IANA IPv4 Special-Purpose Address Registry (RFC 6890 §2.2.2 and later entries), plus multicast.
const V4: &[(&str, &str)] = &[
    ("0.0.0.0/8", "\"this network\" (RFC 791)"),
    ("10.0.0.0/8", "private-use (RFC 1918)"),
    ("100.64.0.0/10", "shared address space (RFC 6598)"),
    ("127.0.0.0/8", "loopback (RFC 1122)"),
    ("169.254.0.0/16", "link-local (RFC 3927)"),
    ("172.16.0.0/12", "private-use (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
    ("192.0.2.0/24", "documentation TEST-NET-1 (RFC 5737)"),
    ("192.31.196.0/24", "AS112-v4 (RFC 7535)"),
    ("192.52.193.0/24", "AMT (RFC 7450)"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast (RFC 7526)"),
    ("192.168.0.0/16", "private-use (RFC 1918)"),
    (
        "192.175.48.0/24",
        "direct delegation AS112 service (RFC 7534)",
    ),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("198.51.100.0/24", "documentation TEST-NET-2 (RFC 5737)"),
    ("203.0.113.0/24", "documentation TEST-NET-3 (RFC 5737)"),
    ("224.0.0.0/4", "multicast (RFC 5771)"),
    ("240.0.0.0/4", "reserved (RFC 1112)"),
    ("255.255.255.255/32", "limited broadcast (RFC 919)"),
];

/// IANA IPv6 Special-Purpose Address Registry (RFC 6890 §2.2.3 and later entries), plus multicast.
/// IPv4-mapped and IPv4-translated addresses are judged by the IPv4 address they carry.
const V6: &[(&str, &str)] = &[
    ("::/128", "unspecified address (RFC 4291)"),
    ("::1/128", "loopback (RFC 4291)"),
    (
        "64:ff9b:1::/48",
        "local-use IPv4/IPv6 translation (RFC 8215)",
    ),
    ("100::/64", "discard-only (RFC 6666)"),
    ("100:0:0:1::/64", "dummy IPv6 prefix (RFC 9780)"),
    ("2001::/23", "IETF protocol assignments (RFC 2928)"),
    ("2001:db8::/32", "documentation (RFC 3849)"),
    ("2002::/16", "6to4 (RFC 3056)"),
    ("3fff::/20", "documentation (RFC 9637)"),
    ("5f00::/16", "segment routing SIDs (RFC 9602)"),
    ("fc00::/7", "unique-local (RFC 4193)"),
    ("fe80::/10", "link-local unicast (RFC 4291)"),
    ("ff00::/8", "multicast (RFC 4291)"),
];

/// The special-purpose block `ip` lies in and what it is, or `None` for an ordinary public address.
pub fn special_purpose(ip: IpAddr) -> Option<(Cidr, &'static str)> {
    let ip = match ip {
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    let table = if ip.is_ipv4() { V4 } else { V6 };
    table.iter().find_map(|(block, what)| {
        let c = Cidr::parse(block).ok()?;
        c.contains(ip).then_some((c, *what))
    })
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`) or
/// well-known NAT64 (`64:ff9b::a.b.c.d`, RFC 6052) address.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        _ => None,
    }
}

/// `Ok` when sipcheck may connect to `ip`: public, or inside a block of `allow`.
pub fn permitted(ip: IpAddr, allow: &[Cidr]) -> Result<(), String> {
    if allow.iter().any(|c| c.contains(ip)) {
        return Ok(());
    }
    match special_purpose(ip) {
        None => Ok(()),
        Some((block, what)) => Err(format!(
            "{ip} is {what}, in {block}; refused without connecting (--fetch-allow names ranges a lab may use)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_private_and_special_purpose_v4_and_v6() {
        for a in [
            "10.0.0.1",
            "169.254.169.254",
            "127.0.0.1",
            "0.0.0.0",
            "100.64.1.1",
            "172.31.255.255",
            "192.168.1.1",
            "192.0.0.170",
            "198.19.0.1",
            "203.0.113.9",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "2001:db8::1",
            "64:ff9b:1::1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::10.0.0.1",
            "::127.0.0.1",
            "2002:a00:1::1",
            "3fff::1",
        ] {
            let e = permitted(ip(a), &[]).expect_err(a);
            assert!(e.contains("refused without connecting"), "{e}");
        }
        for a in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(permitted(ip(a), &[]).is_ok(), "{a}");
        }
    }

    #[test]
    fn allow_list_opens_only_its_blocks() {
        let allow = Cidr::parse_list("127.0.0.0/8, ::1").unwrap();
        assert!(permitted(ip("127.0.0.1"), &allow).is_ok());
        assert!(permitted(ip("127.9.9.9"), &allow).is_ok());
        assert!(permitted(ip("::1"), &allow).is_ok());
        assert!(permitted(ip("10.0.0.1"), &allow).is_err());
        assert!(permitted(ip("169.254.169.254"), &allow).is_err());
        let c = Cidr::parse("172.16.0.0/12").unwrap();
        assert!(c.contains(ip("172.20.1.1")) && !c.contains(ip("172.32.0.0")));
        for bad in ["10.0.0.0/33", "::/129", "nonsense", "10.0.0.0/x"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Cidr::parse("[::1]").unwrap().to_string(), "::1/128");
    }
}
