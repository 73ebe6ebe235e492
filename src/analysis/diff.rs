//! Baseline diff: what got worse, better, new or gone between two reports of the same trunk
//! (`sipcheck diff` and `probe --baseline`). A CI job gates a trunk change on [`Diff::worse`].
//!
//! Findings are matched by id and endpoint; the `policy.*` and `baseline.*` findings a run adds are
//! left out, since they follow the options of the run, not the trunk. Statuses are ranked pass/info < warn < error/blocked < fail;
//! `skipped` is unranked, so a probe that was not run is listed as "not comparable", never as better.
//! Some findings are also compared by their details: TLS versions re-enabled or disabled, cipher suites
//! added or removed (a new suite in a weak class is worse), and media protections accepted or refused.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::findings::ids;
use crate::findings::tls::suites::classes;
use crate::findings::tls::version::Version;
use crate::findings::{Finding, Report, Status};

pub use crate::findings::run::{Change, Kind};

/// All changes from a baseline to a new report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    /// The earlier report's target and start time, as shown.
    pub baseline: String,
    /// The later report's target and start time, as shown.
    pub new: String,
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

const KINDS: [Kind; 5] = [
    Kind::Worse,
    Kind::Better,
    Kind::New,
    Kind::Gone,
    Kind::NotComparable,
];

type Key = (String, Option<String>, usize);

/// Whether a finding is a measurement of the trunk (not a judgement added by `--policy` or `--baseline`,
/// which depend on the options of the run rather than on the trunk).
fn measures_trunk(f: &Finding) -> bool {
    !(f.id.starts_with("policy.") || f.id.starts_with("baseline."))
}

/// Findings keyed by id, endpoint and occurrence (two findings with one id and endpoint stay apart).
fn keyed(r: &Report) -> BTreeMap<Key, &Finding> {
    let mut seen: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for f in r.findings.iter().filter(|f| measures_trunk(f)) {
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
        changes.push(Change {
            kind: Kind::New,
            id: "endpoint".into(),
            endpoint: Some(e.clone()),
            what: "endpoint added".into(),
        });
    }
    for e in old_eps.iter().filter(|e| !new_eps.contains(e)) {
        changes.push(Change {
            kind: Kind::Gone,
            id: "endpoint".into(),
            endpoint: Some(e.clone()),
            what: "endpoint gone".into(),
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
            let kind = if f.status == Status::Fail {
                Kind::Worse
            } else {
                Kind::New
            };
            changes.push(change(
                kind,
                format!("new finding, {}: {}", f.status, f.summary),
            ));
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
            changes.push(Change {
                kind: Kind::Gone,
                id: key.0.clone(),
                endpoint: key.1.clone(),
                what: format!("finding gone (was {}: {})", b.status, b.summary),
            });
        }
    }
    changes.sort_by(|a, b| (a.kind, &a.id, &a.endpoint).cmp(&(b.kind, &b.id, &b.endpoint)));
    Diff {
        baseline: baseline.target.clone(),
        new: new.target.clone(),
        changes,
    }
}

/// (version, suite) pairs a `tls.cipher_suites` finding lists.
fn suites(f: &Finding) -> Result<Vec<(String, String)>, String> {
    let d = ids::TLS_CIPHER_SUITES.read(f)?;
    Ok(d.versions
        .into_iter()
        .flat_map(|(v, l)| l.suites.into_iter().map(move |s| (v.clone(), s)))
        .collect())
}

/// The "not comparable" change for details one side cannot be read from: said, never guessed.
fn unreadable(side: &str, why: &str) -> (Kind, String) {
    (
        Kind::NotComparable,
        format!("the {side} report's details cannot be compared: {why}"),
    )
}

/// Both sides' reading, or the change saying which side cannot be read.
fn both<T>(b: Result<T, String>, f: Result<T, String>) -> Result<(T, T), (Kind, String)> {
    match (b, f) {
        (Ok(b), Ok(f)) => Ok((b, f)),
        (Err(e), _) => Err(unreadable("baseline", &e)),
        (_, Err(e)) => Err(unreadable("new", &e)),
    }
}

/// A yes/no fact of a media finding (`None` in reports from before sipcheck wrote it).
fn fact(
    id: &str,
    what: &str,
    read: impl Fn(&Finding) -> Result<Option<bool>, String>,
) -> impl Fn(&Finding) -> Result<bool, String> {
    move |f| {
        read(f)?.ok_or_else(|| {
            format!("`{id}` does not say whether {what} (written by an older sipcheck)")
        })
    }
}

/// Changes read from the details of two measured findings with the same id and endpoint.
fn detail_changes(b: &Finding, f: &Finding) -> Vec<(Kind, String)> {
    let mut out = Vec::new();
    // (worse when it turns true, the change when it turns true, the change when it turns false)
    let flip = |out: &mut Vec<(Kind, String)>,
                r: Result<(bool, bool), (Kind, String)>,
                worse_when_true: bool,
                on: &str,
                off: &str| {
        match r {
            Ok((false, true)) => out.push((
                if worse_when_true {
                    Kind::Worse
                } else {
                    Kind::Better
                },
                on.to_string(),
            )),
            Ok((true, false)) => out.push((
                if worse_when_true {
                    Kind::Better
                } else {
                    Kind::Worse
                },
                off.to_string(),
            )),
            Ok(_) => {}
            Err(c) => out.push(c),
        }
    };
    match f.id.as_str() {
        id if id == ids::TLS_VERSIONS.id => {
            match both(ids::TLS_VERSIONS.read(b), ids::TLS_VERSIONS.read(f)) {
                Ok((old, new)) => {
                    for v in Version::REPORTED.map(Version::label) {
                        let acc = |d: &crate::findings::tls::VersionsDetails| {
                            d.versions.get(v).map(|o| o.accepted)
                        };
                        match (acc(&old), acc(&new)) {
                            (Some(false), Some(true)) => {
                                out.push((Kind::Worse, format!("{v} re-enabled")))
                            }
                            (Some(true), Some(false)) => {
                                out.push((Kind::Better, format!("{v} disabled")))
                            }
                            _ => {}
                        }
                    }
                }
                Err(c) => out.push(c),
            }
        }
        id if id == ids::TLS_CIPHER_SUITES.id => {
            let (old, new) = match both(suites(b), suites(f)) {
                Ok(x) => x,
                Err(c) => return vec![c],
            };
            for (v, s) in new.iter().filter(|x| !old.contains(x)) {
                let classes = classes(s);
                if classes.is_empty() {
                    out.push((Kind::New, format!("suite {s} now accepted in {v}")));
                } else {
                    let c: Vec<&str> = classes.iter().map(|c| c.as_str()).collect();
                    out.push((
                        Kind::Worse,
                        format!("weak suite {s} [{}] now accepted in {v}", c.join(", ")),
                    ));
                }
            }
            for (v, s) in old.iter().filter(|x| !new.contains(x)) {
                let kind = if classes(s).is_empty() {
                    Kind::Gone
                } else {
                    Kind::Better
                };
                out.push((kind, format!("suite {s} no longer accepted in {v}")));
            }
        }
        id if id == ids::MEDIA_SDES.id => {
            let read = fact(id, "SDES-SRTP was established", |f| {
                Ok(ids::MEDIA_SDES.read(f)?.accepted)
            });
            flip(
                &mut out,
                both(read(b), read(f)),
                false,
                "SDES-SRTP now accepted",
                "SDES-SRTP no longer accepted",
            );
        }
        id if id == ids::MEDIA_DTLS_SRTP.id => {
            let read = fact(id, "DTLS-SRTP was established", |f| {
                Ok(ids::MEDIA_DTLS_SRTP.read(f)?.accepted)
            });
            flip(
                &mut out,
                both(read(b), read(f)),
                false,
                "DTLS-SRTP now accepted",
                "DTLS-SRTP no longer accepted",
            );
        }
        id if id == ids::MEDIA_RTP_PLAIN.id => {
            let read = fact(id, "plain RTP was accepted", |f| {
                Ok(ids::MEDIA_RTP_PLAIN.read(f)?.accepted)
            });
            flip(
                &mut out,
                both(read(b), read(f)),
                true,
                "plain RTP now accepted (SRTP no longer required)",
                "plain RTP now refused (SRTP required)",
            );
        }
        id if id == ids::MEDIA_SRTP_FLOW.id => {
            let read = fact(id, "SRTP was verified both ways", |f| {
                Ok(ids::MEDIA_SRTP_FLOW.read(f)?.verified)
            });
            flip(
                &mut out,
                both(read(b), read(f)),
                false,
                "SRTP now verified in both directions",
                "SRTP no longer verified in both directions",
            );
        }
        _ => {
            if let Some(c) = crate::findings::tls::hooks::changes(b, f) {
                out.extend(c);
            }
        }
    }
    out
}
