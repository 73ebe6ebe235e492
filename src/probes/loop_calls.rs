//! Loop calls: the far side of a call. Test calls go out through the trunk to a DID (`--loop-call`)
//! that the trunk routes back to sipcheck's own listener (`--listen`); the INVITE that arrives shows
//! what the trunk delivers: the STIR/SHAKEN Identity it signed for our own number (question 12), what
//! it does with a caller ID we do not own (question 11), and with anonymous calls and call bursts
//! (question 13).
//!
//! Only with `--allow-calls`; every call counts against `--max-calls`, calls never overlap, each is
//! CANCELled when no final answer arrives in time, and the listener answers 486 so no call is ever
//! set up. The spoofed number defaults to one reserved for fiction (NANP 555-01XX), never a third
//! party's.

use std::time::{Duration, Instant};

use serde_json::json;

use super::media::call_endpoints;
use crate::call::{self, InviteOptions, Offer};
use crate::findings::stir::{BlockingNoticeDetails, CallRateDetails, LoopCallDetails, Notice};
use crate::findings::{Evidence, Finding, FindingId, Severity, Status, ids};
use crate::listen::flow::{FlowReport, Registration, Reopen};
use crate::listen::{Inbound, ListenAddr, ListenConfig, Listener};
use crate::probe::{BoxFuture, Context, Probe, Safety};
use crate::sip::Message;
use crate::sip::digest::DigestClient;
use crate::stir::{self, RequestIdentity, Verdict, VerifyContext, passport::canonical_tn};

/// A loop call that gets no final answer within this is CANCELled.
pub const RING: Duration = Duration::from_secs(8);
/// How long after a call's final answer its inbound INVITE may still be matched.
const GRACE: Duration = Duration::from_secs(1);
/// `--dos` burst: at most this many calls, stopping at the first refusal.
pub const BURST: u32 = 20;
/// The burst stops after this long whatever the trunk does, so the probe ends within its timeout.
pub const BURST_TIME: Duration = Duration::from_secs(40);

const ATTESTATION: FindingId<LoopCallDetails> = ids::STIR_ATTESTATION;
const SPOOF_FROM: FindingId<LoopCallDetails> = ids::SPOOF_CALLER_ID;
const SPOOF_PAI: FindingId<LoopCallDetails> = ids::SPOOF_ASSERTED_IDENTITY;
const ANONYMOUS: FindingId<LoopCallDetails> = ids::SPIT_ANONYMOUS;

/// One loop-call case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    Owned,
    SpoofedCallerId,
    SpoofedAssertedIdentity,
    Anonymous,
    Burst,
}

/// The From and extra headers of a case.
pub fn identity_of(
    case: Case,
    owned: &str,
    spoof: &str,
    domain: &str,
) -> (String, Vec<(String, String)>) {
    let addr = |n: &str| format!("<sip:{n}@{domain}>");
    let pai = |n: &str| ("P-Asserted-Identity".to_string(), addr(n));
    match case {
        Case::Owned | Case::Burst => (addr(owned), vec![pai(owned)]),
        Case::SpoofedCallerId => (addr(spoof), vec![pai(spoof)]),
        Case::SpoofedAssertedIdentity => (addr(owned), vec![pai(spoof)]),
        Case::Anonymous => (
            "\"Anonymous\" <sip:anonymous@anonymous.invalid>".into(),
            vec![pai(owned), ("Privacy".into(), "id".into())],
        ),
    }
}

/// What `--dry-run` lists: the calls that would be placed, in order.
pub fn planned(ctx: &Context) -> Vec<String> {
    let Ok(r) = gate(ctx) else {
        return Vec::new();
    };
    let mut v: Vec<String> = [
        Case::Owned,
        Case::SpoofedCallerId,
        Case::SpoofedAssertedIdentity,
        Case::Anonymous,
    ]
    .iter()
    .map(|c| {
        let (from, h) = identity_of(*c, &r.owned, &r.spoof, &ctx.config.domain);
        let extra: Vec<String> = h.iter().map(|(n, v)| format!("{n}: {v}")).collect();
        format!(
            "{c:?} call to {}: From {from}; {}",
            r.number,
            extra.join("; ")
        )
    })
    .collect();
    if ctx.config.dos {
        v.push(format!(
            "Burst: up to {BURST} calls to {} back to back, stopping at the first refusal",
            r.number
        ));
    }
    let back = match &r.receiver {
        Receiver::Listen(l) => format!("the listener on {} answers 486", l.at),
        Receiver::Register => format!(
            "the calls come back over a REGISTER as {} on {} (no listening port; CRLF keep-alives), answered 486; unREGISTERed (Expires: 0) at the end",
            register_user(ctx, &r),
            ctx.endpoints
                .iter()
                .find(|e| e.transport.is_stream())
                .map(|e| e.to_string())
                .unwrap_or_else(|| "no TCP or TLS endpoint: skipped".into())
        ),
    };
    v.push(format!(
        "each counted against --max-calls ({}); {back}",
        ctx.config.calls.max_calls
    ));
    v
}

struct Ready {
    number: String,
    owned: String,
    spoof: String,
    receiver: Receiver,
}

/// Where the calls come back.
enum Receiver {
    /// A listener the DID is routed to (`--listen`).
    Listen(ListenConfig),
    /// The flow of a registration (`--loop-via-register`).
    Register,
}

/// The account the flow registers: `--user`, else the caller ID.
fn register_user(ctx: &Context, r: &Ready) -> String {
    ctx.config
        .calls
        .credentials
        .as_ref()
        .map(|c| c.user.clone())
        .unwrap_or_else(|| r.owned.clone())
}

fn gate(ctx: &Context) -> Result<Ready, String> {
    let l = &ctx.config.loop_calls;
    let number = l
        .number
        .clone()
        .ok_or("places loop calls: give --loop-call NUMBER (a DID the trunk routes to --listen)")?;
    let receiver = match (&l.listen, l.via_register) {
        (Some(c), _) => Receiver::Listen(c.clone()),
        (None, true) => Receiver::Register,
        (None, false) => {
            return Err("places loop calls: give --listen ADDR:PORT (where the DID is routed) or --loop-via-register".into());
        }
    };
    if !ctx.config.calls.allow {
        return Err("places loop calls: --allow-calls was not given".into());
    }
    let owned = ctx
        .config
        .calls
        .caller_id
        .clone()
        .ok_or("places loop calls: give --caller-id (a number you own on the trunk)")?;
    Ok(Ready {
        number,
        owned,
        spoof: l.spoof().to_string(),
        receiver,
    })
}

pub struct LoopCalls;

impl Probe for LoopCalls {
    fn id(&self) -> &'static str {
        "stir.loop"
    }
    fn title(&self) -> &'static str {
        "Loop calls: STIR/SHAKEN attestation, caller-ID spoofing, anonymous calls, call rate"
    }
    /// It places calls; its burst (`spit.call_rate`, a dos-class finding) runs only with `--dos`, so the
    /// probe as a whole is not held back to the dos phase.
    fn safety(&self) -> Safety {
        Safety::Calls
    }
    fn gate(&self, ctx: &Context) -> Option<String> {
        gate(ctx).err()
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(run(ctx))
    }
}

/// One loop call and what arrived.
pub struct Outcome {
    pub case: Case,
    pub from: String,
    pub headers: Vec<(String, String)>,
    /// The trunk's final answer to our INVITE.
    pub answer: Option<Message>,
    pub cancelled: Option<String>,
    pub error: Option<String>,
    /// The INVITE the listener received for this call.
    pub inbound: Option<Inbound>,
    pub identity: Option<RequestIdentity>,
    pub elapsed: Duration,
    pub evidence: Vec<Evidence>,
}

impl Outcome {
    fn code(&self) -> Option<u16> {
        self.answer.as_ref().and_then(Message::status)
    }
    fn answer_line(&self) -> String {
        self.answer
            .as_ref()
            .map(|m| m.first_line())
            .or_else(|| self.error.clone())
            .unwrap_or_else(|| "no answer".into())
    }
    /// Refused by the trunk: a final error and nothing delivered.
    fn refused(&self) -> bool {
        self.inbound.is_none() && self.code().is_some_and(|c| c >= 300)
    }
    /// The attestation the delivered call carried (the PASSporT's claim, else the carrier's verstat).
    fn attestation(&self) -> Option<String> {
        let id = self.identity.as_ref()?;
        id.first()
            .and_then(|i| i.passport.as_ref())
            .and_then(|p| p.attest.clone())
            .or_else(|| id.carrier_attestation().map(str::to_string))
    }
    fn delivered_caller(&self) -> Option<String> {
        self.identity.as_ref().and_then(|i| i.caller.clone())
    }
    fn details(&self) -> LoopCallDetails {
        let name = |v: serde_json::Value| v.as_str().map(str::to_string).unwrap_or_default();
        LoopCallDetails {
            case: name(json!(self.case)),
            from: self.from.clone(),
            headers: self
                .headers
                .iter()
                .map(|(n, v)| format!("{n}: {v}"))
                .collect(),
            answer: self.answer.as_ref().map(|m| m.first_line()),
            cancelled: self.cancelled.clone(),
            error: self.error.clone(),
            delivered: self.inbound.is_some(),
            delivered_caller: self.delivered_caller(),
            attestation: self.attestation(),
            verdict: self
                .identity
                .as_ref()
                .and_then(|i| i.first())
                .map(|i| name(json!(i.verdict))),
            spoof_went_through: None,
            identity: self
                .identity
                .as_ref()
                .and_then(|i| serde_json::to_value(i).ok()),
            elapsed_ms: self.elapsed.as_millis() as u64,
        }
    }
}

/// Same number, allowing for a trunk that adds or drops a country code.
fn same_number(a: &str, b: &str) -> bool {
    match (canonical_tn(a), canonical_tn(b)) {
        (Some(x), Some(y)) => {
            let (s, l) = if x.len() <= y.len() {
                (&x, &y)
            } else {
                (&y, &x)
            };
            s == l || (s.len() >= 7 && l.ends_with(s.as_str()))
        }
        _ => false,
    }
}

fn called_number(m: &Message) -> Option<String> {
    stir::verify::called_number(m).or_else(|| match &m.start {
        crate::sip::StartLine::Request { uri, .. } => stir::passport::uri_user(uri),
        _ => None,
    })
}

async fn run(ctx: &Context) -> Vec<Finding> {
    let ids = [
        ATTESTATION.id,
        ids::STIR_SIGNER.id,
        ids::STIR_RCD.id,
        SPOOF_FROM.id,
        SPOOF_PAI.id,
        ANONYMOUS.id,
        ids::SPIT_CALL_RATE.id,
        ids::SPIT_BLOCKING_NOTICE.id,
    ];
    let all = |status: Status, why: String| -> Vec<Finding> {
        ids.iter()
            .map(|id| Finding::of(id, status, why.clone()))
            .collect()
    };
    let r = match gate(ctx) {
        Ok(r) => r,
        Err(why) => return all(Status::Skipped, why),
    };
    let Some((ep, _)) = call_endpoints(ctx).await.first().cloned() else {
        return all(Status::Skipped, "no endpoint to call".into());
    };
    let (listener, _permit) = match receive(ctx, &r).await {
        Ok(l) => l,
        Err((status, why, evidence)) => {
            let mut v = all(status, why);
            if let Some(f) = v.first_mut() {
                f.evidence = evidence;
            }
            return v;
        }
    };
    let verify = ctx
        .config
        .loop_calls
        .verify
        .clone()
        .unwrap_or_else(|| VerifyContext::bare(0));
    let uri = call::request_uri(&r.number, &ctx.uri_host(&ep), ep.port.get());
    let mut auth = ctx.config.calls.credentials.clone().map(DigestClient::new);
    let mut outcomes = Vec::new();
    for case in [
        Case::Owned,
        Case::SpoofedCallerId,
        Case::SpoofedAssertedIdentity,
        Case::Anonymous,
    ] {
        outcomes.push(one(ctx, &ep, &uri, &listener, &verify, &r, case, auth.as_mut()).await);
    }
    let mut burst = Vec::new();
    if ctx.config.dos {
        // The burst shares the probe's time budget with the four calls before it.
        let until = Instant::now() + BURST_TIME;
        for _ in 0..BURST {
            if Instant::now() >= until {
                break;
            }
            let o = one(
                ctx,
                &ep,
                &uri,
                &listener,
                &verify,
                &r,
                Case::Burst,
                auth.as_mut(),
            )
            .await;
            let stop = o.refused() || o.error.is_some();
            burst.push(o);
            if stop {
                break;
            }
        }
    }
    let (_, _, flow) = listener.stop_flow().await;
    let mut att = attestation(&outcomes[0], &r);
    if let Some(flow) = &flow {
        att.summary
            .push_str(&format!(" (--loop-via-register: {})", flow.sentence()));
        att.evidence.extend(flow_evidence(flow));
    }
    [
        att,
        signer(&outcomes[0], &r),
        rcd(&outcomes[..3]),
        spoof(SPOOF_FROM, &outcomes[1], &r),
        spoof(SPOOF_PAI, &outcomes[2], &r),
        anonymous(&outcomes[3]),
        rate(ctx, &burst),
        notice(outcomes.iter().chain(burst.iter())),
    ]
    .into_iter()
    .map(|f| f.endpoint(&ep))
    .collect()
}

/// Why the calls cannot come back: the status, the sentence, and what was exchanged.
type NoReceiver = (Status, String, Vec<Evidence>);

/// Starts what receives the calls: the listener, or a registration on a TCP/TLS connection of
/// its own (whose politeness permit lives as long as the flow).
async fn receive(
    ctx: &Context,
    r: &Ready,
) -> Result<(Listener, Option<tokio::sync::OwnedSemaphorePermit>), NoReceiver> {
    let listen = match &r.receiver {
        Receiver::Listen(l) => l,
        Receiver::Register => return register(ctx, r).await,
    };
    match Listener::start(listen.clone()).await {
        Ok(l) => Ok((l, None)),
        Err(e) => Err((
            Status::Error,
            format!("the loop-call listener could not start: {e}"),
            Vec::new(),
        )),
    }
}

async fn register(
    ctx: &Context,
    r: &Ready,
) -> Result<(Listener, Option<tokio::sync::OwnedSemaphorePermit>), NoReceiver> {
    let stream = call_endpoints(ctx)
        .await
        .into_iter()
        .map(|(e, _)| e)
        .find(|e| e.transport.is_stream());
    let Some(ep) = stream else {
        return Err((
            Status::Skipped,
            "--loop-via-register registers over TCP or TLS: no TCP or TLS endpoint in this run (--transport tcp or tls)".into(),
            Vec::new(),
        ));
    };
    let (conn, permit) = ctx.connect(&ep).await.map_err(|e| {
        (
            Status::Error,
            format!("cannot connect to {ep} to REGISTER: {e}"),
            Vec::new(),
        )
    })?;
    let host = ctx.uri_host(&ep);
    let user = register_user(ctx, r);
    let reg = Registration {
        registrar: format!("sip:{host}"),
        aor: format!("sip:{user}@{host}"),
        contact_user: user.clone(),
        credentials: ctx.config.calls.credentials.clone(),
        user_agent: ctx.config.user_agent.clone(),
        timers: ctx.config.timers,
        run_start: ctx.run_start(),
        reopen: Reopen {
            tls: ctx.config.tls.clone(),
            sni: ctx.config.domain.clone(),
            limits: ctx.config.limits,
        },
    };
    let cfg = ListenConfig::new(ListenAddr {
        transport: ep.transport,
        addr: conn.local,
    });
    match Listener::register(conn, reg, cfg).await {
        Ok(l) => Ok((l, permit)),
        Err(flow) => {
            let answer = flow
                .register
                .last()
                .and_then(|x| x.final_response())
                .map(Message::first_line);
            let code = flow
                .register
                .last()
                .and_then(|x| x.final_response())
                .and_then(Message::status);
            let (status, why) = match (code, &ctx.config.calls.credentials) {
                (Some(401 | 407), None) => (
                    Status::Blocked,
                    format!(
                        "the registrar wants credentials for REGISTER ({}); give --user",
                        answer.unwrap_or_default()
                    ),
                ),
                _ => (
                    Status::Error,
                    format!(
                        "the loop-call REGISTER as {user} over {ep} was not accepted: {}",
                        answer.unwrap_or_else(|| "no answer".into())
                    ),
                ),
            };
            Err((status, why, flow_evidence(&flow)))
        }
    }
}

/// The registration's transactions as evidence, the last one noting how the flow went.
fn flow_evidence(flow: &FlowReport) -> Vec<Evidence> {
    let mut v: Vec<Evidence> = flow
        .register
        .iter()
        .chain(flow.unregister.iter())
        .map(crate::evidence::from_exchange)
        .collect();
    if let Some(last) = v.last_mut() {
        let sentence = flow.sentence();
        last.note = Some(match last.note.take() {
            Some(n) => format!("{n}; {sentence}"),
            None => sentence,
        });
    }
    v
}

#[allow(clippy::too_many_arguments)]
async fn one(
    ctx: &Context,
    ep: &crate::Endpoint,
    uri: &str,
    listener: &Listener,
    verify: &VerifyContext,
    r: &Ready,
    case: Case,
    auth: Option<&mut DigestClient>,
) -> Outcome {
    let (from, headers) = identity_of(case, &r.owned, &r.spoof, &ctx.config.domain);
    let mut out = Outcome {
        case,
        from: from.clone(),
        headers: headers.clone(),
        answer: None,
        cancelled: None,
        error: None,
        inbound: None,
        identity: None,
        elapsed: Duration::ZERO,
        evidence: Vec::new(),
    };
    let policy = &ctx.config.calls;
    let _one = policy.one_at_a_time().await;
    if !policy.take_call() {
        out.error = Some(format!("--max-calls ({}) reached", policy.max_calls));
        return out;
    }
    ctx.call_placed();
    let seq = listener.last_seq();
    let started = Instant::now();
    let opts = InviteOptions {
        cancel_on_ringing: false,
        ring_timeout: RING,
        exchange_media: false,
        from: Some(from),
        headers,
    };
    match call::place(ctx, ep, uri, Offer::Plain, auth, &opts).await {
        Ok(p) => {
            out.answer = p.outcome.final_response.clone();
            out.cancelled = p.outcome.cancelled.clone();
            out.error = p.outcome.error.clone();
            out.evidence = p.evidence;
        }
        Err(e) => out.error = Some(e),
    }
    out.elapsed = started.elapsed();
    let number = r.number.clone();
    out.inbound = listener
        .wait_for(seq, Instant::now() + GRACE, move |rec| {
            rec.method() == Some("INVITE")
                && rec
                    .message
                    .as_ref()
                    .and_then(called_number)
                    .is_some_and(|c| same_number(&c, &number))
        })
        .await;
    if let Some(rec) = &out.inbound
        && let Some(m) = &rec.message
    {
        let mut c = verify.clone();
        c.now = rec.unix;
        out.identity = Some(stir::verify_request(m, &c).await);
        out.evidence.push(rec.evidence());
    }
    out
}

/// The severity of a loop-call finding without details (the contracts map the others).
fn severity(status: Status) -> Severity {
    match status {
        Status::Fail => Severity::High,
        Status::Warn => Severity::Medium,
        _ => Severity::None,
    }
}

fn finding(
    id: FindingId<LoopCallDetails>,
    status: Status,
    summary: String,
    o: Option<&Outcome>,
) -> Finding {
    let f = id.finding(status, summary).severity(severity(status));
    match o {
        Some(o) => f.with_details(&o.details()).evidence(o.evidence.clone()),
        None => f.into(),
    }
}

/// Not delivered, or no verdict to give: the sentence for it.
fn undelivered(o: &Outcome) -> (Status, String) {
    match (&o.error, o.code()) {
        (Some(e), None) => (
            Status::Error,
            format!("the call was not placed or not answered: {e}"),
        ),
        (_, Some(401 | 407)) => (
            Status::Blocked,
            format!(
                "the trunk wants credentials ({}); give --user",
                o.answer_line()
            ),
        ),
        _ => (
            Status::Error,
            format!(
                "no INVITE came back for this call; the trunk answered {}",
                o.answer_line()
            ),
        ),
    }
}

fn attestation(o: &Outcome, r: &Ready) -> Finding {
    let Some(id) = &o.identity else {
        let (s, why) = undelivered(o);
        return finding(
            ATTESTATION,
            s,
            format!("call from your number {}: {why}", r.owned),
            Some(o),
        );
    };
    let first = id.first();
    let att = o.attestation();
    let (status, summary) = match first.map(|f| (f.verdict, f.failure.clone())) {
        Some((Verdict::Valid, _)) if att.as_deref() == Some("A") => (
            Status::Pass,
            "delivered with attestation A and every Identity check passed".to_string(),
        ),
        Some((Verdict::Valid, _)) => (
            Status::Warn,
            format!(
                "delivered with a valid Identity but attestation {} (A is full attestation of your own number)",
                att.clone().unwrap_or_default()
            ),
        ),
        Some((Verdict::ChainNotVerified, _)) => (
            Status::Warn,
            format!(
                "delivered with attestation {}; signature valid, chain not verified: no STI roots given (--sti-ca-file)",
                att.clone().unwrap_or_default()
            ),
        ),
        Some((Verdict::Invalid, Some(fl))) if fl.check == stir::Check::Present => {
            match id.carrier.first() {
                Some(c) => (
                    Status::Info,
                    format!(
                        "delivered without Identity; the carrier says {}={} (verified by the carrier, not by sipcheck)",
                        c.name, c.value
                    ),
                ),
                None => (
                    Status::Fail,
                    "delivered without Identity and without any verification indication".into(),
                ),
            }
        }
        Some((_, fl)) => (
            Status::Fail,
            format!(
                "delivered with an Identity that fails verification: {}",
                fl.map(|f| format!("{} ({} {}): {}", f.check.id(), f.code, f.reason, f.detail))
                    .unwrap_or_default()
            ),
        ),
        None => (Status::Error, "no verdict".into()),
    };
    finding(
        ATTESTATION,
        status,
        format!("call from your number {}: {summary}", r.owned),
        Some(o),
    )
}

/// `stir.signer`: the certificate behind the owned-number call's Identity, judged by its details.
fn signer(o: &Outcome, r: &Ready) -> Finding {
    let Some(id) = &o.identity else {
        let (s, why) = undelivered(o);
        return ids::STIR_SIGNER
            .finding(s, format!("call from your number {}: {why}", r.owned))
            .severity(severity(s))
            .evidence(o.evidence.clone())
            .into();
    };
    let Some(d) = stir::signer::of_call(id) else {
        return ids::STIR_SIGNER
            .finding(
                Status::Info,
                format!(
                    "call from your number {}: delivered without a PASSporT, so no signer to read",
                    r.owned
                ),
            )
            .evidence(o.evidence.clone())
            .into();
    };
    let (j, sentence) = d.judge();
    ids::STIR_SIGNER
        .finding(j, format!("call from your number {}: {sentence}", r.owned))
        .severity(severity(j))
        .evidence(o.evidence.clone())
        .with_details(&d)
}

/// `stir.rcd`: the first delivered call (owned, then the spoofing ones) that carried any RCD, else
/// the owned call's.
fn rcd(outcomes: &[Outcome]) -> Finding {
    let delivered: Vec<(&Outcome, &RequestIdentity)> = outcomes
        .iter()
        .filter_map(|o| o.identity.as_ref().map(|i| (o, i)))
        .collect();
    let Some((o, id)) = delivered
        .iter()
        .find(|(_, i)| i.identities.iter().any(|x| x.rcd.is_some()) || !i.call_info_rcd.is_empty())
        .or(delivered.first())
    else {
        return ids::STIR_RCD
            .finding(
                Status::Skipped,
                "no loop call was delivered, so no Rich Call Data to read",
            )
            .into();
    };
    let case = json!(o.case).as_str().unwrap_or_default().to_string();
    let d = stir::signer::rcd(&case, id);
    let (j, sentence) = d.judge();
    ids::STIR_RCD
        .finding(j, format!("{case} call: {sentence}"))
        .severity(severity(j))
        .evidence(o.evidence.clone())
        .with_details(&d)
}

fn spoof(id: FindingId<LoopCallDetails>, o: &Outcome, r: &Ready) -> Finding {
    let what = if id.id == SPOOF_FROM.id {
        format!(
            "caller ID {} (not yours) in From and P-Asserted-Identity",
            r.spoof
        )
    } else {
        format!(
            "your number in From with P-Asserted-Identity {} (not yours)",
            r.spoof
        )
    };
    let (status, summary) = if o.refused() {
        (Status::Pass, format!("refused: {}", o.answer_line()))
    } else if o.inbound.is_some() {
        let caller = o.delivered_caller().unwrap_or_default();
        if !same_number(&caller, &r.spoof) {
            (
                Status::Pass,
                format!("delivered, but with the caller ID replaced by {caller:?}"),
            )
        } else {
            match o.attestation().as_deref() {
                Some(a @ ("B" | "C")) => (
                    Status::Warn,
                    format!(
                        "delivered with attestation {a}: the far end can tell, but the call went through"
                    ),
                ),
                Some("A") => (
                    Status::Fail,
                    "delivered with attestation A: the trunk vouches for a number you do not own"
                        .into(),
                ),
                _ => (
                    Status::Fail,
                    "delivered unsigned: nothing tells the far end the caller ID is not yours"
                        .into(),
                ),
            }
        }
    } else {
        undelivered(o)
    };
    let went_through = o.inbound.is_some()
        && o.delivered_caller()
            .is_some_and(|c| same_number(&c, &r.spoof));
    let mut details = o.details();
    if o.inbound.is_some() || o.refused() {
        details.spoof_went_through = Some(went_through);
    }
    id.finding(status, format!("{what}: {summary}"))
        .severity(severity(status))
        .with_details(&details)
        .evidence(o.evidence.clone())
}

fn anonymous(o: &Outcome) -> Finding {
    let (status, summary) = if o.refused() {
        match o.code() {
            Some(433) => (
                Status::Pass,
                format!("refused with {} (RFC 5079)", o.answer_line()),
            ),
            _ => (Status::Pass, format!("refused: {}", o.answer_line())),
        }
    } else if let Some(rec) = &o.inbound {
        let m = rec.message.as_ref();
        let h = |n: &str| m.and_then(|m| m.header(n)).unwrap_or("(none)").to_string();
        (
            Status::Info,
            format!(
                "delivered with From {}, P-Asserted-Identity {}, Privacy {}, attestation {}",
                h("From"),
                h("P-Asserted-Identity"),
                h("Privacy"),
                o.attestation().unwrap_or_else(|| "none".into())
            ),
        )
    } else {
        undelivered(o)
    };
    finding(
        ANONYMOUS,
        status,
        format!("anonymous call: {summary}"),
        Some(o),
    )
}

fn rate(ctx: &Context, burst: &[Outcome]) -> Finding {
    if !ctx.config.dos {
        return Finding::of(
            ids::SPIT_CALL_RATE.id,
            Status::Skipped,
            "the call burst needs --dos",
        );
    }
    let n = burst.len();
    let secs: f64 = burst
        .iter()
        .map(|o| o.elapsed.as_secs_f64())
        .sum::<f64>()
        .max(0.001);
    let delivered = burst.iter().filter(|o| o.inbound.is_some()).count();
    let last = burst.last();
    let (status, summary) = match last {
        None => (Status::Skipped, "no burst call could be placed".to_string()),
        Some(o) if o.refused() => {
            let retry = o
                .answer
                .as_ref()
                .and_then(|m| m.header("Retry-After"))
                .map(|r| format!(", Retry-After {r}"))
                .unwrap_or_default();
            (
                Status::Pass,
                format!(
                    "capped: call {n} of a burst ({delivered} delivered, {:.1} calls/s) was refused with {}{retry}",
                    n as f64 / secs,
                    o.answer_line()
                ),
            )
        }
        Some(o) if o.error.is_some() => (
            Status::Info,
            format!(
                "the burst stopped after {n} calls ({delivered} delivered): {}",
                o.error.clone().unwrap_or_default()
            ),
        ),
        Some(_) => (
            Status::Warn,
            format!(
                "no cap seen: {delivered} of {n} calls delivered and none refused, at {:.1} calls/s{}",
                n as f64 / secs,
                if (n as u32) < BURST {
                    format!(" (the burst stopped after {} s)", BURST_TIME.as_secs())
                } else {
                    String::new()
                }
            ),
        ),
    };
    let details = CallRateDetails {
        calls: n,
        delivered,
        calls_per_second: (n as f64 / secs * 10.0).round() / 10.0,
        answers: burst.iter().map(Outcome::answer_line).collect(),
    };
    let ev: Vec<Evidence> = last.map(|o| o.evidence.clone()).unwrap_or_default();
    ids::SPIT_CALL_RATE
        .finding(status, summary)
        .severity(severity(status))
        .with_details(&details)
        .evidence(ev)
}

/// A notice in an answer: RFC 8688 (608 + Call-Info purpose=jwscard), ATIS-1000085 "603+"
/// (603 Network Blocked), RFC 9410 (Reason: STIR;cause=43x).
pub fn notices(m: &Message) -> Vec<String> {
    let mut v = Vec::new();
    let code = m.status();
    if code == Some(608)
        && m.headers_named("Call-Info")
            .any(|c| c.to_ascii_lowercase().contains("purpose=jwscard"))
    {
        v.push("608 with Call-Info purpose=jwscard (RFC 8688)".into());
    }
    if code == Some(603) && m.reason().eq_ignore_ascii_case("Network Blocked") {
        v.push("603 Network Blocked (ATIS 603+)".into());
    }
    for r in m.headers_named("Reason").take(8) {
        let l = r.to_ascii_lowercase();
        if l.trim_start().starts_with("stir")
            && let Some(c) = crate::sip::parse::param(r, "cause")
            && c.starts_with("43")
        {
            v.push(format!("Reason: STIR;cause={c} (RFC 9410)"));
        }
    }
    v
}

fn notice<'a>(all: impl Iterator<Item = &'a Outcome>) -> Finding {
    let mut seen = Vec::new();
    let mut answers = 0;
    let mut ev = Vec::new();
    for o in all {
        if let Some(m) = &o.answer {
            answers += 1;
            let n = notices(m);
            if !n.is_empty() {
                ev.extend(o.evidence.iter().take(2).cloned());
                seen.push(Notice {
                    case: json!(o.case).as_str().unwrap_or_default().to_string(),
                    answer: m.first_line(),
                    notices: n,
                });
            }
        }
    }
    let (status, summary) = if seen.is_empty() {
        (
            Status::Info,
            format!("no blocking notice in the {answers} answers to the loop calls"),
        )
    } else {
        (
            Status::Pass,
            format!("{} answers carried a blocking notice", seen.len()),
        )
    };
    ids::SPIT_BLOCKING_NOTICE
        .finding(status, summary)
        .severity(severity(status))
        .with_details(&BlockingNoticeDetails {
            answers,
            notices: seen,
        })
        .evidence(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Limits;

    #[test]
    fn numbers_match_across_country_codes() {
        assert!(same_number("+12155550100", "2155550100"));
        assert!(same_number("12155550100", "+1 215 555 0100"));
        assert!(!same_number("12155550100", "12155550101"));
        assert!(!same_number("0100", "12155550100"));
        assert!(!same_number("anonymous", "anonymous"));
    }

    #[test]
    fn recognises_blocking_notices() {
        let m = Message::parse(
            b"SIP/2.0 608 Rejected\r\nCall-Info: <https://x.test/j>;purpose=jwscard\r\nReason: STIR;cause=436;text=\"Bad Identity Info\"\r\nContent-Length: 0\r\n\r\n",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(notices(&m).len(), 2);
        let b = Message::parse(
            b"SIP/2.0 603 Network Blocked\r\nContent-Length: 0\r\n\r\n",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(notices(&b), ["603 Network Blocked (ATIS 603+)"]);
        let plain = Message::parse(
            b"SIP/2.0 403 Forbidden\r\nReason: Q.850;cause=21\r\n\r\n",
            &Limits::default(),
        )
        .unwrap();
        assert!(notices(&plain).is_empty());
    }
}
