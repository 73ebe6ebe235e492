//! Carrier comparison on three trunks measured by the real probes (against fakes): one column each, one row per seed question,
//! "not measured" where skipped or absent, and the strongest per question.

#[allow(unused_imports)]
use crate::{golden, handmade, probed};

use handmade::*;
use probed::*;
use sipcheck::report::compare::{render_md, strongest, views};
use sipcheck::report::questions;

async fn trunks() -> Vec<sipcheck::report::Report> {
    vec![
        report(
            "carrier-a",
            vec![versions(&["TLSv1.2", "TLSv1.3"]).await, sips(200).await],
        ),
        report(
            "carrier-b",
            vec![versions(&["TLSv1.0", "TLSv1.2"]).await, sips(-3).await],
        ),
        report("carrier-c", vec![skipped("tls.versions"), sips(200).await]),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn strongest_per_question() {
    let reports = trunks().await;
    let t = views(&reports);
    let q = questions::builtin();
    // Q2 (TLS versions rejected): a passes, b fails, c not measured.
    assert_eq!(strongest(&t, &q[1]), "carrier-a (pass)");
    // Q4 (SIPS): a and c pass, b fails.
    assert_eq!(strongest(&t, &q[3]), "carrier-a, carrier-c (pass)");
    // Q6 (registration storms): nobody measured it.
    assert_eq!(strongest(&t, &q[5]), "not measured on any trunk");
    // Only one trunk measured.
    let one_r = vec![reports[0].clone(), reports[2].clone()];
    let one = views(&one_r);
    assert_eq!(
        strongest(&one, &q[1]),
        "carrier-a (pass; the only trunk measured)"
    );
    let same_r = vec![reports[0].clone(), reports[0].clone()];
    let same = views(&same_r);
    assert_eq!(strongest(&same, &q[1]), "tie: all measured trunks are pass");
}

#[tokio::test(flavor = "multi_thread")]
async fn markdown_has_a_column_per_trunk_and_a_row_per_question() {
    let md = render_md(&trunks().await);
    let header = md
        .lines()
        .find(|l| l.starts_with("| # | Question |"))
        .unwrap();
    assert_eq!(
        header,
        "| # | Question | carrier-a | carrier-b | carrier-c |"
    );
    let rows: Vec<&str> = md
        .split("## Answers per question")
        .nth(1)
        .unwrap()
        .split("## Strongest")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
        .collect();
    assert_eq!(rows.len(), 16, "the fifteen and the REFER question: {md}");
    let q2 = rows[1];
    assert!(
        q2.contains("**pass**") && q2.contains("**fail**") && q2.contains("not measured"),
        "{q2}"
    );
    assert!(
        md.contains("- **carrier-a**: strongest (alone or shared) on"),
        "{md}"
    );
    // The certificate's temporary CA path and verification time vary from run to run.
    insta::assert_snapshot!("compare_handmade", golden::normalise(&md));
}

/// Two saved reports the probes wrote against the fake trunk: a wide run (UDP and TCP, transport and
/// `sip.allow` and the server header) and a narrow one (UDP, transport only).
async fn saved_wide_and_narrow(dir: &std::path::Path) -> (String, String) {
    let trunk = probed::Trunk::start(&["Server: FakeSBC/1.2"]).await;
    let wide = trunk
        .scan(
            &[sipcheck::Transport::Udp, sipcheck::Transport::Tcp],
            &["transport", "sip.allow", "sip.server_header"],
            None,
        )
        .await;
    let narrow = trunk
        .scan(&[sipcheck::Transport::Udp], &["transport"], None)
        .await;
    let write = |name: &str, r: &sipcheck::report::Report| {
        let p = dir.join(name);
        std::fs::write(&p, serde_json::to_string(r).unwrap()).unwrap();
        p.to_str().unwrap().to_string()
    };
    (write("wide.json", &wide), write("narrow.json", &narrow))
}

fn compare(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sipcheck"))
        .arg("compare")
        .args(args)
        .output()
        .unwrap()
}

fn h2s_md(md: &str) -> Vec<String> {
    md.lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(str::to_string)
        .collect()
}

fn h2s_html(html: &str) -> Vec<String> {
    html.split("<h2>")
        .skip(1)
        .filter_map(|p| p.split("</h2>").next())
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn labels_name_the_columns_and_o_takes_the_format_from_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let (wide, narrow) = saved_wide_and_narrow(dir.path()).await;
    let html = dir.path().join("cmp.html");
    let html = html.to_str().unwrap();
    let out = compare(&[
        &wide,
        &narrow,
        "--label",
        "Carrier <A>",
        "--label",
        "Carrier B",
        "-o",
        html,
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty(), "the comparison went to the file");
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(
        page.contains("<th>Carrier &lt;A&gt;</th><th>Carrier B</th>"),
        "{page}"
    );
    assert!(page.contains("<li><b>Carrier B</b>: strongest (alone or shared) on"));
    // The same comparison in markdown, by the extension.
    let md = dir.path().join("cmp.md");
    let out = compare(&[&wide, &narrow, "--label", "A", "-o", md.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.starts_with("# SIP trunk comparison"), "{md}");
    // The second column is named by its target when only one label is given.
    let target =
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&narrow).unwrap())
            .unwrap()["target"]
            .as_str()
            .unwrap()
            .to_string();
    assert!(
        md.contains(&format!("| # | Question | A | {target} |")),
        "{md}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn compare_refuses_what_it_cannot_write_before_reading_anything() {
    let dir = tempfile::tempdir().unwrap();
    let (wide, narrow) = saved_wide_and_narrow(dir.path()).await;
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    for (args, want) in [
        (
            vec!["-o", &path("c.json")],
            "compare writes md or html, not json",
        ),
        (
            vec!["--format", "html", "-o", &path("c.md")],
            "is md by its extension but --format html",
        ),
        (vec!["-o", &path("c.out")], "cannot tell the format of -o"),
        (vec!["--format", "sarif"], "compare writes md or html"),
        (
            vec!["--label", "a", "--label", "b", "--label", "c"],
            "3 --label given for 2 reports",
        ),
        (vec!["-o", &path("no/such/dir/c.md")], "cannot write"),
    ] {
        let mut all = vec![wide.as_str(), narrow.as_str()];
        all.extend(args.iter().copied());
        let out = compare(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    for leftover in ["c.json", "c.md", "c.out"] {
        assert!(
            !dir.path().join(leftover).exists(),
            "{leftover} was left behind"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn differing_scopes_are_warned_on_stderr_and_in_every_format_with_the_same_sections() {
    let dir = tempfile::tempdir().unwrap();
    let (wide, narrow) = saved_wide_and_narrow(dir.path()).await;
    let args = [
        wide.as_str(),
        narrow.as_str(),
        "--label",
        "wide",
        "--label",
        "narrow",
    ];
    let md = compare(&args);
    assert_eq!(md.status.code(), Some(0), "{md:?}");
    let err = String::from_utf8_lossy(&md.stderr).to_string();
    let md = String::from_utf8(md.stdout).unwrap();
    let mut html_args = args.to_vec();
    html_args.extend(["--format", "html"]);
    let html = compare(&html_args);
    assert_eq!(
        String::from_utf8_lossy(&html.stderr),
        err,
        "the same warnings"
    );
    let html = String::from_utf8(html.stdout).unwrap();
    let warnings = [
        "transports probed differ: wide udp, tcp; narrow udp",
        "narrow: 2 probe(s) selected for another trunk were not selected: sip.allow, sip.server_header",
    ];
    for w in warnings {
        assert!(
            err.contains(&format!("sipcheck: warning: scope: {w}")),
            "{err}"
        );
        assert!(md.contains(&format!("- {w}")), "{w}\n{md}");
        assert!(html.contains(&format!("<li>{w}</li>")), "{w}\n{html}");
    }
    // The same sections, in the same order, in both formats.
    let sections: Vec<String> = sipcheck::report::compare::SECTIONS
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(h2s_md(&md), sections, "{md}");
    assert_eq!(h2s_html(&html), sections, "{html}");
    // A cell never points to an appendix or a "full report" a comparison does not have.
    for out in [&md, &html] {
        let lower = out.to_lowercase();
        assert!(!lower.contains("appendix"), "{out}");
        assert!(!lower.contains("full report"), "{out}");
    }
}
