//! The arguments of `sipcheck` and each subcommand: names, defaults, ranges, help (grouped under
//! headings, with examples) and the values the shell completions offer.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::values::{self, hints};
use crate::exit::FailOn;

const TOP_AFTER: &str = "\
Examples:
  sipcheck probe trunk.example.com                 safe checks, scorecard on the terminal
  sipcheck probe trunk.example.com -o report.html  the same scan, also as an HTML report
  sipcheck probe trunk.example.com --dry-run       what would be sent to whom; sends nothing
  sipcheck report saved.json --format md           a saved report in another format

Exit codes: 0 no fail; 1 at least one fail (including policy violations and, with --baseline or \
diff, anything worse); 2 usage or tool error; 3 incomplete (target unreachable on every transport, \
or its name does not resolve).";

const PROBE_AFTER: &str = "\
Examples:
  sipcheck probe trunk.example.com
      safe checks over UDP, TCP and TLS; the scorecard on the terminal
  sipcheck probe sips:trunk.example.com -o report.json -o report.html
      TLS only; one scan, two files; the scorecard still on stdout
  sipcheck probe 203.0.113.10 --probes safe,-tls.groups --dry-run --format json
      the plan with its numbers (requests, connections, calls, time), as JSON; nothing sent
  sipcheck probe trunk.example.com --policy strict --fail-on warn -o report.sarif -q
      a CI gate: exit 1 on any warn or policy violation
  SIPCHECK_PASSWORD=... sipcheck probe trunk.example.com --user alice \\
      --call-to +15550100 --allow-calls --max-calls 3
      media and authentication probes that place (at most 3) calls
  sipcheck probe trunk.example.com --dos --dos-max-requests 300
      bounded flood probes that stop as soon as the trunk limits us
  sipcheck probe -f trunks.txt --parallel 50 --jsonl fleet.jsonl --resume
      many trunks, one JSON line each; a rerun skips the finished ones

Password: SIPCHECK_PASSWORD or --password-file (never a flag). NO_COLOR turns colour off.
Exit codes: 0 no fail; 1 a fail (or --fail-on); 2 usage or tool error; 3 incomplete.";

/// Measure what a SIP trunk really does about security, and write an evidence-backed scorecard.
#[derive(Parser)]
#[command(
    name = "sipcheck",
    version,
    about,
    long_about = None,
    after_help = TOP_AFTER
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Probe a SIP trunk and print its scorecard.
    #[command(after_help = PROBE_AFTER)]
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
        #[arg(long, default_value = "text", value_parser = hints(|| vec!["text", "md", "json"]))]
        format: String,
    },
    /// Compare trunks head to head: one column per report, one row per seed question.
    Compare {
        /// JSON reports, one per trunk.
        #[arg(num_args = 2.., required = true)]
        reports: Vec<String>,
        /// Output format: md (default), html; with -o, the file's extension decides.
        #[arg(long, value_parser = hints(|| vec!["md", "html"]))]
        format: Option<String>,
        /// Column name of a report, once per report in order (default: its target).
        #[arg(long = "label", value_name = "NAME")]
        labels: Vec<String>,
        /// Write the comparison to FILE (.md or .html) instead of stdout.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<String>,
    },
    /// Verify the Identity (STIR/SHAKEN) of a SIP request saved in FILE: exit 0 valid, 1 not, 2 usage.
    VerifyIdentity(VerifyArgs),
    /// Listen for inbound calls (a SIP UAS that answers 486 Busy Here) and report each call's identity.
    Listen(ListenArgs),
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
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per subcommand into --dir.
    Manpage {
        /// Write sipcheck.1 and sipcheck-SUBCOMMAND.1 here.
        #[arg(long, value_name = "DIR")]
        dir: Option<String>,
    },
}

/// The identity verifier's flags, shared by `probe` (loop calls), `listen` and `verify-identity`.
#[derive(Args, Clone, Default)]
pub struct IdentityArgs {
    /// PEM file of the STI-PA's trusted roots; without it the chain is not verified (never valid).
    #[arg(long, value_name = "PEM")]
    pub sti_ca_file: Option<String>,
    /// PEM file of trust roots for fetching x5u over HTTPS (default: the built-in web roots).
    #[arg(long, value_name = "PEM")]
    pub x5u_ca_file: Option<String>,
    /// Fetch x5u, CRL and RCD content also from these blocks (CIDR[,CIDR]), otherwise refused as
    /// private or special-purpose addresses (labs and tests).
    #[arg(long, value_name = "CIDR", value_delimiter = ',')]
    pub fetch_allow: Vec<String>,
    /// The carrier's own Service Provider Codes; a call signed with another SPC is a finding.
    #[arg(long, value_name = "SPC", value_delimiter = ',')]
    pub expect_spc: Vec<String>,
}

/// `sipcheck verify-identity FILE`.
#[derive(Args)]
pub struct VerifyArgs {
    /// A SIP request as captured (listener evidence, a pcap export, a log).
    pub file: String,
    /// Verify as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// Output format: text, json.
    #[arg(long, default_value = "text", value_parser = hints(|| vec!["text", "json"]))]
    pub format: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub identity: IdentityArgs,
}

/// `sipcheck listen ADDR:PORT`.
#[derive(Args)]
pub struct ListenArgs {
    /// ADDR:PORT (UDP), tcp:ADDR:PORT or tls:ADDR:PORT.
    pub addr: String,
    /// How long to listen, e.g. 120s or 5m (1ms to 1h).
    #[arg(long, default_value = "120s", value_parser = values::listen_duration)]
    pub duration: Duration,
    /// Output format: text, json, md, junit, html, sarif (default: text, or the -o file's extension).
    #[arg(long, value_parser = hints(values::formats))]
    pub format: Option<String>,
    /// Write the report to FILE, in the format its extension names (stdout then gets the text scorecard).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<String>,
    /// PEM certificate (chain) for a tls: listener.
    #[arg(long, value_name = "PEM")]
    pub listen_cert: Option<String>,
    /// PEM private key for a tls: listener.
    #[arg(long, value_name = "PEM")]
    pub listen_key: Option<String>,
    /// Most inbound requests recorded and answered (1 to 10000); later ones are counted and dropped.
    #[arg(long, default_value_t = crate::listen::DEFAULT_MAX_REQUESTS, value_parser = values::listen_max_requests)]
    pub max_requests: usize,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub identity: IdentityArgs,
}

/// `sipcheck probe TARGET` (or `-f FILE`).
#[derive(Args)]
pub struct ProbeArgs {
    /// host, host:port, [v6]:port, or a sip:/sips: URI
    #[arg(required_unless_present_any = ["list_probes", "file"], help_heading = "Target")]
    pub target: Option<String>,
    /// Transports to probe (udp,tcp,tls). Default: all three, or TLS only for a sips: URI.
    #[arg(long, value_delimiter = ',', value_parser = ["udp", "tcp", "tls"], help_heading = "Target")]
    pub transport: Vec<String>,
    /// TLS port when it differs from the default (5061, or the given port + 1).
    #[arg(long, value_name = "PORT", value_parser = values::tls_port, help_heading = "Target")]
    pub tls_port: Option<u16>,
    /// SIP domain whose identity the certificate must prove (RFC 5922); default: the target host.
    #[arg(long, help_heading = "Target")]
    pub domain: Option<String>,
    /// DNS server for discovery, ADDR[:PORT], asked over TCP (default: the system resolver configuration).
    #[arg(long, value_name = "ADDR[:PORT]", help_heading = "Target")]
    pub dns_server: Option<String>,
    /// Probe the name as a single host (A/AAAA only), skipping RFC 3263 NAPTR/SRV discovery.
    #[arg(long, help_heading = "Target")]
    pub no_discovery: bool,

    /// Probes to run: ids, id prefixes, safety classes or all; -NAME leaves out.
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        value_parser = hints(values::probe_selectors),
        hide_possible_values = true,
        help_heading = "Selection",
        long_help = "Probes to run, comma-separated: probe or finding ids (tls.scan, tls.versions), id \
                     prefixes (tls, sip), safety classes (safe, calls, intrusive, dos) or all. -NAME or \
                     !NAME leaves out: tls,-tls.groups or safe,-dns or -dos. Naming one finding of a \
                     probe that measures several runs the probe and reports only what was named (a note \
                     says what came along). Default: every probe; the opt-in classes still need their \
                     flag (--allow-calls, --intrusive, --dos). --list-probes shows every id."
    )]
    pub probes: Vec<String>,
    /// List every finding id a report can contain (by probe, with safety class and seed questions), then exit.
    #[arg(long, help_heading = "Selection")]
    pub list_probes: bool,
    /// Also run intrusive probes and catalog cases (64 KB header, thousands of headers).
    #[arg(long, help_heading = "Selection")]
    pub intrusive: bool,
    /// Directory of extra malformed-message cases (*.toml), added to the built-in catalog.
    #[arg(long, value_name = "DIR", help_heading = "Selection")]
    pub catalog: Option<std::path::PathBuf>,
    /// Print what would be sent to whom, with the numbers (requests, connections, calls, time);
    /// send nothing. --format json for the same plan as JSON.
    #[arg(long, help_heading = "Selection")]
    pub dry_run: bool,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub out: OutputArgs,

    /// Check the results against a policy: a built-in name (baseline, strict) or a TOML file.
    #[arg(
        long,
        value_name = "NAME|FILE",
        value_parser = hints(values::policies),
        help_heading = "Policy and CI gate",
        long_help = "Check the results against a policy: a built-in name (baseline, strict) or a TOML \
                     file (see /usr/share/sipcheck/policies/ or probes/policies/ for the keys). Adds a \
                     policy.* finding per rule; a violation is a fail (exit 1)."
    )]
    pub policy: Option<String>,
    /// Judge every TLS endpoint clause by clause against a profile: bcp195 (RFC 9325),
    /// mozilla-intermediate or mozilla-modern (Mozilla guidelines 6.0); adds tls.profile.
    #[arg(long, value_name = "NAME", value_parser = ["bcp195", "mozilla-intermediate", "mozilla-modern"], help_heading = "Policy and CI gate")]
    pub profile: Option<String>,
    /// Compare with an earlier JSON report; anything worse is a fail (exit 1).
    #[arg(long, value_name = "FILE", help_heading = "Policy and CI gate")]
    pub baseline: Option<String>,
    /// Exit 1 on findings of this status or worse: fail (default), error, warn.
    #[arg(
        long,
        value_name = "fail|error|warn",
        default_value = "fail",
        value_parser = values::fail_on,
        help_heading = "Policy and CI gate",
        long_help = "Exit 1 on findings of this status or worse: fail (default), error (also error \
                     and blocked) or warn (also warn). Stricter only: a fail is always exit 1. The \
                     findings that trip the gate are named on stderr."
    )]
    pub fail_on: FailOn,

    /// Number or URI on the trunk that is safe to call (media and unauthenticated-INVITE probes); never guessed.
    #[arg(long, value_name = "URI", help_heading = "Calls (opt-in)")]
    pub call_to: Option<String>,
    /// Allow probes that place calls (needs --call-to or --loop-call).
    #[arg(long, help_heading = "Calls (opt-in)")]
    pub allow_calls: bool,
    /// Most calls a run may place (1 to 1000; needs --allow-calls).
    #[arg(long, default_value_t = crate::probe::DEFAULT_MAX_CALLS, value_parser = values::max_calls, help_heading = "Calls (opt-in)")]
    pub max_calls: u32,
    /// User name for digest authentication; the password comes from SIPCHECK_PASSWORD or --password-file.
    #[arg(long, help_heading = "Calls (opt-in)")]
    pub user: Option<String>,
    /// File whose first line is the digest password (instead of SIPCHECK_PASSWORD; needs --user).
    #[arg(long, value_name = "FILE", help_heading = "Calls (opt-in)")]
    pub password_file: Option<String>,
    /// Calling number (From and Contact user) of test calls; default: the --user account.
    #[arg(long, value_name = "NUMBER", help_heading = "Calls (opt-in)")]
    pub caller_id: Option<String>,
    /// Also run media.rtp_bleed (one more call): does the far end's media follow a second source
    /// port? (needs --allow-calls)
    #[arg(long, help_heading = "Calls (opt-in)")]
    pub rtp_bleed: bool,
    /// Number or URI the REFER test transfers its call to (call.refer; needs --allow-calls); never guessed.
    #[arg(long, value_name = "URI", help_heading = "Calls (opt-in)")]
    pub refer_to: Option<String>,

    /// A DID the trunk routes back to --listen: places the stir/spoof/spit loop calls.
    #[arg(
        long,
        value_name = "NUMBER",
        help_heading = "Loop calls (opt-in)",
        long_help = "Loop calls: a DID (number) the trunk routes back to --listen, where sipcheck \
                     answers; it places the stir/spoof/spit loop calls and judges the Identity and \
                     caller ID that arrive. Needs --listen or --loop-via-register; the calls are placed only with \
                     --allow-calls (without it they are skipped, and --dry-run lists them); \
                     --caller-id is the number you own."
    )]
    pub loop_call: Option<String>,
    /// Where the loop-call DID is routed: ADDR:PORT (UDP), tcp:ADDR:PORT or tls:ADDR:PORT.
    #[arg(long, value_name = "ADDR:PORT", help_heading = "Loop calls (opt-in)")]
    pub listen: Option<String>,
    /// Loop calls from behind NAT: REGISTER --user over TCP/TLS and receive the calls back over
    /// that connection (no listening port; instead of --listen).
    #[arg(long, help_heading = "Loop calls (opt-in)")]
    pub loop_via_register: bool,
    /// PEM certificate (chain) for a tls: --listen.
    #[arg(long, value_name = "PEM", help_heading = "Loop calls (opt-in)")]
    pub listen_cert: Option<String>,
    /// PEM private key for a tls: --listen.
    #[arg(long, value_name = "PEM", help_heading = "Loop calls (opt-in)")]
    pub listen_key: Option<String>,
    /// Caller ID you do not own for the spoofing loop calls (default a NANP 555-01XX fiction number).
    #[arg(long, value_name = "NUMBER", help_heading = "Loop calls (opt-in)")]
    pub spoof_caller_id: Option<String>,
    #[command(flatten, next_help_heading = "Loop calls (opt-in)")]
    #[allow(missing_docs)]
    pub identity: IdentityArgs,

    /// Also run the opt-in flood probes (dos.*): bounded OPTIONS and REGISTER ramps that stop as soon
    /// as the trunk starts limiting us.
    #[arg(long, help_heading = "Floods (opt-in)")]
    pub dos: bool,
    /// Hard cap on the requests each dos probe may send (1 to 10000; needs --dos).
    #[arg(long, default_value_t = 600, value_name = "N", value_parser = values::dos_max_requests, help_heading = "Floods (opt-in)")]
    pub dos_max_requests: u32,

    /// PEM file of trust roots instead of the built-in Mozilla roots.
    #[arg(long, value_name = "PEM", help_heading = "TLS")]
    pub ca_file: Option<String>,
    /// PEM client certificate chain (leaf first) to present when a TLS server asks for one (mutual
    /// TLS); needs --client-key.
    #[arg(long, value_name = "PEM", help_heading = "TLS")]
    pub client_cert: Option<String>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --client-cert.
    #[arg(long, value_name = "PEM", help_heading = "TLS")]
    pub client_key: Option<String>,
    /// Write what was sent and received as a pcap (credentials redacted; TLS as raw records).
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    pub pcap: Option<String>,
    /// Write TLS secrets in the NSS key log format, to decrypt the pcap's TLS in Wireshark.
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    pub keylog: Option<String>,

    /// New requests per second per target address (more than 0, at most 10000).
    #[arg(long, default_value_t = 20.0, value_parser = values::rate, help_heading = "Politeness and timing")]
    pub rate: f64,
    /// Simultaneous connections per target address (1 to 64).
    #[arg(long, default_value_t = crate::probe::DEFAULT_MAX_CONNECTIONS, value_name = "N", value_parser = values::max_connections, help_heading = "Politeness and timing")]
    pub max_connections: usize,
    /// Longest wait for any one answer, e.g. 5s or 800ms (1ms to 1h; caps RFC 3261 Timer B/F).
    #[arg(long, default_value = "5s", value_parser = values::timeout, help_heading = "Politeness and timing")]
    pub timeout: Duration,
    /// User-Agent header to send.
    #[arg(long, help_heading = "Politeness and timing")]
    pub user_agent: Option<String>,

    /// Probe every target listed in FILE (one per line, # comments); -o then names a directory.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "target",
        help_heading = "Fleet (-f)"
    )]
    pub file: Option<String>,
    /// With -f: how many targets are probed at once (1 to 1024).
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = values::parallel, help_heading = "Fleet (-f)")]
    pub parallel: usize,
    /// With -f: append one JSON line per trunk to OUT as each finishes (an interrupted run keeps
    /// every finished line).
    #[arg(long, value_name = "OUT", help_heading = "Fleet (-f)")]
    pub jsonl: Option<String>,
    /// With --jsonl: skip the trunks already in OUT and append the rest.
    #[arg(long, help_heading = "Fleet (-f)")]
    pub resume: bool,
    /// With -f: probe only the I-th of N parts of the list, split by resolved address.
    #[arg(
        long,
        value_name = "I/N",
        help_heading = "Fleet (-f)",
        long_help = "With -f: probe only the I-th (1-based) of N disjoint parts of the list, split by \
                     the trunks' resolved addresses: trunks sharing an SBC address land in one part, so \
                     --rate and --max-connections per address hold across machines. With --dry-run: \
                     list that part's targets and send nothing else."
    )]
    pub shard: Option<String>,
}

/// Where the report goes and how it looks; shared by `probe` and `report`.
#[derive(Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Output format: text, json, md, junit, html, sarif (default: text, or each -o file's extension).
    #[arg(long, value_parser = hints(values::formats))]
    pub format: Option<String>,
    /// Write the report to FILE, in the format its extension names; may be repeated.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        long_help = "Write the report to FILE, in the format its extension names (.json .md .html .xml \
                     for JUnit .sarif .txt); may be given several times (one scan, every file). stdout \
                     then gets the text scorecard unless --quiet. Every path is checked before the first \
                     packet. With -f: the directory for one report per target, plus index.json."
    )]
    pub output: Vec<String>,
    /// Write BASE.json, BASE.md, BASE.html, BASE.xml (JUnit) and BASE.sarif from the one scan.
    #[arg(long, value_name = "BASE")]
    pub output_all: Option<String>,
    /// SARIF: also write the results that need nothing done (pass, info); left out by default.
    #[arg(long)]
    pub sarif_passes: bool,
    /// Print nothing on stdout when writing to a file, and no progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Text scorecard: one line per finding and endpoint, nothing cut (default: grouped, one screen).
    #[arg(short, long)]
    pub verbose: bool,
}

/// `sipcheck report SAVED.json`.
#[derive(Args)]
pub struct ReportArgs {
    /// A JSON report written by `sipcheck probe` (this version or an older one).
    pub saved: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub out: OutputArgs,
}
