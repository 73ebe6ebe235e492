//! The scorecard model and its renderings.

pub mod answers;
mod case_table;
pub mod compare;
pub mod endpoints;
pub mod escape;
pub mod group;
pub mod html;
pub mod junit;
pub mod markdown;
mod policy_render;
pub mod questions;
pub mod registry;
pub mod schema;
pub mod text;

pub use crate::analysis::{diff, policy};
pub use crate::findings::{
    Evidence, Finding, Report, SCHEMA_VERSION, Severity, Status, Tool, read_json,
};

/// Output formats of `sipcheck probe`.
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
}

impl std::str::FromStr for Format {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Format> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "md" | "markdown" => Ok(Format::Markdown),
            "junit" => Ok(Format::Junit),
            "html" => Ok(Format::Html),
            other => Err(crate::Error::BadOption(format!(
                "unknown format {other:?} (expected text, json, md, junit or html)"
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
}

/// Renders a report in a format; `color` only affects text.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    render_styled(
        report,
        format,
        Style {
            color,
            verbose: false,
        },
    )
}

/// Renders a report in a format with a [`Style`].
pub fn render_styled(report: &Report, format: Format, style: Style) -> String {
    let color = style.color;
    match format {
        Format::Text => text::render(report, color, style.verbose),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report).expect("reports always serialise");
            s.push('\n');
            s
        }
        Format::Markdown => markdown::render(report),
        Format::Junit => junit::render(report),
        Format::Html => html::render(report),
    }
}
