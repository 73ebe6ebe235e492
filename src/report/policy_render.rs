//! The policy outcome in the markdown report and the terminal scorecard.

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
