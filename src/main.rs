//! The `sipcheck` command line: parse arguments, call the library, set the exit code.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};

mod batch_cli;
mod cli;
mod gate_cli;
mod listen_cli;
mod output_cli;
mod verify_cli;

use sipcheck::PcapWriter;
use sipcheck::exit::FailOn;
use sipcheck::inbound::ListenConfig;
use sipcheck::report::{self, Format, compare};
use sipcheck::{Error, Outcome, ScanOptions, ScanOptionsBuilder, Target, Transport};

/// Measure what a SIP trunk really does about security, and write an evidence-backed scorecard.
#[derive(Parser)]
#[command(
    name = "sipcheck",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 no fail; 1 at least one fail (including policy violations and, with \
                  --baseline or diff, anything worse); 2 usage or tool error; 3 incomplete (target \
                  unreachable on every transport, or its name does not resolve)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Probe a SIP trunk and print its scorecard.
    Probe(Box<ProbeArgs>),
    /// Render a saved JSON report in any format, as `probe` would have (differences of an older report on stderr).
    Report(ReportArgs),
    /// Compare two reports of the same trunk: what got worse, better, new or gone (exit 1 if worse).
    Diff {
        /// The earlier JSON report.
        baseline: String,
        /// The later JSON report.
        new: String,
        /// Output format: text, md, json.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Compare trunks head to head: one column per report, one row per seed question.
    Compare {
        /// JSON reports, one per trunk.
        #[arg(num_args = 2.., required = true)]
        reports: Vec<String>,
        /// Output format: md (default), html; with -o, the file's extension decides.
        #[arg(long)]
        format: Option<String>,
        /// Column name of a report, once per report in order (default: its target).
        #[arg(long = "label", value_name = "NAME")]
        labels: Vec<String>,
        /// Write the comparison to FILE (.md or .html) instead of stdout.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<String>,
    },
    /// Verify the Identity (STIR/SHAKEN) of a SIP request saved in FILE: exit 0 valid, 1 not, 2 usage.
    VerifyIdentity {
        /// A SIP request as captured (listener evidence, a pcap export, a log).
        file: String,
        /// PEM file of the STI-PA's trusted roots; without it the chain is not verified (never valid).
        #[arg(long, value_name = "PEM")]
        sti_ca_file: Option<String>,
        /// PEM file of trust roots for fetching x5u over HTTPS (default: the built-in web roots).
        #[arg(long, value_name = "PEM")]
        x5u_ca_file: Option<String>,
        /// Verify as of this time (RFC 3339) instead of now.
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// Fetch x5u, CRL and RCD content also from these blocks (CIDR[,CIDR]), otherwise refused as
        /// private or special-purpose addresses (labs and tests).
        #[arg(long, value_name = "CIDR", value_delimiter = ',')]
        fetch_allow: Vec<String>,
        /// The carrier's own Service Provider Codes; a call signed with another SPC is a finding.
        #[arg(long, value_name = "SPC", value_delimiter = ',')]
        expect_spc: Vec<String>,
        /// Output format: text, json.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Listen for inbound calls (a SIP UAS that answers 486 Busy Here) and report each call's identity.
    Listen {
        /// ADDR:PORT (UDP), tcp:ADDR:PORT or tls:ADDR:PORT.
        addr: String,
        /// How long to listen, e.g. 120s or 5m.
        #[arg(long, default_value = "120s", value_parser = parse_duration)]
        duration: Duration,
        /// Output format: text, json, md, junit, html, sarif (default: text, or the -o file's extension).
        #[arg(long)]
        format: Option<String>,
        /// Write the report to FILE, in the format its extension names (stdout then gets the text scorecard).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<String>,
        /// PEM certificate (chain) for a tls: listener.
        #[arg(long, value_name = "PEM")]
        listen_cert: Option<String>,
        /// PEM private key for a tls: listener.
        #[arg(long, value_name = "PEM")]
        listen_key: Option<String>,
        /// Most inbound requests recorded and answered; later ones are counted and dropped.
        #[arg(long, default_value_t = sipcheck::inbound::DEFAULT_MAX_REQUESTS)]
        max_requests: usize,
        /// PEM file of the STI-PA's trusted roots (Identity chain verification).
        #[arg(long, value_name = "PEM")]
        sti_ca_file: Option<String>,
        /// PEM file of trust roots for fetching x5u over HTTPS (default: the built-in web roots).
        #[arg(long, value_name = "PEM")]
        x5u_ca_file: Option<String>,
        /// Fetch x5u, CRL and RCD content also from these blocks (CIDR[,CIDR]), otherwise refused as
        /// private or special-purpose addresses (labs and tests).
        #[arg(long, value_name = "CIDR", value_delimiter = ',')]
        fetch_allow: Vec<String>,
        /// The carrier's own Service Provider Codes; a call signed with another SPC is a finding.
        #[arg(long, value_name = "SPC", value_delimiter = ',')]
        expect_spc: Vec<String>,
    },
    /// Print the JSON Schema of the report (draft 2020-12, with an `$id` naming the schema version).
    Schema,
    /// Join the JSON Lines of fleet shards (`probe -f … --jsonl`) into one batch: every trunk once.
    Merge {
        /// JSON Lines files, one per shard.
        #[arg(num_args = 1.., required = true)]
        files: Vec<String>,
        /// Write one report per trunk and index.json into DIR (the `probe -f -o DIR` layout, for
        /// compare), instead of one JSON batch on stdout.
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: Option<String>,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per subcommand into --dir.
    Manpage {
        #[arg(long, value_name = "DIR")]
        dir: Option<String>,
    },
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
    /// With -f: append one JSON line per trunk to OUT as each finishes (an interrupted run keeps
    /// every finished line).
    #[arg(long, value_name = "OUT", requires = "file")]
    jsonl: Option<String>,
    /// With --jsonl: skip the trunks already in OUT and append the rest.
    #[arg(long, requires = "jsonl")]
    resume: bool,
    /// With -f: probe only the I-th of N parts of the list, split by the trunks' resolved addresses
    /// (trunks sharing an SBC address are in one part). With --dry-run: list that part.
    #[arg(long, value_name = "I/N", requires = "file")]
    shard: Option<String>,
    /// List every finding id a report can contain (by probe, with safety class and seed questions), then exit.
    #[arg(long)]
    list_probes: bool,
    /// Probes to run: ids or id prefixes, safety classes (safe, calls, intrusive, dos) or all;
    /// -NAME or !NAME leaves out (e.g. tls,sip or -dos or safe,-tls.groups).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    probes: Vec<String>,
    /// Transports to probe (udp,tcp,tls). Default: all three, or TLS only for a sips: URI.
    #[arg(long, value_delimiter = ',')]
    transport: Vec<String>,
    /// TLS port when it differs from the default (5061, or the given port + 1).
    #[arg(long)]
    tls_port: Option<u16>,
    #[command(flatten)]
    out: OutputArgs,
    /// Longest wait for any one answer, e.g. 5s or 800ms (caps RFC 3261 Timer B/F).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,
    /// SIP domain whose identity the certificate must prove (RFC 5922); default: the target host.
    #[arg(long)]
    domain: Option<String>,
    /// PEM file of trust roots instead of the built-in Mozilla roots.
    #[arg(long)]
    ca_file: Option<String>,
    /// PEM client certificate chain (leaf first) to present when a TLS server asks for one (mutual TLS); needs --client-key.
    #[arg(long, value_name = "PEM")]
    client_cert: Option<String>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --client-cert.
    #[arg(long, value_name = "PEM")]
    client_key: Option<String>,
    /// User-Agent header to send.
    #[arg(long)]
    user_agent: Option<String>,
    /// New requests per second per target address.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Simultaneous connections per target address.
    #[arg(long, default_value_t = 4)]
    max_connections: usize,
    /// Also run the opt-in flood probes (dos.*): bounded OPTIONS and REGISTER ramps that stop as soon
    /// as the trunk starts limiting us.
    #[arg(long)]
    dos: bool,
    /// Hard cap on the requests each dos probe may send.
    #[arg(long, default_value_t = 600)]
    dos_max_requests: u32,
    /// Also run intrusive probes and catalog cases (64 KB header, thousands of headers).
    #[arg(long)]
    intrusive: bool,
    /// DNS server for discovery, ADDR[:PORT], asked over TCP (default: the system resolver configuration).
    #[arg(long, value_name = "ADDR[:PORT]")]
    dns_server: Option<String>,
    /// Probe the name as a single host (A/AAAA only), skipping RFC 3263 NAPTR/SRV discovery.
    #[arg(long)]
    no_discovery: bool,
    /// Number or URI on the trunk that is safe to call (media and unauthenticated-INVITE probes); never guessed.
    #[arg(long, value_name = "URI")]
    call_to: Option<String>,
    /// Allow probes that place calls (needs --call-to).
    #[arg(long)]
    allow_calls: bool,
    /// Most calls a run may place.
    #[arg(long, default_value_t = sipcheck::DEFAULT_MAX_CALLS)]
    max_calls: u32,
    /// User name for digest authentication; the password comes from SIPCHECK_PASSWORD or --password-file.
    #[arg(long)]
    user: Option<String>,
    /// File whose first line is the digest password (instead of SIPCHECK_PASSWORD).
    #[arg(long, value_name = "FILE")]
    password_file: Option<String>,
    /// Also run media.rtp_bleed (one more call): does the far end's media follow a second source port?
    #[arg(long)]
    rtp_bleed: bool,
    /// Number or URI the REFER test transfers its call to (call.refer; needs --allow-calls); never guessed.
    #[arg(long, value_name = "URI")]
    refer_to: Option<String>,
    /// Calling number (From and Contact user) of test calls; default: the --user account.
    #[arg(long, value_name = "NUMBER")]
    caller_id: Option<String>,
    /// Loop calls: a DID (number) the trunk routes back to --listen; places the stir/spoof/spit
    /// loop calls (needs --allow-calls, --listen and --caller-id).
    #[arg(long, value_name = "NUMBER")]
    loop_call: Option<String>,
    /// Where the loop-call DID is routed: ADDR:PORT (UDP), tcp:ADDR:PORT or tls:ADDR:PORT.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// PEM certificate (chain) for a tls: --listen.
    #[arg(long, value_name = "PEM")]
    listen_cert: Option<String>,
    /// PEM private key for a tls: --listen.
    #[arg(long, value_name = "PEM")]
    listen_key: Option<String>,
    /// Caller ID you do not own for the spoofing loop calls (default a NANP 555-01XX fiction number).
    #[arg(long, value_name = "NUMBER")]
    spoof_caller_id: Option<String>,
    /// PEM file of the STI-PA's trusted roots (loop calls' Identity chain verification).
    #[arg(long, value_name = "PEM")]
    sti_ca_file: Option<String>,
    /// PEM file of trust roots for fetching x5u over HTTPS (default: the built-in web roots).
    #[arg(long, value_name = "PEM")]
    x5u_ca_file: Option<String>,
    /// Fetch x5u, CRL and RCD content also from these blocks (CIDR[,CIDR]), otherwise refused as
    /// private or special-purpose addresses (labs and tests).
    #[arg(long, value_name = "CIDR", value_delimiter = ',')]
    fetch_allow: Vec<String>,
    /// The carrier's own Service Provider Codes; a call signed with another SPC is a finding.
    #[arg(long, value_name = "SPC", value_delimiter = ',')]
    expect_spc: Vec<String>,
    /// Directory of extra malformed-message cases (*.toml), added to the built-in catalog.
    #[arg(long, value_name = "DIR")]
    catalog: Option<std::path::PathBuf>,
    /// Check the results against a policy: a built-in name (baseline, strict) or a TOML file.
    #[arg(long, value_name = "NAME|FILE")]
    policy: Option<String>,
    /// Judge every TLS endpoint clause by clause against a profile: bcp195 (RFC 9325),
    /// mozilla-intermediate or mozilla-modern (Mozilla guidelines 6.0); adds tls.profile.
    #[arg(long, value_name = "NAME", value_parser = ["bcp195", "mozilla-intermediate", "mozilla-modern"])]
    profile: Option<String>,
    /// Compare with an earlier JSON report; anything worse is a fail (exit 1).
    #[arg(long, value_name = "FILE")]
    baseline: Option<String>,
    /// Write what was sent and received as a pcap (credentials redacted; TLS as raw records).
    #[arg(long, value_name = "FILE")]
    pcap: Option<String>,
    /// Write TLS secrets in the NSS key log format, to decrypt the pcap's TLS in Wireshark.
    #[arg(long, value_name = "FILE")]
    keylog: Option<String>,
    /// Print what would be sent to whom, and send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Exit 1 on findings of this status or worse: fail (default), error (also error and blocked),
    /// or warn (also warn). Stricter only: a fail is always exit 1.
    #[arg(long, value_name = "fail|error|warn", default_value = "fail", value_parser = parse_fail_on)]
    fail_on: FailOn,
}

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    s.parse().map_err(|e: Error| e.to_string())
}

/// Where the report goes and how it looks; shared by `probe` and `report`.
#[derive(Args)]
struct OutputArgs {
    /// Output format: text, json, md, junit, html, sarif (default: text, or each -o file's extension).
    #[arg(long)]
    format: Option<String>,
    /// Write the report to FILE, in the format its extension names (.json .md .html .xml for JUnit
    /// .sarif .txt); may be given several times (one scan, every file). stdout then gets the text
    /// scorecard unless --quiet. With -f: the directory for one report per target, plus index.json.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Vec<String>,
    /// Write BASE.json, BASE.md, BASE.html, BASE.xml (JUnit) and BASE.sarif from the one scan.
    #[arg(long, value_name = "BASE")]
    output_all: Option<String>,
    /// SARIF: also write the results that need nothing done (pass, info); left out by default.
    #[arg(long)]
    sarif_passes: bool,
    /// Print nothing on stdout when writing to a file, and no progress on stderr.
    #[arg(short, long)]
    quiet: bool,
    /// Text scorecard: one line per finding and endpoint, nothing cut (default: grouped, one screen).
    #[arg(short, long)]
    verbose: bool,
}

impl OutputArgs {
    fn wanted(&self) -> output_cli::Wanted<'_> {
        output_cli::Wanted {
            format: self.format.as_deref(),
            files: &self.output,
            all: self.output_all.as_deref(),
        }
    }

    fn style(&self) -> report::Style {
        report::Style {
            color: false,
            verbose: self.verbose,
            sarif_passes: self.sarif_passes,
            width: None,
        }
    }
}

/// `sipcheck report SAVED.json`.
#[derive(Args)]
struct ReportArgs {
    /// A JSON report written by `sipcheck probe` (this version or an older one).
    saved: String,
    #[command(flatten)]
    out: OutputArgs,
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

fn list_probes(format: &str) -> ExitCode {
    match format {
        "json" => print!("{}", report::registry::render_json()),
        "text" => print!("{}", report::registry::render_text()),
        other => {
            return cli::fail(&Error::BadOption(format!(
                "--list-probes writes text or json, not {other:?}"
            )));
        }
    }
    cli::exit(Outcome::Printed)
}

/// The scan options of `probe`, through the library's validating builder; the target is separate for
/// `-f`, whose targets replace it one by one. `files` also reads the policy and baseline and creates
/// the key log (not for `--dry-run`, which writes nothing).
fn build_options(a: &ProbeArgs, target: &str, files: bool) -> Result<ScanOptions, Error> {
    let target = Target::parse(target)?;
    let transports = a
        .transport
        .iter()
        .map(|t| t.parse())
        .collect::<Result<Vec<Transport>, _>>()?;
    let b = ScanOptions::builder(target)
        .maybe((!transports.is_empty()).then_some(transports), |b, t| {
            b.transports(t)
        })
        .maybe(a.tls_port, ScanOptionsBuilder::tls_port)
        .probes(&a.probes)
        .timeout(a.timeout)
        .maybe(a.domain.as_deref(), ScanOptionsBuilder::domain)
        .maybe(a.ca_file.as_deref(), ScanOptionsBuilder::ca_file)
        .maybe(a.user_agent.as_deref(), ScanOptionsBuilder::user_agent)
        .rate(a.rate)
        .max_connections(a.max_connections)
        .intrusive(a.intrusive)
        .maybe(a.catalog.clone(), ScanOptionsBuilder::catalog_dir)
        .maybe(a.dns_server.as_deref(), ScanOptionsBuilder::dns_server)
        .no_discovery(a.no_discovery)
        .dos(a.dos)
        .dos_max_requests(a.dos_max_requests)
        .maybe(a.call_to.as_deref(), ScanOptionsBuilder::call_to)
        .allow_calls(a.allow_calls)
        .max_calls(a.max_calls)
        .maybe(a.user.as_deref(), ScanOptionsBuilder::user)
        .maybe(
            a.password_file.as_deref(),
            ScanOptionsBuilder::password_file,
        )
        .maybe(
            std::env::var("SIPCHECK_PASSWORD").ok(),
            ScanOptionsBuilder::password,
        )
        .rtp_bleed(a.rtp_bleed)
        .maybe(a.refer_to.as_deref(), ScanOptionsBuilder::refer_to)
        .maybe(a.caller_id.as_deref(), ScanOptionsBuilder::caller_id)
        .maybe(a.loop_call.as_deref(), ScanOptionsBuilder::loop_call)
        .maybe(
            a.spoof_caller_id.as_deref(),
            ScanOptionsBuilder::spoof_caller_id,
        )
        .maybe(a.profile.as_deref(), ScanOptionsBuilder::tls_profile)
        .maybe(a.policy.as_deref(), ScanOptionsBuilder::policy_named);
    let b = match (&a.client_cert, &a.client_key) {
        (Some(c), Some(k)) => b.client_certificate(c, k),
        (None, None) => b,
        _ => {
            return Err(Error::BadOption(
                "--client-cert and --client-key go together (the certificate chain and its private key)".into(),
            ));
        }
    };
    let b = match &a.listen {
        Some(at) => b.listen(ListenConfig::parse(
            at,
            a.listen_cert.as_deref(),
            a.listen_key.as_deref(),
        )?),
        None => b,
    };
    let b = if a.loop_call.is_some() {
        b.verify(cli::verify_context(
            a.sti_ca_file.as_deref(),
            a.x5u_ca_file.as_deref(),
            None,
            &a.fetch_allow,
            &a.expect_spc,
        )?)
    } else if !a.expect_spc.is_empty() || !a.fetch_allow.is_empty() {
        return Err(Error::BadOption(
            "--expect-spc and --fetch-allow judge and fetch for the loop calls: give --loop-call too"
                .into(),
        ));
    } else {
        b
    };
    let b = if files {
        b.maybe(a.baseline.as_deref(), ScanOptionsBuilder::baseline_file)
            .maybe(a.keylog.as_deref(), ScanOptionsBuilder::key_log_file)
    } else {
        b
    };
    b.build()
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
        let wanted = a.out.wanted();
        let format = wanted.explicit()?.unwrap_or(Format::Text);
        let files = if a.dry_run {
            None
        } else {
            Some(wanted.open()?)
        };
        let opts = build_options(&a, target, !a.dry_run)?;
        let pcap = match (&a.pcap, a.dry_run) {
            (Some(p), false) => Some(Arc::new(PcapWriter::create(p)?)),
            _ => None,
        };
        Ok((format, files, opts, pcap))
    })();
    let (format, files, mut opts, pcap) = match setup {
        Ok(v) => v,
        Err(e) => return cli::fail(&e),
    };
    let rt = match cli::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let Some(files) = files else {
        return match rt.block_on(sipcheck::dry_run(opts)) {
            Ok(text) => {
                print!("{text}");
                cli::exit(Outcome::Printed)
            }
            Err(e) => cli::fail(&e),
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
        Err(e) => return cli::fail(&e),
    };
    for note in cli::notes(&report, pcap.as_deref()) {
        eprint!("{note}");
        if !note.ends_with('\n') {
            eprintln!();
        }
    }
    if let Err(e) = output_cli::deliver(&report, files, format, a.out.style(), a.out.quiet) {
        return cli::fail(&e);
    }
    gate_cli::finish(&report, a.fail_on)
}

fn manpage(dir: Option<&str>) -> ExitCode {
    let result = match dir {
        Some(d) => {
            std::fs::create_dir_all(d).and_then(|_| clap_mangen::generate_to(Cli::command(), d))
        }
        None => clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()),
    };
    match result {
        Ok(()) => cli::exit(Outcome::Printed),
        Err(e) => cli::fail(&Error::io("cannot write the man page", e)),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            if let Some(hint) = cli::probe_hint(e.kind(), std::env::args().nth(1)) {
                eprintln!("{hint}");
            }
            let usage = Error::BadOption(e.kind().to_string());
            return cli::exit(if e.use_stderr() {
                Outcome::Error(&usage)
            } else {
                Outcome::Printed
            });
        }
    };
    match cli.command {
        Command::Probe(a) => probe(*a),
        Command::Report(a) => {
            output_cli::report_cmd(&a.saved, &a.out.wanted(), a.out.style(), a.out.quiet)
        }
        Command::Diff {
            baseline,
            new,
            format,
        } => cli::diff_cmd(&baseline, &new, &format),
        Command::Compare {
            reports,
            format,
            labels,
            output,
        } => cli::compare_cmd(compare::Request {
            files: &reports,
            labels: &labels,
            format: format.as_deref(),
            output: output.as_deref(),
        }),
        Command::Listen {
            addr,
            duration,
            format,
            output,
            listen_cert,
            listen_key,
            max_requests,
            sti_ca_file,
            x5u_ca_file,
            fetch_allow,
            expect_spc,
        } => listen_cli::run(listen_cli::ListenArgs {
            addr: &addr,
            duration,
            format: format.as_deref(),
            output: output.as_deref(),
            cert: listen_cert.as_deref(),
            key: listen_key.as_deref(),
            max_requests,
            sti_ca: sti_ca_file.as_deref(),
            x5u_ca: x5u_ca_file.as_deref(),
            fetch_allow: &fetch_allow,
            expect_spc: &expect_spc,
        }),
        Command::VerifyIdentity {
            file,
            sti_ca_file,
            x5u_ca_file,
            at,
            format,
            fetch_allow,
            expect_spc,
        } => verify_cli::run(
            &file,
            cli::verify_context(
                sti_ca_file.as_deref(),
                x5u_ca_file.as_deref(),
                at.as_deref(),
                &fetch_allow,
                &expect_spc,
            ),
            &format,
        ),
        Command::Merge { files, output } => batch_cli::merge(&files, output.as_deref()),
        Command::Completions { shell } => {
            // Rendered to memory first: clap_complete panics when stdout closes early (`| head`).
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "sipcheck", &mut buf);
            let _ = std::io::stdout().write_all(&buf);
            cli::exit(Outcome::Printed)
        }
        Command::Manpage { dir } => manpage(dir.as_deref()),
        Command::Schema => gate_cli::schema(),
    }
}
