//! The man pages (clap's sections, then EXAMPLES, ENVIRONMENT and EXIT STATUS) and the shell
//! completions, both from [`command`](super::command), so they list exactly the flags that parse.

use std::io::Write;

use clap_mangen::Man;

/// The examples of `sipcheck probe`, each a command and what it does.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "sipcheck probe trunk.example.com",
        "Safe checks over UDP, TCP and TLS (RFC 3263 discovery); the scorecard on the terminal.",
    ),
    (
        "sipcheck probe sips:trunk.example.com -o report.json -o report.html",
        "TLS only; one scan written as JSON and HTML; the scorecard still on stdout.",
    ),
    (
        "sipcheck probe 203.0.113.10 --probes safe,-tls.groups --dry-run --format json",
        "The plan with its numbers (requests, connections, calls, time) as JSON; nothing is sent.",
    ),
    (
        "sipcheck probe trunk.example.com --policy strict --fail-on warn -o report.sarif -q",
        "A CI gate: exit 1 on any warn or policy violation; SARIF for code scanning.",
    ),
    (
        "SIPCHECK_PASSWORD=secret sipcheck probe trunk.example.com --user alice --call-to +15550100 --allow-calls --max-calls 3",
        "Media and authentication probes that place at most three calls to a number you own.",
    ),
    (
        "sipcheck probe trunk.example.com --dos --dos-max-requests 300",
        "Bounded flood probes that stop as soon as the trunk limits them.",
    ),
    (
        "sipcheck probe -f trunks.txt --parallel 50 --jsonl fleet.jsonl --resume",
        "Many trunks, one JSON line each as it finishes; a rerun skips the finished ones.",
    ),
    (
        "sipcheck diff before.json after.json",
        "What got worse, better, new or gone between two reports (exit 1 if worse).",
    ),
];

/// The environment variables sipcheck reads.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "SIPCHECK_PASSWORD",
        "The digest password of --user (probe). --password-file reads it from a file instead; the password is never a flag and never in a report.",
    ),
    (
        "NO_COLOR",
        "When set (to anything), the text scorecard has no colours even on a terminal.",
    ),
];

/// The exit codes, as every command maps them.
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "No fail (and nothing --fail-on names)."),
    (
        "1",
        "At least one fail, including policy violations and, with --baseline or diff, anything worse; with --fail-on error or warn also those statuses; verify-identity: an Identity not valid.",
    ),
    (
        "2",
        "Usage or tool error: a bad flag, value or file; nothing was sent.",
    ),
    (
        "3",
        "Incomplete: no endpoint answered SIP, the name does not resolve, every probe ended in error, or the run was interrupted. The report is still written, with the reason.",
    ),
];

/// Roff text: backslashes and hyphens escaped, no line starting with a control character.
fn roff(s: &str) -> String {
    let t = s.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

fn section(out: &mut Vec<u8>, name: &str, items: &[(&str, &str)]) {
    let _ = writeln!(out, ".SH {name}");
    for (head, text) in items {
        let _ = writeln!(out, ".TP\n.B {}\n{}", roff(head), roff(text));
    }
}

/// One page: clap's sections, then ours where they apply (`probe` and the top page).
fn render(cmd: clap::Command, ours: bool) -> std::io::Result<Vec<u8>> {
    let man = Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut out)?;
    }
    if ours {
        section(&mut out, "EXAMPLES", EXAMPLES);
        section(&mut out, "ENVIRONMENT", ENVIRONMENT);
    }
    section(&mut out, "EXIT STATUS", EXIT_STATUS);
    if cmd.get_version().is_some() {
        man.render_version_section(&mut out)?;
    }
    Ok(out)
}

/// The top page, `sipcheck.1`, as roff.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    render(super::command(), true)
}

/// Every page: `sipcheck.1` and one `sipcheck-SUBCOMMAND.1` per subcommand, as (file name, roff).
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = super::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = vec![("sipcheck.1".to_string(), render(cmd.clone(), true)?)];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let ours = sub.get_name() == "probe";
        let man = Man::new(sub.clone());
        pages.push((man.get_filename(), render(sub.clone(), ours)?));
    }
    Ok(pages)
}

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut super::command(), "sipcheck", &mut buf);
    buf
}
