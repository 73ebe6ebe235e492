//! The TLS checks beyond versions and suites, measured on the same SIP-TLS port while the scan runs:
//! session resumption and early data, client-initiated renegotiation, SNI, Heartbleed. Each line of
//! dependent handshakes holds one connection slot of the address's politeness budget; the lines run
//! beside the scan's, at most [`LINES_AT_ONCE`] at a time, so they add connections (about nine) but
//! no serial round trips.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::findings::Evidence;
use crate::findings::tls::sni::{DOMAIN, NO_SNI, UNKNOWN};
use crate::findings::tls::{
    EarlyDataDetails, ExtensionsDetails, HeartbleedDetails, Resumption12, Resumption13,
    ResumptionDetails, SniCase, SniDetails, SuiteClass,
};
use crate::probe::Context;
use crate::target::{Endpoint, Transport};
use crate::transport::Turns;
use crate::tls::heartbeat::{self, HeartbeatResult};
use crate::tls::hello::{
    EXT_ENCRYPT_THEN_MAC, EXT_EXTENDED_MASTER_SECRET, EXT_RENEGOTIATION_INFO, EXT_SESSION_TICKET,
};
use crate::tls::scan::ScanResult;
use crate::tls::session::{self, Proto, Renegotiation, ResumeResult, Shake};
use crate::tls::{cert, suites, version};

/// A name no server can hold a certificate for (RFC 6761 §6.4).
pub(super) const UNKNOWN_NAME: &str = "sipcheck-unknown-name.invalid";

/// One exchange of the extra checks, for evidence.
#[derive(Debug, Clone)]
pub(super) struct Step {
    pub at: Duration,
    pub finding: &'static str,
    pub sent: String,
    pub received: String,
}

/// Everything the extra checks measured.
#[derive(Debug, Default)]
pub(super) struct Extras {
    pub resume12_tickets: Option<ResumeResult>,
    pub resume12_ids: Option<ResumeResult>,
    pub resume13: Option<ResumeResult>,
    pub no_sni: Option<Shake>,
    pub unknown_sni: Option<Shake>,
    pub heartbeat: Option<HeartbeatResult>,
    pub log: Vec<Step>,
    pub started: Option<Instant>,
}

/// How many of these lines hold one of the address's connection slots at once. They are not on the
/// scan's longest chain (versions, then suites, then groups: hellos that wait for each other), so
/// they leave the other slots to it: at 100 ms RTT, six lines at once took every slot for the
/// first second and pushed that chain back by as much.
const LINES_AT_ONCE: usize = 2;

/// Runs `f` on a blocking thread while holding one connection slot of the address; `f` takes the
/// address's handshake turns for each handshake.
async fn in_slot<T: Send + 'static>(
    ctx: &Context,
    lines: &Semaphore,
    addr: SocketAddr,
    f: impl FnOnce(&Turns) -> T + Send + 'static,
) -> Option<T> {
    let _line = lines.acquire().await.ok()?;
    let _permit = ctx.limiter.connection(addr.ip()).await;
    let turns = ctx.limiter.turns(addr.ip());
    tokio::task::spawn_blocking(move || f(&turns)).await.ok()
}

/// Starts every line at once; each waits only for its own handshakes.
pub(super) async fn measure(ctx: &Context, ep: &Endpoint, sni: Option<String>) -> Extras {
    let addr = ep.socket_addr();
    let wait = ctx.config.timers.timeout;
    let start = Instant::now();
    let (s1, s2, s3, s4) = (sni.clone(), sni.clone(), sni.clone(), sni.clone());
    let lines = Semaphore::new(LINES_AT_ONCE);
    let lines = &lines;
    let tickets = in_slot(ctx, lines, addr, move |t| {
        session::resume12(addr, s1, true, false, wait, t)
    });
    let ids = in_slot(ctx, lines, addr, move |t| {
        session::resume12(addr, s2, false, true, wait, t)
    });
    let t13 = in_slot(ctx, lines, addr, move |t| {
        session::resume13(addr, s3, wait, t)
    });
    let no_sni = in_slot(ctx, lines, addr, move |t| {
        session::chain_for(addr, None, Proto::Any, wait, t)
    });
    let unknown = in_slot(ctx, lines, addr, move |t| {
        session::chain_for(addr, Some(UNKNOWN_NAME.to_string()), Proto::Any, wait, t)
    });
    let hb = async {
        let _line = lines.acquire().await;
        let _permit = ctx.limiter.connection(addr.ip()).await;
        let turns = ctx.limiter.turns(addr.ip());
        heartbeat::check_in_turn(addr, s4, wait.min(Duration::from_secs(5)), &turns).await
    };
    let (resume12_tickets, resume12_ids, resume13, no_sni, unknown_sni, hb) =
        tokio::join!(tickets, ids, t13, no_sni, unknown, hb);
    let mut x = Extras {
        resume12_tickets,
        resume12_ids,
        resume13,
        no_sni,
        unknown_sni,
        heartbeat: Some(hb),
        log: Vec::new(),
        started: Some(start),
    };
    x.log = log_of(&x);
    x
}

fn shake_words(s: &Shake) -> String {
    match &s.failure {
        Some(f) => format!("handshake failed: {f}"),
        None => format!(
            "handshake completed{}{}",
            s.suite
                .as_ref()
                .map(|x| format!(" with {x}"))
                .unwrap_or_default(),
            if s.resumed { ", resumed" } else { "" }
        ),
    }
}

fn log_of(x: &Extras) -> Vec<Step> {
    let mut out = Vec::new();
    let mut push = |finding: &'static str, sent: String, received: String| {
        out.push(Step {
            at: Duration::ZERO,
            finding,
            sent,
            received,
        })
    };
    for (r, what) in [
        (&x.resume12_tickets, "TLS 1.2 (session ticket asked)"),
        (&x.resume12_ids, "TLS 1.2 (session id only)"),
    ] {
        if let Some(r) = r {
            push(
                "tls.resumption",
                format!("full handshake, {what}"),
                shake_words(&r.first),
            );
            if let Some(s) = &r.second {
                push(
                    "tls.resumption",
                    format!("resumption, {what}"),
                    shake_words(s),
                );
                if let Some(rn) = &s.renegotiation {
                    push(
                        "tls.extensions",
                        "ClientHello with renegotiation_info on the completed TLS 1.2 session"
                            .into(),
                        renegotiation_words(rn),
                    );
                }
            }
            retries(&mut push, r, what);
        }
    }
    if let Some(r) = &x.resume13 {
        push(
            "tls.resumption",
            "full handshake, TLS 1.3".into(),
            format!("{}; {} ticket(s)", shake_words(&r.first), r.tickets),
        );
        if let Some(s) = &r.second {
            push(
                "tls.early_data",
                format!(
                    "TLS 1.3 resumption (psk_dhe_ke) with {} bytes of early data (CRLF CRLF)",
                    s.early_sent
                ),
                format!(
                    "{}; early data {}",
                    shake_words(s),
                    match s.early_accepted {
                        Some(true) => "accepted",
                        Some(false) => "refused",
                        None => "not sent",
                    }
                ),
            );
        }
        retries(&mut push, r, "TLS 1.3 (psk_dhe_ke, no early data)");
    }
    for (s, what) in [
        (&x.no_sni, "without SNI"),
        (&x.unknown_sni, "SNI sipcheck-unknown-name.invalid"),
    ] {
        if let Some(s) = s {
            push("tls.sni", format!("handshake {what}"), shake_words(s));
        }
    }
    if let Some(h) = &x.heartbeat {
        push(
            "tls.heartbleed",
            "ClientHello with the heartbeat extension".into(),
            format!(
                "{}{}",
                h.hello,
                if h.extension {
                    ", heartbeat negotiated"
                } else {
                    ", heartbeat not negotiated"
                }
            ),
        );
        if h.request_sent {
            push(
                "tls.heartbleed",
                format!(
                    "heartbeat request claiming {} bytes, carrying none",
                    heartbeat::CLAIM
                ),
                format!(
                    "{}{}",
                    h.answer.clone().unwrap_or_default(),
                    h.response_len
                        .map(|n| format!(" of {n} bytes (content not kept)"))
                        .unwrap_or_default()
                ),
            );
        }
    }
    out
}

/// The evidence of the resumption attempts after a refused one.
fn retries(push: &mut impl FnMut(&'static str, String, String), r: &ResumeResult, what: &str) {
    for (i, s) in r.retries.iter().enumerate() {
        push(
            "tls.resumption",
            format!(
                "resumption again, {what} (attempt {} of at most {})",
                i + 2,
                session::RESUME_TRIES
            ),
            shake_words(s),
        );
    }
}

fn renegotiation_words(r: &Renegotiation) -> String {
    match r {
        Renegotiation::Accepted => "accepted".into(),
        Renegotiation::Refused(a) => format!("refused ({a})"),
        Renegotiation::Dropped(w) => format!("refused by closing ({w})"),
        Renegotiation::NotTested(w) => format!("not tested: {w}"),
    }
}

/// The evidence of one finding's steps.
pub(super) fn evidence(ctx: &Context, ep: &Endpoint, x: &Extras, finding: &str) -> Vec<Evidence> {
    let at = x
        .started
        .map(|s| ctx.elapsed().saturating_sub(s.elapsed()))
        .unwrap_or_default();
    x.log
        .iter()
        .filter(|s| s.finding == finding)
        .map(|s| Evidence {
            transport: Transport::Tls,
            remote: ep.socket_addr().to_string(),
            local: None,
            at_ms: (at + s.at).as_millis() as u64,
            rtt_ms: None,
            sent: s.sent.clone(),
            received: s.received.clone(),
            note: None,
        })
        .collect()
}

fn accepted(r: &ScanResult, v: version::Version) -> bool {
    r.accepted().contains(&v)
}

fn resumption12(r: &ResumeResult) -> Resumption12 {
    let first = &r.first;
    let mut out = Resumption12 {
        failure: first.failure.clone(),
        session_id_issued: first.clear.session_id_len.unwrap_or(0) > 0,
        ticket_issued: first.clear.ticket.is_some(),
        ticket_lifetime_hint: first.clear.ticket.map(|(h, _)| h),
        ..Default::default()
    };
    if r.second.is_some() {
        let resumed = r.resumed();
        if out.ticket_issued {
            out.ticket_resumed = resumed;
        } else if out.session_id_issued {
            out.session_id_resumed = resumed;
        }
    }
    out
}

/// `tls.resumption` from the two TLS 1.2 lines and the TLS 1.3 line.
pub(super) fn resumption(r: &ScanResult, x: &Extras) -> ResumptionDetails {
    let mut d = ResumptionDetails::default();
    if accepted(r, version::Version::Tls12) {
        let mut t = x
            .resume12_tickets
            .as_ref()
            .map(resumption12)
            .unwrap_or_default();
        if let Some(ids) = x.resume12_ids.as_ref().map(resumption12) {
            t.session_id_issued |= ids.session_id_issued;
            t.session_id_resumed = ids.session_id_resumed.or(t.session_id_resumed);
            if t.failure.is_some() && ids.failure.is_none() {
                t.failure = None;
            }
        }
        d.tls12 = Some(t);
    }
    if accepted(r, version::Version::Tls13)
        && let Some(x13) = &x.resume13
    {
        d.tls13 = Some(Resumption13 {
            failure: x13.first.failure.clone(),
            tickets: x13.tickets,
            psk_dhe_resumed: x13.resumed(),
        });
    }
    d.handshakes = [&x.resume12_tickets, &x.resume12_ids, &x.resume13]
        .iter()
        .filter_map(|r| r.as_ref())
        .map(|r| 1 + usize::from(r.second.is_some()) + r.retries.len())
        .sum();
    d
}

/// `tls.early_data` from the TLS 1.3 line.
pub(super) fn early_data(r: &ScanResult, x: &Extras) -> EarlyDataDetails {
    let mut d = EarlyDataDetails::default();
    if !accepted(r, version::Version::Tls13) {
        d.not_applicable = Some("TLS 1.3 not accepted".into());
        return d;
    }
    let Some(t) = &x.resume13 else {
        d.error = Some("the TLS 1.3 handshakes did not run".into());
        return d;
    };
    if let Some(f) = &t.first.failure {
        d.error = Some(format!("the TLS 1.3 handshake failed: {f}"));
        return d;
    }
    d.max_early_data_size = t.max_early_data;
    if t.tickets == 0 {
        d.not_applicable = Some("no TLS 1.3 ticket issued, so no resumption".into());
        return d;
    }
    d.applicable = true;
    if let Some(s) = &t.second {
        d.early_data_sent = s.early_sent;
        d.accepted = s.early_accepted;
    }
    d
}

/// `tls.extensions` from the scan's ServerHellos and the renegotiation attempt.
pub(super) fn extensions(r: &ScanResult, x: &Extras) -> ExtensionsDetails {
    use crate::tls::scan::HelloFacts;
    let facts: Vec<&HelloFacts> = r
        .hello_facts
        .iter()
        .filter(|f| f.version >= 0x0301 && f.version <= 0x0303)
        .collect();
    let label = |f: &HelloFacts| {
        format!(
            "{} {}",
            version::wire_label(f.version),
            suites::name(f.suite)
        )
    };
    let cbc: Vec<&HelloFacts> = facts
        .iter()
        .copied()
        .filter(|f| suites::classes(&suites::name(f.suite)).contains(&SuiteClass::Cbc))
        .collect();
    let every = |fs: &[&HelloFacts], ext: u16| {
        (!fs.is_empty()).then(|| fs.iter().all(|f| f.extensions.contains(&ext)))
    };
    let (all, cbc_refs) = (&facts[..], &cbc[..]);
    let mut d = ExtensionsDetails {
        hellos: facts.len(),
        extended_master_secret: every(all, EXT_EXTENDED_MASTER_SECRET),
        without_ems: facts
            .iter()
            .filter(|f| !f.extensions.contains(&EXT_EXTENDED_MASTER_SECRET))
            .map(|f| label(f))
            .collect(),
        cbc_hellos: cbc.len(),
        encrypt_then_mac: every(cbc_refs, EXT_ENCRYPT_THEN_MAC),
        secure_renegotiation: every(all, EXT_RENEGOTIATION_INFO),
        session_ticket: (!facts.is_empty()).then(|| {
            facts
                .iter()
                .any(|f| f.extensions.contains(&EXT_SESSION_TICKET))
        }),
        ..Default::default()
    };
    if accepted(r, version::Version::Tls12) {
        let rn = x
            .resume12_ids
            .as_ref()
            .and_then(|r| r.second.as_ref())
            .and_then(|s| s.renegotiation.clone());
        d.client_renegotiation = Some(match &rn {
            Some(r) => renegotiation_words(r),
            None => match x.resume12_ids.as_ref().map(|r| &r.first) {
                Some(Shake {
                    failure: Some(f), ..
                }) => format!("not tested: the TLS 1.2 handshake failed ({f})"),
                _ => "not tested".into(),
            },
        });
        d.client_renegotiation_accepted = match rn {
            Some(Renegotiation::Accepted) => Some(true),
            Some(Renegotiation::Refused(_) | Renegotiation::Dropped(_)) => Some(false),
            _ => None,
        };
    } else if !facts.is_empty() {
        d.client_renegotiation = Some("not tested: TLS 1.2 not accepted".into());
    }
    d
}

fn sha256_hex(b: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, b)
        .as_ref()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn sni_case(case: &str, sni: Option<String>, s: Option<&Shake>, domain: &str) -> SniCase {
    let now = cert::now_unix();
    let leaf = s
        .and_then(|s| s.chain.first())
        .and_then(|d| cert::analyse(d, now).map(|c| (d, c)));
    SniCase {
        case: case.to_string(),
        sni,
        handshake: match s {
            None => "not run".into(),
            Some(s) => match &s.failure {
                None => "completed".into(),
                Some(f) => f.clone(),
            },
        },
        leaf_subject: leaf.as_ref().map(|(_, c)| c.subject.clone()),
        leaf_sha256: leaf.as_ref().map(|(d, _)| sha256_hex(d)),
        identity: leaf.as_ref().map(|(_, c)| cert::sip_identity(c, domain)),
    }
}

/// `tls.sni`: the certificate without SNI, with the domain (the resumption lines' first handshake),
/// and with an unknown name.
pub(super) fn sni(domain: &str, sni: Option<&str>, x: &Extras) -> SniDetails {
    let with_domain = x
        .resume13
        .as_ref()
        .map(|r| &r.first)
        .filter(|s| s.failure.is_none())
        .or_else(|| x.resume12_tickets.as_ref().map(|r| &r.first));
    let mut cases = vec![sni_case(NO_SNI, None, x.no_sni.as_ref(), domain)];
    if let Some(name) = sni {
        cases.push(sni_case(
            DOMAIN,
            Some(name.to_string()),
            with_domain,
            domain,
        ));
    }
    cases.push(sni_case(
        UNKNOWN,
        Some(UNKNOWN_NAME.to_string()),
        x.unknown_sni.as_ref(),
        domain,
    ));
    let leaves: Vec<&String> = cases
        .iter()
        .filter_map(|c| c.leaf_sha256.as_ref())
        .collect();
    SniDetails {
        domain: domain.to_string(),
        same_certificate: (leaves.len() >= 2).then(|| leaves.windows(2).all(|w| w[0] == w[1])),
        cases,
        error: None,
    }
}

/// `tls.heartbleed` from the heartbeat check; a server without TLS ≤ 1.2 has no heartbeat to abuse
/// (TLS 1.3 has none).
pub(super) fn heartbleed(r: &ScanResult, x: &Extras) -> HeartbleedDetails {
    let legacy = r.accepted().iter().any(|v| *v <= version::Version::Tls12);
    if !legacy {
        return HeartbleedDetails {
            hello: "TLS 1.3 only".into(),
            claimed_length: heartbeat::CLAIM,
            read_cap: heartbeat::READ_CAP,
            vulnerable: Some(false),
            answer: Some("not applicable: no TLS ≤ 1.2, and TLS 1.3 has no heartbeat".into()),
            ..Default::default()
        };
    }
    let Some(h) = &x.heartbeat else {
        return HeartbleedDetails {
            error: Some("the heartbeat check did not run".into()),
            ..Default::default()
        };
    };
    HeartbleedDetails {
        hello: h.hello.clone(),
        version: h.version.clone(),
        heartbeat_extension: h.extension,
        request_sent: h.request_sent,
        claimed_length: heartbeat::CLAIM,
        answer: h.answer.clone(),
        leaked_length: h.leaked_len,
        leaked_sha256: h.leaked_sha256.clone(),
        read_cap: heartbeat::READ_CAP,
        vulnerable: h.vulnerable(),
        error: None,
    }
}
