//! The library side of each command: where a report goes (files opened before the first packet,
//! what stdout gets), the saved inputs of `report`, `diff`, `compare` and `verify-identity` read and
//! rendered, the reports directory of `-f` and `merge`, the man pages written. The binary calls these,
//! writes the text they return and maps the exit code.

use std::path::Path;

use crate::analysis::diff::Diff;
use crate::batch::{self, Batch, Item};
use crate::error::{Error, Result};
use crate::findings::Report;
use crate::report::outputs::{Opened, Outputs};
use crate::report::{self, Format, Style};
use crate::sip::Message;
use crate::stir::{RequestIdentity, VerifyContext};

use super::args::{ListenArgs, OutputArgs, VerifyArgs};

/// What the user asked for: `--format`, every `-o`, `--output-all`.
pub struct Destinations<'a> {
    /// `--format`.
    pub format: Option<&'a str>,
    /// Every `-o`.
    pub files: &'a [String],
    /// `--output-all`.
    pub all: Option<&'a str>,
}

impl Destinations<'_> {
    /// The `--format` rendering for stdout (text when none is given).
    pub fn format(&self) -> Result<Format> {
        Ok(self
            .format
            .map(str::parse)
            .transpose()?
            .unwrap_or(Format::Text))
    }

    /// The output files, planned and opened (every path checked writable) before anything is sent.
    pub fn open(&self) -> Result<Opened> {
        let explicit = self.format.map(str::parse).transpose()?;
        Outputs::plan(explicit, self.files, self.all)?.open()
    }
}

impl OutputArgs {
    /// Where the report goes; `--sarif-passes` without a SARIF output is refused (it would change
    /// nothing).
    pub fn destinations(&self) -> Result<Destinations<'_>> {
        let sarif = self.format.as_deref() == Some("sarif")
            || self.output_all.is_some()
            || self.output.iter().any(|f| f.ends_with(".sarif"));
        if self.sarif_passes && !sarif {
            return Err(Error::BadOption(
                "--sarif-passes adds passes to a SARIF output: give --format sarif, -o FILE.sarif or --output-all"
                    .into(),
            ));
        }
        Ok(Destinations {
            format: self.format.as_deref(),
            files: &self.output,
            all: self.output_all.as_deref(),
        })
    }

    /// How the report looks (colour is decided for stdout by [`deliver`]).
    pub fn style(&self) -> Style {
        Style {
            color: false,
            verbose: self.verbose,
            sarif_passes: self.sarif_passes,
            width: None,
        }
    }
}

impl ListenArgs {
    /// Where the listener's report goes.
    pub fn destinations(&self) -> Destinations<'_> {
        Destinations {
            format: self.format.as_deref(),
            files: self.output.as_slice(),
            all: None,
        }
    }
}

/// Writes the report into every file, and returns what stdout gets: the `--format` rendering when no
/// file is named, else the text scorecard unless `quiet` (then nothing). `terminal`: stdout is one,
/// so the scorecard is coloured unless NO_COLOR is set.
pub fn deliver(
    r: &Report,
    files: Opened,
    format: Format,
    style: Style,
    quiet: bool,
    terminal: bool,
) -> Result<String> {
    let to_files = files.outputs().next().is_some();
    files.write(r, style)?;
    let format = if to_files { Format::Text } else { format };
    if to_files && quiet {
        return Ok(String::new());
    }
    let color = format == Format::Text && terminal && std::env::var_os("NO_COLOR").is_none();
    // The text scorecard fits this terminal: COLUMNS, else the terminal's width, else the default.
    let tty = terminal
        .then(terminal_size::terminal_size)
        .flatten()
        .map(|(w, _)| usize::from(w.0));
    let columns = std::env::var("COLUMNS").ok();
    let width = Some(report::text::terminal_width(columns.as_deref(), tty));
    Ok(report::render_styled(
        r,
        format,
        Style {
            color,
            width,
            ..style
        },
    ))
}

/// The format `--dry-run` prints in: the plan has a text and a JSON rendering, no other.
pub fn dry_run_format(format: Format) -> Result<Format> {
    match format {
        Format::Text | Format::Json => Ok(format),
        Format::Junit => Err(Error::BadOption(
            "--dry-run prints its plan as text or json, not junit".into(),
        )),
        other => Err(Error::BadOption(format!(
            "--dry-run prints its plan as text or json, not {}",
            other.extension()
        ))),
    }
}

/// `--list-probes` in text or JSON.
pub fn list_probes(format: &str) -> Result<String> {
    match format {
        "json" => Ok(report::registry::render_json()),
        "text" => Ok(report::registry::render_text()),
        other => Err(Error::BadOption(format!(
            "--list-probes writes text or json, not {other:?}"
        ))),
    }
}

/// `sipcheck diff BASELINE NEW`: the differences and their rendering.
pub fn diff_files(baseline: &str, new: &str, format: &str) -> Result<(Diff, String)> {
    let (b, n) = (report::read_json(baseline)?, report::read_json(new)?);
    let d = crate::analysis::diff::diff(&b, &n);
    let text = super::words::diff_text(&d, format)?;
    Ok((d, text))
}

impl VerifyArgs {
    /// The verifier's context and the saved request, read before anything is fetched.
    pub fn inputs(&self) -> Result<(VerifyContext, Message)> {
        if !matches!(self.format.as_str(), "text" | "json") {
            return Err(Error::BadOption(format!(
                "unknown format {:?} (expected text or json)",
                self.format
            )));
        }
        let ctx = super::verify_context(&self.identity, self.at.as_deref())?;
        let bytes = std::fs::read(&self.file)
            .map_err(|e| Error::io(format!("cannot read {}", self.file), e))?;
        Ok((ctx, crate::stir::saved_request(&self.file, &bytes)?))
    }

    /// The verdict in `--format`.
    pub fn render(&self, result: &RequestIdentity) -> String {
        if self.format == "json" {
            serde_json::to_string_pretty(result).unwrap_or_default() + "\n"
        } else {
            crate::stir::text::render(result)
        }
    }
}

/// Writes one trunk's report into `dir`; its file name, or `None` when the trunk has no report.
pub fn write_item(
    dir: &str,
    i: usize,
    item: &Item,
    format: Format,
    style: Style,
) -> std::result::Result<Option<String>, String> {
    let Some(r) = &item.report else {
        return Ok(None);
    };
    let name = batch::file_name(i, &item.target, format.extension());
    let path = Path::new(dir).join(&name);
    std::fs::write(&path, report::render_styled(r, format, style))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(Some(name))
}

/// Writes `index.json` into `dir`, the entries in file order.
pub fn write_index(dir: &str, mut index: Vec<(usize, serde_json::Value)>) -> Result<()> {
    index.sort_by_key(|(i, _)| *i);
    let path = Path::new(dir).join("index.json");
    let entries = index.into_iter().map(|(_, e)| e).collect();
    std::fs::write(&path, super::words::index_json(entries))
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// `sipcheck merge -o DIR`: one JSON report per trunk and the index.
pub fn merge_into(dir: &str, batch: &Batch) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("cannot create {dir}"), e))?;
    let mut index = Vec::new();
    for (i, item) in batch.targets.iter().enumerate() {
        let name =
            write_item(dir, i, item, Format::Json, Style::default()).map_err(Error::BadOption)?;
        index.push((i, super::words::item_entry(item, name.as_deref())));
    }
    write_index(dir, index)
}

/// `sipcheck manpage --dir DIR`: every page written.
pub fn write_man_pages(dir: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, page) in super::man_pages()? {
        std::fs::write(Path::new(dir).join(name), page)?;
    }
    Ok(())
}
