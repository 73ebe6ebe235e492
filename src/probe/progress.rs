//! A progress hook for front ends: the runner reports each probe as it starts and ends, so a terminal
//! can show probes done / total and what runs now. Reports and files never depend on it.

use std::sync::Arc;

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressEvent {
    /// The run has `total` probes.
    Planned { total: usize },
    /// A probe started.
    Started { probe: &'static str },
    /// A probe finished; `done` of `total` are finished.
    Finished {
        probe: &'static str,
        done: usize,
        total: usize,
    },
}

/// The hook, called from the runner's task (keep it cheap; it must not block).
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<dyn Fn(ProgressEvent) + Send + Sync>>);

impl Progress {
    pub fn new(f: impl Fn(ProgressEvent) + Send + Sync + 'static) -> Progress {
        Progress(Some(Arc::new(f)))
    }

    /// Reports an event, if anyone listens.
    pub fn emit(&self, e: ProgressEvent) {
        if let Some(f) = &self.0 {
            f(e);
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(hook)"
        } else {
            "Progress(none)"
        })
    }
}
