//! JUnit rendering: one testcase per finding per endpoint, statuses mapped, XML escaped.

#[allow(unused_imports)]
use crate::handmade;

use handmade::*;
use serde_json::json;
use sipcheck::Transport;
use sipcheck::report::{self, Format, Status};

#[test]
fn statuses_map_to_junit_elements() {
    let r = report(
        "sip:trunk.example",
        vec![
            at(
                finding("transport.udp", Status::Pass, json!({})),
                Transport::Udp,
                5060,
            ),
            at(
                finding("transport.tcp", Status::Fail, json!({ "why": "<&>" })),
                Transport::Tcp,
                5060,
            ),
            tls(finding("transport.tls", Status::Error, json!({}))),
            finding("sip.refer", Status::Blocked, json!({})),
            skipped("tls.versions"),
            finding("sip.allow", Status::Warn, json!({})),
        ],
    );
    let x = report::render(&r, Format::Junit, false);
    assert!(
        x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"),
        "{x}"
    );
    assert!(
        x.contains("tests=\"6\" failures=\"1\" errors=\"2\" skipped=\"1\""),
        "{x}"
    );
    assert_eq!(x.matches("<testcase ").count(), 6);
    assert!(
        x.contains("name=\"transport.tcp [tcp:127.0.0.1:5060]\""),
        "{x}"
    );
    assert!(
        x.contains("<failure type=\"fail\" message=\"transport.tcp is fail\">"),
        "{x}"
    );
    assert!(x.contains("&lt;&amp;&gt;"), "details escaped: {x}");
    assert!(x.contains("<error type=\"error\""));
    assert!(x.contains("<error type=\"blocked\""));
    assert!(x.contains("<skipped message=\"not selected\"/>"));
    // warn passes (no failure element in its testcase)
    let warn = x
        .split("<testcase ")
        .find(|t| t.contains("name=\"sip.allow\""))
        .unwrap();
    assert!(
        !warn.contains("<failure") && !warn.contains("<error"),
        "{warn}"
    );
    // Well-formed: every opened testcase is closed, and no raw control characters.
    assert_eq!(x.matches("</testcase>").count(), 6);
    insta::assert_snapshot!("junit_handmade", x);
}

#[test]
fn control_characters_from_peers_do_not_break_xml() {
    let mut f = finding("sip.server_header", Status::Info, json!({}));
    f.summary = "Server: evil\u{1}\u{0}\"'".into();
    let x = report::render(&report("t", vec![f]), Format::Junit, false);
    assert!(!x.contains('\u{1}') && !x.contains('\u{0}'));
    assert!(x.contains("evil\\x01\\x00&quot;&apos;"), "{x}");
}
