//! Policy profiles: rules over findings and their details, checked after a scan (`--policy`).
//!
//! Modelled on sslyze's `--mozilla_config`: a profile names what a trunk must (not) do; each rule is
//! judged from the findings of the run. A violated rule adds a `fail` finding `policy.RULE`; a rule
//! whose finding was not measured is "not measured", never passed. The detail keys each rule reads are
//! documented on [`Rules`]; they are the contracts of the probes that write them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::suites::{SuiteClass, classify};
use super::{Finding, Report, Severity, Status};
use crate::error::{Error, Result};

const BUILTIN: &[(&str, &str)] = &[
    (
        "baseline",
        include_str!("../../probes/policies/baseline.toml"),
    ),
    ("strict", include_str!("../../probes/policies/strict.toml")),
];

/// TLS protocol versions as `tls.versions` keys them, oldest first.
pub const TLS_VERSIONS: [&str; 5] = ["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/// Finding ids written by probes that are documented but may not be registered in this build; a policy
/// may name them (an id in neither this list, the probe registry nor the questions file is a typo).
const DOCUMENTED_IDS: &[&str] = &[
    "tls.versions",
    "tls.cipher_suites",
    "tls.mismatch",
    "tls.certificate",
    "tls.groups",
    "sip.refer_policy",
    "auth.challenge",
    "auth.invite_unauthenticated",
    "media.sdes",
    "media.dtls_srtp",
    "media.rtp_plain",
    "media.sdes_cleartext",
    "media.srtp_flow",
    "robustness.malformed",
    "robustness.unknown_header",
    "robustness.unknown_require",
    "secagree.rfc3329",
    "dns.naptr",
    "dns.srv",
    "dns.aaaa",
    "dns.dnssec",
    "endpoints.parity",
];

/// A TLS version name, checked against [`TLS_VERSIONS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct TlsVersion(String);

impl TryFrom<String> for TlsVersion {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<TlsVersion, String> {
        if TLS_VERSIONS.contains(&s.as_str()) {
            Ok(TlsVersion(s))
        } else {
            Err(format!(
                "unknown TLS version {s:?} (expected one of {})",
                TLS_VERSIONS.join(", ")
            ))
        }
    }
}

impl From<TlsVersion> for String {
    fn from(v: TlsVersion) -> String {
        v.0
    }
}

impl TlsVersion {
    fn rank(&self) -> usize {
        TLS_VERSIONS
            .iter()
            .position(|v| *v == self.0)
            .unwrap_or_default()
    }
}

/// A suite class name as written in a policy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct ClassName(pub SuiteClass);

impl TryFrom<String> for ClassName {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<ClassName, String> {
        s.parse().map(ClassName)
    }
}

impl From<ClassName> for String {
    fn from(c: ClassName) -> String {
        c.0.as_str().to_string()
    }
}

/// The worst status a named finding may have: `pass`, `info` or `warn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct MaxStatus(pub Status);

impl TryFrom<String> for MaxStatus {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<MaxStatus, String> {
        match s.as_str() {
            "pass" => Ok(MaxStatus(Status::Pass)),
            "info" => Ok(MaxStatus(Status::Info)),
            "warn" => Ok(MaxStatus(Status::Warn)),
            _ => Err(format!(
                "{s:?} is not a worst allowed status (expected pass, info or warn)"
            )),
        }
    }
}

impl From<MaxStatus> for String {
    fn from(m: MaxStatus) -> String {
        m.0.as_str().to_string()
    }
}

/// The rules of a policy; every one is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Reads `tls.versions` details `{"TLSv1.0": {"accepted": bool}, …}`: no older version accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tls_version: Option<TlsVersion>,
    /// Reads `tls.cipher_suites` details `{"TLSv1.2": {"suites": [IANA names]}, …}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbidden_suite_classes: Option<Vec<ClassName>>,
    /// Reads `days_left` of the leaf in `sips.options` / `tls.certificate` details `chain[0]`
    /// (or `tls.certificate` details `days_left`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_cert_days_left: Option<i64>,
    /// Reads `media.sdes` / `media.dtls_srtp` details `accepted` (or their status): one must be accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srtp_required: Option<bool>,
    /// Reads `media.rtp_plain` details `accepted` (or its status: warn/fail mean accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plain_rtp_forbidden: Option<bool>,
    /// Reads `auth.challenge` details `algorithms` (or `md5_only`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5_only_forbidden: Option<bool>,
    /// Reads `secagree.rfc3329` details `supported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secagree_required: Option<bool>,
    /// Reads `robustness.malformed` details `liveness_failed` (or `cases[].alive`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed_liveness_required: Option<bool>,
    /// Reads `sip.server_header` details `version_disclosed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version_leak_allowed: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    name: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    rules: Rules,
    #[serde(default)]
    findings: BTreeMap<String, MaxStatus>,
}

/// A loaded policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    /// `builtin` or the file path.
    pub source: String,
    pub description: String,
    pub rules: Rules,
    /// Finding id → worst allowed status.
    pub findings: BTreeMap<String, Status>,
}

/// How one rule came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    Pass,
    Fail,
    NotMeasured,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Pass => "pass",
            RuleStatus::Fail => "fail",
            RuleStatus::NotMeasured => "not measured",
        }
    }
}

/// One rule's outcome, as written into the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleOutcome {
    /// The rule name (`min_tls_version`, or `findings.ID` for a finding's worst allowed status).
    pub rule: String,
    /// The rule's setting in the policy.
    pub setting: Value,
    pub outcome: RuleStatus,
    /// One sentence: what was found, or why it was not measured.
    pub summary: String,
    /// Endpoints (or `trunk`) that violate the rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<String>,
}

/// The policy a report was checked against and every rule's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PolicyOutcome {
    pub name: String,
    pub source: String,
    #[serde(default)]
    pub description: String,
    pub rules: Vec<RuleOutcome>,
}

impl PolicyOutcome {
    pub fn violated(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| r.outcome == RuleStatus::Fail)
            .count()
    }
}

fn known_ids() -> Vec<String> {
    let mut ids: Vec<String> = DOCUMENTED_IDS.iter().map(|s| s.to_string()).collect();
    for p in crate::probes::all() {
        ids.extend(p.finding_ids().into_iter().map(str::to_string));
    }
    for q in super::questions::builtin() {
        ids.extend(q.findings);
    }
    ids
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.contains(&format!("\"{key}\"")) || l.trim_start().starts_with(key))
        .map(|i| i + 1)
        .unwrap_or(1)
}

/// Parses a policy; errors name the file, the line and the reason in one line.
pub fn parse(text: &str, source: &str) -> Result<Policy> {
    let bad = |line: usize, reason: String| Error::BadFile {
        path: format!("{source}:{line}"),
        reason,
    };
    let file: PolicyFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        bad(line, e.message().trim().replace('\n', " "))
    })?;
    let known = known_ids();
    for id in file.findings.keys() {
        if !known.iter().any(|k| k == id) {
            return Err(bad(
                line_of_key(text, id),
                format!("unknown finding {id:?} (see `sipcheck probe --list-probes`)"),
            ));
        }
    }
    if let Some(d) = file.rules.min_cert_days_left
        && !(-36_500..=36_500).contains(&d)
    {
        return Err(bad(
            line_of_key(text, "min_cert_days_left"),
            "min_cert_days_left must be a number of days between -36500 and 36500".into(),
        ));
    }
    let name = file.name.unwrap_or_else(|| {
        std::path::Path::new(source)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| source.to_string())
    });
    Ok(Policy {
        name,
        source: source.to_string(),
        description: file.description,
        rules: file.rules,
        findings: file.findings.into_iter().map(|(k, v)| (k, v.0)).collect(),
    })
}

/// The names of the built-in policies.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// A built-in policy by name, or a policy file by path.
pub fn load(name_or_path: &str) -> Result<Policy> {
    if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        let mut p = parse(text, &format!("probes/policies/{name}.toml"))?;
        p.source = "builtin".into();
        return Ok(p);
    }
    let text = std::fs::read_to_string(name_or_path).map_err(|e| Error::BadFile {
        path: name_or_path.to_string(),
        reason: format!(
            "{e} (and no built-in policy has that name: {})",
            builtin_names().join(", ")
        ),
    })?;
    parse(&text, name_or_path)
}

/// What one measured finding says about a rule: `Ok(fact)`, `Err(violation)`, or `None` when the finding
/// lacks the details the rule needs.
type Check = Option<std::result::Result<String, String>>;

fn where_(f: &Finding) -> String {
    f.endpoint.clone().unwrap_or_else(|| "trunk".into())
}

/// Judges a rule over the measured findings with these ids. With `any`, one satisfied finding is enough
/// (e.g. SRTP via SDES or DTLS-SRTP); otherwise every measured finding must satisfy it.
fn judge(
    r: &Report,
    ids: &[&str],
    any: bool,
    check: impl Fn(&Finding) -> Check,
) -> (RuleStatus, String, Vec<String>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    let mut unmeasured = Vec::new();
    for f in r.findings.iter().filter(|f| ids.contains(&f.id.as_str())) {
        if !f.status.is_measured() {
            unmeasured.push(format!("`{}` {}: {}", f.id, f.status, f.summary));
            continue;
        }
        match check(f) {
            Some(Ok(fact)) => ok.push(format!("{fact} ({})", where_(f))),
            Some(Err(why)) => bad.push((where_(f), why)),
            None => unmeasured.push(format!("`{}` has no usable details", f.id)),
        }
    }
    let violated = if any {
        ok.is_empty() && !bad.is_empty()
    } else {
        !bad.is_empty()
    };
    if violated {
        let summary = bad
            .iter()
            .map(|(w, why)| format!("{why} ({w})"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut eps: Vec<String> = bad.into_iter().map(|(w, _)| w).collect();
        eps.dedup();
        (RuleStatus::Fail, summary, eps)
    } else if !ok.is_empty() {
        (RuleStatus::Pass, ok.join("; "), Vec::new())
    } else if unmeasured.is_empty() {
        (
            RuleStatus::NotMeasured,
            format!("no `{}` finding in the report", ids.join("` or `")),
            Vec::new(),
        )
    } else {
        (RuleStatus::NotMeasured, unmeasured.join("; "), Vec::new())
    }
}

fn flag(f: &Finding, key: &str) -> Option<bool> {
    f.details.get(key).and_then(Value::as_bool)
}

fn min_tls(r: &Report, min: &TlsVersion) -> (RuleStatus, String, Vec<String>) {
    judge(r, &["tls.versions"], false, |f| {
        let mut seen = false;
        let mut old = Vec::new();
        for (i, v) in TLS_VERSIONS.iter().enumerate() {
            let Some(acc) = f
                .details
                .get(*v)
                .and_then(|d| d.get("accepted"))
                .and_then(Value::as_bool)
            else {
                continue;
            };
            seen = true;
            if acc && i < min.rank() {
                old.push(*v);
            }
        }
        if !seen {
            None
        } else if old.is_empty() {
            Some(Ok(format!("nothing older than {} accepted", min.0)))
        } else {
            Some(Err(format!(
                "accepts {} (older than {})",
                old.join(", "),
                min.0
            )))
        }
    })
}

fn suites(r: &Report, forbidden: &[ClassName]) -> (RuleStatus, String, Vec<String>) {
    judge(r, &["tls.cipher_suites"], false, |f| {
        let obj = f.details.as_object()?;
        let mut seen = false;
        let mut hits = Vec::new();
        for (version, d) in obj {
            let Some(list) = d.get("suites").and_then(Value::as_array) else {
                continue;
            };
            seen = true;
            for name in list.iter().filter_map(Value::as_str) {
                let classes: Vec<String> = classify(name)
                    .into_iter()
                    .filter(|c| forbidden.iter().any(|x| x.0 == *c))
                    .map(|c| c.to_string())
                    .collect();
                if !classes.is_empty() {
                    hits.push(format!("{name} [{}] in {version}", classes.join(", ")));
                }
            }
        }
        if !seen {
            None
        } else if hits.is_empty() {
            Some(Ok("no forbidden suite accepted".into()))
        } else {
            Some(Err(format!("accepts {}", hits.join(", "))))
        }
    })
}

fn leaf_days(f: &Finding) -> Option<i64> {
    f.details
        .get("chain")
        .and_then(|c| c.get(0))
        .and_then(|l| l.get("days_left"))
        .or_else(|| f.details.get("days_left"))
        .and_then(Value::as_i64)
}

fn cert_days(r: &Report, min: i64) -> (RuleStatus, String, Vec<String>) {
    judge(r, &["sips.options", "tls.certificate"], false, |f| {
        let d = leaf_days(f)?;
        if d >= min {
            Some(Ok(format!("certificate valid {d} more days")))
        } else if d < 0 {
            Some(Err(format!("certificate expired {} days ago", -d)))
        } else {
            Some(Err(format!(
                "certificate has {d} days left (fewer than {min})"
            )))
        }
    })
}

/// Whether a media offer was accepted: the `accepted` detail, else the status (pass = accepted).
fn accepted_from(
    f: &Finding,
    status_means_accepted: impl Fn(Status) -> Option<bool>,
) -> Option<bool> {
    flag(f, "accepted").or_else(|| status_means_accepted(f.status))
}

fn evaluate_rules(p: &Policy, r: &Report) -> Vec<(RuleOutcome, &'static [u8])> {
    let rules = &p.rules;
    let mut out = Vec::new();
    let mut push =
        |rule: &str, setting: Value, q: &'static [u8], res: (RuleStatus, String, Vec<String>)| {
            out.push((
                RuleOutcome {
                    rule: rule.into(),
                    setting,
                    outcome: res.0,
                    summary: res.1,
                    violations: res.2,
                },
                q,
            ))
        };
    if let Some(v) = &rules.min_tls_version {
        push("min_tls_version", json!(v.0), &[1, 2], min_tls(r, v));
    }
    if let Some(c) = &rules.forbidden_suite_classes {
        push("forbidden_suite_classes", json!(c), &[10], suites(r, c));
    }
    if let Some(d) = rules.min_cert_days_left {
        push("min_cert_days_left", json!(d), &[4], cert_days(r, d));
    }
    if rules.srtp_required == Some(true) {
        let res = judge(
            r,
            &["media.sdes", "media.dtls_srtp"],
            true,
            |f| match accepted_from(f, |s| match s {
                Status::Pass => Some(true),
                Status::Fail | Status::Warn => Some(false),
                _ => None,
            })? {
                true => Some(Ok(format!("SRTP accepted via `{}`", f.id))),
                false => Some(Err(format!("SRTP not accepted via `{}`", f.id))),
            },
        );
        push("srtp_required", json!(true), &[5, 7], res);
    }
    if rules.plain_rtp_forbidden == Some(true) {
        let res = judge(r, &["media.rtp_plain"], false, |f| {
            match accepted_from(f, |s| match s {
                Status::Pass => Some(false),
                Status::Fail | Status::Warn => Some(true),
                _ => None,
            })? {
                true => Some(Err("plain RTP accepted".into())),
                false => Some(Ok("plain RTP refused".into())),
            }
        });
        push("plain_rtp_forbidden", json!(true), &[5], res);
    }
    if rules.md5_only_forbidden == Some(true) {
        let res = judge(r, &["auth.challenge"], false, |f| {
            let md5_only = match f.details.get("algorithms").and_then(Value::as_array) {
                Some(a) if !a.is_empty() => a.iter().all(|x| {
                    x.as_str().is_some_and(|s| {
                        s.eq_ignore_ascii_case("md5") || s.eq_ignore_ascii_case("md5-sess")
                    })
                }),
                _ => flag(f, "md5_only")?,
            };
            Some(if md5_only {
                Err("digest challenges offer MD5 only".into())
            } else {
                Ok("digest challenges offer more than MD5".into())
            })
        });
        push("md5_only_forbidden", json!(true), &[], res);
    }
    if rules.secagree_required == Some(true) {
        let res = judge(r, &["secagree.rfc3329"], false, |f| {
            Some(if flag(f, "supported")? {
                Ok("RFC 3329 sec-agree supported".into())
            } else {
                Err("RFC 3329 sec-agree not supported".into())
            })
        });
        push("secagree_required", json!(true), &[15], res);
    }
    if rules.malformed_liveness_required == Some(true) {
        let res = judge(r, &["robustness.malformed"], false, |f| {
            let failed = match flag(f, "liveness_failed") {
                Some(b) => b,
                None => {
                    let cases = f.details.get("cases")?.as_array()?;
                    let alive: Vec<bool> = cases
                        .iter()
                        .filter_map(|c| c.get("alive").and_then(Value::as_bool))
                        .collect();
                    if alive.is_empty() {
                        return None;
                    }
                    alive.contains(&false)
                }
            };
            Some(if failed {
                Err("stopped answering OPTIONS after a malformed message".into())
            } else {
                Ok("answered OPTIONS after every malformed message".into())
            })
        });
        push("malformed_liveness_required", json!(true), &[9], res);
    }
    if let Some(allowed) = rules.server_version_leak_allowed {
        let res = judge(r, &["sip.server_header"], false, |f| {
            Some(match (flag(f, "version_disclosed")?, allowed) {
                (true, false) => Err("Server/User-Agent header discloses a version".into()),
                (true, true) => Ok("version disclosed (allowed)".into()),
                (false, _) => Ok("no version disclosed".into()),
            })
        });
        push("server_version_leak_allowed", json!(allowed), &[], res);
    }
    for (id, max) in &p.findings {
        let res = judge(r, &[id.as_str()], false, |f| {
            Some(if status_rank(f.status) > status_rank(*max) {
                Err(format!("`{id}` is {} (at most {max} allowed)", f.status))
            } else {
                Ok(format!("`{id}` is {}", f.status))
            })
        });
        push(&format!("findings.{id}"), json!(max.as_str()), &[], res);
    }
    out
}

fn status_rank(s: Status) -> u8 {
    match s {
        Status::Pass => 0,
        Status::Info => 1,
        Status::Warn => 2,
        _ => 3,
    }
}

/// Checks a report against a policy: records the outcome in `report.policy` and adds a `fail` finding
/// `policy.RULE` for every violated rule (so the exit code becomes 1).
pub fn apply(p: &Policy, report: &mut Report) {
    let evaluated = evaluate_rules(p, report);
    for (o, questions) in &evaluated {
        if o.outcome != RuleStatus::Fail {
            continue;
        }
        let id = format!("policy.{}", o.rule.replace("findings.", "max_status."));
        let f = Finding::new(
            &id,
            &format!("Policy {}: {}", p.name, o.rule),
            Status::Fail,
            format!("policy {} rule {} violated: {}", p.name, o.rule, o.summary),
        )
        .severity(Severity::High)
        .questions(questions)
        .details(json!({
            "policy": p.name,
            "rule": o.rule,
            "setting": o.setting,
            "violations": o.violations,
        }));
        report.findings.push(f);
    }
    report.policy = Some(PolicyOutcome {
        name: p.name.clone(),
        source: p.source.clone(),
        description: p.description.clone(),
        rules: evaluated.into_iter().map(|(o, _)| o).collect(),
    });
}

/// The policy section of the markdown report.
pub fn render_md(p: &PolicyOutcome) -> String {
    let mut s = format!(
        "## Policy `{}`\n\n{}{}\n\n| Rule | Setting | Outcome | What was measured |\n|---|---|---|---|\n",
        p.name,
        if p.description.is_empty() {
            String::new()
        } else {
            format!("{} ", p.description)
        },
        format_args!("{} of {} rules violated.", p.violated(), p.rules.len())
    );
    for r in &p.rules {
        s.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            r.rule,
            r.setting,
            r.outcome.as_str(),
            r.summary.replace('|', "\\|").replace('\n', " ")
        ));
    }
    s.push('\n');
    s
}

/// One line for the terminal scorecard.
pub fn render_line(p: &PolicyOutcome) -> String {
    let n = |st: RuleStatus| p.rules.iter().filter(|r| r.outcome == st).count();
    format!(
        "policy {}: {} violated, {} passed, {} not measured",
        p.name,
        n(RuleStatus::Fail),
        n(RuleStatus::Pass),
        n(RuleStatus::NotMeasured)
    )
}
