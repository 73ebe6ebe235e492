//! `tls.versions`: which protocol versions were accepted, and how the others were refused. SSLv2
//! (its own hello, see `crate::tls::sslv2`) is judged with the others: accepted is a fail (DROWN).

use crate::findings::ids;
use crate::findings::tls::{VersionOutcome, VersionsDetails};
use crate::findings::{Finding, Status};
use crate::tls::scan::ScanResult;
use crate::tls::version::Version;

/// RFC 8996 and RFC 9325 §3.1: anything below TLS 1.2 accepted is a fail, and so is accepting nothing.
pub(super) fn judge(r: &ScanResult) -> Finding {
    let d = VersionsDetails {
        versions: r
            .versions
            .iter()
            .map(|(v, res)| {
                (
                    v.label().to_string(),
                    VersionOutcome {
                        accepted: res.accepted,
                        refusal: not_judged(r, v.label(), &res.refusal),
                        ciphers: Vec::new(),
                    },
                )
            })
            .chain(r.sslv2.iter().map(|x| {
                (
                    Version::Ssl2.label().to_string(),
                    VersionOutcome {
                        accepted: x.accepted,
                        refusal: not_judged(r, Version::Ssl2.label(), &x.refusal),
                        ciphers: x.ciphers.clone(),
                    },
                )
            }))
            .collect(),
        error: None,
    };
    let mut acc = r.accepted();
    if r.sslv2.as_ref().is_some_and(|x| x.accepted) {
        acc.insert(0, Version::Ssl2);
    }
    let names = |vs: &[Version]| vs.iter().map(|v| v.label()).collect::<Vec<_>>().join(", ");
    let refused: Vec<String> = d
        .versions
        .iter()
        .filter(|(label, _)| !r.unjudged(label))
        .filter_map(|(label, x)| Some((Version::from_label(label)?, x)))
        .filter(|(_, x)| !x.accepted)
        .map(|(v, x)| {
            (
                v,
                format!("{} ({})", v.label(), x.refusal.clone().unwrap_or_default()),
            )
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_values()
        .collect();
    let bad: Vec<Version> = acc.iter().copied().filter(|v| v.deprecated()).collect();
    let status = if acc.is_empty() || !bad.is_empty() {
        Status::Fail
    } else {
        Status::Pass
    };
    let refuses = if refused.is_empty() {
        String::new()
    } else {
        format!("; refuses {}", refused.join(", "))
    };
    let summary = if acc.is_empty() {
        format!("no TLS version accepted; refused {}", refused.join(", "))
    } else if acc.contains(&Version::Ssl2) {
        format!(
            "accepts {} including SSLv2, which RFC 6176 prohibits (a server speaking SSLv2 exposes its RSA key to DROWN, CVE-2016-0800, even for TLS sessions){}{refuses}",
            names(&acc),
            if bad.len() > 1 {
                format!(", and {} which RFC 9325/RFC 8996 forbid", names(&bad[1..]))
            } else {
                String::new()
            },
        )
    } else if !bad.is_empty() {
        format!(
            "accepts {} including {} which RFC 9325/RFC 8996 forbid{refuses}",
            names(&acc),
            names(&bad),
        )
    } else {
        format!("accepts {}{refuses}", names(&acc))
    };
    let summary = if r.unconfirmed.is_empty() {
        summary
    } else {
        format!(
            "{summary}; not judged: {} (the connection dropped, and the target then stopped answering)",
            r.unconfirmed.join(", ")
        )
    };
    ids::TLS_VERSIONS.finding(status, summary).with_details(&d)
}

/// The refusal as recorded, marked when the scan could not tell it from a target that had begun
/// dropping connections.
fn not_judged(r: &ScanResult, label: &str, refusal: &Option<String>) -> Option<String> {
    let refusal = refusal.clone()?;
    Some(if r.unjudged(label) {
        format!("{refusal} (not judged: the target stopped answering)")
    } else {
        refusal
    })
}
