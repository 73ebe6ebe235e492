//! How flag values are read: every number through its [`Range`](crate::scan::limits::Range) (one
//! message style however far out a value is), and the values the completions offer.

use std::ffi::OsStr;
use std::time::Duration;

use clap::builder::{PossibleValue, TypedValueParser};

use crate::exit::FailOn;
use crate::scan::limits;

/// `--rate`.
pub fn rate(s: &str) -> Result<f64, String> {
    limits::RATE.parse_real(s)
}
/// `--max-connections`.
pub fn max_connections(s: &str) -> Result<usize, String> {
    limits::MAX_CONNECTIONS.parse_whole(s)
}
/// `--dos-max-requests`.
pub fn dos_max_requests(s: &str) -> Result<u32, String> {
    limits::DOS_MAX_REQUESTS.parse_whole(s)
}
/// `--max-calls`.
pub fn max_calls(s: &str) -> Result<u32, String> {
    limits::MAX_CALLS.parse_whole(s)
}
/// `--tls-port`.
pub fn tls_port(s: &str) -> Result<u16, String> {
    limits::TLS_PORT.parse_whole(s)
}
/// `--parallel`.
pub fn parallel(s: &str) -> Result<usize, String> {
    limits::PARALLEL.parse_whole(s)
}
/// `listen --max-requests`.
pub fn listen_max_requests(s: &str) -> Result<usize, String> {
    limits::LISTEN_MAX_REQUESTS.parse_whole(s)
}
/// `--timeout`.
pub fn timeout(s: &str) -> Result<Duration, String> {
    limits::TIMEOUT.parse_duration(s)
}
/// `listen --duration`.
pub fn listen_duration(s: &str) -> Result<Duration, String> {
    limits::LISTEN_DURATION.parse_duration(s)
}
/// `--fail-on`.
pub fn fail_on(s: &str) -> Result<FailOn, String> {
    s.parse().map_err(|e: crate::Error| match e {
        crate::Error::BadOption(m) => m,
        e => e.to_string(),
    })
}

/// The report formats.
pub fn formats() -> Vec<&'static str> {
    vec!["text", "json", "md", "junit", "html", "sarif"]
}

/// The built-in policies (a file path is accepted too).
pub fn policies() -> Vec<&'static str> {
    crate::analysis::policy::builtin_names()
}

/// What `--probes` takes: the safety classes and `all`, every probe id and every finding id.
pub fn probe_selectors() -> Vec<&'static str> {
    let mut v = vec!["safe", "calls", "intrusive", "dos", "all"];
    for p in crate::probes::all() {
        for id in std::iter::once(p.id()).chain(p.finding_ids()) {
            if !v.contains(&id) {
                v.push(id);
            }
        }
    }
    v
}

/// A string flag whose completions offer `values()` while any string is accepted (a policy file, a
/// `-tls` exclusion, a prefix): the library checks the value with its own one-line message.
#[derive(Clone, Copy)]
pub struct Hints(fn() -> Vec<&'static str>);

/// [`Hints`] from a list.
pub fn hints(values: fn() -> Vec<&'static str>) -> Hints {
    Hints(values)
}

impl TypedValueParser for Hints {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new((self.0)().into_iter().map(PossibleValue::new)))
    }
}
