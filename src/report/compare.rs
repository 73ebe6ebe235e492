//! Carrier comparison (`sipcheck compare a.json b.json c.json --format md`): the head-to-head the seed's
//! author attempted by hand. One column per trunk, one row per seed question, each cell the measured
//! answer (the worst status among the findings answering it, as in the RFP answer sheet), then who is
//! strongest per question. Every cell is read from the trunk's [`View`], the answer its own report
//! states.

use std::fmt::Write;

use super::questions::{self, Question};
use super::{Format, Report, Status, View};
pub use crate::analysis::compare::Comparison;
use crate::error::{Error, Result};

/// Longest cell text before it is cut, so the table stays readable.
const CELL_CHARS: usize = 200;

fn cut(s: &str) -> String {
    let s = super::escape::md(s);
    if s.chars().count() <= CELL_CHARS {
        s
    } else {
        let mut t: String = s.chars().take(CELL_CHARS - 1).collect();
        t.push('…');
        t
    }
}

/// The column names: each report's target, numbered when two reports have the same target.
pub fn columns(reports: &[Report]) -> Vec<String> {
    named(
        &reports
            .iter()
            .map(|r| r.target.as_str())
            .collect::<Vec<_>>(),
    )
}

fn named(targets: &[&str]) -> Vec<String> {
    targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if targets.iter().filter(|o| *o == t).count() > 1 {
                format!("{t} (#{})", i + 1)
            } else {
                t.to_string()
            }
        })
        .collect()
}

/// The views of the reports compared, each built once.
pub fn views(reports: &[Report]) -> Vec<View<'_>> {
    reports.iter().map(View::of).collect()
}

/// A trunk's verdict on a question (`None`: not measured), as its own report states it.
pub fn verdict(v: &View, q: &Question) -> Option<Status> {
    v.answer(q.number).and_then(|a| a.verdict)
}

/// One cell: the verdict (or `None` when not measured) and its short measured answer, escaped.
pub fn cell(v: &View, q: &Question) -> (Option<Status>, String) {
    match v.answer(q.number) {
        Some(a) if a.verdict.is_some() => (
            a.verdict,
            format!(
                "**{}**: {}",
                a.verdict.unwrap_or(Status::Skipped),
                cut(&a.text)
            ),
        ),
        _ => (None, "not measured".into()),
    }
}

/// The trunks measured on a question, and the best of them (lowest worst-status), by index.
pub fn winners(views: &[View], q: &Question) -> (usize, Vec<usize>, Option<Status>) {
    let verdicts: Vec<(usize, Status)> = views
        .iter()
        .enumerate()
        .filter_map(|(i, v)| verdict(v, q).map(|w| (i, w)))
        .collect();
    let Some(best) = verdicts.iter().map(|(_, s)| s.badness()).min() else {
        return (0, Vec::new(), None);
    };
    let win: Vec<(usize, Status)> = verdicts
        .iter()
        .copied()
        .filter(|(_, s)| s.badness() == best)
        .collect();
    (
        verdicts.len(),
        win.iter().map(|(i, _)| *i).collect(),
        Some(win[0].1),
    )
}

/// Who is strongest on a question, in words (columns named by target).
pub fn strongest(views: &[View], q: &Question) -> String {
    strongest_named(views, &view_columns(views), q)
}

/// Who is strongest on a question, in words, naming the columns by `labels`.
pub fn strongest_named(views: &[View], labels: &[String], q: &Question) -> String {
    let (measured, win, status) = winners(views, q);
    let Some(status) = status else {
        return "not measured on any trunk".into();
    };
    let names: Vec<String> = win.iter().map(|i| labels[*i].clone()).collect();
    if measured == 1 {
        format!("{} ({status}; the only trunk measured)", names[0])
    } else if win.len() == measured {
        format!("tie: all measured trunks are {status}")
    } else {
        format!("{} ({status})", names.join(", "))
    }
}

/// [`columns`] of the views' reports.
pub fn view_columns(views: &[View]) -> Vec<String> {
    named(
        &views
            .iter()
            .map(|v| v.report.target.as_str())
            .collect::<Vec<_>>(),
    )
}

/// The sections every format of a comparison has, in order (a test holds markdown and HTML to it).
pub const SECTIONS: [&str; 5] = [
    "Trunks compared",
    "Scope",
    "Answers per question",
    "Strongest per question",
    "Overall",
];

/// One question's row: each trunk's verdict and answer, the best columns, who is strongest.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The question's number on the answer sheet.
    pub number: u8,
    /// The question in a few words.
    pub short: String,
    /// Per column: the verdict (`None`: not measured) and the answer as its report states it.
    pub cells: Vec<(Option<Status>, String)>,
    /// The columns with the best verdict, when not every column has it.
    pub best: Vec<usize>,
    /// Who is strongest, in words.
    pub strongest: String,
}

/// Everything a rendering of a comparison states, computed once from the trunks' views, in neutral
/// text each renderer escapes.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The column names.
    pub labels: Vec<String>,
    /// Per column: who measured it when, and why it is incomplete.
    pub measured: Vec<String>,
    /// How the reports' scopes differ (empty: measured alike).
    pub scope_warnings: Vec<String>,
    /// One row per question of the answer sheet.
    pub rows: Vec<Row>,
    /// Per column: on how many questions it is strongest (alone or shared).
    pub wins: Vec<usize>,
}

impl Sheet {
    /// The sheet of a comparison.
    pub fn of(c: &Comparison) -> Sheet {
        let views = views(&c.reports);
        let rows: Vec<Row> = questions::sheet()
            .iter()
            .map(|q| {
                let (_, win, _) = winners(&views, q);
                let best = if win.len() < views.len() {
                    win
                } else {
                    Vec::new()
                };
                Row {
                    number: q.number,
                    short: q.short.clone(),
                    cells: views
                        .iter()
                        .zip(&c.labels)
                        .map(|(v, l)| answer_of(v, q, l))
                        .collect(),
                    best,
                    strongest: strongest_named(&views, &c.labels, q),
                }
            })
            .collect();
        let mut wins = vec![0usize; c.reports.len()];
        for q in &questions::sheet() {
            for i in winners(&views, q).1 {
                wins[i] += 1;
            }
        }
        Sheet {
            labels: c.labels.clone(),
            measured: c.reports.iter().map(measured_by).collect(),
            scope_warnings: c.scope_warnings.clone(),
            rows,
            wins,
        }
    }

    /// What the Scope section says in its first sentence.
    pub fn scope_lead(&self) -> &'static str {
        if self.scope_warnings.is_empty() {
            "The reports measured the same transports, probes and opt-ins."
        } else {
            "Warning: these runs may not have measured the same things, so a trunk's \"not measured\" can mean only that its run did not look:"
        }
    }

    /// The Overall line of a column.
    pub fn overall(&self, i: usize) -> String {
        format!(
            "strongest (alone or shared) on {} of {} questions",
            self.wins[i],
            self.rows.len()
        )
    }
}

/// A trunk's answer to a question as its report states it; a pointer to more findings names that
/// trunk's own report, the comparison having no appendix of findings.
fn answer_of(v: &View, q: &Question, label: &str) -> (Option<Status>, String) {
    match v.answer(q.number) {
        Some(a) if a.verdict.is_some() => (
            a.verdict,
            a.text
                .replace("in the full report", &format!("in {label}'s own report")),
        ),
        _ => (None, "not measured".into()),
    }
}

fn measured_by(r: &Report) -> String {
    format!(
        "measured by {} {} on {}{}",
        r.tool.name,
        r.tool.version,
        r.started_at,
        r.incomplete
            .as_deref()
            .map(|w| format!(" — incomplete: {w}"))
            .unwrap_or_default()
    )
}

/// Renders the comparison of `reports` (columns named by target) in markdown.
pub fn render_md(reports: &[Report]) -> String {
    match Comparison::new(reports.to_vec(), &[]) {
        Ok(c) => render_sheet_md(&Sheet::of(&c)),
        Err(e) => format!("{e}\n"),
    }
}

/// Renders a comparison in `format` (markdown or HTML; any other format renders markdown).
pub fn render(c: &Comparison, format: Format) -> String {
    let sheet = Sheet::of(c);
    match format {
        Format::Html => super::html::render_compare_sheet(&sheet),
        _ => render_sheet_md(&sheet),
    }
}

/// Renders a comparison sheet in markdown.
pub fn render_sheet_md(sheet: &Sheet) -> String {
    let cols = &sheet.labels;
    let mut s = String::from("# SIP trunk comparison\n");
    let _ = writeln!(s, "\n## {}\n", SECTIONS[0]);
    for (c, m) in cols.iter().zip(&sheet.measured) {
        let _ = writeln!(s, "- **{}**: {}", cut(c), super::escape::md(m));
    }
    let _ = writeln!(s, "\n## {}\n\n{}\n", SECTIONS[1], sheet.scope_lead());
    for w in &sheet.scope_warnings {
        let _ = writeln!(s, "- {}", super::escape::md(w));
    }
    if !sheet.scope_warnings.is_empty() {
        s.push('\n');
    }
    let _ = writeln!(s, "## {}\n", SECTIONS[2]);
    let _ = write!(s, "| # | Question |");
    for c in cols {
        let _ = write!(s, " {} |", cut(c));
    }
    let _ = write!(s, "\n|---|---|");
    for _ in cols {
        s.push_str("---|");
    }
    s.push('\n');
    for row in &sheet.rows {
        let _ = write!(s, "| {} | {} |", row.number, row.short);
        for (v, text) in &row.cells {
            match v {
                Some(v) => {
                    let _ = write!(s, " **{v}**: {} |", cut(text));
                }
                None => {
                    let _ = write!(s, " {} |", cut(text));
                }
            }
        }
        s.push('\n');
    }
    let _ = writeln!(s, "\n## {}\n", SECTIONS[3]);
    let _ = writeln!(s, "| # | Question | Strongest |\n|---|---|---|");
    for row in &sheet.rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            row.number,
            row.short,
            cut(&row.strongest)
        );
    }
    let _ = writeln!(s, "\n## {}\n", SECTIONS[4]);
    for (i, c) in cols.iter().enumerate() {
        let _ = writeln!(s, "- **{}**: {}", cut(c), sheet.overall(i));
    }
    s
}

/// What `sipcheck compare` was asked for: the saved reports, the column labels, `--format` and `-o`.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The saved JSON reports, one per column.
    pub files: &'a [String],
    /// `--label`s, in order.
    pub labels: &'a [String],
    /// `--format`, when given.
    pub format: Option<&'a str>,
    /// `-o FILE`, when given.
    pub output: Option<&'a str>,
}

/// A comparison rendered: the text for stdout (none when written to `-o`), and the notes for stderr
/// (each report's differences from this build's schema, the scope warnings).
#[derive(Debug, Clone)]
pub struct Done {
    /// The comparison, when no `-o` file took it.
    pub stdout: Option<String>,
    /// Lines for stderr.
    pub notes: Vec<String>,
}

/// Reads the reports, compares them and renders the comparison: into the `-o` file (its format from
/// its extension, which must agree with `--format`), else for stdout. The output file is opened
/// before any report is read, so a path that cannot be written is the first error.
pub fn run(req: Request<'_>) -> Result<Done> {
    let format = compare_format(req.format, req.output)?;
    let opened = match req.output {
        Some(path) => {
            Some(super::outputs::Outputs::plan(Some(format), &[path.to_string()], None)?.open()?)
        }
        None => None,
    };
    let mut notes = Vec::new();
    let mut reports = Vec::new();
    for f in req.files {
        let saved = super::saved::load(f)?;
        notes.extend(
            saved
                .differences
                .iter()
                .filter(|d| d.starts_with("schema ") || d.starts_with("written with"))
                .map(|d| format!("sipcheck: {f}: {d}")),
        );
        reports.push(saved.report);
    }
    let c = Comparison::new(reports, req.labels)?;
    notes.extend(
        c.scope_warnings
            .iter()
            .map(|w| format!("sipcheck: warning: scope: {w}")),
    );
    let text = render(&c, format);
    match opened {
        Some(o) => {
            o.write_with(|_| text.clone())?;
            Ok(Done {
                stdout: None,
                notes,
            })
        }
        None => Ok(Done {
            stdout: Some(text),
            notes,
        }),
    }
}

/// The format of a comparison: `--format` (md or html), else the `-o` file's extension, else md.
fn compare_format(explicit: Option<&str>, output: Option<&str>) -> Result<Format> {
    let only = |f: Format, what: &str| match f {
        Format::Markdown | Format::Html => Ok(f),
        other => Err(Error::BadOption(format!(
            "compare writes md or html, not {} ({what})",
            other.name()
        ))),
    };
    let explicit = explicit
        .map(|f| {
            f.parse::<Format>()
                .map_err(|_| {
                    Error::BadOption(format!("unknown format {f:?} (compare writes md or html)"))
                })
                .and_then(|g| only(g, "--format"))
        })
        .transpose()?;
    let by_name = output.and_then(Format::from_path);
    match (explicit, by_name, output) {
        (Some(e), Some(n), Some(path)) if e != n => Err(Error::BadOption(format!(
            "-o {path} is {} by its extension but --format {e} was given (drop --format, or name the file .{})",
            n.name(),
            e.extension()
        ))),
        (Some(e), _, _) => Ok(e),
        (None, Some(n), Some(path)) => only(n, &format!("-o {path}; name it .md or .html")),
        (None, None, Some(path)) => Err(Error::BadOption(format!(
            "cannot tell the format of -o {path} from its extension: name it .md or .html, or give --format"
        ))),
        (None, _, None) => Ok(Format::Markdown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Finding, SCHEMA_VERSION, Tool};
    use crate::target::{Endpoint, Port, Transport};

    /// Three endpoints disagreeing on RFC 3329: the answer names one group and counts the other.
    fn split_trunk(target: &str) -> Report {
        let eps: Vec<Endpoint> = [Transport::Udp, Transport::Tcp, Transport::Tls]
            .into_iter()
            .map(|t| Endpoint::new(t, "127.0.0.1".parse().unwrap(), Port::SIP))
            .collect();
        let mut findings: Vec<Finding> = eps
            .iter()
            .map(|e| Finding::of("secagree.rfc3329", Status::Warn, "not supported").endpoint(e))
            .collect();
        findings.push(Finding::of("secagree.rfc3329", Status::Pass, "fine").endpoint(&eps[0]));
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool::default(),
            target: target.into(),
            domain: target.into(),
            started_at: String::new(),
            duration_ms: 0,
            endpoints: eps,
            findings,
            incomplete: None,
            policy: None,
            scope: None,
            summary: Default::default(),
        }
    }

    #[test]
    fn a_cell_points_to_the_trunks_own_report_not_an_appendix() {
        let c = Comparison::new(
            vec![split_trunk("a"), split_trunk("b")],
            &["Carrier A".to_string()],
        )
        .unwrap();
        let sheet = Sheet::of(&c);
        let row = sheet.rows.iter().find(|r| r.number == 15).unwrap();
        assert_eq!(
            row.cells[0].1,
            "not supported [udp, tcp, tls]; 1 more finding in Carrier A's own report"
        );
        assert!(
            row.cells[1].1.ends_with("in b's own report"),
            "{:?}",
            row.cells
        );
        for format in [Format::Markdown, Format::Html] {
            let out = render(&c, format).to_lowercase();
            assert!(
                !out.contains("full report") && !out.contains("appendix"),
                "{out}"
            );
        }
    }
}
