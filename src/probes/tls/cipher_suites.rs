//! `tls.cipher_suites`: every accepted suite per version, in the server's order, classed by RFC 9325.

use crate::findings::ids;
use crate::findings::tls::{CipherSuitesDetails, Grade, SuiteList};
use crate::findings::{Finding, Status};
use crate::tls::scan::ScanResult;
use crate::tls::suites;

/// The worst class decides: an insecure suite accepted is a fail, a weak one a warn.
pub(super) fn judge(r: &ScanResult) -> Finding {
    let mut d = CipherSuitesDetails::default();
    let mut worst = Grade::Recommended;
    for (v, list) in &r.suites {
        let names: Vec<String> = list.suites.iter().map(|c| suites::name(*c)).collect();
        let mut entry = SuiteList {
            server_order: list.server_order.unwrap_or(false),
            order_tested: list.server_order.is_some(),
            suites: names.clone(),
            classification: Default::default(),
        };
        for n in names {
            let c = suites::classify(&n);
            worst = worst.min(c.grade);
            entry.classification.insert(n, c);
        }
        d.versions.insert(v.label().to_string(), entry);
    }
    let status = match worst {
        Grade::Insecure => Status::Fail,
        Grade::Weak => Status::Warn,
        _ => Status::Pass,
    };
    // One counting unit everywhere: distinct suites, named in the sentence (the answer sheet says the same).
    // The insecure suites are named (IANA and OpenSSL names): what a carrier must remove.
    let t = d.tally();
    let summary = match t.to_remove() {
        Some(remove) => format!("{}; {remove}; {} hellos", t.sentence(), r.connections),
        None => format!("{}; {} hellos", t.sentence(), r.connections),
    };
    ids::TLS_CIPHER_SUITES
        .finding(status, summary)
        .with_details(&d)
}
