//! The `sipcheck` command line: parse arguments, call the library, set the exit code.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use sipcheck::probe::Config;
use sipcheck::report::{self, Format};
use sipcheck::scan::{self, ScanOptions};
use sipcheck::transport::TlsSettings;
use sipcheck::{Error, Port, Target, Transport};

/// Measure what a SIP trunk really does about security, and write an evidence-backed scorecard.
#[derive(Parser)]
#[command(name = "sipcheck", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Probe a SIP trunk and print its scorecard.
    Probe(ProbeArgs),
}

#[derive(Args)]
struct ProbeArgs {
    /// host, host:port, [v6]:port, or a sip:/sips: URI
    #[arg(required_unless_present_any = ["list_probes", "file"])]
    target: Option<String>,
    /// Probe every target listed in FILE (one per line, # comments); -o then names a directory.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "target"
    )]
    file: Option<String>,
    /// With -f: how many targets are probed at once.
    #[arg(long, default_value_t = 8, value_name = "N")]
    parallel: usize,
    /// List the probes with their safety class, then exit.
    #[arg(long)]
    list_probes: bool,
    /// Probes to run, by id or id prefix (e.g. transport,sip,sips).
    #[arg(long, value_delimiter = ',')]
    probes: Vec<String>,
    /// Transports to probe (udp,tcp,tls). Default: all three, or TLS only for a sips: URI.
    #[arg(long, value_delimiter = ',')]
    transport: Vec<String>,
    /// TLS port when it differs from the default (5061, or the given port + 1).
    #[arg(long)]
    tls_port: Option<u16>,
    /// Output format: text, json, md.
    #[arg(long, default_value = "text")]
    format: String,
    /// Write the report to FILE (stdout then gets the text scorecard unless --quiet); with -f, write
    /// one report per target into the directory FILE, plus index.json.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<String>,
    /// Longest wait for any one answer, e.g. 5s or 800ms (caps RFC 3261 Timer B/F).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,
    /// SIP domain whose identity the certificate must prove (RFC 5922); default: the target host.
    #[arg(long)]
    domain: Option<String>,
    /// PEM file of trust roots instead of the built-in Mozilla roots.
    #[arg(long)]
    ca_file: Option<String>,
    /// User-Agent header to send.
    #[arg(long)]
    user_agent: Option<String>,
    /// New requests per second per target address.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Simultaneous connections per target address.
    #[arg(long, default_value_t = 4)]
    max_connections: usize,
    /// Also run intrusive probes (malformed and oversized messages).
    #[arg(long)]
    intrusive: bool,
    /// DNS server for discovery, ADDR[:PORT], asked over TCP (default: the system resolver configuration).
    #[arg(long, value_name = "ADDR[:PORT]")]
    dns_server: Option<String>,
    /// Probe the name as a single host (A/AAAA only), skipping RFC 3263 NAPTR/SRV discovery.
    #[arg(long)]
    no_discovery: bool,
    /// Print nothing on stdout when writing to a file.
    #[arg(short, long)]
    quiet: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (try 5s or 800ms)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("unknown unit {unit:?} (use ms, s or m)")),
    };
    if !(0.001..=3600.0).contains(&secs) {
        return Err("duration must be between 1ms and 1h".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

fn list_probes() {
    for p in sipcheck::probes::all() {
        let qs: Vec<String> = p.questions().iter().map(|q| q.to_string()).collect();
        println!(
            "{:<26} {:<10} {}{}",
            p.id(),
            p.safety().as_str(),
            p.title(),
            if qs.is_empty() {
                String::new()
            } else {
                format!(" (questions {})", qs.join(", "))
            }
        );
    }
}

fn build_options(a: &ProbeArgs, target: &str) -> Result<(ScanOptions, Format), Error> {
    let target = Target::parse(target)?;
    let format: Format = a.format.parse()?;
    let mut opts = ScanOptions::new(target);
    if !a.transport.is_empty() {
        let mut ts = Vec::new();
        for t in &a.transport {
            let t: Transport = t.parse()?;
            if !ts.contains(&t) {
                ts.push(t);
            }
        }
        opts.transports = Some(ts);
    }
    opts.tls_port = match a.tls_port {
        Some(p) => Some(Port::new(p).ok_or_else(|| Error::BadOption("--tls-port 0".into()))?),
        None => None,
    };
    opts.selectors = a
        .probes
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let mut cfg = Config::default();
    cfg.timers.timeout = a.timeout;
    if let Some(d) = &a.domain {
        cfg.domain = d.trim().to_ascii_lowercase();
    }
    if let Some(ca) = &a.ca_file {
        cfg.tls = TlsSettings::from_ca_file(ca)?;
    }
    if let Some(ua) = &a.user_agent {
        cfg.user_agent = ua.clone();
    }
    if !(a.rate > 0.0 && a.rate <= 10_000.0) {
        return Err(Error::BadOption(
            "--rate must be between 0 and 10000".into(),
        ));
    }
    cfg.rate = a.rate;
    cfg.max_connections = a.max_connections.clamp(1, 64);
    cfg.intrusive = a.intrusive;
    if let Some(server) = &a.dns_server {
        cfg.discovery.dns_server = Some(sipcheck::discover::source::parse_server(server)?);
    }
    cfg.discovery.no_discovery = a.no_discovery;
    opts.config = cfg;
    scan::select(&opts.selectors)?;
    Ok((opts, format))
}

fn probe(a: ProbeArgs) -> ExitCode {
    if a.list_probes {
        list_probes();
        return ExitCode::SUCCESS;
    }
    if let Some(file) = a.file.clone() {
        return batch::run(&a, &file);
    }
    let (opts, format) = match build_options(&a, a.target.as_deref().unwrap_or_default()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("sipcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sipcheck: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match rt.block_on(scan::scan(opts)) {
        Ok(r) => r,
        Err(e @ Error::Resolve { .. }) => {
            eprintln!("sipcheck: {e}");
            return ExitCode::from(3);
        }
        Err(e) => {
            eprintln!("sipcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut stdout = std::io::stdout().lock();
    match &a.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, report::render(&report, format, false)) {
                eprintln!("sipcheck: cannot write {path}: {e}");
                return ExitCode::from(2);
            }
            if !a.quiet {
                let _ = stdout.write_all(report::render(&report, Format::Text, color).as_bytes());
            }
        }
        None => {
            let _ = stdout.write_all(
                report::render(&report, format, color && format == Format::Text).as_bytes(),
            );
        }
    }
    if let Some(why) = &report.incomplete {
        eprintln!("sipcheck: incomplete: {why}");
    }
    ExitCode::from(report.exit_code() as u8)
}

/// `sipcheck probe -f FILE`: many targets, one report each.
mod batch {
    use super::*;
    use sipcheck::batch::{self, Batch, Item};

    pub fn run(a: &ProbeArgs, file: &str) -> ExitCode {
        let setup = (|| {
            if a.domain.is_some() {
                return Err(Error::BadOption(
                    "--domain cannot be combined with -f: each target's own domain is checked"
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
            let (opts, format) = build_options(a, "127.0.0.1")?;
            if let Some(dir) = &a.output {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io(format!("cannot create {dir}"), e))?;
            }
            Ok((targets, opts, format))
        })();
        let (targets, opts, format) = match setup {
            Ok(v) => v,
            Err(e) => {
                eprintln!("sipcheck: {e}");
                return ExitCode::from(2);
            }
        };
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("sipcheck: cannot start the runtime: {e}");
                return ExitCode::from(2);
            }
        };
        let ext = match format {
            Format::Json => "json",
            Format::Markdown => "md",
            Format::Text => "txt",
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
        let code = batch::exit_code(&items);
        if let Some(dir) = &dir {
            // The reports are on disk; the index lists them in file order.
            index.sort_by_key(|(i, _)| *i);
            let index: Vec<serde_json::Value> = index.into_iter().map(|(_, e)| e).collect();
            let path = std::path::Path::new(dir).join("index.json");
            let doc = serde_json::json!({"schema_version": sipcheck::report::SCHEMA_VERSION, "targets": index});
            if let Err(e) = std::fs::write(&path, format!("{doc:#}\n")) {
                eprintln!("sipcheck: cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
            return ExitCode::from(if write_errors > 0 { 2 } else { code as u8 });
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
        ExitCode::from(code as u8)
    }

    fn summary_line(item: &Item) -> String {
        match (&item.report, &item.error) {
            (Some(r), _) => {
                let counts: Vec<String> = r
                    .counts()
                    .iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(s, n)| format!("{n} {s}"))
                    .collect();
                format!(
                    "{} exit {} · {} endpoint(s) · {}",
                    item.target,
                    item.exit_code,
                    r.endpoints.len(),
                    counts.join(", ")
                )
            }
            (None, Some(e)) => format!("{} exit {} · {e}", item.target, item.exit_code),
            (None, None) => format!("{} exit {}", item.target, item.exit_code),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Probe(a) => probe(a),
    }
}
