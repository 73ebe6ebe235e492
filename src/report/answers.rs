//! One short measured answer per seed question, for the answer sheet (markdown, HTML, compare).
//!
//! A question is answered by the contract of a finding registered for it, from that finding's typed
//! details ([`crate::findings::Contract::answer`]). Questions without such an answer get the deciding
//! finding's own summary, once, with the endpoints it holds for — never a concatenation of summaries.
//! The text is plain (not escaped): each renderer escapes it for its format.

use super::group;
use super::questions::{self, Question};
use super::{Finding, Report, Status};
use crate::findings::REGISTRY;

/// Longest answer text before it is cut; the evidence is in the appendix.
pub const MAX_CHARS: usize = 240;

/// A question's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The seed question answered.
    pub question: Question,
    /// The worst measured status among the findings answering it; `None` when nothing measured it.
    pub verdict: Option<Status>,
    /// One plain sentence.
    pub text: String,
    /// The finding ids it rests on (measured ones first), each once.
    pub ids: Vec<String>,
}

/// The answers to the questions of the answer sheet (the fifteen seed questions and the article's REFER one).
pub fn all(r: &Report) -> Vec<Answer> {
    questions::sheet()
        .into_iter()
        .map(|q| answer(r, q))
        .collect()
}

/// The answer to one question.
pub fn answer(r: &Report, q: Question) -> Answer {
    let fs: Vec<&Finding> = r.findings.iter().filter(|f| q.answered_by(&f.id)).collect();
    let measured: Vec<&Finding> = fs
        .iter()
        .copied()
        .filter(|f| f.status != Status::Skipped)
        .collect();
    let verdict = measured
        .iter()
        .map(|f| f.status)
        .max_by_key(|s| s.badness());
    let mut ids: Vec<String> = Vec::new();
    for f in measured.iter().chain(fs.iter()) {
        if !ids.contains(&f.id) {
            ids.push(f.id.clone());
        }
    }
    let text = match verdict {
        None => not_measured(&q),
        Some(_) => typed(r, q.number, &measured).unwrap_or_else(|| deciding(r, &measured)),
    };
    Answer {
        question: q,
        verdict,
        text: cut(&text),
        ids,
    }
}

fn cut(s: &str) -> String {
    if s.chars().count() <= MAX_CHARS {
        return s.to_string();
    }
    let mut t: String = s.chars().take(MAX_CHARS - 1).collect();
    t.push('…');
    t
}

/// What would measure the question, in plain words; the flags that do it are in the report's "How to
/// measure the rest" section.
fn not_measured(q: &Question) -> String {
    format!("Not measured: needs {}.", q.needs.trim_end_matches('.'))
}

/// The worst group's summary with its endpoints, and how many other findings agree or differ.
fn deciding(r: &Report, measured: &[&Finding]) -> String {
    let sub = Report {
        findings: measured.iter().map(|f| (*f).clone()).collect(),
        ..r.clone()
    };
    let groups = group::measured(&sub);
    let Some(first) = groups
        .iter()
        .max_by_key(|g| (g.status.badness(), g.findings.len()))
    else {
        return String::new();
    };
    let scope = first.scope(r);
    let mut s = first.summary.clone();
    if !scope.is_empty() {
        s.push_str(&format!(" [{scope}]"));
    }
    let others = groups.len() - 1;
    if others > 0 {
        s.push_str(&format!(
            "; {others} more finding{} in the full report",
            if others == 1 { "" } else { "s" }
        ));
    }
    s
}

/// The answer the contracts of the question's findings give from their typed details: the first
/// registered finding answering the question whose contract has an answer. When a measured finding
/// its answer does not rest on is worse, that finding's own reason is added.
fn typed(r: &Report, question: u8, measured: &[&Finding]) -> Option<String> {
    let (spec, mut text) = REGISTRY
        .iter()
        .filter(|s| s.questions.contains(&question))
        .find_map(|s| (s.contract.answer)(question, r, measured).map(|t| (s, t)))?;
    let own = measured
        .iter()
        .filter(|f| spec.describes(&f.id))
        .map(|f| f.status.badness())
        .max()
        .unwrap_or(0);
    if let Some(w) = measured
        .iter()
        .filter(|f| f.status.badness() > own)
        .max_by_key(|f| f.status.badness())
    {
        let t = text.trim_end_matches('.').to_string();
        text = format!("{t}; but {}.", w.summary.trim_end_matches('.'));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::ids;
    use crate::findings::tls::{VersionOutcome, VersionsDetails};
    use crate::target::{Endpoint, Port, Transport};

    fn report(endpoints: Vec<Endpoint>, findings: Vec<Finding>) -> Report {
        Report::of("sip.test", endpoints, findings)
    }

    fn versions(pairs: &[(&str, Option<&str>)]) -> VersionsDetails {
        VersionsDetails {
            versions: pairs
                .iter()
                .map(|(v, refusal)| {
                    (
                        v.to_string(),
                        VersionOutcome {
                            accepted: refusal.is_none(),
                            refusal: refusal.map(str::to_string),
                            ..VersionOutcome::default()
                        },
                    )
                })
                .collect(),
            error: None,
        }
    }

    #[test]
    fn tls_questions_answer_from_typed_details() {
        let e = Endpoint::new(Transport::Tls, "127.0.0.1".parse().unwrap(), Port::SIPS);
        let d = versions(&[
            ("TLSv1.3", None),
            ("TLSv1.2", None),
            ("SSLv3", Some("alert:handshake_failure")),
            ("TLSv1.0", Some("alert:protocol_version")),
        ]);
        let f = ids::TLS_VERSIONS
            .finding(Status::Pass, "summary not used")
            .endpoint(&e)
            .with_details(&d);
        let r = report(vec![e], vec![f]);
        let a = all(&r);
        assert_eq!(a[0].text, "Yes: TLSv1.2, TLSv1.3 accepted.");
        assert_eq!(
            a[1].text,
            "Refused: SSLv3 (alert handshake_failure), TLSv1.0 (alert protocol_version)."
        );
        assert_eq!(a[0].verdict, Some(Status::Pass));
        assert_eq!(a[0].ids, ["tls.versions"]);
        assert_eq!(a[4].verdict, None);
        assert!(a[4].text.starts_with("Not measured"), "{}", a[4].text);
    }

    #[test]
    fn untyped_questions_say_the_deciding_finding_once() {
        let eps: Vec<Endpoint> = [Transport::Udp, Transport::Tcp, Transport::Tls]
            .into_iter()
            .map(|t| Endpoint::new(t, "127.0.0.1".parse().unwrap(), Port::SIP))
            .collect();
        let mut fs: Vec<Finding> = eps
            .iter()
            .map(|e| Finding::of("secagree.rfc3329", Status::Warn, "not supported").endpoint(e))
            .collect();
        fs.push(Finding::of("secagree.rfc3329", Status::Pass, "fine").endpoint(&eps[0]));
        let r = report(eps, fs);
        let a = &all(&r)[14];
        assert_eq!(a.verdict, Some(Status::Warn));
        assert_eq!(
            a.text,
            "not supported [udp, tcp, tls]; 1 more finding in the full report"
        );
    }

    #[test]
    fn sips_floods_and_malformed_answer_from_typed_details() {
        use crate::findings::dos::{FloodDetails, FloodStep};
        use crate::findings::robustness::{MalformedCounts, MalformedDetails};
        use crate::findings::sip::SipsDetails;
        use crate::findings::tls::IdentityMatch;
        let e = Endpoint::new(Transport::Tls, "127.0.0.1".parse().unwrap(), Port::SIPS);
        let sips = ids::SIPS_OPTIONS
            .finding(Status::Pass, "summary not used")
            .endpoint(&e)
            .with_details(&SipsDetails {
                offered: true,
                response: Some("SIP/2.0 200 OK".into()),
                tls_version: Some("TLSv1.3".into()),
                trusted: Some(true),
                identity: Some(IdentityMatch {
                    domain: "sip.test".into(),
                    matched: true,
                    how: "URI SAN sip:sip.test".into(),
                }),
                ..SipsDetails::default()
            });
        let flood = ids::DOS_OPTIONS_FLOOD
            .finding(Status::Pass, "summary not used")
            .endpoint(&e)
            .with_details(&FloodDetails {
                method: "OPTIONS".into(),
                requests: 85,
                limited_at_rate: Some(50),
                defence: Some("refused with 503/429".into()),
                recovered_after_ms: Some(1200),
                steps: vec![FloodStep {
                    rate: 50,
                    ..FloodStep::default()
                }],
                ..FloodDetails::default()
            });
        let malformed = ids::ROBUSTNESS_MALFORMED
            .finding(Status::Fail, "summary not used")
            .endpoint(&e)
            .with_details(&MalformedDetails {
                cases_total: 40,
                cases_run: 12,
                counts: MalformedCounts {
                    expected: 10,
                    accepted_invalid: 2,
                    ..MalformedCounts::default()
                },
                stopped_after: Some("unknown-version-sip7".into()),
                ..MalformedDetails::default()
            });
        let unknown = Finding::of("robustness.unknown_header", Status::Pass, "x").endpoint(&e);
        let r = report(vec![e], vec![sips, flood, malformed, unknown]);
        let a = all(&r);
        assert_eq!(
            a[3].text,
            "Yes: sips: OPTIONS answered 200 OK over TLSv1.3 with a trusted certificate for sip.test."
        );
        assert_eq!(
            a[7].text,
            "Limited at 50 OPTIONS/s (refused with 503/429) after 85 requests; answering again after 1200 ms."
        );
        assert_eq!(
            a[8].text,
            "10 of 12 malformed cases handled as RFC 4475 expects (2 invalid accepted); stopped answering after `unknown-version-sip7`; unknown header pass."
        );
        assert_eq!(a[8].verdict, Some(Status::Fail));
    }

    /// Question 6 is answered from `dos.register_storm`'s own details, read with its own handle (it
    /// used to be read with the OPTIONS flood's handle, refused, and fall back to the summary).
    #[test]
    fn register_storm_answers_question_6_from_its_own_details() {
        use crate::findings::dos::{FloodDetails, FloodStep};
        let e = Endpoint::new(Transport::Udp, "127.0.0.1".parse().unwrap(), Port::SIP);
        let storm = ids::DOS_REGISTER_STORM
            .finding(Status::Fail, "summary not used")
            .endpoint(&e)
            .with_details(&FloodDetails {
                method: "REGISTER".into(),
                requests: 400,
                steps: vec![FloodStep {
                    rate: 200,
                    ..FloodStep::default()
                }],
                accepted_without_credentials: 3,
                ..FloodDetails::default()
            });
        let r = report(vec![e], vec![storm]);
        let a = &all(&r)[5];
        assert_eq!(a.question.number, 6);
        assert_eq!(a.verdict, Some(Status::Fail));
        assert_eq!(
            a.text,
            "Not limited: 400 REGISTER requests up to 200/s; 3 accepted without credentials."
        );
        // Question 8 is not answered by the storm.
        assert_eq!(all(&r)[7].verdict, None);
    }
}
