//! The one error type of the crate.
//!
//! Errors are for the tool itself (a bad target, a bad flag, an unreadable file). What a *trunk* does
//! wrong is never an `Error`: it is a [`Finding`](crate::findings::Finding) with a status.

use std::io;

/// Everything that can stop sipcheck from producing a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The target string could not be understood.
    #[error("bad target {input:?}: {reason}")]
    BadTarget {
        /// The target as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A command-line value that parsed but makes no sense.
    #[error("bad option: {0}")]
    BadOption(String),
    /// A data file (catalog, policy, questions, report) that could not be read or understood.
    #[error("{path}: {reason}")]
    BadFile {
        /// The file as named.
        path: String,
        /// What is wrong with it (with `line:` when known).
        reason: String,
    },
    /// Name resolution found nothing to probe.
    #[error("cannot resolve {name}: {reason}")]
    Resolve {
        /// The name looked up.
        name: String,
        /// What the lookups found (NXDOMAIN, no usable SRV target, no answer).
        reason: String,
    },
    /// A local I/O failure (not a peer's fault).
    #[error("{context}: {source}")]
    Io {
        /// What sipcheck was doing.
        context: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// An [`Error::Io`] with what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
