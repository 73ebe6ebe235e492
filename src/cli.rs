//! Part of the `sipcheck` binary (not the library): the subcommands beside `probe` and the extras of
//! `probe` for CI and for people at a prompt (policy, baseline, capture, dry run, progress).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use sipcheck::analysis::{Baseline, baseline};
use sipcheck::capture::{KeyLogFile, PcapWriter};
use sipcheck::findings::ids;
use sipcheck::probe::Context;
use sipcheck::report::diff;
use sipcheck::report::policy;
use sipcheck::report::{self, Report, compare};
use sipcheck::scan::{self, ScanOptions};
use sipcheck::{Error, Transport};

/// Exit code for a usage or tool error.
pub(crate) const EXIT_USAGE: u8 = 2;

/// The multi-threaded runtime a command runs on, or exit code 2 when it cannot start.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("sipcheck: cannot start the runtime: {e}");
            ExitCode::from(EXIT_USAGE)
        })
}

pub(crate) fn fail(e: &Error) -> ExitCode {
    eprintln!("sipcheck: {e}");
    ExitCode::from(EXIT_USAGE)
}

/// `sipcheck diff BASELINE NEW`: exit 1 when anything got worse.
pub(crate) fn diff_cmd(baseline: &str, new: &str, format: &str) -> ExitCode {
    let (b, n) = match (report::read_json(baseline), report::read_json(new)) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(e), _) | (_, Err(e)) => return fail(&e),
    };
    let d = diff::diff(&b, &n);
    let out = match format {
        "text" => d.render_text(),
        "md" | "markdown" => d.render_md(),
        "json" => {
            let mut s = serde_json::to_string_pretty(&d).unwrap_or_default();
            s.push('\n');
            s
        }
        other => {
            return fail(&Error::BadOption(format!(
                "unknown format {other:?} (expected text, md or json)"
            )));
        }
    };
    print!("{out}");
    ExitCode::from(u8::from(d.worse()))
}

/// `sipcheck compare A B C --format md`.
pub(crate) fn compare_cmd(files: &[String], format: &str) -> ExitCode {
    if !matches!(format, "md" | "markdown" | "html") {
        return fail(&Error::BadOption(format!(
            "unknown format {format:?} (compare writes md or html)"
        )));
    }
    let mut reports = Vec::new();
    for f in files {
        match report::read_json(f) {
            Ok(r) => reports.push(r),
            Err(e) => return fail(&e),
        }
    }
    if format == "html" {
        print!("{}", report::html::render_compare(&reports));
    } else {
        print!("{}", compare::render_md(&reports));
    }
    ExitCode::SUCCESS
}

/// What `probe` needs prepared before the scan: everything that can fail with exit 2 fails here,
/// before a single packet is sent. The policy and baseline go into the options (the library applies
/// them); the pcap writer stays here to be finished after the scan.
pub(crate) struct Extras {
    pub pcap: Option<Arc<PcapWriter>>,
}

pub(crate) fn prepare(
    opts: &mut ScanOptions,
    policy: Option<&str>,
    baseline: Option<&str>,
    pcap: Option<&str>,
    keylog: Option<&str>,
) -> Result<Extras, Error> {
    opts.policy = policy.map(policy::load).transpose()?;
    opts.baseline = match baseline {
        Some(p) => Some(Baseline {
            path: p.to_string(),
            report: report::read_json(p)?,
        }),
        None => None,
    };
    if let Some(k) = keylog {
        opts.config.tls.key_log = Some(Arc::new(KeyLogFile::create(k)?));
    }
    let pcap = match pcap {
        Some(p) => {
            let w = Arc::new(PcapWriter::create(p)?);
            opts.config.tls.capture = Some(w.clone());
            Some(w)
        }
        None => None,
    };
    Ok(Extras { pcap })
}

/// Notes for stderr after the scan: the baseline diff, and a pcap that could not be written completely.
pub(crate) fn finish(report: &Report, extras: &Extras) -> Vec<String> {
    let mut notes = Vec::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.id == ids::BASELINE_DIFF.id)
    {
        match baseline::diff_of(f, report) {
            Ok(d) => notes.push(d.render_text()),
            Err(e) => notes.push(format!("sipcheck: {e}")),
        }
    }
    if let Some(w) = &extras.pcap
        && let Err(e) = w.finish()
    {
        notes.push(format!("sipcheck: {e}"));
    }
    notes
}

/// How many datagrams one UDP transaction sends at most: the request and its Timer A/E retransmissions.
fn udp_sends(t: &sipcheck::transport::Timers) -> u32 {
    let give_up = t.give_up_after();
    let (mut at, mut interval, mut n) = (Duration::ZERO, t.t1, 1u32);
    while at + interval < give_up && n < 64 {
        at += interval;
        interval = (interval * 2).min(t.t2);
        n += 1;
    }
    n
}

/// `probe --dry-run`: what would be sent to whom, without sending anything.
pub(crate) async fn dry_run(opts: ScanOptions) -> Result<String, Error> {
    use std::fmt::Write;
    let probes = scan::select(&opts.selectors)?;
    let transports = opts
        .transports
        .clone()
        .unwrap_or_else(|| opts.target.default_transports());
    let endpoints = sipcheck::discover::discover(
        &opts.target,
        &transports,
        opts.tls_port,
        &opts.config.discovery,
    )
    .await?
    .endpoints;
    let ctx = Context::new(opts.target.clone(), endpoints, opts.config.clone());
    let mut s = String::from("dry run: nothing is sent.\n\n");
    let _ = writeln!(
        s,
        "target {} (SIP domain {})",
        opts.target.input, ctx.config.domain
    );
    let _ = writeln!(s, "endpoints ({}):", ctx.endpoints.len());
    for e in &ctx.endpoints {
        let _ = writeln!(s, "  {}", e.label());
        if !e.discovered_by.is_empty() && e.discovered_by != ["literal"] {
            let _ = writeln!(s, "      found by: {}", e.discovered_by.join(" ⇒ "));
        }
    }
    let _ = writeln!(s, "\nprobes ({}):", probes.len());
    for p in &probes {
        let gate = p.gate(&ctx);
        let _ = writeln!(
            s,
            "  {:<26} {:<10} {}{}",
            p.id(),
            p.safety().as_str(),
            p.title(),
            gate.map(|g| format!(" (gated: {g})")).unwrap_or_default()
        );
    }
    let planned = sipcheck::probes::loop_calls::planned(&ctx);
    if !planned.is_empty() {
        let _ = writeln!(s, "\nloop calls ({}):", planned.len().saturating_sub(1));
        for p in &planned {
            let _ = writeln!(s, "  {}", sipcheck::evidence::printable(p.as_bytes()));
        }
    }
    let timers = &ctx.config.timers;
    let _ = writeln!(
        s,
        "\npackets: each SIP transaction sends one request; on UDP it is retransmitted per RFC 3261 \
         Timer A/E, at most {} datagrams within {:?}; TCP and TLS send it once per connection \
         (plus the TCP and TLS handshakes). Every probe starts from the shared OPTIONS below (sent \
         once per endpoint); most probes add one or a few transactions per endpoint.",
        udp_sends(timers),
        timers.give_up_after()
    );
    let _ = writeln!(
        s,
        "politeness: at most {} new requests per second and {} connections at a time per address; \
         each probe is stopped after {} s.",
        ctx.config.rate,
        ctx.config.max_connections,
        ctx.config.probe_timeout.as_secs()
    );
    for e in &ctx.endpoints {
        let uri = ctx.request_uri(e, false);
        let req = ctx
            .request("OPTIONS", &uri)
            .header("Accept", "application/sdp");
        let local: std::net::SocketAddr = if e.address.is_ipv6() {
            "[::]:0".parse().expect("literal")
        } else {
            "0.0.0.0:0".parse().expect("literal")
        };
        let bytes = req.render(e.transport, local);
        let _ = writeln!(
            s,
            "\n--- to {}{} (Via/Contact carry the real local address when sent):\n{}",
            e.label(),
            if e.transport == Transport::Tls {
                " (inside TLS)"
            } else {
                ""
            },
            sipcheck::evidence::printable(&bytes).trim_end()
        );
    }
    Ok(s)
}

/// A progress bar on stderr while the scan runs (probes done / total and the probes running now), only
/// when stderr is a terminal and not `--quiet`; files and pipes never see it.
pub(crate) fn progress(target: &str, quiet: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {pos}/{len} probes [{elapsed}] {wide_msg}",
    ) {
        pb.set_style(style);
    }
    pb.set_message(format!("probing {target}"));
    pb.enable_steady_tick(Duration::from_millis(120));
    Some(pb)
}

/// The library's progress hook drawing on `pb`: the probes running, each with its count inside
/// (`robustness.malformed cases 12/40`) once it reported one.
pub(crate) fn progress_hook(pb: indicatif::ProgressBar) -> sipcheck::probe::Progress {
    use sipcheck::probe::ProgressEvent;
    // The probes running with their counts, and the run's own counts (calls of --max-calls).
    type Lines = (Vec<(&'static str, String)>, Vec<(&'static str, String)>);
    let state = std::sync::Mutex::new(Lines::default());
    sipcheck::probe::Progress::new(move |e| {
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        let (running, run_wide) = &mut *state;
        match e {
            ProgressEvent::Planned { total } => pb.set_length(total as u64),
            ProgressEvent::Started { probe } => running.push((probe, String::new())),
            ProgressEvent::Finished { probe, done, total } => {
                running.retain(|(p, _)| *p != probe);
                pb.set_length(total as u64);
                pb.set_position(done as u64);
            }
            ProgressEvent::Step {
                probe,
                what,
                done,
                total,
            } => {
                let count = match total {
                    Some(t) => format!(" {what} {done}/{t}"),
                    None => format!(" {what} {done}"),
                };
                if probe.is_empty() {
                    match run_wide.iter_mut().find(|(w, _)| *w == what) {
                        Some((_, c)) => *c = count,
                        None => run_wide.push((what, count)),
                    }
                } else if let Some((_, c)) = running.iter_mut().find(|(p, _)| *p == probe) {
                    *c = count;
                }
            }
        }
        let now: Vec<String> = running.iter().map(|(p, c)| format!("{p}{c}")).collect();
        let wide: String = run_wide.iter().map(|(_, c)| format!(";{c}")).collect();
        pb.set_message(format!("running {}{wide}", now.join(", ")));
    })
}
