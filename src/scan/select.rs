//! `--probes`: which probes run, in nmap's habits. A term is a probe id, a finding id or a prefix
//! of either (`tls`, `sip.refer`), a safety class (`safe`, `calls`, `intrusive`, `dos`) or `all`;
//! a term starting with `-` or `!` leaves out what it names. Without any positive term everything
//! is selected (opt-in probes stay gated by their flags), so `--probes -dos` means "all but floods".
//!
//! Probes measure several findings at once (the TLS scan writes five). Naming one finding of such a
//! probe runs the whole probe and says which other findings come with it; leaving one out keeps the
//! probe and drops that finding from the report, and says so.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::findings::Safety;
use crate::probe::{Probe, selector_matches};

/// What a `--probes` list selects.
pub struct Selection {
    /// The probes to run, in registry order.
    pub probes: Vec<Arc<dyn Probe>>,
    /// Finding ids left out of the report although their probe runs.
    pub left_out: Vec<&'static str>,
    /// What the user should know about the selection: findings that come along, findings left out.
    pub notes: Vec<String>,
}

/// One term of the list.
enum Term<'a> {
    All,
    Class(Safety),
    Name(&'a str),
}

fn term(s: &str) -> Term<'_> {
    match s {
        "all" => Term::All,
        "safe" => Term::Class(Safety::Safe),
        "calls" => Term::Class(Safety::Calls),
        "intrusive" => Term::Class(Safety::Intrusive),
        "dos" => Term::Class(Safety::Dos),
        name => Term::Name(name),
    }
}

/// The finding ids of `probe` a term names (all of them when it names the probe or a class).
fn named_findings(probe: &dyn Probe, t: &Term<'_>) -> Vec<&'static str> {
    let ids = probe.finding_ids();
    match t {
        Term::All => ids,
        Term::Class(c) if probe.safety() == *c => ids,
        Term::Class(_) => Vec::new(),
        Term::Name(n) if selector_matches(n, probe.id()) => ids,
        Term::Name(n) => ids.into_iter().filter(|f| selector_matches(n, f)).collect(),
    }
}

/// Splits `a,b` entries and trims them; empty terms are dropped.
fn terms(selectors: &[String]) -> Vec<String> {
    selectors
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The probes (and left-out findings) a `--probes` list picks from `all`; a term that names
/// nothing is an error.
pub fn select_from(all: Vec<Arc<dyn Probe>>, selectors: &[String]) -> Result<Selection> {
    let terms = terms(selectors);
    let (excluded, included): (Vec<&str>, Vec<&str>) = terms
        .iter()
        .map(|s| s.as_str())
        .partition(|s| s.starts_with('-') || s.starts_with('!'));
    let excluded: Vec<&str> = excluded.iter().map(|s| &s[1..]).collect();
    for name in included.iter().chain(&excluded) {
        let t = term(name);
        if !all
            .iter()
            .any(|p| !named_findings(p.as_ref(), &t).is_empty())
        {
            return Err(Error::BadOption(format!(
                "--probes {name:?} matches no probe, finding or safety class \
                 (safe, calls, intrusive, dos; see --list-probes)"
            )));
        }
    }
    let mut sel = Selection {
        probes: Vec::new(),
        left_out: Vec::new(),
        notes: Vec::new(),
    };
    for p in all {
        let ids = p.finding_ids();
        let wanted: Vec<&'static str> = if included.is_empty() {
            ids.clone()
        } else {
            let mut w: Vec<&'static str> = included
                .iter()
                .flat_map(|n| named_findings(p.as_ref(), &term(n)))
                .collect();
            w.sort_unstable();
            w.dedup();
            w
        };
        let dropped: Vec<&'static str> = excluded
            .iter()
            .flat_map(|n| named_findings(p.as_ref(), &term(n)))
            .collect();
        let kept: Vec<&'static str> = ids
            .iter()
            .copied()
            .filter(|f| !dropped.contains(f))
            .collect();
        if wanted.is_empty() || kept.is_empty() || wanted.iter().all(|w| dropped.contains(w)) {
            continue;
        }
        let along: Vec<&'static str> = kept
            .iter()
            .copied()
            .filter(|f| !wanted.contains(f))
            .collect();
        if !along.is_empty() {
            sel.notes.push(format!(
                "{} is measured by the probe {}, which also reports {}",
                wanted.join(", "),
                p.id(),
                along.join(", ")
            ));
        }
        let gone: Vec<&'static str> = ids
            .iter()
            .copied()
            .filter(|f| dropped.contains(f))
            .collect();
        if !gone.is_empty() {
            sel.notes.push(format!(
                "{} left out of the report; the probe {} still runs for {}",
                gone.join(", "),
                p.id(),
                kept.join(", ")
            ));
            sel.left_out.extend(gone);
        }
        sel.probes.push(p);
    }
    if sel.probes.is_empty() {
        return Err(Error::BadOption(format!(
            "--probes {:?} leaves no probe to run",
            terms.join(",")
        )));
    }
    Ok(sel)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(sel: &Selection) -> Vec<&'static str> {
        sel.probes.iter().map(|p| p.id()).collect()
    }

    fn pick(s: &str) -> Result<Selection> {
        select_from(crate::probes::all(), &[s.to_string()])
    }

    #[test]
    fn classes_select_by_safety() {
        let safe = pick("safe").unwrap();
        assert!(ids(&safe).contains(&"tls.scan"));
        assert!(safe.probes.iter().all(|p| p.safety() == Safety::Safe));
        let dos = pick("dos").unwrap();
        assert!(!dos.probes.is_empty());
        assert!(dos.probes.iter().all(|p| p.safety() == Safety::Dos));
        let not_dos = pick("-dos").unwrap();
        assert!(not_dos.probes.iter().all(|p| p.safety() != Safety::Dos));
        assert_eq!(
            not_dos.probes.len() + dos.probes.len(),
            crate::probes::all().len()
        );
    }

    #[test]
    fn a_finding_of_a_shared_probe_says_what_comes_along() {
        let s = pick("tls.versions").unwrap();
        assert_eq!(ids(&s), ["tls.scan"]);
        assert!(s.left_out.is_empty());
        let note = s.notes.join("\n");
        assert!(
            note.contains("tls.versions is measured by the probe tls.scan")
                && note.contains("tls.cipher_suites"),
            "{note}"
        );
    }

    #[test]
    fn exclusions_drop_a_probe_or_leave_a_finding_out() {
        let s = pick("tls,-tls.groups").unwrap();
        assert_eq!(ids(&s), ["tls.scan", "tls.robot"]);
        assert_eq!(s.left_out, ["tls.groups"]);
        assert!(s.notes.iter().any(|n| n.contains("tls.groups left out")));
        let s = select_from(
            crate::probes::all(),
            &["transport".into(), "!transport.udp".into()],
        )
        .unwrap();
        assert!(!ids(&s).contains(&"transport.udp"));
        assert!(ids(&s).contains(&"transport.tcp"));
    }

    #[test]
    fn unknown_or_empty_selections_are_refused() {
        let e = pick("nosuch").err().unwrap().to_string();
        assert!(
            e.contains("matches no probe, finding or safety class"),
            "{e}"
        );
        let e = pick("tls,-tls").err().unwrap().to_string();
        assert!(e.contains("leaves no probe"), "{e}");
        assert!(pick("sip,-nosuch").is_err());
    }
}
