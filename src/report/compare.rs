//! Carrier comparison (`sipcheck compare a.json b.json c.json --format md`): the head-to-head the seed's
//! author attempted by hand. One column per trunk, one row per seed question, each cell the measured
//! answer (the worst status among the findings answering it, as in the RFP answer sheet), then who is
//! strongest per question. Every cell is read from the trunk's [`View`], the answer its own report
//! states.

use std::fmt::Write;

use super::questions::{self, Question};
use super::{Report, Status, View};

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

/// Who is strongest on a question, in words.
pub fn strongest(views: &[View], q: &Question) -> String {
    let cols = view_columns(views);
    let (measured, win, status) = winners(views, q);
    let Some(status) = status else {
        return "not measured on any trunk".into();
    };
    let names: Vec<String> = win.iter().map(|i| cols[*i].clone()).collect();
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

/// Renders the comparison in markdown.
pub fn render_md(reports: &[Report]) -> String {
    let views = views(reports);
    let cols = columns(reports);
    let qs = questions::sheet();
    let mut s = String::from("# SIP trunk comparison\n\n");
    for (c, r) in cols.iter().zip(reports) {
        let _ = writeln!(
            s,
            "- **{c}**: measured by {} {} on {}{}",
            r.tool.name,
            r.tool.version,
            r.started_at,
            r.incomplete
                .as_deref()
                .map(|w| format!(" — incomplete: {w}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(s, "\n## Answers per question\n");
    let _ = write!(s, "| # | Question |");
    for c in &cols {
        let _ = write!(s, " {} |", cut(c));
    }
    let _ = write!(s, "\n|---|---|");
    for _ in &cols {
        s.push_str("---|");
    }
    s.push('\n');
    for q in &qs {
        let _ = write!(s, "| {} | {} |", q.number, q.short);
        for v in &views {
            let _ = write!(s, " {} |", cell(v, q).1);
        }
        s.push('\n');
    }
    let _ = writeln!(s, "\n## Strongest per question\n");
    let _ = writeln!(s, "| # | Question | Strongest |\n|---|---|---|");
    let mut wins = vec![0usize; reports.len()];
    for q in &qs {
        for i in winners(&views, q).1 {
            wins[i] += 1;
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            q.number,
            q.short,
            cut(&strongest(&views, q))
        );
    }
    let _ = writeln!(s, "\n## Overall\n");
    for (c, w) in cols.iter().zip(&wins) {
        let _ = writeln!(
            s,
            "- **{c}**: strongest (alone or shared) on {w} of {} questions",
            qs.len()
        );
    }
    s
}
