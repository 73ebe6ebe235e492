//! `sipcheck probe --list-probes`: the finding registry as text (grouped by probe) or JSON.

use serde::Serialize;

use crate::findings::{REGISTRY, Safety, Spec};

/// One registry row as `--list-probes --format json` writes it.
#[derive(Debug, Serialize)]
pub struct Listed {
    /// The finding id, stable across versions.
    pub id: &'static str,
    /// A short human title.
    pub title: &'static str,
    /// The id of the probe that writes it.
    pub probe: &'static str,
    /// The category it is grouped under.
    pub category: &'static str,
    /// What running it risks (safe, calls, intrusive, dos).
    pub safety: Safety,
    /// The flag that enables it when it does not run by default.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub opt_in: &'static str,
    /// The seed questions it answers.
    pub questions: &'static [u8],
    /// The RFCs it checks against.
    pub rfcs: &'static [&'static str],
    /// The Rust type of its details.
    pub details_type: &'static str,
    /// What a non-pass means.
    pub meaning: &'static str,
    /// What to do about it.
    pub remedy: &'static str,
}

impl From<&'static Spec> for Listed {
    fn from(s: &'static Spec) -> Listed {
        Listed {
            id: s.id,
            title: s.title,
            probe: s.probe,
            category: s.category(),
            safety: s.safety,
            opt_in: s.opt_in,
            questions: s.questions,
            rfcs: s.rfcs,
            details_type: s.details_type,
            meaning: s.meaning,
            remedy: s.remedy,
        }
    }
}

/// Every registered finding, in report order.
pub fn listing() -> Vec<Listed> {
    REGISTRY.iter().map(Listed::from).collect()
}

/// The registry as JSON.
pub fn render_json() -> String {
    let mut s = serde_json::to_string_pretty(&listing()).unwrap_or_default();
    s.push('\n');
    s
}

/// The registry as text: one block per probe (what `--probes` selects), one line per finding id.
pub fn render_text() -> String {
    let mut out = String::new();
    let mut probes: Vec<&str> = Vec::new();
    for s in REGISTRY {
        if !probes.contains(&s.probe) {
            probes.push(s.probe);
        }
    }
    for p in probes {
        let rows: Vec<&Spec> = REGISTRY.iter().filter(|s| s.probe == p).collect();
        let is_probe = rows.iter().all(|s| s.scanned());
        let indent = if rows.len() == 1 && rows[0].id == p {
            ""
        } else {
            "  "
        };
        if indent.is_empty() {
            // A probe that writes one finding of its own name needs no heading.
        } else {
            out.push_str(&format!(
                "{p}{}\n",
                if is_probe {
                    ""
                } else {
                    " (not a probe: not selectable with --probes)"
                }
            ));
        }
        let w = 32 - indent.len();
        for s in rows {
            let qs: Vec<String> = s.questions.iter().map(|q| q.to_string()).collect();
            out.push_str(&format!(
                "{indent}{:<w$} {:<10} {}{}{}\n",
                s.id,
                s.safety.as_str(),
                s.title,
                if qs.is_empty() {
                    String::new()
                } else {
                    format!(" (questions {})", qs.join(", "))
                },
                if s.opt_in.is_empty() {
                    String::new()
                } else {
                    format!(" [needs {}]", s.opt_in)
                }
            ));
        }
    }
    out
}
