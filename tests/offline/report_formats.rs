//! Every format states the same facts. One report written by the real probes (a fake trunk on UDP, TCP
//! and TLS, judged by the `strict` policy) is rendered in every format; each output is parsed (JSON,
//! SARIF JSON, JUnit XML, markdown tables, HTML tables, terminal lines) and what it says is compared
//! with the JSON report: every finding's status and summary, every question's verdict and answer, the
//! policy results, the TLS matrix with its SSLv2 row, the counts, and how to measure the rest.

#[allow(unused_imports)]
use crate::probed;

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;
use sipcheck::Transport;
use sipcheck::report::{self, Format, Report, Style, View, questions};

/// (finding id, endpoint or "trunk") -> (status, summary).
type Findings = BTreeMap<(String, String), (String, String)>;

async fn measured() -> Report {
    let trunk = probed::Trunk::start(&["Server: FakeSBC/4.2.1"]).await;
    trunk
        .scan(
            &[Transport::Udp, Transport::Tcp, Transport::Tls],
            &[
                "transport",
                "sip.server_header",
                "sips.options",
                "tls.versions",
                // Not measured without their opt-ins: skipped, saying why.
                "dos",
                "media",
            ],
            Some("strict"),
        )
        .await
}

fn render(v: &View, format: Format, verbose: bool, sarif_passes: bool) -> String {
    report::render_view(
        v,
        format,
        Style {
            color: false,
            verbose,
            sarif_passes,
            // The widest layout: fewest wrapped lines to join back.
            width: Some(200),
        },
    )
}

fn key(id: &str, endpoint: Option<&str>) -> (String, String) {
    (id.to_string(), endpoint.unwrap_or("trunk").to_string())
}

fn unescape_html(s: &str) -> String {
    let tags = Regex::new(r"<[^>]*>").unwrap();
    tags.replace_all(s, "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn unescape_md(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The cells of a markdown table row, as text: `\|` is a pipe inside a cell, a backslash escapes the
/// next character, a backtick (code span) is markup.
fn md_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut chars = line.trim().trim_start_matches('|').chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cells.last_mut().unwrap().extend(chars.next()),
            '`' => {}
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells.pop(); // after the closing pipe
    cells
        .iter()
        .map(|c| {
            c.trim()
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect()
}

/// The rows of the markdown table whose header row starts with `head`.
fn md_table(md: &str, head: &str) -> Vec<Vec<String>> {
    let mut lines = md.lines().skip_while(|l| !l.starts_with(head));
    assert!(lines.next().is_some(), "no table {head:?} in\n{md}");
    lines
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .map(md_cells)
        .collect()
}

/// The rows (cells as text) of every HTML table right after a heading `<h2>` or `<h3>` matching
/// `heading`, the header row left out.
fn html_tables(html: &str, heading: &str) -> Vec<Vec<Vec<String>>> {
    let table = Regex::new(&format!(
        r"(?s)<h[23]>{heading}</h[23]>\s*(?:<p>.*?</p>\s*)?(?:<h3>[^<]*</h3>\s*)?<table>(.*?)</table>"
    ))
    .unwrap();
    let row = Regex::new(r"(?s)<tr>(.*?)</tr>").unwrap();
    let cell = Regex::new(r"(?s)<t[dh][^>]*>(.*?)</t[dh]>").unwrap();
    table
        .captures_iter(html)
        .map(|t| {
            row.captures_iter(&t[1])
                .filter(|r| !r[1].contains("<th>"))
                .map(|r| {
                    cell.captures_iter(&r[1])
                        .map(|c| unescape_html(&c[1]).trim().to_string())
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// The counts `2 pass, 1 warn` as a map.
fn counts_of(text: &str) -> BTreeMap<String, u64> {
    text.split(", ")
        .map(|c| {
            let (n, s) = c.trim().split_once(' ').unwrap();
            (s.to_string(), n.parse().unwrap())
        })
        .collect()
}

fn json_findings(j: &Value) -> Findings {
    j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                key(f["id"].as_str().unwrap(), f["endpoint"].as_str()),
                (
                    f["status"].as_str().unwrap().to_string(),
                    f["summary"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

fn junit_findings(xml: &str) -> (Findings, BTreeMap<String, u64>) {
    let doc = roxmltree::Document::parse(xml).expect("JUnit is well-formed XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    let attrs = ["tests", "failures", "errors", "skipped"]
        .iter()
        .map(|a| (a.to_string(), suite.attribute(*a).unwrap().parse().unwrap()))
        .collect();
    let mut out = Findings::new();
    for case in suite.children().filter(|n| n.has_tag_name("testcase")) {
        let name = case.attribute("name").unwrap();
        let (id, ep) = match name.split_once(" [") {
            Some((id, ep)) => (id, Some(ep.trim_end_matches(']'))),
            None => (name, None),
        };
        let out_text = case
            .children()
            .find(|n| n.has_tag_name("system-out"))
            .and_then(|n| n.text())
            .unwrap();
        let (status, summary) = out_text.split_once(": ").unwrap();
        // The element says the same status as the text.
        let element = case
            .children()
            .find(|n| n.is_element() && !n.has_tag_name("system-out"));
        let by_element = match element {
            Some(e) if e.has_tag_name("failure") => "fail",
            Some(e) if e.has_tag_name("skipped") => "skipped",
            Some(e) => e.attribute("type").unwrap(),
            None => "",
        };
        if !by_element.is_empty() {
            assert_eq!(by_element, status, "{name}");
        } else {
            assert!(
                ["pass", "warn", "info"].contains(&status),
                "{name}: {status}"
            );
        }
        out.insert(key(id, ep), (status.into(), summary.into()));
    }
    (out, attrs)
}

fn sarif_findings(sarif: &str, target: &str) -> Findings {
    let v: Value = serde_json::from_str(sarif).unwrap();
    v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let ep = r["properties"]["endpoint"].as_str();
            let message = r["message"]["text"].as_str().unwrap();
            let head = match ep {
                Some(e) => format!(" on {e} of {target}: "),
                None => format!(" for {target}: "),
            };
            let summary = message.split_once(&head).unwrap().1;
            (
                key(r["ruleId"].as_str().unwrap(), ep),
                (
                    r["properties"]["status"].as_str().unwrap().to_string(),
                    summary.to_string(),
                ),
            )
        })
        .collect()
}

/// The terminal's lines with each wrapped entry joined back into one: a continuation line is
/// indented by six or more columns (entries start at the margin, table rows and "how to measure the
/// rest" items at two). Wrapping folds runs of spaces, so compare with [`ws`].
fn unwrap_lines(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in text.lines() {
        match out.last_mut() {
            Some(prev) if l.starts_with("      ") && !prev.is_empty() => {
                prev.push(' ');
                prev.push_str(l.trim_start());
            }
            _ => out.push(l.to_string()),
        }
    }
    out
}

/// Summaries with runs of whitespace folded, as the terminal's wrapping leaves them.
fn ws(f: &Findings) -> Findings {
    f.iter()
        .map(|(k, (st, su))| {
            let su = su.split_whitespace().collect::<Vec<_>>().join(" ");
            (k.clone(), (st.clone(), su))
        })
        .collect()
}

/// `text --verbose`: one entry per finding, `STATUS  [severity]  id  summary [endpoint]`.
fn verbose_findings(text: &str, endpoints: &[String]) -> Findings {
    let line = Regex::new(
        r"^(PASS|WARN|FAIL|INFO|SKIPPED|ERROR|BLOCKED) +(?:(?:critical|high|medium|low) +)?(\S+)  +(.*)$",
    )
    .unwrap();
    unwrap_lines(text)
        .iter()
        .filter_map(|l| line.captures(l))
        .map(|c| {
            let rest = &c[3];
            let ep = endpoints
                .iter()
                .find(|e| rest.ends_with(&format!(" [{e}]")))
                .cloned();
            let summary = match &ep {
                Some(e) => rest.strip_suffix(&format!(" [{e}]")).unwrap(),
                None => rest,
            };
            (
                key(&c[2], ep.as_deref()),
                (c[1].to_lowercase(), summary.to_string()),
            )
        })
        .collect()
}

/// The markdown appendix: `### \`id\` Title — \`endpoint\``, then `- Status: **s**`, then `- summary`.
fn md_appendix(md: &str) -> Findings {
    let head = Regex::new(r"^### `([^`]+)` .*?(?: — `([^`]+)`)?$").unwrap();
    let status = Regex::new(r"^- Status: \*\*(\w+)\*\*").unwrap();
    let appendix = md
        .split("## Appendix: findings and evidence")
        .nth(1)
        .unwrap();
    let lines: Vec<&str> = appendix.lines().collect();
    let mut out = Findings::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some(h) = head.captures(l) {
            let s = status.captures(lines[i + 2]).unwrap();
            let summary = lines[i + 3].strip_prefix("- ").unwrap();
            out.insert(
                key(&h[1], h.get(2).map(|m| m.as_str())),
                (s[1].to_string(), unescape_md(summary)),
            );
        }
    }
    out
}

/// The HTML appendix: `<summary><span class="v s">s</span> (severity x) <code>id</code> Title
/// [endpoint] — summary`.
fn html_appendix(html: &str, endpoints: &[String]) -> Findings {
    let head = Regex::new(
        r#"<details[^>]*><summary><span class="v (\w+)">\w+</span>(?: \(severity \w+\))? <code>([^<]+)</code> (.*?)</summary>"#,
    )
    .unwrap();
    head.captures_iter(html)
        .map(|c| {
            let rest = unescape_html(&c[3]);
            let ep = endpoints
                .iter()
                .find(|e| rest.contains(&format!(" [{e}] — ")))
                .cloned();
            let summary = match &ep {
                Some(e) => rest.split_once(&format!(" [{e}] — ")).unwrap().1,
                None => rest.split_once(" — ").unwrap().1,
            };
            (
                key(&c[2], ep.as_deref()),
                (c[1].to_string(), summary.to_string()),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_format_states_the_same_facts() {
    let r = measured().await;
    let v = View::of(&r);
    let endpoints: Vec<String> = r.endpoints.iter().map(|e| e.label()).collect();
    assert_eq!(endpoints.len(), 3, "{endpoints:?}");
    let json: Value = serde_json::from_str(&render(&v, Format::Json, false, false)).unwrap();
    let md = render(&v, Format::Markdown, false, false);
    let html = render(&v, Format::Html, false, false);
    let text = render(&v, Format::Text, false, false);
    let verbose = render(&v, Format::Text, true, false);
    let junit = render(&v, Format::Junit, false, false);
    let sarif = render(&v, Format::Sarif, false, false);
    let sarif_all = render(&v, Format::Sarif, false, true);

    // Every finding: status and summary.
    let findings = json_findings(&json);
    assert!(findings.len() > 10, "{findings:#?}");
    let (junit_fs, junit_counts) = junit_findings(&junit);
    assert_eq!(junit_fs, findings, "JUnit");
    // SARIF messages are sentences: a summary gets its full stop.
    let sentences: Findings = findings
        .iter()
        .map(|(k, (st, su))| {
            let su = su.trim();
            let su = if su.ends_with(['.', '!', '?']) {
                su.to_string()
            } else {
                format!("{su}.")
            };
            (k.clone(), (st.clone(), su))
        })
        .collect();
    assert_eq!(sarif_findings(&sarif_all, &r.target), sentences, "SARIF");
    let actionable: Findings = sentences
        .iter()
        .filter(|(_, (s, _))| !["pass", "info"].contains(&s.as_str()))
        .map(|(k, x)| (k.clone(), x.clone()))
        .collect();
    assert_eq!(sarif_findings(&sarif, &r.target), actionable, "SARIF");
    assert_eq!(
        ws(&verbose_findings(&verbose, &endpoints)),
        ws(&findings),
        "text -v"
    );
    assert_eq!(md_appendix(&md), findings, "markdown");
    assert_eq!(html_appendix(&html, &endpoints), findings, "HTML");
    // The grouped scorecard: one line per id and verdict measured (after the severity); passes and
    // facts of several ids of one family share one line (`tls.*`).
    let grouped = Regex::new(
        r"^(PASS|WARN|FAIL|INFO|ERROR|BLOCKED) +(?:(?:critical|high|medium|low) +)?(\S+)",
    )
    .unwrap();
    let text_lines = unwrap_lines(&text);
    let mut groups: Vec<(String, String)> = text_lines
        .iter()
        .filter_map(|l| grouped.captures(l))
        .map(|c| (c[1].to_lowercase(), c[2].to_string()))
        .collect();
    groups.sort();
    groups.dedup();
    let mut want: Vec<(String, String)> = findings
        .iter()
        .filter(|(_, (s, _))| s != "skipped")
        .map(|((id, _), (s, _))| {
            let family = sipcheck::findings::spec(id).map_or(id.as_str(), |s| s.id);
            (s.clone(), family.to_string())
        })
        .collect();
    want.sort();
    want.dedup();
    let family_of = |id: &str| id.split_once('.').map(|(f, _)| format!("{f}.*"));
    let folded: Vec<(String, String)> = want
        .iter()
        .map(|(st, id)| {
            let fam = family_of(id).filter(|fam| {
                ["pass", "info"].contains(&st.as_str())
                    && !id.ends_with(".*")
                    && want
                        .iter()
                        .filter(|(s2, i2)| s2 == st && family_of(i2).as_ref() == Some(fam))
                        .count()
                        > 1
            });
            (st.clone(), fam.unwrap_or_else(|| id.clone()))
        })
        .collect();
    let mut want = folded;
    want.sort();
    want.dedup();
    assert_eq!(groups, want, "text");

    // The counts.
    let counts: BTreeMap<String, u64> = json["summary"]["by_status"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, n)| n.as_u64() != Some(0))
        .map(|(s, n)| (s.clone(), n.as_u64().unwrap()))
        .collect();
    let total: u64 = counts.values().sum();
    assert_eq!(total as usize, findings.len());
    let head = Regex::new(r"(?m)^(\d+) findings: (.*)$").unwrap();
    let c = head.captures(&text).unwrap();
    assert_eq!(c[1].parse::<u64>().unwrap(), total, "text");
    assert_eq!(counts_of(&c[2]), counts, "text");
    let md_counts = Regex::new(r"(?m)^Findings: (.*)\.$").unwrap();
    assert_eq!(
        counts_of(&md_counts.captures(&md).unwrap()[1]),
        counts,
        "md"
    );
    let html_counts = Regex::new(r"<p>Findings: (.*?)\.</p>").unwrap();
    assert_eq!(
        counts_of(&html_counts.captures(&html).unwrap()[1]),
        counts,
        "HTML"
    );
    let n = |s: &str| counts.get(s).copied().unwrap_or(0);
    assert_eq!(
        junit_counts,
        BTreeMap::from([
            ("tests".to_string(), total),
            ("failures".to_string(), n("fail")),
            ("errors".to_string(), n("error") + n("blocked")),
            ("skipped".to_string(), n("skipped")),
        ]),
        "JUnit"
    );
    let sarif_v: Value = serde_json::from_str(&sarif).unwrap();
    let sarif_counts: BTreeMap<String, u64> = sarif_v["runs"][0]["properties"]["counts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(s, n)| (s.clone(), n.as_u64().unwrap()))
        .collect();
    assert_eq!(sarif_counts, counts, "SARIF");

    // Every question's verdict and answer: the markdown and HTML answer sheets and both compares.
    let sheet = questions::sheet();
    let md_answers = md_table(&md, "| # | Question | Verdict | Measured answer |");
    let html_answers = &html_tables(&html, "RFP answer sheet")[0];
    assert_eq!(md_answers.len(), sheet.len());
    assert_eq!(html_answers.len(), sheet.len());
    let compare_md = report::compare::render_md(std::slice::from_ref(&r));
    let compare_rows = md_table(&compare_md, "| # | Question |");
    let compare_html = report::html::render_compare(std::slice::from_ref(&r));
    let compare_html_rows =
        Regex::new(r#"<td class="(\w+)[^"]*"><span class="v">([^<]*)</span> (.*?)</td>"#)
            .unwrap()
            .captures_iter(&compare_html)
            .map(|c| (c[2].to_string(), unescape_html(&c[3])))
            .collect::<Vec<_>>();
    assert_eq!(compare_html_rows.len(), sheet.len());
    let mut unmeasured: Vec<String> = Vec::new();
    for (i, q) in sheet.iter().enumerate() {
        // The verdict is the worst status of the measured findings the registry says answer it.
        let worst = findings
            .iter()
            .filter(|((id, _), (s, _))| q.answered_by(id) && s != "skipped")
            .map(|(_, (s, _))| {
                serde_json::from_value::<sipcheck::Status>(Value::String(s.clone())).unwrap()
            })
            .max_by_key(|s| s.badness())
            .map_or("not measured".to_string(), |s| s.to_string());
        let (m, h) = (&md_answers[i], &html_answers[i]);
        assert_eq!(m[0], q.number.to_string());
        assert_eq!(h[0], q.number.to_string());
        assert_eq!(m[2].trim_matches('*'), worst, "md Q{}", q.number);
        assert_eq!(h[2], worst, "HTML Q{}", q.number);
        assert_eq!(m[3], h[3], "the answer, Q{}", q.number);
        let answer = &m[3];
        assert!(!answer.is_empty());
        // The comparison has no appendix: a pointer to more findings names the trunk's own report.
        let in_compare = answer.replace(
            "in the full report",
            &format!("in {}'s own report", r.target),
        );
        let (cv, ct) = &compare_html_rows[i];
        assert_eq!(cv, &worst, "compare HTML Q{}", q.number);
        if worst == "not measured" {
            assert_eq!(ct, "", "compare HTML Q{}", q.number);
        } else {
            assert_eq!(ct, &in_compare, "compare HTML Q{}", q.number);
        }
        let cell = &compare_rows[i][2];
        if worst == "not measured" {
            assert_eq!(cell, "not measured", "compare md Q{}", q.number);
            // A buyer reads what would measure it, not flags.
            assert!(
                answer.starts_with("Not measured: needs "),
                "Q{}: {answer}",
                q.number
            );
            assert!(!answer.contains("--"), "Q{}: {answer}", q.number);
            unmeasured.push(q.number.to_string());
        } else {
            let (verdict, text) = cell.split_once(": ").unwrap();
            assert_eq!(verdict.trim_matches('*'), worst, "compare md Q{}", q.number);
            assert!(
                in_compare.starts_with(text.trim_end_matches('…')),
                "compare md Q{}: {text} / {in_compare}",
                q.number
            );
        }
    }
    assert!(
        unmeasured.len() >= 3 && unmeasured.len() < sheet.len(),
        "{unmeasured:?}"
    );

    // How to measure the rest: the same questions and options in markdown, HTML and the terminal.
    let md_rest = md_table(&md, "| # | Question | Options |");
    let html_rest = &html_tables(&html, "How to measure the rest")[0];
    let numbers = |rows: &[Vec<String>]| rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    assert_eq!(numbers(&md_rest), unmeasured);
    assert_eq!(numbers(html_rest), unmeasured);
    for (m, h) in md_rest.iter().zip(html_rest) {
        assert_eq!(m[2], h[2], "options of Q{}", m[0]);
        assert_eq!(m[3], h[3], "why not, Q{}", m[0]);
    }
    let calls = md_rest
        .iter()
        .find(|r| r[0] == "5")
        .expect("no call was placed");
    assert_eq!(calls[2], "--allow-calls --call-to URI");
    // The terminal names each question not measured once: on the SKIPPED line of its findings, or
    // under "how to measure the rest" with the options (the same as the markdown's).
    let skipped_line = Regex::new(r"^SKIPPED .* \[((?:Q\d+(?:, )?)+)\]$").unwrap();
    let mut in_text: Vec<String> = text_lines
        .iter()
        .filter_map(|l| skipped_line.captures(l))
        .flat_map(|c| {
            c[1].split(", ")
                .map(|q| q.trim_start_matches('Q').to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!in_text.is_empty(), "{text}");
    let on_skipped_lines = in_text.clone();
    let joined = text_lines.join("\n");
    let rest = joined
        .split("how to measure the rest:\n")
        .nth(1)
        .unwrap_or("");
    let line = Regex::new(r"^  ((?:Q\d+(?:, )?)+): (.*)$").unwrap();
    for l in rest.lines().take_while(|l| l.starts_with("  ")) {
        let c = line.captures(l).unwrap();
        for q in c[1].split(", ") {
            let q = q.trim_start_matches('Q').to_string();
            assert!(!on_skipped_lines.contains(&q), "Q{q} twice: {text}");
            let row = md_rest.iter().find(|r| r[0] == q).unwrap();
            if !c[2].starts_with("no option") {
                assert!(row[2].split(" or ").any(|o| o == &c[2]), "{l} / {row:?}");
            }
            if !in_text.contains(&q) {
                in_text.push(q);
            }
        }
    }
    in_text.sort_by_key(|q| q.parse::<u8>().unwrap());
    in_text.dedup();
    assert_eq!(in_text, unmeasured, "text");

    // The policy results.
    let policy = &json["policy"];
    assert_eq!(policy["name"], "strict");
    let rules: Vec<Vec<String>> = policy["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            vec![
                x["rule"].as_str().unwrap().to_string(),
                x["setting"].to_string(),
                x["outcome"].as_str().unwrap().replace('_', " "),
                x["summary"].as_str().unwrap().to_string(),
            ]
        })
        .collect();
    assert!(rules.len() > 5, "{rules:?}");
    let md_rules = md_table(&md, "| Rule | Setting | Outcome |");
    let html_rules = &html_tables(&html, "Policy <code>strict</code>")[0];
    for (got, name) in [(&md_rules, "md"), (html_rules, "HTML")] {
        assert_eq!(got.len(), rules.len(), "{name}");
        for (g, w) in got.iter().zip(&rules) {
            assert_eq!(g[0], w[0], "{name}");
            let setting: Value = serde_json::from_str(&g[1]).unwrap();
            assert_eq!(setting.to_string(), w[1], "{name}");
            assert_eq!(g[2..], w[2..], "{name}");
        }
    }
    let by = |o: &str| rules.iter().filter(|r| r[2] == o).count();
    assert!(
        by("fail") > 0 && by("pass") > 0 && by("not measured") > 0,
        "{rules:?}"
    );
    assert!(
        text.contains(&format!(
            "policy strict: {} violated, {} passed, {} not measured",
            by("fail"),
            by("pass"),
            by("not measured")
        )),
        "{text}"
    );
    assert!(junit.contains("<property name=\"policy\" value=\"strict\"/>"));
    assert_eq!(sarif_v["runs"][0]["properties"]["policy"], "strict");

    // The TLS matrix, SSLv2 row included: markdown and HTML say what the JSON details hold.
    let tls_ep = endpoints.iter().find(|e| e.starts_with("tls:")).unwrap();
    let versions = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "tls.versions" && f["endpoint"] == tls_ep.as_str())
        .unwrap();
    let details = versions["details"]["versions"]
        .as_object()
        .or(versions["details"].as_object())
        .unwrap();
    let outcome = |v: &Value| match v["accepted"].as_bool().unwrap() {
        true => "accepted".to_string(),
        false => format!(
            "refused ({})",
            v["refusal"].as_str().unwrap_or("no reason recorded")
        ),
    };
    let mut want: Vec<(String, String)> = details
        .iter()
        .filter(|(_, v)| v.get("accepted").is_some())
        .map(|(k, v)| (k.clone(), outcome(v)))
        .collect();
    want.sort();
    assert!(
        want.iter()
            .any(|(v, o)| v == "SSLv2" && o.starts_with("refused")),
        "{want:?}"
    );
    let md_matrix = md_table(&md, "| Version | Outcome |");
    let html_matrix = &html_tables(&html, "TLS matrix")[0];
    for (rows, name) in [(&md_matrix, "md"), (html_matrix, "HTML")] {
        let mut got: Vec<(String, String)> =
            rows.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
        got.sort();
        assert_eq!(got, want, "{name} TLS matrix");
    }
}
