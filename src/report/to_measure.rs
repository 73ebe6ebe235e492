//! "How to measure the rest": for each question the run did not measure, the options that would (the
//! answer sheet's cell says it in plain words; the flags are here), in markdown, HTML and the terminal.

use std::fmt::Write;

use super::View;
use super::escape::{html as h, md};
use super::view::Unmeasured;

const HEADING: &str = "How to measure the rest";
/// The way of a question a default probe answers: nothing to add, the reason it was skipped is the key.
const DEFAULT: &str = "no option: runs by default";
const TEXT_DEFAULT: &str = "no option: runs by default";
const INTRO: &str = "The questions this run did not measure, and the sipcheck options that measure them (any one way is enough).";

/// The ways to measure a question: its options, or `default` for a probe that runs by default.
fn ways(u: &Unmeasured, default: &str) -> Vec<String> {
    u.ways
        .iter()
        .map(|w| {
            if w.by_default() {
                default.to_string()
            } else {
                w.flags.to_string()
            }
        })
        .collect()
}

/// Why the run did not measure it: the reasons its findings were skipped.
fn why(u: &Unmeasured) -> String {
    if u.reasons.is_empty() {
        "its probes were not selected in this run".to_string()
    } else {
        u.reasons.join("; ")
    }
}

/// The markdown section, or "" when every question was measured.
pub fn render_md(v: &View) -> String {
    if v.unmeasured.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "## {HEADING}\n\n{INTRO}\n\n| # | Question | Options | Why not in this run |\n|---|---|---|---|\n"
    );
    for u in &v.unmeasured {
        let options: Vec<String> = ways(u, "")
            .iter()
            .map(|w| match w.as_str() {
                "" => DEFAULT.to_string(),
                w => format!("`{}`", w.replace('`', "")),
            })
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            u.question.number,
            md(&u.question.short),
            options.join(" or "),
            md(&why(u))
        );
    }
    s.push('\n');
    s
}

/// The HTML section, or "" when every question was measured.
pub fn render_html(v: &View) -> String {
    if v.unmeasured.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "<h2>{HEADING}</h2>\n<p>{INTRO}</p>\n<table><tr><th>#</th><th>Question</th><th>Options</th><th>Why not in this run</th></tr>\n"
    );
    for u in &v.unmeasured {
        let options: Vec<String> = ways(u, "")
            .iter()
            .map(|w| match w.as_str() {
                "" => DEFAULT.to_string(),
                w => format!("<code>{}</code>", h(w)),
            })
            .collect();
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            u.question.number,
            h(&u.question.short),
            options.join(" or "),
            h(&why(u))
        );
    }
    s.push_str("</table>\n");
    s
}

/// The terminal lines for the questions no SKIPPED line names (those say their options already): one
/// line per set of options, with the questions it would answer (`Q5, Q7`), never cut (the options are
/// what a user types).
pub fn render_text(v: &View) -> String {
    let named: Vec<u8> = v.skipped.iter().flat_map(|s| v.questions_of(s)).collect();
    let mut by_way: Vec<(String, Vec<u8>)> = Vec::new();
    for u in v
        .unmeasured
        .iter()
        .filter(|u| !named.contains(&u.question.number))
    {
        for w in ways(u, TEXT_DEFAULT) {
            match by_way.iter_mut().find(|(o, _)| *o == w) {
                Some((_, qs)) => qs.push(u.question.number),
                None => by_way.push((w, vec![u.question.number])),
            }
        }
    }
    if by_way.is_empty() {
        return String::new();
    }
    let mut s = format!("{}:\n", HEADING.to_lowercase());
    for (options, qs) in by_way {
        let qs: Vec<String> = qs.iter().map(|q| format!("Q{q}")).collect();
        let _ = writeln!(s, "  {}: {options}", qs.join(", "));
    }
    s
}
