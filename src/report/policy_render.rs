//! The policy outcome in the markdown and HTML reports and the terminal scorecard.

use crate::analysis::policy::{PolicyOutcome, RuleStatus};

/// The policy section of the markdown report.
pub(super) fn render_md(p: &PolicyOutcome) -> String {
    let mut s = format!(
        "## Policy `{}`\n\n{}{}\n\n| Rule | Setting | Outcome | What was measured |\n|---|---|---|---|\n",
        p.name,
        if p.description.is_empty() {
            String::new()
        } else {
            format!("{} ", p.description)
        },
        format_args!("{} of {} rules violated.", p.violated(), p.rules.len())
    );
    for r in &p.rules {
        s.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            r.rule,
            r.setting,
            r.outcome.as_str(),
            super::escape::md(&r.summary)
        ));
    }
    s.push('\n');
    s
}

/// The policy table of the HTML report: the same rows as the markdown report's.
pub(super) fn render_html(p: &PolicyOutcome) -> String {
    use super::escape::html as h;
    let mut s = format!(
        "<h2>Policy <code>{}</code></h2>\n<p>{}{} of {} rules violated.</p>\n<table><tr><th>Rule</th><th>Setting</th><th>Outcome</th><th>What was measured</th></tr>\n",
        h(&p.name),
        if p.description.is_empty() {
            String::new()
        } else {
            format!("{} ", h(&p.description))
        },
        p.violated(),
        p.rules.len()
    );
    for r in &p.rules {
        let class = match r.outcome {
            RuleStatus::Pass => "pass",
            RuleStatus::Fail => "fail",
            _ => "none",
        };
        s.push_str(&format!(
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td class=\"v {class}\">{}</td><td>{}</td></tr>\n",
            h(&r.rule),
            h(&r.setting.to_string()),
            r.outcome.as_str(),
            h(&r.summary)
        ));
    }
    s.push_str("</table>\n");
    s
}

/// One line for the terminal scorecard.
pub(super) fn render_line(p: &PolicyOutcome) -> String {
    let n = |st: RuleStatus| p.rules.iter().filter(|r| r.outcome == st).count();
    format!(
        "policy {}: {} violated, {} passed, {} not measured",
        p.name,
        n(RuleStatus::Fail),
        n(RuleStatus::Pass),
        n(RuleStatus::NotMeasured)
    )
}
