//! The self-contained HTML report (`--format html`) and comparison (`compare --format html`): one file
//! with inline CSS and nothing else (no scripts, fonts, images or links out; a CSP forbids them), so it
//! opens offline and from an e-mail attachment and prints to a clean PDF. Every string that came from
//! the trunk goes through [`escape::html`](super::escape::html).

use std::fmt::Write;

use super::answers::Answer;
use super::escape::html as esc;
use super::markdown::anchor;
use super::{Report, Status, View};

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24;margin:2em auto;max-width:1100px;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:2px solid #d0d7de;padding-bottom:.2em}
table{border-collapse:collapse;width:100%;margin:.6em 0}th,td{border:1px solid #d0d7de;padding:.35em .5em;vertical-align:top;text-align:left}
th{background:#f3f5f7}.meta{color:#57606a}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.v{font-weight:600;text-transform:uppercase;font-size:12px;white-space:nowrap}
.pass{background:#dafbe1}.warn{background:#fff3c4}.fail{background:#ffd7d5}.info{background:#ddf4ff}
.skipped,.none{background:#eef0f2;color:#57606a}.error,.blocked{background:#f3e1ff}
.recommended{background:#dafbe1}.secure{background:#e9f7ec}.weak{background:#fff3c4}.insecure{background:#ffd7d5}
.suite{display:inline-block;margin:1px 2px;padding:0 4px;border-radius:3px;font-family:ui-monospace,monospace;font-size:11px}
.remedy{margin:.2em 0 .6em 1em;color:#333}details{margin:.3em 0}summary{cursor:pointer}
.best{outline:2px solid #1a7f37;outline-offset:-2px}
@media print{body{margin:0;max-width:none;font-size:11px}details{display:block}details>summary{list-style:none}
details:not([open])>*:not(summary){display:none}h2{break-after:avoid}tr,li{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
";

fn head(s: &mut String, title: &str) {
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(title)
    );
}

fn verdict_cell(v: Option<Status>) -> String {
    match v {
        Some(v) => format!("<td class=\"v {v}\">{v}</td>"),
        None => "<td class=\"v none\">not measured</td>".into(),
    }
}

fn links(v: &View, a: &Answer) -> String {
    a.ids
        .iter()
        .filter(|id| v.has_id(id))
        .map(|id| format!("<a href=\"#{}\"><code>{}</code></a>", anchor(id), esc(id)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders one report.
pub fn render(v: &View) -> String {
    let r = v.report;
    let mut s = String::new();
    head(&mut s, &format!("SIP trunk security report: {}", r.target));
    let _ = writeln!(
        s,
        "<h1>SIP trunk security report: {}</h1>\n<p class=\"meta\">Measured by {} {} on {} in {} ms. SIP domain checked: {}. Endpoints: {}.</p>",
        esc(&r.target),
        esc(&r.tool.name),
        esc(&r.tool.version),
        esc(&r.started_at),
        r.duration_ms,
        esc(&r.domain),
        esc(&r
            .endpoints
            .iter()
            .map(|e| e.label())
            .collect::<Vec<_>>()
            .join(", "))
    );
    if let Some(why) = &r.incomplete {
        let _ = writeln!(s, "<p class=\"v fail\">Incomplete: {}</p>", esc(why));
    }
    let _ = writeln!(s, "<p>Findings: {}.</p>", esc(&v.counts_text()));
    if let Some(p) = &r.policy {
        let _ = writeln!(s, "<p>{}</p>", esc(&super::policy_render::render_line(p)));
    }

    let _ = writeln!(
        s,
        "<h2>RFP answer sheet</h2>\n<table><tr><th>#</th><th>Question</th><th>Verdict</th><th>Measured answer</th><th>Evidence</th></tr>"
    );
    for a in &v.answers {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td>{}<td>{}</td><td>{}</td></tr>",
            a.question.number,
            esc(&a.question.text),
            verdict_cell(a.verdict),
            esc(&a.text),
            links(v, a)
        );
    }
    s.push_str("</table>\n");
    s.push_str(&super::to_measure::render_html(v));

    attention(&mut s, v);
    if let Some(p) = &r.policy {
        s.push_str(&super::policy_render::render_html(p));
    }
    tables(&mut s, v);
    per_endpoint(&mut s, v);
    appendix(&mut s, r);
    s.push_str("</body></html>\n");
    s
}

fn attention(s: &mut String, v: &View) {
    let r = v.report;
    let notable: Vec<_> = v.notable().collect();
    if notable.is_empty() {
        return;
    }
    let _ = writeln!(s, "<h2>Needs attention</h2>\n<ul>");
    let mut explained: Vec<&str> = Vec::new();
    for g in notable {
        let scope = g.scope(r);
        let _ = write!(
            s,
            "<li><span class=\"v {}\">{}</span>{} <code>{}</code>{}: {}",
            g.status,
            g.status,
            esc(&super::group::severity_words(g.severity())),
            esc(&g.id),
            if scope.is_empty() {
                String::new()
            } else {
                format!(" ({})", esc(&scope))
            },
            esc(&g.summary)
        );
        if let Some(spec) = crate::findings::spec(&g.id)
            && matches!(g.status, Status::Fail | Status::Warn)
            && !explained.contains(&g.id.as_str())
        {
            explained.push(&g.id);
            let _ = write!(
                s,
                "<div class=\"remedy\"><b>What this means:</b> {} <b>What to ask:</b> {}</div>",
                esc(spec.meaning),
                esc(spec.remedy)
            );
        }
        s.push_str("</li>\n");
    }
    s.push_str("</ul>\n");
}

/// The tables the findings' details hold (TLS matrix with SSLv2, certificates, malformed cases), one
/// heading per kind, one table per endpoint, as their contracts give them.
fn tables(s: &mut String, v: &View) {
    let all: Vec<_> = v.all_tables().collect();
    let mut titles: Vec<&str> = Vec::new();
    for (_, t) in &all {
        if !titles.contains(&t.title.as_str()) {
            titles.push(&t.title);
        }
    }
    for title in titles {
        let _ = writeln!(s, "<h2>{}</h2>", esc(title));
        for (f, t) in all.iter().filter(|(_, t)| t.title == title) {
            let _ = writeln!(
                s,
                "<h3>{}</h3>",
                esc(f.endpoint.as_deref().unwrap_or("trunk"))
            );
            s.push_str(&super::tables::html(t));
        }
    }
}

/// Each question's verdict per endpoint, for a trunk whose DNS names several servers.
fn per_endpoint(s: &mut String, v: &View) {
    let Some(m) = &v.matrix else {
        return;
    };
    let _ = write!(
        s,
        "<h2>Per endpoint</h2>\n<p>The answer sheet shows the weakest endpoint; here is each one's own verdict.</p>\n<table><tr><th>#</th>"
    );
    for l in &m.labels {
        let _ = write!(s, "<th>{}</th>", esc(l));
    }
    s.push_str("</tr>\n");
    for (q, cells) in &m.rows {
        let _ = write!(s, "<tr><td>{q}</td>");
        for c in cells {
            s.push_str(&verdict_cell(*c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
}

fn appendix(s: &mut String, r: &Report) {
    let _ = writeln!(s, "<h2>Appendix: findings and evidence</h2>");
    for (i, f) in r.findings.iter().enumerate() {
        let first = !r.findings[..i].iter().any(|o| o.id == f.id);
        let _ = writeln!(
            s,
            "<details{}><summary><span class=\"v {}\">{}</span>{} <code>{}</code> {}{} — {}</summary>",
            if first {
                format!(" id=\"{}\"", anchor(&f.id))
            } else {
                String::new()
            },
            f.status,
            f.status,
            esc(&super::group::severity_words(f.severity)),
            esc(&f.id),
            esc(&f.title),
            f.endpoint
                .as_deref()
                .map(|e| format!(" [{}]", esc(e)))
                .unwrap_or_default(),
            esc(&f.summary)
        );
        if !f.rfcs.is_empty() {
            let _ = writeln!(s, "<p>Rests on: {}</p>", esc(&f.rfcs.join(", ")));
        }
        if f.details.as_object().is_some_and(|o| !o.is_empty()) {
            let _ = writeln!(
                s,
                "<pre>{}</pre>",
                esc(&serde_json::to_string_pretty(&f.details).unwrap_or_default())
            );
        }
        for (n, e) in f.evidence.iter().enumerate() {
            let _ = writeln!(
                s,
                "<details><summary>Evidence {}: {} {} at +{} ms{}</summary><p>Sent:</p><pre>{}</pre>{}</details>",
                n + 1,
                e.transport,
                esc(&e.remote),
                e.at_ms,
                e.note
                    .as_deref()
                    .map(|n| format!(" — {}", esc(n)))
                    .unwrap_or_default(),
                esc(&e.sent),
                if e.received.is_empty() {
                    String::new()
                } else {
                    format!("<p>Received:</p><pre>{}</pre>", esc(&e.received))
                }
            );
        }
        s.push_str("</details>\n");
    }
}

/// Renders the comparison of `reports` (columns named by target).
pub fn render_compare(reports: &[Report]) -> String {
    match super::compare::Comparison::new(reports.to_vec(), &[]) {
        Ok(c) => render_compare_sheet(&super::compare::Sheet::of(&c)),
        Err(e) => esc(&e.to_string()),
    }
}

/// Renders a comparison: the sections of the markdown comparison ([`super::compare::SECTIONS`]),
/// carriers as columns, questions as rows, the strongest per question marked.
pub fn render_compare_sheet(sheet: &super::compare::Sheet) -> String {
    let sections = super::compare::SECTIONS;
    let cols = &sheet.labels;
    let mut s = String::new();
    head(&mut s, "SIP trunk comparison");
    let _ = writeln!(
        s,
        "<h1>SIP trunk comparison</h1>\n<h2>{}</h2>\n<ul>",
        sections[0]
    );
    for (c, m) in cols.iter().zip(&sheet.measured) {
        let _ = writeln!(s, "<li><b>{}</b>: {}</li>", esc(c), esc(m));
    }
    let _ = writeln!(
        s,
        "</ul>\n<h2>{}</h2>\n<p>{}</p>",
        sections[1],
        esc(sheet.scope_lead())
    );
    if !sheet.scope_warnings.is_empty() {
        s.push_str("<ul class=\"warn\">\n");
        for w in &sheet.scope_warnings {
            let _ = writeln!(s, "<li>{}</li>", esc(w));
        }
        s.push_str("</ul>\n");
    }
    let _ = write!(
        s,
        "<h2>{}</h2>\n<table><tr><th>#</th><th>Question</th>",
        sections[2]
    );
    for c in cols {
        let _ = write!(s, "<th>{}</th>", esc(c));
    }
    s.push_str("</tr>\n");
    for row in &sheet.rows {
        let _ = write!(s, "<tr><td>{}</td><td>{}</td>", row.number, esc(&row.short));
        for (i, (verdict, text)) in row.cells.iter().enumerate() {
            let class = verdict.map_or("none", Status::as_str);
            let best = if row.best.contains(&i) { " best" } else { "" };
            let _ = write!(
                s,
                "<td class=\"{class}{best}\"><span class=\"v\">{}</span> {}</td>",
                verdict.map_or("not measured", Status::as_str),
                if verdict.is_some() {
                    esc(text)
                } else {
                    String::new()
                }
            );
        }
        s.push_str("</tr>\n");
    }
    let _ = writeln!(
        s,
        "</table>\n<h2>{}</h2>\n<table><tr><th>#</th><th>Question</th><th>Strongest</th></tr>",
        sections[3]
    );
    for row in &sheet.rows {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            row.number,
            esc(&row.short),
            esc(&row.strongest)
        );
    }
    let _ = writeln!(s, "</table>\n<h2>{}</h2>\n<ul>", sections[4]);
    for (i, c) in cols.iter().enumerate() {
        let _ = writeln!(s, "<li><b>{}</b>: {}</li>", esc(c), esc(&sheet.overall(i)));
    }
    s.push_str("</ul>\n</body></html>\n");
    s
}
