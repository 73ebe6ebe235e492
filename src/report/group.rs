//! Findings grouped for reading: one group per finding id, verdict and summary, with the endpoints it
//! holds for. A trunk with three transports or four servers says the same thing several times per
//! endpoint; a reader wants it once, and per-endpoint lines only where the endpoints differ.

use super::{Finding, Report, Severity, Status};

/// Findings with one id (or one `.*` family), one status and one summary.
#[derive(Debug)]
pub struct Group<'a> {
    /// The finding id, or the family (`policy.*`) when several members are folded.
    pub id: String,
    /// The worst status of the group.
    pub status: Status,
    /// One summary for the group.
    pub summary: String,
    /// The findings folded into the group.
    pub findings: Vec<&'a Finding>,
}

impl Group<'_> {
    /// The endpoints it holds for, in words: `udp, tcp, tls`, `3 of 4 servers`, or "" when trunk-wide.
    pub fn scope(&self, r: &Report) -> String {
        let labels: Vec<&str> = self
            .findings
            .iter()
            .filter_map(|f| f.endpoint.as_deref())
            .collect();
        scope_of(r, &labels)
    }

    /// The worst severity among its findings.
    pub fn severity(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::None)
    }
}

/// ` (severity high)`, or nothing for a finding that needs no fix: how the reports say it in words.
pub fn severity_words(s: Severity) -> String {
    match s {
        Severity::None => String::new(),
        s => format!(" (severity {})", s.as_str()),
    }
}

/// `labels` in words, relative to the report's endpoints.
pub fn scope_of(r: &Report, labels: &[&str]) -> String {
    r.scope_of(labels)
}

/// The folding family of an id: `policy.max_status.x` folds into `policy.*`.
fn family(id: &str) -> Option<&'static str> {
    crate::findings::spec(id)
        .map(|s| s.id)
        .filter(|s| s.ends_with(".*"))
}

/// The measured findings grouped, worst verdict first (fail, blocked, error, warn, info, pass), each
/// verdict in report order; skipped findings are left to [`skipped`].
pub fn measured(r: &Report) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = Vec::new();
    for f in r.findings.iter().filter(|f| f.status != Status::Skipped) {
        if let Some(fam) = family(&f.id) {
            match groups
                .iter_mut()
                .find(|g| g.id == fam && g.status == f.status)
            {
                Some(g) => g.findings.push(f),
                None => groups.push(Group {
                    id: fam.to_string(),
                    status: f.status,
                    summary: String::new(),
                    findings: vec![f],
                }),
            }
            continue;
        }
        match groups
            .iter_mut()
            .find(|g| g.id == f.id && g.status == f.status && g.summary == f.summary)
        {
            Some(g) => g.findings.push(f),
            None => groups.push(Group {
                id: f.id.clone(),
                status: f.status,
                summary: f.summary.clone(),
                findings: vec![f],
            }),
        }
    }
    for g in groups.iter_mut().filter(|g| g.id.ends_with(".*")) {
        let prefix = g.id.trim_end_matches('*');
        let tails: Vec<&str> = g
            .findings
            .iter()
            .map(|f| f.id.strip_prefix(prefix).unwrap_or(&f.id))
            .collect();
        g.summary = if g.findings.len() == 1 {
            g.findings[0].summary.clone()
        } else {
            format!("{} × {}: {}", g.findings.len(), g.status, tails.join(", "))
        };
    }
    groups.sort_by_key(|g| std::cmp::Reverse(display_rank(g.status)));
    groups
}

/// The reading order of verdicts: problems first, then facts, then passes.
fn display_rank(s: Status) -> u8 {
    match s {
        Status::Pass => 1,
        Status::Info => 2,
        other => other.badness(),
    }
}

/// Flag units of an `opt_in` text: `--call-to URI --dos` → [`--call-to URI`, `--dos`].
fn flag_units(opt_in: &str) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    for w in opt_in.split_whitespace() {
        match units.last_mut() {
            Some(u) if !w.starts_with("--") => {
                u.push(' ');
                u.push_str(w);
            }
            _ => units.push(w.to_string()),
        }
    }
    units
}

/// Skipped findings of one enabling flag, or of one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The ids, those of one category folded (`media.* (2), call.refer`).
    pub ids: String,
    /// What would enable them (`enable with --dos`), or why they were skipped.
    pub why: String,
    /// Every id of the group, unfolded.
    pub members: Vec<String>,
}

/// Skipped findings, one entry per enabling flag (the registry's `opt_in`, grouped by its first flag),
/// or per reason when no flag would enable them. Ids of one category are folded into `category.*`.
pub fn skipped(r: &Report) -> Vec<Skipped> {
    // (key, ids, flag units of each member)
    type Skips<'a> = Vec<(String, Vec<&'a str>, Vec<Vec<String>>)>;
    let mut groups: Skips = Vec::new();
    for f in r.findings.iter().filter(|f| f.status == Status::Skipped) {
        let units = crate::findings::spec(&f.id)
            .map(|s| flag_units(s.opt_in))
            .unwrap_or_default();
        let key = units.first().cloned().unwrap_or_else(|| f.summary.clone());
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, ids, _)) if ids.contains(&f.id.as_str()) => {}
            Some((_, ids, us)) => {
                ids.push(&f.id);
                us.push(units);
            }
            None => groups.push((key, vec![&f.id], vec![units])),
        }
    }
    groups
        .into_iter()
        .map(|(key, ids, units)| {
            let why = match units.iter().min_by_key(|u| u.len()) {
                Some(common) if !common.is_empty() => {
                    let mut extra: Vec<&String> = Vec::new();
                    for u in units.iter().flatten() {
                        if !common.contains(u) && !extra.contains(&u) {
                            extra.push(u);
                        }
                    }
                    let mut why = format!("enable with {}", common.join(" "));
                    if !extra.is_empty() {
                        let extra: Vec<&str> = extra.iter().map(|s| s.as_str()).collect();
                        why.push_str(&format!(" (some also need {})", extra.join(", ")));
                    }
                    why
                }
                _ => key,
            };
            Skipped {
                ids: fold_ids(&ids),
                why,
                members: ids.iter().map(|i| i.to_string()).collect(),
            }
        })
        .collect()
}

/// `media.sdes, media.srtp_flow, call.refer` → `media.* (2), call.refer`.
fn fold_ids(ids: &[&str]) -> String {
    let mut out: Vec<String> = Vec::new();
    let cat = |id: &str| id.split('.').next().unwrap_or(id).to_string();
    for id in ids {
        let c = cat(id);
        let n = ids.iter().filter(|i| cat(i) == c).count();
        let item = if n > 1 {
            format!("{c}.* ({n})")
        } else {
            id.to_string()
        };
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out.join(", ")
}

/// The three most severe probe findings (policy and baseline outcomes are summarised on their own line),
/// worst first, one per id.
pub fn most_severe(r: &Report) -> Vec<&Finding> {
    let mut fs: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| {
            matches!(
                f.status,
                Status::Fail | Status::Warn | Status::Error | Status::Blocked
            )
        })
        .filter(|f| crate::findings::spec(&f.id).is_none_or(|s| s.scanned()))
        .collect();
    fs.sort_by_key(|f| {
        (
            std::cmp::Reverse(f.status.badness()),
            std::cmp::Reverse(f.severity),
        )
    });
    let mut out: Vec<&Finding> = Vec::new();
    for f in fs {
        if out.len() < 3 && !out.iter().any(|o| o.id == f.id) {
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Endpoint, Port, Transport};

    fn report(endpoints: Vec<Endpoint>, findings: Vec<Finding>) -> Report {
        Report::of("sip.test", endpoints, findings)
    }

    fn ep(t: Transport, last: u8) -> Endpoint {
        Endpoint::new(t, format!("127.0.0.{last}").parse().unwrap(), Port::SIP)
    }

    #[test]
    fn same_words_on_every_transport_make_one_group() {
        let eps = vec![
            ep(Transport::Udp, 1),
            ep(Transport::Tcp, 1),
            ep(Transport::Tls, 1),
        ];
        let fs: Vec<Finding> = eps
            .iter()
            .map(|e| Finding::of("sip.server_header", Status::Warn, "kamailio 5.6").endpoint(e))
            .chain([
                Finding::of("robustness.malformed", Status::Warn, "UDP: 3 cases").endpoint(&eps[0]),
                Finding::of("robustness.malformed", Status::Warn, "TCP: 4 cases").endpoint(&eps[1]),
                Finding::of("tls.versions", Status::Pass, "ok").endpoint(&eps[2]),
                Finding::of("policy.secagree_required", Status::Fail, "x"),
                Finding::of("policy.max_status.tls.versions", Status::Fail, "y"),
            ])
            .collect();
        let r = report(eps, fs);
        let g = measured(&r);
        let line = |g: &Group| format!("{} {} [{}] {}", g.status, g.id, g.scope(&r), g.summary);
        let lines: Vec<String> = g.iter().map(line).collect();
        assert_eq!(
            lines,
            [
                "fail policy.* [] 2 × fail: secagree_required, max_status.tls.versions",
                "warn sip.server_header [udp, tcp, tls] kamailio 5.6",
                "warn robustness.malformed [udp] UDP: 3 cases",
                "warn robustness.malformed [tcp] TCP: 4 cases",
                "pass tls.versions [tls] ok",
            ]
        );
        assert_eq!(
            most_severe(&r)[0].id,
            "sip.server_header",
            "policy is not a probe finding"
        );
    }

    #[test]
    fn several_servers_are_counted() {
        let eps: Vec<Endpoint> = (1..=4).map(|i| ep(Transport::Tls, i)).collect();
        let mut fs: Vec<Finding> = eps[..3]
            .iter()
            .map(|e| Finding::of("tls.versions", Status::Pass, "ok").endpoint(e))
            .collect();
        fs.push(Finding::of("tls.versions", Status::Fail, "TLS 1.0").endpoint(&eps[3]));
        let r = report(eps, fs);
        let g = measured(&r);
        assert_eq!(g[0].scope(&r), "tls:127.0.0.4:5060");
        assert_eq!(g[1].scope(&r), "3 of 4 servers");
    }

    #[test]
    fn every_opt_in_is_flags_with_their_placeholders() {
        // The skipped lines print these units as "enable with ..."; prose in the registry's opt_in
        // would come out as a broken flag list.
        for s in crate::findings::REGISTRY.iter() {
            for u in flag_units(s.opt_in) {
                let ok = (u.starts_with("--") || u == "sipcheck listen")
                    && u.split_whitespace()
                        .skip(1)
                        .all(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == ':'));
                assert!(ok || u.starts_with("sipcheck"), "{}: {u:?}", s.id);
            }
        }
    }

    #[test]
    fn skipped_findings_fold_by_the_flag_that_enables_them() {
        let fs = vec![
            Finding::of("media.sdes", Status::Skipped, "places a call"),
            Finding::of("media.srtp_flow", Status::Skipped, "places a call"),
            Finding::of("call.refer", Status::Skipped, "places a call"),
            Finding::of("dns.srv", Status::Skipped, "the target is an IP address"),
        ];
        let s = skipped(&report(vec![], fs));
        let want = [
            (
                "media.* (2), call.refer",
                "enable with --allow-calls --call-to URI (some also need --refer-to URI)",
            ),
            ("dns.srv", "the target is an IP address"),
        ];
        let got: Vec<(&str, &str)> = s.iter().map(|x| (x.ids.as_str(), x.why.as_str())).collect();
        assert_eq!(got, want);
    }
}
