//! The finding registry: every finding id sipcheck can write, and what every consumer needs to know
//! about it. Selection (`--probes`), `--list-probes`, policy id validation, the answer sheet's question
//! mapping, the JSON Schema and the "What is measured" table (`docs/measured.md`) all read [`REGISTRY`]; nothing
//! else lists finding ids, titles, seed questions or RFCs.
//!
//! This module is data only (no network code), so the report model and its renderers can depend on it.
//!
//! ## Adding a finding
//! 1. Define its details type in the family's file here (`tls.rs`, `dns.rs`, …): a struct that
//!    serializes to the finding's `details` object, deriving `Serialize`, `Deserialize`, `JsonSchema`,
//!    with `#[serde(default)]` so a report from an older sipcheck still loads.
//! 2. Add a row to the `registry!` table in `table.rs`: `CONST: DetailsType = "family.name" { … }`.
//! 3. Write it from the probe with `ids::CONST.finding(status, summary).with_details(&details)`, and read
//!    it back anywhere with `ids::CONST.read(&finding)` (a `Result`: what cannot be read is said).

mod model;
mod policy_outcome;
mod table;

pub mod auth;
pub mod call;
pub mod dns;
pub mod dos;
pub mod listen;
pub mod media;
pub mod robustness;
pub mod run;
pub mod secagree;
pub mod sip;
pub mod stir;
pub mod tls;

use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use model::{
    Evidence, Finding, Report, SCHEMA_VERSION, Severity, Status, Tool, now_rfc3339, read_json,
};
pub use policy_outcome::{PolicyOutcome, RuleOutcome, RuleStatus};
pub use table::{REGISTRY, ids};

/// How much a probe can disturb the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Safety {
    /// Ordinary requests a well-behaved client sends; fine against production.
    Safe,
    /// Places calls (which can cost money): only with `--allow-calls` and a number to call.
    Calls,
    /// Sends oversized or otherwise disruptive messages: only with `--intrusive`.
    Intrusive,
    /// Load or flood tests: opt-in, bounded, and stopped when the target degrades.
    Dos,
}

impl Safety {
    /// The lower-case name used in listings and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Safety::Safe => "safe",
            Safety::Calls => "calls",
            Safety::Intrusive => "intrusive",
            Safety::Dos => "dos",
        }
    }
}

/// Everything sipcheck knows about one finding id.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Stable dotted id. An id ending in `.*` names a family (`policy.*`).
    pub id: &'static str,
    pub title: &'static str,
    /// The probe that writes it (`--probes` accepts both), or the post-run analysis (`policy`, `baseline`).
    pub probe: &'static str,
    pub safety: Safety,
    /// The flag that enables it when it does not run by default ("" when it does).
    pub opt_in: &'static str,
    /// Seed questions (1–15) it answers.
    pub questions: &'static [u8],
    pub rfcs: &'static [&'static str],
    /// What a warn or fail means, in a buyer's words.
    pub meaning: &'static str,
    /// What to ask the carrier, or how to fix it.
    pub remedy: &'static str,
    /// The JSON Schema of its `details`, generated from the details type.
    pub details_schema: fn(&mut SchemaGenerator) -> Schema,
    /// The Rust name of its details type (for listings and schema titles).
    pub details_type: &'static str,
}

impl Spec {
    /// The category: the id up to the first dot.
    pub fn category(&self) -> &'static str {
        self.id.split('.').next().unwrap_or(self.id)
    }

    /// Whether a probe writes it during a scan (so `--probes` can select it and a policy can gate on it),
    /// rather than a post-run analysis or another subcommand.
    pub fn scanned(&self) -> bool {
        !matches!(self.probe, "policy" | "baseline" | "listen")
    }

    /// Whether this spec describes `id` (exactly, or as a member of a `.*` family).
    pub fn describes(&self, id: &str) -> bool {
        match self.id.strip_suffix('*') {
            Some(prefix) => id.starts_with(prefix) && id.len() > prefix.len(),
            None => self.id == id,
        }
    }
}

/// The spec of a finding id, if sipcheck can write it.
pub fn spec(id: &str) -> Option<&'static Spec> {
    REGISTRY.iter().find(|s| s.describes(id))
}

/// The specs a probe writes, in registry order.
pub fn of_probe(probe: &str) -> impl Iterator<Item = &'static Spec> + '_ {
    REGISTRY.iter().filter(move |s| s.probe == probe)
}

/// A typed handle on one registered finding id: writes findings with its registry facts and reads
/// their details back as `D`. A renamed field is then a compile error, not a silent `not_measured`.
pub struct FindingId<D> {
    pub id: &'static str,
    details: PhantomData<fn() -> D>,
}

impl<D> Clone for FindingId<D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<D> Copy for FindingId<D> {}

impl<D: Serialize + DeserializeOwned> FindingId<D> {
    pub(crate) const fn new(id: &'static str) -> FindingId<D> {
        FindingId {
            id,
            details: PhantomData,
        }
    }

    /// Its registry entry.
    pub fn spec(&self) -> &'static Spec {
        spec(self.id).expect("every FindingId is generated from a registry row")
    }

    /// A finding of this id with its registered title, questions and RFCs.
    pub fn finding(&self, status: Status, summary: impl Into<String>) -> Finding {
        Finding::of(self.id, status, summary)
    }

    /// The details of a finding of this id, parsed as `D`; the reason when they cannot be.
    pub fn read(&self, f: &Finding) -> Result<D, String> {
        if f.id != self.id && !self.spec().describes(&f.id) {
            return Err(format!("`{}` is not a `{}` finding", f.id, self.id));
        }
        D::deserialize(&f.details).map_err(|e| format!("`{}` details cannot be read: {e}", self.id))
    }
}

fn schema_of<D: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<D>()
}

/// The registry rows and a typed constant per row, from one table (`table.rs`).
macro_rules! registry {
    ($( $konst:ident : $ty:ty = $id:literal {
        title: $title:literal,
        probe: $probe:literal,
        safety: $safety:ident,
        opt_in: $opt_in:literal,
        questions: [$($q:literal),* $(,)?],
        rfcs: [$($rfc:literal),* $(,)?],
        meaning: $meaning:literal,
        remedy: $remedy:literal $(,)?
    } ),* $(,)?) => {
        /// Every finding id sipcheck can write, in report order.
        pub static REGISTRY: &[$crate::findings::Spec] = &[
            $( $crate::findings::Spec {
                id: $id,
                title: $title,
                probe: $probe,
                safety: $crate::findings::Safety::$safety,
                opt_in: $opt_in,
                questions: &[$($q),*],
                rfcs: &[$($rfc),*],
                meaning: $meaning,
                remedy: $remedy,
                details_schema: $crate::findings::schema_of::<$ty>,
                details_type: stringify!($ty),
            }, )*
        ];

        /// Typed handles on the registered ids (see [`FindingId`](crate::findings::FindingId)).
        pub mod ids {
            #[allow(unused_imports)]
            use super::*;
            $( #[doc = $id] pub const $konst: $crate::findings::FindingId<$ty> = $crate::findings::FindingId::new($id); )*
        }
    };
}
pub(crate) use registry;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_dotted_lower_case() {
        let mut seen = std::collections::BTreeSet::new();
        for s in REGISTRY {
            assert!(seen.insert(s.id), "{} registered twice", s.id);
            assert!(s.id.contains('.'), "{}", s.id);
            assert!(
                s.id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._*".contains(c)),
                "{}",
                s.id
            );
            assert!(s.questions.iter().all(|q| (1..=15).contains(q)), "{}", s.id);
            assert!(!s.title.is_empty());
        }
    }

    #[test]
    fn families_match_members_only() {
        let s = spec("policy.max_status.tls.versions").expect("family");
        assert_eq!(s.id, "policy.*");
        assert!(spec("policy.").is_none());
        assert!(spec("tls.version").is_none());
    }

    #[test]
    fn typed_handles_read_what_they_write() {
        let f = ids::TLS_CERTIFICATE
            .finding(Status::Pass, "ok")
            .with_details(&tls::CertificateDetails::default());
        assert_eq!(f.title, ids::TLS_CERTIFICATE.spec().title);
        assert!(ids::TLS_CERTIFICATE.read(&f).is_ok());
        assert!(ids::TLS_VERSIONS.read(&f).is_err());
    }
}

/// The "What is measured" table (`docs/measured.md`) agrees with the registry: every registered id is in it, and
/// each row's safety class and seed questions are the registry's.
#[cfg(test)]
mod measured_doc {
    use super::*;

    const MEASURED: &str = include_str!("../../docs/measured.md");

    /// (ids, safety, questions) of each row; `` `a.b` / `.c` `` expands to `a.b`, `a.c`.
    fn rows() -> Vec<(Vec<String>, String, String)> {
        let section = MEASURED
            .split("# What is measured")
            .nth(1)
            .expect("docs/measured.md has its What is measured heading");
        section
            .lines()
            .skip_while(|l| !l.starts_with("| Finding"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cols: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
                let mut ids = Vec::new();
                let mut family = String::new();
                for part in cols[0].split(['/', ',']) {
                    let id = part.trim().trim_matches('`');
                    if let Some(tail) = id.strip_prefix('.') {
                        ids.push(format!("{family}.{tail}"));
                    } else {
                        family = id.split('.').next().unwrap_or_default().to_string();
                        ids.push(id.to_string());
                    }
                }
                (
                    ids,
                    cols[1].trim_end_matches('¹').to_string(),
                    cols[3].to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn measured_table_matches_the_registry() {
        let rows = rows();
        assert!(rows.len() > 10, "{rows:?}");
        for s in REGISTRY {
            assert!(
                rows.iter().any(|(ids, _, _)| ids.iter().any(|i| i == s.id)),
                "{} is missing from the table of docs/measured.md",
                s.id
            );
        }
        for (ids, safety, questions) in &rows {
            let specs: Vec<&Spec> = ids
                .iter()
                .map(|i| {
                    spec(i).unwrap_or_else(|| panic!("docs/measured.md names unregistered {i}"))
                })
                .collect();
            let mut q: Vec<u8> = specs
                .iter()
                .flat_map(|s| s.questions.iter().copied())
                .collect();
            q.sort_unstable();
            q.dedup();
            let want = if q.is_empty() {
                "—".to_string()
            } else {
                q.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
            };
            assert_eq!(questions, &want, "questions of {ids:?}");
            if specs.iter().all(|s| s.scanned()) {
                for s in &specs {
                    assert_eq!(safety, s.safety.as_str(), "safety of {}", s.id);
                }
            }
        }
    }
}
