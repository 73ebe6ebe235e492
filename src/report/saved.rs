//! A report saved by `probe` (this version or an older one), read back for `sipcheck report`, with every
//! way it differs from what this build writes said in words: the schema version, the tool version,
//! fields this build does not know (left out) or that the file lacks (read as their default), finding
//! ids this build does not write, registry facts (title, seed questions, RFCs) that changed since, and
//! checks a report of another version lacks. Each finding is rendered with its own facts; what groups
//! findings (the answer sheet's seed questions, SARIF's rules) follows this build's registry.

use super::{Report, SCHEMA_VERSION};
use crate::error::{Error, Result};
use crate::findings::{REGISTRY, Tool, schema, spec};

/// A saved report and how it differs from what this build writes.
#[derive(Debug)]
pub struct Saved {
    /// The report as read (fields this build does not know are left out).
    pub report: Report,
    /// One sentence per difference; empty when this build would have written the same shape.
    pub differences: Vec<String>,
}

/// Reads a JSON report from `path`.
pub fn load(path: &str) -> Result<Saved> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::BadFile {
        path: path.into(),
        reason: e.to_string(),
    })?;
    parse(&text).map_err(|reason| Error::BadFile {
        path: path.into(),
        reason,
    })
}

/// Parses a JSON report; the reason when it is not one (a report of this schema version lacking a
/// field the schema requires is not one).
pub fn parse(text: &str) -> std::result::Result<Saved, String> {
    let loaded = schema::load(text)?;
    let mut differences = Vec::new();
    let report = loaded.report;
    if report.schema_version != SCHEMA_VERSION {
        differences.push(format!(
            "written with report schema version {}; this build writes version {SCHEMA_VERSION}",
            report.schema_version
        ));
    }
    differences.extend(loaded.differences);
    differences.extend(other_differences(&report));
    Ok(Saved {
        report,
        differences,
    })
}

/// How a report differs from what this build writes beyond its shape: the tool, the registry's
/// facts, checks it lacks.
fn other_differences(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let ours = Tool::default();
    if report.tool.version != ours.version || report.tool.name != ours.name {
        out.push(format!(
            "written by {} {}; rendered by {} {}",
            report.tool.name, report.tool.version, ours.name, ours.version
        ));
    }
    out.extend(registry_differences(report));
    if report.tool.version != ours.version {
        out.extend(absent_checks(report));
    }
    out
}

/// Finding ids and registry facts that differ from this build's registry.
fn registry_differences(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for f in &report.findings {
        if seen.contains(&f.id.as_str()) {
            continue;
        }
        seen.push(&f.id);
        let Some(s) = spec(&f.id) else {
            out.push(format!(
                "finding `{}` is not one this build writes; rendered as the report has it",
                f.id
            ));
            continue;
        };
        if s.id.ends_with('*') {
            continue;
        }
        if f.title != s.title {
            out.push(format!(
                "`{}`: titled {:?} in the report, {:?} in this build (each finding keeps the report's)",
                f.id, f.title, s.title
            ));
        }
        if f.questions != s.questions {
            out.push(format!(
                "`{}`: answers seed questions {:?} in the report, {:?} in this build (the finding lists the report's; the answer sheet follows this build's)",
                f.id, f.questions, s.questions
            ));
        }
        let rfcs: Vec<&str> = f.rfcs.iter().map(String::as_str).collect();
        // A finding that was not measured may carry no RFCs at all; only a different list is news.
        if !rfcs.is_empty() && rfcs != s.rfcs {
            out.push(format!(
                "`{}`: checked against {} in the report, {} in this build (each finding keeps the report's)",
                f.id,
                list(&rfcs),
                list(s.rfcs)
            ));
        }
    }
    out
}

/// Checks this build has that a report of another version does not mention at all (a report of this
/// version lacks only what was not selected, which its own `--probes` said).
fn absent_checks(report: &Report) -> Option<String> {
    let absent: Vec<&str> = REGISTRY
        .iter()
        .filter(|s| s.scanned() && !s.id.ends_with('*'))
        .filter(|s| !report.findings.iter().any(|f| f.id == s.id))
        .map(|s| s.id)
        .collect();
    (!absent.is_empty()).then(|| {
        format!(
            "{} check(s) of this build are not in the report (not selected, or newer than it): {}",
            absent.len(),
            absent.join(", ")
        )
    })
}

fn list(items: &[&str]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_missing_fields_are_named_by_path() {
        let text = r#"{"schema_version": 0, "tool": {"name": "sipcheck", "version": "0.0.1"},
            "target": "t", "domain": "t", "started_at": "2026-01-01T00:00:00Z", "duration_ms": 1,
            "endpoints": [], "shiny": 1,
            "findings": [{"id": "sip.allow", "title": "old title", "category": "sip", "status": "info",
              "severity": "none", "questions": [], "rfcs": [], "summary": "s", "details": {"a": 1},
              "evidence": [], "extra": true}]}"#;
        let saved = parse(text).unwrap();
        let d = saved.differences.join("\n");
        assert!(
            d.contains(&format!(
                "report schema version 0; this build writes version {SCHEMA_VERSION}"
            )),
            "{d}"
        );
        assert!(d.contains("written by sipcheck 0.0.1"), "{d}");
        assert!(
            d.contains("schema 0: field `shiny` is not in schema"),
            "{d}"
        );
        assert!(
            d.contains("field `findings[sip.allow].extra` is not in"),
            "{d}"
        );
        assert!(
            d.contains("field `findings[sip.allow].details.a` is not in"),
            "{d}"
        );
        assert!(
            d.contains("schema 0: field `findings[sip.allow].details.allow` absent, read as []"),
            "{d}"
        );
        assert!(
            d.contains("schema 0: field `summary` absent, read as counted from its findings"),
            "{d}"
        );
        assert!(d.contains("`sip.allow`: titled \"old title\""), "{d}");
        assert!(
            d.contains("not in the report (not selected, or newer than it)"),
            "{d}"
        );
        assert_eq!(
            saved.report.summary.by_status.info, 1,
            "counted from the findings"
        );
    }
}
