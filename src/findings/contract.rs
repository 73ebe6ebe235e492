//! The finding contract: everything sipcheck does with one finding id beyond measuring it, written
//! once beside its details type. The registry row binds an id to its contract; the answer sheet,
//! policy, diff, compare and the renderers loop over the registry and call these functions, so none
//! of them names a finding id.

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::run::Kind;
use super::{Finding, FindingId, Report, Severity, Status};

/// A measured finding of one id with its details read by that id's own handle.
pub struct Read<'a, D> {
    pub finding: &'a Finding,
    pub details: D,
}

/// What one finding says about a policy rule: `Ok(Ok(fact))`, `Ok(Err(violation))`, or `Err(why)` when
/// its details cannot tell (unreadable, or without the fact the rule needs).
pub type Check = Result<Result<String, String>, String>;

/// A policy rule, as a policy file names it. Several contracts may judge the same rule (the leaf
/// certificate of `sips.options` and of `tls.certificate`); they declare the same [`RuleSpec`].
#[derive(Debug, Clone, Copy)]
pub struct RuleSpec {
    /// The key under `[rules]` in a policy file.
    pub name: &'static str,
    /// The seed questions a violation concerns.
    pub questions: &'static [u8],
    /// One satisfied finding is enough (SRTP via SDES or DTLS-SRTP); otherwise every one must be.
    pub any: bool,
    /// Checks the setting a policy file gives; the reason in one line when it is not one.
    pub validate: fn(&serde_json::Value) -> Result<(), String>,
    /// Whether a (valid) setting asks for a judgement at all: `srtp_required = false` does not.
    pub active: fn(&serde_json::Value) -> bool,
}

/// A rule of one contract: its spec and how a finding of the contract's id is judged by it.
pub struct Rule<D> {
    pub spec: RuleSpec,
    pub check: fn(&serde_json::Value, &Finding, &D) -> Check,
}

/// A table a finding's details hold (the case table of malformed messages, the TLS matrix), in
/// neutral cells each renderer escapes and styles for its format.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// A heading of a few words (the renderer adds the endpoint).
    pub title: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// A sentence under the table (cases not run, client certificate asked for, …).
    pub note: Option<String>,
    /// The table holds every fact of the details, so a renderer may leave the JSON out.
    pub complete: bool,
}

/// One table cell: one or more spans.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    pub spans: Vec<Span>,
    /// A verdict class for the whole cell (`pass`, `warn`, `fail`, `info`).
    pub class: Option<&'static str>,
}

/// A run of text with an optional style class and a hover title.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    pub text: String,
    pub class: Option<&'static str>,
    pub title: Option<String>,
    /// Shown as code (an id or a name).
    pub code: bool,
    /// Shown emphasised (what a reader must not miss).
    pub strong: bool,
}

impl Cell {
    /// A cell of plain text.
    pub fn text(s: impl Into<String>) -> Cell {
        Cell {
            spans: vec![Span {
                text: s.into(),
                ..Span::default()
            }],
            class: None,
        }
    }

    /// The same cell with a verdict class.
    pub fn class(mut self, c: &'static str) -> Cell {
        self.class = Some(c);
        self
    }

    /// The text of every span, joined by spaces.
    pub fn plain(&self) -> String {
        self.spans
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// One finding id's contract. Every method has a default, so a finding with nothing to say beyond its
/// summary needs only its details type ([`Plain`]).
pub trait Contract: 'static {
    type Details: Serialize + DeserializeOwned + JsonSchema;

    /// How the details changed between a baseline finding and a new one of the same id and endpoint
    /// (both measured). Status changes are compared by `diff` itself.
    fn diff(_old: &Self::Details, _new: &Self::Details) -> Vec<(Kind, String)> {
        Vec::new()
    }

    /// The short answer to seed question `question` from the measured findings of this id (at least
    /// one), or `None` to leave it to the deciding finding's summary. A WARN or FAIL answer says why.
    fn answer(_question: u8, _r: &Report, _measured: &[Read<Self::Details>]) -> Option<String> {
        None
    }

    /// The policy rules this finding decides.
    fn policy_rules() -> Vec<Rule<Self::Details>> {
        Vec::new()
    }

    /// The severity of a finding with this status and these details; `None` keeps the status's default
    /// (or what the probe set).
    fn severity(_status: Status, _d: &Self::Details) -> Option<Severity> {
        None
    }

    /// Tables the details hold, for the report's appendix (`r` gives the findings of other ids of the
    /// same endpoint, e.g. the cipher suites beside the versions).
    fn tables(_r: &Report, _f: &Finding, _d: &Self::Details) -> Vec<Table> {
        Vec::new()
    }
}

/// The contract of a finding that has only its details: no diff, answer, rule or table of its own.
pub struct Plain<D>(std::marker::PhantomData<fn() -> D>);

impl<D: Serialize + DeserializeOwned + JsonSchema + 'static> Contract for Plain<D> {
    type Details = D;
}

/// The "not comparable" change for details one side cannot be read from: said, never guessed.
fn unreadable(side: &str, why: &str) -> (Kind, String) {
    (
        Kind::NotComparable,
        format!("the {side} report's details cannot be compared: {why}"),
    )
}

/// The contract's functions with the details read by the row's handle: what the registry row stores.
pub(crate) struct Erased;

impl Erased {
    pub(crate) fn diff<C: Contract>(
        h: FindingId<C::Details>,
        b: &Finding,
        f: &Finding,
    ) -> Vec<(Kind, String)> {
        match (h.read(b), h.read(f)) {
            (Ok(old), Ok(new)) => C::diff(&old, &new),
            (Err(e), _) => vec![unreadable("baseline", &e)],
            (_, Err(e)) => vec![unreadable("new", &e)],
        }
    }

    pub(crate) fn answer<C: Contract>(
        h: FindingId<C::Details>,
        question: u8,
        r: &Report,
        measured: &[&Finding],
    ) -> Option<String> {
        let read: Vec<Read<C::Details>> = measured
            .iter()
            .filter(|f| h.spec().describes(&f.id))
            .filter_map(|f| {
                h.read(f).ok().map(|details| Read {
                    finding: f,
                    details,
                })
            })
            .collect();
        if read.is_empty() {
            return None;
        }
        C::answer(question, r, &read).filter(|t| !t.is_empty())
    }

    pub(crate) fn rules<C: Contract>() -> Vec<RuleSpec> {
        C::policy_rules().into_iter().map(|r| r.spec).collect()
    }

    pub(crate) fn judge<C: Contract>(
        h: FindingId<C::Details>,
        rule: &str,
        setting: &serde_json::Value,
        f: &Finding,
    ) -> Option<Check> {
        let r = C::policy_rules()
            .into_iter()
            .find(|r| r.spec.name == rule)?;
        Some(h.read(f).and_then(|d| (r.check)(setting, f, &d)))
    }

    pub(crate) fn tables<C: Contract>(
        h: FindingId<C::Details>,
        r: &Report,
        f: &Finding,
    ) -> Result<Vec<Table>, String> {
        let d = h.read(f)?;
        Ok(C::tables(r, f, &d))
    }
}

/// A yes/no fact that flips between two reports: (worse when it turns true, on, off).
pub fn flip(
    old: Option<bool>,
    new: Option<bool>,
    worse_when_true: bool,
    on: &str,
    off: &str,
    id_fact: &str,
) -> Vec<(Kind, String)> {
    let (worse, better) = (Kind::Worse, Kind::Better);
    match (old, new) {
        (Some(false), Some(true)) => {
            vec![(if worse_when_true { worse } else { better }, on.to_string())]
        }
        (Some(true), Some(false)) => vec![(
            if worse_when_true { better } else { worse },
            off.to_string(),
        )],
        (Some(_), Some(_)) => Vec::new(),
        _ => vec![(
            Kind::NotComparable,
            format!("the report does not say whether {id_fact} (written by an older sipcheck)"),
        )],
    }
}

/// A rule setting that must be `true` or `false`.
pub fn a_bool(v: &serde_json::Value) -> Result<(), String> {
    if v.is_boolean() {
        Ok(())
    } else {
        Err(format!("expected true or false, found {v}"))
    }
}

/// Whether a boolean rule is switched on (`true`).
pub fn on(v: &serde_json::Value) -> bool {
    v.as_bool() == Some(true)
}

/// Every valid setting is judged.
pub fn always(_: &serde_json::Value) -> bool {
    true
}
