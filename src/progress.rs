//! A progress hook for front ends: the runner reports each probe as it starts and ends, and long
//! probes report counts inside them (catalog cases, TLS hellos, calls, flood steps), so a terminal can
//! show probes done / total and what runs now. Reports and files never depend on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressEvent {
    /// The run has `total` probes.
    Planned {
        /// Probes in the run.
        total: usize,
    },
    /// A probe started.
    Started {
        /// The probe's id.
        probe: &'static str,
    },
    /// A probe finished; `done` of `total` are finished.
    Finished {
        /// The probe's id.
        probe: &'static str,
        /// Probes finished so far.
        done: usize,
        /// Probes in the run.
        total: usize,
    },
    /// A count inside a running probe moved: `done` of `total` (`None` when not known ahead) `what`s,
    /// summed over the probe's endpoints. `probe` is empty for a count of the whole run (calls
    /// placed of `--max-calls`).
    Step {
        /// The probe's id (empty for a count of the whole run).
        probe: &'static str,
        /// What is counted (`cases`, `hellos`, `calls`, `flood steps`).
        what: &'static str,
        /// How many so far.
        done: usize,
        /// How many are expected, when known ahead.
        total: Option<usize>,
    },
}

/// The hook, called from the runner's task (keep it cheap; it must not block).
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<dyn Fn(ProgressEvent) + Send + Sync>>);

impl Progress {
    /// A hook that calls `f` with every event.
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

/// A count inside one long probe (`cases`, `hellos`, `calls`, `flood steps`), shared by the probe's
/// endpoints, that reports each move to the [`Progress`] hook. Cheap when nobody listens.
#[derive(Clone, Debug)]
pub struct Counter {
    progress: Progress,
    probe: &'static str,
    what: &'static str,
    done: Arc<AtomicUsize>,
    /// 0 while nothing is expected: the total is then unknown.
    total: Arc<AtomicUsize>,
}

impl Counter {
    /// A count of `what` inside `probe`, reported to `progress`.
    pub fn new(progress: Progress, probe: &'static str, what: &'static str) -> Counter {
        Counter {
            progress,
            probe,
            what,
            done: Arc::new(AtomicUsize::new(0)),
            total: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// `n` more are planned (one endpoint's share).
    pub fn expect(&self, n: usize) {
        self.total.fetch_add(n, Ordering::Relaxed);
        self.report();
    }

    /// One more is done.
    pub fn tick(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.report();
    }

    /// `done` and `total` are known from elsewhere (a budget shared by several probes).
    pub fn set(&self, done: usize, total: usize) {
        self.done.store(done, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.report();
    }

    fn report(&self) {
        if self.progress.0.is_none() {
            return;
        }
        let total = self.total.load(Ordering::Relaxed);
        self.progress.emit(ProgressEvent::Step {
            probe: self.probe,
            what: self.what,
            done: self.done.load(Ordering::Relaxed),
            total: (total > 0).then_some(total),
        });
    }
}

/// What a progress bar shows, kept up to date from the events: probes done of total, and the
/// probes running now, each with its count inside (`robustness.malformed cases 12/40`) once it
/// reported one, then the run's own counts (calls of `--max-calls`).
#[derive(Debug, Default)]
pub struct ProgressLine {
    running: Vec<(&'static str, String)>,
    run_wide: Vec<(&'static str, String)>,
}

/// The bar after one event: a new length or position when the event moved them, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// Probes in the run, when the event said.
    pub length: Option<usize>,
    /// Probes finished, when the event said.
    pub position: Option<usize>,
    /// `running tls.scan hellos 3/12, sip.allow; calls 1/7`.
    pub message: String,
}

impl ProgressLine {
    /// Takes one event.
    pub fn update(&mut self, e: ProgressEvent) -> Bar {
        let (mut length, mut position) = (None, None);
        match e {
            ProgressEvent::Planned { total } => length = Some(total),
            ProgressEvent::Started { probe } => self.running.push((probe, String::new())),
            ProgressEvent::Finished { probe, done, total } => {
                self.running.retain(|(p, _)| *p != probe);
                (length, position) = (Some(total), Some(done));
            }
            ProgressEvent::Step {
                probe,
                what,
                done,
                total,
            } => {
                let count = match total {
                    Some(t) => format!(" {what} {done}/{t}"),
                    None => format!(" {what} {done}"),
                };
                if probe.is_empty() {
                    match self.run_wide.iter_mut().find(|(w, _)| *w == what) {
                        Some((_, c)) => *c = count,
                        None => self.run_wide.push((what, count)),
                    }
                } else if let Some((_, c)) = self.running.iter_mut().find(|(p, _)| *p == probe) {
                    *c = count;
                }
            }
        }
        let now: Vec<String> = self
            .running
            .iter()
            .map(|(p, c)| format!("{p}{c}"))
            .collect();
        let wide: String = self.run_wide.iter().map(|(_, c)| format!(";{c}")).collect();
        Bar {
            length,
            position,
            message: format!("running {}{wide}", now.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn the_line_names_what_runs_with_its_count_and_the_runs_own_counts() {
        let mut line = ProgressLine::default();
        assert_eq!(
            line.update(ProgressEvent::Planned { total: 3 }).length,
            Some(3)
        );
        line.update(ProgressEvent::Started { probe: "tls.scan" });
        line.update(ProgressEvent::Started { probe: "sip.allow" });
        let step = |probe, what, done, total| ProgressEvent::Step {
            probe,
            what,
            done,
            total,
        };
        line.update(step("tls.scan", "hellos", 3, Some(12)));
        let bar = line.update(step("", "calls", 1, Some(7)));
        assert_eq!(
            bar.message,
            "running tls.scan hellos 3/12, sip.allow; calls 1/7"
        );
        let bar = line.update(ProgressEvent::Finished {
            probe: "tls.scan",
            done: 1,
            total: 3,
        });
        assert_eq!((bar.length, bar.position), (Some(3), Some(1)));
        assert_eq!(bar.message, "running sip.allow; calls 1/7");
    }

    #[test]
    fn a_counter_sums_its_endpoints_and_says_when_the_total_is_unknown() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let p = Progress::new(move |e| s.lock().unwrap().push(e));
        let c = Counter::new(p, "robustness.malformed", "cases");
        c.tick();
        let other = c.clone();
        c.expect(3);
        other.expect(2);
        other.tick();
        let last = |seen: &Mutex<Vec<ProgressEvent>>| seen.lock().unwrap().last().cloned();
        assert_eq!(
            last(&seen),
            Some(ProgressEvent::Step {
                probe: "robustness.malformed",
                what: "cases",
                done: 2,
                total: Some(5)
            })
        );
        assert_eq!(
            seen.lock().unwrap()[0],
            ProgressEvent::Step {
                probe: "robustness.malformed",
                what: "cases",
                done: 1,
                total: None
            }
        );
    }
}
