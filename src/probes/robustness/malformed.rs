//! `robustness.malformed`: the catalog run. Each case is sent, its reaction compared with what the
//! case expects, and the trunk must still answer after it.
//!
//! Pacing: cases are in flight together in a sliding window of [`WINDOW`] unproven cases (each on its
//! own socket, so an answer can only belong to its case), every case one request under the run's
//! `--rate` budget (default 20/s, burst 10, per address, shared by UDP and TCP) and, on streams, the
//! address's connection cap. A silent case holds one place of the window for its wait (see
//! [`super::case_wait`]) while answered cases flow past it, so silent cases wait side by side and
//! a slow or distant trunk costs about one wait per WINDOW silent cases, not one per case.
//! Liveness: an answer to a case proves the trunk survived every case sent before it, so a normal
//! OPTIONS is sent only when the window is full of unanswered cases or the catalog ends with some.
//! Circuit breaker: the catalog stops at the second failed liveness check (a failure is retried once
//! after a short pause; the retry counts). The case named is the one sent first after the last
//! answer; when several were unanswered, they are replayed one at a time if the trunk comes back,
//! so the killer is named exactly, and otherwise the others are listed as suspects.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::{Liveness, case_wait, liveness, send_raw, targets};
use crate::catalog::{self, Case, Reaction, Values, Verdict, classify, fill};
use crate::evidence;
use crate::findings::ids;
use crate::findings::robustness::{CaseRow, MalformedCounts, MalformedDetails, SkippedCase};
use crate::findings::{Evidence, Finding, Severity, Status};
use crate::probe::{BoxFuture, Context, Counter, Probe, Safety};
use crate::sip::request::{new_branch, token};
use crate::target::{Endpoint, Transport};
use crate::transport::Exchange;

/// Evidence kept per endpoint, so a trunk that fails every case does not bloat the report.
const MAX_EVIDENCE: usize = 12;
/// Pause before retrying a failed liveness check.
const RETRY_PAUSE: Duration = Duration::from_millis(500);
/// Pause before asking a trunk that failed both checks whether it came back (for a replay).
const RECOVERY_PAUSE: Duration = Duration::from_secs(1);
/// Cases sent after the last answered one, at most. A trunk killed by one case receives at most
/// this many minus one cases after it; the connection cap of the address still bounds how many
/// wait at once on a stream.
const WINDOW: usize = 8;
/// Cases in flight at most (unproven, or proven by a later answer but still waiting for their own).
const IN_FLIGHT: usize = 2 * WINDOW;

pub struct Malformed;

/// The placeholder values for one case on one socket.
pub fn values(ctx: &Context, ep: &Endpoint, local: std::net::SocketAddr) -> Values {
    let domain = &ctx.config.domain;
    let domain = if domain.contains(':') && !domain.starts_with('[') {
        format!("[{domain}]")
    } else {
        domain.clone()
    };
    Values {
        target: format!("{}:{}", ctx.uri_host(ep), ep.port),
        uri: ctx.request_uri(ep, false),
        host: ctx.uri_host(ep),
        port: ep.port.to_string(),
        ip: ep.address.to_string(),
        domain,
        local: local.to_string(),
        local_ip: local.ip().to_string(),
        local_port: local.port().to_string(),
        transport: ep.transport.via_token().to_string(),
        scheme: if ep.transport == Transport::Tls {
            "sips"
        } else {
            "sip"
        }
        .to_string(),
        branch: new_branch(),
        branch2: new_branch(),
        call_id: format!("{}@sipcheck", token(20)),
        tag: token(10),
        tag2: token(10),
        user_agent: ctx.config.user_agent.clone(),
    }
}

/// What one endpoint's run produced.
struct Run {
    rows: Vec<CaseRow>,
    skipped: Vec<(String, String)>,
    stopped_after: Option<(String, String)>,
    /// Cases sent in the same window after the last answer, which the run could not tell apart
    /// from the one it names (the trunk never came back for a replay).
    suspects: Vec<String>,
    liveness_failures: u32,
    evidence: Vec<Evidence>,
    total: usize,
}

/// One case sent and its reaction judged (liveness not yet known).
struct Sent<'c> {
    case: &'c Case,
    ex: Exchange,
    reaction: Reaction,
}

impl Sent<'_> {
    /// An answer from the SIP stack, which proves it alive after every case sent before this one.
    fn answered(&self) -> bool {
        matches!(self.reaction, Reaction::Response { .. })
    }

    fn row(&self, liveness: String, alive: bool) -> CaseRow {
        let case = self.case;
        let mut verdict = classify(&case.expect, case.valid, &self.reaction);
        let mut observed = self.reaction.to_string();
        let missing: Vec<&str> = case
            .expect_headers
            .iter()
            .filter(|h| {
                self.ex
                    .best_response()
                    .is_some_and(|m| m.header(h.as_str()).is_none())
            })
            .map(String::as_str)
            .collect();
        if verdict == Verdict::Expected && !missing.is_empty() {
            verdict = Verdict::DifferentSafe;
            observed = format!("{observed} (without {})", missing.join(", "));
        }
        let status = match verdict {
            Verdict::Expected => Status::Pass,
            Verdict::DifferentSafe | Verdict::RejectedValid => Status::Warn,
            Verdict::AcceptedInvalid => case.on_accept,
            Verdict::NotSent => Status::Error,
        };
        CaseRow {
            id: case.id.clone(),
            title: case.title.clone(),
            rfc: case.rfc.clone(),
            category: case.category.clone(),
            valid: case.valid,
            expected: case.expect_text(),
            observed,
            verdict,
            status,
            liveness,
            alive,
            source: (!case.source.starts_with("builtin:")).then(|| case.source.clone()),
        }
    }
}

async fn send_case<'c>(ctx: &Context, ep: &Endpoint, case: &'c Case, wait: Duration) -> Sent<'c> {
    let (ex, reaction) = send_raw(
        ctx,
        ep,
        |local| fill(&case.message, &values(ctx, ep, local)).map_err(|e| e.to_string()),
        wait,
    )
    .await;
    Sent { case, ex, reaction }
}

impl Run {
    fn keep(&mut self, sent: &Sent, row: CaseRow, extra: Vec<Evidence>) {
        if row.status != Status::Pass && self.evidence.len() < MAX_EVIDENCE {
            self.evidence.push(evidence::from_exchange(&sent.ex));
            self.evidence.extend(extra);
        }
        self.rows.push(row);
    }

    /// A failed normal OPTIONS: counted and kept as evidence.
    fn failed(&mut self, live: &Liveness) {
        self.liveness_failures += 1;
        if self.evidence.len() < MAX_EVIDENCE {
            self.evidence.push(evidence::from_exchange(&live.exchange));
        }
    }
}

/// Sends `cases` one at a time, each followed by a liveness check, and returns the index of the
/// first one after which the trunk stopped answering (with that check). Used only to replay a
/// window once the trunk has come back, so the killer is named exactly.
async fn replay(
    ctx: &Context,
    ep: &Endpoint,
    cases: &[&Case],
    wait: Duration,
) -> Option<(usize, Liveness)> {
    for (i, case) in cases.iter().enumerate() {
        send_case(ctx, ep, case, wait).await;
        let live = liveness(ctx, ep).await;
        if !live.alive {
            tokio::time::sleep(RETRY_PAUSE).await;
            let again = liveness(ctx, ep).await;
            if !again.alive {
                return Some((i, again));
            }
        }
    }
    None
}

async fn run_endpoint(
    ctx: &Context,
    ep: &Endpoint,
    base: &Exchange,
    cases: &[Case],
    count: &Counter,
) -> Run {
    let wait = case_wait(ctx, base);
    let mut run = Run {
        rows: Vec::new(),
        skipped: Vec::new(),
        stopped_after: None,
        suspects: Vec::new(),
        liveness_failures: 0,
        evidence: Vec::new(),
        total: 0,
    };
    let mut queue: Vec<&Case> = Vec::new();
    for case in cases
        .iter()
        .filter(|c| c.applies_to(ep.transport, ep.address.is_ipv6()))
    {
        run.total += 1;
        if case.safety == Safety::Intrusive && !ctx.config.intrusive {
            run.skipped.push((
                case.id.clone(),
                "intrusive: runs only with --intrusive".into(),
            ));
        } else {
            queue.push(case);
        }
    }
    count.expect(queue.len());
    // A case is sent only if the worst case of a window sent now (every case silent, waiting in turns
    // for the address's connections, then a liveness check) ends within nine tenths of the probe's
    // time, so a slow trunk yields a partial table instead of a probe killed by the runner.
    let budget = tokio::time::Instant::now() + ctx.config.probe_timeout.mul_f64(0.9);
    let turns = if ep.transport.is_stream() {
        WINDOW.div_ceil(ctx.config.max_connections.max(1)) as u32
    } else {
        // A UDP case holds no connection slot (see `Context::connect`): the window waits once.
        1
    };
    let window_cost = wait * (turns + 1);
    // A sliding window: a case goes out as soon as fewer than WINDOW cases are unproven (sent after
    // the last answered one), so a silent case holds one place for its wait while answered cases flow
    // past it, instead of holding back a whole window. Each case is on its own socket under the
    // address's budget; rows are written in catalog order once a case is finished and proven.
    let mut slots: Vec<Option<Sent>> = Vec::new();
    let mut in_flight = FuturesUnordered::new();
    let mut next = 0;
    // Cases before this index are proven survived: by a later case's answer or a liveness check.
    let mut proven = 0;
    // Rows are written for cases before this index.
    let mut done = 0;
    let mut out_of_time = false;
    loop {
        while !out_of_time
            && next < queue.len()
            && next - proven < WINDOW
            && in_flight.len() < IN_FLIGHT
        {
            if tokio::time::Instant::now() + window_cost > budget {
                out_of_time = true;
                break;
            }
            let (i, case) = (next, queue[next]);
            next += 1;
            slots.push(None);
            in_flight.push(async move { (i, send_case(ctx, ep, case, wait).await) });
        }
        if let Some((i, s)) = in_flight.next().await {
            count.tick();
            if s.answered() {
                proven = proven.max(i + 1);
            }
            slots[i] = Some(s);
            while done < proven {
                let Some(s) = &slots[done] else { break };
                let row = s.row("ok".into(), true);
                run.keep(s, row, Vec::new());
                done += 1;
            }
            continue;
        }
        // Nothing in flight: every case sent is finished, and those after `proven` need an OPTIONS.
        if proven < next {
            let live = liveness(ctx, ep).await;
            let (text, status) = if live.alive {
                ("ok".to_string(), Status::Pass)
            } else {
                run.failed(&live);
                tokio::time::sleep(RETRY_PAUSE).await;
                let again = liveness(ctx, ep).await;
                if again.alive {
                    (
                        format!("no answer ({}), then {} on retry", live.text, again.text),
                        Status::Warn,
                    )
                } else {
                    run.failed(&again);
                    let tail: Vec<Sent> = slots[done..next]
                        .iter_mut()
                        .filter_map(Option::take)
                        .collect();
                    stop(ctx, ep, &mut run, &tail, 0, wait, &live).await;
                    for case in &queue[next..] {
                        run.skipped
                            .push((case.id.clone(), "not run: the catalog stopped".into()));
                    }
                    break;
                }
            };
            for s in slots[done..next].iter().flatten() {
                let mut row = s.row(text.clone(), true);
                row.status = row.status.worst(status);
                run.keep(s, row, Vec::new());
            }
            done = next;
            proven = next;
        }
        if next >= queue.len() || out_of_time {
            for case in &queue[next..] {
                run.skipped.push((
                    case.id.clone(),
                    "not run: the probe's time budget was spent".into(),
                ));
            }
            break;
        }
    }
    run
}

/// The trunk stopped answering after the last answer: name the case. One unanswered case
/// is the killer; several are replayed one at a time if the trunk comes back, else the first is
/// named and the others are kept as suspects.
async fn stop(
    ctx: &Context,
    ep: &Endpoint,
    run: &mut Run,
    sent: &[Sent<'_>],
    proven: usize,
    wait: Duration,
    live: &Liveness,
) {
    for s in &sent[..proven] {
        let row = s.row("ok".into(), true);
        run.keep(s, row, Vec::new());
    }
    let tail = &sent[proven..];
    let mut killer = 0;
    let mut suspects: Vec<usize> = (1..tail.len()).collect();
    if tail.len() > 1 {
        tokio::time::sleep(RECOVERY_PAUSE).await;
        if liveness(ctx, ep).await.alive {
            let cases: Vec<&Case> = tail.iter().map(|s| s.case).collect();
            if let Some((i, _)) = replay(ctx, ep, &cases, wait).await {
                killer = i;
                suspects.clear();
            }
        }
    }
    for s in &tail[..killer] {
        let row = s.row("ok (replayed one at a time)".into(), true);
        run.keep(s, row, Vec::new());
    }
    let k = &tail[killer];
    let mut row = k.row(
        format!("no answer to a normal OPTIONS ({})", live.text),
        false,
    );
    row.status = Status::Fail;
    run.keep(k, row, Vec::new());
    for s in &tail[killer + 1..] {
        run.skipped.push((
            s.case.id.clone(),
            format!(
                "sent in the same window as `{}`; not judged: the trunk had stopped answering",
                k.case.id
            ),
        ));
    }
    run.suspects = suspects
        .into_iter()
        .map(|i| tail[i].case.id.clone())
        .collect();
    run.stopped_after = Some((k.case.id.clone(), k.case.title.clone()));
}

fn count(rows: &[CaseRow], v: Verdict) -> usize {
    rows.iter().filter(|r| r.verdict == v).count()
}

fn ids(rows: &[CaseRow], v: Verdict) -> String {
    rows.iter()
        .filter(|r| r.verdict == v)
        .map(|r| r.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn finding(ep: &Endpoint, run: Run) -> Finding {
    let t = ep.transport.via_token();
    let rows = &run.rows;
    let expected = count(rows, Verdict::Expected);
    let different = count(rows, Verdict::DifferentSafe);
    let accepted = count(rows, Verdict::AcceptedInvalid);
    let rejected = count(rows, Verdict::RejectedValid);
    let not_sent = count(rows, Verdict::NotSent);
    let intrusive_skipped = run
        .skipped
        .iter()
        .filter(|(_, why)| why.starts_with("intrusive"))
        .count();
    let mut parts = vec![format!("{expected} as expected")];
    if different > 0 {
        parts.push(format!("{different} handled differently but safely"));
    }
    if accepted > 0 {
        parts.push(format!(
            "{accepted} accepted something invalid ({})",
            ids(rows, Verdict::AcceptedInvalid)
        ));
    }
    if rejected > 0 {
        parts.push(format!(
            "{rejected} valid messages not accepted ({})",
            ids(rows, Verdict::RejectedValid)
        ));
    }
    if not_sent > 0 {
        parts.push(format!("{not_sent} not sent"));
    }
    let (status, summary) = match &run.stopped_after {
        Some((id, title)) => (
            Status::Fail,
            format!(
                "{t}: the trunk did not answer a normal OPTIONS after case `{id}` ({title}){}; the catalog stopped after {} of {} cases",
                if run.suspects.is_empty() {
                    String::new()
                } else {
                    format!(
                        " or one of the cases sent with it ({}), which the trunk never came back to tell apart",
                        run.suspects.join(", ")
                    )
                },
                rows.len(),
                run.total
            ),
        ),
        None if rows.is_empty() => (
            Status::Skipped,
            format!(
                "{t}: no case run ({} skipped: {})",
                run.skipped.len(),
                run.skipped
                    .first()
                    .map(|(_, w)| w.as_str())
                    .unwrap_or("none applies")
            ),
        ),
        None => {
            let worst = rows
                .iter()
                .map(|r| r.status)
                .filter(|s| *s != Status::Error)
                .fold(Status::Pass, Status::worst);
            let live = if run.liveness_failures == 0 {
                "the trunk answered a normal OPTIONS after every case".to_string()
            } else {
                "a liveness check failed once and recovered".to_string()
            };
            let mut skipped = if intrusive_skipped > 0 {
                format!(" ({intrusive_skipped} intrusive cases skipped; --intrusive runs them)")
            } else {
                String::new()
            };
            let out_of_time = run
                .skipped
                .iter()
                .filter(|(_, why)| why.contains("time budget"))
                .count();
            if out_of_time > 0 {
                skipped.push_str(&format!(
                    " ({out_of_time} not run: out of time; see --timeout)"
                ));
            }
            (
                worst,
                format!(
                    "{t}: {} cases{skipped}: {}; {live}",
                    rows.len(),
                    parts.join(", ")
                ),
            )
        }
    };
    let severity = match status {
        Status::Fail => Severity::High,
        Status::Warn if accepted > 0 => Severity::Medium,
        Status::Warn => Severity::Low,
        Status::Error => Severity::Low,
        _ => Severity::None,
    };
    let details = MalformedDetails {
        transport: Some(ep.transport),
        cases_total: run.total,
        cases_run: rows.len(),
        counts: MalformedCounts {
            expected,
            different_safe: different,
            accepted_invalid: accepted,
            rejected_valid: rejected,
            not_sent,
        },
        liveness_failures: run.liveness_failures,
        liveness_failed: run.stopped_after.is_some(),
        stopped_after: run.stopped_after.as_ref().map(|(id, _)| id.clone()),
        suspects: run.suspects.clone(),
        cases: run.rows.clone(),
        skipped: run
            .skipped
            .iter()
            .map(|(id, reason)| SkippedCase {
                id: id.clone(),
                reason: reason.clone(),
            })
            .collect(),
    };
    ids::ROBUSTNESS_MALFORMED
        .finding(status, summary)
        .severity(severity)
        .endpoint(ep)
        .with_details(&details)
        .evidence(run.evidence)
}

impl Probe for Malformed {
    fn id(&self) -> &'static str {
        "robustness.malformed"
    }
    fn title(&self) -> &'static str {
        "Reaction to malformed messages, with liveness after each"
    }
    fn gate(&self, ctx: &Context) -> Option<String> {
        (!ctx.config.intrusive).then(|| "the oversized cases need --intrusive".to_string())
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let cases = match catalog::load(ctx.config.catalog_dir.as_deref()) {
                Ok(c) => c,
                Err(e) => {
                    return vec![Finding::of(
                        self.id(),
                        Status::Error,
                        format!("catalog not loaded: {e}"),
                    )];
                }
            };
            let eps = targets(ctx).await;
            if eps.is_empty() {
                return super::super::unanswered(self);
            }
            let count = ctx.counter(self.id(), "cases");
            let runs = futures_util::future::join_all(
                eps.iter()
                    .map(|(ep, base)| run_endpoint(ctx, ep, base, &cases, &count)),
            )
            .await;
            eps.iter()
                .zip(runs)
                .map(|((ep, _), run)| finding(ep, run))
                .collect()
        })
    }
}
