//! One dispatch over the `tls.*` findings whose judging lives beside their details type: the
//! baseline diff and the answer sheet call these instead of naming ids. When the finding contract
//! lands, each arm becomes that finding's contract entry.

use super::verdict::Kind;
use crate::findings::{Finding, ids};

/// Reads both sides as `D` and applies `f`; `None` when either side cannot be read.
fn both<D: serde::Serialize + serde::de::DeserializeOwned>(
    id: crate::findings::FindingId<D>,
    old: &Finding,
    new: &Finding,
    f: impl Fn(&D, &D) -> Vec<(Kind, String)>,
) -> Option<Vec<(Kind, String)>> {
    match (id.read(old), id.read(new)) {
        (Ok(a), Ok(b)) => Some(f(&a, &b)),
        (Err(e), _) => Some(vec![(
            Kind::NotComparable,
            format!("the baseline report's details cannot be compared: {e}"),
        )]),
        (_, Err(e)) => Some(vec![(
            Kind::NotComparable,
            format!("the new report's details cannot be compared: {e}"),
        )]),
    }
}

/// Detail changes between two measured findings of the same id and endpoint; `None` for ids this
/// module does not judge.
pub fn changes(old: &Finding, new: &Finding) -> Option<Vec<(Kind, String)>> {
    match new.id.as_str() {
        id if id == ids::TLS_EXTENSIONS.id => {
            both(ids::TLS_EXTENSIONS, old, new, |a, b| a.changes(b))
        }
        id if id == ids::TLS_RESUMPTION.id => {
            both(ids::TLS_RESUMPTION, old, new, |a, b| a.changes(b))
        }
        id if id == ids::TLS_EARLY_DATA.id => {
            both(ids::TLS_EARLY_DATA, old, new, |a, b| a.changes(b))
        }
        id if id == ids::TLS_HEARTBLEED.id => {
            both(ids::TLS_HEARTBLEED, old, new, |a, b| a.changes(b))
        }
        id if id == ids::TLS_SNI.id => both(ids::TLS_SNI, old, new, |a, b| a.changes(b)),
        id if id == ids::TLS_PROFILE.id => both(ids::TLS_PROFILE, old, new, |a, b| a.changes(b)),
        _ => None,
    }
}

/// The finding's own sentence for a seed question, if it has one.
pub fn answer(question: u8, f: &Finding) -> Option<String> {
    match f.id.as_str() {
        id if id == ids::TLS_EXTENSIONS.id => ids::TLS_EXTENSIONS.read(f).ok()?.answer(question),
        id if id == ids::TLS_RESUMPTION.id => ids::TLS_RESUMPTION.read(f).ok()?.answer(question),
        id if id == ids::TLS_EARLY_DATA.id => ids::TLS_EARLY_DATA.read(f).ok()?.answer(question),
        id if id == ids::TLS_HEARTBLEED.id => ids::TLS_HEARTBLEED.read(f).ok()?.answer(question),
        id if id == ids::TLS_SNI.id => ids::TLS_SNI.read(f).ok()?.answer(question),
        id if id == ids::TLS_PROFILE.id => ids::TLS_PROFILE.read(f).ok()?.answer(question),
        _ => None,
    }
}
