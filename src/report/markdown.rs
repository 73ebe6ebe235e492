//! The RFP form: a one-screen summary, the answer sheet for the fifteen seed questions, then every
//! finding with its evidence.

use std::fmt::Write;

use super::escape::{md as esc, md_fenced as fenced};
use super::{Status, View};

/// The link target of a finding id's first section (ids are lower-case, dotted, with underscores).
pub fn anchor(id: &str) -> String {
    let id: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("f-{id}")
}

/// Renders the markdown report.
pub fn render(v: &View) -> String {
    let r = v.report;
    let mut s = String::new();
    let _ = writeln!(s, "# SIP trunk security report: {}\n", esc(&r.target));
    let _ = writeln!(
        s,
        "Measured by {} {} on {} in {} ms. SIP domain checked: {}.\n",
        r.tool.name,
        r.tool.version,
        r.started_at,
        r.duration_ms,
        esc(&r.domain)
    );
    if let Some(why) = &r.incomplete {
        let _ = writeln!(s, "> **Incomplete:** {}\n", esc(why));
    }
    let _ = writeln!(s, "## Summary\n");
    let _ = writeln!(s, "Findings: {}.\n", v.counts_text());
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
    let notable: Vec<_> = v.notable().collect();
    if !notable.is_empty() {
        let _ = writeln!(s, "Needs attention:\n");
        let mut explained: Vec<String> = Vec::new();
        for g in notable {
            let scope = g.scope(r);
            let scope = if scope.is_empty() {
                String::new()
            } else {
                format!(" ({})", esc(&scope))
            };
            let _ = writeln!(
                s,
                "- **{}**{} `{}`{scope}: {}",
                g.status,
                super::group::severity_words(g.severity()),
                g.id,
                esc(&g.summary)
            );
            if let Some(spec) = crate::findings::spec(&g.id)
                && matches!(g.status, Status::Fail | Status::Warn)
                && !spec.remedy.is_empty()
                && !explained.contains(&g.id)
            {
                explained.push(g.id.clone());
                let _ = writeln!(
                    s,
                    "  - *Means:* {} *Remedy:* {}",
                    esc(spec.meaning),
                    esc(spec.remedy)
                );
            }
        }
        s.push('\n');
    }

    if let Some(p) = &r.policy {
        s.push_str(&super::policy_render::render_md(p));
    }
    let _ = writeln!(s, "## RFP answer sheet\n");
    let _ = writeln!(
        s,
        "The fifteen questions of the SIP security challenge, and the article's own REFER question, answered from measurements of this trunk.\n"
    );
    let _ = writeln!(
        s,
        "| # | Question | Verdict | Measured answer | Evidence |\n|---|---|---|---|---|"
    );
    for a in &v.answers {
        let verdict = a
            .verdict
            .map_or_else(|| "not measured".to_string(), |v| format!("**{v}**"));
        let links: Vec<String> = a
            .ids
            .iter()
            .filter(|id| v.has_id(id))
            .map(|id| format!("[{}](#{})", esc(id), anchor(id)))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            a.question.number,
            esc(&a.question.text),
            verdict,
            esc(&a.text),
            links.join(", ")
        );
    }
    s.push('\n');
    s.push_str(&super::to_measure::render_md(v));
    s.push_str(&super::endpoints::render_md(v));

    let _ = writeln!(s, "## Appendix: findings and evidence\n");
    for (i, f) in r.findings.iter().enumerate() {
        if !r.findings[..i].iter().any(|o| o.id == f.id) {
            let _ = writeln!(s, "<a id=\"{}\"></a>\n", anchor(&f.id));
        }
        let ep = f
            .endpoint
            .as_deref()
            .map(|e| format!(" — `{e}`"))
            .unwrap_or_default();
        let _ = writeln!(s, "### `{}` {}{ep}\n", f.id, esc(&f.title));
        match f.severity {
            super::Severity::None => {
                let _ = writeln!(s, "- Status: **{}**", f.status);
            }
            sev => {
                let _ = writeln!(s, "- Status: **{}** (severity {})", f.status, sev.as_str());
            }
        }
        let _ = writeln!(s, "- {}", esc(&f.summary));
        if !f.questions.is_empty() {
            let qs: Vec<String> = f.questions.iter().map(|q| q.to_string()).collect();
            let _ = writeln!(s, "- Answers seed question(s): {}", qs.join(", "));
        }
        if !f.rfcs.is_empty() {
            let _ = writeln!(s, "- Rests on: {}", esc(&f.rfcs.join(", ")));
        }
        // A finding whose details hold tables shows them; when they hold every fact, instead of the
        // JSON they are made from.
        let tables: &[crate::findings::Table] = match &v.tables[i] {
            Ok(t) => t,
            Err(why) => {
                let _ = writeln!(s, "- The details cannot be shown as a table: {}", esc(why));
                &[]
            }
        };
        for t in tables {
            s.push_str(&super::tables::markdown(t));
        }
        if !tables.iter().any(|t| t.complete)
            && f.details.as_object().is_some_and(|o| !o.is_empty())
        {
            let _ = writeln!(
                s,
                "\n<details><summary>Details</summary>\n\n{}\n</details>",
                fenced(
                    &serde_json::to_string_pretty(&f.details).unwrap_or_default(),
                    "json"
                )
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
                    .map(|n| format!(" — {}", super::escape::html(n)))
                    .unwrap_or_default()
            );
            let _ = writeln!(s, "Sent:\n\n{}\n", fenced(&e.sent, ""));
            if !e.received.is_empty() {
                let _ = writeln!(s, "Received:\n\n{}\n", fenced(&e.received, ""));
            }
            let _ = writeln!(s, "</details>");
        }
        s.push('\n');
    }
    s
}
