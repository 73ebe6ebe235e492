//! Judging a report against a policy: each rule reads the documented details of its findings.

use serde_json::{Value, json};

use super::{ClassName, Policy, PolicyOutcome, RuleOutcome, RuleStatus, TLS_VERSIONS, TlsVersion};
use crate::report::suites::classify;
use crate::report::{Finding, Report, Severity, Status};

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
    if let Some(min) = &rules.min_owned_attestation {
        let res = judge(r, &["stir.attestation"], false, |f| {
            let verdict = f.details.get("verdict").and_then(Value::as_str);
            Some(match f.details.get("attestation").and_then(Value::as_str) {
                // "A" < "B" < "C": a letter at or before the minimum is enough.
                Some(a) if a <= min.0.as_str() && verdict == Some("valid") => Ok(format!(
                    "own number delivered with verified attestation {a}"
                )),
                Some(a) if a <= min.0.as_str() => Err(format!(
                    "own number delivered with attestation {a}, but its Identity did not fully verify"
                )),
                Some(a) => Err(format!("own number delivered with attestation {a}")),
                None if f.details.get("delivered").and_then(Value::as_bool)? => {
                    Err("own number delivered without attestation".into())
                }
                None => return None,
            })
        });
        push("min_owned_attestation", json!(min.0), &[12], res);
    }
    if rules.spoofed_calls_refused == Some(true) {
        let res = judge(
            r,
            &["spoof.caller_id", "spoof.asserted_identity"],
            false,
            |f| {
                Some(if flag(f, "spoof_went_through")? {
                    Err(format!(
                        "`{}`: a caller ID we do not own went through",
                        f.id
                    ))
                } else {
                    Ok(format!("`{}`: refused or replaced", f.id))
                })
            },
        );
        push("spoofed_calls_refused", json!(true), &[11], res);
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
