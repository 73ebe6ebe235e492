//! Part of the `sipcheck` binary: where a report goes (the `-o` files, planned and opened by the library
//! before the scan, and stdout) and `sipcheck report SAVED.json`, which renders a saved report.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use sipcheck::exit::Outcome;
use sipcheck::report::outputs::{Opened, Outputs};
use sipcheck::report::{self, Format, Report, Style};
use sipcheck::{Error, Result};

use crate::cli;

/// What the user asked for: `--format`, every `-o`, `--output-all`.
pub(crate) struct Wanted<'a> {
    pub format: Option<&'a str>,
    pub files: &'a [String],
    pub all: Option<&'a str>,
}

impl Wanted<'_> {
    /// The explicit `--format`, parsed.
    pub(crate) fn explicit(&self) -> Result<Option<Format>> {
        self.format.map(str::parse).transpose()
    }

    /// The output files, planned and opened (every path checked writable) before anything is sent.
    pub(crate) fn open(&self) -> Result<Opened> {
        Outputs::plan(self.explicit()?, self.files, self.all)?.open()
    }
}

/// Writes the report into every file and onto stdout: the `--format` rendering when no file is named,
/// else the text scorecard unless `quiet`.
pub(crate) fn deliver(
    r: &Report,
    files: Opened,
    stdout_format: Format,
    style: Style,
    quiet: bool,
) -> Result<()> {
    let to_files = files.outputs().next().is_some();
    files.write(r, style)?;
    let format = if to_files {
        Format::Text
    } else {
        stdout_format
    };
    if to_files && quiet {
        return Ok(());
    }
    let color = format == Format::Text
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    // The text scorecard fits this terminal: COLUMNS, else the terminal's width, else the default.
    let tty = std::io::stdout()
        .is_terminal()
        .then(terminal_size::terminal_size)
        .flatten()
        .map(|(w, _)| usize::from(w.0));
    let columns = std::env::var("COLUMNS").ok();
    let width = Some(report::text::terminal_width(columns.as_deref(), tty));
    let text = report::render_styled(
        r,
        format,
        Style {
            color,
            width,
            ..style
        },
    );
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(())
}

/// `sipcheck report SAVED.json --format F [-o FILE]...`: the saved report rendered as `probe` would
/// have rendered it, each way it differs from what this build writes said on stderr. The exit code is
/// the report's own.
pub(crate) fn report_cmd(saved: &str, wanted: &Wanted<'_>, style: Style, quiet: bool) -> ExitCode {
    let setup = (|| {
        let explicit = wanted.explicit()?;
        let files = wanted.open()?;
        let loaded = report::saved::load(saved)?;
        Ok::<_, Error>((explicit.unwrap_or(Format::Text), files, loaded))
    })();
    let (format, files, loaded) = match setup {
        Ok(v) => v,
        Err(e) => return cli::fail(&e),
    };
    for d in &loaded.differences {
        eprintln!("sipcheck: {saved}: {d}");
    }
    if let Err(e) = deliver(&loaded.report, files, format, style, quiet) {
        return cli::fail(&e);
    }
    cli::exit(Outcome::Report(&loaded.report))
}
