//! `tls.profile`: an endpoint's TLS judged clause by clause against a published profile (BCP 195,
//! Mozilla intermediate or modern). The profiles are data (`probes/profiles/*.toml`); this file only
//! knows how each kind of clause reads the measured `tls.*` details, so `--profile` in a scan and
//! `profile = "…"` in a policy over a saved report reach the same verdicts.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::verdict::{Kind, RuleCheck, Verdict};
use super::{
    CertificateDetails, CipherSuitesDetails, EarlyDataDetails, ExtensionsDetails, GroupsDetails,
    MismatchDetails, VersionsDetails, suites,
};
use crate::findings::contract::{Cell, Table};
use crate::findings::ids;
use crate::findings::{Finding, Status};

/// The built-in profiles, by name.
const BUILTIN: &[(&str, &str)] = &[
    (
        "bcp195",
        include_str!("../../../probes/profiles/bcp195.toml"),
    ),
    (
        "mozilla-intermediate",
        include_str!("../../../probes/profiles/mozilla-intermediate.toml"),
    ),
    (
        "mozilla-modern",
        include_str!("../../../probes/profiles/mozilla-modern.toml"),
    ),
];

/// A profile: its clauses and the SIP exception it allows.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub title: String,
    /// The document and version the clauses follow.
    pub source: String,
    pub version: String,
    /// Suites accepted beyond the profile only because SIP mandates them (RFC 3261 §26.3.1).
    #[serde(default)]
    pub sip_exception_suites: Vec<String>,
    #[serde(default)]
    pub sip_exception_note: String,
    #[serde(rename = "clause")]
    pub clauses: Vec<Clause>,
}

/// One clause: what it cites, what it asks, and how it is checked.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    pub id: String,
    pub cite: String,
    pub requirement: String,
    pub check: Check,
}

/// The kinds of clause a profile can hold.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// Accepted versions within `allowed`, and each of `required` accepted.
    VersionsAllowed {
        allowed: Vec<String>,
        #[serde(default)]
        required: Vec<String>,
    },
    /// The suites accepted at `version` are among `suites`.
    SuitesAllowed {
        version: String,
        suites: Vec<String>,
    },
    /// No accepted suite in these classes (`probes/tls_cipher_suites.tsv` classes).
    SuiteClassesForbidden {
        classes: Vec<String>,
    },
    /// Accepted groups within `groups`, and each of `required` accepted.
    GroupsAllowed {
        groups: Vec<String>,
        #[serde(default)]
        required: Vec<String>,
    },
    DhMinBits {
        bits: usize,
    },
    RsaMinBits {
        bits: usize,
    },
    /// Leaf key types start with one of these (`EC`, `RSA`, `Ed25519`).
    CertificateTypes {
        types: Vec<String>,
    },
    CertificateLifespanMaxDays {
        days: i64,
    },
    OcspStapling,
    NoCompression,
    SecureRenegotiation,
    ExtendedMasterSecret,
    FallbackScsv,
    NoEarlyData,
}

/// A clause's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClauseVerdict {
    Met,
    NotMet,
    NotMeasurable,
    /// Not met only because of a suite SIP mandates (RFC 3261 §26.3.1): explained, not failed.
    SipException,
}

impl ClauseVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            ClauseVerdict::Met => "met",
            ClauseVerdict::NotMet => "not met",
            ClauseVerdict::NotMeasurable => "not measurable",
            ClauseVerdict::SipException => "met with the SIP exception",
        }
    }
}

/// One row of the verdict table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ProfileRow {
    pub clause: String,
    pub cite: String,
    pub requirement: String,
    /// What was measured, in words.
    pub measured: String,
    pub verdict: Option<ClauseVerdict>,
}

/// `tls.profile` details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ProfileDetails {
    pub profile: String,
    pub title: String,
    pub source: String,
    pub version: String,
    pub rows: Vec<ProfileRow>,
    /// How many rows came out each way (`met`, `not_met`, `not_measurable`, `sip_exception`).
    pub counts: BTreeMap<String, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The built-in profile names.
pub fn names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// Parses a profile file.
pub fn parse(text: &str) -> Result<Profile, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

/// A built-in profile by name.
pub fn builtin(name: &str) -> Result<Profile, String> {
    let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
        format!(
            "unknown TLS profile {name:?} (expected one of {})",
            names().join(", ")
        )
    })?;
    parse(text)
}

/// The measured `tls.*` details of one endpoint that the clauses read; `None` where the finding was
/// absent or not measured.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub versions: Option<VersionsDetails>,
    pub suites: Option<CipherSuitesDetails>,
    pub groups: Option<GroupsDetails>,
    pub certificate: Option<CertificateDetails>,
    pub mismatch: Option<MismatchDetails>,
    pub extensions: Option<ExtensionsDetails>,
    pub early_data: Option<EarlyDataDetails>,
}

impl Facts {
    /// From the findings of one endpoint (measured ones only).
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Facts {
        let mut f = Facts::default();
        for x in findings.into_iter().filter(|x| x.status.is_measured()) {
            match x.id.as_str() {
                id if id == ids::TLS_VERSIONS.id => f.versions = ids::TLS_VERSIONS.read(x).ok(),
                id if id == ids::TLS_CIPHER_SUITES.id => {
                    f.suites = ids::TLS_CIPHER_SUITES.read(x).ok()
                }
                id if id == ids::TLS_GROUPS.id => f.groups = ids::TLS_GROUPS.read(x).ok(),
                id if id == ids::TLS_CERTIFICATE.id => {
                    f.certificate = ids::TLS_CERTIFICATE.read(x).ok()
                }
                id if id == ids::TLS_MISMATCH.id => f.mismatch = ids::TLS_MISMATCH.read(x).ok(),
                id if id == ids::TLS_EXTENSIONS.id => {
                    f.extensions = ids::TLS_EXTENSIONS.read(x).ok()
                }
                id if id == ids::TLS_EARLY_DATA.id => {
                    f.early_data = ids::TLS_EARLY_DATA.read(x).ok()
                }
                _ => {}
            }
        }
        f
    }

    fn accepted_versions(&self) -> Option<Vec<String>> {
        let v = self.versions.as_ref().filter(|v| v.error.is_none())?;
        (!v.versions.is_empty()).then(|| {
            v.versions
                .iter()
                .filter(|(_, o)| o.accepted)
                .map(|(k, _)| k.clone())
                .collect()
        })
    }

    /// (version, suite) of every accepted suite.
    fn all_suites(&self) -> Option<Vec<(String, String)>> {
        let s = self.suites.as_ref().filter(|s| s.error.is_none())?;
        Some(
            s.versions
                .iter()
                .flat_map(|(v, l)| l.suites.iter().map(move |x| (v.clone(), x.clone())))
                .collect(),
        )
    }
}

type Row = (ClauseVerdict, String);

fn unmeasured(what: &str) -> Row {
    (ClauseVerdict::NotMeasurable, format!("{what} not measured"))
}

fn met_if(ok: bool, measured: String) -> Row {
    (
        if ok {
            ClauseVerdict::Met
        } else {
            ClauseVerdict::NotMet
        },
        measured,
    )
}

/// Offending suites: not met, unless every one is a SIP-mandated suite.
fn suites_row(p: &Profile, bad: Vec<String>, ok_words: &str) -> Row {
    if bad.is_empty() {
        return (ClauseVerdict::Met, ok_words.to_string());
    }
    let only_sip = bad.iter().all(|b| {
        p.sip_exception_suites
            .iter()
            .any(|s| b.ends_with(s.as_str()))
    });
    if only_sip {
        (
            ClauseVerdict::SipException,
            format!("accepts {}: {}", bad.join(", "), p.sip_exception_note),
        )
    } else {
        (ClauseVerdict::NotMet, format!("accepts {}", bad.join(", ")))
    }
}

fn lifespan_days(c: &super::CertInfo) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let a = time::OffsetDateTime::parse(&c.not_before, &Rfc3339).ok()?;
    let b = time::OffsetDateTime::parse(&c.not_after, &Rfc3339).ok()?;
    Some((b - a).whole_days())
}

fn judge_clause(p: &Profile, c: &Check, f: &Facts) -> Row {
    match c {
        Check::VersionsAllowed { allowed, required } => {
            let Some(acc) = f.accepted_versions() else {
                return unmeasured("versions");
            };
            let extra: Vec<&String> = acc.iter().filter(|v| !allowed.contains(v)).collect();
            let missing: Vec<&String> = required.iter().filter(|v| !acc.contains(v)).collect();
            let mut words = format!("accepts {}", acc.join(", "));
            if !extra.is_empty() {
                words.push_str(&format!(
                    "; not allowed: {}",
                    extra
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !missing.is_empty() {
                words.push_str(&format!(
                    "; missing: {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            met_if(extra.is_empty() && missing.is_empty(), words)
        }
        Check::SuitesAllowed { version, suites } => {
            let Some(all) = f.all_suites() else {
                return unmeasured("cipher suites");
            };
            let at: Vec<String> = all
                .into_iter()
                .filter(|(v, _)| v == version)
                .map(|(_, s)| s)
                .collect();
            if at.is_empty() {
                return (
                    ClauseVerdict::Met,
                    format!("{version} not accepted: no suite to judge"),
                );
            }
            let bad: Vec<String> = at.iter().filter(|s| !suites.contains(s)).cloned().collect();
            suites_row(
                p,
                bad,
                &format!("{version}: {} suite(s), all listed", at.len()),
            )
        }
        Check::SuiteClassesForbidden { classes } => {
            let Some(all) = f.all_suites() else {
                return unmeasured("cipher suites");
            };
            let bad: Vec<String> = all
                .iter()
                .filter(|(_, s)| {
                    suites::classes(s)
                        .iter()
                        .any(|c| classes.iter().any(|x| x == c.as_str()))
                })
                .map(|(v, s)| format!("{v} {s}"))
                .collect();
            suites_row(p, bad, &format!("none of {} accepted", classes.join(", ")))
        }
        Check::GroupsAllowed { groups, required } => {
            let Some(g) = f.groups.as_ref().filter(|g| g.method.is_some()) else {
                return unmeasured("groups");
            };
            let extra: Vec<&String> = g.groups.iter().filter(|x| !groups.contains(x)).collect();
            let missing: Vec<&String> = required.iter().filter(|x| !g.groups.contains(x)).collect();
            let mut words = format!("groups {}", g.groups.join(", "));
            if !extra.is_empty() {
                words.push_str(&format!(
                    "; not listed: {}",
                    extra
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !missing.is_empty() {
                words.push_str(&format!(
                    "; missing: {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            met_if(extra.is_empty() && missing.is_empty(), words)
        }
        Check::DhMinBits { bits } => {
            let Some(g) = f.groups.as_ref().filter(|g| g.method.is_some()) else {
                return unmeasured("DH parameters");
            };
            if g.dh_bits.is_empty() {
                return (ClauseVerdict::Met, "no DHE key exchange seen".into());
            }
            met_if(
                g.dh_bits.iter().all(|b| b >= bits),
                format!("DHE primes of {:?} bits", g.dh_bits),
            )
        }
        Check::RsaMinBits { bits } => {
            let Some(c) = f.certificate.as_ref().filter(|c| !c.chains.is_empty()) else {
                return unmeasured("certificate");
            };
            let rsa: Vec<usize> = c
                .leaves()
                .filter(|(_, l)| l.key_type == "RSA")
                .map(|(_, l)| l.key_bits)
                .collect();
            if rsa.is_empty() {
                return (ClauseVerdict::Met, "no RSA certificate".into());
            }
            met_if(
                rsa.iter().all(|b| b >= bits),
                format!("RSA keys of {rsa:?} bits"),
            )
        }
        Check::CertificateTypes { types } => {
            let Some(c) = f.certificate.as_ref().filter(|c| !c.chains.is_empty()) else {
                return unmeasured("certificate");
            };
            let kinds: Vec<String> = c.leaves().map(|(_, l)| l.key_type.clone()).collect();
            met_if(
                kinds
                    .iter()
                    .all(|k| types.iter().any(|t| k.starts_with(t.as_str()))),
                format!("leaf keys {}", kinds.join(", ")),
            )
        }
        Check::CertificateLifespanMaxDays { days } => {
            let Some(c) = f.certificate.as_ref().filter(|c| !c.chains.is_empty()) else {
                return unmeasured("certificate");
            };
            let spans: Vec<i64> = c.leaves().filter_map(|(_, l)| lifespan_days(l)).collect();
            if spans.is_empty() {
                return unmeasured("certificate validity");
            }
            met_if(
                spans.iter().all(|d| d <= days),
                format!("valid for {spans:?} days"),
            )
        }
        Check::OcspStapling => match &f.certificate {
            Some(c) if !c.chains.is_empty() => met_if(
                c.ocsp_stapled,
                format!(
                    "OCSP staple {}",
                    if c.ocsp_stapled { "sent" } else { "not sent" }
                ),
            ),
            _ => unmeasured("OCSP stapling"),
        },
        Check::NoCompression => match f.certificate.as_ref().and_then(|c| c.compression) {
            Some(on) => met_if(
                !on,
                format!("compression {}", if on { "on" } else { "off" }),
            ),
            None if only_tls13(f) => (ClauseVerdict::Met, "TLS 1.3 only: no compression".into()),
            None => unmeasured("compression"),
        },
        Check::SecureRenegotiation => {
            match f.certificate.as_ref().and_then(|c| c.secure_renegotiation) {
                Some(on) => met_if(
                    on,
                    format!(
                        "renegotiation_info {}",
                        if on { "echoed" } else { "absent" }
                    ),
                ),
                None if only_tls13(f) => {
                    (ClauseVerdict::Met, "TLS 1.3 only: no renegotiation".into())
                }
                None => unmeasured("secure renegotiation"),
            }
        }
        Check::ExtendedMasterSecret => match &f.extensions {
            Some(e) if e.error.is_none() && e.hellos == 0 => {
                (ClauseVerdict::Met, "TLS 1.3 only".into())
            }
            Some(e) if e.error.is_none() => match e.extended_master_secret {
                Some(on) => met_if(
                    on,
                    if on {
                        "extended_master_secret on every TLS ≤ 1.2 hello".into()
                    } else {
                        format!("no extended_master_secret for {}", e.without_ems.join(", "))
                    },
                ),
                None => unmeasured("extended master secret"),
            },
            _ => unmeasured("extended master secret"),
        },
        Check::FallbackScsv => match &f.mismatch {
            Some(m) if m.error.is_none() && !m.fallback_scsv.applicable => (
                ClauseVerdict::Met,
                "one version only: nothing to fall back to".into(),
            ),
            Some(m) if m.error.is_none() => match m.fallback_scsv.honoured {
                Some(h) => met_if(
                    h,
                    format!(
                        "TLS_FALLBACK_SCSV {} at {}",
                        if h { "honoured" } else { "ignored" },
                        m.fallback_scsv.tested_with.clone().unwrap_or_default()
                    ),
                ),
                None => unmeasured("TLS_FALLBACK_SCSV"),
            },
            _ => unmeasured("TLS_FALLBACK_SCSV"),
        },
        Check::NoEarlyData => match &f.early_data {
            Some(e) if e.error.is_none() => match e.forbid_early_data() {
                Ok(Ok(w)) => (ClauseVerdict::Met, w),
                Ok(Err(w)) => (ClauseVerdict::NotMet, w),
                Err(w) => (ClauseVerdict::NotMeasurable, w),
            },
            _ => unmeasured("early data"),
        },
    }
}

fn only_tls13(f: &Facts) -> bool {
    f.accepted_versions()
        .is_some_and(|v| v.iter().all(|x| x == "TLSv1.3") && !v.is_empty())
}

impl Profile {
    /// The verdict table for one endpoint.
    pub fn judge(&self, f: &Facts) -> ProfileDetails {
        let rows: Vec<ProfileRow> = self
            .clauses
            .iter()
            .map(|c| {
                let (verdict, measured) = judge_clause(self, &c.check, f);
                ProfileRow {
                    clause: c.id.clone(),
                    cite: c.cite.clone(),
                    requirement: c.requirement.clone(),
                    measured,
                    verdict: Some(verdict),
                }
            })
            .collect();
        let mut counts = BTreeMap::new();
        for r in &rows {
            if let Some(v) = r.verdict {
                let key = serde_json::to_value(v)
                    .ok()
                    .and_then(|x| x.as_str().map(str::to_string))
                    .unwrap_or_default();
                *counts.entry(key).or_insert(0) += 1;
            }
        }
        ProfileDetails {
            profile: self.name.clone(),
            title: self.title.clone(),
            source: self.source.clone(),
            version: self.version.clone(),
            rows,
            counts,
            error: None,
        }
    }
}

impl ProfileDetails {
    /// The verdict table: one row per clause, citing it, with what was measured and its outcome.
    pub fn table(&self) -> Table {
        let class = |v: Option<ClauseVerdict>| match v {
            Some(ClauseVerdict::Met | ClauseVerdict::SipException) => "pass",
            Some(ClauseVerdict::NotMet) => "fail",
            Some(ClauseVerdict::NotMeasurable) | None => "info",
        };
        Table {
            title: format!("{} clause by clause", self.title),
            head: ["Clause", "Cites", "Requirement", "Measured", "Verdict"]
                .map(String::from)
                .to_vec(),
            rows: self
                .rows
                .iter()
                .map(|r| {
                    vec![
                        Cell::text(&r.clause),
                        Cell::text(&r.cite),
                        Cell::text(&r.requirement),
                        Cell::text(&r.measured),
                        Cell::text(r.verdict.map_or("not judged", ClauseVerdict::as_str))
                            .class(class(r.verdict)),
                    ]
                })
                .collect(),
            note: Some(format!("Source: {}.", self.source)),
            complete: false,
        }
    }

    fn count(&self, v: ClauseVerdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == Some(v)).count()
    }

    /// Any clause not met is a fail; all met (or met with the SIP exception) a pass; clauses that could
    /// not be measured make it info, never a pass.
    pub fn judge(&self) -> Verdict {
        if let Some(e) = &self.error {
            return (Status::Error, e.clone());
        }
        let (met, not_met, unmeasurable, sip) = (
            self.count(ClauseVerdict::Met),
            self.count(ClauseVerdict::NotMet),
            self.count(ClauseVerdict::NotMeasurable),
            self.count(ClauseVerdict::SipException),
        );
        let failed: Vec<&str> = self
            .rows
            .iter()
            .filter(|r| r.verdict == Some(ClauseVerdict::NotMet))
            .map(|r| r.clause.as_str())
            .collect();
        let mut summary = format!(
            "{}: {met} met, {not_met} not met, {unmeasurable} not measurable",
            self.title
        );
        if sip > 0 {
            summary.push_str(&format!(
                ", {sip} met with the SIP mandatory-suite exception"
            ));
        }
        if !failed.is_empty() {
            summary.push_str(&format!(" (not met: {})", failed.join(", ")));
        }
        let status = if not_met > 0 {
            Status::Fail
        } else if unmeasurable > 0 {
            Status::Info
        } else {
            Status::Pass
        };
        (status, summary)
    }

    pub fn changes(&self, new: &ProfileDetails) -> Vec<(Kind, String)> {
        let mut out = Vec::new();
        for r in &new.rows {
            let Some(old) = self.rows.iter().find(|o| o.clause == r.clause) else {
                continue;
            };
            match (old.verdict, r.verdict) {
                (Some(a), Some(ClauseVerdict::NotMet)) if a != ClauseVerdict::NotMet => out.push((
                    Kind::Worse,
                    format!(
                        "{} clause {} no longer met: {}",
                        new.profile, r.clause, r.measured
                    ),
                )),
                (Some(ClauseVerdict::NotMet), Some(b)) if b != ClauseVerdict::NotMet => out.push((
                    Kind::Better,
                    format!("{} clause {} now {}", new.profile, r.clause, b.as_str()),
                )),
                _ => {}
            }
        }
        out
    }

    pub fn answer(&self, question: u8) -> Option<String> {
        (matches!(question, 1 | 2 | 10) && self.error.is_none()).then(|| self.judge().1)
    }

    /// Policy `profile = NAME`: every clause met (or met with the SIP exception).
    pub fn policy(&self) -> RuleCheck {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let failed: Vec<String> = self
            .rows
            .iter()
            .filter(|r| r.verdict == Some(ClauseVerdict::NotMet))
            .map(|r| format!("{} ({}: {})", r.clause, r.cite, r.measured))
            .collect();
        if !failed.is_empty() {
            return Ok(Err(format!(
                "{} not met: {}",
                self.title,
                failed.join("; ")
            )));
        }
        if self.count(ClauseVerdict::NotMeasurable) == self.rows.len() {
            return Err(format!("{}: no clause could be measured", self.title));
        }
        Ok(Ok(self.judge().1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::tls::{SuiteList, VersionOutcome};

    #[test]
    fn every_builtin_profile_parses_and_cites_its_source() {
        for n in names() {
            let p = builtin(n).unwrap_or_else(|e| panic!("{n}: {e}"));
            assert_eq!(p.name, n);
            assert!(!p.clauses.is_empty() && !p.version.is_empty());
            assert!(p.clauses.iter().all(|c| !c.cite.is_empty()), "{n}");
        }
        let m = builtin("mozilla-intermediate").unwrap();
        assert!(m.source.contains("6.0"));
        let curves = m
            .clauses
            .iter()
            .find_map(|c| match &c.check {
                Check::GroupsAllowed { groups, .. } => Some(groups.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            curves[0], "X25519MLKEM768",
            "the 2026 guideline prepends the hybrid"
        );
        assert!(builtin("nope").is_err());
    }

    fn facts(versions: &[&str], tls12: &[&str]) -> Facts {
        let mut v = VersionsDetails::default();
        for l in ["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"] {
            v.versions.insert(
                l.into(),
                VersionOutcome {
                    accepted: versions.contains(&l),
                    ..Default::default()
                },
            );
        }
        let mut s = CipherSuitesDetails::default();
        s.versions.insert(
            "TLSv1.2".into(),
            SuiteList {
                suites: tls12.iter().map(|x| x.to_string()).collect(),
                ..Default::default()
            },
        );
        Facts {
            versions: Some(v),
            suites: Some(s),
            ..Default::default()
        }
    }

    #[test]
    fn the_sip_mandatory_suite_is_an_exception_not_a_failure() {
        let p = builtin("bcp195").unwrap();
        let f = facts(
            &["TLSv1.2", "TLSv1.3"],
            &[
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_RSA_WITH_AES_128_CBC_SHA",
            ],
        );
        let d = p.judge(&f);
        let row = |id: &str| d.rows.iter().find(|r| r.clause == id).unwrap().clone();
        assert_eq!(row("versions").verdict, Some(ClauseVerdict::Met));
        assert_eq!(
            row("suites_should_not").verdict,
            Some(ClauseVerdict::SipException),
            "{:?}",
            row("suites_should_not")
        );
        assert!(
            row("suites_should_not")
                .measured
                .contains("RFC 3261 §26.3.1")
        );
        assert_eq!(
            row("compression").verdict,
            Some(ClauseVerdict::NotMeasurable)
        );
        assert_eq!(
            d.judge().0,
            Status::Info,
            "unmeasured clauses are never a pass"
        );
        let legacy = facts(&["TLSv1.0", "TLSv1.2"], &["TLS_RSA_WITH_3DES_EDE_CBC_SHA"]);
        let d2 = p.judge(&legacy);
        assert_eq!(d2.judge().0, Status::Fail);
        assert!(d2.policy().unwrap().is_err());
        assert!(d.changes(&d2).iter().any(|(k, _)| *k == Kind::Worse));
    }

    #[test]
    fn the_verdict_table_has_a_row_per_clause_classed_by_its_outcome() {
        let p = builtin("bcp195").unwrap();
        let d = p.judge(&facts(
            &["TLSv1.0", "TLSv1.2"],
            &["TLS_RSA_WITH_AES_128_CBC_SHA"],
        ));
        let t = d.table();
        assert_eq!(t.rows.len(), d.rows.len());
        for (cells, row) in t.rows.iter().zip(&d.rows) {
            assert_eq!(cells[0].plain(), row.clause);
            assert_eq!(cells[1].plain(), row.cite);
            let want = match row.verdict {
                Some(ClauseVerdict::NotMet) => "fail",
                Some(ClauseVerdict::Met | ClauseVerdict::SipException) => "pass",
                _ => "info",
            };
            assert_eq!(cells[4].class, Some(want), "{}", row.clause);
        }
        let versions = t.rows.iter().find(|c| c[0].plain() == "versions").unwrap();
        assert_eq!(versions[4].plain(), "not met");
    }
}
