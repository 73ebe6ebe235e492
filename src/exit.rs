//! The process exit code of every command, decided here and nowhere else (`docs/usage.md`, "Exit codes").

use crate::analysis::diff::Diff;
use crate::error::Error;
use crate::findings::{Report, Status};

/// The scan completed and nothing is `fail`.
pub const OK: u8 = 0;
/// At least one `fail` (a violated policy rule, anything worse than the baseline), a `diff` with
/// something worse, an Identity that is not fully valid.
pub const FAIL: u8 = 1;
/// A usage or tool error: bad target, bad flag, unreadable file. Nothing was measured.
pub const USAGE: u8 = 2;
/// Incomplete: no endpoint was found, the target was unreachable on every transport probed, or the
/// run was interrupted. The report is still written.
pub const INCOMPLETE: u8 = 3;

/// What a command ended with.
#[derive(Clone, Copy)]
pub enum Outcome<'a> {
    /// A scorecard (`probe`, `listen`).
    Report(&'a Report),
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
        Outcome::Report(r) if r.incomplete.is_some() => INCOMPLETE,
        Outcome::Report(r) if r.findings.iter().any(|f| f.status == Status::Fail) => FAIL,
        Outcome::Report(_) => OK,
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
