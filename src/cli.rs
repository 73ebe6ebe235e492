//! Part of the `sipcheck` binary (not the library): what is left of a command line once the library
//! has said everything: stdout, stderr, the runtime, the progress bar. Exit codes come from
//! [`sipcheck::exit::code`] only.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use sipcheck::Error;
use sipcheck::exit::{self, Outcome};

/// The process exit code of an outcome.
pub(crate) fn exit(outcome: Outcome<'_>) -> ExitCode {
    ExitCode::from(exit::code(outcome))
}

/// Writes `text` on stdout (a closed pipe is not worth a panic).
pub(crate) fn out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Whether stdout is a terminal (the scorecard is coloured there).
pub(crate) fn terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// One line on stderr, and the exit code of the error.
pub(crate) fn fail(e: &Error) -> ExitCode {
    eprintln!("sipcheck: {e}");
    exit(Outcome::Error(e))
}

/// The exit code of `result`: its own when it is `Ok`, the error's (with its line) otherwise.
pub(crate) fn done(result: sipcheck::Result<ExitCode>) -> ExitCode {
    result.unwrap_or_else(|e| fail(&e))
}

/// The multi-threaded runtime a command runs on.
pub(crate) fn runtime() -> sipcheck::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the runtime", e))
}

/// A progress bar on stderr while the scan runs, only when stderr is a terminal and not `--quiet`;
/// files and pipes never see it. The library's [`sipcheck::ProgressLine`] says what it shows.
pub(crate) fn progress(target: &str, quiet: bool) -> Option<indicatif::ProgressBar> {
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

/// The library's progress hook drawing on `pb`.
pub(crate) fn progress_hook(pb: indicatif::ProgressBar) -> sipcheck::Progress {
    let line = std::sync::Mutex::new(sipcheck::ProgressLine::default());
    sipcheck::Progress::new(move |e| {
        let bar = line.lock().unwrap_or_else(|p| p.into_inner()).update(e);
        if let Some(n) = bar.length {
            pb.set_length(n as u64);
        }
        if let Some(n) = bar.position {
            pb.set_position(n as u64);
        }
        pb.set_message(bar.message);
    })
}
