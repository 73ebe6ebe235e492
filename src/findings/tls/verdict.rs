//! The small shared vocabulary of the `tls.*` findings' pure judging functions: a verdict with its
//! summary, a detail change for the baseline diff, and a policy rule's reading. Each finding's
//! `judge`, `changes`, `answer` and policy functions live beside its details type and speak these.

use crate::findings::Status;

pub use crate::findings::run::Kind;

/// A finding's status and one-line summary.
pub type Verdict = (Status, String);

/// What a policy rule reads from one finding: `Ok(Ok(fact))` holds, `Ok(Err(violation))` is violated,
/// `Err(why)` when the details cannot tell.
pub type RuleCheck = Result<Result<String, String>, String>;

/// A yes/no fact that changed between two reports: worse when it turned `bad_when`.
pub fn flip(
    old: Option<bool>,
    new: Option<bool>,
    bad_when: bool,
    turned_on: &str,
    turned_off: &str,
) -> Option<(Kind, String)> {
    match (old, new) {
        (Some(a), Some(b)) if a != b => {
            let kind = if b == bad_when {
                Kind::Worse
            } else {
                Kind::Better
            };
            Some((kind, if b { turned_on } else { turned_off }.to_string()))
        }
        _ => None,
    }
}

/// `yes` / `no` / `not measured`.
pub fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not measured",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flips_are_worse_toward_the_bad_side_only() {
        assert_eq!(
            flip(Some(false), Some(true), true, "on", "off").unwrap().0,
            Kind::Worse
        );
        assert_eq!(
            flip(Some(true), Some(false), true, "on", "off").unwrap().0,
            Kind::Better
        );
        assert_eq!(
            flip(Some(true), Some(false), false, "on", "off").unwrap(),
            (Kind::Worse, "off".into())
        );
        assert!(flip(None, Some(true), true, "on", "off").is_none());
        assert!(flip(Some(true), Some(true), true, "on", "off").is_none());
    }
}
