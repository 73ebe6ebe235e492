//! The seed questions, loaded from `probes/questions.toml` (embedded at build time).

use serde::Deserialize;

use crate::error::{Error, Result};

const BUILTIN: &str = include_str!("../../probes/questions.toml");

/// One seed question.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub number: u8,
    pub short: String,
    pub text: String,
    /// What to run when nothing measured it.
    pub probe: String,
}

impl Question {
    /// Whether a finding with this id answers the question, by the finding registry.
    pub fn answered_by(&self, finding_id: &str) -> bool {
        crate::findings::spec(finding_id).is_some_and(|s| s.questions.contains(&self.number))
    }
}

#[derive(Deserialize)]
struct File {
    question: Vec<Question>,
}

/// Parses a questions file.
pub fn parse(text: &str, path: &str) -> Result<Vec<Question>> {
    let f: File = toml::from_str(text).map_err(|e| Error::BadFile {
        path: path.into(),
        reason: e.to_string(),
    })?;
    Ok(f.question)
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
        assert!(q[4].answered_by("media.sdes"));
        assert!(
            !q[4].answered_by("media.sdes_cleartext"),
            "question 5 is about SRTP, not key transport"
        );
        assert!(q[6].answered_by("media.sdes_cleartext"));
    }
}
