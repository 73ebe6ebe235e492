//! STIR/SHAKEN on the far side of a call: verifying the Identity headers of a request the trunk
//! delivered, and reading what the carrier says it verified.
//!
//! [`verify_request`] runs the full ordered list of [`verify::Check`]s on every Identity header
//! (`shaken`, `div` and `rcd` PASSporTs), fetching each x5u certificate, the CRLs its distribution
//! points name ([`crl`]) and RCD content ([`rcd`]) through a per-run [`x5u::X5uFetcher`] that connects
//! only to public addresses ([`public_addr`]). [`profile`] holds the ATIS-1000080 certificate lints,
//! [`signer`] who signed each Identity (SPC, certificate, revocation, `--expect-spc`). A request
//! without Identity gets one result failing [`verify::Check::Present`] (428).
//! [`carrier::indications`] finds `verstat` and vendor headers: the carrier's own verdict, which
//! sipcheck reports but did not check.

pub mod carrier;
pub mod cert;
pub mod crl;
pub mod passport;
pub mod profile;
pub mod public_addr;
pub mod rcd;
mod setup;
pub mod signer;
pub mod text;
pub mod verify;
pub mod x5u;

use serde::{Deserialize, Serialize};

pub use carrier::CarrierIndication;
pub use setup::saved_request;
pub use verify::{Check, IdentityResult, Outcome, Verdict, VerifyContext};
pub use x5u::X5uFetcher;

use crate::sip::Message;

/// Identity headers verified per request at most; more are listed as not verified.
pub const MAX_IDENTITIES: usize = 8;

/// Everything sipcheck can say about one request's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestIdentity {
    /// The caller number compared with `orig.tn` (P-Asserted-Identity, else From), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    /// The called number compared with `dest.tn` (To), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called: Option<String>,
    /// One result per Identity header (one failing `present` when there is none).
    pub identities: Vec<IdentityResult>,
    /// Identity headers past [`MAX_IDENTITIES`], not verified.
    #[serde(default)]
    pub not_verified: usize,
    /// Verified by the carrier, not by sipcheck.
    pub carrier: Vec<CarrierIndication>,
    /// The name the far end displays (P-Asserted-Identity, else From display-name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub displayed_name: Option<String>,
    /// Rich Call Data sent as Call-Info (RFC 9796), not signed unless an `rcdi` covers it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub call_info_rcd: Vec<rcd::CallInfoRcd>,
    /// Who signed each decodable Identity (the originating one first), compared with
    /// `--expect-spc`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<crate::findings::stir::SignerDetails>,
}

impl RequestIdentity {
    /// True when there is at least one Identity and every one is fully valid.
    pub fn all_valid(&self) -> bool {
        self.not_verified == 0
            && !self.identities.is_empty()
            && self.identities.iter().all(|i| i.verdict == Verdict::Valid)
    }

    /// The first Identity's result (the one that carries the call's attestation).
    pub fn first(&self) -> Option<&IdentityResult> {
        self.identities.first()
    }

    /// Whether a signer check the user asked for (`--expect-spc`) or revocation failed.
    pub fn signer_failed(&self) -> bool {
        self.signers
            .iter()
            .any(|s| s.judge().0 == crate::findings::Status::Fail)
    }

    /// The attestation the carrier's own indication states, if any.
    pub fn carrier_attestation(&self) -> Option<&str> {
        self.carrier.iter().find_map(|c| c.attestation.as_deref())
    }
}

/// Verifies every Identity header of `msg` (bounded by [`MAX_IDENTITIES`]).
pub async fn verify_request(msg: &Message, ctx: &VerifyContext) -> RequestIdentity {
    let values: Vec<&str> = msg.headers_named("Identity").collect();
    let mut identities = Vec::new();
    for (i, v) in values.iter().take(MAX_IDENTITIES).enumerate() {
        identities.push(verify::verify_one(i, v, msg, ctx).await);
    }
    if identities.is_empty() {
        identities.push(verify::absent());
    }
    let signers = signer::all(&identities, &ctx.expect_spc);
    RequestIdentity {
        signers,
        caller: verify::caller_number(msg),
        called: verify::called_number(msg),
        identities,
        not_verified: values.len().saturating_sub(MAX_IDENTITIES),
        carrier: carrier::indications(msg),
        displayed_name: rcd::displayed_name(msg),
        call_info_rcd: rcd::call_info(msg),
    }
}
