//! Post-run analyses: what is computed from the probes' findings once they all ran, inside the
//! library so that a program calling [`crate::scan::scan`] gets the same report as the CLI.
//! Order matters: parity compares the probes' findings only; the policy judges those and parity;
//! the baseline diff leaves policy and baseline findings out (they follow the run's options).

pub mod baseline;
pub mod compare;
pub mod diff;
pub mod parity;
pub mod policy;

use crate::findings::Report;
use crate::findings::ids;
use policy::Policy;

/// A report from an earlier run to diff against (`--baseline`).
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Where it was read from, as the user named it (shown in the finding).
    pub path: String,
    /// The earlier report.
    pub report: Report,
}

/// Which post-run analyses a scan applies.
#[derive(Debug, Clone, Default)]
pub struct Analyses {
    /// `endpoints.parity` is selected.
    pub parity: bool,
    /// A policy to judge the report by (`policy.*` findings and `report.policy`).
    pub policy: Option<Policy>,
    /// A report to diff against (the `baseline.diff` finding).
    pub baseline: Option<Baseline>,
}

/// Adds the post-run findings (and `report.policy`) to a report whose probes have run.
pub fn finish(report: &mut Report, analyses: &Analyses) {
    if analyses.parity {
        let extra = parity::compare(&report.findings);
        report.findings.extend(extra);
    }
    if let Some(p) = &analyses.policy {
        policy::apply(p, report);
    }
    if let Some(b) = &analyses.baseline {
        let f = baseline::finding(b, report);
        report.findings.push(f);
    }
    debug_assert!(
        !analyses.parity
            || report
                .findings
                .iter()
                .any(|f| f.id == ids::ENDPOINTS_PARITY.id)
    );
}
