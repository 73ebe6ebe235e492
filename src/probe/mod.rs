//! The probe framework: what a probe is, how probes are selected, and the context they share.
//!
//! A probe is a small type with a stable id, a title, a [`Safety`] class and the seed questions it
//! answers. It runs against a shared [`Context`] and returns findings; it never returns an error:
//! what went wrong becomes a finding (`error`, `blocked`, …), and a probe that panics or overruns its
//! time is turned into an `error` finding by the [runner](run).

mod challenge;
mod context;
mod runner;
mod settings;

use std::future::Future;
use std::pin::Pin;

pub use crate::progress::{Counter, Progress, ProgressEvent};
pub use crate::transport::Limiter;
pub use challenge::Authed;
pub use context::{Config, Context, DEFAULT_MAX_CONNECTIONS};
pub use runner::run;
pub use settings::{CallPolicy, DEFAULT_MAX_CALLS, LoopSettings};

use crate::findings::{Finding, Status};

/// A boxed future, so probes can be stored as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub use crate::findings::Safety;

/// One probe.
pub trait Probe: Send + Sync {
    /// Stable dotted id, e.g. `sip.refer`.
    fn id(&self) -> &'static str;
    fn title(&self) -> &'static str;
    /// The most disruptive class among its findings, from the registry.
    fn safety(&self) -> Safety {
        crate::findings::of_probe(self.id())
            .map(|s| s.safety)
            .max()
            .unwrap_or(Safety::Safe)
    }
    /// The ids of the findings this probe writes: the registry's rows for this probe.
    fn finding_ids(&self) -> Vec<&'static str> {
        crate::findings::of_probe(self.id()).map(|s| s.id).collect()
    }
    /// Seed questions (1–15) its findings answer, from the registry.
    fn questions(&self) -> Vec<u8> {
        let mut q: Vec<u8> = crate::findings::of_probe(self.id())
            .flat_map(|s| s.questions.iter().copied())
            .collect();
        q.sort_unstable();
        q.dedup();
        q
    }
    /// Why this probe, or part of it, would not run under this configuration (an opt-in flag missing);
    /// `--dry-run` shows it. Probes whose gate is not their safety class override it.
    fn gate(&self, ctx: &Context) -> Option<String> {
        match self.safety() {
            Safety::Safe => None,
            Safety::Calls => ctx.config.calls.permitted().err(),
            Safety::Intrusive => (!ctx.config.intrusive).then(|| "needs --intrusive".to_string()),
            Safety::Dos => (!ctx.config.dos).then(|| "needs --dos".to_string()),
        }
    }
    /// Runs against the context and returns findings. Must bound every wait.
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>>;
}

/// Whether `selector` picks `id`: the id itself, or a prefix ending at a `.` or `_` boundary
/// (`transport` picks `transport.udp`, `sip.refer` picks `sip.refer_policy`, `sip` does not pick `sips.options`).
pub fn selector_matches(selector: &str, id: &str) -> bool {
    let selector = selector.trim().trim_end_matches('.');
    if selector.is_empty() {
        return false;
    }
    id == selector
        || id
            .strip_prefix(selector)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('_'))
}

/// A `skipped` finding for every id a probe writes, with the reason.
pub fn skipped(probe: &dyn Probe, reason: &str) -> Vec<Finding> {
    probe
        .finding_ids()
        .into_iter()
        .map(|id| Finding::of(id, Status::Skipped, reason.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::selector_matches;

    #[test]
    fn selectors() {
        assert!(selector_matches("transport", "transport.udp"));
        assert!(selector_matches("transport.udp", "transport.udp"));
        assert!(selector_matches("sip", "sip.allow"));
        assert!(!selector_matches("sip", "sips.options"));
        assert!(selector_matches("sip.refer", "sip.refer_policy"));
        assert!(!selector_matches("tls.v", "tls.versions"));
        assert!(!selector_matches("", "tls.versions"));
    }
}
