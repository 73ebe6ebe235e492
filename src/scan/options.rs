//! What a scan probes and how: [`ScanOptions`], built and checked by [`ScanOptionsBuilder`].
//!
//! Every value that makes no sense (a rate of 0, a timeout of 0, no connection allowed, a selector
//! that matches no probe, a certificate file that cannot be read) is an [`Error::BadOption`] with a
//! one-line message before a single packet is sent, never silently replaced by something that works.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::analysis::Baseline;
use crate::analysis::policy::{self, Policy};
use crate::call::{self, CallPolicy};
use crate::capture::{KeyLogFile, PcapWriter};
use crate::error::{Error, Result};
use crate::listen::ListenConfig;
use crate::probe::{Config, Progress};
use crate::sip::digest::Credentials;
use crate::stir::VerifyContext;
use crate::target::{Port, Target, Transport};
use crate::transport::{ClientIdentity, Limiter, TlsSettings};

use super::limits;

/// Highest politeness rate accepted, in new requests per second per address.
pub const MAX_RATE: f64 = limits::RATE.max;
/// Most simultaneous connections per address.
pub const MAX_CONNECTIONS: usize = limits::MAX_CONNECTIONS.max as usize;
/// Most requests a `dos` probe may be allowed.
pub const MAX_DOS_REQUESTS: u32 = limits::DOS_MAX_REQUESTS.max as u32;
/// Longest wait for one answer.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(limits::TIMEOUT.max as u64);

/// What to probe and how. Build it with [`ScanOptions::builder`], which checks every value; the
/// fields stay public for programs that adjust a built value, and [`scan`](super::scan) checks them
/// again ([`ScanOptions::validate`]) before it starts.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// The trunk to probe.
    pub target: Target,
    /// Transports to probe; `None` means the target's defaults.
    pub transports: Option<Vec<Transport>>,
    /// The TLS port when it differs from the default (5061, or the given port + 1).
    pub tls_port: Option<Port>,
    /// Probe selectors (`--probes`); empty means every probe.
    pub selectors: Vec<String>,
    /// Timers, politeness budget, opt-ins and the settings of each probe family.
    pub config: Config,
    /// A policy to judge the report by (`--policy`): adds `policy.*` findings and `report.policy`.
    pub policy: Option<Policy>,
    /// A report to diff against (`--baseline`): adds the `baseline.diff` finding.
    pub baseline: Option<Baseline>,
    /// A politeness budget shared with other scans running at the same time (a batch's trunks, some
    /// on one SBC): `None` gives this scan its own, from `config`'s rate and connection cap.
    pub politeness: Option<Arc<Limiter>>,
}

impl ScanOptions {
    /// Options with every default: all probes the target's transports allow, the default politeness
    /// budget, nothing opt-in. Prefer [`ScanOptions::builder`], which checks what it is given.
    pub fn new(target: Target) -> ScanOptions {
        ScanOptions {
            target,
            transports: None,
            tls_port: None,
            selectors: Vec::new(),
            config: Config::default(),
            policy: None,
            baseline: None,
            politeness: None,
        }
    }

    /// A builder starting from the defaults of [`ScanOptions::new`].
    ///
    /// ```
    /// use sipcheck::{ScanOptions, Target};
    ///
    /// let target = Target::parse("127.0.0.1:5060").unwrap();
    /// let opts = ScanOptions::builder(target.clone()).rate(50.0).probes(["sip"]).build().unwrap();
    /// assert_eq!(opts.config.rate, 50.0);
    /// let e = ScanOptions::builder(target).rate(0.0).build().unwrap_err();
    /// assert!(e.to_string().contains("--rate"), "{e}");
    /// ```
    pub fn builder(target: Target) -> ScanOptionsBuilder {
        ScanOptionsBuilder {
            opts: ScanOptions::new(target),
            error: None,
            user: None,
            password: None,
            password_file: None,
        }
    }

    /// Checks every value a scan depends on; the first that makes no sense is the error.
    pub fn validate(&self) -> Result<()> {
        let c = &self.config;
        let bad = |s: String| Err(Error::BadOption(s));
        limits::RATE.check(c.rate, c.rate)?;
        if c.burst == 0 {
            return bad("burst 0: at least one request must be allowed before pacing".into());
        }
        limits::MAX_CONNECTIONS.check(c.max_connections as f64, c.max_connections)?;
        let t = &c.timers;
        limits::TIMEOUT.check(t.timeout.as_secs_f64(), format_args!("{:?}", t.timeout))?;
        if t.t1.is_zero() || t.t2 < t.t1 {
            return bad(format!(
                "timers T1 {:?} and T2 {:?}: T1 must be more than 0 and T2 at least T1",
                t.t1, t.t2
            ));
        }
        if c.probe_timeout.is_zero() {
            return bad("probe timeout 0: every probe needs time to run".into());
        }
        limits::DOS_MAX_REQUESTS.check(c.dos_max_requests.into(), c.dos_max_requests)?;
        limits::MAX_CALLS.check(c.calls.max_calls.into(), c.calls.max_calls)?;
        if self.transports.as_ref().is_some_and(|t| t.is_empty()) {
            return bad("--transport: at least one transport is needed".into());
        }
        let l = &c.loop_calls;
        if l.listen.is_some() && l.via_register {
            return bad(
                "--listen and --loop-via-register exclude each other (a listener, or the calls back over the registration)"
                    .into(),
            );
        }
        if l.number.is_some() != (l.listen.is_some() || l.via_register) {
            return bad(
                "--loop-call goes with --listen or --loop-via-register (the DID and where it is routed)"
                    .into(),
            );
        }
        super::select(&self.selectors).map(|_| ())
    }

    /// What the `--probes` list means beyond itself (findings that come along with those named,
    /// findings left out of the report), for the user to read before the run.
    pub fn selection_notes(&self) -> Vec<String> {
        super::select(&self.selectors)
            .map(|s| s.notes)
            .unwrap_or_default()
    }
}

/// Builds [`ScanOptions`] step by step; the first bad value is kept and returned by
/// [`build`](ScanOptionsBuilder::build), so a chain reads straight through. Files named here
/// (certificates, catalog, policy, baseline, key log) are read or created by `build`, before any traffic.
#[must_use]
pub struct ScanOptionsBuilder {
    opts: ScanOptions,
    error: Option<Error>,
    user: Option<String>,
    password: Option<String>,
    password_file: Option<String>,
}

impl ScanOptionsBuilder {
    fn set(mut self, f: impl FnOnce(&mut ScanOptions) -> Result<()>) -> Self {
        if self.error.is_none()
            && let Err(e) = f(&mut self.opts)
        {
            self.error = Some(e);
        }
        self
    }

    /// Applies `f` when `value` is given: `.maybe(args.domain, Self::domain)`.
    pub fn maybe<T>(self, value: Option<T>, f: impl FnOnce(Self, T) -> Self) -> Self {
        match value {
            Some(v) => f(self, v),
            None => self,
        }
    }

    /// Starts from this whole configuration (later calls still adjust it).
    pub fn config(self, config: Config) -> Self {
        self.set(|o| {
            o.config = config;
            Ok(())
        })
    }

    /// Transports to probe (duplicates ignored); without this call, the target's defaults.
    pub fn transports(self, transports: impl IntoIterator<Item = Transport>) -> Self {
        self.set(|o| {
            let mut ts = Vec::new();
            for t in transports {
                if !ts.contains(&t) {
                    ts.push(t);
                }
            }
            o.transports = Some(ts);
            Ok(())
        })
    }

    /// The TLS port, when it is not the default.
    pub fn tls_port(self, port: u16) -> Self {
        self.set(|o| {
            o.tls_port =
                Some(Port::new(port).ok_or_else(|| Error::BadOption("--tls-port 0".into()))?);
            Ok(())
        })
    }

    /// Probes to run, by probe id, finding id or prefix; blanks are ignored, none means all.
    pub fn probes<S: AsRef<str>>(self, selectors: impl IntoIterator<Item = S>) -> Self {
        self.set(|o| {
            o.selectors = selectors
                .into_iter()
                .map(|s| s.as_ref().trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            Ok(())
        })
    }

    /// Longest wait for any one answer (caps RFC 3261 Timer B/F).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.set(|o| {
            o.config.timers.timeout = timeout;
            Ok(())
        })
    }

    /// Longest one probe may run before it is stopped and reported as `error`.
    pub fn probe_timeout(self, timeout: Duration) -> Self {
        self.set(|o| {
            o.config.probe_timeout = timeout;
            Ok(())
        })
    }

    /// The SIP domain the certificate must prove (RFC 5922); default: the target host.
    pub fn domain(self, domain: &str) -> Self {
        self.set(|o| {
            o.config.domain = domain.trim().to_ascii_lowercase();
            Ok(())
        })
    }

    /// Trust roots from a PEM file instead of the built-in Mozilla roots.
    pub fn ca_file(self, path: &str) -> Self {
        self.set(|o| {
            // Only the roots: a key log, a capture or a client certificate set before stays.
            let TlsSettings {
                roots,
                roots_source,
                ..
            } = TlsSettings::from_ca_file(path)?;
            o.config.tls.roots = roots;
            o.config.tls.roots_source = roots_source;
            Ok(())
        })
    }

    /// The client certificate chain (leaf first) and its private key, PEM files, presented when a TLS
    /// server asks for one (mutual TLS); read now.
    pub fn client_certificate(self, cert: &str, key: &str) -> Self {
        self.set(|o| {
            o.config.tls.client_identity =
                Some(Arc::new(ClientIdentity::from_pem_files(cert, key)?));
            Ok(())
        })
    }

    /// The User-Agent header sent.
    pub fn user_agent(self, ua: &str) -> Self {
        self.set(|o| {
            o.config.user_agent = ua.to_string();
            Ok(())
        })
    }

    /// New requests per second per target address (more than 0, at most [`MAX_RATE`]).
    pub fn rate(self, per_second: f64) -> Self {
        self.set(|o| {
            o.config.rate = per_second;
            Ok(())
        })
    }

    /// Requests allowed at once before pacing starts (at least 1).
    pub fn burst(self, burst: u32) -> Self {
        self.set(|o| {
            o.config.burst = burst;
            Ok(())
        })
    }

    /// Simultaneous connections per target address (1 to [`MAX_CONNECTIONS`]).
    pub fn max_connections(self, n: usize) -> Self {
        self.set(|o| {
            o.config.max_connections = n;
            Ok(())
        })
    }

    /// Also run the intrusive probes and catalog cases.
    pub fn intrusive(self, on: bool) -> Self {
        self.set(|o| {
            o.config.intrusive = on;
            Ok(())
        })
    }

    /// Judge every TLS endpoint against a built-in profile (`bcp195`, `mozilla-intermediate`,
    /// `mozilla-modern`): adds a `tls.profile` finding per endpoint.
    pub fn tls_profile(self, name: &str) -> Self {
        let name = name.to_string();
        self.set(move |o| {
            o.config.tls_profile = Some(
                crate::findings::tls::profile::builtin(&name)
                    .map_err(crate::error::Error::BadOption)?,
            );
            Ok(())
        })
    }

    /// Also run the bounded flood probes (`dos.*`).
    pub fn dos(self, on: bool) -> Self {
        self.set(|o| {
            o.config.dos = on;
            Ok(())
        })
    }

    /// Hard cap on the requests each `dos` probe may send (1 to [`MAX_DOS_REQUESTS`]).
    pub fn dos_max_requests(self, n: u32) -> Self {
        self.set(|o| {
            o.config.dos_max_requests = n;
            Ok(())
        })
    }

    /// Extra malformed-message cases; the directory is loaded now, so a broken case stops the run here.
    pub fn catalog_dir(self, dir: impl Into<PathBuf>) -> Self {
        self.set(|o| {
            let dir = dir.into();
            crate::catalog::load(Some(&dir))?;
            o.config.catalog_dir = Some(dir);
            Ok(())
        })
    }

    /// DNS server for discovery, `ADDR[:PORT]`, asked over TCP.
    pub fn dns_server(self, server: &str) -> Self {
        self.set(|o| {
            o.config.discovery.dns_server = Some(crate::discover::source::parse_server(server)?);
            Ok(())
        })
    }

    /// Probe the name as a single host (A/AAAA only), skipping RFC 3263 NAPTR/SRV discovery.
    pub fn no_discovery(self, on: bool) -> Self {
        self.set(|o| {
            o.config.discovery.no_discovery = on;
            Ok(())
        })
    }

    /// A number or URI on the trunk that is safe to call; blank means none.
    pub fn call_to(self, to: &str) -> Self {
        self.set(|o| {
            o.config.calls.call_to = Some(to.to_string()).filter(|s| !s.trim().is_empty());
            Ok(())
        })
    }

    /// Allow probes that place calls (they also need [`call_to`](Self::call_to)).
    pub fn allow_calls(self, on: bool) -> Self {
        self.set(|o| {
            o.config.calls.allow = on;
            Ok(())
        })
    }

    /// Most calls a run may place.
    pub fn max_calls(self, n: u32) -> Self {
        self.set(|o| {
            o.config.calls.max_calls = n;
            Ok(())
        })
    }

    /// Also run `media.rtp_bleed` (one more call).
    pub fn rtp_bleed(self, on: bool) -> Self {
        self.set(|o| {
            o.config.calls.rtp_bleed = on;
            Ok(())
        })
    }

    /// Where the REFER test transfers its call; blank means none.
    pub fn refer_to(self, to: &str) -> Self {
        self.set(|o| {
            o.config.calls.refer_to = match to.trim() {
                "" => None,
                r => Some(call::valid_refer_to(r).map_err(Error::BadOption)?),
            };
            Ok(())
        })
    }

    /// The calling number of test calls (From and Contact user).
    pub fn caller_id(self, number: &str) -> Self {
        self.set(|o| {
            o.config.calls.caller_id =
                Some(call::valid_caller_id(number).map_err(Error::BadOption)?);
            Ok(())
        })
    }

    /// The call policy as a whole (replaces every call setting above).
    pub fn calls(self, calls: CallPolicy) -> Self {
        self.set(|o| {
            o.config.calls = calls;
            Ok(())
        })
    }

    /// Digest credentials as they are.
    pub fn credentials(self, credentials: Credentials) -> Self {
        self.set(|o| {
            o.config.calls.credentials = Some(credentials);
            Ok(())
        })
    }

    /// The digest user; its password comes from [`password`](Self::password) or
    /// [`password_file`](Self::password_file) (the file wins). Errors never include the password.
    pub fn user(mut self, user: &str) -> Self {
        self.user = Some(user.to_string());
        self
    }

    /// The digest password (e.g. from `SIPCHECK_PASSWORD`).
    pub fn password(mut self, password: String) -> Self {
        self.password = Some(password);
        self
    }

    /// A file whose first line is the digest password; read by `build`.
    pub fn password_file(mut self, path: &str) -> Self {
        self.password_file = Some(path.to_string());
        self
    }

    /// Loop calls: the DID the trunk routes back to the [`listen`](Self::listen)er.
    pub fn loop_call(self, number: &str) -> Self {
        self.set(|o| {
            o.config.loop_calls.number = Some(loop_number("--loop-call", number)?);
            Ok(())
        })
    }

    /// Where the loop-call DID is routed; a TLS listener's certificate is checked by `build`.
    pub fn listen(self, listen: ListenConfig) -> Self {
        self.set(|o| {
            o.config.loop_calls.listen = Some(listen);
            Ok(())
        })
    }

    /// Loop calls come back over a REGISTERed TCP/TLS flow instead of a [`listen`](Self::listen)er.
    pub fn loop_via_register(self, on: bool) -> Self {
        self.set(|o| {
            o.config.loop_calls.via_register = on;
            Ok(())
        })
    }

    /// A caller ID we do not own, for the spoofing loop calls.
    pub fn spoof_caller_id(self, number: &str) -> Self {
        self.set(|o| {
            o.config.loop_calls.spoof_caller_id = Some(loop_number("--spoof-caller-id", number)?);
            Ok(())
        })
    }

    /// STI roots and x5u client for the loop calls' Identity verification (default: no STI roots,
    /// the built-in web roots for x5u).
    pub fn verify(self, verify: VerifyContext) -> Self {
        self.set(|o| {
            o.config.loop_calls.verify = Some(verify);
            Ok(())
        })
    }

    /// Judge the report by this policy.
    pub fn policy(self, policy: Policy) -> Self {
        self.set(|o| {
            o.policy = Some(policy);
            Ok(())
        })
    }

    /// Judge the report by a built-in policy (`baseline`, `strict`) or a TOML file, loaded now.
    pub fn policy_named(self, name_or_path: &str) -> Self {
        self.set(|o| {
            o.policy = Some(policy::load(name_or_path)?);
            Ok(())
        })
    }

    /// Diff the report against this earlier one.
    pub fn baseline(self, baseline: Baseline) -> Self {
        self.set(|o| {
            o.baseline = Some(baseline);
            Ok(())
        })
    }

    /// Diff the report against the JSON report in this file, read now.
    pub fn baseline_file(self, path: &str) -> Self {
        self.set(|o| {
            o.baseline = Some(Baseline {
                path: path.to_string(),
                report: crate::findings::read_json(path)?,
            });
            Ok(())
        })
    }

    /// Write TLS secrets to this file (NSS key log format), created now.
    pub fn key_log_file(self, path: &str) -> Self {
        self.set(|o| {
            o.config.tls.key_log = Some(Arc::new(KeyLogFile::create(path)?));
            Ok(())
        })
    }

    /// Record what is sent and received into this pcap writer (the caller finishes it).
    pub fn capture(self, pcap: Arc<PcapWriter>) -> Self {
        self.set(|o| {
            o.config.tls.capture = Some(pcap);
            Ok(())
        })
    }

    /// Told when each probe starts and ends.
    pub fn progress(self, progress: Progress) -> Self {
        self.set(|o| {
            o.config.progress = progress;
            Ok(())
        })
    }

    /// The options, or the first value that makes no sense.
    pub fn build(self) -> Result<ScanOptions> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut opts = self.opts;
        let password = match &self.password_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| Error::BadOption(format!("--password-file {path}: {e}")))?
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            ),
            None => self.password,
        };
        match (self.user, password) {
            (Some(u), Some(p)) => opts.config.calls.credentials = Some(Credentials::new(u, p)),
            (Some(_), None) => {
                return Err(Error::BadOption(
                    "--user needs a password in SIPCHECK_PASSWORD or --password-file".into(),
                ));
            }
            (None, Some(_)) if self.password_file.is_some() => {
                return Err(Error::BadOption("--password-file needs --user".into()));
            }
            _ => {}
        }
        opts.validate()?;
        let l = &mut opts.config.loop_calls;
        if let Some(listen) = &l.listen
            && listen.at.transport == Transport::Tls
        {
            // A broken certificate stops the run here, not after the first call.
            crate::listen::check_tls(listen)?;
        }
        if l.number.is_some() && l.verify.is_none() {
            l.verify = Some(VerifyContext::load(None, None, None)?);
        }
        Ok(opts)
    }
}

fn loop_number(flag: &str, number: &str) -> Result<String> {
    call::valid_caller_id(number).map_err(|e| Error::BadOption(e.replacen("--caller-id", flag, 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> ScanOptionsBuilder {
        ScanOptions::builder(Target::parse("127.0.0.1").unwrap())
    }

    fn message(b: ScanOptionsBuilder) -> String {
        b.build().unwrap_err().to_string()
    }

    #[test]
    fn a_rate_of_zero_negative_or_nan_is_an_error_not_a_slow_scan() {
        for r in [0.0, -1.0, f64::NAN, f64::INFINITY, MAX_RATE + 1.0] {
            let m = message(builder().rate(r));
            assert!(m.contains("--rate") && !m.contains('\n'), "{r}: {m}");
        }
        assert_eq!(builder().rate(0.5).build().unwrap().config.rate, 0.5);
    }

    #[test]
    fn zero_timeouts_connections_and_budgets_are_errors() {
        assert!(message(builder().timeout(Duration::ZERO)).contains("--timeout"));
        assert!(message(builder().max_connections(0)).contains("--max-connections"));
        assert!(message(builder().max_connections(65)).contains("--max-connections"));
        assert!(message(builder().dos_max_requests(0)).contains("--dos-max-requests"));
        assert!(message(builder().burst(0)).contains("burst"));
        assert!(message(builder().probe_timeout(Duration::ZERO)).contains("probe timeout"));
        assert!(message(builder().tls_port(0)).contains("--tls-port"));
        assert!(message(builder().transports([])).contains("--transport"));
    }

    #[test]
    fn the_first_error_is_kept_and_later_steps_do_not_hide_it() {
        let m = message(builder().rate(0.0).probes(["no-such-probe"]).rate(5.0));
        assert!(m.contains("no-such-probe"), "{m}");
        let m = message(builder().probes(["no-such-probe"]));
        assert!(m.contains("matches no probe"), "{m}");
    }

    #[test]
    fn credentials_need_both_halves_and_never_show_the_password() {
        let m = message(builder().user("alice"));
        assert!(m.contains("--user needs a password"), "{m}");
        let o = builder()
            .user("alice")
            .password("s3cret".into())
            .build()
            .unwrap();
        assert!(o.config.calls.credentials.is_some());
        let m = message(builder().password_file("/nonexistent/pw"));
        assert!(
            m.contains("--password-file") && !m.contains("s3cret"),
            "{m}"
        );
    }

    #[test]
    fn loop_call_and_listen_go_together() {
        let m = message(builder().loop_call("+15550100"));
        assert!(
            m.contains("--loop-call goes with --listen or --loop-via-register"),
            "{m}"
        );
        let m = message(builder().loop_via_register(true));
        assert!(m.contains("--loop-call goes with"), "{m}");
        let both = builder()
            .loop_call("+15550100")
            .loop_via_register(true)
            .listen(ListenConfig::parse("127.0.0.1:5070", None, None).unwrap());
        assert!(message(both).contains("exclude each other"));
        assert!(
            builder()
                .loop_call("+15550100")
                .loop_via_register(true)
                .build()
                .is_ok()
        );
    }

    #[test]
    fn fields_set_by_hand_are_checked_by_validate() {
        let mut o = builder().build().unwrap();
        o.config.rate = 0.0;
        assert!(o.validate().is_err());
    }
}
