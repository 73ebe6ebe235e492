//! Carrier comparison (`sipcheck compare a.json b.json c.json --format md`): the head-to-head the seed's
//! author attempted by hand. One column per trunk, one row per seed question, each cell the measured
//! answer (the worst status among the findings answering it, as in the RFP answer sheet), then who is
//! strongest per question.

use std::fmt::Write;

use super::markdown::answer;
use super::questions::{self, Question};
use super::{Report, Status};

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
    reports
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let dup = reports.iter().filter(|o| o.target == r.target).count() > 1;
            if dup {
                format!("{} (#{})", r.target, i + 1)
            } else {
                r.target.clone()
            }
        })
        .collect()
}

/// One cell: the verdict (or `None` when not measured) and its short measured answer, escaped.
pub fn cell(r: &Report, q: &Question) -> (Option<Status>, String) {
    let a = super::answers::answer(r, q.clone());
    match a.verdict {
        None => (None, "not measured".into()),
        Some(w) => (Some(w), format!("**{w}**: {}", cut(&a.text))),
    }
}

/// The trunks measured on a question, and the best of them (lowest worst-status), by index.
pub fn winners(reports: &[Report], q: &Question) -> (usize, Vec<usize>, Option<Status>) {
    let verdicts: Vec<(usize, Status)> = reports
        .iter()
        .enumerate()
        .filter_map(|(i, r)| answer(r, q).1.map(|w| (i, w)))
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
pub fn strongest(reports: &[Report], q: &Question) -> String {
    let cols = columns(reports);
    let (measured, win, status) = winners(reports, q);
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

/// Renders the comparison in markdown.
pub fn render_md(reports: &[Report]) -> String {
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
        for r in reports {
            let _ = write!(s, " {} |", cell(r, q).1);
        }
        s.push('\n');
    }
    let _ = writeln!(s, "\n## Strongest per question\n");
    let _ = writeln!(s, "| # | Question | Strongest |\n|---|---|---|");
    let mut wins = vec![0usize; reports.len()];
    for q in &qs {
        for i in winners(reports, q).1 {
            wins[i] += 1;
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            q.number,
            q.short,
            cut(&strongest(reports, q))
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
