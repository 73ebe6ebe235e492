//! Details of the loop-call findings (`stir.attestation`, `spoof.*`, `spit.*`): what one loop call
//! sent, what the trunk answered, and what reached the listener.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::contract::{Contract, Read, Rule, RuleSpec, a_bool, always, on};
use super::{Report, Status};

/// One loop call (`stir.attestation`, `spoof.caller_id`, `spoof.asserted_identity`, `spit.anonymous`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct LoopCallDetails {
    /// `owned`, `spoofed_caller_id`, `spoofed_asserted_identity`, `anonymous` or `burst`.
    pub case: String,
    /// The From we sent.
    pub from: String,
    /// The extra headers we sent (`P-Asserted-Identity: …`, `Privacy: id`).
    pub headers: Vec<String>,
    /// The trunk's final answer to our INVITE (its first line).
    pub answer: Option<String>,
    /// Why the call was CANCELled, if it was.
    pub cancelled: Option<String>,
    pub error: Option<String>,
    /// Whether an INVITE for this call reached the listener.
    pub delivered: bool,
    /// The caller number the delivered INVITE named (P-Asserted-Identity, else From).
    pub delivered_caller: Option<String>,
    /// A, B or C: the PASSporT's `attest`, else the carrier's verstat.
    pub attestation: Option<String>,
    /// The first Identity's verdict: `valid`, `chain_not_verified` or `invalid`.
    pub verdict: Option<String>,
    /// Spoofing cases: whether the caller ID we do not own reached the far end as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spoof_went_through: Option<bool>,
    /// The full identity verification of the delivered INVITE (every check, the PASSporT, the
    /// certificate, the carrier's indications).
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub identity: Option<serde_json::Value>,
    pub elapsed_ms: u64,
}

/// `spit.call_rate`: the `--dos` burst.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CallRateDetails {
    pub calls: usize,
    pub delivered: usize,
    pub calls_per_second: f64,
    /// Each call's final answer, in order.
    pub answers: Vec<String>,
}

/// One answer that carried a blocking notice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Notice {
    pub case: String,
    pub answer: String,
    pub notices: Vec<String>,
}

/// `spit.blocking_notice`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct BlockingNoticeDetails {
    /// Answers looked at.
    pub answers: usize,
    pub notices: Vec<Notice>,
}

/// `stir.attestation`: the `min_owned_attestation` rule.
pub struct Attestation;

/// A SHAKEN attestation level, `A` (full) to `C` (gateway).
fn a_level(v: &serde_json::Value) -> Result<(), String> {
    match v.as_str() {
        Some("A" | "B" | "C") => Ok(()),
        Some(s) => Err(format!("unknown attestation {s:?} (expected A, B or C)")),
        None => Err(format!("unknown attestation {v} (expected A, B or C)")),
    }
}

impl Contract for Attestation {
    type Details = LoopCallDetails;

    fn policy_rules() -> Vec<Rule<LoopCallDetails>> {
        vec![Rule {
            spec: RuleSpec {
                name: "min_owned_attestation",
                questions: &[12],
                any: false,
                validate: a_level,
                active: always,
            },
            check: |setting, _, d| {
                let min = setting.as_str().unwrap_or("A");
                let valid = d.verdict.as_deref() == Some("valid");
                Ok(match d.attestation.as_deref() {
                    // "A" < "B" < "C": a letter at or before the minimum is enough.
                    Some(a) if a <= min && valid => Ok(format!(
                        "own number delivered with verified attestation {a}"
                    )),
                    Some(a) if a <= min => Err(format!(
                        "own number delivered with attestation {a}, but its Identity did not fully verify"
                    )),
                    Some(a) => Err(format!("own number delivered with attestation {a}")),
                    None if d.delivered => Err("own number delivered without attestation".into()),
                    None => return Err("the owned-number loop call was not delivered".into()),
                })
            },
        }]
    }
}

/// `spoof.caller_id` and `spoof.asserted_identity`: the `spoofed_calls_refused` rule.
pub struct Spoof;

impl Contract for Spoof {
    type Details = LoopCallDetails;

    fn policy_rules() -> Vec<Rule<LoopCallDetails>> {
        vec![Rule {
            spec: RuleSpec {
                name: "spoofed_calls_refused",
                questions: &[11],
                any: false,
                validate: a_bool,
                active: on,
            },
            check: |_, f, d| match d.spoof_went_through {
                Some(true) => Ok(Err(format!(
                    "`{}`: a caller ID we do not own went through",
                    f.id
                ))),
                Some(false) => Ok(Ok(format!("`{}`: refused or replaced", f.id))),
                None => Err(format!("`{}`: neither refused nor delivered", f.id)),
            },
        }]
    }
}

/// Who signed a call, as its certificate says (`stir.signer`, and beside each `listen.call` and
/// `verify-identity` result). FCC 24-120: since 2025-09-18 a provider may let a third party sign its
/// calls only with the provider's own SPC token certificate, so an SPC that is not the carrier's
/// (`--expect-spc`) means a third party signed with its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SignerDetails {
    /// The SPC of the certificate's TNAuthList (exactly one, or none).
    pub spc: Option<String>,
    /// The SPC its subject CN states (`SHAKEN <SPC>`).
    pub cn_spc: Option<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    /// A, B or C.
    pub attestation: Option<String>,
    /// `good`, `revoked` or `undetermined` (the STI-PA CRL).
    pub revocation: Option<String>,
    /// The Identity's verdict: `valid`, `chain_not_verified` or `invalid`.
    pub verdict: Option<String>,
    /// The carrier's own SPCs (`--expect-spc`); empty when not given.
    pub expected_spc: Vec<String>,
    /// Whether the signing SPC is one of `expected_spc`; `None` when either is unknown.
    pub own_certificate: Option<bool>,
}

impl SignerDetails {
    /// Whether `spc` is one of `expected` (`None` when either side is unknown).
    pub fn own(spc: Option<&str>, expected: &[String]) -> Option<bool> {
        let spc = spc?;
        (!expected.is_empty()).then(|| expected.iter().any(|e| e.eq_ignore_ascii_case(spc)))
    }

    /// The status and sentence of the signer: a revoked certificate or another provider's SPC
    /// fail; CN and TNAuthList disagreeing warns; the carrier's own SPC passes; an SPC with
    /// nothing to compare it with is information.
    pub fn judge(&self) -> (Status, String) {
        let who = self.describe();
        if self.spc.is_none() && self.subject.is_none() {
            return (Status::Info, "no signing certificate to read".into());
        }
        if self.revocation.as_deref() == Some("revoked") {
            return (Status::Fail, format!("{who}: the certificate is revoked"));
        }
        if self.own_certificate == Some(false) {
            return (
                Status::Fail,
                format!(
                    "{who}: not the carrier's own SPC ({}); a third party signed with its own certificate (FCC 24-120: since 2025-09-18 only the provider's own SPC token certificate may be used)",
                    self.expected_spc.join(", ")
                ),
            );
        }
        if let (Some(a), Some(b)) = (&self.spc, &self.cn_spc)
            && a != b
        {
            return (
                Status::Warn,
                format!("{who}: the CN names SPC {b}, the TNAuthList {a}"),
            );
        }
        match self.own_certificate {
            Some(true) => (Status::Pass, format!("{who}: the carrier's own SPC")),
            _ => (
                Status::Info,
                format!("{who} (give --expect-spc to check it is the carrier's own)"),
            ),
        }
    }

    fn describe(&self) -> String {
        let mut s = format!(
            "signed by SPC {}",
            self.spc.as_deref().unwrap_or("(none in TNAuthList)")
        );
        if let Some(a) = &self.attestation {
            s.push_str(&format!(", attestation {a}"));
        }
        if let Some(r) = &self.revocation {
            s.push_str(&format!(", revocation {r}"));
        }
        if let Some(i) = &self.issuer {
            s.push_str(&format!(", issued by {i}"));
        }
        s
    }

    /// Question 12's answer: who signed, with what, and whether it was the carrier's own.
    pub fn answer(&self) -> String {
        let own = match self.own_certificate {
            Some(true) => "; the carrier signed with its own certificate",
            Some(false) => "; NOT the carrier's own certificate (a third party signed)",
            None => "; own certificate not checked (no --expect-spc)",
        };
        format!("Delivered {}{own}.", self.describe())
    }

    /// Policy rule `own_spc_required`: `Ok(Ok(fact))`, `Ok(Err(violation))`, or `Err(why)` when the
    /// details cannot tell.
    pub fn own_spc_rule(&self) -> Result<Result<String, String>, String> {
        match (self.own_certificate, &self.spc) {
            (Some(true), Some(s)) => Ok(Ok(format!("signed with the carrier's own SPC {s}"))),
            (Some(false), Some(s)) => Ok(Err(format!(
                "signed with SPC {s}, not the carrier's ({})",
                self.expected_spc.join(", ")
            ))),
            (_, None) => Err("no signing SPC was read".into()),
            (None, _) => Err("no --expect-spc was given, so the SPC was not compared".into()),
        }
    }
}

/// `stir.rcd`: the Rich Call Data a delivered call carried (RFC 9795 `rcd`, RFC 9796 Call-Info),
/// and whether the name the far end displays is the signed one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RcdDetails {
    /// The loop-call case whose delivered INVITE this is.
    pub case: String,
    /// The signed display name (`nam`).
    pub nam: Option<String>,
    /// The display-name the far end shows (P-Asserted-Identity, else From).
    pub displayed_name: Option<String>,
    /// `rcd_integrity` check outcome and detail, when run.
    pub integrity: Option<String>,
    pub integrity_failed: bool,
    /// Call-Info RCD URIs (unsigned unless an `rcdi` covers them).
    pub call_info: Vec<String>,
}

impl RcdDetails {
    /// What question 11's answer adds: a mismatched name or failed integrity, else nothing.
    pub fn answer_part(&self) -> Option<String> {
        match self.judge() {
            (Status::Warn | Status::Fail, s) => Some(format!("RCD: {s}")),
            _ => None,
        }
    }

    /// A displayed name differing from the signed `nam` warns (a caller shows a name it was not
    /// vouched for); failed `rcdi` integrity fails; no RCD at all is information.
    pub fn judge(&self) -> (Status, String) {
        if self.integrity_failed {
            return (
                Status::Fail,
                format!(
                    "RCD integrity failed: {}",
                    self.integrity.as_deref().unwrap_or_default()
                ),
            );
        }
        match (&self.nam, &self.displayed_name) {
            (Some(n), Some(d)) if n.trim() != d.trim() => (
                Status::Warn,
                format!("the far end displays {d:?} but the signed name (nam) is {n:?}"),
            ),
            (Some(n), _) => (Status::Pass, format!("signed name {n:?} delivered")),
            (None, Some(d)) if !self.call_info.is_empty() => (
                Status::Warn,
                format!(
                    "display-name {d:?} and Call-Info RCD delivered, no signed RCD (RFC 9796 content is unsigned)"
                ),
            ),
            (None, _) => (Status::Info, "no Rich Call Data delivered".into()),
        }
    }
}

/// `stir.signer`: question 12 (which SPC signed, attestation, revocation, own certificate or a
/// third party's) and the `own_spc_required` rule.
pub struct Signer;

impl Contract for Signer {
    type Details = SignerDetails;

    fn answer(question: u8, _r: &Report, measured: &[Read<SignerDetails>]) -> Option<String> {
        (question == 12).then_some(())?;
        measured
            .iter()
            .map(|m| &m.details)
            .find(|d| d.spc.is_some() || d.subject.is_some())
            .map(SignerDetails::answer)
    }

    fn policy_rules() -> Vec<Rule<SignerDetails>> {
        vec![Rule {
            spec: RuleSpec {
                name: "own_spc_required",
                questions: &[12],
                any: false,
                validate: a_bool,
                active: on,
            },
            check: |_, _, d| d.own_spc_rule(),
        }]
    }
}

/// `stir.rcd`: what question 11 adds from Rich Call Data (a displayed name the call did not sign,
/// or failed integrity).
pub struct Rcd;

impl Contract for Rcd {
    type Details = RcdDetails;

    fn answer(question: u8, _r: &Report, measured: &[Read<RcdDetails>]) -> Option<String> {
        (question == 11).then_some(())?;
        measured.iter().find_map(|m| m.details.answer_part())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(spc: &str, expected: &[&str]) -> SignerDetails {
        let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        SignerDetails {
            own_certificate: SignerDetails::own(Some(spc), &expected),
            spc: Some(spc.into()),
            cn_spc: Some(spc.into()),
            subject: Some(format!("CN=SHAKEN {spc}")),
            issuer: Some("CN=STI-CA".into()),
            attestation: Some("A".into()),
            revocation: Some("good".into()),
            verdict: Some("valid".into()),
            expected_spc: expected,
        }
    }

    #[test]
    fn signer_judging_answers_and_policy() {
        let own = signer("1234", &["1234", "567J"]);
        assert_eq!(own.judge().0, Status::Pass);
        assert!(
            own.answer()
                .contains("the carrier signed with its own certificate")
        );
        assert!(own.own_spc_rule().unwrap().is_ok());

        let third = signer("5678", &["1234"]);
        let (s, why) = third.judge();
        assert_eq!(s, Status::Fail);
        assert!(why.contains("FCC 24-120"), "{why}");
        assert!(third.answer().contains("NOT the carrier's own"));
        assert!(third.own_spc_rule().unwrap().is_err());

        let unknown = signer("1234", &[]);
        assert_eq!(unknown.judge().0, Status::Info);
        assert!(
            unknown.own_spc_rule().is_err(),
            "not measured without --expect-spc"
        );

        let revoked = SignerDetails {
            revocation: Some("revoked".into()),
            ..own.clone()
        };
        assert_eq!(revoked.judge().0, Status::Fail);
        let cn = SignerDetails {
            cn_spc: Some("9999".into()),
            ..own
        };
        assert_eq!(cn.judge().0, Status::Warn);
        assert_eq!(SignerDetails::default().judge().0, Status::Info);
    }

    #[test]
    fn rcd_judging_and_question_11() {
        let shown = |nam: Option<&str>, shown: Option<&str>| RcdDetails {
            nam: nam.map(str::to_string),
            displayed_name: shown.map(str::to_string),
            ..RcdDetails::default()
        };
        assert_eq!(shown(Some("Acme"), Some("Acme")).judge().0, Status::Pass);
        let bad = shown(Some("Acme"), Some("Your Bank"));
        assert_eq!(bad.judge().0, Status::Warn);
        assert!(bad.answer_part().unwrap().contains("Your Bank"));
        assert_eq!(shown(None, None).judge().0, Status::Info);
        assert!(shown(None, None).answer_part().is_none());
        let failed = RcdDetails {
            integrity_failed: true,
            integrity: Some("/jcl: sha256 mismatch".into()),
            ..RcdDetails::default()
        };
        assert_eq!(failed.judge().0, Status::Fail);
    }
}
