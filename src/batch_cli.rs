//! `sipcheck probe -f FILE`: many trunks in one run, one report each (`-o DIR`, with index.json) or
//! one combined document on stdout. The exit code is the worst of the targets'.

use std::io::Write;
use std::process::ExitCode;

use sipcheck::Error;
use sipcheck::batch::{self, Batch, Item};
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
        if a.policy.is_some()
            || a.baseline.is_some()
            || a.pcap.is_some()
            || a.keylog.is_some()
            || a.dry_run
        {
            return Err(Error::BadOption(
                "--policy, --baseline, --pcap, --keylog and --dry-run work on one trunk; run them per target, not with -f"
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
        // The options are validated once; each target replaces the placeholder.
        let format: Format = a.format.parse()?;
        let opts = build_options(a, "127.0.0.1", false)?;
        if let Some(dir) = &a.output {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create {dir}"), e))?;
        }
        Ok((targets, opts, format))
    })();
    let (targets, opts, format) = match setup {
        Ok(v) => v,
        Err(e) => return cli::fail(&e),
    };
    let rt = match cli::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
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
        let Some(dir) = &dir else { return };
        let mut entry = serde_json::json!({
            "target": item.target,
            "exit_code": item.exit_code,
            "error": item.error,
        });
        if let Some(r) = &item.report {
            let name = batch::file_name(i, &item.target, ext);
            let path = std::path::Path::new(dir).join(&name);
            match std::fs::write(&path, report::render(r, format, false)) {
                Ok(()) => entry["report"] = name.into(),
                Err(e) => {
                    write_errors += 1;
                    eprintln!("sipcheck: cannot write {}: {e}", path.display());
                }
            }
        }
        if !quiet {
            println!("{}", summary_line(item));
        }
        index.push((i, entry));
    }));
    let code = ExitCode::from(sipcheck::batch::exit_code(&items));
    if let Some(dir) = &dir {
        // The reports are on disk; the index lists them in file order.
        index.sort_by_key(|(i, _)| *i);
        let index: Vec<serde_json::Value> = index.into_iter().map(|(_, e)| e).collect();
        let path = std::path::Path::new(dir).join("index.json");
        let doc = serde_json::json!({"schema_version": sipcheck::report::SCHEMA_VERSION, "targets": index});
        if let Err(e) = std::fs::write(&path, format!("{doc:#}\n")) {
            return cli::fail(&Error::io(format!("cannot write {}", path.display()), e));
        }
        if write_errors > 0 {
            return cli::fail(&Error::BadOption(format!(
                "{write_errors} report(s) could not be written into {dir}"
            )));
        }
        return code;
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
