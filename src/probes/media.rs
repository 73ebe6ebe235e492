//! `media.*`: which media protection the trunk accepts in a real INVITE — SDES (RFC 4568), DTLS-SRTP
//! (RFC 5763/5764), plain RTP (the downgrade), SDES over plaintext signalling — and whether SRTP and
//! SRTCP actually flow with the negotiated keys (`media.srtp_flow`).
//!
//! Every offer is its own call with a fresh Call-ID, placed only with `--call-to` and `--allow-calls`,
//! counted against `--max-calls`, and torn down before the next one.

use crate::call::{self, InviteOptions, Offer, Placed};
use crate::findings::ids;
use crate::findings::media::{
    DtlsSrtpDetails, Fingerprint, MediaCall, MediaSummary, RtpPlainDetails, SdesCleartextDetails,
    SdesDetails, SrtpFlowDetails,
};
use crate::findings::{Finding, Severity, Status};
use crate::probe::{BoxFuture, Context, Probe};
use crate::sip::digest::DigestClient;
use crate::target::{Endpoint, Transport};

pub struct Media;

const SDES: &str = ids::MEDIA_SDES.id;
const DTLS: &str = ids::MEDIA_DTLS_SRTP.id;
const PLAIN: &str = ids::MEDIA_RTP_PLAIN.id;
const CLEAR: &str = ids::MEDIA_SDES_CLEARTEXT.id;
const FLOW: &str = ids::MEDIA_SRTP_FLOW.id;

fn finding(id: &str, status: Status, summary: impl Into<String>) -> Finding {
    Finding::of(id, status, summary)
}

/// The endpoints to call through, best first (TLS, then UDP, then TCP), each with whether it answered
/// OPTIONS.
pub(crate) async fn call_endpoints(ctx: &Context) -> Vec<(Endpoint, bool)> {
    let opts = ctx.options_of(&ctx.endpoints).await;
    let mut v: Vec<(Endpoint, bool)> = ctx
        .endpoints
        .iter()
        .zip(opts)
        .map(|(ep, ex)| (ep.clone(), ex.best_response().is_some()))
        .collect();
    let rank = |t: Transport| match t {
        Transport::Tls => 0,
        Transport::Udp => 1,
        Transport::Tcp => 2,
    };
    v.sort_by_key(|(e, a)| (!*a, rank(e.transport)));
    v
}

impl Probe for Media {
    fn id(&self) -> &'static str {
        "media"
    }
    fn title(&self) -> &'static str {
        "Media security (SDES, DTLS-SRTP, plain RTP, SRTP flow)"
    }
    fn gate(&self, ctx: &Context) -> Option<String> {
        ctx.config.calls.permitted().err()
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(run(ctx))
    }
}

fn skipped_all(reason: &str) -> Vec<Finding> {
    [SDES, DTLS, PLAIN, CLEAR, FLOW]
        .iter()
        .map(|id| finding(id, Status::Skipped, reason))
        .collect()
}

/// One call to `to` for a probe that needs it answered (REFER, RTP bleed), doing `after` on it: plain
/// RTP first (what most trunks take), SDES when the trunk refuses that on media grounds. `Ok(None)`
/// when `--max-calls` left no call; `Err` when none could be placed.
pub(crate) async fn one_answered_call(
    ctx: &Context,
    ep: &Endpoint,
    to: &str,
    opts: &InviteOptions,
    after: &call::After,
) -> Result<Option<Placed>, String> {
    let policy = &ctx.config.calls;
    let uri = call::request_uri(to, &ctx.uri_host(ep), ep.port.get());
    let mut auth = policy.credentials.clone().map(DigestClient::new);
    let mut last = None;
    for offer in [Offer::Plain, Offer::Sdes] {
        let _one = policy.one_at_a_time().await;
        if !policy.take_call() {
            break;
        }
        ctx.call_placed();
        let placed = call::place_then(ctx, ep, &uri, offer, auth.as_mut(), opts, after).await?;
        let media_refused = matches!(placed.outcome.final_code(), Some(488 | 415 | 606));
        last = Some(placed);
        if !media_refused {
            break;
        }
    }
    Ok(last)
}

/// Outcome of one attempted call: the call, or why it was not placed.
type Attempt = Result<Placed, String>;

async fn call_once(
    ctx: &Context,
    ep: &Endpoint,
    to: &str,
    offer: Offer,
    auth: &mut Option<DigestClient>,
) -> Attempt {
    let policy = &ctx.config.calls;
    let _one = policy.one_at_a_time().await;
    if !policy.take_call() {
        return Err(format!(
            "--max-calls ({}) reached before this offer",
            policy.max_calls
        ));
    }
    ctx.call_placed();
    let uri = call::request_uri(to, &ctx.uri_host(ep), ep.port.get());
    call::place(
        ctx,
        ep,
        &uri,
        offer,
        auth.as_mut(),
        &InviteOptions::default(),
    )
    .await
}

async fn run(ctx: &Context) -> Vec<Finding> {
    let to = match ctx.config.calls.permitted() {
        Ok(t) => t.to_string(),
        Err(reason) => return skipped_all(&reason),
    };
    let eps = call_endpoints(ctx).await;
    let Some((ep, _)) = eps.first().cloned() else {
        return skipped_all("no endpoint to call");
    };
    let mut auth = ctx.config.calls.credentials.clone().map(DigestClient::new);
    let sdes = call_once(ctx, &ep, &to, Offer::Sdes, &mut auth).await;
    let dtls = call_once(ctx, &ep, &to, Offer::Dtls, &mut auth).await;
    let plain = call_once(ctx, &ep, &to, Offer::Plain, &mut auth).await;
    // SDES over plaintext signalling: the SDES call itself when it went over UDP/TCP, else one more call.
    let clear_ep = eps
        .iter()
        .find(|(e, a)| *a && e.transport != Transport::Tls)
        .map(|(e, _)| e.clone());
    let clear_call = match (&clear_ep, ep.transport) {
        (Some(e), Transport::Tls) => Some(call_once(ctx, e, &to, Offer::Sdes, &mut auth).await),
        _ => None,
    };
    let summary = summary(&sdes, &dtls, &plain);
    let mut out = vec![
        judge_sdes(&sdes, &summary),
        judge_dtls(&dtls, &summary),
        judge_plain(&plain, &summary),
    ];
    out.push(match (&clear_call, ep.transport) {
        (Some(c), _) => judge_cleartext(c),
        (None, Transport::Tls) => finding(
            CLEAR,
            Status::Skipped,
            "no plaintext (UDP/TCP) endpoint answered, so SDES keys cannot travel in clear",
        ),
        (None, _) => judge_cleartext(&sdes),
    });
    out.push(judge_flow(&sdes, &dtls));
    out
}

/// The call to judge, or the finding saying why it cannot be judged (not placed, challenged without
/// credentials, no answer).
fn judgeable<'a>(id: &str, a: &'a Attempt) -> Result<&'a Placed, Box<Finding>> {
    let p = match a {
        Err(e) => {
            let st = if e.contains("--max-calls") {
                Status::Skipped
            } else {
                Status::Error
            };
            return Err(Box::new(finding(id, st, e.clone())));
        }
        Ok(p) => p,
    };
    let reason = unjudgeable(p);
    match reason {
        Some(r) => Err(Box::new(call_finding(
            id,
            p,
            Status::Error,
            r,
            &call_details(p),
        ))),
        None => Ok(p),
    }
}

/// Why a placed call says nothing about what it was placed to measure (challenged without credentials,
/// credentials refused, no such destination, not taken, no final answer), or `None`.
pub(crate) fn unjudgeable(p: &Placed) -> Option<String> {
    let o = &p.outcome;
    let code = o.final_code();
    match code {
        Some(401 | 407) if o.answered_with.is_none() => Some(format!(
            "the trunk asked for credentials ({}); give --user and SIPCHECK_PASSWORD or --password-file",
            code.unwrap_or_default()
        )),
        Some(401 | 407 | 403) if o.answered_with.is_some() => Some(format!(
            "the credentials were not accepted: the authenticated INVITE was answered \"{}\"{}",
            o.credentials_refused()
                .unwrap_or_default()
                .trim_start_matches("SIP/2.0 "),
            if o.stale_retried {
                " (after a stale-nonce retry)"
            } else {
                ""
            }
        )),
        Some(404 | 484 | 604) => Some(format!(
            "the destination does not exist ({}); check --call-to",
            o.final_response
                .as_ref()
                .map(|m| m.first_line())
                .unwrap_or_default()
        )),
        Some(486 | 600 | 603 | 480) => Some(format!(
            "the destination did not take the call ({}), so the offer could not be judged",
            o.final_response
                .as_ref()
                .map(|m| m.first_line())
                .unwrap_or_default()
        )),
        None => Some(format!(
            "no final answer: {}",
            o.error.clone().unwrap_or_else(|| "unknown".into())
        )),
        _ => None,
    }
}

/// The call a finding is judged on, as every media finding reports it.
fn call_details(p: &Placed) -> MediaCall {
    let sdp = p.answer.as_ref();
    let m = sdp.and_then(|s| s.audio());
    MediaCall {
        offer: p.offer,
        transport: Some(p.endpoint.transport),
        final_response: p.outcome.final_response.as_ref().map(|m| m.first_line()),
        provisional: p.outcome.provisional.clone(),
        authenticated_with: p.outcome.answered_with.map(|a| a.as_str().to_string()),
        auth_rounds: p.outcome.auth_rounds,
        stale_nonce_retried: p.outcome.stale_retried,
        cancelled: p.outcome.cancelled.clone(),
        answer_profile: m.map(|m| m.proto.clone()),
        answer_crypto: m.map(|m| m.cryptos().iter().map(|c| c.describe()).collect()),
        answer_fingerprint: sdp
            .zip(m)
            .and_then(|(s, m)| s.fingerprint(m))
            .map(|(hash, fingerprint)| Fingerprint { hash, fingerprint }),
        answer_setup: sdp.zip(m).and_then(|(s, m)| s.setup(m)),
        answer_rtcp_mux: m.map(|m| m.rtcp_mux()),
        sdp_offer: p.offer_sdp.clone(),
        sdp_answer: p.answer_sdp.clone(),
        media: p.flow.clone(),
        teardown: p.teardown.details(),
    }
}

/// A finding about one placed call: its endpoint, its typed details and its evidence.
fn call_finding<D: serde::Serialize>(
    id: &str,
    p: &Placed,
    status: Status,
    summary: String,
    d: &D,
) -> Finding {
    finding(id, status, summary)
        .endpoint(&p.endpoint)
        .with_details(d)
        .evidence(p.evidence.clone())
}

fn answered(p: &Placed) -> Option<String> {
    p.outcome.answer()?;
    Some(
        p.answer
            .as_ref()
            .and_then(|s| s.audio())
            .map(|m| m.proto.clone())
            .unwrap_or_default(),
    )
}

fn refused(p: &Placed) -> Option<String> {
    let c = p.outcome.final_code()?;
    (c >= 300).then(|| {
        p.outcome
            .final_response
            .as_ref()
            .map(|m| m.first_line())
            .unwrap_or_default()
    })
}

/// Accepted / preferred / required, across the three offers.
fn summary(sdes: &Attempt, dtls: &Attempt, plain: &Attempt) -> MediaSummary {
    let sdes_ok = sdes.as_ref().ok().and_then(|p| {
        answered(p)?;
        p.chosen.as_ref().and_then(|c| c.suite).map(|s| s.name())
    });
    let dtls_ok = dtls.as_ref().ok().is_some_and(|p| {
        answered(p).is_some_and(|proto| proto.to_ascii_uppercase().contains("TLS"))
            && p.answer
                .as_ref()
                .and_then(|s| s.audio().map(|m| s.fingerprint(m)))
                .flatten()
                .is_some()
    });
    let plain_ok = plain
        .as_ref()
        .ok()
        .and_then(answered)
        .is_some_and(|proto| !proto.to_ascii_uppercase().contains("SAVP"));
    let plain_refused = plain.as_ref().ok().and_then(refused).is_some();
    let mut accepted = Vec::new();
    if let Some(s) = sdes_ok {
        accepted.push(format!("SDES ({s})"));
    }
    if dtls_ok {
        accepted.push("DTLS-SRTP".to_string());
    }
    if plain_ok {
        accepted.push("plain RTP".to_string());
    }
    MediaSummary {
        accepted,
        sdes_suite_preferred: sdes_ok.map(str::to_string),
        srtp_required: if plain_ok {
            Some(false)
        } else if plain_refused {
            Some(true)
        } else {
            None
        },
    }
}

fn judge_sdes(a: &Attempt, summary: &MediaSummary) -> Finding {
    let p = match judgeable(SDES, a) {
        Ok(p) => p,
        Err(f) => return *f,
    };
    // Only the pass verdict is an SDES-SRTP session: an offered suite under its tag, with a usable key.
    let base = |st: Status, s: String| {
        let d = SdesDetails {
            call: call_details(p),
            accepted: Some(st == Status::Pass),
            summary: summary.clone(),
        };
        call_finding(SDES, p, st, s, &d)
    };
    if let Some(r) = refused(p) {
        return base(Status::Info, format!("SDES offer refused: {r}"));
    }
    let proto = answered(p).unwrap_or_default();
    let m = p.answer.as_ref().and_then(|s| s.audio());
    let cryptos = m.map(|m| m.cryptos()).unwrap_or_default();
    match (cryptos.first(), proto.to_ascii_uppercase().contains("SAVP")) {
        (None, true) => base(
            Status::Warn,
            format!(
                "answered {proto} but without an a=crypto line: not an SDES acceptance (no keys, so no SRTP)"
            ),
        ),
        (None, false) => base(
            Status::Fail,
            format!(
                "answered the SDES offer with {proto}: the call fell back to unencrypted media"
            ),
        ),
        (Some(c), _) => {
            // RFC 4568 §5.1.2: the answer repeats the tag and suite of one offered line.
            let offered = crate::sip::sdp::Suite::OFFERED
                .iter()
                .position(|s| Some(*s) == c.suite)
                .is_some_and(|i| i + 1 == c.tag as usize);
            if !offered {
                base(
                    Status::Fail,
                    format!(
                        "answered with a crypto suite/tag that was not offered: {} (RFC 4568 §5.1.2)",
                        c.describe()
                    ),
                )
            } else if c.key_salt().is_none() {
                base(
                    Status::Fail,
                    format!("answered {} with an unusable key", c.suite_name),
                )
            } else {
                base(
                    Status::Pass,
                    format!(
                        "SDES accepted with {} ({proto}){}",
                        c.suite_name,
                        if c.session_params.is_empty() {
                            String::new()
                        } else {
                            format!(", session parameters {}", c.session_params.join(" "))
                        }
                    ),
                )
            }
        }
    }
}

fn judge_dtls(a: &Attempt, summary: &MediaSummary) -> Finding {
    let p = match judgeable(DTLS, a) {
        Ok(p) => p,
        Err(f) => return *f,
    };
    let dtls = p.dtls.as_ref();
    // DTLS-SRTP is established when the handshake completed and the peer certificate matched the
    // answer's fingerprint (a role or RTCP-component problem does not undo that).
    let established = dtls.is_some_and(|d| d.completed && d.fingerprint_matches == Some(true));
    let base = |st, s: String, accepted: bool| {
        let d = DtlsSrtpDetails {
            call: call_details(p),
            accepted: Some(accepted),
            summary: summary.clone(),
            dtls_handshake_completed: dtls.is_some_and(|d| d.completed),
            dtls: dtls.cloned(),
            dtls_rtcp: p.dtls_rtcp.clone(),
        };
        call_finding(DTLS, p, st, s, &d)
    };
    if let Some(r) = refused(p) {
        return base(Status::Info, format!("DTLS-SRTP offer refused: {r}"), false);
    }
    let proto = answered(p).unwrap_or_default();
    let sdp = p.answer.as_ref();
    let m = sdp.and_then(|s| s.audio());
    let fp = sdp.zip(m).and_then(|(s, m)| s.fingerprint(m));
    let setup = sdp.zip(m).and_then(|(s, m)| s.setup(m));
    match (proto.to_ascii_uppercase().contains("TLS"), fp) {
        (true, Some((hash, f))) => {
            // RFC 5763 §5: the answer picks active or passive; an absent attribute means the RFC 4145
            // default (passive in an answer), which is unusual but not a weakness. actpass/holdconn are invalid.
            let bad_role = matches!(setup.as_deref(), Some(r) if r != "active" && r != "passive");
            let role = match setup.as_deref() {
                Some(r) => format!("setup:{r}"),
                None => "no setup attribute (RFC 4145 default: passive)".to_string(),
            };
            let bad_role_note = if bad_role {
                " (an answer must pick active or passive, RFC 5763 §5)"
            } else {
                ""
            };
            let accepted = format!(
                "DTLS-SRTP accepted ({proto}), fingerprint {hash} {f}, {role}{bad_role_note}"
            );
            let judged = |st, s| base(st, s, established);
            judge_handshake(dtls, p.dtls_rtcp.as_ref(), &accepted, bad_role, &judged)
        }
        (true, None) => base(
            Status::Warn,
            format!("answered {proto} without a fingerprint: DTLS-SRTP cannot be authenticated"),
            false,
        ),
        (false, _) => base(
            Status::Info,
            format!("DTLS-SRTP not accepted: the answer used {proto}"),
            false,
        ),
    }
}

/// The verdict on the handshake itself: a certificate other than the answer's fingerprint is a man in
/// the middle (fail); a handshake that did not complete leaves DTLS-SRTP unproven (warn).
fn judge_handshake(
    dtls: Option<&crate::media::dtls::DtlsReport>,
    rtcp: Option<&crate::media::dtls::DtlsReport>,
    accepted: &str,
    bad_role: bool,
    base: &dyn Fn(Status, String) -> Finding,
) -> Finding {
    let Some(d) = dtls else {
        return base(
            Status::Warn,
            format!(
                "{accepted}; no DTLS handshake was attempted (no usable media address in the answer)"
            ),
        );
    };
    if !d.completed {
        return base(
            Status::Warn,
            format!(
                "{accepted}; but the DTLS handshake did not complete: {}",
                d.error.clone().unwrap_or_else(|| "unknown".into())
            ),
        );
    }
    let got = d.peer_fingerprint.clone().unwrap_or_default();
    if d.fingerprint_matches != Some(true) {
        return base(
            Status::Fail,
            format!(
                "{accepted}; but the DTLS peer's certificate has fingerprint {got}, not the one in the answer: the media key exchange is not authenticated by the signalling (man in the middle)"
            ),
        )
        .severity(Severity::High);
    }
    let rtcp_note = match rtcp {
        Some(r) if r.completed && r.fingerprint_matches == Some(true) => {
            "; a second handshake on the RTCP port also completed".to_string()
        }
        Some(r) if r.completed => format!(
            "; the RTCP port's handshake presented fingerprint {}, not the answer's",
            r.peer_fingerprint.clone().unwrap_or_default()
        ),
        Some(r) => format!(
            "; the RTCP port's handshake did not complete ({})",
            r.error.clone().unwrap_or_default()
        ),
        None => String::new(),
    };
    let rtcp_bad = rtcp.is_some_and(|r| r.fingerprint_matches == Some(false));
    let status = if rtcp_bad {
        Status::Fail
    } else if bad_role {
        Status::Warn
    } else {
        Status::Pass
    };
    base(
        status,
        format!(
            "{accepted}; handshake completed as {} ({}, {}, SRTP profile {}), the peer certificate matches the fingerprint{rtcp_note}",
            match d.role {
                Some(crate::media::dtls::Role::Server) => "DTLS server",
                _ => "DTLS client",
            },
            d.version.clone().unwrap_or_default(),
            d.cipher_suite.clone().unwrap_or_default(),
            d.srtp_profile.clone().unwrap_or_default(),
        ),
    )
}

fn judge_plain(a: &Attempt, summary: &MediaSummary) -> Finding {
    let p = match judgeable(PLAIN, a) {
        Ok(p) => p,
        Err(f) => return *f,
    };
    let base = |st, s: String, accepted: bool| {
        let d = RtpPlainDetails {
            call: call_details(p),
            accepted: Some(accepted),
            summary: summary.clone(),
        };
        call_finding(PLAIN, p, st, s, &d)
    };
    if let Some(r) = refused(p) {
        return base(
            Status::Pass,
            format!("an unencrypted RTP/AVP offer was refused ({r}): SRTP is required"),
            false,
        );
    }
    let proto = answered(p).unwrap_or_default();
    let got = p.flow.as_ref().map(|f| f.rtp_received).unwrap_or(0);
    base(
        Status::Fail,
        format!(
            "an unencrypted RTP/AVP offer was accepted ({proto}): calls can be downgraded to plain RTP{}",
            if got > 0 {
                format!("; {got} unencrypted RTP packets arrived")
            } else {
                String::new()
            }
        ),
        true,
    )
    .severity(Severity::High)
}

fn judge_cleartext(a: &Attempt) -> Finding {
    let p = match judgeable(CLEAR, a) {
        Ok(p) => p,
        Err(f) => return *f,
    };
    let t = p.endpoint.transport;
    let has_crypto = refused(p).is_none()
        && p.answer
            .as_ref()
            .and_then(|s| s.audio())
            .is_some_and(|m| !m.cryptos().is_empty());
    let base = |st, s: String| {
        let d = SdesCleartextDetails {
            call: call_details(p),
            keys_in_clear: Some(has_crypto),
        };
        call_finding(CLEAR, p, st, s, &d)
    };
    if let Some(r) = refused(p) {
        return base(
            Status::Pass,
            format!("an SDES offer over {t} (plaintext signalling) was refused ({r})"),
        );
    }
    if has_crypto {
        base(
            Status::Warn,
            format!(
                "SDES accepted over {t}: the SRTP keys travelled in clear in the SDP, so anyone on the path can decrypt the media"
            ),
        )
    } else {
        base(
            Status::Info,
            format!(
                "an SDES offer over {t} was answered without keys, so no SDES keys travelled in clear"
            ),
        )
    }
}

/// The SDES call when it had keys to exercise, else the DTLS-SRTP call when its handshake gave keys.
fn judge_flow(sdes: &Attempt, dtls: &Attempt) -> Finding {
    let keyed = |a: &Attempt| {
        a.as_ref().ok().is_some_and(|p| {
            p.outcome.answer().is_some()
                && p.flow
                    .as_ref()
                    .is_some_and(|f| f.protection.starts_with("Srtp"))
        })
    };
    let (a, via) = if !keyed(sdes) && keyed(dtls) {
        (dtls, "DTLS-SRTP keys")
    } else {
        (sdes, "SDES keys")
    };
    let p = match a {
        Ok(p) if p.outcome.answer().is_some() => p,
        Ok(_) | Err(_) => {
            return finding(
                FLOW,
                Status::Skipped,
                "no answered SDES or DTLS-SRTP call whose keys could be used",
            );
        }
    };
    let base = |st: Status, s: String| {
        let d = SrtpFlowDetails {
            call: call_details(p),
            keys: via.to_string(),
            verified: (st != Status::Skipped).then_some(st == Status::Pass),
        };
        call_finding(FLOW, p, st, s, &d)
    };
    let Some(f) = &p.flow else {
        return base(
            Status::Skipped,
            "the SDES answer carried no usable key for a suite sipcheck offered, so SRTP could not be exercised".into(),
        );
    };
    if f.srtp_both_ways() && f.rtcp_authenticated > 0 {
        return base(
            Status::Pass,
            format!(
                "SRTP verified in both directions, SRTCP present ({via}: {} SRTP packets authenticated from the far end, its SRTCP reports on our stream{})",
                f.rtp_authenticated,
                if f.rtcp_mux && f.rtcp_on_rtp_port > 0 {
                    ", rtcp-mux"
                } else {
                    ""
                }
            ),
        );
    }
    let mut problems = Vec::new();
    if f.rtp_received == 0 {
        problems.push(format!(
            "no RTP from the far end within {} ms",
            f.duration_ms
        ));
    } else if f.rtp_authenticated == 0 {
        problems.push(format!(
            "none of the {} RTP packets from the far end authenticated with the key from its answer",
            f.rtp_received
        ));
    }
    if f.rtcp_received == 0 {
        problems.push("no RTCP from the far end".into());
    } else if f.rtcp_authenticated == 0 {
        problems.push(format!(
            "none of the {} RTCP packets authenticated as SRTCP",
            f.rtcp_received
        ));
    } else if !f.peer_reports_our_stream {
        problems.push("the far end's SRTCP never reported on our stream, so our SRTP may not have been accepted".into());
    }
    let status = if f.rtp_received > 0 && f.rtp_authenticated == 0 {
        Status::Fail
    } else {
        Status::Warn
    };
    let mut s = problems.join("; ");
    if let Some(e) = f.errors.first() {
        s.push_str(&format!(" (first error: {e})"));
    }
    base(status, s)
}
