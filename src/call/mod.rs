//! Placing test calls: who may be called, how many calls a run may place, and the INVITE dialog
//! itself ([`leg`]).
//!
//! A call costs the trunk owner money and rings a phone, so nothing here dials unless the user named the
//! destination (`--call-to`) and allowed calls (`--allow-calls`); every call counts against a run-wide
//! bound (`--max-calls`), calls never overlap (but for the two calls of an attended transfer, held under
//! one turn), and every call is torn down before the probe moves on.

pub mod leg;
pub mod place;
pub mod refer;
pub mod transfer;

pub use leg::{CallLeg, InviteOptions, InviteOutcome, Teardown};
pub use place::{After, Offer, Placed, place, place_then};
pub use refer::ReferOutcome;

pub use crate::probe::CallPolicy;

/// Checks a `--caller-id`: a SIP user part of unreserved characters (RFC 3261 §25.1), so it can go
/// into From and Contact unescaped.
pub fn valid_caller_id(s: &str) -> Result<String, String> {
    let t = s.trim();
    let ok = !t.is_empty()
        && t.len() <= 64
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-_.!~*'()".contains(c));
    if ok {
        Ok(t.to_string())
    } else {
        Err(format!(
            "--caller-id {s:?}: give a number or user name (letters, digits and +-_.!~*'(), at most 64)"
        ))
    }
}

/// Checks a `--refer-to`: it goes into a `Refer-To` header, so no whitespace, control characters,
/// angle brackets or quotes.
pub fn valid_refer_to(s: &str) -> Result<String, String> {
    let t = s.trim();
    let ok = !t.is_empty()
        && t.len() <= 256
        && !t
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"".contains(c));
    if ok {
        Ok(t.to_string())
    } else {
        Err(format!(
            "--refer-to {s:?}: give a number or a sip: URI (no spaces, <, > or quotes; at most 256 characters)"
        ))
    }
}

/// The Request-URI for `--call-to`: a full URI as given, else `sip:USER@host:port`.
pub fn request_uri(call_to: &str, host: &str, port: u16) -> String {
    let t = call_to.trim();
    if t.starts_with("sip:") || t.starts_with("sips:") || t.starts_with("tel:") {
        t.to_string()
    } else {
        format!("sip:{t}@{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::digest::Credentials;

    #[test]
    fn gating_and_budget() {
        let mut p = CallPolicy::default();
        assert!(p.permitted().is_err());
        p.call_to = Some("bob".into());
        assert!(p.permitted().unwrap_err().contains("--allow-calls"));
        p.allow = true;
        assert_eq!(p.permitted(), Ok("bob"));
        p.max_calls = 2;
        let mut q = p.clone();
        assert!(p.take_call());
        assert!(q.take_call());
        assert!(!p.take_call());
        assert_eq!(q.placed(), 2);
        q.max_calls = 3;
        assert!(!q.take_calls(2), "one call left, two asked");
        assert!(q.take_calls(1));
        assert_eq!(
            request_uri("bob", "127.0.0.1", 5060),
            "sip:bob@127.0.0.1:5060"
        );
        assert_eq!(request_uri("sip:x@y", "h", 1), "sip:x@y");
    }

    #[test]
    fn the_calling_user_is_the_caller_id_else_the_account_user() {
        let mut p = CallPolicy::default();
        assert_eq!(p.calling_user(), "sipcheck");
        p.credentials = Some(Credentials::new("alice", "pw"));
        assert_eq!(p.calling_user(), "alice");
        p.caller_id = Some("+15551234567".into());
        assert_eq!(p.calling_user(), "+15551234567");
        assert_eq!(valid_caller_id(" +1555 ").unwrap(), "+1555");
        for bad in ["", "a b", "x@y", "<sip:x>", "a;b", &"9".repeat(65)] {
            assert!(valid_caller_id(bad).is_err(), "{bad:?}");
        }
        assert_eq!(valid_refer_to(" sip:carol@x ").unwrap(), "sip:carol@x");
        for bad in ["", "sip:a b@x", "sip:x>\r\nVia: evil", "<sip:x>", "\"x\""] {
            assert!(valid_refer_to(bad).is_err(), "{bad:?}");
        }
    }
}
