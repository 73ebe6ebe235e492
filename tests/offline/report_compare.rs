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
