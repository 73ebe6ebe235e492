//! Markdown tables for table-shaped findings: the case table of `robustness.malformed`.

use std::fmt::Write;

use super::Finding;
use crate::findings::ids;
use crate::findings::robustness::Verdict;

fn cell(s: &str) -> String {
    super::escape::md(s)
}

/// A catalog case id as inline code; ids are sipcheck's own, anything else in them is dropped.
fn code_id(id: &str) -> String {
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .collect();
    format!("`{id}`")
}

/// The table for a finding whose details hold one: `None` for other findings (and a table with no
/// rows), `Some(Err(why))` when the details cannot be read as one.
pub(super) fn render(f: &Finding) -> Option<Result<String, String>> {
    if f.id != ids::ROBUSTNESS_MALFORMED.id {
        return None;
    }
    let d = match ids::ROBUSTNESS_MALFORMED.read(f) {
        Ok(d) => d,
        Err(e) => return Some(Err(e)),
    };
    if d.cases.is_empty() {
        return None;
    }
    let mut s = String::from(
        "\n| Case | RFC | Expected | Observed | Verdict | Status | Liveness after |\n|---|---|---|---|---|---|---|\n",
    );
    for c in &d.cases {
        let verdict = match c.verdict {
            Verdict::AcceptedInvalid => format!("**{}**", c.verdict.as_str()),
            v => v.as_str().to_string(),
        };
        let _ = writeln!(
            s,
            "| {} {} | {} | {} | {} | {} | {} | {} |",
            code_id(&c.id),
            cell(&c.title),
            cell(&c.rfc),
            cell(&c.expected),
            cell(&c.observed),
            verdict,
            c.status,
            cell(&c.liveness),
        );
    }
    if !d.skipped.is_empty() {
        let list: Vec<String> = d
            .skipped
            .iter()
            .map(|x| format!("{} ({})", code_id(&x.id), cell(&x.reason)))
            .collect();
        let _ = writeln!(s, "\nNot run: {}.", list.join(", "));
    }
    Some(Ok(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    #[test]
    fn renders_cases_and_escapes_cells() {
        use crate::findings::robustness::{CaseRow, MalformedDetails, SkippedCase};
        // Typed, as the probe writes it: a renamed field is a compile error here too.
        let d = MalformedDetails {
            cases: vec![CaseRow {
                id: "a".into(),
                title: "A".into(),
                rfc: "RFC 1".into(),
                expected: "400 | drop".into(),
                observed: "no answer".into(),
                verdict: Verdict::DifferentSafe,
                status: Status::Warn,
                liveness: "ok".into(),
                ..CaseRow::default()
            }],
            skipped: vec![SkippedCase {
                id: "big".into(),
                reason: "intrusive".into(),
            }],
            ..MalformedDetails::default()
        };
        let f = ids::ROBUSTNESS_MALFORMED
            .finding(Status::Warn, "s")
            .with_details(&d);
        let t = render(&f).unwrap().unwrap();
        assert!(
            t.contains("| `a` A | RFC 1 | 400 \\| drop | no answer | handled differently but safely | warn | ok |"),
            "{t}"
        );
        assert!(t.contains("`big` (intrusive)"));
        assert!(render(&Finding::new("sip.allow", "t", Status::Info, "s")).is_none());
        let odd = Finding::new("robustness.malformed", "t", Status::Warn, "s")
            .details(serde_json::json!({"cases": "not a list"}));
        assert!(render(&odd).unwrap().is_err());
    }
}
