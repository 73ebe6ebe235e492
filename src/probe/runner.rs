//! Running selected probes concurrently, turning panics and overruns into findings.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::{Context, Probe, ProgressEvent, Safety};
use crate::findings::{Finding, Severity, Status};

/// What a run produced, and why it stopped early if it did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings in probe order.
    pub findings: Vec<Finding>,
    /// Set when the run was cut short (interrupted); the findings so far are kept.
    pub interrupted: Option<String>,
}

/// Runs every probe concurrently on `ctx`. Each probe is bounded by `config.probe_timeout`; one that
/// panics or overruns becomes an `error` finding and the others carry on. Probes of the `dos` class run
/// last, alone, so a trunk that defends itself by blocking us cannot spoil the other measurements, and
/// one after another, so one flood's ban is never credited to the next (each waits for the trunk to
/// answer normally again, see `crate::probes::dos`). Ctrl-C stops the run and keeps what has been
/// measured.
pub async fn run(ctx: Arc<Context>, probes: Vec<Arc<dyn Probe>>) -> Outcome {
    let mut slots: Vec<Option<Vec<Finding>>> = vec![None; probes.len()];
    ctx.config.progress.emit(ProgressEvent::Planned {
        total: probes.len(),
    });
    let (last, first): (Vec<usize>, Vec<usize>) =
        (0..probes.len()).partition(|i| probes[*i].safety() == Safety::Dos);
    let mut interrupted = run_phase(&ctx, &probes, &first, &mut slots).await;
    for i in last {
        if interrupted.is_some() {
            break;
        }
        interrupted = run_phase(&ctx, &probes, &[i], &mut slots).await;
    }
    let mut findings = Vec::new();
    for (i, slot) in slots.into_iter().enumerate() {
        match slot {
            Some(f) => findings.extend(f),
            None => findings.extend(error_findings(
                probes[i].as_ref(),
                "not finished: the run was interrupted",
            )),
        }
    }
    Outcome {
        findings,
        interrupted,
    }
}

/// Runs the probes at `which` concurrently into their slots; returns the reason if interrupted.
async fn run_phase(
    ctx: &Arc<Context>,
    probes: &[Arc<dyn Probe>],
    which: &[usize],
    slots: &mut [Option<Vec<Finding>>],
) -> Option<String> {
    let mut set = JoinSet::new();
    let mut ids = std::collections::HashMap::new();
    let limit = ctx.config.probe_timeout;
    for &i in which {
        let p = probes[i].clone();
        let ctx = ctx.clone();
        ctx.config
            .progress
            .emit(ProgressEvent::Started { probe: p.id() });
        let handle = set.spawn(async move {
            let out = tokio::time::timeout(limit, p.run(&ctx)).await;
            (
                i,
                out.map_err(|_| format!("probe did not finish within {} s", limit.as_secs())),
            )
        });
        ids.insert(handle.id(), i);
    }
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            joined = set.join_next() => {
                let joined = joined?;
                let finished = match &joined {
                    Ok((i, _)) => Some(*i),
                    Err(e) => ids.get(&e.id()).copied(),
                };
                if let Some(i) = finished {
                    // Slots filled before this one, plus this one.
                    let done = slots.iter().filter(|s| s.is_some()).count() + 1;
                    ctx.config.progress.emit(ProgressEvent::Finished {
                        probe: probes[i].id(),
                        done,
                        total: slots.len(),
                    });
                }
                match joined {
                    Ok((i, Ok(mut findings))) => {
                        debug_assert!(
                            findings.iter().all(|f| probes[i].finding_ids().contains(&f.id.as_str())),
                            "probe {} wrote a finding id the registry does not give it: {:?}",
                            probes[i].id(),
                            findings.iter().map(|f| &f.id).collect::<Vec<_>>()
                        );
                        sort_findings(ctx, probes[i].as_ref(), &mut findings);
                        slots[i] = Some(findings);
                    }
                    Ok((i, Err(reason))) => {
                        let mut findings = partial_findings(ctx, probes[i].as_ref(), &reason);
                        sort_findings(ctx, probes[i].as_ref(), &mut findings);
                        slots[i] = Some(findings);
                    }
                    Err(e) => {
                        let reason = if e.is_panic() { "probe panicked (a bug in sipcheck)" } else { "probe cancelled" };
                        if let Some(&i) = ids.get(&e.id()) {
                            slots[i] = Some(error_findings(probes[i].as_ref(), reason));
                        }
                    }
                }
            }
            _ = &mut ctrl_c => {
                set.abort_all();
                return Some("interrupted (Ctrl-C) before every probe finished".to_string());
            }
        }
    }
}

/// Puts a probe's findings in a stable order (its declared ids, then the run's endpoint order), so
/// reports and diffs do not depend on which endpoint answered first.
fn sort_findings(ctx: &Context, probe: &dyn Probe, findings: &mut [Finding]) {
    let ids = probe.finding_ids();
    let labels: Vec<String> = ctx.endpoints.iter().map(|e| e.label()).collect();
    findings.sort_by_key(|f| {
        (
            ids.iter().position(|id| *id == f.id).unwrap_or(usize::MAX),
            f.endpoint
                .as_ref()
                .and_then(|e| labels.iter().position(|l| l == e))
                .map_or(0, |p| p + 1),
        )
    });
}

/// What a probe that hit its time limit had finished (the findings it [kept](Context::keep)), and an
/// `error` finding for the rest: per endpoint for an id it had already written per endpoint, once for
/// an id it had not written at all.
fn partial_findings(ctx: &Context, p: &dyn Probe, reason: &str) -> Vec<Finding> {
    let ids = p.finding_ids();
    let kept = ctx.kept(&ids);
    let mut out = Vec::new();
    for id in ids {
        let done: Vec<&Finding> = kept.iter().filter(|f| f.id == id).collect();
        if done.is_empty() {
            out.push(unfinished(id, reason.to_string()));
            continue;
        }
        for ep in &ctx.endpoints {
            let label = ep.label();
            if !done
                .iter()
                .any(|f| f.endpoint.as_deref() == Some(label.as_str()))
            {
                out.push(unfinished(id, format!("not measured at {label}: {reason}")).endpoint(ep));
            }
        }
        out.extend(done.into_iter().cloned());
    }
    out
}

fn unfinished(id: &str, reason: String) -> Finding {
    Finding::of(id, Status::Error, reason).severity(Severity::Low)
}

/// An `error` finding for every id the probe writes.
fn error_findings(p: &dyn Probe, reason: &str) -> Vec<Finding> {
    p.finding_ids()
        .into_iter()
        .map(|id| Finding::of(id, Status::Error, reason.to_string()).severity(Severity::Low))
        .collect()
}
