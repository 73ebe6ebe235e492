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

/// `key `x`: why`, unless `why` names the key already: how a user file's errors name the key.
pub fn keyed(key: &str, why: String) -> String {
    if key.is_empty() || why.contains(key) {
        why
    } else {
        format!("key `{key}`: {why}")
    }
}

/// The line and the one-line reason of a TOML error in a user's file (a policy, a catalog case),
/// naming the key written on that line and, for an unquoted word (where the TOML parser says
/// "invalid boolean" or "string values must be quoted"), the type the key takes:
/// `key `min_tls_version`: expected a string, found TLSv1.2`. `expected(section, key, word)` says
/// that type in words.
pub fn toml_reason(
    text: &str,
    e: &toml::de::Error,
    expected: &dyn Fn(&str, &str, &str) -> &'static str,
) -> (usize, String) {
    let message = e.message().trim().replace('\n', " ");
    let line = e
        .span()
        .map(|s| {
            let before = &text.as_bytes()[..s.start.min(text.len())];
            before.iter().filter(|b| **b == b'\n').count() + 1
        })
        .unwrap_or(1);
    let lines: Vec<&str> = text.lines().collect();
    let Some((key, value)) = lines
        .get(line.saturating_sub(1))
        .and_then(|l| l.split_once('='))
    else {
        return (line, message);
    };
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    let value = value.split(" #").next().unwrap_or_default().trim();
    let section = lines
        .get(..line.saturating_sub(1))
        .unwrap_or_default()
        .iter()
        .rev()
        .find_map(|l| l.trim().strip_prefix('[')?.strip_suffix(']'))
        .unwrap_or("");
    let bare = !value.is_empty()
        && !value.starts_with(['"', '\'', '[', '{'])
        && value.parse::<f64>().is_err()
        && value != "true"
        && value != "false";
    if !bare || key.is_empty() {
        return (line, keyed(key, message));
    }
    let takes = expected(section, key, value);
    let reason = if takes.contains("string") {
        format!("key `{key}`: expected {takes}, found {value} (a string is quoted: \"{value}\")")
    } else {
        format!("key `{key}`: expected {takes}, found {value}")
    };
    (line, reason)
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
