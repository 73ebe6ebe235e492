//! `sipcheck probe -f FILE`: many trunks in one run, one report each (`-o DIR`, with index.json) or
//! one combined document on stdout; and `sipcheck merge`. The exit code is the worst of the targets'.

use std::path::Path;
use std::process::ExitCode;

use sipcheck::app::{self, ProbeArgs};
use sipcheck::batch::{self, Item};
use sipcheck::fleet::{self, JsonlOut, Shard};
use sipcheck::report::{self, Format};
use sipcheck::{Error, Result};

use crate::cli::{fail, out};

pub(crate) fn run(a: &ProbeArgs, file: &str) -> ExitCode {
    let setup = (|| {
        app::batch_checks(a)?;
        let targets = batch::read_targets(file)?;
        let shard: Option<Shard> = a.shard.as_deref().map(str::parse).transpose()?;
        // Opened before the first packet: an unwritable OUT stops the run before it starts.
        let jsonl = match &a.jsonl {
            Some(p) if !a.dry_run => Some(JsonlOut::open(p, a.resume)?),
            _ => None,
        };
        // The options are validated once; each target replaces the placeholder.
        let format: Format = a.out.format.as_deref().unwrap_or("text").parse()?;
        let opts = a.options("127.0.0.1", false)?;
        if let Some(dir) = a.out.output.first() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create {dir}"), e))?;
        }
        Ok((targets, opts, format, shard, jsonl))
    })();
    let (mut targets, opts, format, shard, jsonl) = match setup {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let rt = match crate::cli::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    if let Some(shard) = shard {
        targets = rt.block_on(fleet::shard_targets(targets, shard, &opts, a.parallel));
        if a.dry_run {
            out(&targets.iter().map(|t| format!("{t}\n")).collect::<String>());
            return ExitCode::SUCCESS;
        }
    }
    let (mut jsonl, done) = match jsonl {
        Some((o, done)) => (Some(o), done),
        None => (None, Default::default()),
    };
    targets.retain(|t| !done.contains(t));
    let dir = a.out.output.first().cloned();
    let style = crate::output_cli::style(&a.out);
    let mut write_errors = 0usize;
    let mut index: Vec<(usize, serde_json::Value)> = Vec::new();
    let mut items = rt.block_on(batch::scan_all(
        targets,
        opts,
        a.parallel,
        a.fail_on,
        |i, item| {
            if let Some(o) = jsonl.as_mut()
                && let Err(e) = o.append(item)
            {
                write_errors += 1;
                eprintln!("sipcheck: {e}");
            }
            if let Some(dir) = &dir {
                let written = write_item(dir, i, item, format, style).unwrap_or_else(|e| {
                    write_errors += 1;
                    eprintln!("sipcheck: {e}");
                    None
                });
                index.push((i, app::item_entry(item, written.as_deref())));
            }
            if (dir.is_some() || jsonl.is_some()) && !a.out.quiet {
                println!("{}", app::summary_line(item));
            }
        },
    ));
    let code = ExitCode::from(batch::exit_code(&items));
    if let Some(dir) = &dir {
        // The reports are on disk; the index lists them in file order.
        if let Err(e) = write_index(dir, index) {
            return fail(&e);
        }
    }
    if write_errors > 0 {
        return fail(&Error::BadOption(format!(
            "{write_errors} report(s) or line(s) could not be written"
        )));
    }
    if dir.is_some() || jsonl.is_some() {
        return code;
    }
    out(&match format {
        Format::Json => app::batch_json(std::mem::take(&mut items)),
        _ => items
            .iter()
            .map(|it| match &it.report {
                Some(r) => report::render_styled(r, format, style),
                None => format!("{}\n", app::summary_line(it)),
            })
            .collect::<Vec<_>>()
            .join("\n"),
    });
    code
}

/// Writes one trunk's report into `dir`; its file name, or `None` when the trunk has no report.
fn write_item(
    dir: &str,
    i: usize,
    item: &Item,
    format: Format,
    style: report::Style,
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

fn write_index(dir: &str, mut index: Vec<(usize, serde_json::Value)>) -> Result<()> {
    index.sort_by_key(|(i, _)| *i);
    let path = Path::new(dir).join("index.json");
    std::fs::write(
        &path,
        app::index_json(index.into_iter().map(|(_, e)| e).collect()),
    )
    .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// `sipcheck merge`: shard outputs joined, as one JSON batch on stdout or a reports directory.
pub(crate) fn merge(files: &[String], dir: Option<&str>) -> ExitCode {
    let batch = match fleet::merge(files) {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    let code = ExitCode::from(batch::exit_code(&batch.targets));
    let Some(dir) = dir else {
        out(&app::batch_json(batch.targets));
        return code;
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        return fail(&Error::io(format!("cannot create {dir}"), e));
    }
    let mut index = Vec::new();
    for (i, item) in batch.targets.iter().enumerate() {
        match write_item(dir, i, item, Format::Json, report::Style::default()) {
            Ok(name) => index.push((i, app::item_entry(item, name.as_deref()))),
            Err(e) => return fail(&Error::BadOption(e)),
        }
    }
    match write_index(dir, index) {
        Ok(()) => code,
        Err(e) => fail(&e),
    }
}
