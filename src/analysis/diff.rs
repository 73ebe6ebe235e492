//! Baseline diff: what got worse, better, new or gone between two reports of the same trunk
//! (`sipcheck diff` and `probe --baseline`). A CI job gates a trunk change on [`Diff::worse`].
//!
//! The two runs' scopes are compared first (transports, probes, opt-ins, timeout, policy): a finding
//! the new run could not have written because of its scope is "not probed", never "gone", and one
//! the baseline did not probe is said to be so. Findings are matched by id and endpoint, `policy.*`
//! included (a rule newly violated is worse; one that holds again is better); `baseline.*` is left
//! out, since it follows the run's options. Statuses are ranked pass/info < warn < error/blocked < fail;
//! `skipped` is unranked, so a probe that was not run is listed as "not comparable", never as better.
//! Findings are also compared by their details, each by its own contract
//! ([`crate::findings::Contract::diff`]): TLS versions re-enabled or disabled, cipher suites added or
//! removed (named by the grade the report gives them), media protections accepted or refused.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::findings::{Finding, Report, RuleStatus, Status};

pub use crate::findings::run::{Change, Kind};

/// All changes from a baseline to a new report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    /// The earlier report's target and start time, as shown.
    pub baseline: String,
    /// The later report's target and start time, as shown.
    pub new: String,
    /// How the two runs' scopes differ, said before any change (empty: the same scope).
    pub scope: Vec<String>,
    /// Every change, worst first.
    pub changes: Vec<Change>,
}

impl Diff {
    /// Whether anything got worse: the CI gate (exit 1).
    pub fn worse(&self) -> bool {
        self.changes.iter().any(|c| c.kind == Kind::Worse)
    }

    /// The changes of one kind.
    pub fn of(&self, kind: Kind) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(move |c| c.kind == kind)
    }

    /// Plain text, one change per line, grouped worse first.
    pub fn render_text(&self) -> String {
        let mut s = format!("sipcheck diff: {} → {}\n", self.baseline, self.new);
        for line in &self.scope {
            let _ = writeln!(s, "{:<15} {line}", "SCOPE");
        }
        if self.changes.is_empty() {
            s.push_str("no changes\n");
            return s;
        }
        for kind in KINDS {
            for c in self.of(kind) {
                let ep = c
                    .endpoint
                    .as_deref()
                    .map(|e| format!(" [{e}]"))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "{:<15} {}{ep}: {}",
                    kind.heading().to_uppercase(),
                    c.id,
                    c.what
                );
            }
        }
        let _ = writeln!(s, "\n{}", self.counts());
        s
    }

    /// Markdown, one section per kind.
    pub fn render_md(&self) -> String {
        let mut s = format!(
            "# sipcheck diff\n\nBaseline `{}` → new `{}`: {}.\n",
            self.baseline,
            self.new,
            self.counts()
        );
        if !self.scope.is_empty() {
            s.push_str("\n## Scope\n\nThe two runs did not measure the same things:\n\n");
            for line in &self.scope {
                let _ = writeln!(s, "- {line}");
            }
        }
        for kind in KINDS {
            let items: Vec<&Change> = self.of(kind).collect();
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(s, "\n## {}\n", kind.heading());
            for c in items {
                let ep = c
                    .endpoint
                    .as_deref()
                    .map(|e| format!(" (`{e}`)"))
                    .unwrap_or_default();
                let _ = writeln!(s, "- `{}`{ep}: {}", c.id, c.what.replace('\n', " "));
            }
        }
        s
    }

    fn counts(&self) -> String {
        KINDS
            .iter()
            .map(|k| format!("{} {}", self.of(*k).count(), k.heading().to_lowercase()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

const KINDS: [Kind; 6] = [
    Kind::Worse,
    Kind::Better,
    Kind::New,
    Kind::Gone,
    Kind::NotComparable,
    Kind::NotProbed,
];

type Key = (String, Option<String>, usize);

/// Whether a finding is compared: all but `baseline.*`, which is itself a diff against whatever
/// report the run was given.
fn compared(f: &Finding) -> bool {
    crate::findings::spec(&f.id).is_none_or(|s| s.probe != "baseline")
}

/// Whether a finding id is a policy rule's (`policy.*`), judged by the run's policy.
fn is_policy(id: &str) -> bool {
    crate::findings::spec(id).is_some_and(|s| s.probe == "policy")
}

/// Findings keyed by id, endpoint and occurrence (two findings with one id and endpoint stay apart).
fn keyed(r: &Report) -> BTreeMap<Key, &Finding> {
    let mut seen: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for f in r.findings.iter().filter(|f| compared(f)) {
        let n = seen.entry((f.id.clone(), f.endpoint.clone())).or_default();
        out.insert((f.id.clone(), f.endpoint.clone(), *n), f);
        *n += 1;
    }
    out
}

/// Compares two reports.
pub fn diff(baseline: &Report, new: &Report) -> Diff {
    let mut changes = Vec::new();
    let old_eps: Vec<String> = baseline.endpoints.iter().map(|e| e.label()).collect();
    let new_eps: Vec<String> = new.endpoints.iter().map(|e| e.label()).collect();
    for e in new_eps.iter().filter(|e| !old_eps.contains(e)) {
        let (kind, what) = match excluded(baseline, "endpoint", Some(e)) {
            Some(why) => (
                Kind::NotProbed,
                format!("endpoint not probed in the baseline ({why})"),
            ),
            None => (Kind::New, "endpoint added".into()),
        };
        changes.push(Change {
            kind,
            id: "endpoint".into(),
            endpoint: Some(e.clone()),
            what,
        });
    }
    for e in old_eps.iter().filter(|e| !new_eps.contains(e)) {
        let (kind, what) = match excluded(new, "endpoint", Some(e)) {
            Some(why) => (
                Kind::NotProbed,
                format!("endpoint not probed in this run ({why})"),
            ),
            None => (Kind::Gone, "endpoint gone".into()),
        };
        changes.push(Change {
            kind,
            id: "endpoint".into(),
            endpoint: Some(e.clone()),
            what,
        });
    }
    let old = keyed(baseline);
    let cur = keyed(new);
    for (key, f) in &cur {
        let change = |kind, what: String| Change {
            kind,
            id: key.0.clone(),
            endpoint: key.1.clone(),
            what,
        };
        let Some(b) = old.get(key) else {
            changes.push(change_only_in_new(baseline, key, f));
            continue;
        };
        if b.status != f.status {
            let what = format!("{} → {}: {}", b.status, f.status, f.summary);
            let kind = match (b.status.verdict_level(), f.status.verdict_level()) {
                (Some(x), Some(y)) if y > x => Some(Kind::Worse),
                (Some(x), Some(y)) if y < x => Some(Kind::Better),
                (Some(_), Some(_)) => None,
                _ => Some(Kind::NotComparable),
            };
            if let Some(kind) = kind {
                changes.push(change(kind, what));
            }
        }
        if b.status.is_measured() && f.status.is_measured() {
            for (kind, what) in detail_changes(b, f) {
                changes.push(change(kind, what));
            }
        }
    }
    for (key, b) in &old {
        if !cur.contains_key(key) {
            let (kind, what) = only_in_baseline(new, key, b);
            changes.push(Change {
                kind,
                id: key.0.clone(),
                endpoint: key.1.clone(),
                what,
            });
        }
    }
    changes.sort_by(|a, b| (a.kind, &a.id, &a.endpoint).cmp(&(b.kind, &b.id, &b.endpoint)));
    Diff {
        baseline: baseline.target.clone(),
        new: new.target.clone(),
        scope: scope_differences(baseline, new),
        changes,
    }
}

/// Why `report`'s run could not have written this finding (or endpoint), from its recorded scope.
fn excluded(report: &Report, id: &str, endpoint: Option<&str>) -> Option<String> {
    report.scope.as_ref()?.excludes(id, endpoint)
}

/// The policy a report was judged by, by name.
fn policy_name(r: &Report) -> Option<&str> {
    r.policy.as_ref().map(|p| p.name.as_str())
}

/// A finding only the new report has: new (worse when it fails, whatever the baseline probed, since
/// a fail is a fail), or not probed when the new run skipped it too.
fn change_only_in_new(baseline: &Report, key: &Key, f: &Finding) -> Change {
    let change = |kind, what: String| Change {
        kind,
        id: key.0.clone(),
        endpoint: key.1.clone(),
        what,
    };
    if f.status == Status::Skipped {
        return change(
            Kind::NotProbed,
            format!(
                "skipped in this run and absent from the baseline: {}",
                f.summary
            ),
        );
    }
    let unprobed = if is_policy(&key.0) {
        (policy_name(baseline) != f_policy(f).as_deref()).then(|| match policy_name(baseline) {
            Some(p) => format!("the baseline was judged by policy {p}"),
            None => "the baseline was not judged by a policy".to_string(),
        })
    } else {
        excluded(baseline, &key.0, key.1.as_deref())
    };
    // What the baseline could not have seen is new, not worse: the finding's own status still
    // gates this run.
    let kind = if f.status == Status::Fail && unprobed.is_none() {
        Kind::Worse
    } else {
        Kind::New
    };
    let note = unprobed
        .map(|why| format!(" (not probed in the baseline: {why})"))
        .unwrap_or_default();
    change(
        kind,
        format!("new finding, {}: {}{note}", f.status, f.summary),
    )
}

/// The policy a `policy.*` finding was judged by.
fn f_policy(f: &Finding) -> Option<String> {
    f.details
        .get("policy")
        .and_then(|p| p.as_str())
        .map(str::to_string)
}

/// A finding only the baseline has: gone, unless the new run could not have written it (its scope,
/// a probe it skipped, a policy it was not judged by), or a policy rule that holds again (better).
fn only_in_baseline(new: &Report, key: &Key, b: &Finding) -> (Kind, String) {
    if is_policy(&key.0) {
        let same = new
            .policy
            .as_ref()
            .filter(|p| Some(p.name.clone()) == f_policy(b));
        let Some(p) = same else {
            return (
                Kind::NotProbed,
                format!(
                    "this run was not judged by policy {} (was {}: {})",
                    f_policy(b).unwrap_or_default(),
                    b.status,
                    b.summary
                ),
            );
        };
        let rule = p
            .rules
            .iter()
            .find(|r| super::policy::finding_id(&r.rule) == key.0);
        return match rule.map(|r| (r.outcome, &r.summary)) {
            Some((RuleStatus::Pass, why)) => (Kind::Better, format!("rule holds now: {why}")),
            Some((RuleStatus::NotMeasured, why)) => (
                Kind::NotComparable,
                format!("rule not measured in this run: {why}"),
            ),
            _ => (
                Kind::NotProbed,
                format!("policy {} has no such rule in this run", p.name),
            ),
        };
    }
    if b.status == Status::Skipped {
        return (
            Kind::NotProbed,
            format!(
                "skipped in the baseline and absent from this run: {}",
                b.summary
            ),
        );
    }
    match excluded(new, &key.0, key.1.as_deref()) {
        Some(why) => (
            Kind::NotProbed,
            format!(
                "not probed in this run: {why} (was {}: {})",
                b.status, b.summary
            ),
        ),
        None => (
            Kind::Gone,
            format!("finding gone (was {}: {})", b.status, b.summary),
        ),
    }
}

/// How the runs' scopes differ, each difference in one line; a report that does not record its
/// scope (an older sipcheck, `listen`) is said to, since then gone cannot be told from not probed.
fn scope_differences(baseline: &Report, new: &Report) -> Vec<String> {
    let mut out = match (&baseline.scope, &new.scope) {
        (Some(b), Some(n)) => n.differences(b),
        (b, n) => {
            let mut out = Vec::new();
            for (side, r, s) in [("baseline", baseline, b), ("new", new, n)] {
                if s.is_none() {
                    out.push(format!(
                        "the {side} report (sipcheck {}) does not record its scope: what it lacks may not have been probed",
                        r.tool.version
                    ));
                }
            }
            out
        }
    };
    let both_scoped = baseline.scope.is_some() && new.scope.is_some();
    if !both_scoped && policy_name(baseline) != policy_name(new) {
        let name = |r| policy_name(r).unwrap_or("none").to_string();
        out.push(format!("policy {} → {}", name(baseline), name(new)));
    }
    out
}

/// Changes read from the details of two measured findings with the same id and endpoint, by the
/// contract of their id.
fn detail_changes(b: &Finding, f: &Finding) -> Vec<(Kind, String)> {
    match crate::findings::spec(&f.id) {
        Some(s) => (s.contract.diff)(b, f),
        None => Vec::new(),
    }
}
