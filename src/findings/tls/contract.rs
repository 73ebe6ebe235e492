//! The contracts of the `tls.*` findings: their answers, diffs, policy rules and tables, read from the
//! typed details beside them.

use serde_json::Value;

use super::suites::{self, Grade, SuiteClass};
use super::version::Version;
use super::{CertificateDetails, CipherSuitesDetails, MismatchDetails, SuiteList, VersionsDetails};
use crate::findings::contract::{Cell, Check, Contract, Read, Rule, RuleSpec, Span, Table, always};
use crate::findings::run::Kind;
use crate::findings::{Finding, Report, ids};

/// Version labels in protocol order.
pub fn in_order<'a>(labels: impl IntoIterator<Item = &'a String>) -> Vec<&'a str> {
    let mut v: Vec<&str> = labels.into_iter().map(String::as_str).collect();
    v.sort_by_key(|l| Version::from_label(l).map(|v| v.wire()).unwrap_or(u16::MAX));
    v.dedup();
    v
}

/// How many suites an endpoint accepts, counted once each (a suite accepted in TLS 1.2 and 1.3 is
/// one suite), and how many of them the one classifier grades weak or insecure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SuiteTally {
    pub distinct: usize,
    /// Distinct suites graded insecure / weak, by IANA name, in first-seen order.
    pub insecure: Vec<String>,
    pub weak: Vec<String>,
    /// `TLSv1.3 3`, `TLSv1.2 17 in server order`: suites per version, newest first.
    pub per_version: Vec<String>,
}

impl CipherSuitesDetails {
    /// The tally every sentence about these suites uses (the probe's summary, the answer sheet).
    pub fn tally(&self) -> SuiteTally {
        let mut t = SuiteTally::default();
        let mut seen: Vec<&str> = Vec::new();
        for v in in_order(self.versions.keys()).into_iter().rev() {
            let list = &self.versions[v];
            for s in &list.suites {
                if seen.contains(&s.as_str()) {
                    continue;
                }
                seen.push(s);
                match grade_of(list, s) {
                    Grade::Insecure => t.insecure.push(s.clone()),
                    Grade::Weak => t.weak.push(s.clone()),
                    _ => {}
                }
            }
            t.per_version.push(format!(
                "{v} {}{}",
                list.suites.len(),
                match (list.order_tested, list.server_order) {
                    (true, true) => " in server order",
                    (true, false) => " in client order",
                    _ => "",
                }
            ));
        }
        t.distinct = seen.len();
        t
    }
}

impl SuiteTally {
    /// `46 distinct suites accepted (TLSv1.3 3, TLSv1.2 43 in server order): 12 insecure, 8 weak by
    /// RFC 9325`: the unit is named, and the per-version figures are per version.
    pub fn sentence(&self) -> String {
        let verdict = match (self.insecure.len(), self.weak.len()) {
            (0, 0) => "all recommended or secure".to_string(),
            (0, w) => format!("{w} weak, none insecure"),
            (i, w) => format!("{i} insecure, {w} weak"),
        };
        format!(
            "{} distinct suite{} accepted ({}): {verdict} by RFC 9325",
            self.distinct,
            if self.distinct == 1 { "" } else { "s" },
            self.per_version.join(", ")
        )
    }

    /// `insecure, to remove: TLS_RSA_WITH_RC4_128_SHA (RC4-SHA), …`: the suites RFC 9325 §4.1 says
    /// MUST NOT be negotiated, by IANA and OpenSSL name, or `None` when there are none.
    pub fn to_remove(&self) -> Option<String> {
        if self.insecure.is_empty() {
            return None;
        }
        let names: Vec<String> = self.insecure.iter().map(|n| both_names(n)).collect();
        Some(format!("insecure, to remove: {}", names.join(", ")))
    }
}

/// A suite's grade as recorded, or from the one classifier when a report did not record it.
fn grade_of(list: &SuiteList, name: &str) -> Grade {
    list.classification
        .get(name)
        .map(|c| c.grade)
        .unwrap_or_else(|| suites::classify(name).grade)
}

/// The word for a grade in a sentence (`insecure suite`, `weak suite`).
fn grade_word(g: Grade) -> &'static str {
    match g {
        Grade::Insecure => "insecure",
        Grade::Weak => "weak",
        Grade::Secure => "secure",
        Grade::Recommended => "recommended",
    }
}

/// The style class of a suite of a grade in tables.
pub fn grade_class(g: Grade) -> &'static str {
    match g {
        Grade::Insecure => "suite insecure",
        Grade::Weak => "suite weak",
        Grade::Secure => "suite secure",
        Grade::Recommended => "suite recommended",
    }
}

/// `tls.versions`.
pub struct Versions;

impl Versions {
    /// Question 1 (`accepted`) or 2 (refused).
    fn answer_versions(
        r: &Report,
        measured: &[Read<VersionsDetails>],
        accepted: bool,
    ) -> Option<String> {
        let details: Vec<&Read<VersionsDetails>> = measured
            .iter()
            .filter(|x| x.details.error.is_none() && !x.details.versions.is_empty())
            .collect();
        let first = &details.first()?.details;
        let same = details.iter().all(|x| x.details.versions == first.versions);
        let accepted_labels: Vec<&String> = first
            .versions
            .iter()
            .filter(|(_, o)| o.accepted)
            .map(|(v, _)| v)
            .collect();
        let deprecated_accepted: Vec<&str> = in_order(accepted_labels.iter().copied())
            .into_iter()
            .filter(|l| Version::from_label(l).is_some_and(Version::deprecated))
            .collect();
        let mut s = if accepted {
            let acc = in_order(accepted_labels);
            if acc.is_empty() {
                "No TLS version accepted".to_string()
            } else if !deprecated_accepted.is_empty() {
                format!(
                    "Yes, but also {}, which RFC 8996 forbids: {} accepted",
                    deprecated_accepted.join(", "),
                    acc.join(", ")
                )
            } else {
                format!("Yes: {} accepted", acc.join(", "))
            }
        } else if !deprecated_accepted.is_empty() {
            // The answer a buyer acts on is what should be refused and is not.
            format!(
                "Not enough: {} still accepted (RFC 8996 forbids anything below TLS 1.2)",
                deprecated_accepted.join(", ")
            )
        } else {
            let refused: Vec<String> = in_order(
                first
                    .versions
                    .iter()
                    .filter(|(_, o)| !o.accepted)
                    .map(|(v, _)| v),
            )
            .into_iter()
            .map(|v| match &first.versions[v].refusal {
                Some(how) => format!("{v} ({})", how.replace("alert:", "alert ")),
                None => v.to_string(),
            })
            .collect();
            if refused.is_empty() {
                "None refused: every version tried was accepted".to_string()
            } else {
                format!("Refused: {}", refused.join(", "))
            }
        };
        if !same {
            let labels: Vec<&str> = details
                .iter()
                .filter_map(|x| x.finding.endpoint.as_deref())
                .collect();
            s.push_str(&format!(
                " on the first server; servers differ ({}, see the per-endpoint view)",
                r.scope_of(&labels)
            ));
        }
        s.push('.');
        Some(s)
    }
}

fn accepted_of(d: &VersionsDetails, v: &str) -> Option<bool> {
    d.versions.get(v).map(|o| o.accepted)
}

fn min_tls(setting: &Value, f: &Finding, d: &VersionsDetails) -> Check {
    let min = setting.as_str().unwrap_or_default();
    let floor = Version::from_label(min);
    let measured: Vec<(Version, bool)> = d
        .versions
        .iter()
        .filter_map(|(label, o)| Some((Version::from_label(label)?, o.accepted)))
        .collect();
    if measured.is_empty() {
        return Err(format!("`{}` measured no version", f.id));
    }
    let old: Vec<&str> = measured
        .iter()
        .filter(|(v, acc)| *acc && floor.is_some_and(|m| *v < m))
        .map(|(v, _)| v.label())
        .collect();
    Ok(if old.is_empty() {
        Ok(format!("nothing older than {min} accepted"))
    } else {
        Err(format!("accepts {} (older than {min})", old.join(", ")))
    })
}

/// A TLS version name as `tls.versions` keys it (`TLSv1.2`).
fn a_version(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(s) if Version::from_label(s).is_some() => Ok(()),
        other => {
            let all: Vec<&str> = Version::REPORTED.iter().map(|v| v.label()).collect();
            Err(format!(
                "unknown TLS version {} (expected one of {})",
                other
                    .map(|s| format!("{s:?}"))
                    .unwrap_or_else(|| v.to_string()),
                all.join(", ")
            ))
        }
    }
}

impl Contract for Versions {
    type Details = VersionsDetails;

    fn diff(old: &VersionsDetails, new: &VersionsDetails) -> Vec<(Kind, String)> {
        let mut out = Vec::new();
        for v in Version::REPORTED.map(Version::label) {
            match (accepted_of(old, v), accepted_of(new, v)) {
                (Some(false), Some(true)) => out.push((Kind::Worse, format!("{v} re-enabled"))),
                (Some(true), Some(false)) => out.push((Kind::Better, format!("{v} disabled"))),
                _ => {}
            }
        }
        out
    }

    fn answer(q: u8, r: &Report, measured: &[Read<VersionsDetails>]) -> Option<String> {
        match q {
            1 => Versions::answer_versions(r, measured, true),
            2 => Versions::answer_versions(r, measured, false),
            _ => None,
        }
    }

    fn policy_rules() -> Vec<Rule<VersionsDetails>> {
        vec![Rule {
            spec: RuleSpec {
                name: "min_tls_version",
                questions: &[1, 2],
                any: false,
                validate: a_version,
                active: always,
            },
            check: min_tls,
        }]
    }

    /// The TLS matrix of the endpoint: each version (SSLv2 included) accepted or refused, with the
    /// suites `tls.cipher_suites` found for it, each classed by the one classifier.
    fn tables(r: &Report, f: &Finding, d: &VersionsDetails) -> Vec<Table> {
        if d.versions.is_empty() {
            return Vec::new();
        }
        let suites = r
            .findings_with_id(ids::TLS_CIPHER_SUITES.id)
            .find(|c| c.endpoint == f.endpoint)
            .and_then(|c| ids::TLS_CIPHER_SUITES.read(c).ok())
            .unwrap_or_default();
        let mut t = Table {
            title: "TLS matrix".into(),
            head: vec![
                "Version".into(),
                "Outcome".into(),
                "Cipher suites (server order when it has one), by RFC 9325 class".into(),
            ],
            ..Table::default()
        };
        for v in Version::REPORTED.iter().rev() {
            let Some(o) = d.versions.get(v.label()) else {
                continue;
            };
            let outcome = match (o.accepted, v.deprecated()) {
                (true, true) => Cell::text("accepted").class("fail"),
                (true, false) => Cell::text("accepted").class("pass"),
                (false, dep) => Cell::text(format!(
                    "refused ({})",
                    o.refusal.as_deref().unwrap_or("no reason recorded")
                ))
                .class(if dep { "pass" } else { "info" }),
            };
            let mut list = Cell::default();
            if let Some(l) = suites.versions.get(v.label()) {
                for name in &l.suites {
                    let c = l.classification.get(name);
                    list.spans.push(Span {
                        text: name.clone(),
                        class: Some(grade_class(grade_of(l, name))),
                        title: c.map(|c| c.reasons.join(", ")),
                        ..Span::default()
                    });
                }
                if l.order_tested {
                    list.spans.push(Span {
                        text: format!(
                            "({})",
                            if l.server_order {
                                "server order"
                            } else {
                                "client order"
                            }
                        ),
                        class: Some("meta"),
                        ..Span::default()
                    });
                }
            } else if !o.ciphers.is_empty() {
                list = Cell::text(o.ciphers.join(", "));
            }
            t.rows.push(vec![Cell::text(v.label()), outcome, list]);
        }
        vec![t]
    }
}

/// `tls.cipher_suites`.
pub struct CipherSuites;

/// (version, suite) pairs a `tls.cipher_suites` finding lists.
fn pairs(d: &CipherSuitesDetails) -> Vec<(&str, &str, Grade)> {
    d.versions
        .iter()
        .flat_map(|(v, l)| {
            l.suites
                .iter()
                .map(move |s| (v.as_str(), s.as_str(), grade_of(l, s)))
        })
        .collect()
}

fn forbidden(setting: &Value, f: &Finding, d: &CipherSuitesDetails) -> Check {
    let forbidden: Vec<&str> = setting
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if d.versions.is_empty() {
        return Err(format!("`{}` lists no version", f.id));
    }
    let mut hits = Vec::new();
    for (version, list) in &d.versions {
        for name in &list.suites {
            let classes: Vec<String> = suites::classes(name)
                .into_iter()
                .filter(|c| forbidden.contains(&c.as_str()))
                .map(|c| c.to_string())
                .collect();
            if !classes.is_empty() {
                hits.push(format!("{name} [{}] in {version}", classes.join(", ")));
            }
        }
    }
    Ok(if hits.is_empty() {
        Ok("no forbidden suite accepted".into())
    } else {
        Err(format!("accepts {}", hits.join(", ")))
    })
}

fn suite_classes(v: &Value) -> Result<(), String> {
    let Some(list) = v.as_array() else {
        return Err(format!("expected a list of suite classes, found {v}"));
    };
    for c in list {
        let Some(s) = c.as_str() else {
            return Err(format!("expected a suite class name, found {c}"));
        };
        s.parse::<SuiteClass>()?;
    }
    Ok(())
}

impl Contract for CipherSuites {
    type Details = CipherSuitesDetails;

    /// Suites gained or lost, each named with the grade the report gives it (one classifier).
    fn diff(old: &CipherSuitesDetails, new: &CipherSuitesDetails) -> Vec<(Kind, String)> {
        let (old, new) = (pairs(old), pairs(new));
        let has = |set: &[(&str, &str, Grade)], v: &str, s: &str| {
            set.iter().any(|(a, b, _)| *a == v && *b == s)
        };
        let mut out = Vec::new();
        for (v, s, g) in new.iter().filter(|(v, s, _)| !has(&old, v, s)) {
            let classes: Vec<&str> = suites::classes(s).iter().map(|c| c.as_str()).collect();
            match g {
                Grade::Insecure | Grade::Weak => out.push((
                    Kind::Worse,
                    format!(
                        "{} suite {s} [{}] now accepted in {v}",
                        grade_word(*g),
                        classes.join(", ")
                    ),
                )),
                _ => out.push((
                    Kind::New,
                    format!("{} suite {s} now accepted in {v}", grade_word(*g)),
                )),
            }
        }
        for (v, s, g) in old.iter().filter(|(v, s, _)| !has(&new, v, s)) {
            let kind = match g {
                Grade::Insecure | Grade::Weak => Kind::Better,
                _ => Kind::Gone,
            };
            out.push((
                kind,
                format!("{} suite {s} no longer accepted in {v}", grade_word(*g)),
            ));
        }
        out
    }

    fn answer(q: u8, _r: &Report, measured: &[Read<CipherSuitesDetails>]) -> Option<String> {
        if q != 10 {
            return None;
        }
        let d = measured
            .iter()
            .map(|x| &x.details)
            .find(|d| d.error.is_none() && !d.versions.is_empty())?;
        let t = d.tally();
        let mut s = t.sentence();
        if let Some(remove) = t.to_remove() {
            s.push_str(&format!("; {remove}"));
        } else if !t.weak.is_empty() {
            let weak: Vec<String> = t.weak.iter().map(|n| both_names(n)).collect();
            s.push_str(&format!("; weak: {}", weak.join(", ")));
        }
        s.push('.');
        Some(s)
    }

    /// The accepted suites by name, per version (newest first, in the server's order when it has
    /// one): IANA and OpenSSL names and the RFC 9325 class, what a carrier removes named exactly.
    fn tables(_r: &Report, _f: &Finding, d: &CipherSuitesDetails) -> Vec<Table> {
        if d.versions.is_empty() {
            return Vec::new();
        }
        let mut t = Table {
            title: "Cipher suites by name".into(),
            head: ["Version", "IANA name", "OpenSSL name", "RFC 9325 class"]
                .map(String::from)
                .to_vec(),
            ..Table::default()
        };
        let mut orders = Vec::new();
        for v in in_order(d.versions.keys()).into_iter().rev() {
            let list = &d.versions[v];
            for name in &list.suites {
                t.rows.push(named_row(v, list, name));
            }
            if list.order_tested {
                orders.push(format!(
                    "{v} in {} order",
                    if list.server_order { "server" } else { "client" }
                ));
            }
        }
        let t_ = d.tally();
        t.note = Some(format!(
            "{}.{}",
            t_.sentence(),
            if orders.is_empty() {
                String::new()
            } else {
                format!(" Listed {}.", orders.join(", "))
            }
        ));
        vec![t]
    }

    fn policy_rules() -> Vec<Rule<CipherSuitesDetails>> {
        vec![Rule {
            spec: RuleSpec {
                name: "forbidden_suite_classes",
                questions: &[10],
                any: false,
                validate: suite_classes,
                active: always,
            },
            check: forbidden,
        }]
    }
}

/// One row of the suites-by-name table: version, IANA name, OpenSSL name, and the grade with its
/// reasons from the one classifier.
fn named_row(version: &str, list: &SuiteList, name: &str) -> Vec<Cell> {
    let grade = grade_of(list, name);
    let reasons = list
        .classification
        .get(name)
        .map(|c| c.reasons.clone())
        .unwrap_or_else(|| suites::classify(name).reasons);
    let class = if reasons.is_empty() {
        grade_word(grade).to_string()
    } else {
        format!("{}: {}", grade_word(grade), reasons.join(", "))
    };
    vec![
        Cell::text(version),
        Cell {
            spans: vec![Span {
                text: name.to_string(),
                code: true,
                ..Span::default()
            }],
            class: None,
        },
        match suites::openssl_name(name) {
            Some(o) => Cell {
                spans: vec![Span {
                    text: o.to_string(),
                    code: true,
                    ..Span::default()
                }],
                class: None,
            },
            // No OpenSSL name is known for it (suites OpenSSL never implemented, or dropped long ago).
            None => Cell::text("—"),
        },
        Cell::text(class).class(verdict_class(grade)),
    ]
}

/// The verdict class of a suite's grade: what the probe makes of accepting it.
fn verdict_class(g: Grade) -> &'static str {
    match g {
        Grade::Insecure => "fail",
        Grade::Weak => "warn",
        Grade::Secure | Grade::Recommended => "pass",
    }
}

/// A suite by both names: `TLS_RSA_WITH_RC4_128_SHA (RC4-SHA)`, or the IANA name alone where OpenSSL
/// has none or uses the same.
pub fn both_names(iana: &str) -> String {
    match suites::openssl_name(iana) {
        Some(o) if o != iana => format!("{iana} ({o})"),
        _ => iana.to_string(),
    }
}

/// `tls.mismatch`.
pub struct Mismatch;

impl Contract for Mismatch {
    type Details = MismatchDetails;

    /// Question 3: what a hello below the minimum version got, and downgrade protection.
    fn answer(q: u8, _r: &Report, measured: &[Read<MismatchDetails>]) -> Option<String> {
        if q != 3 {
            return None;
        }
        let d = measured
            .iter()
            .map(|x| &x.details)
            .find(|d| d.error.is_none())?;
        let mut parts = Vec::new();
        if let Some(min) = &d.minimum_version {
            let below: Vec<String> = in_order(d.below_minimum.keys())
                .into_iter()
                .map(|v| format!("{v} {}", d.below_minimum[v].replace("alert:", "alert ")))
                .collect();
            if below.is_empty() {
                parts.push(format!("Minimum {min}"));
            } else {
                parts.push(format!(
                    "Below {min} the trunk refuses: {}",
                    below.join(", ")
                ));
            }
        }
        if !d.silent_refusals.is_empty() {
            parts.push(format!(
                "without an alert: {}",
                d.silent_refusals.join(", ")
            ));
        }
        match d.fallback_scsv.honoured {
            Some(true) => parts.push("TLS_FALLBACK_SCSV honoured".into()),
            Some(false) => parts.push("TLS_FALLBACK_SCSV ignored".into()),
            None => {}
        }
        if d.downgrade_sentinel.applicable {
            let present = d.downgrade_sentinel.seen.values().all(Option::is_some);
            parts.push(
                if present {
                    "TLS 1.3 downgrade sentinel present"
                } else {
                    "TLS 1.3 downgrade sentinel missing"
                }
                .into(),
            );
        }
        (!parts.is_empty()).then(|| format!("{}.", parts.join("; ")))
    }
}

/// `tls.certificate`.
pub struct Certificate;

/// The leaf's extended key usages in words. A serverAuth certificate without id-kp-sipDomain is
/// what RFC 5922 accepts and public CAs issue; only a verifier applying RFC 5924 §5 (Experimental)
/// refuses it for SIP, which the cell says as a fact rather than a warn.
fn eku_cell(eku: &[String]) -> Cell {
    let has = |e: &str| eku.iter().any(|x| x == e);
    if eku.is_empty() {
        return Cell::text("none (any use)").class("info");
    }
    let list = eku.join(", ");
    if has("sipDomain") || has("any") {
        Cell::text(list).class("pass")
    } else if has("serverAuth") || has("clientAuth") {
        Cell::text(format!(
            "{list} (no id-kp-sipDomain: fine under RFC 5922; an RFC 5924 §5 verifier would refuse it)"
        ))
        .class("info")
    } else {
        Cell::text(format!("{list} (not for TLS servers or SIP)")).class("warn")
    }
}

/// A number of days a certificate must have left.
pub fn days(v: &Value) -> Result<(), String> {
    match v.as_i64() {
        Some(d) if (-36_500..=36_500).contains(&d) => Ok(()),
        _ => Err("min_cert_days_left must be a number of days between -36500 and 36500".into()),
    }
}

/// Judges leaf certificates' days left against the setting (`min_cert_days_left`).
pub fn cert_days(setting: &Value, leaves: &[(String, i64)]) -> Result<String, String> {
    let min = setting.as_i64().unwrap_or_default();
    let key = |k: &str| {
        if k.is_empty() {
            String::new()
        } else {
            format!("{k} ")
        }
    };
    let bad: Vec<String> = leaves
        .iter()
        .filter(|(_, d)| *d < min)
        .map(|(k, d)| {
            if *d < 0 {
                format!("{}certificate expired {} days ago", key(k), -d)
            } else {
                format!("{}certificate has {d} days left (fewer than {min})", key(k))
            }
        })
        .collect();
    let least = leaves.iter().map(|(_, d)| *d).min().unwrap_or_default();
    if bad.is_empty() {
        Ok(format!("certificate valid {least} more days"))
    } else {
        Err(bad.join("; "))
    }
}

/// The spec of `min_cert_days_left`, judged by `tls.certificate` and `sips.options` alike.
pub const MIN_CERT_DAYS_LEFT: RuleSpec = RuleSpec {
    name: "min_cert_days_left",
    questions: &[4],
    any: false,
    validate: days,
    active: always,
};

impl Contract for Certificate {
    type Details = CertificateDetails;

    fn policy_rules() -> Vec<Rule<CertificateDetails>> {
        vec![Rule {
            spec: MIN_CERT_DAYS_LEFT,
            check: |setting, f, d| {
                let leaves: Vec<(String, i64)> = d
                    .leaves()
                    .map(|(k, c)| (k.to_string(), c.days_left))
                    .collect();
                if leaves.is_empty() {
                    return Err(format!("`{}` holds no certificate", f.id));
                }
                Ok(cert_days(setting, &leaves))
            },
        }]
    }

    /// One row per chain: the leaf's subject, issuer, expiry, names and the SIP domain's identity.
    fn tables(_r: &Report, _f: &Finding, d: &CertificateDetails) -> Vec<Table> {
        if d.chains.is_empty() {
            return Vec::new();
        }
        let mut t = Table {
            title: "Certificate".into(),
            head: [
                "Key",
                "Subject",
                "Issuer",
                "Valid until",
                "Names",
                "Domain identity",
                "EKU",
            ]
            .map(String::from)
            .to_vec(),
            ..Table::default()
        };
        for (key, chain) in &d.chains {
            let Some(leaf) = chain.certificates.first() else {
                continue;
            };
            let names: Vec<&str> = leaf
                .dns_sans
                .iter()
                .chain(&leaf.uri_sans)
                .chain(&leaf.ip_sans)
                .map(String::as_str)
                .collect();
            let identity = match &chain.identity {
                Some(i) if i.matched => {
                    Cell::text(format!("{} proved ({})", i.domain, i.how)).class("pass")
                }
                Some(i) => Cell::text(format!("{} not proved", i.domain)).class("fail"),
                None => Cell::text("not checked"),
            };
            let until = Cell::text(format!("{} ({} days left)", leaf.not_after, leaf.days_left))
                .class(if leaf.days_left < 0 {
                    "fail"
                } else if leaf.days_left < 30 {
                    "warn"
                } else {
                    "pass"
                });
            t.rows.push(vec![
                Cell::text(key),
                Cell::text(&leaf.subject),
                Cell::text(&leaf.issuer),
                until,
                Cell::text(names.join(", ")),
                identity,
                eku_cell(&leaf.eku),
            ]);
        }
        let client = match (d.client_certificate_requested, d.client_certificate_outcome) {
            (false, _) => "no".to_string(),
            (true, None) => "yes".to_string(),
            (true, Some(o)) => format!(
                "yes ({}, {})",
                if d.client_certificate_sent {
                    "one sent"
                } else {
                    "none sent"
                },
                o.as_str()
            ),
        };
        t.note = Some(format!(
            "Client certificate requested: {client}. OCSP stapled: {}.{}",
            if d.ocsp_stapled { "yes" } else { "no" },
            if d.problems.is_empty() {
                String::new()
            } else {
                format!(" Problems: {}.", d.problems.join("; "))
            }
        ));
        vec![t]
    }
}
