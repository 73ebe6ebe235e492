//! Judging a report against a policy: each rule reads the documented details of its findings.

use serde_json::{Value, json};

use super::{ClassName, Policy, PolicyOutcome, RuleOutcome, RuleStatus, TlsVersion};
use crate::findings::ids;
use crate::findings::run::PolicyRuleDetails;
use crate::findings::tls::suites;
use crate::findings::tls::version::Version;
use crate::findings::{Finding, Report, Severity, Status};

/// What one measured finding says about a rule: `Ok(Ok(fact))`, `Ok(Err(violation))`, or `Err(why)` when
/// its details cannot tell (unreadable, or without the fact the rule needs).
type Check = std::result::Result<std::result::Result<String, String>, String>;

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

fn min_tls(r: &Report, min: &TlsVersion) -> (RuleStatus, String, Vec<String>) {
    let floor = min.version();
    judge(r, &[ids::TLS_VERSIONS.id], false, |f| {
        let d = ids::TLS_VERSIONS.read(f)?;
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
            Ok(format!("nothing older than {} accepted", min.0))
        } else {
            Err(format!("accepts {} (older than {})", old.join(", "), min.0))
        })
    })
}

fn suites(r: &Report, forbidden: &[ClassName]) -> (RuleStatus, String, Vec<String>) {
    judge(r, &[ids::TLS_CIPHER_SUITES.id], false, |f| {
        let d = ids::TLS_CIPHER_SUITES.read(f)?;
        if d.versions.is_empty() {
            return Err(format!("`{}` lists no version", f.id));
        }
        let mut hits = Vec::new();
        for (version, list) in &d.versions {
            for name in &list.suites {
                let classes: Vec<String> = suites::classes(name)
                    .into_iter()
                    .filter(|c| forbidden.iter().any(|x| x.0 == *c))
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
    })
}

/// The leaf certificates' days left: every chain of `tls.certificate`, the chain of `sips.options`.
fn leaf_days(f: &Finding) -> std::result::Result<Vec<(String, i64)>, String> {
    if f.id == ids::TLS_CERTIFICATE.id {
        let d = ids::TLS_CERTIFICATE.read(f)?;
        let v: Vec<(String, i64)> = d
            .leaves()
            .map(|(k, c)| (k.to_string(), c.days_left))
            .collect();
        return if v.is_empty() {
            Err(format!("`{}` holds no certificate", f.id))
        } else {
            Ok(v)
        };
    }
    let d = ids::SIPS_OPTIONS.read(f)?;
    match d.chain.first() {
        Some(leaf) => Ok(vec![(String::new(), leaf.days_left)]),
        None if !d.offered => Err(format!("`{}`: SIPS not offered, no certificate", f.id)),
        None => Err(format!("`{}` holds no certificate", f.id)),
    }
}

fn cert_days(r: &Report, min: i64) -> (RuleStatus, String, Vec<String>) {
    judge(
        r,
        &[ids::SIPS_OPTIONS.id, ids::TLS_CERTIFICATE.id],
        false,
        |f| {
            let leaves = leaf_days(f)?;
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
            Ok(if bad.is_empty() {
                Ok(format!("certificate valid {least} more days"))
            } else {
                Err(bad.join("; "))
            })
        },
    )
}

/// Whether a media finding's offer was accepted, from its typed `accepted`; a report written before
/// sipcheck wrote it cannot tell, and says so.
fn media_accepted(f: &Finding) -> std::result::Result<bool, String> {
    let accepted = match f.id.as_str() {
        id if id == ids::MEDIA_SDES.id => ids::MEDIA_SDES.read(f)?.accepted,
        id if id == ids::MEDIA_DTLS_SRTP.id => ids::MEDIA_DTLS_SRTP.read(f)?.accepted,
        id if id == ids::MEDIA_RTP_PLAIN.id => ids::MEDIA_RTP_PLAIN.read(f)?.accepted,
        other => return Err(format!("`{other}` is not a media offer finding")),
    };
    accepted.ok_or_else(|| {
        format!(
            "`{}` does not say whether the offer was accepted (written by an older sipcheck)",
            f.id
        )
    })
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
        let media = [ids::MEDIA_SDES.id, ids::MEDIA_DTLS_SRTP.id];
        let res = judge(r, &media, true, |f| {
            Ok(if media_accepted(f)? {
                Ok(format!("SRTP accepted via `{}`", f.id))
            } else {
                Err(format!("SRTP not accepted via `{}`", f.id))
            })
        });
        push("srtp_required", json!(true), &[5, 7], res);
    }
    if rules.plain_rtp_forbidden == Some(true) {
        let res = judge(r, &[ids::MEDIA_RTP_PLAIN.id], false, |f| {
            Ok(if media_accepted(f)? {
                Err("plain RTP accepted".into())
            } else {
                Ok("plain RTP refused".into())
            })
        });
        push("plain_rtp_forbidden", json!(true), &[5], res);
    }
    if rules.md5_only_forbidden == Some(true) {
        let res = judge(r, &[ids::AUTH_CHALLENGE.id], false, |f| {
            let d = ids::AUTH_CHALLENGE.read(f)?;
            let md5_only = d
                .offers_md5_only()
                .ok_or_else(|| format!("`{}`: no digest challenge was seen", f.id))?;
            Ok(if md5_only {
                Err("digest challenges offer MD5 only".into())
            } else {
                Ok("digest challenges offer more than MD5".into())
            })
        });
        push("md5_only_forbidden", json!(true), &[], res);
    }
    if rules.secagree_required == Some(true) {
        let res = judge(r, &[ids::SECAGREE_RFC3329.id], false, |f| {
            let d = ids::SECAGREE_RFC3329.read(f)?;
            Ok(if d.supported {
                Ok("RFC 3329 sec-agree supported".into())
            } else {
                Err("RFC 3329 sec-agree not supported".into())
            })
        });
        push("secagree_required", json!(true), &[15], res);
    }
    if rules.malformed_liveness_required == Some(true) {
        let res = judge(r, &[ids::ROBUSTNESS_MALFORMED.id], false, |f| {
            let d = ids::ROBUSTNESS_MALFORMED.read(f)?;
            // Reports from before the flag was written say it only per case.
            let failed = d.liveness_failed || d.cases.iter().any(|c| !c.alive);
            Ok(if failed {
                Err("stopped answering OPTIONS after a malformed message".into())
            } else {
                Ok("answered OPTIONS after every malformed message".into())
            })
        });
        push("malformed_liveness_required", json!(true), &[9], res);
    }
    if let Some(allowed) = rules.server_version_leak_allowed {
        let res = judge(r, &[ids::SIP_SERVER_HEADER.id], false, |f| {
            let d = ids::SIP_SERVER_HEADER.read(f)?;
            Ok(match (d.version_disclosed, allowed) {
                (true, false) => Err("Server/User-Agent header discloses a version".into()),
                (true, true) => Ok("version disclosed (allowed)".into()),
                (false, _) => Ok("no version disclosed".into()),
            })
        });
        push("server_version_leak_allowed", json!(allowed), &[], res);
    }
    if let Some(min) = &rules.min_owned_attestation {
        let res = judge(r, &[ids::STIR_ATTESTATION.id], false, |f| {
            let d = ids::STIR_ATTESTATION.read(f)?;
            let valid = d.verdict.as_deref() == Some("valid");
            Ok(match d.attestation.as_deref() {
                // "A" < "B" < "C": a letter at or before the minimum is enough.
                Some(a) if a <= min.0.as_str() && valid => Ok(format!(
                    "own number delivered with verified attestation {a}"
                )),
                Some(a) if a <= min.0.as_str() => Err(format!(
                    "own number delivered with attestation {a}, but its Identity did not fully verify"
                )),
                Some(a) => Err(format!("own number delivered with attestation {a}")),
                None if d.delivered => Err("own number delivered without attestation".into()),
                None => return Err("the owned-number loop call was not delivered".into()),
            })
        });
        push("min_owned_attestation", json!(min.0), &[12], res);
    }
    if rules.spoofed_calls_refused == Some(true) {
        let res = judge(
            r,
            &[ids::SPOOF_CALLER_ID.id, ids::SPOOF_ASSERTED_IDENTITY.id],
            false,
            |f| {
                let d = ids::SPOOF_CALLER_ID
                    .read(f)
                    .or_else(|_| ids::SPOOF_ASSERTED_IDENTITY.read(f))?;
                match d.spoof_went_through {
                    Some(true) => Ok(Err(format!(
                        "`{}`: a caller ID we do not own went through",
                        f.id
                    ))),
                    Some(false) => Ok(Ok(format!("`{}`: refused or replaced", f.id))),
                    None => Err(format!("`{}`: neither refused nor delivered", f.id)),
                }
            },
        );
        push("spoofed_calls_refused", json!(true), &[11], res);
    }
    if rules.forbid_early_data == Some(true) {
        let res = judge(r, &[ids::TLS_EARLY_DATA.id], false, |f| {
            ids::TLS_EARLY_DATA.read(f)?.forbid_early_data()
        });
        push("forbid_early_data", json!(true), &[14], res);
    }
    if rules.require_ems == Some(true) {
        let res = judge(r, &[ids::TLS_EXTENSIONS.id], false, |f| {
            ids::TLS_EXTENSIONS.read(f)?.require_ems()
        });
        push("require_ems", json!(true), &[14], res);
    }
    if rules.forbid_client_renegotiation == Some(true) {
        let res = judge(r, &[ids::TLS_EXTENSIONS.id], false, |f| {
            ids::TLS_EXTENSIONS.read(f)?.forbid_client_renegotiation()
        });
        push("forbid_client_renegotiation", json!(true), &[14], res);
    }
    if let Some(name) = &rules.profile {
        // One verdict per TLS endpoint, judged from that endpoint's tls.* findings (the profile
        // need not have been chosen with --profile when the report was written).
        let res = judge(r, &[ids::TLS_VERSIONS.id], false, |f| {
            let p = crate::findings::tls::profile::builtin(&name.0)?;
            let same: Vec<&Finding> = r
                .findings
                .iter()
                .filter(|x| x.endpoint == f.endpoint)
                .collect();
            p.judge(&crate::findings::tls::profile::Facts::of(same))
                .policy()
        });
        push("profile", json!(name.0), &[1, 2, 10], res);
    }
    for (id, max) in &p.findings {
        let res = judge(r, &[id.as_str()], false, |f| {
            Ok(if f.status.badness() > max.badness() {
                Err(format!("`{id}` is {} (at most {max} allowed)", f.status))
            } else {
                Ok(format!("`{id}` is {}", f.status))
            })
        });
        push(&format!("findings.{id}"), json!(max.as_str()), &[], res);
    }
    out
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
        // The registry's title, questions and RFCs for `policy.*`; what is particular to the rule
        // (policy, rule, setting, the questions it concerns) is in the summary and the details.
        let f = Finding::of(
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
