//! What a carrier comparison (`sipcheck compare`) sets side by side before any cell is rendered: the
//! reports, the name of each column (`--label`, else the target), and whether the reports measured the
//! same things. Two trunks probed with different transports, probe selections or opt-ins are not
//! compared like for like: a question one run did not measure reads "not measured", which says
//! nothing about that trunk. The warning goes first, on stderr and in the comparison itself.

use crate::error::{Error, Result};
use crate::findings::{Report, Scope};

/// Most probe ids named in one scope warning before the rest are counted.
const NAMED_PROBES: usize = 8;

/// Reports to compare, each with its column name, and what differs in their scopes.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The reports, one column each, in the order given.
    pub reports: Vec<Report>,
    /// The column names, parallel to `reports`.
    pub labels: Vec<String>,
    /// One sentence per way the reports' scopes differ (empty: measured alike).
    pub scope_warnings: Vec<String>,
}

impl Comparison {
    /// The comparison of `reports`, the first columns named by `labels` (the rest by their target).
    pub fn new(reports: Vec<Report>, labels: &[String]) -> Result<Comparison> {
        let labels = column_labels(&reports, labels)?;
        let scope_warnings = scope_warnings(&reports, &labels);
        Ok(Comparison {
            reports,
            labels,
            scope_warnings,
        })
    }
}

/// The column names: `--label`s in order, then each remaining report's target (numbered when two
/// columns would read alike). More labels than reports, an empty label or two equal labels are
/// refused: a column must say which trunk it is.
pub fn column_labels(reports: &[Report], given: &[String]) -> Result<Vec<String>> {
    if given.len() > reports.len() {
        return Err(Error::BadOption(format!(
            "{} --label given for {} reports (one per report, in order)",
            given.len(),
            reports.len()
        )));
    }
    if let Some(i) = given.iter().position(|l| l.trim().is_empty()) {
        return Err(Error::BadOption(format!(
            "--label {} is empty: name the trunk",
            i + 1
        )));
    }
    for (i, l) in given.iter().enumerate() {
        if given[..i].contains(l) {
            return Err(Error::BadOption(format!(
                "--label {l:?} is given twice: each column needs its own name"
            )));
        }
    }
    let names: Vec<&str> = reports
        .iter()
        .enumerate()
        .map(|(i, r)| given.get(i).map_or(r.target.as_str(), String::as_str))
        .collect();
    Ok(names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if i >= given.len() && names.iter().filter(|o| *o == n).count() > 1 {
                format!("{n} (#{})", i + 1)
            } else {
                n.to_string()
            }
        })
        .collect())
}

/// How the reports' scopes differ, one sentence per difference: transports, probes selected,
/// opt-ins, and reports that do not say their scope.
pub fn scope_warnings(reports: &[Report], labels: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let unknown: Vec<&str> = reports
        .iter()
        .zip(labels)
        .filter(|(r, _)| r.scope.is_none())
        .map(|(_, l)| l.as_str())
        .collect();
    let why = "a question its run did not measure cannot be told from one its trunk did not answer";
    if !unknown.is_empty() && unknown.len() == reports.len() {
        out.push(format!(
            "no report says what its run set out to measure (written by an older sipcheck or by hand): {why}"
        ));
    } else if !unknown.is_empty() {
        out.push(format!(
            "{} do(es) not say what the run set out to measure (written by an older sipcheck or by hand): {why}",
            unknown.join(", ")
        ));
    }
    let scoped: Vec<(&Scope, &str)> = reports
        .iter()
        .zip(labels)
        .filter_map(|(r, l)| r.scope.as_ref().map(|s| (s, l.as_str())))
        .collect();
    if scoped.len() < 2 {
        return out;
    }
    let transports =
        |s: &Scope| -> Vec<&'static str> { s.transports.iter().map(|t| t.as_str()).collect() };
    let sorted = |s: &Scope| {
        let mut t = transports(s);
        t.sort_unstable();
        t
    };
    if scoped.iter().any(|(s, _)| sorted(s) != sorted(scoped[0].0)) {
        let each: Vec<String> = scoped
            .iter()
            .map(|(s, l)| {
                let t = transports(s);
                format!(
                    "{l} {}",
                    if t.is_empty() {
                        "none".into()
                    } else {
                        t.join(", ")
                    }
                )
            })
            .collect();
        out.push(format!("transports probed differ: {}", each.join("; ")));
    }
    let mut all: Vec<&str> = Vec::new();
    for (s, _) in &scoped {
        for p in &s.probes {
            if !all.contains(&p.as_str()) {
                all.push(p);
            }
        }
    }
    for (s, l) in &scoped {
        let missing: Vec<&str> = all
            .iter()
            .copied()
            .filter(|p| !s.probes.iter().any(|q| q == p))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let mut named = missing
            .iter()
            .take(NAMED_PROBES)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if missing.len() > NAMED_PROBES {
            named.push_str(&format!(" and {} more", missing.len() - NAMED_PROBES));
        }
        out.push(format!(
            "{l}: {} probe(s) selected for another trunk were not selected: {named}",
            missing.len()
        ));
    }
    let flags: Vec<Vec<(&str, bool)>> = scoped
        .iter()
        .map(|(s, _)| s.opt_ins.flags().to_vec())
        .collect();
    for (i, (flag, _)) in flags[0].iter().enumerate() {
        let with: Vec<&str> = scoped
            .iter()
            .zip(&flags)
            .filter(|(_, f)| f[i].1)
            .map(|((_, l), _)| *l)
            .collect();
        if !with.is_empty() && with.len() < scoped.len() {
            out.push(format!("opt-in {flag} given for {} only", with.join(", ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{OptIns, Tool};
    use crate::target::Transport;

    fn report(target: &str, scope: Option<Scope>) -> Report {
        Report {
            schema_version: crate::findings::SCHEMA_VERSION,
            tool: Tool::default(),
            target: target.into(),
            domain: target.into(),
            started_at: String::new(),
            duration_ms: 0,
            endpoints: Vec::new(),
            findings: Vec::new(),
            incomplete: None,
            policy: None,
            scope,
            summary: Default::default(),
        }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn labels_name_columns_in_order_and_the_rest_by_target() {
        let rs = vec![report("a", None), report("a", None), report("a", None)];
        assert_eq!(
            column_labels(&rs, &[]).unwrap(),
            s(&["a (#1)", "a (#2)", "a (#3)"])
        );
        assert_eq!(
            column_labels(&rs, &s(&["Carrier A"])).unwrap(),
            s(&["Carrier A", "a (#2)", "a (#3)"])
        );
        let e = column_labels(&rs, &s(&["x", "y", "z", "w"])).unwrap_err();
        assert!(
            e.to_string().contains("4 --label given for 3 reports"),
            "{e}"
        );
        let e = column_labels(&rs, &s(&["x", "x"])).unwrap_err();
        assert!(e.to_string().contains("given twice"), "{e}");
        let e = column_labels(&rs, &s(&["x", " "])).unwrap_err();
        assert!(e.to_string().contains("--label 2 is empty"), "{e}");
    }

    #[test]
    fn scope_differences_are_said_one_per_line() {
        let wide = Scope {
            transports: vec![Transport::Udp, Transport::Tls],
            probes: s(&["transport.udp", "tls.versions"]),
            opt_ins: OptIns {
                dos: true,
                ..OptIns::default()
            },
            ..Scope::default()
        };
        let narrow = Scope {
            transports: vec![Transport::Udp],
            probes: s(&["transport.udp"]),
            ..Scope::default()
        };
        let rs = vec![
            report("a", Some(wide.clone())),
            report("b", Some(narrow)),
            report("c", None),
        ];
        let w = scope_warnings(&rs, &s(&["A", "B", "C"]));
        assert_eq!(
            w,
            s(&[
                "C do(es) not say what the run set out to measure (written by an older sipcheck or by hand): a question its run did not measure cannot be told from one its trunk did not answer",
                "transports probed differ: A udp, tls; B udp",
                "B: 1 probe(s) selected for another trunk were not selected: tls.versions",
                "opt-in --dos given for A only",
            ])
        );
        let same = vec![report("a", Some(wide.clone())), report("b", Some(wide))];
        assert!(scope_warnings(&same, &s(&["a", "b"])).is_empty());
        let old = vec![report("a", None), report("b", None)];
        assert!(scope_warnings(&old, &s(&["a", "b"]))[0].starts_with("no report says"));
    }
}
