//! The seed questions, loaded from `probes/questions.toml` (embedded at build time).

use serde::Deserialize;

use crate::error::{Error, Result};

const BUILTIN: &str = include_str!("../../probes/questions.toml");

/// One seed question.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The question's number in the SIP security challenge (1–15).
    pub number: u8,
    /// A few words for tables.
    pub short: String,
    /// The question as asked.
    pub text: String,
    /// What would measure it, in plain words (a buyer's, not flags): the "not measured" answer.
    pub needs: String,
    /// For a question beyond the fifteen: the finding ids that answer it (the registry maps the
    /// fifteen).
    #[serde(default)]
    pub findings: Vec<String>,
}

impl Question {
    /// Whether a finding with this id answers the question, by the finding registry.
    pub fn answered_by(&self, finding_id: &str) -> bool {
        if !self.findings.is_empty() {
            return self.findings.iter().any(|f| f == finding_id);
        }
        crate::findings::spec(finding_id).is_some_and(|s| s.questions.contains(&self.number))
    }

    /// The registry rows of the findings that answer it, in registry order.
    pub fn specs(&self) -> impl Iterator<Item = &'static crate::findings::Spec> + '_ {
        crate::findings::REGISTRY
            .iter()
            .filter(|s| self.answered_by(s.id))
    }
}

#[derive(Deserialize)]
struct File {
    question: Vec<Question>,
    #[serde(default)]
    extra: Vec<Question>,
}

fn parse_file(text: &str, path: &str) -> Result<File> {
    toml::from_str(text).map_err(|e| Error::BadFile {
        path: path.into(),
        reason: e.to_string(),
    })
}

/// Parses a questions file.
pub fn parse(text: &str, path: &str) -> Result<Vec<Question>> {
    Ok(parse_file(text, path)?.question)
}

/// The answer sheet's rows: the fifteen, then the article's own REFER question.
pub fn sheet() -> Vec<Question> {
    let f = parse_file(BUILTIN, "probes/questions.toml")
        .expect("the built-in questions file is valid (tested)");
    f.question.into_iter().chain(f.extra).collect()
}

/// The built-in fifteen questions.
pub fn builtin() -> Vec<Question> {
    parse(BUILTIN, "probes/questions.toml").expect("the built-in questions file is valid (tested)")
}

#[cfg(test)]
mod tests {
    #[test]
    fn fifteen_questions_in_order() {
        let q = super::builtin();
        assert_eq!(q.len(), 15);
        for (i, q) in q.iter().enumerate() {
            assert_eq!(q.number as usize, i + 1);
        }
        assert!(q[14].text.contains("RFC 3329"));
        let sheet = super::sheet();
        let refer = &sheet[15];
        assert_eq!(sheet.len(), 16);
        assert!(refer.answered_by("call.refer") && refer.answered_by("call.refer_replaces"));
        assert!(
            !refer.answered_by("sip.refer"),
            "advertising REFER is not doing a transfer"
        );
        assert!(!q[14].answered_by("call.refer"));
        assert!(q[4].answered_by("media.sdes"));
        assert!(
            !q[4].answered_by("media.sdes_cleartext"),
            "question 5 is about SRTP, not key transport"
        );
        assert!(q[6].answered_by("media.sdes_cleartext"));
        for q in &sheet {
            assert!(
                !q.needs.contains("--"),
                "question {} needs plain words, not flags: {}",
                q.number,
                q.needs
            );
            assert!(
                q.specs().next().is_some(),
                "nothing answers question {}",
                q.number
            );
        }
    }
}
