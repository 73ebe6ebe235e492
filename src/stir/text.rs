//! The plain-text rendering of a request's identity verification (`verify-identity`, `listen`).

use std::fmt::Write;

use super::{Outcome, RequestIdentity, Verdict};

/// Peer text with control characters shown as `\xNN`, so it cannot move a terminal's cursor.
fn clean(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                format!("\\x{:02x}", c as u32).chars().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

pub fn verdict_line(r: &RequestIdentity) -> String {
    let Some(first) = r.first() else {
        return "no Identity".into();
    };
    let att = first
        .passport
        .as_ref()
        .and_then(|p| p.attest.clone())
        .map(|a| format!(", attestation {}", clean(&a)))
        .unwrap_or_default();
    match (&first.verdict, &first.failure) {
        (_, Some(f)) => format!(
            "invalid: {} failed ({} {}): {}{att}",
            f.check.id(),
            f.code,
            f.reason,
            clean(&f.detail)
        ),
        (Verdict::ChainNotVerified, None) => {
            format!("signature valid, chain not verified: no STI roots given{att}")
        }
        _ => format!("valid{att}"),
    }
}

/// The terminal report of `verify-identity`: each Identity header and its checks.
pub fn render(r: &RequestIdentity) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "caller {}  called {}",
        clean(r.caller.as_deref().unwrap_or("?")),
        clean(r.called.as_deref().unwrap_or("?"))
    );
    for id in &r.identities {
        let one = RequestIdentity {
            identities: vec![id.clone()],
            carrier: Vec::new(),
            ..r.clone()
        };
        let _ = writeln!(s, "Identity #{}: {}", id.index + 1, verdict_line(&one));
        for c in &id.checks {
            let mark = match c.outcome {
                Outcome::Pass => "pass",
                Outcome::Warn => "warn",
                Outcome::Fail => "FAIL",
                Outcome::Skipped => "skip",
            };
            let _ = writeln!(s, "  {mark:<4} {:<17} {}", c.check.id(), clean(&c.detail));
        }
    }
    if r.not_verified > 0 {
        let _ = writeln!(s, "{} more Identity headers not verified", r.not_verified);
    }
    for c in &r.carrier {
        let _ = writeln!(
            s,
            "carrier: {} {}={} (verified by the carrier, not by sipcheck)",
            clean(&c.header),
            clean(&c.name),
            clean(&c.value)
        );
    }
    s
}
