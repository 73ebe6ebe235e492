//! The terminal scorecard: one line per finding, worst first within each category order.

use std::fmt::Write;

use super::{Report, Status};

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

/// Renders the human scorecard.
pub fn render(r: &Report, color: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "sipcheck {} — {} (domain {})",
        r.tool.version, r.target, r.domain
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
    let _ = writeln!(s, "started {} · {} ms", r.started_at, r.duration_ms);
    s.push('\n');
    let width = r.findings.iter().map(|f| f.id.len()).max().unwrap_or(10);
    for f in &r.findings {
        let tag = paint(
            &format!("{:<7}", f.status.as_str().to_uppercase()),
            f.status,
            color,
        );
        let ep = f
            .endpoint
            .as_deref()
            .map(|e| format!(" [{e}]"))
            .unwrap_or_default();
        let _ = writeln!(s, "{tag} {:<width$}  {}{ep}", f.id, f.summary);
    }
    s.push('\n');
    let _ = writeln!(s, "{}", r.counts_text());
    if let Some(p) = &r.policy {
        let _ = writeln!(s, "{}", super::policy::render_line(p));
    }
    if let Some(why) = &r.incomplete {
        let _ = writeln!(s, "INCOMPLETE: {why}");
    }
    s
}
