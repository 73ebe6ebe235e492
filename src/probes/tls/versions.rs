//! `tls.versions`: which protocol versions were accepted, and how the others were refused.

use crate::findings::ids;
use crate::findings::tls::{VersionOutcome, VersionsDetails};
use crate::report::{Finding, Status};
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
                        refusal: res.refusal.clone(),
                    },
                )
            })
            .collect(),
        error: None,
    };
    let acc = r.accepted();
    let names = |vs: &[Version]| vs.iter().map(|v| v.label()).collect::<Vec<_>>().join(", ");
    let refused: Vec<String> = r
        .versions
        .iter()
        .filter(|(_, x)| !x.accepted)
        .map(|(v, x)| format!("{} ({})", v.label(), x.refusal.clone().unwrap_or_default()))
        .collect();
    let bad: Vec<Version> = acc.iter().copied().filter(|v| v.deprecated()).collect();
    let status = if acc.is_empty() || !bad.is_empty() {
        Status::Fail
    } else {
        Status::Pass
    };
    let summary = if acc.is_empty() {
        format!("no TLS version accepted; refused {}", refused.join(", "))
    } else if !bad.is_empty() {
        format!(
            "accepts {} including {} which RFC 9325/RFC 8996 forbid; refuses {}",
            names(&acc),
            names(&bad),
            refused.join(", ")
        )
    } else {
        format!("accepts {}; refuses {}", names(&acc), refused.join(", "))
    };
    ids::TLS_VERSIONS.finding(status, summary).with_details(&d)
}
