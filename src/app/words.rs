//! What the commands print beside the report itself: the `-f` refusals and summary lines, the
//! reports directory's index, the stderr lines of a finished run, `diff`, `compare` and
//! `--list-probes` in the format asked for.

use crate::analysis::baseline;
use crate::batch::{Batch, Item};
use crate::error::{Error, Result};
use crate::exit::FailOn;
use crate::findings::{Report, SCHEMA_VERSION};

use super::args::ProbeArgs;

/// At most this many findings are named per stderr line group; the report has them all.
const NAMED: usize = 10;

/// What `-f` refuses: flags about one trunk, and `--dry-run` without a shard to list.
pub fn batch_checks(a: &ProbeArgs) -> Result<()> {
    let bad = |m: &str| Err(Error::BadOption(m.to_string()));
    if a.domain.is_some() {
        return bad("--domain cannot be combined with -f: each target's own domain is checked");
    }
    if a.policy.is_some() || a.baseline.is_some() || a.pcap.is_some() || a.keylog.is_some() {
        return bad(
            "--policy, --baseline, --pcap and --keylog work on one trunk; run them per target, not with -f",
        );
    }
    if a.dry_run && a.shard.is_none() {
        return bad(
            "--dry-run with -f lists a shard's targets: give --shard I/N (or dry-run one target)",
        );
    }
    // A number to call, credentials and floods belong to one trunk; never fan them out to a list.
    if a.call_to.is_some() || a.allow_calls || a.user.is_some() || a.dos {
        return bad(
            "--call-to, --allow-calls, --user and --dos are per trunk and cannot be combined with -f",
        );
    }
    if a.out.output.len() > 1 || a.out.output_all.is_some() {
        return bad(
            "with -f, -o names one directory (one report per target in --format); --output-all works on one trunk",
        );
    }
    Ok(())
}

/// One trunk's line in a `-f` run: exit code, endpoints, counts (or the error).
pub fn summary_line(item: &Item) -> String {
    match (&item.report, &item.error) {
        (Some(r), _) => format!(
            "{} exit {} · {} endpoint(s) · {}",
            item.target,
            item.exit_code,
            r.endpoints.len(),
            r.counts_text()
        ),
        (None, Some(e)) => format!("{} exit {} · {e}", item.target, item.exit_code),
        (None, None) => format!("{} exit {}", item.target, item.exit_code),
    }
}

/// One trunk's entry of `index.json`; `written` is the report's file name when it was written.
pub fn item_entry(item: &Item, written: Option<&str>) -> serde_json::Value {
    let mut entry = serde_json::json!({
        "target": item.target,
        "exit_code": item.exit_code,
        "error": item.error,
    });
    if let Some(name) = written {
        entry["report"] = name.into();
    }
    entry
}

/// `index.json` of a reports directory, in the order given.
pub fn index_json(entries: Vec<serde_json::Value>) -> String {
    let doc = serde_json::json!({"schema_version": SCHEMA_VERSION, "targets": entries});
    format!("{doc:#}\n")
}

/// Every trunk of a `-f` run as one JSON document.
pub fn batch_json(targets: Vec<Item>) -> String {
    let doc = Batch {
        schema_version: SCHEMA_VERSION,
        targets,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// The stderr lines after a scan: the baseline diff, or why it could not be made.
pub fn run_notes(report: &Report) -> Vec<String> {
    baseline::diffs_in(report)
        .into_iter()
        .map(|d| match d {
            Ok(d) => d.render_text(),
            Err(e) => format!("sipcheck: {e}"),
        })
        .collect()
}

/// The stderr lines of a finished probe run: the findings that ended in `error`, why a run is
/// incomplete, what `--fail-on` tripped on.
pub fn gate_lines(report: &Report, fail_on: FailOn) -> Vec<String> {
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
                stricter[..stricter.len().min(NAMED)].join(", "),
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

/// `sipcheck diff` in `format` (text, md, json).
pub fn diff_text(d: &crate::analysis::diff::Diff, format: &str) -> Result<String> {
    Ok(match format {
        "text" => d.render_text(),
        "md" | "markdown" => d.render_md(),
        "json" => serde_json::to_string_pretty(d).unwrap_or_default() + "\n",
        other => {
            return Err(Error::BadOption(format!(
                "unknown format {other:?} (expected text, md or json)"
            )));
        }
    })
}
