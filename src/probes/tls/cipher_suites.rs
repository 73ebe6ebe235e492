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
    let (mut insecure, mut weak): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    let mut total = 0;
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
            let bucket = match c.grade {
                Grade::Insecure => Some(&mut insecure),
                Grade::Weak => Some(&mut weak),
                _ => None,
            };
            if let Some(b) = bucket
                && !b.contains(&n)
            {
                b.push(n.clone());
            }
            entry.classification.insert(n, c);
        }
        total += entry.suites.len();
        d.versions.insert(v.label().to_string(), entry);
    }
    let status = match worst {
        Grade::Insecure => Status::Fail,
        Grade::Weak => Status::Warn,
        _ => Status::Pass,
    };
    let order: Vec<String> = r
        .suites
        .iter()
        .map(|(v, l)| {
            format!(
                "{} {}{}",
                v.label(),
                l.suites.len(),
                match l.server_order {
                    Some(true) => " server order",
                    Some(false) => " client order",
                    None => "",
                }
            )
        })
        .collect();
    let summary = format!(
        "{total} suites accepted ({}); {} insecure, {} weak; {} hellos",
        order.join(", "),
        insecure.len(),
        weak.len(),
        r.connections
    );
    ids::TLS_CIPHER_SUITES
        .finding(status, summary)
        .with_details(&d)
}
