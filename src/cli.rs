//! Part of the `sipcheck` binary (not the library): the subcommands beside `probe`, and what `probe`
//! does at a prompt (stderr notes, progress). Exit codes come from [`sipcheck::exit::code`] only.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use sipcheck::Error;
use sipcheck::exit::{self, Outcome};
use sipcheck::report::diff;
use sipcheck::report::{self, compare};

/// The process exit code of an outcome.
pub(crate) fn exit(outcome: Outcome<'_>) -> ExitCode {
    ExitCode::from(exit::code(outcome))
}

/// The multi-threaded runtime a command runs on, or the usage exit code when it cannot start.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(&Error::io("cannot start the runtime", e)))
}

/// Writes `text` on stdout (a closed pipe is not an error worth a panic).
pub(crate) fn out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
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
    match sipcheck::app::diff_text(&d, format) {
        Ok(text) => out(&text),
        Err(e) => return fail(&e),
    }
    exit(Outcome::Diff(&d))
}

/// `sipcheck compare A B C --format md`.
pub(crate) fn compare_cmd(files: &[String], format: &str) -> ExitCode {
    if !matches!(format, "md" | "markdown" | "html") {
        return fail(&Error::BadOption(format!(
            "unknown format {format:?} (compare writes md or html)"
        )));
    }
    let mut reports = Vec::new();
    for f in files {
        match report::read_json(f) {
            Ok(r) => reports.push(r),
            Err(e) => return fail(&e),
        }
    }
    out(&if format == "html" {
        report::html::render_compare(&reports)
    } else {
        compare::render_md(&reports)
    });
    exit(Outcome::Printed)
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
