//! The scorecard view: what every format states about one report, computed once. The answers to the
//! seed questions, the grouped findings, the skipped ones, the per-endpoint matrix, the counts and
//! the tables the findings' details hold are worked out here, and every renderer (text, JSON,
//! markdown, HTML, JUnit, SARIF, compare) reads them from one [`View`]: two formats cannot disagree
//! on a fact because neither computes it.

use super::answers::{self, Answer};
use super::group::{self, Group};
use super::questions::{self, Question};
use super::{Finding, Report, Status};
use crate::analysis::policy::PolicyOutcome;
use crate::findings::{Summary, Table};

/// Every fact a rendering of one report states, computed once.
#[derive(Debug)]
pub struct View<'a> {
    /// The report the view is of.
    pub report: &'a Report,
    /// One answer per question of the answer sheet, in sheet order.
    pub answers: Vec<Answer>,
    /// The measured findings grouped, problems first.
    pub groups: Vec<Group<'a>>,
    /// The skipped findings folded by what would enable them.
    pub skipped: Vec<group::Skipped>,
    /// The three most severe probe findings, one per id.
    pub most_severe: Vec<&'a Finding>,
    /// Each question's verdict per endpoint, for a trunk with several servers of one transport.
    pub matrix: Option<Matrix>,
    /// The counts by status and severity, and the probes that ended in `error`.
    pub summary: Summary,
    /// The counts by status, every status in a fixed order.
    pub counts: [(Status, usize); 7],
    /// The tables of each finding (parallel to `report.findings`), or why its details cannot be read.
    pub tables: Vec<Result<Vec<Table>, String>>,
    /// The questions of the answer sheet nothing measured, and how to measure them.
    pub unmeasured: Vec<Unmeasured>,
}

/// A question nothing measured in this run, and what would.
#[derive(Debug, Clone)]
pub struct Unmeasured {
    /// The question.
    pub question: Question,
    /// The ways to measure it, from the registry rows of the findings answering it.
    pub ways: Vec<Way>,
    /// What this run said about those findings (why each was skipped), each once.
    pub reasons: Vec<String>,
}

/// One way to measure a question: the options that enable its findings' probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Way {
    /// The options, as the registry gives them ("" when the probe runs by default).
    pub flags: &'static str,
}

impl Way {
    /// Whether it needs no option: the probe runs by default (this run skipped it for a reason).
    pub fn by_default(&self) -> bool {
        self.flags.is_empty()
    }

    /// The `--` options it names.
    fn flag_names(&self) -> Vec<&'static str> {
        self.flags
            .split_whitespace()
            .filter(|w| w.starts_with("--"))
            .map(|w| w.trim_end_matches(','))
            .collect()
    }

    /// Whether `other` needs every option this way needs, and more.
    fn narrower_than(&self, other: &Way) -> bool {
        let (mine, theirs) = (self.flag_names(), other.flag_names());
        !mine.is_empty() && mine.len() < theirs.len() && mine.iter().all(|f| theirs.contains(f))
    }
}

/// Each question's verdict per endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// The endpoint labels, the columns.
    pub labels: Vec<String>,
    /// The questions some endpoint measured: (question number, one verdict per column).
    pub rows: Vec<(u8, Vec<Option<Status>>)>,
}

impl<'a> View<'a> {
    /// The view of a report.
    pub fn of(report: &'a Report) -> View<'a> {
        let summary = Summary::of(&report.findings);
        // The counts every format states are the JSON summary's.
        let c = summary.by_status;
        let counts = [
            (Status::Pass, c.pass),
            (Status::Warn, c.warn),
            (Status::Fail, c.fail),
            (Status::Info, c.info),
            (Status::Skipped, c.skipped),
            (Status::Error, c.error),
            (Status::Blocked, c.blocked),
        ];
        View {
            report,
            answers: answers::all(report),
            groups: group::measured(report),
            skipped: group::skipped(report),
            most_severe: group::most_severe(report),
            matrix: matrix(report),
            summary,
            counts,
            tables: report
                .findings
                .iter()
                .map(|f| super::tables::of(report, f))
                .collect(),
            unmeasured: Vec::new(),
        }
        .with_unmeasured()
    }

    fn with_unmeasured(mut self) -> Self {
        let r = self.report;
        self.unmeasured = self
            .answers
            .iter()
            .filter(|a| a.verdict.is_none())
            .map(|a| unmeasured(r, &a.question))
            .collect();
        self
    }

    /// The non-zero counts in words: `3 pass, 1 warn`.
    pub fn counts_text(&self) -> String {
        let counts: Vec<String> = self
            .counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(st, n)| format!("{n} {st}"))
            .collect();
        counts.join(", ")
    }

    /// How many findings have one of these statuses.
    pub fn count(&self, statuses: &[Status]) -> usize {
        self.counts
            .iter()
            .filter(|(s, _)| statuses.contains(s))
            .map(|(_, n)| n)
            .sum()
    }

    /// The policy outcome, when the run was judged by one.
    pub fn policy(&self) -> Option<&'a PolicyOutcome> {
        self.report.policy.as_ref()
    }

    /// The measured groups that need attention (warn and worse).
    pub fn notable(&self) -> impl Iterator<Item = &Group<'a>> {
        self.groups
            .iter()
            .filter(|g| g.status.badness() >= Status::Warn.badness())
    }

    /// The answer to question `number`.
    pub fn answer(&self, number: u8) -> Option<&Answer> {
        self.answers.iter().find(|a| a.question.number == number)
    }

    /// Every table of the report, in report order, with the finding it belongs to.
    pub fn all_tables(&self) -> impl Iterator<Item = (&'a Finding, &Table)> {
        self.report
            .findings
            .iter()
            .zip(&self.tables)
            .flat_map(|(f, t)| t.iter().flatten().map(move |t| (f, t)))
    }

    /// The questions not measured that the findings of a skipped group answer.
    pub fn questions_of(&self, s: &group::Skipped) -> Vec<u8> {
        self.unmeasured
            .iter()
            .filter(|u| s.members.iter().any(|m| u.question.answered_by(m)))
            .map(|u| u.question.number)
            .collect()
    }

    /// Whether a finding's id appears in the report (an answer links only to those).
    pub fn has_id(&self, id: &str) -> bool {
        self.report.findings.iter().any(|f| f.id == id)
    }
}

/// Each sheet question's verdict per endpoint (the worst measured finding answering it there), for a
/// trunk with several servers of one transport; `None` when there is one per transport (the sheet
/// already says it) or no endpoint measured any question.
fn matrix(r: &Report) -> Option<Matrix> {
    if !r.several_servers() {
        return None;
    }
    let labels: Vec<String> = r.endpoints.iter().map(|e| e.label()).collect();
    let rows: Vec<(u8, Vec<Option<Status>>)> = questions::sheet()
        .into_iter()
        .map(|q| {
            let cells = labels
                .iter()
                .map(|l| {
                    r.findings
                        .iter()
                        .filter(|f| f.endpoint.as_deref() == Some(l.as_str()))
                        .filter(|f| f.status != Status::Skipped && q.answered_by(&f.id))
                        .map(|f| f.status)
                        .max_by_key(|s| s.badness())
                })
                .collect::<Vec<_>>();
            (q.number, cells)
        })
        .filter(|(_, cells)| cells.iter().any(Option::is_some))
        .collect();
    (!rows.is_empty()).then_some(Matrix { labels, rows })
}

/// How to measure a question: one way per distinct set of options among the registry rows of the
/// findings answering it, and why this run's findings of it were skipped.
fn unmeasured(r: &Report, q: &Question) -> Unmeasured {
    let mut ways: Vec<Way> = Vec::new();
    for s in q.specs() {
        if !ways.iter().any(|w| w.flags == s.opt_in) {
            ways.push(Way { flags: s.opt_in });
        }
    }
    // A question a default probe answers needs no option (the reasons say why it was not run); a way
    // that needs every option of another and more is left to the reader of that one.
    if ways.iter().any(Way::by_default) {
        ways.retain(Way::by_default);
    }
    let all = ways.clone();
    ways.retain(|w| !all.iter().any(|o| o.narrower_than(w)));
    let mut reasons: Vec<String> = Vec::new();
    for f in r.findings.iter().filter(|f| q.answered_by(&f.id)) {
        if !reasons.iter().any(|x| x.eq_ignore_ascii_case(&f.summary)) {
            reasons.push(f.summary.clone());
        }
    }
    Unmeasured {
        question: q.clone(),
        ways,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Finding;

    fn report(findings: Vec<Finding>) -> Report {
        Report::of("t", Vec::new(), findings)
    }

    /// The options come from the registry rows answering the question: one way per set of options,
    /// none for a question a default probe answers, and no way that only adds options to another.
    #[test]
    fn unmeasured_questions_say_how_to_measure_them() {
        let r = report(vec![
            Finding::of("tls.versions", Status::Skipped, "no TLS endpoint"),
            Finding::of("media.sdes", Status::Skipped, "places a call"),
        ]);
        let v = View::of(&r);
        let of = |n: u8| {
            v.unmeasured
                .iter()
                .find(|u| u.question.number == n)
                .unwrap()
        };
        let flags = |n: u8| -> Vec<&str> { of(n).ways.iter().map(|w| w.flags).collect() };
        assert_eq!(
            flags(1),
            [""],
            "TLS runs by default; --profile is not needed"
        );
        assert_eq!(of(1).reasons, ["no TLS endpoint"]);
        assert_eq!(flags(5), ["--allow-calls --call-to URI"]);
        assert_eq!(of(5).reasons, ["places a call"]);
        assert_eq!(flags(16), ["--allow-calls --call-to URI --refer-to URI"]);
        assert!(
            flags(13).iter().all(|f| !f.starts_with("--dos")),
            "{:?}",
            flags(13)
        );
        assert_eq!(
            v.unmeasured.len(),
            v.answers.iter().filter(|a| a.verdict.is_none()).count()
        );
        for u in &v.unmeasured {
            let a = v.answer(u.question.number).unwrap();
            assert!(
                !a.text.contains("--"),
                "flags in the answer cell: {}",
                a.text
            );
        }
    }
}
