//! The `sipcheck` command line: parse the arguments ([`sipcheck::app`]), call the library, write what
//! it renders, set the exit code. Every rule (ranges, defaults, flags that need another, wording)
//! lives in the library.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

mod batch_cli;
mod cli;

use sipcheck::app::{self, Command, Parsed, ProbeArgs};
use sipcheck::exit::Outcome;
use sipcheck::inbound::ListenConfig;
use sipcheck::report::{self, Format};
use sipcheck::{Error, PcapWriter, Result};

use cli::{done, exit, out};

fn probe(a: ProbeArgs) -> Result<ExitCode> {
    if a.list_probes {
        out(&app::list_probes(
            a.out.format.as_deref().unwrap_or("text"),
        )?);
        return Ok(exit(Outcome::Printed));
    }
    if let Some(file) = &a.file {
        return batch_cli::run(&a, file);
    }
    let target = a.target.as_deref().unwrap_or_default();
    // Everything that can fail with a usage error fails here, before a single packet is sent: every
    // output file is opened now, so an unwritable path never costs a measurement.
    let to = a.out.destinations()?;
    let format = to.format()?;
    let files = (!a.dry_run).then(|| to.open()).transpose()?;
    let mut opts = a.options(target, !a.dry_run)?;
    let pcap = match (&a.pcap, a.dry_run) {
        (Some(p), false) => Some(Arc::new(PcapWriter::create(p)?)),
        _ => None,
    };
    let rt = cli::runtime()?;
    let Some(files) = files else {
        let format = app::dry_run_format(format)?;
        let plan = rt.block_on(sipcheck::dry_run(opts))?;
        out(&match format {
            Format::Json => plan.render_json(),
            _ => plan.render_text(),
        });
        return Ok(exit(Outcome::Printed));
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
    let report = scanned?;
    let mut notes = app::run_notes(&report);
    if let Some(Err(e)) = pcap.as_ref().map(|w| w.finish()) {
        notes.push(format!("sipcheck: {e}"));
    }
    for note in notes {
        eprintln!("{}", note.trim_end_matches('\n'));
    }
    let style = a.out.style();
    out(&app::deliver(
        &report,
        files,
        format,
        style,
        a.out.quiet,
        cli::terminal(),
    )?);
    for line in app::gate_lines(&report, a.fail_on) {
        eprintln!("{line}");
    }
    Ok(exit(Outcome::Gate(&report, a.fail_on)))
}

fn saved_report(a: app::ReportArgs) -> Result<ExitCode> {
    let to = a.out.destinations()?;
    let (format, files) = (to.format()?, to.open()?);
    let loaded = report::saved::load(&a.saved)?;
    for d in &loaded.differences {
        eprintln!("sipcheck: {}: {d}", a.saved);
    }
    let (style, quiet) = (a.out.style(), a.out.quiet);
    out(&app::deliver(
        &loaded.report,
        files,
        format,
        style,
        quiet,
        cli::terminal(),
    )?);
    Ok(exit(Outcome::Report(&loaded.report)))
}

fn listen(a: app::ListenArgs) -> Result<ExitCode> {
    // The output file is opened before listening: an unwritable path never costs the calls heard.
    let to = a.destinations();
    let (format, files) = (to.format()?, to.open()?);
    let key = (a.listen_cert.as_deref(), a.listen_key.as_deref());
    let mut cfg = ListenConfig::parse(&a.addr, key.0, key.1)?;
    cfg.max_requests = a.max_requests;
    let ctx = app::verify_context(&a.identity, None)?;
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await
        }
    };
    let run = sipcheck::inbound::run(cfg, a.duration, ctx, interrupt);
    let r = cli::runtime()?.block_on(run)?;
    let style = report::Style::default();
    out(&app::deliver(
        &r,
        files,
        format,
        style,
        false,
        cli::terminal(),
    )?);
    Ok(exit(Outcome::Report(&r)))
}

fn verify(a: app::VerifyArgs) -> Result<ExitCode> {
    let (ctx, msg) = a.inputs()?;
    let result = cli::runtime()?.block_on(sipcheck::identity::verify_request(&msg, &ctx));
    out(&a.render(&result));
    let all_valid = result.all_valid() && !result.signer_failed();
    Ok(exit(Outcome::Identity { all_valid }))
}

fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Probe(a) => probe(*a),
        Command::Report(a) => saved_report(a),
        Command::Diff {
            baseline,
            new,
            format,
        } => {
            let (d, text) = app::diff_files(&baseline, &new, &format)?;
            out(&text);
            Ok(exit(Outcome::Diff(&d)))
        }
        Command::Compare {
            reports,
            format,
            labels,
            output,
        } => {
            let done = report::compare::run(report::compare::Request {
                files: &reports,
                labels: &labels,
                format: format.as_deref(),
                output: output.as_deref(),
            })?;
            for n in &done.notes {
                eprintln!("{n}");
            }
            if let Some(text) = done.stdout {
                out(&text);
            }
            Ok(exit(Outcome::Printed))
        }
        Command::Listen(a) => listen(a),
        Command::VerifyIdentity(a) => verify(a),
        Command::Merge { files, output } => batch_cli::merge(&files, output.as_deref()),
        Command::Completions { shell } => {
            // Rendered to memory first: clap_complete panics when stdout closes early (`| head`).
            let _ = std::io::stdout().write_all(&app::completions(shell));
            Ok(exit(Outcome::Printed))
        }
        Command::Manpage { dir } => {
            match dir {
                Some(d) => app::write_man_pages(&d),
                None => app::man_page().and_then(|p| std::io::stdout().write_all(&p)),
            }
            .map_err(|e| Error::io("cannot write the man page", e))?;
            Ok(exit(Outcome::Printed))
        }
        Command::Schema => {
            out(&report::schema::json_schema());
            Ok(exit(Outcome::Printed))
        }
    }
}

fn main() -> ExitCode {
    match app::parse_from(std::env::args_os()) {
        Parsed::Run(cli) => done(run(cli.command)),
        Parsed::Refused(e) => cli::fail(&e),
        Parsed::Show(e, hint) => {
            let _ = e.print();
            if let Some(hint) = hint {
                eprintln!("{hint}");
            }
            let usage = Error::BadOption(e.kind().to_string());
            exit(if e.use_stderr() {
                Outcome::Error(&usage)
            } else {
                Outcome::Printed
            })
        }
    }
}
