//! RTP bleed: does the far end's media relay latch onto any source? Inside our own answered call, once
//! media flows, a few RTP packets with the call's own SSRC are sent from a second local port to the far
//! end's media address. A relay in "learning" mode that switches its media to the newest source starts
//! sending the call's media to that port, which is how RTPproxy/rtpengine-style relays leak calls to
//! whoever sends first. Bounded: [`WINDOW`] in all, [`BLEED_PACKETS`] from the second port.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;

pub use crate::findings::call::BleedReport;

use super::MediaSockets;
use super::flow::{FlowPlan, Protection, srtp_contexts};
use super::rtp::{Kind, classify, rtp_packet};

/// Longest the whole test may take on the call.
pub const WINDOW: Duration = Duration::from_millis(6500);
/// Packets sent from the second port.
pub const BLEED_PACKETS: u32 = 10;
/// How long media must have been seen before the second port speaks, at most.
const SETTLE: Duration = Duration::from_secs(3);
/// How long the second port listens after its last packet.
const LISTEN: Duration = Duration::from_secs(2);

/// Runs the test on an answered call whose media goes to `plan`, protected as `prot` (plain or SDES).
pub async fn probe(socks: &MediaSockets, plan: &FlowPlan, prot: &Protection) -> BleedReport {
    let start = Instant::now();
    let mut r = BleedReport::default();
    let out = run(socks, plan, prot, &mut r, start).await;
    r.duration_ms = start.elapsed().as_millis() as u64;
    if let Err(e) = out {
        r.error = Some(e);
    }
    r
}

async fn run(
    socks: &MediaSockets,
    plan: &FlowPlan,
    prot: &Protection,
    r: &mut BleedReport,
    start: Instant,
) -> Result<(), String> {
    let local = socks.rtp_addr().map_err(|e| e.to_string())?;
    let second = UdpSocket::bind(SocketAddr::new(local.ip(), 0))
        .await
        .map_err(|e| format!("cannot bind a second port: {e}"))?;
    r.second_port = second.local_addr().ok().map(|a| a.to_string());
    let mut tx = match prot {
        Protection::Plain => None,
        Protection::Srtp { .. } => Some(srtp_contexts(prot)?.0),
        Protection::ListenOnly => return Err("no media may be sent on this call".into()),
    };
    r.ssrc = rand::random::<u32>() | 1;
    let mut seq: u16 = rand::random::<u16>() & 0x7fff;
    let mut ts: u32 = rand::random();
    let stop = start + WINDOW;
    let mut next = start;
    // None until media flowed (or SETTLE passed); then when the second port started.
    let mut bleed_from: Option<Instant> = None;
    let mut bleed_until = stop;
    let (mut buf, mut buf2) = (vec![0u8; 2048], vec![0u8; 2048]);
    loop {
        let now = Instant::now();
        if now >= stop || now >= bleed_until {
            break;
        }
        if bleed_from.is_none() && (r.received_on_call_port_before >= 3 || now >= start + SETTLE) {
            if r.received_on_call_port_before == 0 {
                return Err(format!(
                    "no RTP from the far end within {} s, so there is no media to divert",
                    SETTLE.as_secs()
                ));
            }
            bleed_from = Some(now);
        }
        if now >= next {
            let mut pkt = rtp_packet(r.ssrc, seq, ts);
            if let Some(c) = tx.as_mut() {
                pkt = c
                    .encrypt_rtp(&pkt)
                    .map(|b| b.to_vec())
                    .map_err(|e| format!("encrypting RTP: {e}"))?;
            }
            // The same stream continues; the first BLEED_PACKETS after media flowed go from the
            // second port instead of the call's, as an attacker's would.
            let from_second = bleed_from.is_some() && r.sent_from_second_port < BLEED_PACKETS;
            let sock = if from_second { &second } else { &socks.rtp };
            if sock.send_to(&pkt, plan.remote_rtp).await.is_ok() {
                if from_second {
                    r.sent_from_second_port += 1;
                    if r.sent_from_second_port == BLEED_PACKETS {
                        bleed_until = Instant::now() + LISTEN;
                    }
                } else {
                    r.sent_from_call_port += 1;
                }
            }
            seq = seq.wrapping_add(1);
            ts = ts.wrapping_add(160);
            next += Duration::from_millis(20);
        }
        tokio::select! {
            got = socks.rtp.recv_from(&mut buf) => {
                if let Ok((n, _)) = got && classify(&buf[..n]) == Kind::Rtp {
                    if bleed_from.is_some() {
                        r.received_on_call_port_after += 1;
                    } else {
                        r.received_on_call_port_before += 1;
                    }
                }
            }
            got = second.recv_from(&mut buf2) => {
                if let Ok((n, from)) = got && classify(&buf2[..n]) == Kind::Rtp {
                    r.received_on_second_port += 1;
                    r.first_leak_from.get_or_insert_with(|| from.to_string());
                }
            }
            _ = tokio::time::sleep_until(next.min(stop).min(bleed_until)) => {}
        }
    }
    Ok(())
}
