//! A pcap writer fed by the transport tap. Link, IP, UDP and TCP headers are synthesised around what
//! sipcheck really sent and received (the kernel's packets are not visible without privileges):
//! - UDP: one packet per datagram;
//! - TCP and TLS: a synthetic three-way handshake when the connection opens, then one segment per chunk
//!   with consistent sequence numbers (so Wireshark reassembles SIP and TLS), and our FIN on close;
//! - TLS: the raw TLS records, so `--keylog` can decrypt them; plaintext SIP (UDP/TCP) has credentials
//!   redacted (`evidence::redact`) before it is written. Redaction can change a message's length, which
//!   the synthesised sequence numbers follow.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::evidence;
use crate::target::Transport;
use crate::transport::capture::{CaptureSink, Direction};

const LINKTYPE_ETHERNET: u32 = 1;
const SNAPLEN: u32 = 262_144;
/// Largest TCP payload per synthesised segment, well under the IPv4 total-length limit.
const MAX_SEGMENT: usize = 16_000;
const MAC_LOCAL: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const MAC_REMOTE: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

type Flow = (SocketAddr, SocketAddr);

struct State {
    out: BufWriter<File>,
    /// Next sequence number of each side of open TCP flows: (ours, theirs).
    tcp: HashMap<Flow, (u32, u32)>,
    ip_id: u16,
    packets: u64,
    error: Option<std::io::Error>,
}

/// Writes a pcap file; share it as a [`CaptureSink`] via `TlsSettings::capture`.
pub struct PcapWriter {
    path: String,
    state: Mutex<State>,
}

impl PcapWriter {
    /// Creates the file and writes the pcap global header.
    pub fn create(path: &str) -> Result<PcapWriter> {
        let f = File::create(path).map_err(|e| Error::io(format!("cannot create {path}"), e))?;
        let mut out = BufWriter::new(f);
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&SNAPLEN.to_le_bytes());
        h.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&h)
            .map_err(|e| Error::io(format!("cannot write {path}"), e))?;
        Ok(PcapWriter {
            path: path.to_string(),
            state: Mutex::new(State {
                out,
                tcp: HashMap::new(),
                ip_id: 1,
                packets: 0,
                error: None,
            }),
        })
    }

    /// Flushes the file; returns how many packets were written, or the first write error.
    pub fn finish(&self) -> Result<u64> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = st.error.take() {
            return Err(Error::io(format!("cannot write {}", self.path), e));
        }
        st.out
            .flush()
            .map_err(|e| Error::io(format!("cannot write {}", self.path), e))?;
        Ok(st.packets)
    }
}

fn checksum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for c in chunks {
        for &b in *c {
            match odd.take() {
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Both addresses in one family (a v4 local with a v6 peer is shown as v4-mapped).
fn addrs(src: IpAddr, dst: IpAddr) -> (IpAddr, IpAddr) {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V6(d)) => (IpAddr::V6(s.to_ipv6_mapped()), IpAddr::V6(d)),
        (IpAddr::V6(s), IpAddr::V4(d)) => (
            IpAddr::V4(s.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED)),
            IpAddr::V4(d),
        ),
        _ => (src, dst),
    }
}

impl State {
    fn packet(&mut self, src: SocketAddr, dst: SocketAddr, outbound: bool, proto: u8, l4: &[u8]) {
        let (s, d) = addrs(src.ip(), dst.ip());
        let mut frame = Vec::with_capacity(14 + 40 + l4.len());
        let (dmac, smac) = if outbound {
            (MAC_REMOTE, MAC_LOCAL)
        } else {
            (MAC_LOCAL, MAC_REMOTE)
        };
        frame.extend_from_slice(&dmac);
        frame.extend_from_slice(&smac);
        match (s, d) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                frame.extend_from_slice(&0x0800u16.to_be_bytes());
                let mut ip = Vec::with_capacity(20);
                ip.push(0x45);
                ip.push(0);
                ip.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
                ip.extend_from_slice(&self.ip_id.to_be_bytes());
                self.ip_id = self.ip_id.wrapping_add(1);
                ip.extend_from_slice(&0x4000u16.to_be_bytes());
                ip.push(64);
                ip.push(proto);
                ip.extend_from_slice(&[0, 0]);
                ip.extend_from_slice(&s.octets());
                ip.extend_from_slice(&d.octets());
                let c = checksum(&[&ip]);
                ip[10..12].copy_from_slice(&c.to_be_bytes());
                frame.extend_from_slice(&ip);
            }
            (s, d) => {
                let v6 = |a: IpAddr| match a {
                    IpAddr::V6(a) => a,
                    IpAddr::V4(a) => a.to_ipv6_mapped(),
                };
                frame.extend_from_slice(&0x86ddu16.to_be_bytes());
                frame.extend_from_slice(&0x6000_0000u32.to_be_bytes());
                frame.extend_from_slice(&(l4.len() as u16).to_be_bytes());
                frame.push(proto);
                frame.push(64);
                frame.extend_from_slice(&v6(s).octets());
                frame.extend_from_slice(&v6(d).octets());
            }
        }
        frame.extend_from_slice(l4);
        self.record(&frame);
    }

    fn record(&mut self, frame: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let incl = frame.len().min(SNAPLEN as usize);
        let mut h = Vec::with_capacity(16);
        h.extend_from_slice(&(now.as_secs() as u32).to_le_bytes());
        h.extend_from_slice(&now.subsec_micros().to_le_bytes());
        h.extend_from_slice(&(incl as u32).to_le_bytes());
        h.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        let r = self
            .out
            .write_all(&h)
            .and_then(|_| self.out.write_all(&frame[..incl]));
        match r {
            Ok(()) => self.packets += 1,
            Err(e) => self.error = Some(e),
        }
    }

    fn pseudo(src: SocketAddr, dst: SocketAddr, proto: u8, len: usize) -> Vec<u8> {
        let (s, d) = addrs(src.ip(), dst.ip());
        let mut p = Vec::with_capacity(40);
        match (s, d) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                p.extend_from_slice(&s.octets());
                p.extend_from_slice(&d.octets());
                p.push(0);
                p.push(proto);
                p.extend_from_slice(&(len as u16).to_be_bytes());
            }
            (s, d) => {
                let v6 = |a: IpAddr| match a {
                    IpAddr::V6(a) => a,
                    IpAddr::V4(a) => a.to_ipv6_mapped(),
                };
                p.extend_from_slice(&v6(s).octets());
                p.extend_from_slice(&v6(d).octets());
                p.extend_from_slice(&(len as u32).to_be_bytes());
                p.extend_from_slice(&[0, 0, 0, proto]);
            }
        }
        p
    }

    fn udp(&mut self, src: SocketAddr, dst: SocketAddr, outbound: bool, payload: &[u8]) {
        // A datagram larger than UDP can carry cannot have crossed the wire whole; keep what fits.
        let payload = &payload[..payload.len().min(65_507)];
        let len = 8 + payload.len();
        let mut u = Vec::with_capacity(len);
        u.extend_from_slice(&src.port().to_be_bytes());
        u.extend_from_slice(&dst.port().to_be_bytes());
        u.extend_from_slice(&(len as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        let mut c = checksum(&[&Self::pseudo(src, dst, 17, len), &u]);
        if c == 0 {
            c = 0xffff;
        }
        u[6..8].copy_from_slice(&c.to_be_bytes());
        self.packet(src, dst, outbound, 17, &u);
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        outbound: bool,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) {
        let mut t = Vec::with_capacity(20 + payload.len());
        t.extend_from_slice(&src.port().to_be_bytes());
        t.extend_from_slice(&dst.port().to_be_bytes());
        t.extend_from_slice(&seq.to_be_bytes());
        t.extend_from_slice(&(if flags & ACK != 0 { ack } else { 0 }).to_be_bytes());
        t.push(5 << 4);
        t.push(flags);
        t.extend_from_slice(&65_535u16.to_be_bytes());
        t.extend_from_slice(&[0, 0, 0, 0]);
        t.extend_from_slice(payload);
        let c = checksum(&[&Self::pseudo(src, dst, 6, t.len()), &t]);
        t[16..18].copy_from_slice(&c.to_be_bytes());
        self.packet(src, dst, outbound, 6, &t);
    }

    /// The flow's sequence state, synthesising the handshake if the flow is new.
    fn flow(&mut self, local: SocketAddr, remote: SocketAddr) -> (u32, u32) {
        if let Some(s) = self.tcp.get(&(local, remote)) {
            return *s;
        }
        let (ours, theirs) = (1_000u32, 50_000u32);
        self.tcp(local, remote, true, ours, 0, SYN, &[]);
        self.tcp(remote, local, false, theirs, ours + 1, SYN | ACK, &[]);
        self.tcp(local, remote, true, ours + 1, theirs + 1, ACK, &[]);
        let s = (ours + 1, theirs + 1);
        self.tcp.insert((local, remote), s);
        s
    }
}

impl CaptureSink for PcapWriter {
    fn opened(&self, _t: Transport, local: SocketAddr, remote: SocketAddr) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.tcp.remove(&(local, remote));
        st.flow(local, remote);
    }

    fn data(
        &self,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
        dir: Direction,
        bytes: &[u8],
    ) {
        let payload = match transport {
            Transport::Tls => bytes.to_vec(),
            Transport::Udp | Transport::Tcp => evidence::redact(bytes),
        };
        let out = dir == Direction::Sent;
        let (src, dst) = if out {
            (local, remote)
        } else {
            (remote, local)
        };
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if transport == Transport::Udp {
            st.udp(src, dst, out, &payload);
            return;
        }
        let (mut ours, mut theirs) = st.flow(local, remote);
        for seg in payload.chunks(MAX_SEGMENT) {
            if out {
                st.tcp(src, dst, true, ours, theirs, PSH | ACK, seg);
                ours = ours.wrapping_add(seg.len() as u32);
            } else {
                st.tcp(src, dst, false, theirs, ours, PSH | ACK, seg);
                theirs = theirs.wrapping_add(seg.len() as u32);
            }
        }
        st.tcp.insert((local, remote), (ours, theirs));
    }

    fn closed(&self, _t: Transport, local: SocketAddr, remote: SocketAddr) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((ours, theirs)) = st.tcp.remove(&(local, remote)) {
            st.tcp(local, remote, true, ours, theirs, FIN | ACK, &[]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_credentials_are_redacted_tls_is_kept_raw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pcap");
        let w = PcapWriter::create(path.to_str().unwrap()).unwrap();
        let (l, r): (SocketAddr, SocketAddr) = (
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:5060".parse().unwrap(),
        );
        let msg = b"REGISTER sip:x SIP/2.0\r\nAuthorization: Digest response=\"s3cr3t\"\r\n\r\n";
        w.data(Transport::Udp, l, r, Direction::Sent, msg);
        w.opened(Transport::Tcp, l, r);
        w.data(Transport::Tcp, l, r, Direction::Sent, msg);
        w.closed(Transport::Tcp, l, r);
        w.data(Transport::Tls, l, r, Direction::Sent, b"\x17\x03\x03raw");
        // UDP + SYN, SYN-ACK, ACK, data, FIN + TLS handshake of a new flow (3) and its data.
        assert_eq!(w.finish().unwrap(), 10);
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("s3cr3t"), "credential leaked into the pcap");
        assert_eq!(text.matches("Authorization: <redacted>").count(), 2);
        assert!(bytes.windows(6).any(|w| w == b"\x17\x03\x03raw"));
        assert_eq!(&bytes[..4], &0xa1b2_c3d4u32.to_le_bytes());
    }

    #[test]
    fn internet_checksum() {
        // RFC 1071 example words.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&[&data]), !0xddf2u16);
        assert_eq!(checksum(&[&data[..3], &data[3..]]), !0xddf2u16);
    }
}
