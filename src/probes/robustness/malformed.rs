//! `robustness.malformed`: the catalog run. Each case is sent, its reaction compared with what the
//! case expects, and a normal OPTIONS must be answered before the next case goes out.
//!
//! Pacing: cases run one at a time per endpoint; each case and each liveness OPTIONS is one request
//! under the run's `--rate` budget (default 20/s, burst 10, per address), so the catalog costs two
//! requests per case. A case with no answer costs the case wait (see [`super::case_wait`]).
//! Circuit breaker: the catalog stops at the second failed liveness check (a failure is retried once
//! after a short pause; the retry counts), and names the case sent just before.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::{case_wait, liveness, send_raw, targets};
use crate::catalog::{self, Case, Values, Verdict, classify, fill};
use crate::probe::{BoxFuture, Context, Probe, Safety};
use crate::report::{Evidence, Finding, Severity, Status};
use crate::sip::request::{new_branch, token};
use crate::target::{Endpoint, Transport};
use crate::transport::Exchange;

/// Evidence kept per endpoint, so a trunk that fails every case does not bloat the report.
const MAX_EVIDENCE: usize = 12;
/// Pause before retrying a failed liveness check.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

pub struct Malformed;

/// One line of the case table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: String,
    pub title: String,
    pub rfc: String,
    pub category: String,
    pub valid: bool,
    pub expected: String,
    pub observed: String,
    pub verdict: Verdict,
    pub status: Status,
    pub liveness: String,
    /// Whether the trunk answered a normal OPTIONS after the case (possibly on the retry).
    pub alive: bool,
    /// Only for cases from `--catalog`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

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
    rows: Vec<Row>,
    skipped: Vec<(String, String)>,
    stopped_after: Option<(String, String)>,
    liveness_failures: u32,
    evidence: Vec<Evidence>,
    total: usize,
}

async fn run_endpoint(ctx: &Context, ep: &Endpoint, base: &Exchange, cases: &[Case]) -> Run {
    let wait = case_wait(ctx, base);
    let applicable: Vec<&Case> = cases
        .iter()
        .filter(|c| c.applies_to(ep.transport, ep.address.is_ipv6()))
        .collect();
    let mut run = Run {
        rows: Vec::new(),
        skipped: Vec::new(),
        stopped_after: None,
        liveness_failures: 0,
        evidence: Vec::new(),
        total: applicable.len(),
    };
    // Leave a fifth of the probe's time for the last case and the report, so a slow trunk yields a
    // partial table instead of a probe killed by the runner.
    let budget = tokio::time::Instant::now() + ctx.config.probe_timeout.mul_f64(0.8);
    for case in applicable {
        if tokio::time::Instant::now() > budget {
            run.skipped.push((
                case.id.clone(),
                "not run: the probe's time budget was spent".into(),
            ));
            continue;
        }
        if run.stopped_after.is_some() {
            run.skipped
                .push((case.id.clone(), "not run: the catalog stopped".into()));
            continue;
        }
        if case.safety == Safety::Intrusive && !ctx.config.intrusive {
            run.skipped.push((
                case.id.clone(),
                "intrusive: runs only with --intrusive".into(),
            ));
            continue;
        }
        let (ex, reaction) = send_raw(
            ctx,
            ep,
            |local| fill(&case.message, &values(ctx, ep, local)).map_err(|e| e.to_string()),
            wait,
        )
        .await;
        let mut verdict = classify(&case.expect, case.valid, &reaction);
        let mut observed = reaction.to_string();
        let missing: Vec<&str> = case
            .expect_headers
            .iter()
            .filter(|h| {
                ex.best_response()
                    .is_some_and(|m| m.header(h.as_str()).is_none())
            })
            .map(String::as_str)
            .collect();
        if verdict == Verdict::Expected && !missing.is_empty() {
            verdict = Verdict::DifferentSafe;
            observed = format!("{observed} (without {})", missing.join(", "));
        }
        let mut status = match verdict {
            Verdict::Expected => Status::Pass,
            Verdict::DifferentSafe | Verdict::RejectedValid => Status::Warn,
            Verdict::AcceptedInvalid => case.on_accept,
            Verdict::NotSent => Status::Error,
        };
        let mut case_evidence = vec![ctx.evidence(&ex)];
        let live = liveness(ctx, ep).await;
        let mut alive = live.alive;
        let mut live_text = if live.alive {
            "ok".to_string()
        } else {
            String::new()
        };
        if !live.alive {
            run.liveness_failures += 1;
            case_evidence.push(ctx.evidence(&live.exchange));
            if run.liveness_failures < 2 {
                tokio::time::sleep(RETRY_PAUSE).await;
                let again = liveness(ctx, ep).await;
                if again.alive {
                    alive = true;
                    live_text = format!("no answer ({}), then {} on retry", live.text, again.text);
                    status = status.worst(Status::Warn);
                } else {
                    run.liveness_failures += 1;
                    case_evidence.push(ctx.evidence(&again.exchange));
                }
            }
            if run.liveness_failures >= 2 {
                live_text = format!("no answer to a normal OPTIONS ({})", live.text);
                status = Status::Fail;
                run.stopped_after = Some((case.id.clone(), case.title.clone()));
            }
        }
        if status != Status::Pass && run.evidence.len() < MAX_EVIDENCE {
            run.evidence.extend(case_evidence);
        }
        run.rows.push(Row {
            id: case.id.clone(),
            title: case.title.clone(),
            rfc: case.rfc.clone(),
            category: case.category.clone(),
            valid: case.valid,
            expected: case.expect_text(),
            observed,
            verdict,
            status,
            liveness: live_text,
            alive,
            source: (!case.source.starts_with("builtin:")).then(|| case.source.clone()),
        });
    }
    run
}

fn count(rows: &[Row], v: Verdict) -> usize {
    rows.iter().filter(|r| r.verdict == v).count()
}

fn ids(rows: &[Row], v: Verdict) -> String {
    rows.iter()
        .filter(|r| r.verdict == v)
        .map(|r| r.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn finding(p: &Malformed, ep: &Endpoint, run: Run) -> Finding {
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
                "{t}: the trunk did not answer a normal OPTIONS after case `{id}` ({title}); the catalog stopped after {} of {} cases",
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
    Finding::of(p.id(), status, summary)
        .severity(severity)
        .endpoint(ep)
        .details(json!({
            "transport": ep.transport,
            "cases_total": run.total,
            "cases_run": rows.len(),
            "counts": {
                "expected": expected,
                "different_safe": different,
                "accepted_invalid": accepted,
                "rejected_valid": rejected,
                "not_sent": not_sent,
            },
            "liveness_failures": run.liveness_failures,
            "liveness_failed": run.stopped_after.is_some(),
            "stopped_after": run.stopped_after.as_ref().map(|(id, _)| id),
            "cases": rows,
            "skipped": run.skipped.iter().map(|(id, why)| json!({"id": id, "reason": why})).collect::<Vec<_>>(),
        }))
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
            let runs = futures_util::future::join_all(
                eps.iter()
                    .map(|(ep, base)| run_endpoint(ctx, ep, base, &cases)),
            )
            .await;
            eps.iter()
                .zip(runs)
                .map(|((ep, _), run)| finding(self, ep, run))
                .collect()
        })
    }
}
