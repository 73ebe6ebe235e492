//! Where a report goes: every `-o FILE` (its format from its extension) and `--output-all BASE`,
//! planned and checked before the first packet is sent, then written from the one report the run
//! measured. A path that cannot be written is an error before the scan, never a lost measurement.

use std::fs::{File, OpenOptions};
use std::io::{Seek, Write};
use std::path::PathBuf;

use super::{Format, Report, Style, View, render_view};
use crate::error::{Error, Result};

/// The formats `--output-all BASE` writes, as `BASE.<extension>`.
pub const ALL_FILES: [Format; 5] = [
    Format::Json,
    Format::Markdown,
    Format::Html,
    Format::Junit,
    Format::Sarif,
];

/// One file to write and its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The file as named.
    pub path: PathBuf,
    /// Its format: from the extension, or the explicit `--format` when the extension names none.
    pub format: Format,
}

/// Every file a run writes its report into, validated: each has a format, none contradicts an
/// explicit `--format`, no file is named twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs {
    files: Vec<Output>,
}

impl Outputs {
    /// Plans the outputs of `-o FILE` (any number) and `--output-all BASE`. `explicit` is the
    /// `--format` the user gave, if any: a file whose extension names another format is refused
    /// rather than written in a format its name does not say.
    pub fn plan(explicit: Option<Format>, files: &[String], all: Option<&str>) -> Result<Outputs> {
        let mut out = Outputs::default();
        for f in files {
            out.push(Output {
                path: PathBuf::from(f),
                format: format_of(f, explicit)?,
            })?;
        }
        if let Some(base) = all {
            if let Some(e) = explicit {
                return Err(Error::BadOption(format!(
                    "--output-all writes every format; --format {e} cannot choose one (use -o FILE.{} for one file)",
                    e.extension()
                )));
            }
            if base.is_empty() || base.ends_with('/') {
                return Err(Error::BadOption(format!(
                    "--output-all takes a file name without extension (e.g. reports/trunk), not {base:?}"
                )));
            }
            for format in ALL_FILES {
                out.push(Output {
                    path: PathBuf::from(format!("{base}.{}", format.extension())),
                    format,
                })?;
            }
        }
        Ok(out)
    }

    fn push(&mut self, o: Output) -> Result<()> {
        if self.files.iter().any(|f| f.path == o.path) {
            return Err(Error::BadOption(format!(
                "{} is named twice as an output",
                o.path.display()
            )));
        }
        self.files.push(o);
        Ok(())
    }

    /// The planned files, in the order given.
    pub fn files(&self) -> &[Output] {
        &self.files
    }

    /// Whether no file is to be written (the report then goes to stdout).
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Opens (creating when missing) every file for writing, before anything is measured: the first
    /// that cannot be written is the error, naming it. Existing files keep their content until the
    /// report is written; files created here and never written are removed again.
    pub fn open(self) -> Result<Opened> {
        let mut opened = Opened { files: Vec::new() };
        for o in self.files {
            let existed = o.path.exists();
            if o.path.is_dir() {
                return Err(Error::BadOption(format!(
                    "{} is a directory, not a file to write the report into",
                    o.path.display()
                )));
            }
            let file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&o.path)
                .map_err(|e| Error::io(format!("cannot write {}", o.path.display()), e))?;
            opened.files.push(Opened1 {
                output: o,
                file: Some(file),
                created: !existed,
            });
        }
        Ok(opened)
    }
}

/// The format of `-o path`: its extension's, which must agree with an explicit `--format`.
fn format_of(path: &str, explicit: Option<Format>) -> Result<Format> {
    match (Format::from_path(path), explicit) {
        (Some(by_name), Some(e)) if by_name != e => Err(Error::BadOption(format!(
            "-o {path} is {} by its extension but --format {e} was given (drop --format, or name the file .{})",
            by_name.name(),
            e.extension()
        ))),
        (Some(by_name), _) => Ok(by_name),
        (None, Some(e)) => Ok(e),
        (None, None) => Err(Error::BadOption(format!(
            "cannot tell the format of -o {path} from its extension: name it .json, .md, .html, .xml (JUnit), .sarif or .txt, or give --format"
        ))),
    }
}

struct Opened1 {
    output: Output,
    file: Option<File>,
    created: bool,
}

/// The output files, open and ready for the report.
pub struct Opened {
    files: Vec<Opened1>,
}

impl Opened {
    /// The files, in the order given.
    pub fn outputs(&self) -> impl Iterator<Item = &Output> {
        self.files.iter().map(|f| &f.output)
    }

    /// Writes the report into every file, each in its format (`style.color` is ignored: files get no
    /// terminal colours). Every file is attempted; the errors name each file that failed.
    pub fn write(self, report: &Report, style: Style) -> Result<()> {
        // Files get no terminal colours, and the fixed width rather than this terminal's.
        let style = Style {
            color: false,
            width: None,
            ..style
        };
        let view = View::of(report);
        self.write_with(|format| render_view(&view, format, style))
    }

    /// Writes into every file what `render` gives for its format. Every file is attempted; the
    /// errors name each file that failed.
    pub fn write_with(mut self, render: impl Fn(Format) -> String) -> Result<()> {
        let mut failed = Vec::new();
        for f in &mut self.files {
            let Some(file) = f.file.take() else { continue };
            let text = render(f.output.format);
            if let Err(e) = write_over(file, text.as_bytes()) {
                failed.push((f.output.path.display().to_string(), e));
            }
            // Written (or attempted): it is no longer an empty placeholder to clean up.
            f.created = false;
        }
        let more = failed.len().saturating_sub(1);
        match failed.into_iter().next() {
            None => Ok(()),
            Some((path, e)) if more == 0 => Err(Error::io(format!("cannot write {path}"), e)),
            Some((path, e)) => Err(Error::io(
                format!("cannot write {path} (nor {more} other output file(s))"),
                e,
            )),
        }
    }
}

fn write_over(mut file: File, bytes: &[u8]) -> std::io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(bytes)?;
    file.flush()
}

impl Drop for Opened {
    /// A file this run created but never wrote (the run stopped with an error) is removed, so no
    /// empty file looks like a report.
    fn drop(&mut self) {
        for f in &self.files {
            if f.created {
                let _ = std::fs::remove_file(&f.output.path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn the_extension_decides_and_an_explicit_format_must_agree() {
        let o = Outputs::plan(
            None,
            &s(&[
                "r.json",
                "r.MD",
                "x/r.html",
                "r.xml",
                "r.sarif",
                "r.txt",
                "g.sarif.json",
            ]),
            None,
        )
        .unwrap();
        let got: Vec<Format> = o.files().iter().map(|f| f.format).collect();
        assert_eq!(
            got,
            [
                Format::Json,
                Format::Markdown,
                Format::Html,
                Format::Junit,
                Format::Sarif,
                Format::Text,
                Format::Sarif
            ]
        );
        let e = Outputs::plan(Some(Format::Markdown), &s(&["r.json"]), None).unwrap_err();
        assert!(
            e.to_string()
                .contains("-o r.json is json by its extension but --format md"),
            "{e}"
        );
        assert_eq!(
            Outputs::plan(Some(Format::Json), &s(&["r.json", "report.out"]), None)
                .unwrap()
                .files()[1]
                .format,
            Format::Json
        );
        let e = Outputs::plan(None, &s(&["report"]), None).unwrap_err();
        assert!(e.to_string().contains("cannot tell the format"), "{e}");
        let e = Outputs::plan(None, &s(&["a.json", "a.json"]), None).unwrap_err();
        assert!(e.to_string().contains("named twice"), "{e}");
    }

    #[test]
    fn output_all_writes_each_format_once() {
        let o = Outputs::plan(None, &s(&["x.txt"]), Some("out/trunk")).unwrap();
        let names: Vec<String> = o
            .files()
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "x.txt",
                "out/trunk.json",
                "out/trunk.md",
                "out/trunk.html",
                "out/trunk.xml",
                "out/trunk.sarif"
            ]
        );
        assert!(Outputs::plan(Some(Format::Json), &[], Some("b")).is_err());
        assert!(
            Outputs::plan(None, &s(&["b.json"]), Some("b")).is_err(),
            "b.json twice"
        );
    }

    #[test]
    fn an_unwritable_path_fails_at_open_and_unwritten_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("r.json").display().to_string();
        let bad = dir.path().join("missing/r.md").display().to_string();
        let e = match Outputs::plan(None, &[good.clone(), bad.clone()], None)
            .unwrap()
            .open()
        {
            Err(e) => e,
            Ok(_) => panic!("opened {bad}"),
        };
        assert!(
            e.to_string().starts_with(&format!("cannot write {bad}")),
            "{e}"
        );
        assert!(
            !Path::new(&good).exists(),
            "the file created before the failure is gone"
        );
        // An existing file keeps its content until the report replaces it.
        std::fs::write(&good, "old").unwrap();
        let opened = Outputs::plan(None, std::slice::from_ref(&good), None)
            .unwrap()
            .open()
            .unwrap();
        drop(opened);
        assert_eq!(std::fs::read_to_string(&good).unwrap(), "old");
    }
}
