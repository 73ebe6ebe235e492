//! A short, bounded media exchange on an answered call: send RTP (SRTP when keys were negotiated) and
//! RTCP sender reports (SRTCP), receive the far end's, and count what decrypted and authenticated.
//!
//! Proof in each direction: far end → us when its SRTP packets authenticate with the key from its
//! answer; us → far end when its (authenticated) SRTCP receiver report carries a report block about our
//! SSRC, since an SRTP receiver drops packets that fail authentication and so cannot report on them.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use tokio::time::Instant;
use webrtc_srtp::context::Context as SrtpContext;
use webrtc_srtp::protection_profile::ProtectionProfile;

use super::MediaSockets;
use super::dtls::Sessions;
use super::rtp::{Kind, classify, parse_rtcp, rtp_packet, rtp_ssrc_seq, sender_report};
use crate::sip::sdp::Suite;

/// How media is protected on this call.
#[derive(Clone)]
pub enum Protection {
    Plain,
    /// Send nothing, only count what arrives (a DTLS-SRTP offer answered without a usable DTLS media
    /// line: no keys, and plain RTP must not go into a session that may have negotiated SRTP).
    ListenOnly,
    /// SDES: we send with our offered key for the chosen suite, the far end with the key in its answer.
    /// DTLS-SRTP: the keys from the handshake's exporter.
    Srtp {
        suite: Suite,
        local_key: Vec<u8>,
        remote_key: Vec<u8>,
        /// SRTCP keys of a separate RTCP component (DTLS-SRTP without rtcp-mux, RFC 5764 §4.1):
        /// (ours, the far end's); `None`: SRTCP uses the SRTP master keys (SDES, or rtcp-mux).
        rtcp_keys: Option<(Vec<u8>, Vec<u8>)>,
    },
}

impl std::fmt::Debug for Protection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Protection::Plain => f.write_str("Plain"),
            Protection::ListenOnly => f.write_str("ListenOnly"),
            Protection::Srtp { suite, .. } => write!(f, "Srtp({})", suite.name()),
        }
    }
}

fn profile(s: Suite) -> ProtectionProfile {
    match s {
        Suite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
        Suite::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
        Suite::Aes256CmHmacSha1_80 => ProtectionProfile::Aes256CmHmacSha1_80,
        Suite::AeadAes128Gcm => ProtectionProfile::AeadAes128Gcm,
        Suite::AeadAes256Gcm => ProtectionProfile::AeadAes256Gcm,
    }
}

pub(crate) fn context(s: Suite, key_salt: &[u8]) -> Result<SrtpContext, String> {
    let (k, _) = s.key_salt_len();
    if key_salt.len() < k {
        return Err(format!("key too short for {}", s.name()));
    }
    let (key, salt) = key_salt.split_at(k);
    SrtpContext::new(key, salt, profile(s), None, None).map_err(|e| e.to_string())
}

/// Our sending and the far end's receiving SRTP contexts for an `Srtp` protection (the RTP component).
pub(crate) fn srtp_contexts(prot: &Protection) -> Result<(SrtpContext, SrtpContext), String> {
    match prot {
        Protection::Srtp {
            suite,
            local_key,
            remote_key,
            ..
        } => Ok((context(*suite, local_key)?, context(*suite, remote_key)?)),
        _ => Err("no SRTP keys on this call".into()),
    }
}

/// Longest an SRTP exchange waits for SRTCP both ways. RTCP's report interval is at least 5 s, randomised
/// to between 0.5 and 1.5 times that and divided by e - 3/2 (RFC 3550 §6.2, §6.3.1): a far end's report
/// can come up to 6.2 s after it started; 0.8 s more covers transit and scheduling. The exchange ends
/// as soon as SRTP and SRTCP were seen in both directions.
pub const SRTCP_BOUND: Duration = Duration::from_millis(7000);

/// Where to send, and for how long at most.
#[derive(Debug, Clone)]
pub struct FlowPlan {
    pub remote_rtp: SocketAddr,
    pub remote_rtcp: SocketAddr,
    /// Both sides agreed on rtcp-mux: RTCP goes to and comes from the RTP port.
    pub mux: bool,
    /// Longest the exchange may take (the call is up meanwhile).
    pub max: Duration,
}

pub use crate::findings::media::FlowReport;

impl FlowReport {
    fn error(&mut self, e: String) {
        if self.errors.len() < 5 && !self.errors.contains(&e) {
            self.errors.push(e);
        }
    }
}

struct Crypto {
    suite: Suite,
    tx: SrtpContext,
    rx: SrtpContext,
    /// SRTCP contexts of a separate RTCP component; else `tx`/`rx` protect RTCP too.
    rtcp: Option<(SrtpContext, SrtpContext)>,
}

impl Crypto {
    fn rtcp_tx(&mut self) -> &mut SrtpContext {
        match &mut self.rtcp {
            Some((tx, _)) => tx,
            None => &mut self.tx,
        }
    }
    fn rtcp_rx(&mut self) -> &mut SrtpContext {
        match &mut self.rtcp {
            Some((_, rx)) => rx,
            None => &mut self.rx,
        }
    }
}

fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    // webrtc-srtp parses peer bytes; a panic there must become a rejected packet, not a dead probe.
    std::panic::catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err("SRTP library panicked on this packet".into()))
}

/// SRTCP from the far end, unprotected. webrtc-srtp reads the trailer (index, tag) and the SSRC of
/// a packet without checking its length and panics on a short one (found by the `srtp` fuzz
/// target), so a packet shorter than header, SSRC, index and tag is refused first.
pub(crate) fn unprotect_rtcp(s: Suite, rx: &mut SrtpContext, p: &[u8]) -> Result<Vec<u8>, String> {
    let prof = profile(s);
    let min = 8 + 4 + prof.rtcp_auth_tag_len().max(prof.aead_auth_tag_len());
    if p.len() < min {
        return Err(format!(
            "{} bytes, shorter than the {min} of the smallest SRTCP packet",
            p.len()
        ));
    }
    guarded(|| {
        rx.decrypt_rtcp(p)
            .map(|b| b.to_vec())
            .map_err(|e| e.to_string())
    })
}

/// Runs the exchange. Stops early once every direction is proven (SRTP) or media was seen both ways
/// (plain); never runs longer than `plan.max`. DTLS that arrives meanwhile goes to `dtls` (a peer
/// resending its final flight is answered).
pub async fn exchange(
    socks: &MediaSockets,
    plan: &FlowPlan,
    prot: &Protection,
    dtls: &mut Sessions,
) -> FlowReport {
    let start = Instant::now();
    let stop = start + plan.max;
    let mut r = FlowReport {
        protection: format!("{prot:?}"),
        rtcp_mux: plan.mux,
        ..FlowReport::default()
    };
    let mut crypto = match prot {
        Protection::Plain | Protection::ListenOnly => None,
        Protection::Srtp {
            suite, rtcp_keys, ..
        } => {
            let rtcp = rtcp_keys
                .as_ref()
                .map(|(l, rk)| Ok::<_, String>((context(*suite, l)?, context(*suite, rk)?)))
                .transpose();
            match (srtp_contexts(prot), rtcp) {
                (Ok((tx, rx)), Ok(rtcp)) => Some(Crypto {
                    suite: *suite,
                    tx,
                    rx,
                    rtcp,
                }),
                (Err(e), _) | (_, Err(e)) => {
                    r.error(format!("cannot set up SRTP: {e}"));
                    return r;
                }
            }
        }
    };
    let ssrc: u32 = rand::random::<u32>() | 1;
    let mut seq: u16 = rand::random::<u16>() & 0x7fff;
    let mut ts: u32 = rand::random();
    let mut next_rtp = start;
    let mut next_rtcp = start + Duration::from_millis(200);
    let mut buf = vec![0u8; 2048];
    let mut buf2 = vec![0u8; 2048];
    let rtcp_sock = if plan.mux { &socks.rtp } else { &socks.rtcp };
    let send = !matches!(prot, Protection::ListenOnly);
    loop {
        let now = Instant::now();
        if now >= stop {
            break;
        }
        let enough = match &crypto {
            Some(_) => r.srtp_both_ways() && r.rtcp_authenticated > 0 && r.peer_received_our_rtcp,
            None => r.rtp_received >= 5 && r.rtcp_received > 0,
        };
        if enough && now >= start + Duration::from_millis(600) {
            break;
        }
        if send && now >= next_rtp {
            let pkt = rtp_packet(ssrc, seq, ts);
            let out = match crypto.as_mut() {
                Some(c) => guarded(|| {
                    c.tx.encrypt_rtp(&pkt)
                        .map(|b| b.to_vec())
                        .map_err(|e| e.to_string())
                }),
                None => Ok(pkt),
            };
            match out {
                Ok(b) => {
                    if socks.rtp.send_to(&b, plan.remote_rtp).await.is_ok() {
                        r.rtp_sent += 1;
                    }
                }
                Err(e) => r.error(format!("encrypting RTP: {e}")),
            }
            seq = seq.wrapping_add(1);
            ts = ts.wrapping_add(160);
            next_rtp += Duration::from_millis(20);
        }
        if send && now >= next_rtcp {
            let pkt = sender_report(ssrc, r.rtp_sent, r.rtp_sent * 160, ts);
            let out = match crypto.as_mut() {
                Some(c) => guarded(|| {
                    c.rtcp_tx()
                        .encrypt_rtcp(&pkt)
                        .map(|b| b.to_vec())
                        .map_err(|e| e.to_string())
                }),
                None => Ok(pkt),
            };
            match out {
                Ok(b) => {
                    if rtcp_sock.send_to(&b, plan.remote_rtcp).await.is_ok() {
                        r.rtcp_sent += 1;
                    }
                }
                Err(e) => r.error(format!("encrypting RTCP: {e}")),
            }
            next_rtcp += Duration::from_millis(1000);
        }
        // Listening only: nothing to send, so sleep until the end rather than spin on past send times.
        let wake = if send {
            next_rtp.min(next_rtcp).min(stop)
        } else {
            stop
        };
        let got = tokio::select! {
            got = socks.rtp.recv_from(&mut buf) => got.ok().map(|(n, from)| (n, from, true)),
            got = socks.rtcp.recv_from(&mut buf2) => got.ok().map(|(n, from)| (n, from, false)),
            _ = tokio::time::sleep_until(wake) => None,
        };
        if let Some((n, from, on_rtp)) = got {
            let p = if on_rtp { &buf[..n] } else { &buf2[..n] };
            if classify(p) == Kind::Dtls {
                dtls.on_datagram(socks, on_rtp, p).await;
            }
            handle(p, from, on_rtp, &mut crypto, ssrc, &mut r);
        }
    }
    r.duration_ms = start.elapsed().as_millis() as u64;
    r
}

fn handle(
    p: &[u8],
    from: SocketAddr,
    on_rtp_port: bool,
    crypto: &mut Option<Crypto>,
    our_ssrc: u32,
    r: &mut FlowReport,
) {
    match classify(p) {
        Kind::Rtp => {
            r.rtp_received += 1;
            r.rtp_source.get_or_insert_with(|| from.to_string());
            if let Some(c) = crypto.as_mut() {
                match guarded(|| c.rx.decrypt_rtp(p).map_err(|e| e.to_string())) {
                    Ok(_) => r.rtp_authenticated += 1,
                    Err(e) => {
                        r.rtp_rejected += 1;
                        let hint = if p.len() == 12 + 160 {
                            " (the packet has exactly the size of unencrypted 20 ms PCMU: no auth tag)"
                        } else {
                            ""
                        };
                        r.error(format!("SRTP from {from} rejected: {e}{hint}"));
                    }
                }
            } else if rtp_ssrc_seq(p).is_none() {
                r.other_received += 1;
            }
        }
        Kind::Rtcp => {
            r.rtcp_received += 1;
            if on_rtp_port {
                r.rtcp_on_rtp_port += 1;
            }
            let plain = match crypto.as_mut() {
                Some(c) => match unprotect_rtcp(c.suite, c.rtcp_rx(), p) {
                    Ok(b) => {
                        r.rtcp_authenticated += 1;
                        if !on_rtp_port {
                            r.srtcp_on_rtcp_port += 1;
                        }
                        Some(b)
                    }
                    Err(e) => {
                        r.rtcp_rejected += 1;
                        r.error(format!("SRTCP from {from} rejected: {e}"));
                        None
                    }
                },
                None => Some(p.to_vec()),
            };
            if let Some(b) = plain {
                let s = parse_rtcp(&b);
                if s.reported_ssrcs.contains(&our_ssrc) {
                    r.peer_reports_our_stream = true;
                }
                if s.sender_reports_seen.contains(&our_ssrc) {
                    r.peer_received_our_rtcp = true;
                }
            }
        }
        Kind::Dtls => r.dtls_received += 1,
        Kind::Stun | Kind::Other => r.other_received += 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::rtp;
    use crate::sip::sdp::random_key;

    /// A receiver report about `ssrc` whose LSR is `lsr` (0: no sender report from it yet).
    fn rr(ssrc: u32, lsr: u32) -> Vec<u8> {
        let mut rr = vec![0x81, 201, 0, 7, 0, 0, 0, 77];
        rr.extend_from_slice(&ssrc.to_be_bytes());
        rr.extend_from_slice(&[0u8; 12]);
        rr.extend_from_slice(&lsr.to_be_bytes());
        rr.extend_from_slice(&[0u8; 4]);
        rr
    }

    /// The LSR value for a (decrypted) sender report: the middle 32 bits of its NTP timestamp.
    fn lsr_of(sr: &[u8]) -> Option<u32> {
        (sr.len() >= 16 && sr[1] == 200)
            .then(|| u32::from_be_bytes([sr[10], sr[11], sr[12], sr[13]]))
    }

    /// A far end in-process: decrypts what it gets with our key, answers with its own key, and reports
    /// on our SSRC only when our packets authenticated. Proves the exchange detects both directions.
    async fn far_end(
        sock: tokio::net::UdpSocket,
        suite: Suite,
        ours: Vec<u8>,
        theirs: Vec<u8>,
        break_tx: bool,
    ) {
        let mut rx = context(suite, &ours).unwrap();
        let mut tx = context(suite, &theirs).unwrap();
        let mut buf = vec![0u8; 2048];
        let mut seq = 1u16;
        let mut lsr = 0;
        let until = Instant::now() + Duration::from_secs(3);
        while let Ok(Ok((n, from))) = tokio::time::timeout_at(until, sock.recv_from(&mut buf)).await
        {
            let p = &buf[..n];
            if classify(p) == Kind::Rtcp
                && let Some(l) = rx.decrypt_rtcp(p).ok().as_deref().and_then(lsr_of)
            {
                lsr = l;
            }
            let mut their_ssrc = None;
            if classify(p) == Kind::Rtp {
                if let Ok(d) = rx.decrypt_rtp(p) {
                    their_ssrc = rtp_ssrc_seq(&d).map(|x| x.0);
                }
                let pkt = rtp::rtp_packet(77, seq, 0);
                seq += 1;
                let out = if break_tx {
                    pkt
                } else {
                    tx.encrypt_rtp(&pkt).unwrap().to_vec()
                };
                let _ = sock.send_to(&out, from).await;
            }
            if let Some(s) = their_ssrc {
                let enc = tx.encrypt_rtcp(&rr(s, lsr)).unwrap();
                let _ = sock.send_to(&enc, from).await;
            }
        }
    }

    async fn run(suite: Suite, break_tx: bool) -> FlowReport {
        let ip = "127.0.0.1".parse().unwrap();
        let socks = MediaSockets::bind(ip).await.unwrap();
        let peer = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let paddr = peer.local_addr().unwrap();
        let (ours, theirs) = (random_key(suite), random_key(suite));
        let t = tokio::spawn(far_end(peer, suite, ours.clone(), theirs.clone(), break_tx));
        let plan = FlowPlan {
            remote_rtp: paddr,
            remote_rtcp: paddr,
            mux: true,
            max: Duration::from_secs(2),
        };
        let prot = Protection::Srtp {
            suite,
            local_key: ours,
            remote_key: theirs,
            rtcp_keys: None,
        };
        let r = exchange(&socks, &plan, &prot, &mut Sessions::default()).await;
        t.abort();
        r
    }

    /// A far end whose first SRTCP comes late in RTCP's randomised interval (RFC 3550 §6.2/§6.3: up to
    /// 1.5/1.22 of 5 s after it starts): SRTP every 20 ms, its first receiver report (on our SSRC) at 6 s.
    async fn late_rtcp_far_end(
        sock: tokio::net::UdpSocket,
        suite: Suite,
        ours: Vec<u8>,
        theirs: Vec<u8>,
    ) {
        let mut rx = context(suite, &ours).unwrap();
        let mut tx = context(suite, &theirs).unwrap();
        let mut buf = vec![0u8; 2048];
        let start = Instant::now();
        let first_rtcp = start + Duration::from_millis(6000);
        let (mut seq, mut their_ssrc, mut to, mut sent_rtcp, mut lsr) =
            (1u16, None, None, false, 0);
        while start.elapsed() < Duration::from_secs(9) {
            if let Ok(Ok((n, from))) =
                tokio::time::timeout(Duration::from_millis(20), sock.recv_from(&mut buf)).await
            {
                to = Some(from);
                let p = &buf[..n];
                if classify(p) == Kind::Rtp
                    && let Ok(d) = rx.decrypt_rtp(p)
                {
                    their_ssrc = rtp_ssrc_seq(&d).map(|x| x.0);
                }
                if classify(p) == Kind::Rtcp
                    && let Some(l) = rx.decrypt_rtcp(p).ok().as_deref().and_then(lsr_of)
                {
                    lsr = l;
                }
            }
            let Some(to) = to else { continue };
            let pkt = rtp::rtp_packet(77, seq, 0);
            seq += 1;
            let _ = sock.send_to(&tx.encrypt_rtp(&pkt).unwrap(), to).await;
            if let (Some(s), false, true) = (their_ssrc, sent_rtcp, Instant::now() >= first_rtcp) {
                sent_rtcp = true;
                let _ = sock
                    .send_to(&tx.encrypt_rtcp(&rr(s, lsr)).unwrap(), to)
                    .await;
            }
        }
    }

    #[tokio::test]
    async fn waits_for_srtcp_that_comes_late_in_the_rtcp_interval() {
        let suite = Suite::AesCm128HmacSha1_80;
        let socks = MediaSockets::bind("127.0.0.1".parse().unwrap())
            .await
            .unwrap();
        let peer = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let paddr = peer.local_addr().unwrap();
        let (ours, theirs) = (random_key(suite), random_key(suite));
        let t = tokio::spawn(late_rtcp_far_end(peer, suite, ours.clone(), theirs.clone()));
        let plan = FlowPlan {
            remote_rtp: paddr,
            remote_rtcp: paddr,
            mux: true,
            max: SRTCP_BOUND,
        };
        let prot = Protection::Srtp {
            suite,
            local_key: ours,
            remote_key: theirs,
            rtcp_keys: None,
        };
        let r = exchange(&socks, &plan, &prot, &mut Sessions::default()).await;
        t.abort();
        assert!(r.rtcp_authenticated > 0, "{r:?}");
        assert!(r.srtp_both_ways(), "{r:?}");
        assert!(r.peer_received_our_rtcp, "{r:?}");
        // It ended once both directions were seen, not at the bound.
        assert!(r.duration_ms < 7000, "{r:?}");
    }

    #[tokio::test]
    async fn proves_srtp_both_ways_for_every_suite() {
        for s in Suite::OFFERED {
            let r = run(s, false).await;
            assert!(r.srtp_both_ways(), "{s:?}: {r:?}");
            assert!(r.peer_received_our_rtcp, "{s:?}: {r:?}");
            assert_eq!(r.rtp_rejected, 0, "{r:?}");
            assert!(r.rtcp_authenticated > 0);
        }
    }

    #[tokio::test]
    async fn notices_plain_rtp_from_a_far_end_claiming_srtp() {
        let r = run(Suite::AesCm128HmacSha1_80, true).await;
        assert_eq!(r.rtp_authenticated, 0, "{r:?}");
        assert!(r.rtp_rejected > 0);
        assert!(r.errors.iter().any(|e| e.contains("no auth tag")), "{r:?}");
        assert!(!r.srtp_both_ways());
    }
}
