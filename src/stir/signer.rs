//! The signer of each Identity (certificate SPC, CN, subject, issuer, revocation) and the Rich Call
//! Data a request carried, as the finding details of `findings::stir` hold them.

use super::verify::{Check, IdentityResult, Outcome};
use super::{RequestIdentity, Verdict};
use crate::findings::stir::{RcdDetails, SignerDetails};

fn verdict_name(v: Verdict) -> String {
    match v {
        Verdict::Valid => "valid",
        Verdict::ChainNotVerified => "chain_not_verified",
        Verdict::Invalid => "invalid",
    }
    .to_string()
}

/// The signer of one verified Identity, compared with the carrier's own SPCs.
pub fn of(id: &IdentityResult, expected: &[String]) -> SignerDetails {
    let c = id.certificate.as_ref();
    let spc = c.and_then(|c| c.spc.clone());
    SignerDetails {
        own_certificate: SignerDetails::own(spc.as_deref(), expected),
        spc,
        cn_spc: c.and_then(|c| c.cn_spc.clone()),
        subject: c.map(|c| c.subject.clone()),
        issuer: c.map(|c| c.issuer.clone()),
        attestation: id.passport.as_ref().and_then(|p| p.attest.clone()),
        revocation: c.and_then(|c| c.revocation.clone()),
        verdict: Some(verdict_name(id.verdict)),
        expected_spc: expected.to_vec(),
    }
}

/// The signer of the call: the first Identity that is not a `div` (the originating one).
pub fn of_call(r: &RequestIdentity) -> Option<SignerDetails> {
    r.signers.first().cloned()
}

/// Every Identity's signer, for the request's report.
pub fn all(
    ids: &[IdentityResult],
    expected: &[String],
) -> Vec<crate::findings::stir::SignerDetails> {
    let mut v: Vec<&IdentityResult> = ids.iter().filter(|i| i.passport.is_some()).collect();
    // The originating shaken PASSporT first, then rcd; div PASSporTs are signed by whoever
    // retargeted the call.
    v.sort_by_key(|i| match i.ppt() {
        "shaken" => 0,
        "div" => 2,
        _ => 1,
    });
    v.into_iter().map(|i| of(i, expected)).collect()
}

/// The RCD of a delivered request: the first Identity with an `rcd` claim, and Call-Info RCD.
pub fn rcd(case: &str, r: &RequestIdentity) -> RcdDetails {
    let with = r.identities.iter().find(|i| i.rcd.is_some());
    let integrity = with.and_then(|i| {
        i.checks
            .iter()
            .find(|c| c.check == Check::RcdIntegrity && c.outcome != Outcome::Skipped)
    });
    RcdDetails {
        case: case.to_string(),
        nam: with
            .and_then(|i| i.rcd.as_ref())
            .and_then(|x| x.nam.clone()),
        displayed_name: r.displayed_name.clone(),
        integrity: integrity.map(|c| c.detail.clone()),
        integrity_failed: integrity.is_some_and(|c| c.outcome == Outcome::Fail),
        call_info: r.call_info_rcd.iter().map(|c| c.uri.clone()).collect(),
    }
}

/// What the signer and RCD details add to a request's verdict: each judged sentence worse than
/// information (a failing or warning signer, a mismatched or failed RCD).
pub fn remarks(r: &RequestIdentity) -> Vec<(crate::findings::Status, String)> {
    use crate::findings::Status;
    let mut out = Vec::new();
    if let Some(s) = of_call(r) {
        let (j, t) = s.judge();
        if matches!(j, Status::Warn | Status::Fail) {
            out.push((j, t));
        }
    }
    let (j, t) = rcd("", r).judge();
    if matches!(j, Status::Warn | Status::Fail) {
        out.push((j, t));
    }
    out
}
