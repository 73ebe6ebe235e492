//! The terminal scorecard. By default grouped (one entry per finding id, verdict, severity and words,
//! with the endpoints it holds for; problems first), so it fits one screen; `--verbose` prints one
//! entry per finding and endpoint as measured, then the tables the findings' details hold (the
//! accepted suites by name, the certificates, the malformed-message cases).
//!
//! Every line fits the terminal's width (80 to 200 columns): a long entry wraps under its own text
//! instead of being cut, so a flag, a rule name or a suite name a reader acts on is always whole.

use std::fmt::Write;

use super::{Finding, Report, Severity, Status, View};
use crate::findings::Table;

/// The width when the output is not a terminal and `COLUMNS` does not say otherwise.
pub const WIDTH: usize = 120;
/// The narrowest terminal the scorecard lays itself out for.
pub const MIN_WIDTH: usize = 80;
/// The widest terminal the scorecard lays itself out for (wider reads badly).
pub const MAX_WIDTH: usize = 200;

/// The width to lay the scorecard out for: `COLUMNS` when it holds a number, else the terminal's
/// width when there is a terminal, else [`WIDTH`]; always within 80..=200.
pub fn terminal_width(columns: Option<&str>, tty_columns: Option<usize>) -> usize {
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
        .or(tty_columns.filter(|c| *c > 0))
        .unwrap_or(WIDTH)
        .clamp(MIN_WIDTH, MAX_WIDTH)
}

fn paint(s: &str, status: Status, color: bool) -> String {
    if !color {
        return s.to_string();
    }
    let code = match status {
        Status::Pass => "32",
        Status::Warn => "33",
        Status::Fail => "31;1",
        Status::Error | Status::Blocked => "35",
        Status::Info => "36",
        Status::Skipped => "2",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

/// The verdict column: 8 characters, painted.
fn tag(status: Status, color: bool) -> String {
    paint(
        &format!("{:<7}", status.as_str().to_uppercase()),
        status,
        color,
    ) + " "
}

/// The severity column: 9 characters (`critical `), blank for none.
fn severity_col(s: Severity) -> String {
    match s {
        Severity::None => " ".repeat(9),
        s => format!("{:<8} ", s.as_str()),
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Whether a line names something a reader acts on: a flag (`--dos`) or a cipher suite by its IANA
/// or OpenSSL name.
fn actionable(line: &str) -> bool {
    line.split_whitespace()
        .map(|w| w.trim_matches(|c: char| ",;:()[]\"".contains(c)))
        .any(|w| {
            w.starts_with("--")
                || crate::findings::tls::suites::registry()
                    .iter()
                    .any(|s| s.name == w || s.openssl.as_deref() == Some(w))
        })
}

/// A first line of a wrapped summary, marked as shortened within `room` characters.
fn shortened(line: &str, room: usize) -> String {
    if chars(line) < room {
        format!("{line}…")
    } else {
        let mut out: String = line.chars().take(room.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// The words of `text`, a flag kept with its placeholder (`--call-to URI`, `--listen ADDR:PORT,`) so
/// that a line never ends between the two.
fn units(text: &str) -> Vec<String> {
    let placeholder = |w: &str| {
        let w = w.trim_end_matches([',', ';', ')']);
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_uppercase() || c == ':' || c == '_')
    };
    let mut out: Vec<String> = Vec::new();
    for w in text.split_whitespace() {
        match out.last_mut() {
            Some(last) if last.starts_with("--") && !last.contains(' ') && placeholder(w) => {
                last.push(' ');
                last.push_str(w);
            }
            _ => out.push(w.to_string()),
        }
    }
    out
}

/// `text` broken into lines at spaces: the first at most `first` characters, the others at most
/// `rest`. A word longer than a line is split across lines (continued, never dropped).
fn wrap(text: &str, first: usize, rest: usize) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    for word in units(text) {
        let mut word = word;
        loop {
            let room = if lines.len() == 1 { first } else { rest }.max(1);
            let first_line = lines.len() == 1;
            let line = lines.last_mut().expect("at least one line");
            let sep = usize::from(!line.is_empty());
            if chars(line) + sep + chars(&word) <= room {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() || (first_line && room < rest && chars(&word) <= rest) {
                // The next line (a first line too short for this word leaves the prefix alone).
                lines.push(String::new());
                continue;
            }
            // A word longer than a whole line: as much as fits here, the rest on the next.
            let head: String = word.chars().take(room).collect();
            let tail: String = word.chars().skip(room).collect();
            line.push_str(&head);
            lines.push(String::new());
            word = tail;
            if word.is_empty() {
                lines.pop();
                break;
            }
        }
    }
    lines
}

/// Writes `text` after `prefix` (of `prefix_w` visible characters), wrapped to `width`, the
/// continuation lines indented by `indent`.
fn put(s: &mut String, prefix: &str, prefix_w: usize, text: &str, indent: usize, width: usize) {
    let lines = wrap(
        text,
        width.saturating_sub(prefix_w),
        width.saturating_sub(indent),
    );
    for (i, l) in lines.iter().enumerate() {
        let line = if i == 0 {
            format!("{prefix}{l}")
        } else {
            format!("{}{l}", " ".repeat(indent))
        };
        let _ = writeln!(s, "{}", line.trim_end());
    }
}

fn header(s: &mut String, r: &Report, width: usize) {
    put(
        s,
        "",
        0,
        &format!(
            "sipcheck {} — {} (domain {}) · started {} · {} ms",
            r.tool.version, r.target, r.domain, r.started_at, r.duration_ms
        ),
        2,
        width,
    );
    let eps: Vec<String> = r.endpoints.iter().map(|e| e.label()).collect();
    let eps = if eps.is_empty() {
        "none".into()
    } else {
        eps.join(", ")
    };
    put(s, "", 0, &format!("endpoints: {eps}"), 2, width);
}

fn footer(s: &mut String, r: &Report, width: usize) {
    if let Some(p) = &r.policy {
        put(s, "", 0, &super::policy_render::render_line(p), 2, width);
    }
    if let Some(why) = &r.incomplete {
        put(s, "", 0, &format!("INCOMPLETE: {why}"), 2, width);
    }
}

/// One entry of the grouped scorecard.
#[derive(Clone)]
struct Row {
    status: Status,
    severity: Severity,
    id: String,
    scope: String,
    summary: String,
    /// Everything in it is a name to act on (a family's members: the policy rules violated).
    whole: bool,
}

/// Passes (and facts, `info`) of one family (`tls.versions`, `tls.mismatch`, …) folded into one entry
/// where there are several (`tls.*`: `9 passed: versions, mismatch, …`), at the place of the first:
/// they need no action, so the screen goes to what does. `-v` keeps each one's own words.
fn fold_passes(rows: Vec<Row>) -> Vec<Row> {
    let family = |id: &str| -> Option<String> {
        let (fam, tail) = id.split_once('.')?;
        (!tail.contains('*')).then(|| fam.to_string())
    };
    let foldable = |st: Status| matches!(st, Status::Pass | Status::Info);
    let members_of = |fam: &str, st: Status| -> Vec<&Row> {
        rows.iter()
            .filter(|x| x.status == st && family(&x.id).as_deref() == Some(fam))
            .collect()
    };
    // Several ids, not one id with several summaries (those keep their lines).
    let ids_of = |fam: &str, st: Status| -> usize {
        let mut ids: Vec<&str> = members_of(fam, st).iter().map(|x| x.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    };
    let mut out: Vec<Row> = Vec::new();
    let mut folded: Vec<(String, Status)> = Vec::new();
    for row in &rows {
        let fam = family(&row.id).filter(|f| foldable(row.status) && ids_of(f, row.status) > 1);
        let Some(fam) = fam else {
            out.push(row.clone());
            continue;
        };
        if folded.contains(&(fam.clone(), row.status)) {
            continue;
        }
        let members = members_of(&fam, row.status);
        let mut tails: Vec<&str> = Vec::new();
        for x in &members {
            let tail = x.id.split_once('.').map_or(x.id.as_str(), |(_, t)| t);
            if !tails.contains(&tail) {
                tails.push(tail);
            }
        }
        let scope = if members.iter().all(|x| x.scope == row.scope) {
            row.scope.clone()
        } else {
            String::new()
        };
        let verb = if row.status == Status::Pass {
            "passed"
        } else {
            "info"
        };
        out.push(Row {
            status: row.status,
            severity: Severity::None,
            id: format!("{fam}.*"),
            scope,
            summary: format!("{} {verb}: {}", tails.len(), tails.join(", ")),
            whole: false,
        });
        folded.push((fam, row.status));
    }
    out
}

/// Renders the grouped scorecard (or the per-endpoint one when `verbose`) for a terminal `width`
/// columns wide.
pub fn render(v: &View, color: bool, verbose: bool, width: usize) -> String {
    let width = width.clamp(MIN_WIDTH, MAX_WIDTH);
    if verbose {
        return render_verbose(v, color, width);
    }
    let r = v.report;
    let mut s = String::new();
    header(&mut s, r, width);
    let severe: Vec<&str> = v.most_severe.iter().map(|f| f.id.as_str()).collect();
    let _ = writeln!(s, "{} findings: {}", r.findings.len(), v.counts_text());
    if !severe.is_empty() {
        put(
            &mut s,
            "",
            0,
            &format!("most severe: {}", severe.join(", ")),
            2,
            width,
        );
    }
    let rows = fold_passes(
        v.groups
            .iter()
            .map(|g| Row {
                status: g.status,
                severity: g.severity(),
                id: g.id.clone(),
                scope: g.scope(r),
                summary: g.summary.clone(),
                whole: g.id.ends_with(".*"),
            })
            .collect(),
    );
    let id_w = rows.iter().map(|x| chars(&x.id)).max().unwrap_or(10);
    let scope_w = rows.iter().map(|x| chars(&x.scope)).max().unwrap_or(0);
    // Columns aligned while the summary keeps at least 40 columns; on a narrow terminal the id
    // and scope are only separated, and the summary wraps under the id.
    let aligned = 17 + id_w + 2 + scope_w + 2 + 40 <= width;
    for Row {
        status,
        severity: sev,
        id,
        scope,
        summary,
        whole,
    } in &rows
    {
        let lead = if aligned {
            format!("{id:<id_w$}  {scope:<scope_w$}  ")
        } else if scope.is_empty() {
            format!("{id}  ")
        } else {
            format!("{id}  {scope}  ")
        };
        let prefix_w = 17 + chars(&lead);
        let prefix = format!("{}{}{lead}", tag(*status, color), severity_col(*sev));
        // Continuation lines start under the id: the summary column is narrow beside long ids.
        let indent = 8;
        // One line per entry, so the scorecard fits a screen: a summary is shortened only where
        // what it loses holds nothing to act on; one naming a flag, rule or suite past the line
        // wraps whole.
        let (prefix, prefix_w, indent) = if prefix_w + 20 > width {
            let _ = writeln!(s, "{}", prefix.trim_end());
            (" ".repeat(8), 8, 8)
        } else {
            (prefix, prefix_w, indent)
        };
        let lines = wrap(summary, width - prefix_w, width - indent);
        if lines.len() > 1 && !*whole && !lines[1..].iter().any(|l| actionable(l)) {
            let _ = writeln!(s, "{prefix}{}", shortened(&lines[0], width - prefix_w));
        } else {
            put(&mut s, &prefix, prefix_w, summary, indent, width);
        }
    }
    for skip in &v.skipped {
        // The questions it leaves unmeasured, after what would measure them (the part a user acts on).
        let qs: Vec<String> = v
            .questions_of(skip)
            .iter()
            .map(|q| format!("Q{q}"))
            .collect();
        let qs = if qs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", qs.join(", "))
        };
        put(
            &mut s,
            &tag(Status::Skipped, color),
            8,
            &format!("{}: {}{qs}", skip.ids, skip.why),
            8,
            width,
        );
    }
    // How to measure the rest, each line wrapped under its own indentation.
    for line in super::to_measure::render_text(v).lines() {
        let lead = line.len() - line.trim_start().len();
        put(
            &mut s,
            &" ".repeat(lead),
            lead,
            line.trim_start(),
            lead + 4,
            width,
        );
    }
    footer(&mut s, r, width);
    s
}

/// One entry per finding and endpoint, in report order, then every table the findings' details
/// hold; nothing cut.
fn render_verbose(v: &View, color: bool, width: usize) -> String {
    let r = v.report;
    let mut s = String::new();
    header(&mut s, r, width);
    s.push('\n');
    let id_w = r.findings.iter().map(|f| chars(&f.id)).max().unwrap_or(10);
    let aligned = 17 + id_w + 2 + 40 <= width;
    for f in &r.findings {
        let ep = f
            .endpoint
            .as_deref()
            .map(|e| format!(" [{e}]"))
            .unwrap_or_default();
        let lead = if aligned {
            format!("{:<id_w$}  ", f.id)
        } else {
            format!("{}  ", f.id)
        };
        let prefix_w = 17 + chars(&lead);
        let prefix = format!("{}{}{lead}", tag(f.status, color), severity_col(f.severity));
        let indent = if aligned { prefix_w } else { 8 };
        put(
            &mut s,
            &prefix,
            prefix_w,
            &format!("{}{ep}", f.summary),
            indent,
            width,
        );
    }
    for (f, tables) in r.findings.iter().zip(&v.tables) {
        match tables {
            Ok(tables) => {
                for t in tables {
                    table(&mut s, f, t, width);
                }
            }
            Err(why) => {
                s.push('\n');
                put(
                    &mut s,
                    "",
                    0,
                    &format!(
                        "{} [{}]: the details cannot be shown as a table: {why}",
                        f.id,
                        f.endpoint.as_deref().unwrap_or("trunk")
                    ),
                    2,
                    width,
                );
            }
        }
    }
    s.push('\n');
    let _ = writeln!(s, "{}", v.counts_text());
    footer(&mut s, r, width);
    s
}

/// A table as text: its title and endpoint, then one line per row with the columns aligned when
/// they fit the width; otherwise each row's first cell, then the others wrapped under them.
fn table(s: &mut String, f: &Finding, t: &Table, width: usize) {
    s.push('\n');
    put(
        s,
        "",
        0,
        &format!("{} — {}", t.title, f.endpoint.as_deref().unwrap_or("trunk")),
        2,
        width,
    );
    let rows: Vec<Vec<String>> = std::iter::once(t.head.clone())
        .chain(t.rows.iter().map(|r| r.iter().map(|c| c.plain()).collect()))
        .collect();
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| chars(c))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let total = 2 + widths.iter().sum::<usize>() + 2 * cols.saturating_sub(1);
    for row in &rows {
        if total <= width {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
                .collect();
            let _ = writeln!(s, "{}", format!("  {}", cells.join("  ")).trim_end());
        } else {
            let first_w = widths.first().copied().unwrap_or(0).min(width / 3);
            let first = row.first().map(String::as_str).unwrap_or("");
            let lead = format!("  {first:<first_w$}  ");
            // Cells told apart by a mark, since wrapping folds the spaces between them.
            let rest: Vec<&str> = row
                .iter()
                .skip(1)
                .map(String::as_str)
                .filter(|c| !c.is_empty())
                .collect();
            let lead_w = chars(&lead);
            put(s, &lead, lead_w, &rest.join(" · "), lead_w, width);
        }
    }
    if let Some(n) = &t.note {
        put(s, "  ", 2, n, 2, width);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_from_columns_then_terminal_then_default_within_bounds() {
        assert_eq!(terminal_width(Some("132"), Some(90)), 132);
        assert_eq!(terminal_width(None, Some(90)), 90);
        assert_eq!(terminal_width(Some("wide"), None), WIDTH);
        assert_eq!(terminal_width(None, None), WIDTH);
        assert_eq!(terminal_width(Some("40"), None), MIN_WIDTH);
        assert_eq!(terminal_width(None, Some(400)), MAX_WIDTH);
    }

    #[test]
    fn wrap_breaks_at_spaces_and_keeps_every_character() {
        assert_eq!(wrap("a bb ccc", 4, 4), ["a bb", "ccc"]);
        assert_eq!(wrap("é—xyz abc", 5, 5), ["é—xyz", "abc"]);
        // A word longer than a line is continued, not cut.
        assert_eq!(wrap("abcdefgh", 3, 3), ["abc", "def", "gh"]);
        assert_eq!(wrap("", 5, 5), [""]);
        // A flag stays with its placeholder.
        assert_eq!(
            wrap("enable with --call-to URI now", 18, 18),
            ["enable with", "--call-to URI now"]
        );
    }
}
