//! What a case expects, what the trunk did, and the verdict that compares them.

use std::fmt;

/// One acceptable reaction, as written in a case file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this status code (`400`).
    Code(u16),
    /// Any code of a class (`4xx` or `any-4xx`).
    Class(u16),
    /// No answer at all, or the stream connection closed/reset (`drop`).
    Drop,
    /// The message was understood and acted on: any final response that is not a parse-level
    /// rejection (`accept`).
    Accept,
    /// Any 4xx–6xx, or a drop (`reject`).
    Reject,
}

/// Final codes that say "I could not take this message as it is" rather than "I processed it".
const PARSE_REJECTIONS: &[u16] = &[400, 413, 414, 416, 505, 513];

impl Expect {
    pub fn parse(s: &str) -> Result<Expect, String> {
        let t = s.trim().to_ascii_lowercase();
        let t = t.strip_prefix("any-").unwrap_or(&t);
        match t {
            "drop" => return Ok(Expect::Drop),
            "accept" => return Ok(Expect::Accept),
            "reject" => return Ok(Expect::Reject),
            _ => {}
        }
        if let Some(c) = t.strip_suffix("xx")
            && let Ok(d @ 1..=6) = c.parse::<u16>()
        {
            return Ok(Expect::Class(d));
        }
        match t.parse::<u16>() {
            Ok(c @ 100..=699) => Ok(Expect::Code(c)),
            _ => Err(format!(
                "unknown expectation {s:?} (use a code like 400, a class like 4xx, drop, accept or reject)"
            )),
        }
    }

    /// Whether a reaction satisfies this expectation.
    pub fn matches(&self, r: &Reaction) -> bool {
        match (self, r) {
            (Expect::Code(c), Reaction::Response { code, .. }) => c == code,
            (Expect::Class(d), Reaction::Response { code, .. }) => code / 100 == *d,
            (Expect::Drop, Reaction::NoAnswer | Reaction::Closed(_)) => true,
            (Expect::Accept, Reaction::Response { code, .. }) => {
                *code >= 200 && !PARSE_REJECTIONS.contains(code)
            }
            (Expect::Reject, Reaction::Response { code, .. }) => *code >= 400,
            (Expect::Reject, Reaction::NoAnswer | Reaction::Closed(_)) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Code(c) => write!(f, "{c}"),
            Expect::Class(d) => write!(f, "{d}xx"),
            Expect::Drop => f.write_str("drop"),
            Expect::Accept => f.write_str("accept"),
            Expect::Reject => f.write_str("reject"),
        }
    }
}

/// What the trunk did with one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaction {
    /// A final response (or the last provisional one when no final came).
    Response { code: u16, reason: String },
    /// Nothing within the wait.
    NoAnswer,
    /// The stream connection was closed or reset (the detail says which).
    Closed(String),
    /// Bytes came back that are not a SIP response.
    Unparseable(String),
    /// We could not send the case (too large for the transport, connection refused, …).
    NotSent(String),
}

impl Reaction {
    pub fn is_2xx(&self) -> bool {
        matches!(
            self,
            Reaction::Response {
                code: 200..=299,
                ..
            }
        )
    }

    fn is_rejection(&self) -> bool {
        match self {
            Reaction::Response { code, .. } => PARSE_REJECTIONS.contains(code),
            Reaction::NoAnswer | Reaction::Closed(_) | Reaction::Unparseable(_) => true,
            Reaction::NotSent(_) => false,
        }
    }
}

impl fmt::Display for Reaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reaction::Response { code, reason } if reason.is_empty() => write!(f, "{code}"),
            Reaction::Response { code, reason } => write!(f, "{code} {reason}"),
            Reaction::NoAnswer => f.write_str("no answer"),
            Reaction::Closed(how) => write!(f, "connection {how}"),
            Reaction::Unparseable(why) => write!(f, "unparseable reply ({why})"),
            Reaction::NotSent(why) => write!(f, "not sent: {why}"),
        }
    }
}

pub use crate::findings::robustness::Verdict;

/// Compares a reaction with a case's expectations. `valid` says whether the message is a valid one
/// (which must be accepted) or an invalid one (which must not be).
pub fn classify(expect: &[Expect], valid: bool, r: &Reaction) -> Verdict {
    if let Reaction::NotSent(_) = r {
        return Verdict::NotSent;
    }
    if expect.iter().any(|e| e.matches(r)) {
        return Verdict::Expected;
    }
    if !valid && r.is_2xx() {
        return Verdict::AcceptedInvalid;
    }
    if valid && r.is_rejection() {
        return Verdict::RejectedValid;
    }
    Verdict::DifferentSafe
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(code: u16) -> Reaction {
        Reaction::Response {
            code,
            reason: "X".into(),
        }
    }

    #[test]
    fn parses_expectations() {
        assert_eq!(Expect::parse("400"), Ok(Expect::Code(400)));
        assert_eq!(Expect::parse("any-4xx"), Ok(Expect::Class(4)));
        assert_eq!(Expect::parse("5xx"), Ok(Expect::Class(5)));
        assert_eq!(Expect::parse("DROP"), Ok(Expect::Drop));
        assert_eq!(Expect::parse("accept"), Ok(Expect::Accept));
        for bad in ["", "99", "700", "9xx", "any-", "maybe", "4x"] {
            assert!(Expect::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching() {
        assert!(Expect::Code(483).matches(&resp(483)));
        assert!(!Expect::Code(483).matches(&resp(400)));
        assert!(Expect::Class(4).matches(&resp(420)));
        assert!(Expect::Drop.matches(&Reaction::NoAnswer));
        assert!(Expect::Drop.matches(&Reaction::Closed("closed".into())));
        assert!(!Expect::Drop.matches(&resp(400)));
        assert!(Expect::Accept.matches(&resp(200)));
        assert!(Expect::Accept.matches(&resp(404)));
        assert!(!Expect::Accept.matches(&resp(400)));
        assert!(!Expect::Accept.matches(&resp(180)));
        assert!(!Expect::Accept.matches(&Reaction::NoAnswer));
        assert!(Expect::Reject.matches(&resp(603)));
        assert!(!Expect::Reject.matches(&resp(202)));
    }

    #[test]
    fn verdicts() {
        let e400 = [Expect::Code(400)];
        assert_eq!(classify(&e400, false, &resp(400)), Verdict::Expected);
        assert_eq!(
            classify(&e400, false, &Reaction::NoAnswer),
            Verdict::DifferentSafe
        );
        assert_eq!(classify(&e400, false, &resp(404)), Verdict::DifferentSafe);
        assert_eq!(classify(&e400, false, &resp(200)), Verdict::AcceptedInvalid);
        let accept = [Expect::Accept];
        assert_eq!(classify(&accept, true, &resp(200)), Verdict::Expected);
        assert_eq!(classify(&accept, true, &resp(400)), Verdict::RejectedValid);
        assert_eq!(
            classify(&accept, true, &Reaction::NoAnswer),
            Verdict::RejectedValid
        );
        assert_eq!(
            classify(&e400, false, &Reaction::NotSent("too big".into())),
            Verdict::NotSent
        );
        // A 2xx that a case explicitly lists is expected, not "accepted invalid".
        assert_eq!(
            classify(&[Expect::Class(2)], false, &resp(200)),
            Verdict::Expected
        );
    }
}
