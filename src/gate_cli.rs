//! Part of the `sipcheck` binary: what a probe run says on stderr about its own completeness (the
//! findings that ended in `error`, the reason a run is incomplete, what `--fail-on` tripped on), and
//! its exit code, which comes from [`sipcheck::exit::code`] only.

use std::process::ExitCode;

use sipcheck::exit::{FailOn, Outcome};
use sipcheck::report::Report;

/// At most this many findings are named per stderr line group; the report has them all.
const NAMED: usize = 10;

/// Writes the stderr lines of a finished probe run and returns its exit code.
pub(crate) fn finish(report: &Report, fail_on: FailOn) -> ExitCode {
    for line in lines(report, fail_on) {
        eprintln!("{line}");
    }
    crate::cli::exit(Outcome::Gate(report, fail_on))
}

fn lines(report: &Report, fail_on: FailOn) -> Vec<String> {
    let mut out = Vec::new();
    let errors = &report.summary.errors;
    if !errors.is_empty() {
        out.push(format!(
            "sipcheck: {} finding(s) ended in error (the probe could not complete):",
            errors.len()
        ));
        for e in errors.iter().take(NAMED) {
            let ep = e
                .endpoint
                .as_deref()
                .map(|e| format!(" [{e}]"))
                .unwrap_or_default();
            out.push(format!("  {}{ep}: {}", e.id, e.reason));
        }
        if errors.len() > NAMED {
            out.push(format!(
                "  … and {} more (see the report's summary.errors)",
                errors.len() - NAMED
            ));
        }
    }
    if let Some(why) = &report.incomplete {
        out.push(format!("sipcheck: incomplete: {why}"));
    }
    if fail_on != FailOn::Fail {
        let stricter: Vec<String> = fail_on
            .tripped(report)
            .filter(|f| !FailOn::Fail.trips(f.status))
            .map(|f| match &f.endpoint {
                Some(ep) => format!("{} [{ep}] ({})", f.id, f.status),
                None => format!("{} ({})", f.id, f.status),
            })
            .collect();
        if !stricter.is_empty() {
            let more = stricter.len().saturating_sub(NAMED);
            out.push(format!(
                "sipcheck: --fail-on {}: {} finding(s) fail the gate: {}{}",
                fail_on.as_str(),
                stricter.len(),
                stricter
                    .iter()
                    .take(NAMED)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
    }
    out
}

/// `sipcheck schema`: the report's JSON Schema on stdout.
pub(crate) fn schema() -> ExitCode {
    print!("{}", sipcheck::report::schema::json_schema());
    crate::cli::exit(Outcome::Printed)
}
