//! The RFP form: a one-screen summary, the answer sheet for the fifteen seed questions, then every
//! finding with its evidence.

use std::fmt::Write;

use super::questions::{self, Question};
use super::{Finding, Report, Status};

/// The measured findings that answer a question, and the worst status among them.
pub fn answer<'a>(r: &'a Report, q: &Question) -> (Vec<&'a Finding>, Option<Status>) {
    let fs: Vec<&Finding> = r.findings.iter().filter(|f| q.answered_by(&f.id)).collect();
    let worst = fs
        .iter()
        .filter(|f| f.status != Status::Skipped)
        .map(|f| f.status)
        .max_by_key(|s| s.badness());
    (fs, worst)
}

/// A code block whose fence is longer than any backtick run inside, so a hostile peer's bytes cannot
/// close it and inject markdown into the report.
fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}\n{}\n{fence}", text.trim_end())
}

fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Renders the markdown report.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# SIP trunk security report: {}\n", r.target);
    let _ = writeln!(
        s,
        "Measured by {} {} on {} in {} ms. SIP domain checked: `{}`.\n",
        r.tool.name, r.tool.version, r.started_at, r.duration_ms, r.domain
    );
    if let Some(why) = &r.incomplete {
        let _ = writeln!(s, "> **Incomplete:** {why}\n");
    }
    let _ = writeln!(s, "## Summary\n");
    let _ = writeln!(s, "Findings: {}.\n", r.counts_text());
    let _ = writeln!(
        s,
        "| Endpoint | Transport | Address | Port |\n|---|---|---|---|"
    );
    for e in &r.endpoints {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} |",
            e.label(),
            e.transport,
            e.address,
            e.port
        );
    }
    s.push('\n');
    let notable: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| {
            matches!(
                f.status,
                Status::Fail | Status::Warn | Status::Error | Status::Blocked
            )
        })
        .collect();
    if !notable.is_empty() {
        let _ = writeln!(s, "Needs attention:\n");
        for f in notable {
            let ep = f
                .endpoint
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            let _ = writeln!(s, "- **{}** `{}`{ep}: {}", f.status, f.id, f.summary);
        }
        s.push('\n');
    }

    if let Some(p) = &r.policy {
        s.push_str(&super::policy::render_md(p));
    }
    let _ = writeln!(s, "## RFP answer sheet\n");
    let _ = writeln!(
        s,
        "The fifteen questions of the SIP security challenge, and the article's own REFER question, answered from measurements of this trunk.\n"
    );
    let _ = writeln!(
        s,
        "| # | Question | Verdict | Measured answer |\n|---|---|---|---|"
    );
    for q in questions::sheet() {
        let (fs, worst) = answer(r, &q);
        let measured: Vec<&&Finding> = fs.iter().filter(|f| f.status != Status::Skipped).collect();
        let (verdict, text) = match worst {
            None => {
                let why = fs
                    .first()
                    .map(|f| format!("not measured: {}", f.summary))
                    .unwrap_or_else(|| match q.probe.strip_prefix("none yet: ") {
                        Some(why) => format!("not measured: {why}"),
                        None => format!("not measured yet — probe `{}`", q.probe),
                    });
                ("not measured".to_string(), why)
            }
            Some(w) => (
                w.to_string(),
                measured
                    .iter()
                    .map(|f| match &f.endpoint {
                        Some(e) => format!("{} (`{}` {e})", f.summary, f.id),
                        None => format!("{} (`{}`)", f.summary, f.id),
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            q.number,
            escape_cell(&q.text),
            verdict,
            escape_cell(&text)
        );
    }
    s.push('\n');
    s.push_str(&super::endpoints::render_md(r));

    let _ = writeln!(s, "## Findings and evidence\n");
    for f in &r.findings {
        let ep = f
            .endpoint
            .as_deref()
            .map(|e| format!(" — `{e}`"))
            .unwrap_or_default();
        let _ = writeln!(s, "### `{}` {}{ep}\n", f.id, f.title);
        let _ = writeln!(s, "- Status: **{}** (severity {:?})", f.status, f.severity);
        let _ = writeln!(s, "- {}", f.summary);
        if !f.questions.is_empty() {
            let qs: Vec<String> = f.questions.iter().map(|q| q.to_string()).collect();
            let _ = writeln!(s, "- Answers seed question(s): {}", qs.join(", "));
        }
        if !f.rfcs.is_empty() {
            let _ = writeln!(s, "- Rests on: {}", f.rfcs.join(", "));
        }
        // A table-shaped finding shows its table instead of the JSON it is made from.
        let table = super::case_table::render(f);
        if let Some(t) = &table {
            s.push_str(t);
        } else if f.details.as_object().is_some_and(|o| !o.is_empty()) {
            let _ = writeln!(
                s,
                "\n<details><summary>Details</summary>\n\n```json\n{}\n```\n</details>",
                serde_json::to_string_pretty(&f.details).unwrap_or_default()
            );
        }
        for (i, e) in f.evidence.iter().enumerate() {
            let _ = writeln!(
                s,
                "\n<details><summary>Evidence {}: {} {} at +{} ms{}{}</summary>\n",
                i + 1,
                e.transport,
                e.remote,
                e.at_ms,
                e.rtt_ms
                    .map(|r| format!(", answered in {r} ms"))
                    .unwrap_or_default(),
                e.note
                    .as_deref()
                    .map(|n| format!(" — {n}"))
                    .unwrap_or_default()
            );
            let _ = writeln!(s, "Sent:\n\n{}\n", fenced(&e.sent));
            if !e.received.is_empty() {
                let _ = writeln!(s, "Received:\n\n{}\n", fenced(&e.received));
            }
            let _ = writeln!(s, "</details>");
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn fences_outgrow_backticks_in_evidence() {
        let f = super::fenced("a ```` b");
        assert!(f.starts_with("`````\n") && f.ends_with("\n`````"), "{f}");
        assert_eq!(super::fenced("x"), "```\nx\n```");
    }
}
