//! The process exit code of every command, decided here and nowhere else (`docs/usage.md`, "Exit codes").

use crate::analysis::diff::Diff;
use crate::error::Error;
use crate::findings::{Finding, Report, Status};

/// The scan completed and nothing is `fail`.
pub const OK: u8 = 0;
/// At least one `fail` (a violated policy rule, anything worse than the baseline), a `diff` with
/// something worse, an Identity that is not fully valid.
pub const FAIL: u8 = 1;
/// A usage or tool error: bad target, bad flag, unreadable file. Nothing was measured.
pub const USAGE: u8 = 2;
/// Incomplete: no endpoint was found, no endpoint answered SIP (or the target was unreachable on
/// every transport probed), every probe that ran ended in `error`, or the run was interrupted. The
/// report is still written, with the reason.
pub const INCOMPLETE: u8 = 3;

/// The least bad status that makes a report exit 1 (`--fail-on`). The default, `fail`, is what
/// exit 1 always means; `error` and `warn` make a gate stricter without a policy file, never looser.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailOn {
    /// Any `fail` (the default).
    #[default]
    Fail,
    /// Any `fail`, `blocked` or `error`: a probe that could not complete fails the gate.
    Error,
    /// Any `fail`, `blocked`, `error` or `warn`.
    Warn,
}

impl FailOn {
    /// Whether a finding of this status fails the gate.
    pub fn trips(self, status: Status) -> bool {
        let least = match self {
            FailOn::Fail => Status::Fail,
            FailOn::Error => Status::Error,
            FailOn::Warn => Status::Warn,
        };
        status.badness() >= least.badness()
    }

    /// The findings of a report that fail the gate.
    pub fn tripped(self, report: &Report) -> impl Iterator<Item = &Finding> {
        report.findings.iter().filter(move |f| self.trips(f.status))
    }

    /// The name as given to `--fail-on`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Fail => "fail",
            FailOn::Error => "error",
            FailOn::Warn => "warn",
        }
    }
}

impl std::str::FromStr for FailOn {
    type Err = Error;
    fn from_str(s: &str) -> Result<FailOn, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fail" => Ok(FailOn::Fail),
            "error" => Ok(FailOn::Error),
            "warn" => Ok(FailOn::Warn),
            other => Err(Error::BadOption(format!(
                "--fail-on {other:?}: expected fail, error or warn"
            ))),
        }
    }
}

/// What a command ended with.
#[derive(Clone, Copy)]
pub enum Outcome<'a> {
    /// A scorecard (`probe`, `listen`): exit 1 on any `fail`.
    Report(&'a Report),
    /// A scorecard gated by `--fail-on`: exit 1 on any finding the threshold trips.
    Gate(&'a Report, FailOn),
    /// `probe -f`: each target's own code; the worst wins (3 > 2 > 1 > 0).
    Batch(&'a [u8]),
    /// `diff`: the changes between two reports.
    Diff(&'a Diff),
    /// `verify-identity`: whether every Identity of the request is fully valid.
    Identity {
        /// [`crate::stir::RequestIdentity::all_valid`].
        all_valid: bool,
    },
    /// What stopped a command before it had anything to judge.
    Error(&'a Error),
    /// A command that only prints (completions, the man page, the list of findings).
    Printed,
}

/// The exit code of an outcome.
pub fn code(outcome: Outcome<'_>) -> u8 {
    match outcome {
        Outcome::Report(r) => code(Outcome::Gate(r, FailOn::Fail)),
        Outcome::Gate(r, _) if r.incomplete.is_some() => INCOMPLETE,
        Outcome::Gate(r, on) if on.tripped(r).next().is_some() => FAIL,
        Outcome::Gate(..) => OK,
        Outcome::Batch(codes) => codes.iter().copied().max().unwrap_or(OK),
        Outcome::Diff(d) if d.worse() => FAIL,
        Outcome::Diff(_) => OK,
        Outcome::Identity { all_valid } if all_valid => OK,
        Outcome::Identity { .. } => FAIL,
        // A name that does not resolve is a finding about the target, not a misuse of the tool.
        Outcome::Error(Error::Resolve { .. }) => INCOMPLETE,
        Outcome::Error(_) => USAGE,
        Outcome::Printed => OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_only_ever_adds_statuses_that_fail() {
        for on in [FailOn::Fail, FailOn::Error, FailOn::Warn] {
            assert!(on.trips(Status::Fail));
            for s in [Status::Pass, Status::Info, Status::Skipped] {
                assert!(!on.trips(s), "{s} never fails a gate");
            }
        }
        assert!(!FailOn::Fail.trips(Status::Error));
        assert!(FailOn::Error.trips(Status::Error) && !FailOn::Error.trips(Status::Warn));
        assert!(FailOn::Warn.trips(Status::Warn) && FailOn::Warn.trips(Status::Blocked));
        assert!("bogus".parse::<FailOn>().is_err());
    }
}
