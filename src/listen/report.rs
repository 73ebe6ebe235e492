//! The listener's findings: one `listen.call` per inbound INVITE with its identity verdict, and a
//! `listen.summary` with what arrived.

use futures_util::StreamExt;

use super::{Inbound, ListenAddr, Stats};
use crate::findings::ids;
use crate::findings::listen::{ListenCallDetails, ListenSummaryDetails};
use crate::findings::{Finding, Severity, Status};
use crate::stir::{self, RequestIdentity, Verdict, VerifyContext};

/// Identity verifications run at once (each is bounded by the x5u deadline).
const PARALLEL: usize = 8;

/// Verifies the Identity of every recorded INVITE, each as of the moment it arrived.
pub async fn verify_invites(
    records: &[Inbound],
    ctx: &VerifyContext,
) -> Vec<(Inbound, RequestIdentity)> {
    let invites: Vec<Inbound> = records
        .iter()
        .filter(|r| r.method() == Some("INVITE"))
        .cloned()
        .collect();
    futures_util::stream::iter(invites)
        .map(|r| async move {
            let mut c = ctx.clone();
            c.now = r.unix;
            let id = match &r.message {
                Some(m) => stir::verify_request(m, &c).await,
                None => unreachable_identity(),
            };
            (r, id)
        })
        .buffered(PARALLEL)
        .collect()
        .await
}

fn unreachable_identity() -> RequestIdentity {
    RequestIdentity {
        caller: None,
        called: None,
        identities: vec![stir::verify::absent()],
        not_verified: 0,
        carrier: Vec::new(),
    }
}

/// One sentence on what a call's identity came to.
pub fn identity_sentence(id: &RequestIdentity) -> (Status, String) {
    let first = id.first();
    let carrier = id.carrier.first().map(|c| {
        format!(
            "; the carrier says {}={} (verified by the carrier, not by sipcheck)",
            c.name, c.value
        )
    });
    let carrier = carrier.unwrap_or_default();
    match first {
        Some(f) if f.verdict == Verdict::Valid => (
            Status::Pass,
            format!(
                "Identity valid (every check passed), attestation {}{}",
                f.passport
                    .as_ref()
                    .and_then(|p| p.attest.clone())
                    .unwrap_or_default(),
                f.certificate
                    .as_ref()
                    .and_then(|c| c.spc.clone())
                    .map(|s| format!(", SPC {s}"))
                    .unwrap_or_default()
            ),
        ),
        Some(f) if f.verdict == Verdict::ChainNotVerified => (
            Status::Warn,
            format!(
                "Identity signature valid, attestation {}, chain not verified: no STI roots given",
                f.passport
                    .as_ref()
                    .and_then(|p| p.attest.clone())
                    .unwrap_or_default()
            ),
        ),
        Some(f) => match &f.failure {
            Some(fl) if fl.check == stir::Check::Present && !id.carrier.is_empty() => {
                (Status::Info, format!("no Identity header{carrier}"))
            }
            Some(fl) if fl.check == stir::Check::Present => (
                Status::Warn,
                "no Identity header and no carrier verification indication".into(),
            ),
            Some(fl) => (
                Status::Fail,
                format!(
                    "Identity invalid: {} failed, a verifier would answer {} {} ({}){carrier}",
                    fl.check.id(),
                    fl.code,
                    fl.reason,
                    fl.detail
                ),
            ),
            None => (Status::Error, "no verdict".into()),
        },
        None => (Status::Error, "no verdict".into()),
    }
}

pub fn call_finding(rec: &Inbound, id: &RequestIdentity) -> Finding {
    let (status, sentence) = identity_sentence(id);
    let summary = format!(
        "call from {} to {}: {sentence}",
        id.caller.as_deref().unwrap_or("an unknown caller"),
        id.called.as_deref().unwrap_or("an unknown number"),
    );
    let details = ListenCallDetails {
        seq: rec.seq,
        remote: rec.remote.to_string(),
        transport: Some(rec.transport),
        answered: rec.codes.clone(),
        identity: serde_json::to_value(id).ok(),
    };
    ids::LISTEN_CALL
        .finding(status, summary)
        .severity(match status {
            Status::Fail => Severity::Medium,
            Status::Warn => Severity::Low,
            _ => Severity::None,
        })
        .with_details(&details)
        .evidence([rec.evidence()])
}

pub fn summary_finding(at: &ListenAddr, stats: &Stats, records: &[Inbound], secs: u64) -> Finding {
    let count = |m: &str| records.iter().filter(|r| r.method() == Some(m)).count();
    let invites = count("INVITE");
    let summary = format!(
        "listened on {at} for {secs} s: {} requests ({invites} INVITE, {} OPTIONS, {} unparseable), {} dropped past the limit, {} retransmissions",
        stats.requests,
        count("OPTIONS"),
        stats.unparseable,
        stats.dropped,
        stats.retransmissions,
    );
    let mut ev: Vec<_> = records
        .iter()
        .filter(|r| r.method() != Some("INVITE"))
        .take(16)
        .map(Inbound::evidence)
        .collect();
    ev.truncate(16);
    let details = ListenSummaryDetails {
        listen: at.to_string(),
        stats: stats.clone(),
        invites,
    };
    ids::LISTEN_SUMMARY
        .finding(Status::Info, summary)
        .with_details(&details)
        .evidence(ev)
}

/// A whole `sipcheck listen` run: serve until `duration` passes or `interrupt` resolves, then verify
/// every INVITE and write the report.
pub async fn run(
    cfg: super::ListenConfig,
    duration: std::time::Duration,
    ctx: VerifyContext,
    interrupt: impl std::future::Future<Output = ()>,
) -> crate::Result<crate::Report> {
    let started_at = crate::findings::now_rfc3339();
    let t0 = std::time::Instant::now();
    let at = cfg.at;
    let listener = super::Listener::start(cfg).await?;
    let bound = ListenAddr {
        transport: at.transport,
        addr: listener.local_addr(),
    };
    eprintln!("sipcheck: listening on {bound}");
    let interrupted = tokio::select! {
        _ = tokio::time::sleep(duration) => false,
        _ = interrupt => true,
    };
    let (records, stats) = listener.stop().await;
    let mut findings = Vec::new();
    for (rec, id) in verify_invites(&records, &ctx).await {
        findings.push(call_finding(&rec, &id));
    }
    findings.push(summary_finding(
        &bound,
        &stats,
        &records,
        t0.elapsed().as_secs(),
    ));
    Ok(crate::Report {
        schema_version: crate::findings::SCHEMA_VERSION,
        tool: crate::findings::Tool::default(),
        target: bound.to_string(),
        domain: String::new(),
        started_at,
        duration_ms: t0.elapsed().as_millis() as u64,
        endpoints: Vec::new(),
        findings,
        incomplete: interrupted.then(|| "interrupted before --duration ended".to_string()),
        policy: None,
    })
}
