//! `tls.mismatch`: how hellos below the minimum version are refused, RFC 7507 fallback protection and
//! the RFC 8446 downgrade sentinel.

use crate::findings::ids;
use crate::findings::tls::{DowngradeSentinel, FallbackScsv, MismatchDetails};
use crate::findings::{Finding, Status};
use crate::tls::answer::Answer;
use crate::tls::scan::ScanResult;

/// An ignored SCSV or a missing sentinel is a fail; a refusal without an alert is a warn.
pub(super) fn judge(r: &ScanResult) -> Finding {
    let min = r.accepted().first().copied();
    let mut d = MismatchDetails {
        minimum_version: min.map(|v| v.label().to_string()),
        ..Default::default()
    };
    if let Some(min) = min {
        for (v, x) in r.versions.iter().filter(|(v, _)| **v < min) {
            let why = x.refusal.clone().unwrap_or_default();
            if !matches!(x.answer, Answer::Alert { .. }) {
                d.silent_refusals.push(format!("{} ({why})", v.label()));
            }
            d.below_minimum.insert(v.label().to_string(), why);
        }
    }
    let m = &r.mismatch;
    d.fallback_scsv = FallbackScsv {
        applicable: m.fallback_scsv_tested_with.is_some(),
        tested_with: m.fallback_scsv_tested_with.clone(),
        answer: m.fallback_scsv_answer.clone(),
        honoured: m.fallback_scsv_honoured,
        how: m.fallback_scsv_how.clone(),
    };
    d.downgrade_sentinel = DowngradeSentinel {
        applicable: !m.downgrade_sentinel.is_empty(),
        seen: m.downgrade_sentinel.clone(),
    };
    let mut problems = Vec::new();
    if m.fallback_scsv_honoured == Some(false) {
        problems.push(format!(
            "TLS_FALLBACK_SCSV ignored at {} (RFC 7507)",
            m.fallback_scsv_tested_with.clone().unwrap_or_default()
        ));
    }
    let missing: Vec<&String> = m
        .downgrade_sentinel
        .iter()
        .filter(|(_, s)| s.is_none())
        .map(|(v, _)| v)
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "no TLS 1.3 downgrade sentinel in the ServerHello.random of {missing:?} (RFC 8446 §4.1.3)"
        ));
    }
    let status = if !problems.is_empty() {
        Status::Fail
    } else if !d.silent_refusals.is_empty() {
        Status::Warn
    } else {
        Status::Pass
    };
    let fallback = match m.fallback_scsv_honoured {
        Some(true) => match &m.fallback_scsv_how {
            Some(how) => format!("TLS_FALLBACK_SCSV honoured ({how})"),
            None => "TLS_FALLBACK_SCSV honoured".to_string(),
        },
        Some(false) => "TLS_FALLBACK_SCSV ignored".to_string(),
        None if m.fallback_scsv_tested_with.is_some() => format!(
            "TLS_FALLBACK_SCSV answered {}{}",
            m.fallback_scsv_answer.clone().unwrap_or_default(),
            m.fallback_scsv_how
                .as_ref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default()
        ),
        None => "TLS_FALLBACK_SCSV not applicable (one version)".to_string(),
    };
    let below_text = if d.below_minimum.is_empty() {
        "no version below the minimum to test".to_string()
    } else {
        format!(
            "below {}: {}",
            min.map(|v| v.label()).unwrap_or("?"),
            d.below_minimum
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let summary = if problems.is_empty() {
        format!(
            "{below_text}; {fallback}{}",
            if m.downgrade_sentinel.is_empty() {
                ""
            } else {
                "; TLS 1.3 downgrade sentinel present"
            }
        )
    } else {
        format!("{}; {below_text}", problems.join("; "))
    };
    ids::TLS_MISMATCH.finding(status, summary).with_details(&d)
}
