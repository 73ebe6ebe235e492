//! The one error type of the crate.
//!
//! Errors are for the tool itself (a bad target, a bad flag, an unreadable file). What a *trunk* does
//! wrong is never an `Error`: it is a [`Finding`](crate::report::Finding) with a status.

use std::io;

/// Everything that can stop sipcheck from producing a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The target string could not be understood.
    #[error("bad target {input:?}: {reason}")]
    BadTarget { input: String, reason: String },
    /// A command-line value that parsed but makes no sense.
    #[error("bad option: {0}")]
    BadOption(String),
    /// A data file (catalog, policy, questions, report) that could not be read or understood.
    #[error("{path}: {reason}")]
    BadFile { path: String, reason: String },
    /// Name resolution found nothing to probe.
    #[error("cannot resolve {name}: {reason}")]
    Resolve { name: String, reason: String },
    /// A local I/O failure (not a peer's fault).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
