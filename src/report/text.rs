//! The terminal scorecard. By default grouped (one line per finding id, verdict and words, with the
//! endpoints it holds for; problems first), so it fits one screen; `--verbose` prints one line per
//! finding and endpoint as measured.

use std::fmt::Write;

use super::{Report, Status, View};

/// The width the grouped scorecard fits (a terminal's usual 120 columns); `--verbose` is not cut.
pub const WIDTH: usize = 120;

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

/// `s` cut to `width` characters, with an ellipsis when cut.
fn cut(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn tag(status: Status, color: bool) -> String {
    paint(
        &format!("{:<7}", status.as_str().to_uppercase()),
        status,
        color,
    )
}

fn header(s: &mut String, r: &Report) {
    let _ = writeln!(
        s,
        "sipcheck {} — {} (domain {}) · started {} · {} ms",
        r.tool.version, r.target, r.domain, r.started_at, r.duration_ms
    );
    let eps: Vec<String> = r.endpoints.iter().map(|e| e.label()).collect();
    let _ = writeln!(
        s,
        "endpoints: {}",
        if eps.is_empty() {
            "none".into()
        } else {
            eps.join(", ")
        }
    );
}

fn footer(s: &mut String, r: &Report) {
    if let Some(p) = &r.policy {
        let _ = writeln!(s, "{}", super::policy_render::render_line(p));
    }
    if let Some(why) = &r.incomplete {
        let _ = writeln!(s, "INCOMPLETE: {why}");
    }
}

/// Renders the grouped scorecard (or the per-endpoint one when `verbose`).
pub fn render(v: &View, color: bool, verbose: bool) -> String {
    if verbose {
        return render_verbose(v, color);
    }
    let r = v.report;
    let mut s = String::new();
    header(&mut s, r);
    let severe: Vec<&str> = v.most_severe.iter().map(|f| f.id.as_str()).collect();
    let _ = writeln!(s, "{} findings: {}", r.findings.len(), v.counts_text());
    if !severe.is_empty() {
        let _ = writeln!(
            s,
            "{}",
            cut(&format!("most severe: {}", severe.join(", ")), WIDTH)
        );
    }
    let groups = &v.groups;
    let skipped = &v.skipped;
    let scopes: Vec<String> = groups.iter().map(|g| g.scope(r)).collect();
    let id_w = groups
        .iter()
        .map(|g| g.id.chars().count())
        .max()
        .unwrap_or(10);
    let scope_w = scopes.iter().map(|x| x.chars().count()).max().unwrap_or(0);
    for (g, scope) in groups.iter().zip(&scopes) {
        let line = format!("{:<id_w$}  {scope:<scope_w$}  {}", g.id, g.summary);
        let _ = writeln!(
            s,
            "{} {}",
            tag(g.status, color),
            cut(line.trim_end(), WIDTH - 8)
        );
    }
    for skip in skipped {
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
        let line = format!("{}: {}{qs}", skip.ids, skip.why);
        let _ = writeln!(
            s,
            "{} {}",
            tag(Status::Skipped, color),
            cut(&line, WIDTH - 8)
        );
    }
    s.push_str(&super::to_measure::render_text(v));
    footer(&mut s, r);
    s
}

/// One line per finding and endpoint, in report order, nothing cut.
fn render_verbose(v: &View, color: bool) -> String {
    let r = v.report;
    let mut s = String::new();
    header(&mut s, r);
    s.push('\n');
    let width = r.findings.iter().map(|f| f.id.len()).max().unwrap_or(10);
    for f in &r.findings {
        let ep = f
            .endpoint
            .as_deref()
            .map(|e| format!(" [{e}]"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{} {:<width$}  {}{ep}",
            tag(f.status, color),
            f.id,
            f.summary
        );
    }
    s.push('\n');
    let _ = writeln!(s, "{}", v.counts_text());
    footer(&mut s, r);
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn cut_counts_characters_not_bytes() {
        assert_eq!(super::cut("ab", 2), "ab");
        assert_eq!(super::cut("é—xyz", 3), "é—…");
    }
}
