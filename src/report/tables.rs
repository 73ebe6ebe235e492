//! The tables findings' details hold (the TLS matrix, certificates, the malformed-message cases), as
//! their contracts give them, rendered for markdown and HTML from one [`Table`].

use std::fmt::Write;

use super::escape::{html as h, md};
use super::{Finding, Report};
use crate::findings::{Span, Table};

/// The tables of one finding, by the contract of its id; the reason when its details cannot be read.
pub fn of(r: &Report, f: &Finding) -> Result<Vec<Table>, String> {
    match crate::findings::spec(&f.id) {
        Some(s) => (s.contract.tables)(r, f),
        None => Ok(Vec::new()),
    }
}

fn md_span(s: &Span) -> String {
    if s.code {
        format!("`{}`", s.text.replace('`', ""))
    } else if s.strong {
        format!("**{}**", md(&s.text))
    } else {
        md(&s.text)
    }
}

/// A markdown table, with its note under it.
pub fn markdown(t: &Table) -> String {
    let mut s = format!(
        "\n| {} |\n|{}\n",
        t.head.join(" | "),
        "---|".repeat(t.head.len())
    );
    for row in &t.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| c.spans.iter().map(md_span).collect::<Vec<_>>().join(" "))
            .collect();
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    if let Some(n) = &t.note {
        let _ = writeln!(s, "\n{}", md(n));
    }
    s
}

fn html_span(s: &Span) -> String {
    let mut text = h(&s.text);
    if s.code {
        text = format!("<code>{text}</code>");
    }
    if s.strong {
        text = format!("<strong>{text}</strong>");
    }
    match (s.class, &s.title) {
        (None, None) => text,
        (c, t) => format!(
            "<span{}{}>{text}</span>",
            c.map(|c| format!(" class=\"{c}\"")).unwrap_or_default(),
            t.as_ref()
                .map(|t| format!(" title=\"{}\"", h(t)))
                .unwrap_or_default()
        ),
    }
}

/// An HTML table, with its note under it.
pub fn html(t: &Table) -> String {
    let mut s = String::from("<table><tr>");
    for c in &t.head {
        let _ = write!(s, "<th>{}</th>", h(c));
    }
    s.push_str("</tr>\n");
    for row in &t.rows {
        s.push_str("<tr>");
        for c in row {
            let spans: Vec<String> = c.spans.iter().map(html_span).collect();
            match c.class {
                Some(class) => {
                    let _ = write!(s, "<td class=\"{class}\">{}</td>", spans.join(" "));
                }
                None => {
                    let _ = write!(s, "<td>{}</td>", spans.join(" "));
                }
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    if let Some(n) = &t.note {
        let _ = writeln!(s, "<p>{}</p>", h(n));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::ids;
    use crate::findings::robustness::{CaseRow, MalformedDetails, SkippedCase, Verdict};
    use crate::report::Status;

    fn report(findings: Vec<Finding>) -> Report {
        Report::of("t", Vec::new(), findings)
    }

    #[test]
    fn renders_cases_and_escapes_cells() {
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
        let r = report(vec![f.clone()]);
        let t = of(&r, &f).unwrap();
        let m = markdown(&t[0]);
        assert!(
            m.contains("| Case | RFC | Expected | Observed | Verdict | Status | Liveness after |"),
            "{m}"
        );
        assert!(
            m.contains("| `a` A | RFC 1 | 400 \\| drop | no answer | handled differently but safely | warn | ok |"),
            "{m}"
        );
        assert!(m.contains("Not run: big (intrusive)."), "{m}");
        let html = html(&t[0]);
        assert!(html.contains("<td>400 | drop</td>"), "{html}");
        let allow = Finding::new("sip.allow", "t", Status::Info, "s");
        assert!(of(&r, &allow).unwrap().is_empty());
        let odd = Finding {
            details: serde_json::json!({"cases": "not a list"}),
            ..Finding::of("robustness.malformed", Status::Warn, "s")
        };
        assert!(of(&r, &odd).is_err());
    }
}
