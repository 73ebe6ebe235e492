//! One short measured answer per seed question, for the answer sheet (markdown, HTML, compare).
//!
//! TLS questions are answered from the typed `tls.*` details (versions accepted and refused, suites by
//! class, what happens below the minimum), SIPS from `sips.options`, floods from `dos.*` and malformed
//! messages from `robustness.*`. Questions without such an answer get the deciding finding's own
//! summary, once, with the endpoints it holds for — never a concatenation of summaries.
//! The text is plain (not escaped): each renderer escapes it for its format.

use super::group;
use super::questions::{self, Question};
use super::{Finding, Report, Status};
use crate::findings::ids;
use crate::findings::tls::{Grade, version::Version};

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
        None => not_measured(&q, &fs),
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

fn not_measured(q: &Question, fs: &[&Finding]) -> String {
    match fs.first() {
        Some(f) => format!("Not measured: {}", f.summary),
        None => match q.probe.strip_prefix("none yet: ") {
            Some(why) => format!("Not measured: {why}"),
            None => format!("Not measured yet (probe {}).", q.probe),
        },
    }
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
            "; {others} more finding{} in the appendix",
            if others == 1 { "" } else { "s" }
        ));
    }
    s
}

/// Answers built from typed details, where the question's findings have them.
fn typed(r: &Report, question: u8, measured: &[&Finding]) -> Option<String> {
    let one = |text: Option<String>| text.filter(|t| !t.is_empty());
    match question {
        1 => one(versions(r, measured, true)),
        2 => one(versions(r, measured, false)),
        3 => one(mismatch(measured)),
        4 => one(sips(r, measured)),
        6 => one(flood(r, measured, ids::DOS_REGISTER_STORM.id)),
        8 => one(flood(r, measured, ids::DOS_OPTIONS_FLOOD.id)),
        9 => one(malformed(r, measured)),
        10 => one(suites(measured)),
        _ => None,
    }
}

/// The endpoints of `fs` in the report's words ("udp, tcp, tls", "2 of 3 servers"), when more than one.
fn scope(r: &Report, fs: &[&Finding]) -> String {
    let labels: Vec<&str> = fs.iter().filter_map(|f| f.endpoint.as_deref()).collect();
    if labels.len() < 2 {
        return String::new();
    }
    format!(" [{}]", group::scope_of(r, &labels))
}

/// Question 4: the `sips:` OPTIONS over TLS and the certificate it met, from `sips.options`.
fn sips(r: &Report, measured: &[&Finding]) -> Option<String> {
    let all: Vec<(&Finding, crate::findings::sip::SipsDetails)> = measured
        .iter()
        .filter_map(|f| ids::SIPS_OPTIONS.read(f).ok().map(|d| (*f, d)))
        .collect();
    // The worst endpoint speaks for the answer; the others are counted.
    let (f, d) = all.iter().max_by_key(|(f, _)| f.status.badness())?;
    let same: Vec<&Finding> = all
        .iter()
        .filter(|(g, _)| g.status == f.status)
        .map(|(g, _)| *g)
        .collect();
    let mut s = if d.error.as_deref() == Some("client_certificate_required") {
        "TLS asks for a client certificate (mutual TLS): sips: not measured without --client-cert"
            .to_string()
    } else if !d.offered {
        format!(
            "No: no TLS session ({})",
            d.error.as_deref().unwrap_or("no answer")
        )
    } else {
        let over = d.tls_version.as_deref().unwrap_or("TLS");
        let answered = match &d.response {
            Some(line) => format!(
                "sips: OPTIONS answered {}",
                line.trim_start_matches("SIP/2.0 ")
            ),
            None => "sips: OPTIONS not answered".to_string(),
        };
        let cert = match (d.trusted, &d.identity) {
            _ if f.status != Status::Pass && !d.problems.is_empty() => {
                let more = d.problems.len() - 1;
                format!(
                    "a certificate, but {}{}",
                    d.problems[0],
                    if more > 0 {
                        format!(" (+{more} more)")
                    } else {
                        String::new()
                    }
                )
            }
            (Some(true), Some(id)) if id.matched => {
                format!("a trusted certificate for {}", id.domain)
            }
            (_, Some(id)) if !id.matched => {
                format!("a certificate that does not prove {}", id.domain)
            }
            (Some(false), _) => "a certificate not trusted by the roots used".to_string(),
            _ => "no readable certificate".to_string(),
        };
        let yes = if f.status == Status::Pass {
            "Yes: "
        } else {
            ""
        };
        format!("{yes}{answered} over {over} with {cert}")
    };
    s.push_str(&scope(r, &same));
    if same.len() < all.len() {
        s.push_str(&format!(
            "; {} other endpoint(s) better",
            all.len() - same.len()
        ));
    }
    // The verdict is the worst of every finding answering the question: say which one, if not SIPS.
    if let Some(w) = measured
        .iter()
        .filter(|g| g.status.badness() > f.status.badness())
        .max_by_key(|g| g.status.badness())
    {
        s.push_str(&format!("; {} {}", w.id, w.status.as_str()));
    }
    s.push('.');
    Some(s)
}

/// Questions 6 and 8: where the flood ramp was limited and how, from `dos.*` details.
/// Both flood ids hold `FloodDetails`, so either reads either.
fn flood(r: &Report, measured: &[&Finding], id: &str) -> Option<String> {
    let fs: Vec<&Finding> = measured.iter().copied().filter(|f| f.id == id).collect();
    let (f, d) = fs
        .iter()
        .filter_map(|f| ids::DOS_OPTIONS_FLOOD.read(f).ok().map(|d| (*f, d)))
        .max_by_key(|(f, _)| f.status.badness())?;
    let top = d.steps.last().map(|s| s.rate).unwrap_or(0);
    let mut s = match (d.limited_at_rate, &d.defence) {
        (Some(rate), defence) => format!(
            "Limited at {rate} {}/s ({}) after {} requests",
            d.method,
            defence.as_deref().unwrap_or("limited"),
            d.requests
        ),
        (None, _) => format!(
            "Not limited: {} {} requests up to {top}/s",
            d.requests, d.method
        ),
    };
    if let Some(ms) = d.recovered_after_ms {
        s.push_str(&format!("; answering again after {ms} ms"));
    }
    if d.accepted_without_credentials > 0 {
        s.push_str(&format!(
            "; {} accepted without credentials",
            d.accepted_without_credentials
        ));
    }
    s.push_str(&scope(r, &[f]));
    s.push('.');
    Some(s)
}

/// Question 9: the catalog's tally, where the trunk stopped answering, and the unknown header/Require
/// verdicts, from `robustness.*` details.
fn malformed(r: &Report, measured: &[&Finding]) -> Option<String> {
    let runs: Vec<(&Finding, crate::findings::robustness::MalformedDetails)> = measured
        .iter()
        .filter_map(|f| ids::ROBUSTNESS_MALFORMED.read(f).ok().map(|d| (*f, d)))
        .filter(|(_, d)| d.cases_run > 0)
        .collect();
    let (f, d) = runs.iter().max_by_key(|(f, _)| f.status.badness())?;
    let c = &d.counts;
    let mut s = format!(
        "{} of {} malformed cases handled as RFC 4475 expects",
        c.expected, d.cases_run
    );
    let mut odd = Vec::new();
    if c.accepted_invalid > 0 {
        odd.push(format!("{} invalid accepted", c.accepted_invalid));
    }
    if c.rejected_valid > 0 {
        odd.push(format!("{} valid rejected", c.rejected_valid));
    }
    if c.different_safe > 0 {
        odd.push(format!("{} answered otherwise, safely", c.different_safe));
    }
    if !odd.is_empty() {
        s.push_str(&format!(" ({})", odd.join(", ")));
    }
    if let Some(case) = &d.stopped_after {
        s.push_str(&format!("; stopped answering after `{case}`"));
    }
    s.push_str(&scope(r, &[f]));
    let verdicts: Vec<String> = [
        (ids::ROBUSTNESS_UNKNOWN_HEADER.id, "unknown header"),
        (ids::ROBUSTNESS_UNKNOWN_REQUIRE.id, "unknown Require"),
    ]
    .iter()
    .filter_map(|(id, words)| {
        measured
            .iter()
            .filter(|f| f.id == *id)
            .map(|f| f.status)
            .max_by_key(|s| s.badness())
            .map(|st| format!("{words} {}", st.as_str()))
    })
    .collect();
    if !verdicts.is_empty() {
        s.push_str(&format!("; {}", verdicts.join(", ")));
    }
    s.push('.');
    Some(s)
}

/// Version labels in protocol order.
fn in_order<'a>(labels: impl IntoIterator<Item = &'a String>) -> Vec<&'a str> {
    let mut v: Vec<&str> = labels.into_iter().map(String::as_str).collect();
    v.sort_by_key(|l| Version::from_label(l).map(|v| v.wire()).unwrap_or(u16::MAX));
    v.dedup();
    v
}

/// Question 1 (`accepted`) or 2 (refused): from every `tls.versions` finding.
fn versions(r: &Report, measured: &[&Finding], accepted: bool) -> Option<String> {
    let details: Vec<_> = measured
        .iter()
        .filter_map(|f| ids::TLS_VERSIONS.read(f).ok().map(|d| (f, d)))
        .filter(|(_, d)| d.error.is_none() && !d.versions.is_empty())
        .collect();
    if details.is_empty() {
        return None;
    }
    let first = &details[0].1;
    let same = details.iter().all(|(_, d)| d.versions == first.versions);
    let acc: Vec<&String> = first
        .versions
        .iter()
        .filter(|(_, o)| o.accepted)
        .map(|(v, _)| v)
        .collect();
    let mut s = if accepted {
        let acc = in_order(acc);
        if acc.is_empty() {
            "No TLS version accepted".to_string()
        } else {
            format!("Yes: {} accepted", acc.join(", "))
        }
    } else {
        let refused: Vec<String> = in_order(
            first
                .versions
                .iter()
                .filter(|(_, o)| !o.accepted)
                .map(|(v, _)| v),
        )
        .into_iter()
        .map(|v| match &first.versions[v].refusal {
            Some(how) => format!("{v} ({})", how.replace("alert:", "alert ")),
            None => v.to_string(),
        })
        .collect();
        if refused.is_empty() {
            "None refused: every version tried was accepted".to_string()
        } else {
            format!("Refused: {}", refused.join(", "))
        }
    };
    if !same {
        let labels: Vec<&str> = details
            .iter()
            .filter_map(|(f, _)| f.endpoint.as_deref())
            .collect();
        s.push_str(&format!(
            " on the first server; servers differ ({}, see the per-endpoint view)",
            group::scope_of(r, &labels)
        ));
    }
    s.push('.');
    Some(s)
}

/// Question 3: what a hello below the minimum version got, and downgrade protection.
fn mismatch(measured: &[&Finding]) -> Option<String> {
    let d = measured
        .iter()
        .find_map(|f| ids::TLS_MISMATCH.read(f).ok())
        .filter(|d| d.error.is_none())?;
    let mut parts = Vec::new();
    if let Some(min) = &d.minimum_version {
        let below: Vec<String> = in_order(d.below_minimum.keys())
            .into_iter()
            .map(|v| format!("{v} {}", d.below_minimum[v].replace("alert:", "alert ")))
            .collect();
        if below.is_empty() {
            parts.push(format!("Minimum {min}"));
        } else {
            parts.push(format!(
                "Below {min} the trunk refuses: {}",
                below.join(", ")
            ));
        }
    }
    if !d.silent_refusals.is_empty() {
        parts.push(format!(
            "without an alert: {}",
            d.silent_refusals.join(", ")
        ));
    }
    match d.fallback_scsv.honoured {
        Some(true) => parts.push("TLS_FALLBACK_SCSV honoured".into()),
        Some(false) => parts.push("TLS_FALLBACK_SCSV ignored".into()),
        None => {}
    }
    if d.downgrade_sentinel.applicable {
        let present = d.downgrade_sentinel.seen.values().all(Option::is_some);
        parts.push(
            if present {
                "TLS 1.3 downgrade sentinel present"
            } else {
                "TLS 1.3 downgrade sentinel missing"
            }
            .into(),
        );
    }
    (!parts.is_empty()).then(|| format!("{}.", parts.join("; ")))
}

/// Question 10: suites per version and how many are weak or insecure (RFC 9325).
fn suites(measured: &[&Finding]) -> Option<String> {
    let d = measured
        .iter()
        .find_map(|f| ids::TLS_CIPHER_SUITES.read(f).ok())
        .filter(|d| d.error.is_none() && !d.versions.is_empty())?;
    let mut per_version = Vec::new();
    let (mut weak, mut insecure, mut total) = (0, 0, 0);
    for v in in_order(d.versions.keys()).into_iter().rev() {
        let list = &d.versions[v];
        total += list.suites.len();
        for s in &list.suites {
            match list.classification.get(s).map(|c| c.grade) {
                Some(Grade::Insecure) => insecure += 1,
                Some(Grade::Weak) => weak += 1,
                _ => {}
            }
        }
        per_version.push(format!(
            "{v} {}{}",
            list.suites.len(),
            if list.server_order {
                " in server order"
            } else {
                ""
            }
        ));
    }
    let verdict = match (insecure, weak) {
        (0, 0) => "all recommended or secure".to_string(),
        (0, w) => format!("{w} weak, none insecure"),
        (i, w) => format!("{i} insecure, {w} weak"),
    };
    Some(format!(
        "{total} suites ({}): {verdict} by RFC 9325.",
        per_version.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::tls::{VersionOutcome, VersionsDetails};
    use crate::report::Tool;
    use crate::target::{Endpoint, Port, Transport};

    fn report(endpoints: Vec<Endpoint>, findings: Vec<Finding>) -> Report {
        Report {
            schema_version: 1,
            tool: Tool::default(),
            target: "sip.test".into(),
            domain: "sip.test".into(),
            started_at: String::new(),
            duration_ms: 0,
            endpoints,
            findings,
            incomplete: None,
            policy: None,
            scope: None,
            summary: Default::default(),
        }
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
            "not supported [udp, tcp, tls]; 1 more finding in the appendix"
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
}
