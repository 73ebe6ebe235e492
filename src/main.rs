//! The `sipcheck` command line: parse arguments ([`sipcheck::app`]), call the library, write what it
//! renders, set the exit code. Every rule (ranges, defaults, flags that need another, wording) lives
//! in the library.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

mod batch_cli;
mod cli;
mod output_cli;

use sipcheck::app::{self, Command, Parsed, ProbeArgs};
use sipcheck::exit::Outcome;
use sipcheck::inbound::ListenConfig;
use sipcheck::report::{self, Format};
use sipcheck::{Error, PcapWriter};

use cli::{exit, fail, out};

fn list_probes(format: &str) -> ExitCode {
    match format {
        "json" => out(&report::registry::render_json()),
        "text" => out(&report::registry::render_text()),
        other => {
            return fail(&Error::BadOption(format!(
                "--list-probes writes text or json, not {other:?}"
            )));
        }
    }
    exit(Outcome::Printed)
}

fn probe(a: ProbeArgs) -> ExitCode {
    if a.list_probes {
        return list_probes(a.out.format.as_deref().unwrap_or("text"));
    }
    if let Some(file) = a.file.clone() {
        return batch_cli::run(&a, &file);
    }
    let target = a.target.as_deref().unwrap_or_default();
    // Everything that can fail with a usage error fails here, before a single packet is sent: every
    // output file is opened now, so an unwritable path never costs a measurement.
    let setup = (|| {
        let wanted = output_cli::wanted(&a.out);
        let format = wanted.explicit()?.unwrap_or(Format::Text);
        let files = (!a.dry_run).then(|| wanted.open()).transpose()?;
        let opts = a.options(target, !a.dry_run)?;
        let pcap = match (&a.pcap, a.dry_run) {
            (Some(p), false) => Some(Arc::new(PcapWriter::create(p)?)),
            _ => None,
        };
        Ok((format, files, opts, pcap))
    })();
    let (format, files, mut opts, pcap) = match setup {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let rt = match cli::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let Some(files) = files else {
        return match rt.block_on(sipcheck::dry_run(opts)) {
            Ok(plan) if format == Format::Json => {
                out(&plan.render_json());
                exit(Outcome::Printed)
            }
            Ok(plan) => {
                out(&plan.render_text());
                exit(Outcome::Printed)
            }
            Err(e) => fail(&e),
        };
    };
    if let Some(w) = &pcap {
        opts.config.tls.capture = Some(w.clone());
    }
    if !a.out.quiet {
        for n in opts.selection_notes() {
            eprintln!("sipcheck: note: {n}");
        }
    }
    let spinner = cli::progress(target, a.out.quiet);
    if let Some(pb) = &spinner {
        opts.config.progress = cli::progress_hook(pb.clone());
    }
    let scanned = rt.block_on(sipcheck::scan(opts));
    if let Some(pb) = spinner {
        pb.finish_and_clear();
    }
    let report = match scanned {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let mut notes = app::run_notes(&report);
    if let Some(w) = &pcap
        && let Err(e) = w.finish()
    {
        notes.push(format!("sipcheck: {e}"));
    }
    for note in notes {
        eprintln!("{}", note.trim_end_matches('\n'));
    }
    let style = output_cli::style(&a.out);
    if let Err(e) = output_cli::deliver(&report, files, format, style, a.out.quiet) {
        return fail(&e);
    }
    for line in app::gate_lines(&report, a.fail_on) {
        eprintln!("{line}");
    }
    exit(Outcome::Gate(&report, a.fail_on))
}

fn listen(a: app::ListenArgs) -> ExitCode {
    let files: Vec<String> = a.output.iter().cloned().collect();
    let wanted = output_cli::Wanted {
        format: a.format.as_deref(),
        files: &files,
        all: None,
    };
    // The output file is opened before listening: an unwritable path never costs the calls heard.
    let setup = (|| {
        let format = wanted.explicit()?.unwrap_or(Format::Text);
        let files = wanted.open()?;
        let mut cfg =
            ListenConfig::parse(&a.addr, a.listen_cert.as_deref(), a.listen_key.as_deref())?;
        cfg.max_requests = a.max_requests;
        Ok::<_, Error>((format, files, cfg, app::verify_context(&a.identity, None)?))
    })();
    let (format, files, cfg, ctx) = match setup {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let rt = match cli::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await
        }
    };
    let r = match rt.block_on(sipcheck::inbound::run(cfg, a.duration, ctx, interrupt)) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if let Err(e) = output_cli::deliver(&r, files, format, report::Style::default(), false) {
        return fail(&e);
    }
    exit(Outcome::Report(&r))
}

fn verify(a: app::VerifyArgs) -> ExitCode {
    use sipcheck::identity as stir;
    if !matches!(a.format.as_str(), "text" | "json") {
        return fail(&Error::BadOption(format!(
            "unknown format {:?} (expected text or json)",
            a.format
        )));
    }
    let setup = app::verify_context(&a.identity, a.at.as_deref()).and_then(|ctx| {
        let bytes =
            std::fs::read(&a.file).map_err(|e| Error::io(format!("cannot read {}", a.file), e))?;
        Ok((ctx, stir::saved_request(&a.file, &bytes)?))
    });
    let (ctx, msg) = match setup {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let rt = match cli::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = rt.block_on(stir::verify_request(&msg, &ctx));
    if a.format == "json" {
        out(&(serde_json::to_string_pretty(&result).unwrap_or_default() + "\n"));
    } else {
        out(&stir::render(&result));
    }
    exit(Outcome::Identity {
        all_valid: result.all_valid() && !result.signer_failed(),
    })
}

fn manpage(dir: Option<&str>) -> ExitCode {
    let result = match dir {
        Some(d) => std::fs::create_dir_all(d).and_then(|_| {
            app::man_pages()?.into_iter().try_for_each(|(name, page)| {
                std::fs::write(std::path::Path::new(d).join(name), page)
            })
        }),
        None => app::man_page().and_then(|page| std::io::stdout().write_all(&page)),
    };
    match result {
        Ok(()) => exit(Outcome::Printed),
        Err(e) => fail(&Error::io("cannot write the man page", e)),
    }
}

fn main() -> ExitCode {
    let cli = match app::parse_from(std::env::args_os()) {
        Parsed::Run(cli) => cli,
        Parsed::Refused(e) => return fail(&e),
        Parsed::Show(e, hint) => {
            let _ = e.print();
            if let Some(hint) = hint {
                eprintln!("{hint}");
            }
            let usage = Error::BadOption(e.kind().to_string());
            return exit(if e.use_stderr() {
                Outcome::Error(&usage)
            } else {
                Outcome::Printed
            });
        }
    };
    match cli.command {
        Command::Probe(a) => probe(*a),
        Command::Report(a) => output_cli::report_cmd(&a),
        Command::Diff {
            baseline,
            new,
            format,
        } => cli::diff_cmd(&baseline, &new, &format),
        Command::Compare { reports, format } => cli::compare_cmd(&reports, &format),
        Command::Listen(a) => listen(a),
        Command::VerifyIdentity(a) => verify(a),
        Command::Merge { files, output } => batch_cli::merge(&files, output.as_deref()),
        Command::Completions { shell } => {
            // Rendered to memory first: clap_complete panics when stdout closes early (`| head`).
            let _ = std::io::stdout().write_all(&app::completions(shell));
            exit(Outcome::Printed)
        }
        Command::Manpage { dir } => manpage(dir.as_deref()),
        Command::Schema => {
            out(&report::schema::json_schema());
            exit(Outcome::Printed)
        }
    }
}
