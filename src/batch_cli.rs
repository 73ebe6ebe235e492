//! `sipcheck probe -f FILE`: many trunks in one run, one report each (`-o DIR`, with index.json), one
//! JSON line each (`--jsonl`) or one combined document on stdout. The exit code is the worst of the
//! targets'.

use std::process::ExitCode;

use sipcheck::app::{self, ProbeArgs};
use sipcheck::batch;
use sipcheck::fleet::{self, JsonlOut, Shard};
use sipcheck::report::{self, Format};
use sipcheck::{Error, Result};

use crate::cli::out;

pub(crate) fn run(a: &ProbeArgs, file: &str) -> Result<ExitCode> {
    app::batch_checks(a)?;
    let mut targets = batch::read_targets(file)?;
    let shard: Option<Shard> = a.shard.as_deref().map(str::parse).transpose()?;
    // Opened before the first packet: an unwritable OUT stops the run before it starts.
    let (mut jsonl, done) = match &a.jsonl {
        Some(p) if !a.dry_run => {
            let (o, done) = JsonlOut::open(p, a.resume)?;
            (Some(o), done)
        }
        _ => (None, Default::default()),
    };
    // The options are validated once; each target replaces the placeholder.
    let format: Format = a.out.format.as_deref().unwrap_or("text").parse()?;
    let opts = a.options("127.0.0.1", false)?;
    let dir = a.out.output.first().cloned();
    if let Some(dir) = &dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("cannot create {dir}"), e))?;
    }
    let rt = crate::cli::runtime()?;
    if let Some(shard) = shard {
        targets = rt.block_on(fleet::shard_targets(targets, shard, &opts, a.parallel));
        if a.dry_run {
            out(&targets.iter().map(|t| format!("{t}\n")).collect::<String>());
            return Ok(ExitCode::SUCCESS);
        }
    }
    targets.retain(|t| !done.contains(t));
    let style = a.out.style();
    let mut write_errors = 0usize;
    let mut index = Vec::new();
    let items = rt.block_on(batch::scan_all(
        targets,
        opts,
        a.parallel,
        a.fail_on,
        // Written out as each finishes, a report is not needed again: only the exit codes are.
        dir.is_none() && jsonl.is_none(),
        |i, item| {
            if let Some(o) = jsonl.as_mut()
                && let Err(e) = o.append(item)
            {
                write_errors += 1;
                eprintln!("sipcheck: {e}");
            }
            if let Some(dir) = &dir {
                let written = app::write_item(dir, i, item, format, style).unwrap_or_else(|e| {
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
        app::write_index(dir, index)?;
    }
    if write_errors > 0 {
        return Err(Error::BadOption(format!(
            "{write_errors} report(s) or line(s) could not be written"
        )));
    }
    if dir.is_none() && jsonl.is_none() {
        out(&match format {
            Format::Json => app::batch_json(items),
            _ => items
                .iter()
                .map(|it| match &it.report {
                    Some(r) => report::render_styled(r, format, style),
                    None => format!("{}\n", app::summary_line(it)),
                })
                .collect::<Vec<_>>()
                .join("\n"),
        });
    }
    Ok(code)
}

/// `sipcheck merge`: shard outputs joined, as one JSON batch on stdout or a reports directory.
pub(crate) fn merge(files: &[String], dir: Option<&str>) -> Result<ExitCode> {
    let batch = fleet::merge(files)?;
    let code = ExitCode::from(batch::exit_code(&batch.targets));
    match dir {
        Some(dir) => app::merge_into(dir, &batch)?,
        None => out(&app::batch_json(batch.targets)),
    }
    Ok(code)
}
