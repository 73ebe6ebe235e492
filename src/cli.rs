//! Part of the `sipcheck` binary (not the library): the subcommands beside `probe`, and what `probe`
//! does at a prompt (stderr notes, progress). Exit codes come from [`sipcheck::exit::code`] only.

use std::process::ExitCode;
use std::time::Duration;

use sipcheck::Error;
use sipcheck::PcapWriter;
use sipcheck::analysis::baseline;
use sipcheck::exit::{self, Outcome};
use sipcheck::report::diff;
use sipcheck::report::{self, Report, compare};

/// The process exit code of an outcome.
pub(crate) fn exit(outcome: Outcome<'_>) -> ExitCode {
    ExitCode::from(exit::code(outcome))
}

/// `sipcheck trunk.example.com` is what nmap's users type: name the command they meant.
pub(crate) fn probe_hint(kind: clap::error::ErrorKind, first: Option<String>) -> Option<String> {
    let first = first?;
    (kind == clap::error::ErrorKind::InvalidSubcommand && !first.starts_with('-'))
        .then(|| format!("sipcheck: to probe a trunk, run: sipcheck probe {first}"))
}

/// The multi-threaded runtime a command runs on, or the usage exit code when it cannot start.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(&Error::io("cannot start the runtime", e)))
}

/// One line on stderr, and the exit code of the error.
pub(crate) fn fail(e: &Error) -> ExitCode {
    eprintln!("sipcheck: {e}");
    exit(Outcome::Error(e))
}

/// `sipcheck diff BASELINE NEW`: exit 1 when anything got worse.
pub(crate) fn diff_cmd(baseline: &str, new: &str, format: &str) -> ExitCode {
    let (b, n) = match (report::read_json(baseline), report::read_json(new)) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(e), _) | (_, Err(e)) => return fail(&e),
    };
    let d = diff::diff(&b, &n);
    let out = match format {
        "text" => d.render_text(),
        "md" | "markdown" => d.render_md(),
        "json" => {
            let mut s = serde_json::to_string_pretty(&d).unwrap_or_default();
            s.push('\n');
            s
        }
        other => {
            return fail(&Error::BadOption(format!(
                "unknown format {other:?} (expected text, md or json)"
            )));
        }
    };
    print!("{out}");
    exit(Outcome::Diff(&d))
}

/// `sipcheck compare A B C [--label NAME]... [--format md|html] [-o FILE]`.
pub(crate) fn compare_cmd(req: compare::Request<'_>) -> ExitCode {
    match compare::run(req) {
        Ok(done) => {
            for n in &done.notes {
                eprintln!("{n}");
            }
            if let Some(text) = done.stdout {
                print!("{text}");
            }
            exit(Outcome::Printed)
        }
        Err(e) => fail(&e),
    }
}

/// Notes for stderr after the scan: the baseline diff, and a pcap that could not be written completely.
pub(crate) fn notes(report: &Report, pcap: Option<&PcapWriter>) -> Vec<String> {
    let mut notes = Vec::new();
    for d in baseline::diffs_in(report) {
        match d {
            Ok(d) => notes.push(d.render_text()),
            Err(e) => notes.push(format!("sipcheck: {e}")),
        }
    }
    if let Some(w) = pcap
        && let Err(e) = w.finish()
    {
        notes.push(format!("sipcheck: {e}"));
    }
    notes
}

/// A progress bar on stderr while the scan runs (probes done / total and the probes running now), only
/// when stderr is a terminal and not `--quiet`; files and pipes never see it.
pub(crate) fn progress(target: &str, quiet: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {pos}/{len} probes [{elapsed}] {wide_msg}",
    ) {
        pb.set_style(style);
    }
    pb.set_message(format!("probing {target}"));
    pb.enable_steady_tick(Duration::from_millis(120));
    Some(pb)
}

/// The library's progress hook drawing on `pb`: the probes running, each with its count inside
/// (`robustness.malformed cases 12/40`) once it reported one.
pub(crate) fn progress_hook(pb: indicatif::ProgressBar) -> sipcheck::Progress {
    use sipcheck::ProgressEvent;
    // The probes running with their counts, and the run's own counts (calls of --max-calls).
    type Lines = (Vec<(&'static str, String)>, Vec<(&'static str, String)>);
    let state = std::sync::Mutex::new(Lines::default());
    sipcheck::Progress::new(move |e| {
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        let (running, run_wide) = &mut *state;
        match e {
            ProgressEvent::Planned { total } => pb.set_length(total as u64),
            ProgressEvent::Started { probe } => running.push((probe, String::new())),
            ProgressEvent::Finished { probe, done, total } => {
                running.retain(|(p, _)| *p != probe);
                pb.set_length(total as u64);
                pb.set_position(done as u64);
            }
            ProgressEvent::Step {
                probe,
                what,
                done,
                total,
            } => {
                let count = match total {
                    Some(t) => format!(" {what} {done}/{t}"),
                    None => format!(" {what} {done}"),
                };
                if probe.is_empty() {
                    match run_wide.iter_mut().find(|(w, _)| *w == what) {
                        Some((_, c)) => *c = count,
                        None => run_wide.push((what, count)),
                    }
                } else if let Some((_, c)) = running.iter_mut().find(|(p, _)| *p == probe) {
                    *c = count;
                }
            }
        }
        let now: Vec<String> = running.iter().map(|(p, c)| format!("{p}{c}")).collect();
        let wide: String = run_wide.iter().map(|(_, c)| format!(";{c}")).collect();
        pb.set_message(format!("running {}{wide}", now.join(", ")));
    })
}

/// The identity verifier's context from the flags `probe`, `listen` and `verify-identity` share:
/// STI roots, x5u trust, the moment, `--fetch-allow` blocks and `--expect-spc` codes.
pub(crate) fn verify_context(
    sti_ca: Option<&str>,
    x5u_ca: Option<&str>,
    at: Option<&str>,
    fetch_allow: &[String],
    expect_spc: &[String],
) -> sipcheck::Result<sipcheck::identity::VerifyContext> {
    let allow = fetch_allow
        .iter()
        .map(|c| sipcheck::identity::Cidr::parse(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::BadOption(format!("--fetch-allow: {e}")))?;
    let spcs: Vec<String> = expect_spc
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(bad) = spcs
        .iter()
        .find(|s| s.len() > 16 || !s.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(Error::BadOption(format!(
            "--expect-spc {bad:?} is not a Service Provider Code (letters and digits, e.g. 1234 or 567J)"
        )));
    }
    Ok(sipcheck::identity::VerifyContext::load(sti_ca, x5u_ca, at)?
        .allowing(allow)
        .expecting(spcs))
}
