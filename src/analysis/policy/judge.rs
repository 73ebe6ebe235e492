//! Judging a report against a policy: each rule is judged by the contracts of the findings that
//! declare it, over the measured findings of those ids; this file writes the `policy.*` findings.

use serde_json::json;

use super::{Policy, PolicyOutcome, RuleOutcome, RuleStatus, deciding, known_rules};
use crate::findings::ids;
use crate::findings::run::PolicyRuleDetails;
use crate::findings::{Check, Finding, Report, Severity, Status};

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
            Ok(Ok(fact)) => ok.push(format!("{fact} ({})", where_(f))),
            Ok(Err(why)) => bad.push((where_(f), why)),
            Err(why) => unmeasured.push(why),
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

fn evaluate_rules(p: &Policy, r: &Report) -> Vec<(RuleOutcome, &'static [u8])> {
    let mut out = Vec::new();
    for rule in known_rules() {
        let Some(setting) = p.rules.get(rule.name) else {
            continue;
        };
        if !(rule.active)(setting) {
            continue;
        }
        let specs = deciding(rule.name);
        let ids: Vec<&str> = specs.iter().map(|s| s.id).collect();
        let res = judge(r, &ids, rule.any, |f| {
            specs
                .iter()
                .find(|s| s.describes(&f.id))
                .and_then(|s| (s.contract.judge)(rule.name, setting, f))
                .unwrap_or_else(|| Err(format!("`{}` cannot judge {}", f.id, rule.name)))
        });
        out.push((
            RuleOutcome {
                rule: rule.name.into(),
                setting: setting.clone(),
                outcome: res.0,
                summary: res.1,
                violations: res.2,
            },
            rule.questions,
        ));
    }
    for (id, max) in &p.findings {
        let res = judge(r, &[id.as_str()], false, |f| {
            Ok(if f.status.badness() > max.badness() {
                Err(format!("`{id}` is {} (at most {max} allowed)", f.status))
            } else {
                Ok(format!("`{id}` is {}", f.status))
            })
        });
        out.push((
            RuleOutcome {
                rule: format!("findings.{id}"),
                setting: json!(max.as_str()),
                outcome: res.0,
                summary: res.1,
                violations: res.2,
            },
            &[],
        ));
    }
    out
}

/// The id of the `policy.*` finding a violated rule writes (`findings.ID` rules as `max_status.ID`).
pub fn finding_id(rule: &str) -> String {
    format!(
        "{}{}",
        ids::POLICY_RULE.id.trim_end_matches('*'),
        rule.replace("findings.", "max_status.")
    )
}

/// Checks a report against a policy: records the outcome in `report.policy` and adds a `fail` finding
/// `policy.RULE` for every violated rule (so the exit code becomes 1).
pub fn apply(p: &Policy, report: &mut Report) {
    let evaluated = evaluate_rules(p, report);
    for (o, questions) in &evaluated {
        if o.outcome != RuleStatus::Fail {
            continue;
        }
        let id = finding_id(&o.rule);
        // The registry's title, questions and RFCs for `policy.*`; what is particular to the rule
        // (policy, rule, setting, the questions it concerns) is in the summary and the details.
        let f = ids::POLICY_RULE
            .member(
                &id,
                Status::Fail,
                format!("policy {} rule {} violated: {}", p.name, o.rule, o.summary),
            )
            .severity(Severity::High)
            .with_details(&PolicyRuleDetails {
                policy: p.name.clone(),
                rule: o.rule.clone(),
                setting: o.setting.clone(),
                violations: o.violations.clone(),
                questions: questions.to_vec(),
            });
        report.findings.push(f);
    }
    report.policy = Some(PolicyOutcome {
        name: p.name.clone(),
        source: p.source.clone(),
        description: p.description.clone(),
        rules: evaluated.into_iter().map(|(o, _)| o).collect(),
    });
}
