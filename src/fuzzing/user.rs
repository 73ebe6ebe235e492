//! Properties of the readers of files users write or pass back to sipcheck.

use crate::analysis::policy;
use crate::catalog::parse_case;
use crate::catalog::template::{MAX_FILLED, Values, fill, normalise_line_ends};
use crate::findings::Report;

/// An error about a user file names the file and is one readable, bounded message.
fn assert_good_error(e: &crate::Error, source: &str, text_len: usize) {
    let msg = e.to_string();
    assert!(msg.contains(source), "the error names the file: {msg}");
    // Linear in the file: a quoted key may be escaped (`\u{1}` is 5 characters for one byte).
    assert!(
        msg.len() <= 12 * text_len + 1024,
        "runaway error message ({} bytes)",
        msg.len()
    );
}

/// Policy TOML: an error names the file; a policy loads the same way twice.
pub fn policy_toml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match policy::parse(&text, "fuzz.toml") {
        Err(e) => assert_good_error(&e, "fuzz.toml", text.len()),
        Ok(p) => {
            let again = policy::parse(&text, "fuzz.toml").expect("same text, same verdict");
            assert_eq!(format!("{p:?}"), format!("{again:?}"));
        }
    }
}

/// Catalog case files: an error names the file; a loaded case's message fills within the bound.
pub fn catalog_case(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match parse_case(&text, "fuzz.toml") {
        Err(e) => assert_good_error(&e, "fuzz.toml", text.len()),
        Ok(case) => {
            let filled = fill(&case.message, &Values::example()).expect("checked at load time");
            assert!(filled.len() <= MAX_FILLED + 16 * 20);
            assert!(!case.expect.is_empty() && !case.id.is_empty() && case.id.len() <= 64);
        }
    }
}

/// Templates: bounded, deterministic, and text without placeholders is just its line ends made CRLF;
/// `{content_length}` in the head is the length of what follows the blank line.
pub fn catalog_template(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let v = Values::example();
    let Ok(out) = fill(&text, &v) else {
        return;
    };
    assert!(
        out.len() <= MAX_FILLED + 16 * 20,
        "{} bytes filled",
        out.len()
    );
    assert_eq!(
        fill(&text, &v).ok().as_ref(),
        Some(&out),
        "filling is deterministic"
    );
    if !text.contains(['{', '}']) {
        assert_eq!(out, normalise_line_ends(&text).into_bytes());
    }
}

/// JSON reports (`diff`, `compare`, `--baseline`): the shape check against the schema never panics
/// and reads what serde reads; a report that reads also writes, and what it writes reads back to the
/// same report.
pub fn report_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = crate::findings::schema::load(text);
    let Ok(report) = serde_json::from_str::<Report>(text) else {
        return;
    };
    if let Ok(l) = loaded {
        assert_eq!(
            l.report.findings, report.findings,
            "the check reads what serde reads"
        );
    }
    let written = serde_json::to_string(&report).expect("reports always serialise");
    let back: Report = serde_json::from_str(&written).expect("a written report reads back");

    assert_eq!(
        serde_json::to_string(&back).expect("reports always serialise"),
        written,
        "write, read, write changes the report"
    );
}
