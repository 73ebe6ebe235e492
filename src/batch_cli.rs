//! `sipcheck probe -f FILE`: many trunks in one run, one report each (`-o DIR`, with index.json) or
//! one combined document on stdout. The exit code is the worst of the targets'.

use std::io::Write;
use std::process::ExitCode;

use sipcheck::Error;
use sipcheck::batch::{self, Batch, Item};
use sipcheck::fleet::{self, JsonlOut, Shard};
use sipcheck::report::{self, Format};

use super::{ProbeArgs, build_options};
use crate::cli;

pub(crate) fn run(a: &ProbeArgs, file: &str) -> ExitCode {
    let setup = (|| {
        if a.domain.is_some() {
            return Err(Error::BadOption(
                "--domain cannot be combined with -f: each target's own domain is checked".into(),
            ));
        }
        if a.policy.is_some() || a.baseline.is_some() || a.pcap.is_some() || a.keylog.is_some() {
            return Err(Error::BadOption(
                "--policy, --baseline, --pcap and --keylog work on one trunk; run them per target, not with -f"
                    .into(),
            ));
        }
        if a.dry_run && a.shard.is_none() {
            return Err(Error::BadOption(
                "--dry-run with -f lists a shard's targets: give --shard I/N (or dry-run one target)"
                    .into(),
            ));
        }
        // A number to call, credentials and floods belong to one trunk; never fan them out to a list.
        if a.call_to.is_some() || a.allow_calls || a.user.is_some() || a.dos {
            return Err(Error::BadOption(
                "--call-to, --allow-calls, --user and --dos are per trunk and cannot be combined with -f"
                    .into(),
            ));
        }
        if !(1..=1024).contains(&a.parallel) {
            return Err(Error::BadOption(
                "--parallel must be between 1 and 1024".into(),
            ));
        }
        let targets = batch::read_targets(file)?;
        let shard: Option<Shard> = a.shard.as_deref().map(str::parse).transpose()?;
        // Opened before the first packet: an unwritable OUT stops the run before it starts.
        let jsonl = match &a.jsonl {
            Some(p) if !a.dry_run => Some(JsonlOut::open(p, a.resume)?),
            _ => None,
        };
        // The options are validated once; each target replaces the placeholder.
        let format: Format = a.format.parse()?;
        let opts = build_options(a, "127.0.0.1", false)?;
        if let Some(dir) = &a.output {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create {dir}"), e))?;
        }
        Ok((targets, opts, format, shard, jsonl))
    })();
    let (mut targets, opts, format, shard, jsonl) = match setup {
        Ok(v) => v,
        Err(e) => return cli::fail(&e),
    };
    let rt = match cli::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    if let Some(shard) = shard {
        targets = rt.block_on(fleet::shard_targets(targets, shard, &opts, a.parallel));
        if a.dry_run {
            for t in &targets {
                println!("{t}");
            }
            return ExitCode::SUCCESS;
        }
    }
    let (mut jsonl, done) = match jsonl {
        Some((out, done)) => (Some(out), done),
        None => (None, Default::default()),
    };
    targets.retain(|t| !done.contains(t));
    let ext = match format {
        Format::Json => "json",
        Format::Markdown => "md",
        Format::Text => "txt",
        Format::Junit => "xml",
        Format::Html => "html",
    };
    let dir = a.output.clone();
    let quiet = a.quiet;
    let mut write_errors = 0usize;
    let mut index: Vec<(usize, serde_json::Value)> = Vec::new();
    let mut items = rt.block_on(batch::scan_all(targets, opts, a.parallel, |i, item| {
        if let Some(out) = jsonl.as_mut()
            && let Err(e) = out.append(item)
        {
            write_errors += 1;
            eprintln!("sipcheck: {e}");
        }
        let Some(dir) = &dir else {
            if jsonl.is_some() && !quiet {
                println!("{}", summary_line(item));
            }
            return;
        };
        match write_item(dir, i, item, format, ext) {
            Ok(entry) => index.push((i, entry)),
            Err((entry, e)) => {
                write_errors += 1;
                eprintln!("sipcheck: {e}");
                index.push((i, entry));
            }
        }
        if !quiet {
            println!("{}", summary_line(item));
        }
    }));
    let code = ExitCode::from(sipcheck::batch::exit_code(&items));
    if let Some(dir) = &dir {
        // The reports are on disk; the index lists them in file order.
        if let Err(e) = write_index(dir, index) {
            return cli::fail(&e);
        }
        if write_errors > 0 {
            return cli::fail(&Error::BadOption(format!(
                "{write_errors} report(s) could not be written into {dir}"
            )));
        }
        return code;
    }
    if jsonl.is_some() {
        // The lines are the output; stdout had one summary line per trunk.
        return if write_errors > 0 {
            cli::fail(&Error::BadOption(format!(
                "{write_errors} line(s) could not be written"
            )))
        } else {
            code
        };
    }
    let mut stdout = std::io::stdout().lock();
    let out = match format {
        Format::Json => {
            let doc = Batch {
                schema_version: sipcheck::report::SCHEMA_VERSION,
                targets: std::mem::take(&mut items),
            };
            serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
        }
        _ => items
            .iter()
            .map(|it| match &it.report {
                Some(r) => report::render(r, format, false),
                None => format!("{}\n", summary_line(it)),
            })
            .collect::<Vec<_>>()
            .join("\n"),
    };
    let _ = stdout.write_all(out.as_bytes());
    code
}

/// Writes one trunk's report into `dir` and returns its index entry (with the reason when the
/// report could not be written).
fn write_item(
    dir: &str,
    i: usize,
    item: &Item,
    format: Format,
    ext: &str,
) -> Result<serde_json::Value, (serde_json::Value, String)> {
    let mut entry = serde_json::json!({
        "target": item.target,
        "exit_code": item.exit_code,
        "error": item.error,
    });
    if let Some(r) = &item.report {
        let name = batch::file_name(i, &item.target, ext);
        let path = std::path::Path::new(dir).join(&name);
        if let Err(e) = std::fs::write(&path, report::render(r, format, false)) {
            return Err((entry, format!("cannot write {}: {e}", path.display())));
        }
        entry["report"] = name.into();
    }
    Ok(entry)
}

/// `index.json` of a reports directory, in file order.
fn write_index(dir: &str, mut index: Vec<(usize, serde_json::Value)>) -> Result<(), Error> {
    index.sort_by_key(|(i, _)| *i);
    let index: Vec<serde_json::Value> = index.into_iter().map(|(_, e)| e).collect();
    let path = std::path::Path::new(dir).join("index.json");
    let doc =
        serde_json::json!({"schema_version": sipcheck::report::SCHEMA_VERSION, "targets": index});
    std::fs::write(&path, format!("{doc:#}\n"))
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// `sipcheck merge`: shard outputs joined, as one JSON batch on stdout or a reports directory.
pub(crate) fn merge(files: &[String], dir: Option<&str>) -> ExitCode {
    let batch = match fleet::merge(files) {
        Ok(b) => b,
        Err(e) => return cli::fail(&e),
    };
    let code = ExitCode::from(batch::exit_code(&batch.targets));
    let Some(dir) = dir else {
        let text = serde_json::to_string_pretty(&batch).unwrap_or_default() + "\n";
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        return code;
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        return cli::fail(&Error::io(format!("cannot create {dir}"), e));
    }
    let mut index = Vec::new();
    for (i, item) in batch.targets.iter().enumerate() {
        match write_item(dir, i, item, Format::Json, "json") {
            Ok(entry) => index.push((i, entry)),
            Err((_, e)) => return cli::fail(&Error::BadOption(e)),
        }
    }
    match write_index(dir, index) {
        Ok(()) => code,
        Err(e) => cli::fail(&e),
    }
}

fn summary_line(item: &Item) -> String {
    match (&item.report, &item.error) {
        (Some(r), _) => {
            format!(
                "{} exit {} · {} endpoint(s) · {}",
                item.target,
                item.exit_code,
                r.endpoints.len(),
                r.counts_text()
            )
        }
        (None, Some(e)) => format!("{} exit {} · {e}", item.target, item.exit_code),
        (None, None) => format!("{} exit {}", item.target, item.exit_code),
    }
}
