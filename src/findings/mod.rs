//! The finding registry: every finding id sipcheck can write, and what every consumer needs to know
//! about it. Selection (`--probes`), `--list-probes`, policy id validation, the answer sheet's question
//! mapping, the JSON Schema and the "What is measured" table (`docs/measured.md`) all read [`REGISTRY`]; nothing
//! else lists finding ids, titles, seed questions or RFCs.
//!
//! This module is data only (no network code), so the report model and its renderers can depend on it.
//!
//! ## Adding a finding: three files
//! 1. The contract, in the family's file here (`dos.rs`, `tls/contract.rs`, …): the details type
//!    (deriving `Serialize`, `Deserialize`, `JsonSchema`) and, when the finding has more to say than its
//!    summary, a type implementing [`Contract`]: `diff` (how the details changed between two reports),
//!    `answer` (its short answer to the seed questions it answers, saying why for a WARN/FAIL),
//!    `policy_rules` (the rules it decides), `severity`, `tables`. Every method has a default.
//! 2. The registry row in `table.rs`: `CONST: Details as Contract = "family.name" { … }` (or
//!    `CONST: Details = …` for [`Plain`]): title, probe, safety, questions, RFCs, meaning, remedy.
//! 3. The probe writes it with `ids::CONST.finding(status, summary).with_details(&details)`: details
//!    of another type do not compile. Anything reads it back with `ids::CONST.read(&finding)`.
//!
//! The answer sheet, policy, diff, compare and the renderers loop over [`REGISTRY`] and call the
//! contract's functions ([`Hooks`]); none of them names a finding id (a test checks).

pub mod contract;
mod model;
mod policy_outcome;
pub mod schema;
mod scope;
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

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use contract::{Check, Contract, Plain, RuleSpec, Span, Table};
pub use model::{
    Evidence, Finding, Report, SCHEMA_VERSION, Severity, Status, Tool, now_rfc3339, read_json,
};
pub use policy_outcome::{PolicyOutcome, RuleOutcome, RuleStatus};
pub use scope::{GatedOff, OptIns, ProbeError, Scope, SeverityCounts, StatusCounts, Summary};
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
    /// How severe the problem it reports is, as declared (the severity of its failing outcome,
    /// whatever one run measured): SARIF's `security-severity` of its rule.
    pub severity: Severity,
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
    /// What its contract does: diff, answers, policy rules, tables.
    pub contract: Hooks,
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

    /// Whether it is a measurement of the trunk, not a judgement a run adds from its options (`--policy`,
    /// `--baseline`), which diff and compare leave out.
    pub fn measures_trunk(&self) -> bool {
        !matches!(self.probe, "policy" | "baseline")
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
/// their details back as `D`. A renamed field is then a compile error, not a silent `not_measured`;
/// details of another type do not compile.
pub struct FindingId<D> {
    pub id: &'static str,
    /// The contract's severity for a status and details (`None`: the status's default).
    severity: fn(Status, &D) -> Option<Severity>,
}

impl<D> Clone for FindingId<D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<D> Copy for FindingId<D> {}

impl<D: Serialize + DeserializeOwned> FindingId<D> {
    pub(crate) const fn new(
        id: &'static str,
        severity: fn(Status, &D) -> Option<Severity>,
    ) -> FindingId<D> {
        FindingId { id, severity }
    }

    /// Its registry entry.
    pub fn spec(&self) -> &'static Spec {
        spec(self.id).expect("every FindingId is generated from a registry row")
    }

    /// A finding of this id with its registered title, questions and RFCs; its details are given with
    /// [`Draft::with_details`] (a finding without details, e.g. skipped: `.into()`).
    pub fn finding(&self, status: Status, summary: impl Into<String>) -> Draft<D> {
        Draft {
            finding: Finding::of(self.id, status, summary),
            handle: *self,
        }
    }

    /// A finding of a member of a `.*` family (`policy.min_tls_version`) with the family's facts.
    pub fn member(&self, id: &str, status: Status, summary: impl Into<String>) -> Draft<D> {
        debug_assert!(self.spec().describes(id), "{id} is not a {}", self.id);
        Draft {
            finding: Finding::of(id, status, summary),
            handle: *self,
        }
    }

    /// The details of a finding of this id, parsed as `D`; the reason when they cannot be.
    pub fn read(&self, f: &Finding) -> Result<D, String> {
        if f.id != self.id && !self.spec().describes(&f.id) {
            return Err(format!("`{}` is not a `{}` finding", f.id, self.id));
        }
        D::deserialize(&f.details).map_err(|e| format!("`{}` details cannot be read: {e}", self.id))
    }
}

/// A finding being written through its id's typed handle: details of type `D` only.
pub struct Draft<D> {
    finding: Finding,
    handle: FindingId<D>,
}

impl<D: Serialize + DeserializeOwned> Draft<D> {
    /// Sets the endpoint the finding is about.
    pub fn endpoint(mut self, e: &crate::target::Endpoint) -> Self {
        self.finding = self.finding.endpoint(e);
        self
    }

    /// Sets the severity (the contract's mapping, applied by `with_details`, wins when it has one).
    pub fn severity(mut self, s: Severity) -> Self {
        self.finding = self.finding.severity(s);
        self
    }

    /// Adds evidence.
    pub fn evidence(mut self, e: impl IntoIterator<Item = Evidence>) -> Self {
        self.finding = self.finding.evidence(e);
        self
    }

    /// The typed details, serialized into the `details` object, and the contract's severity.
    pub fn with_details(self, d: &D) -> Finding {
        let mut f = self.finding.set_details(d);
        if let Some(s) = (self.handle.severity)(f.status, d) {
            f.severity = s;
        }
        f
    }
}

impl<D> From<Draft<D>> for Finding {
    fn from(d: Draft<D>) -> Finding {
        d.finding
    }
}

fn schema_of<D: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<D>()
}

/// The registry rows and a typed constant per row, from one table (`table.rs`). Each row names the
/// finding's contract (`Plain<Details>` when it has nothing beyond its details).
macro_rules! registry {
    ($( $konst:ident : $ty:ty $(as $c:ty)? = $id:literal {
        title: $title:literal,
        probe: $probe:literal,
        safety: $safety:ident,
        opt_in: $opt_in:literal,
        $(severity: $sev:ident,)?
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
                severity: $crate::findings::declared_severity!($($sev)?),
                questions: &[$($q),*],
                rfcs: &[$($rfc),*],
                meaning: $meaning,
                remedy: $remedy,
                details_schema: $crate::findings::schema_of::<$ty>,
                details_type: stringify!($ty),
                contract: $crate::findings::Hooks {
                    diff: |b, f| $crate::findings::contract::Erased::diff::<$crate::findings::contract_of!($ty $(, $c)?)>(ids::$konst, b, f),
                    answer: |q, r, m| $crate::findings::contract::Erased::answer::<$crate::findings::contract_of!($ty $(, $c)?)>(ids::$konst, q, r, m),
                    rules: $crate::findings::contract::Erased::rules::<$crate::findings::contract_of!($ty $(, $c)?)>,
                    judge: |rule, setting, f| $crate::findings::contract::Erased::judge::<$crate::findings::contract_of!($ty $(, $c)?)>(ids::$konst, rule, setting, f),
                    tables: |r, f| $crate::findings::contract::Erased::tables::<$crate::findings::contract_of!($ty $(, $c)?)>(ids::$konst, r, f),
                },
            }, )*
        ];

        /// Typed handles on the registered ids (see [`FindingId`](crate::findings::FindingId)).
        pub mod ids {
            #[allow(unused_imports)]
            use super::*;
            $( #[doc = $id] pub const $konst: $crate::findings::FindingId<$ty> =
                $crate::findings::FindingId::new($id, <$crate::findings::contract_of!($ty $(, $c)?) as $crate::findings::Contract>::severity); )*
        }
    };
}
pub(crate) use registry;

/// A row's declared severity, [`Severity::Medium`] when the row declares none.
macro_rules! declared_severity {
    () => {
        $crate::findings::Severity::Medium
    };
    ($sev:ident) => {
        $crate::findings::Severity::$sev
    };
}
pub(crate) use declared_severity;

/// A row's contract: the one it names (`Details as Contract`), or [`Plain`] of its details. A contract
/// whose details are not the row's does not compile (`severity` takes the row's details type).
macro_rules! contract_of {
    ($ty:ty) => { $crate::findings::Plain<$ty> };
    ($ty:ty, $c:ty) => { $c };
}
pub(crate) use contract_of;

/// A contract's functions as the registry stores them: details read by the row's own handle.
#[derive(Clone, Copy)]
pub struct Hooks {
    /// Changes of the details between a baseline finding and a new one (both measured).
    pub diff: fn(&Finding, &Finding) -> Vec<(run::Kind, String)>,
    /// The answer to a seed question from the measured findings (of any id) answering it.
    pub answer: fn(u8, &Report, &[&Finding]) -> Option<String>,
    /// The policy rules the contract judges.
    pub rules: fn() -> Vec<RuleSpec>,
    /// A finding judged by a named rule with a setting (`None`: not a rule of this contract).
    pub judge: fn(&str, &serde_json::Value, &Finding) -> Option<Check>,
    /// The tables a finding's details hold (an error when they cannot be read).
    pub tables: fn(&Report, &Finding) -> Result<Vec<Table>, String>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hooks")
    }
}

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
