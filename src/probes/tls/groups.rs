//! `tls.groups`: the key-exchange groups accepted, and DHE prime sizes.

use crate::findings::ids;
use crate::findings::tls::GroupsDetails;
use crate::findings::{Finding, Status};
use crate::tls::groups;
use crate::tls::scan::ScanResult;

/// A DHE prime under 1024 bits is a fail; a weak group or one under 2048 bits a warn.
pub(super) fn judge(r: &ScanResult) -> Finding {
    let g = &r.groups;
    let names: Vec<String> = g.groups.iter().map(|c| groups::name(*c)).collect();
    let d = GroupsDetails {
        method: g.method.clone(),
        weak: g
            .groups
            .iter()
            .filter(|c| groups::weak(**c))
            .map(|c| groups::name(*c))
            .collect(),
        post_quantum: names
            .iter()
            .filter(|n| n.contains("MLKEM") || n.contains("Kyber"))
            .cloned()
            .collect(),
        groups: names,
        dh_bits: g.dh_bits.clone(),
        error: None,
    };
    let small_dh: Vec<usize> = g.dh_bits.iter().copied().filter(|b| *b < 2048).collect();
    let status = if g.method.is_none() {
        Status::Info
    } else if small_dh.iter().any(|b| *b < 1024) {
        Status::Fail
    } else if !d.weak.is_empty() || !small_dh.is_empty() {
        Status::Warn
    } else if d.groups.is_empty() {
        Status::Info
    } else {
        Status::Pass
    };
    let summary = if g.method.is_none() {
        "no version allowed a group test".to_string()
    } else {
        format!(
            "groups {}{}{}",
            if d.groups.is_empty() {
                "none found".to_string()
            } else {
                d.groups.join(", ")
            },
            if g.dh_bits.is_empty() {
                String::new()
            } else {
                format!("; DHE primes of {:?} bits", g.dh_bits)
            },
            if d.post_quantum.is_empty() {
                "; no post-quantum hybrid"
            } else {
                ""
            }
        )
    };
    ids::TLS_GROUPS.finding(status, summary).with_details(&d)
}
