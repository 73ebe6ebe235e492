//! One complete test call: bind media sockets, offer, wait for the answer, exchange a little media while
//! the call is up, hang up, and keep the transcript as evidence.

use std::net::SocketAddr;
use std::time::Duration;

use super::{CallLeg, InviteOptions, InviteOutcome, ReferOutcome, Teardown};
use crate::findings::Evidence;
use crate::media::MediaSockets;
use crate::media::bleed::{self, BleedReport};
use crate::media::dtls::{self, DtlsReport};
use crate::media::flow::{self, FlowPlan, FlowReport, Protection};
use crate::probe::Context;
use crate::sip::digest::DigestClient;
use crate::sip::sdp::{self, Crypto, OfferKind, Sdp, Suite, random_key};
use crate::target::Endpoint;

pub use crate::findings::call::Offer;

/// What a call showed.
pub struct Placed {
    pub endpoint: Endpoint,
    pub offer: Offer,
    /// The SDP we offered, keys redacted.
    pub offer_sdp: String,
    pub outcome: InviteOutcome,
    /// The answer's SDP (parsed), when the call was answered with one.
    pub answer: Option<Sdp>,
    /// The answer's SDP text, keys redacted.
    pub answer_sdp: Option<String>,
    /// For SDES: the suite the answer picked, if it matched one we offered under the same tag.
    pub chosen: Option<Crypto>,
    pub flow: Option<FlowReport>,
    /// The DTLS handshake on the RTP component, for a DTLS-SRTP answer.
    pub dtls: Option<DtlsReport>,
    /// The handshake on a separate RTCP component (no rtcp-mux, RFC 5764 §4.1).
    pub dtls_rtcp: Option<DtlsReport>,
    /// The RTP bleed test, when [`After::Bleed`] asked for it.
    pub bleed: Option<BleedReport>,
    /// What the REFER sent inside the call came to, when [`After::Refer`] asked for one.
    pub refer: Option<ReferOutcome>,
    /// `Server` or `User-Agent` of the answer (who answered the call).
    pub answered_by: Option<String>,
    pub teardown: Teardown,
    pub evidence: Vec<Evidence>,
}

/// How long media runs on an answered call at most. An SRTP call waits (bounded, ending early) for
/// SRTCP in both directions, which covers RTCP's randomised report interval: [`flow::SRTCP_BOUND`].
pub const SRTP_WINDOW: Duration = flow::SRTCP_BOUND;
pub const PLAIN_WINDOW: Duration = Duration::from_millis(1500);

/// What to do on an answered call once media ran, before hanging up.
#[derive(Debug, Clone, Default)]
pub enum After {
    #[default]
    Nothing,
    /// Send REFER to `refer_to` and follow its NOTIFYs for at most `follow`.
    Refer { refer_to: String, follow: Duration },
    /// Instead of the plain media exchange, the RTP bleed test ([`crate::media::bleed`]).
    Bleed,
}

/// Places one call. `Err` when no call could be placed at all (sockets, connection).
pub async fn place(
    ctx: &Context,
    ep: &Endpoint,
    uri: &str,
    offer: Offer,
    auth: Option<&mut DigestClient>,
    opts: &InviteOptions,
) -> Result<Placed, String> {
    place_then(ctx, ep, uri, offer, auth, opts, &After::Nothing).await
}

/// A call leg to `uri` and the media sockets (with their addresses) its offer will name.
async fn open_with_media(
    ctx: &Context,
    ep: &Endpoint,
    uri: &str,
) -> Result<(CallLeg, MediaSockets, SocketAddr, SocketAddr), String> {
    let leg = CallLeg::open(ctx, ep, uri)
        .await
        .map_err(|e| format!("cannot reach {ep}: {e}"))?;
    let socks = MediaSockets::bind(leg.local.ip())
        .await
        .map_err(|e| format!("cannot bind media sockets: {e}"))?;
    match (socks.rtp_addr(), socks.rtcp_addr()) {
        (Ok(a), Ok(b)) => Ok((leg, socks, a, b)),
        _ => Err("media sockets have no local address".into()),
    }
}

/// A plain-RTP call to `uri`, left up (no media is sent): for a transfer that needs two calls at once.
/// The caller hangs it up. `Err` when no call could be placed.
pub async fn dial_plain(
    ctx: &Context,
    ep: &Endpoint,
    uri: &str,
    auth: Option<&mut DigestClient>,
    opts: &InviteOptions,
) -> Result<(CallLeg, MediaSockets, InviteOutcome), String> {
    let (mut leg, socks, rtp, rtcp) = open_with_media(ctx, ep, uri).await?;
    let offer = sdp::offer(&OfferKind::Plain, rtp, rtcp, super::leg::session_id());
    let outcome = leg.invite(&offer, auth, opts).await;
    Ok((leg, socks, outcome))
}

/// As [`place`], then `after` on the answered call.
pub async fn place_then(
    ctx: &Context,
    ep: &Endpoint,
    uri: &str,
    offer: Offer,
    mut auth: Option<&mut DigestClient>,
    opts: &InviteOptions,
    after: &After,
) -> Result<Placed, String> {
    let (mut leg, socks, rtp, rtcp) = open_with_media(ctx, ep, uri).await?;
    let mut sessions = dtls::Sessions::default();
    let keys: Vec<(Suite, Vec<u8>)> = Suite::OFFERED
        .iter()
        .map(|s| (*s, random_key(*s)))
        .collect();
    let identity = match offer {
        Offer::Dtls => Some(dtls::Identity::new()?),
        _ => None,
    };
    let kind = match (&identity, offer) {
        (Some(id), _) => OfferKind::Dtls {
            fingerprint: id.fingerprint.clone(),
        },
        (None, Offer::Sdes) => OfferKind::Sdes(keys.clone()),
        (None, _) => OfferKind::Plain,
    };
    let offer_text = sdp::offer(&kind, rtp, rtcp, super::leg::session_id());
    let outcome = leg.invite(&offer_text, auth.as_deref_mut(), opts).await;
    let mut placed = Placed {
        endpoint: ep.clone(),
        offer,
        offer_sdp: sdp::redact_keys(&offer_text),
        outcome,
        answer: None,
        answer_sdp: None,
        chosen: None,
        flow: None,
        dtls: None,
        dtls_rtcp: None,
        bleed: None,
        refer: None,
        answered_by: None,
        teardown: Teardown::default(),
        evidence: Vec::new(),
    };
    if let Some(ans) = placed.outcome.answer() {
        placed.answered_by = ans
            .header("Server")
            .or_else(|| ans.header("User-Agent"))
            .map(|s| s.chars().take(120).collect());
        let text = String::from_utf8_lossy(&ans.body).to_string();
        let parsed = Sdp::parse(&text);
        placed.answer_sdp = Some(sdp::redact_keys(&text));
        if let Some(m) = parsed.audio() {
            let mux = m.rtcp_mux();
            let plan = parsed.rtp_target(m).and_then(|rtp_to| {
                Some(FlowPlan {
                    remote_rtp: rtp_to,
                    remote_rtcp: parsed.rtcp_target(m, mux)?,
                    mux,
                    max: PLAIN_WINDOW,
                })
            });
            let cryptos = m.cryptos();
            // RFC 4568 §5.1.2: the answer's tag names the offered line it accepted.
            placed.chosen = cryptos.first().cloned();
            let prot = match (offer, cryptos.first()) {
                (Offer::Sdes, Some(c)) => {
                    let ours = keys
                        .iter()
                        .enumerate()
                        .find(|(i, (s, _))| c.suite == Some(*s) && c.tag as usize == i + 1)
                        .map(|(_, (_, k))| k.clone());
                    match (ours, c.suite, &c.key) {
                        (Some(local), Some(suite), Some(remote)) => Some(Protection::Srtp {
                            suite,
                            local_key: local,
                            remote_key: remote.clone(),
                            rtcp_keys: None,
                        }),
                        _ => None,
                    }
                }
                (Offer::Sdes, None) => None,
                (Offer::Dtls, _) => {
                    let is_dtls = m.proto.to_ascii_uppercase().contains("TLS");
                    match (&identity, &plan, is_dtls, opts.exchange_media) {
                        (Some(id), Some(plan), true, true) => {
                            let role = dtls::Role::for_answer(parsed.setup(m).as_deref());
                            let expected = parsed.fingerprint(m);
                            let both = async {
                                let rtp = dtls::handshake(
                                    &socks.rtp,
                                    plan.remote_rtp,
                                    role,
                                    id,
                                    expected.as_ref(),
                                );
                                if mux {
                                    (rtp.await, None)
                                } else {
                                    let rtcp = dtls::handshake(
                                        &socks.rtcp,
                                        plan.remote_rtcp,
                                        role,
                                        id,
                                        expected.as_ref(),
                                    );
                                    let (a, b) = tokio::join!(rtp, rtcp);
                                    (a, Some(b))
                                }
                            };
                            let hs = tokio::select! {
                                hs = both => Some(hs),
                                _ = leg.hold(dtls::HANDSHAKE_TIME + Duration::from_secs(2)) => None,
                            };
                            match hs {
                                Some((rtp, rtcp)) => {
                                    placed.dtls = Some(rtp.report);
                                    sessions.rtp = rtp.session;
                                    let rtcp_keys = rtcp.as_ref().and_then(|h| h.keys.clone());
                                    if let Some(h) = rtcp {
                                        placed.dtls_rtcp = Some(h.report);
                                        sessions.rtcp = h.session;
                                    }
                                    rtp.keys.map(|k| Protection::Srtp {
                                        suite: k.suite,
                                        local_key: k.local,
                                        remote_key: k.remote,
                                        rtcp_keys: rtcp_keys.map(|r| (r.local, r.remote)),
                                    })
                                }
                                None => None,
                            }
                        }
                        // Not DTLS, or no media address: only count what arrives, never plain RTP
                        // into a session that may have negotiated SRTP.
                        _ => Some(Protection::ListenOnly),
                    }
                }
                (Offer::Plain, _) => Some(Protection::Plain),
            };
            if let (Some(mut plan), Some(prot), true) = (plan, prot, opts.exchange_media) {
                if matches!(after, After::Bleed) {
                    placed.bleed = tokio::select! {
                        b = bleed::probe(&socks, &plan, &prot) => Some(b),
                        // A far end that hangs up ends the test; its BYE is answered in hold().
                        _ = leg.hold(bleed::WINDOW + Duration::from_secs(2)) => None,
                    };
                } else {
                    if matches!(prot, Protection::Srtp { .. }) {
                        plan.max = SRTP_WINDOW;
                    }
                    let flow = tokio::select! {
                        f = flow::exchange(&socks, &plan, &prot, &mut sessions) => f,
                        // A far end that hangs up mid-flow ends the exchange; its BYE is answered in hold().
                        _ = leg.hold(plan.max + Duration::from_secs(2)) => flow::FlowReport { errors: vec!["the far end hung up during the media exchange".into()], ..Default::default() },
                    };
                    placed.flow = Some(flow);
                }
            }
        }
        placed.answer = Some(parsed);
        if let (After::Refer { refer_to, follow }, false) = (after, leg.ended_by_peer()) {
            let by = leg.our_from().to_string();
            placed.refer = Some(leg.refer(refer_to, &by, auth, *follow).await);
        }
    }
    // DTLS is answered until the call ends: a peer resending its final flight during the hang-up
    // still gets ours (RFC 6347 §4.2.4).
    placed.teardown = {
        let hangup = leg.hangup();
        tokio::pin!(hangup);
        loop {
            tokio::select! {
                t = &mut hangup => break t,
                // Serving never ends by itself (it waits forever without sessions).
                _ = sessions.serve(&socks) => {}
            }
        }
    };
    confirm_dtls(&mut placed, &sessions);
    placed.evidence = leg.evidence();
    leg.close().await;
    Ok(placed)
}

/// Whether each component's handshake completed for the peer too: SRTP (RTP component, or RTCP with
/// rtcp-mux) or SRTCP on its own port authenticated, or the peer never resent its final flight.
fn confirm_dtls(placed: &mut Placed, sessions: &dtls::Sessions) {
    let f = placed.flow.clone().unwrap_or_default();
    if let (Some(r), Some(s)) = (placed.dtls.as_mut(), sessions.rtp.as_ref()) {
        s.record(r);
        r.confirm(f.rtp_authenticated > 0 || (f.rtcp_mux && f.rtcp_authenticated > 0));
    }
    if let (Some(r), Some(s)) = (placed.dtls_rtcp.as_mut(), sessions.rtcp.as_ref()) {
        s.record(r);
        r.confirm(f.srtcp_on_rtcp_port > 0);
    }
}
