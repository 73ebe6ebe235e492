//! `baseline.diff`: the changes since a baseline report, as a finding, so JUnit and the exit code
//! carry them.

use super::Baseline;
use crate::analysis::diff::{self, Diff, Kind};
use crate::findings::ids;
use crate::findings::run::BaselineDetails;
use crate::findings::{Finding, Report, Severity, Status};

/// The diff of `report` against the baseline, as a `baseline.diff` finding.
pub fn finding(b: &Baseline, report: &Report) -> Finding {
    let d = diff::diff(&b.report, report);
    of_diff(&b.path, &d)
}

fn of_diff(path: &str, d: &Diff) -> Finding {
    let count = |k| d.of(k).count();
    let (worse, better, new, gone) = (
        count(Kind::Worse),
        count(Kind::Better),
        count(Kind::New),
        count(Kind::Gone),
    );
    let status = if worse > 0 {
        Status::Fail
    } else {
        Status::Pass
    };
    let mut summary =
        format!("against baseline {path}: {worse} worse, {better} better, {new} new, {gone} gone");
    if worse > 0 {
        let first: Vec<String> = d
            .of(Kind::Worse)
            .take(3)
            .map(|c| format!("{} {}", c.id, c.what))
            .collect();
        summary.push_str(&format!(" ({})", first.join("; ")));
    }
    ids::BASELINE_DIFF
        .finding(status, summary)
        .severity(if worse > 0 {
            Severity::High
        } else {
            Severity::None
        })
        .with_details(&BaselineDetails {
            baseline: path.to_string(),
            changes: d.changes.clone(),
        })
}

/// The diffs the report's `baseline.diff` findings carry (one per `--baseline`), each or the reason
/// it cannot be read.
pub fn diffs_in(report: &Report) -> Vec<Result<Diff, String>> {
    report
        .findings
        .iter()
        .filter(|f| f.id == ids::BASELINE_DIFF.id)
        .map(|f| diff_of(f, report))
        .collect()
}

/// The diff a `baseline.diff` finding carries, for rendering; the reason when it cannot be read.
pub fn diff_of(f: &Finding, report: &Report) -> Result<Diff, String> {
    let d = ids::BASELINE_DIFF.read(f)?;
    Ok(Diff {
        baseline: d.baseline,
        new: report.target.clone(),
        changes: d.changes,
    })
}
