//! The scorecard view: what every format states about one report, computed once. The answers to the
//! seed questions, the grouped findings, the skipped ones, the per-endpoint matrix, the counts and
//! the tables the findings' details hold are worked out here, and every renderer (text, JSON,
//! markdown, HTML, JUnit, SARIF, compare) reads them from one [`View`]: two formats cannot disagree
//! on a fact because neither computes it.

use super::answers::{self, Answer};
use super::group::{self, Group};
use super::questions;
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
    /// The skipped findings folded by what would enable them: (ids, why).
    pub skipped: Vec<(String, String)>,
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
        View {
            report,
            answers: answers::all(report),
            groups: group::measured(report),
            skipped: group::skipped(report),
            most_severe: group::most_severe(report),
            matrix: matrix(report),
            summary: Summary::of(&report.findings),
            counts: report.counts(),
            tables: report
                .findings
                .iter()
                .map(|f| super::tables::of(report, f))
                .collect(),
        }
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
