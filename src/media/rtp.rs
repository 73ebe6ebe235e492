//! Just enough RTP (RFC 3550) and RTCP to send a little audio, send a sender report, and read a
//! receiver report: packet building, RFC 7983 demultiplexing, and report-block parsing.

/// What a datagram on a media port looks like (RFC 7983 §7: first byte ranges; RFC 5761 §4 for
/// telling RTCP from RTP on a muxed port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rtp,
    Rtcp,
    Dtls,
    Stun,
    Other,
}

pub fn classify(p: &[u8]) -> Kind {
    match p.first() {
        Some(0..=3) => Kind::Stun,
        Some(20..=63) => Kind::Dtls,
        Some(128..=191) if p.len() >= 8 => {
            if (192..=223).contains(&p[1]) {
                Kind::Rtcp
            } else if p.len() >= 12 {
                Kind::Rtp
            } else {
                Kind::Other
            }
        }
        _ => Kind::Other,
    }
}

/// One RTP packet: PCMU (payload type 0) silence, 20 ms.
pub fn rtp_packet(ssrc: u32, seq: u16, timestamp: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(12 + 160);
    p.push(0x80);
    p.push(if seq == 0 { 0x80 } else { 0x00 }); // marker on the first packet of the talkspurt
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&timestamp.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend(std::iter::repeat_n(0xFFu8, 160));
    p
}

/// The SSRC and sequence number of an RTP packet.
pub fn rtp_ssrc_seq(p: &[u8]) -> Option<(u32, u16)> {
    if p.len() < 12 || p[0] >> 6 != 2 {
        return None;
    }
    Some((
        u32::from_be_bytes([p[8], p[9], p[10], p[11]]),
        u16::from_be_bytes([p[2], p[3]]),
    ))
}

/// A sender report with no report blocks, plus an SDES CNAME, as a compound packet (RFC 3550 §6.1).
pub fn sender_report(ssrc: u32, packets: u32, octets: u32, rtp_ts: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(48);
    p.extend_from_slice(&[0x80, 200, 0, 6]);
    p.extend_from_slice(&ssrc.to_be_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let ntp_secs = (now.as_secs() + 2_208_988_800) as u32;
    let ntp_frac = ((now.subsec_nanos() as u64) << 32) / 1_000_000_000;
    p.extend_from_slice(&ntp_secs.to_be_bytes());
    p.extend_from_slice(&(ntp_frac as u32).to_be_bytes());
    p.extend_from_slice(&rtp_ts.to_be_bytes());
    p.extend_from_slice(&packets.to_be_bytes());
    p.extend_from_slice(&octets.to_be_bytes());
    // SDES: one chunk, CNAME "sipcheck", padded to a 32-bit boundary.
    let cname = b"sipcheck";
    let mut chunk = ssrc.to_be_bytes().to_vec();
    chunk.push(1);
    chunk.push(cname.len() as u8);
    chunk.extend_from_slice(cname);
    chunk.push(0);
    while !chunk.len().is_multiple_of(4) {
        chunk.push(0);
    }
    let words = (4 + chunk.len()) / 4 - 1;
    p.extend_from_slice(&[0x81, 202]);
    p.extend_from_slice(&(words as u16).to_be_bytes());
    p.extend_from_slice(&chunk);
    p
}

/// What an (already decrypted) compound RTCP packet says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RtcpSummary {
    /// Packet types in order (200 SR, 201 RR, 202 SDES, 203 BYE, …).
    pub types: Vec<u8>,
    /// The SSRCs the report blocks are about.
    pub reported_ssrcs: Vec<u32>,
    /// The SSRCs whose report block carries a non-zero LSR (RFC 3550 §6.4.1: the middle of the NTP
    /// timestamp of the last sender report received from that source): the reporter got an SR from it.
    pub sender_reports_seen: Vec<u32>,
}

/// Walks a compound RTCP packet; stops at the first malformed header.
pub fn parse_rtcp(p: &[u8]) -> RtcpSummary {
    let mut s = RtcpSummary::default();
    let mut off = 0usize;
    while off + 4 <= p.len() && s.types.len() < 32 {
        let h = &p[off..];
        if h[0] >> 6 != 2 {
            break;
        }
        let count = (h[0] & 0x1f) as usize;
        let pt = h[1];
        let len = (u16::from_be_bytes([h[2], h[3]]) as usize + 1) * 4;
        if off + len > p.len() {
            break;
        }
        let body = &p[off..off + len];
        s.types.push(pt);
        let blocks_at = match pt {
            200 => Some(28),
            201 => Some(8),
            _ => None,
        };
        if let Some(start) = blocks_at {
            for i in 0..count {
                let b = start + i * 24;
                let word = |at: usize| {
                    body.get(at..at + 4)
                        .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
                };
                if let Some(ssrc) = word(b) {
                    s.reported_ssrcs.push(ssrc);
                    if word(b + 16).is_some_and(|lsr| lsr != 0) {
                        s.sender_reports_seen.push(ssrc);
                    }
                }
            }
        }
        off += len;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_reads_packets() {
        let p = rtp_packet(0x1234_5678, 7, 160);
        assert_eq!(classify(&p), Kind::Rtp);
        assert_eq!(rtp_ssrc_seq(&p), Some((0x1234_5678, 7)));
        let sr = sender_report(9, 1, 160, 0);
        assert_eq!(classify(&sr), Kind::Rtcp);
        let s = parse_rtcp(&sr);
        assert_eq!(s.types, [200, 202]);
        assert!(s.reported_ssrcs.is_empty());
        // An RR about SSRC 0xAABBCCDD.
        let mut rr = vec![0x81, 201, 0, 7, 0, 0, 0, 1, 0xAA, 0xBB, 0xCC, 0xDD];
        rr.extend_from_slice(&[0u8; 20]);
        assert_eq!(parse_rtcp(&rr).reported_ssrcs, [0xAABB_CCDD]);
        assert!(parse_rtcp(&rr).sender_reports_seen.is_empty(), "LSR 0");
        rr[24..28].copy_from_slice(&[0, 1, 2, 3]);
        assert_eq!(parse_rtcp(&rr).sender_reports_seen, [0xAABB_CCDD]);
        assert_eq!(classify(&[22, 254, 253, 0, 0, 0, 0, 0]), Kind::Dtls);
        for junk in [&[][..], &[0x80], &[0x81, 201, 255, 255], &[0xbf, 200, 0, 0]] {
            let _ = (classify(junk), parse_rtcp(junk), rtp_ssrc_seq(junk));
        }
    }
}
