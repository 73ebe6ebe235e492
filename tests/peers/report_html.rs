//! The HTML report and comparison in a real browser (Debian's headless Chromium), and the markdown
//! report through a real converter (pandoc): every question and verdict shows, nothing is fetched, and a
//! hostile trunk's Server, reason phrase, Allow and Supported render as text in both.

#[allow(unused_imports)]
use crate::{golden, support};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use sipcheck::probe::Config;
use sipcheck::report::{self, Format, Report, Status, answers};
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::{Target, Transport};
use support::fake::{self, Reply, respond};
use support::kamailio::Kamailio;
use support::{sipcheck, wait_bounded};

const HOSTILE_ALLOW: &str = "INVITE, <script>alert(3)</script>, REFER";
const HOSTILE_SUPPORTED: &str = "</td></tr></table>";
const HOSTILE_SERVER: &str = "evil/1.0 <script>alert(2)</script> ```` | `x` *y*";
const HOSTILE_REASON: &str = "OK </td><img src=x onerror=alert(1)> | ``";

/// Runs headless Chromium on `file` with no way to reach any name, and returns the rendered DOM and
/// the URLs its network log saw. A screenshot goes to `shot`.
fn chromium(file: &Path, shot: &Path) -> (String, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let netlog = dir.path().join("net.json");
    let common = |c: &mut Command| {
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1200,1500",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    };
    let mut dump = Command::new("chromium");
    common(&mut dump);
    dump.arg(format!("--log-net-log={}", netlog.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .stdout(Stdio::piped());
    let out = wait_bounded(
        dump.spawn()
            .expect("chromium (scripts/setup-test-rig.sh installs it)"),
        90,
    );
    assert!(out.status.success(), "chromium --dump-dom failed");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();

    let mut snap = Command::new("chromium");
    common(&mut snap);
    snap.arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", file.display()))
        .stdout(Stdio::piped());
    let out = wait_bounded(snap.spawn().unwrap(), 90);
    assert!(out.status.success() && shot.exists(), "no screenshot");

    // The net log ends without its closing brackets when Chromium exits; the URLs are enough.
    let log = std::fs::read_to_string(&netlog).unwrap_or_default();
    let urls = regex::Regex::new(r#""url":"([^"]+)""#)
        .unwrap()
        .captures_iter(&log)
        .map(|c| c[1].to_string())
        .collect();
    (dom, urls)
}

/// Chromium's own background services (updates, accounts, time); the resolver rules send them nowhere.
fn chromium_housekeeping(url: &str) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or("")
        .split(['/', ':', '?'])
        .next()
        .unwrap_or("");
    host.ends_with(".google.com") || host.ends_with(".googleapis.com") || host == "~notfound"
}

/// Asserts the page fetched nothing: no reference out in the file, and no request of its own in the log.
fn assert_self_contained(html: &str, urls: &[String], file: &Path) {
    // Text from the trunk is escaped, so every `<` left in the file opens one of our own tags.
    let tags = regex::Regex::new(r"<[^>]*>").unwrap();
    for tag in tags.find_iter(html).map(|m| m.as_str()) {
        for needle in [
            " src=", "<link", "<script", "<img", "<iframe", "<object", "<embed", "<base",
        ] {
            assert!(!tag.contains(needle), "the page refers out: {tag}");
        }
        if let Some(href) = tag.split(" href=\"").nth(1) {
            assert!(href.starts_with('#'), "a link out: {tag}");
        }
    }
    let style = html
        .split("<style>")
        .nth(1)
        .unwrap()
        .split("</style>")
        .next()
        .unwrap();
    assert!(
        !style.contains("url(") && !style.contains("@import"),
        "the style fetches"
    );
    assert!(html.contains("default-src 'none'; style-src 'unsafe-inline'"));
    let page = format!("file://{}", file.display());
    let own: Vec<&String> = urls
        .iter()
        .filter(|u| **u != page && !chromium_housekeeping(u))
        .collect();
    assert!(own.is_empty(), "the page made requests: {own:?}");
}

/// Asserts the rendered page shows every question of the sheet and its verdict.
fn assert_every_answer(dom: &str, r: &Report) {
    let text = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let all = answers::all(r);
    assert_eq!(all.len(), 16);
    for a in &all {
        assert!(
            dom.contains(&text(&a.question.text)),
            "question {} missing",
            a.question.number
        );
        let cell = match a.verdict {
            Some(v) => format!("<td class=\"v {v}\">{v}</td>"),
            None => "<td class=\"v none\">not measured</td>".into(),
        };
        let row = dom
            .split("<tr>")
            .find(|row| row.contains(&text(&a.question.text)))
            .unwrap();
        assert!(
            row.contains(&cell),
            "question {}: {cell} not in {row}",
            a.question.number
        );
    }
}

/// Volatile fields normalised, the placeholders (`<PORT>`) kept as text rather than unknown tags.
fn normalise_html(html: &str) -> String {
    let n = golden::normalise(html);
    regex::Regex::new(r"<([A-Z]+)>")
        .unwrap()
        .replace_all(&n, "&lt;$1&gt;")
        .into_owned()
}

fn artefact(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(dir).unwrap();
    dir.join(name)
}

async fn hostile_report() -> Report {
    let f = fake::udp(
        "127.0.0.1:0",
        Arc::new(|req| {
            let allow = format!("Allow: {HOSTILE_ALLOW}");
            let supported = format!("Supported: {HOSTILE_SUPPORTED}");
            let server = format!("Server: {HOSTILE_SERVER}");
            Reply::Send(respond(
                req,
                200,
                HOSTILE_REASON,
                &[&allow, &supported, &server],
            ))
        }),
    )
    .await;
    let mut o = ScanOptions::new(Target::parse(&f.addr.to_string()).unwrap());
    o.transports = Some(vec![Transport::Udp]);
    o.selectors = vec!["transport".into(), "sip".into()];
    o.config = Config::default();
    o.config.timers.timeout = Duration::from_millis(1500);
    tokio::time::timeout(Duration::from_secs(60), scan(o))
        .await
        .expect("scan hung")
        .expect("scan")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_trunk_renders_as_text_in_chromium_and_pandoc() {
    let r = hostile_report().await;
    let allow = r.findings.iter().find(|f| f.id == "sip.allow").unwrap();
    assert!(
        allow.summary.contains("<script>alert(3)</script>"),
        "{}",
        allow.summary
    );
    let server = r
        .findings
        .iter()
        .find(|f| f.id == "sip.server_header")
        .unwrap();
    assert_eq!(server.status, Status::Warn, "{server:?}");

    let dir = tempfile::tempdir().unwrap();
    let html = report::render(&r, Format::Html, false);
    let file = dir.path().join("hostile.html");
    std::fs::write(&file, &html).unwrap();
    let (dom, urls) = chromium(&file, &artefact("hostile-report.png"));
    assert_self_contained(&html, &urls, &file);
    assert_every_answer(&dom, &r);
    // Parsed by the browser, the hostile bytes are text: no element came from them.
    for tag in ["<script", "<img", "</table></td>"] {
        assert!(!dom.contains(tag), "{tag} became markup:\n{dom}");
    }
    assert!(
        dom.contains("&lt;script&gt;alert(3)&lt;/script&gt;"),
        "Allow text missing"
    );
    assert!(
        dom.contains("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;"),
        "Supported text missing"
    );
    assert!(
        dom.contains("&lt;script&gt;alert(2)&lt;/script&gt; ```` | `x` *y*"),
        "Server text missing"
    );

    // The markdown through pandoc: the same strings are text, cells are not split, fences hold.
    let md = report::render(&r, Format::Markdown, false);
    let mut pandoc = Command::new("pandoc")
        .args(["-f", "markdown", "-t", "html"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pandoc (scripts/setup-test-rig.sh installs it)");
    use std::io::Write as _;
    pandoc
        .stdin
        .take()
        .unwrap()
        .write_all(md.as_bytes())
        .unwrap();
    let out = wait_bounded(pandoc, 60);
    assert!(out.status.success());
    let converted = String::from_utf8_lossy(&out.stdout);
    for tag in ["<script", "<img", "</td></tr></table>"] {
        assert!(
            !converted.contains(tag),
            "{tag} became markup in the markdown:\n{converted}"
        );
    }
    assert!(
        converted.contains("&lt;script&gt;alert(3)&lt;/script&gt;"),
        "{converted}"
    );
    let sheet = converted.split("RFP answer sheet").nth(1).unwrap();
    let rows: Vec<&str> = sheet
        .split("</table>")
        .next()
        .unwrap()
        .split("<tr")
        .skip(2)
        .collect();
    assert_eq!(rows.len(), 16, "one row per question");
    for row in rows {
        assert_eq!(row.matches("<td").count(), 5, "a cell was split: {row}");
    }
    // The Server header's backtick run inside the evidence did not close its fence.
    assert!(converted.contains("<pre><code>"), "{converted}");
    assert!(
        !converted.contains("<code>x</code>"),
        "a backtick from the peer opened code outside the fence"
    );

    // The comparison of two such reports, in the browser too.
    let cmp = report::html::render_compare(&[r.clone(), r.clone()]);
    let cfile = dir.path().join("compare.html");
    std::fs::write(&cfile, &cmp).unwrap();
    let (cdom, curls) = chromium(&cfile, &artefact("hostile-compare.png"));
    assert_self_contained(&cmp, &curls, &cfile);
    assert!(!cdom.contains("<script"), "{cdom}");
    for q in sipcheck::report::questions::sheet() {
        assert!(
            cdom.contains(&format!("<td>{}</td><td>{}</td>", q.number, q.short)),
            "{}",
            q.short
        );
    }
}

/// The grouped text scorecard of the demo trunk fits one screen (32 lines of 120 columns; a new
/// finding must fold into its family or earn its line), and every finding's verdict is on a line
/// that names its id (or its folded family or category).
fn one_screen_without_losing_a_verdict(r: &Report) {
    let text = report::render(r, Format::Text, false);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() <= 32, "{} lines:\n{text}", lines.len());
    for l in &lines {
        assert!(l.chars().count() <= 120, "wider than 120 columns: {l}");
    }
    for f in &r.findings {
        let tag = f.status.as_str().to_uppercase();
        let cat = format!("{}.*", f.id.split('.').next().unwrap());
        let shown = lines.iter().any(|l| {
            l.starts_with(&tag)
                && l.split(|c: char| c.is_whitespace() || c == ',' || c == ':')
                    .any(|w| w == f.id || w == cat)
        });
        assert!(shown, "{} {} lost:\n{text}", f.status, f.id);
    }
    assert!(r.findings.len() > lines.len(), "grouping saved nothing");
}

/// Every markdown answer cell is short; the evidence is in the appendix.
fn short_markdown_answers(r: &Report) {
    let md = report::render(r, Format::Markdown, false);
    let sheet = md.split("## RFP answer sheet").nth(1).unwrap();
    let rows: Vec<&str> = sheet
        .lines()
        .skip_while(|l| !l.starts_with("| #"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(rows.len(), 16);
    for row in rows {
        let cells: Vec<&str> = row.split(" | ").collect();
        assert!(cells[3].chars().count() <= 300, "long answer: {}", cells[3]);
    }
    assert!(md.contains("## Appendix: findings and evidence"));
}

#[test]
fn kamailio_report_and_comparison_in_chromium() {
    let k = Kamailio::start();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("k.json");
    let (target, ca) = (k.target(), k.pki.ca_pem.display().to_string());
    let base = [
        "probe",
        &target,
        "--ca-file",
        &ca,
        "--domain",
        "sip.test",
        "--timeout",
        "3s",
    ];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let out = sipcheck(&args);
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    run(&[
        "--policy",
        "strict",
        "--format",
        "json",
        "-o",
        json.to_str().unwrap(),
        "--quiet",
    ]);
    let r = report::read_json(json.to_str().unwrap()).unwrap();
    one_screen_without_losing_a_verdict(&r);
    short_markdown_answers(&r);
    let html_file = dir.path().join("k.html");
    let out = run(&["--policy", "strict", "--format", "html"]);
    let html = normalise_html(&String::from_utf8_lossy(&out.stdout));
    std::fs::write(&html_file, &html).unwrap();
    let shot = artefact("kamailio-report.png");
    let (dom, urls) = chromium(&html_file, &shot);
    assert_self_contained(&html, &urls, &html_file);
    assert_every_answer(&dom, &r);
    assert!(
        dom.contains("<h2>TLS matrix</h2>") && dom.contains("suite recommended"),
        "TLS matrix"
    );
    assert!(
        dom.contains("Client certificate requested: no"),
        "certificate section"
    );
    assert!(dom.contains("What to ask:"), "remedies beside warns");

    let out = sipcheck(&[
        "compare",
        json.to_str().unwrap(),
        json.to_str().unwrap(),
        "--format",
        "html",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let cmp = normalise_html(&String::from_utf8_lossy(&out.stdout));
    let cfile = dir.path().join("compare.html");
    std::fs::write(&cfile, &cmp).unwrap();
    let (cdom, curls) = chromium(&cfile, &artefact("kamailio-compare.png"));
    assert_self_contained(&cmp, &curls, &cfile);
    assert!(cdom.contains("<th>Strongest</th>"), "{cdom}");

    // The screenshot in docs/usage.md and the HTML sample: `SIPCHECK_WRITE_SAMPLES=1 cargo test --test peers report_html`.
    if std::env::var_os("SIPCHECK_WRITE_SAMPLES").is_some() {
        std::fs::create_dir_all("docs").unwrap();
        std::fs::write("docs/sample-report.html", &html).unwrap();
        let small = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--window-size=1000,900",
            ])
            .args([
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ])
            .arg("--host-resolver-rules=MAP * ~NOTFOUND")
            .arg(format!(
                "--user-data-dir={}",
                dir.path().join("p2").display()
            ))
            .arg("--screenshot=docs/report-html.png")
            .arg(format!("file://{}", html_file.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        assert!(wait_bounded(small, 90).status.success());
    }
}
