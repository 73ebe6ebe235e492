//! The scorecard model and its renderings.

pub mod answers;
pub mod compare;
pub mod endpoints;
pub mod escape;
pub mod group;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod outputs;
mod policy_render;
pub mod questions;
pub mod registry;
pub mod sarif;
pub mod saved;
pub mod schema;
pub mod tables;
pub mod text;
mod to_measure;
pub mod view;

pub use crate::analysis::{diff, policy};
pub use crate::findings::{
    Evidence, Finding, Report, SCHEMA_VERSION, Severity, Status, Tool, read_json,
};
pub use view::View;

/// Output formats of `sipcheck probe` and `sipcheck report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The terminal scorecard.
    Text,
    /// The JSON report (`probes/report.schema.json`).
    Json,
    /// The markdown RFP answer sheet.
    Markdown,
    /// JUnit XML, one testcase per finding per endpoint.
    Junit,
    /// A self-contained HTML report.
    Html,
    /// SARIF 2.1.0 for code-scanning tools (GitHub code scanning and others).
    Sarif,
}

impl Format {
    /// Every format, in the order `--output-all` writes them (text last: it is not written by it).
    pub const ALL: [Format; 6] = [
        Format::Json,
        Format::Markdown,
        Format::Html,
        Format::Junit,
        Format::Sarif,
        Format::Text,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Markdown => "md",
            Format::Junit => "junit",
            Format::Html => "html",
            Format::Sarif => "sarif",
        }
    }

    /// The file extension a file of this format gets (and is recognised by).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Json => "json",
            Format::Markdown => "md",
            Format::Junit => "xml",
            Format::Html => "html",
            Format::Sarif => "sarif",
        }
    }

    /// The format a file name asks for by its extension (`.json`, `.md`, `.html`, `.xml` for JUnit,
    /// `.sarif` or `.sarif.json`, `.txt`), or `None` when the extension names none of them.
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Option<Format> {
        let name = path.as_ref().file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".sarif.json") {
            return Some(Format::Sarif);
        }
        let (_, ext) = name.rsplit_once('.')?;
        match ext {
            "json" => Some(Format::Json),
            "md" | "markdown" => Some(Format::Markdown),
            "html" | "htm" => Some(Format::Html),
            "xml" => Some(Format::Junit),
            "sarif" => Some(Format::Sarif),
            "txt" => Some(Format::Text),
            _ => None,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Format> {
        match s {
            "text" | "txt" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "md" | "markdown" => Ok(Format::Markdown),
            "junit" | "xml" => Ok(Format::Junit),
            "html" => Ok(Format::Html),
            "sarif" => Ok(Format::Sarif),
            other => Err(crate::Error::BadOption(format!(
                "unknown format {other:?} (expected text, json, md, junit, html or sarif)"
            ))),
        }
    }
}

/// How a report is rendered beyond its format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// ANSI colours (text only).
    pub color: bool,
    /// The text scorecard one line per finding and endpoint instead of grouped.
    pub verbose: bool,
    /// SARIF: also the results that need nothing done (pass and info), which it leaves out by default.
    pub sarif_passes: bool,
    /// The terminal's width the text scorecard fits (80 to 200); `None`: [`text::WIDTH`].
    pub width: Option<usize>,
}

/// Renders a report in a format; `color` only affects text.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    render_styled(
        report,
        format,
        Style {
            color,
            ..Style::default()
        },
    )
}

/// Renders a report in a format with a [`Style`].
pub fn render_styled(report: &Report, format: Format, style: Style) -> String {
    render_view(&View::of(report), format, style)
}

/// Renders the view of a report in a format: every format reads the same [`View`], so a report written
/// in several formats states the same facts in each.
pub fn render_view(view: &View, format: Format, style: Style) -> String {
    match format {
        Format::Text => text::render(
            view,
            style.color,
            style.verbose,
            style.width.unwrap_or(text::WIDTH),
        ),
        Format::Json => {
            // The counts are the view's, as every other format states them.
            let mut report = view.report.clone();
            report.summary = view.summary.clone();
            let mut s = serde_json::to_string_pretty(&report).expect("reports always serialise");
            s.push('\n');
            s
        }
        Format::Markdown => markdown::render(view),
        Format::Junit => junit::render(view),
        Format::Html => html::render(view),
        Format::Sarif => sarif::render(view, style.sarif_passes),
    }
}
