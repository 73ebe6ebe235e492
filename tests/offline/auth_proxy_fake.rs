//! Issue 11 class 7: an authenticating proxy, in process. Every request without valid credentials
//! gets 403 (an allow-list trunk) or 407 (a digest trunk), except that an unknown `Proxy-Require`
//! tag gets 420 first, as RFC 3261 §16.3 has a proxy check it. With valid credentials it is an
//! ordinary server: OPTIONS 200 with Allow/Supported, an unknown `Require` tag 420. A default scan
//! must never call its 403/407 a refusal of a feature or an ignored Require, and with `--user` must
//! show the answers measured behind the challenge.

#[allow(unused_imports)]
use crate::support;

use std::sync::Arc;
use std::time::Duration;

use sipcheck::probe::Config;
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::sip::Message;
use sipcheck::sip::digest::{Algorithm, Credentials};
use sipcheck::{Finding, Report, Status, Target, Transport};
use support::fake::{self, Reply, respond};

const USER: &str = "alice";
const PASSWORD: &str = "Pw-proxy-never-printed";
const REALM: &str = "proxy.test";
const NONCE: &str = "a1b2c3d4e5";
const TAG: &str = "x-sipcheck-unknown-extension";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Gate {
    Forbidden,
    Challenge,
}

fn digest_params(v: &str) -> Vec<(String, String)> {
    v.trim_start_matches("Digest ")
        .split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

/// Whether `m` carries a `Proxy-Authorization` whose RFC 2617 `qop=auth` MD5 response is right.
fn authenticated(m: &Message) -> bool {
    let Some(v) = m.header("Proxy-Authorization") else {
        return false;
    };
    let p = digest_params(v);
    let get = |n: &str| p.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let (Some(user), Some(realm), Some(nonce), Some(uri), Some(nc), Some(cnonce), Some(resp)) = (
        get("username"),
        get("realm"),
        get("nonce"),
        get("uri"),
        get("nc"),
        get("cnonce"),
        get("response"),
    ) else {
        return false;
    };
    let md5 = Algorithm::Md5;
    let ha1 = md5.hex(format!("{user}:{realm}:{PASSWORD}").as_bytes());
    let ha2 = md5.hex(format!("{}:{uri}", m.method().unwrap_or_default()).as_bytes());
    let want = md5.hex(format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}").as_bytes());
    user == USER && realm == REALM && nonce == NONCE && resp == want
}

fn has_tag(m: &Message, header: &str, tag: &str) -> bool {
    m.list_header(header)
        .iter()
        .any(|t| t.eq_ignore_ascii_case(tag))
}

fn proxy(gate: Gate) -> fake::Handler {
    Arc::new(move |m: &Message| {
        let unsupported = |tag: &str| {
            Reply::Send(respond(
                m,
                420,
                "Bad Extension",
                &[&format!("Unsupported: {tag}")],
            ))
        };
        if has_tag(m, "Proxy-Require", TAG) {
            return unsupported(TAG);
        }
        if !authenticated(m) {
            return Reply::Send(match gate {
                Gate::Forbidden => respond(m, 403, "Forbidden", &["Server: FakeProxy"]),
                Gate::Challenge => respond(
                    m,
                    407,
                    "Proxy Authentication Required",
                    &[
                        "Server: FakeProxy",
                        &format!(
                            "Proxy-Authenticate: Digest realm=\"{REALM}\", nonce=\"{NONCE}\", qop=\"auth\", algorithm=MD5"
                        ),
                    ],
                ),
            });
        }
        if m.method() == Some("REFER") {
            return Reply::Send(respond(m, 481, "Call/Transaction Does Not Exist", &[]));
        }
        for tag in [TAG, "sec-agree"] {
            if has_tag(m, "Require", tag) || has_tag(m, "Proxy-Require", tag) {
                return unsupported(tag);
            }
        }
        Reply::Send(respond(
            m,
            200,
            "OK",
            &[
                "Server: FakeProxy",
                "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, REFER",
                "Supported: replaces",
            ],
        ))
    })
}

async fn default_scan(f: &fake::Fake, user: bool) -> Report {
    let mut o = ScanOptions::new(Target::parse(&f.addr.to_string()).unwrap());
    o.transports = Some(vec![Transport::Udp]);
    o.config = Config::default();
    o.config.timers.timeout = Duration::from_millis(800);
    o.config.rate = 1000.0;
    o.config.burst = 100;
    if user {
        o.config.calls.credentials = Some(Credentials::new(USER, PASSWORD));
    }
    tokio::time::timeout(Duration::from_secs(120), scan(o))
        .await
        .expect("scan hung")
        .expect("scan")
}

/// A parseable malformed case the catalog expects a 400 for got 403/407: the trunk took it for a
/// request and went on to admission, which is "handled differently but safely" (a warn), and is the
/// same with `--user` (catalog cases are never sent with credentials).
const MALFORMED: Status = Status::Warn;

fn one<'a>(r: &'a Report, id: &str) -> &'a Finding {
    let all: Vec<&Finding> = r.findings.iter().filter(|f| f.id == id).collect();
    assert_eq!(all.len(), 1, "{id}: {all:#?}");
    all[0]
}

/// Every finding of the report has the status `expected` gives it (ids not listed must be
/// `skipped`: probes that need an opt-in, a name to resolve or TLS), and no summary reads a
/// 403/407 as a refusal of the feature or an ignored Require.
fn assert_every_finding(r: &Report, expected: &[(&str, Status)]) {
    for f in &r.findings {
        let want = expected
            .iter()
            .find(|(id, _)| *id == f.id)
            .map(|(_, s)| *s)
            .unwrap_or(Status::Skipped);
        assert_eq!(f.status, want, "{}: {}", f.id, f.summary);
        let s = f.summary.to_ascii_lowercase();
        assert!(!s.contains("ignored an unknown require"), "{f:#?}");
        assert!(!s.contains("refused with sip/2.0 40"), "{f:#?}");
        assert!(!s.contains("refused (sip/2.0 40"), "{f:#?}");
        assert!(!s.contains("refused a request because"), "{f:#?}");
    }
    for (id, _) in expected {
        assert!(
            r.findings.iter().any(|f| f.id == *id),
            "{id} missing: {:#?}",
            r.findings
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenging_proxy_is_judged_only_where_it_can_be() {
    let f = fake::udp("127.0.0.1:0", proxy(Gate::Challenge)).await;
    let r = default_scan(&f, false).await;
    not_measured_because(&r, "needs credentials", "407");
    let req = one(&r, "robustness.unknown_require");
    assert!(
        req.summary
            .starts_with("Require not measured: needs credentials")
            && req
                .summary
                .contains("refused Proxy-Require with SIP/2.0 420 Bad Extension, listing the tag"),
        "{}",
        req.summary
    );
    let refer = one(&r, "sip.refer_policy");
    assert!(
        refer
            .summary
            .contains("REFER was not acted on: challenged with SIP/2.0 407")
            && refer
                .summary
                .contains("gets 481 not measured: needs credentials"),
        "{}",
        refer.summary
    );
    // The Server header is in the 407 as in any answer.
    assert!(one(&r, "sip.server_header").summary.contains("FakeProxy"));
    assert_every_finding(
        &r,
        &[
            ("transport.udp", Status::Info),
            ("sip.allow", Status::Info),
            ("sip.refer", Status::Info),
            ("sip.server_header", Status::Info),
            ("robustness.unknown_header", Status::Info),
            ("robustness.unknown_require", Status::Info),
            ("secagree.rfc3329", Status::Info),
            // Not acted on without credentials: what this finding measures.
            ("sip.refer_policy", Status::Pass),
            // MD5 only, over plaintext UDP.
            ("auth.challenge", Status::Warn),
            ("robustness.malformed", MALFORMED),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_credentials_the_answers_behind_the_challenge_are_measured() {
    let f = fake::udp("127.0.0.1:0", proxy(Gate::Challenge)).await;
    let r = default_scan(&f, true).await;
    let allow = one(&r, "sip.allow");
    assert!(allow.summary.contains("REFER"), "{}", allow.summary);
    assert!(
        one(&r, "sip.refer")
            .summary
            .starts_with("REFER advertised: \"Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, REFER\" in the SIP/2.0 200 OK"),
        "{}",
        one(&r, "sip.refer").summary
    );
    let req = one(&r, "robustness.unknown_require");
    assert!(
        req.summary
            .starts_with("refused with SIP/2.0 420 Bad Extension listing the tag"),
        "{}",
        req.summary
    );
    assert!(
        one(&r, "robustness.unknown_header")
            .summary
            .contains("answered SIP/2.0 200 OK like a plain OPTIONS (SIP/2.0 200 OK)")
    );
    assert!(
        one(&r, "secagree.rfc3329")
            .summary
            .starts_with("not supported: 420 Bad Extension with Unsupported: sec-agree")
    );
    // Only an authenticated request was answered 200: the fake checked each digest.
    let oks = f
        .requests()
        .iter()
        .filter(|m| m.header("Proxy-Authorization").is_some())
        .count();
    assert!(oks >= 4, "{oks} authenticated requests");
    // The password is in no finding.
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains(PASSWORD));
    assert_every_finding(
        &r,
        &[
            ("transport.udp", Status::Info),
            ("sip.allow", Status::Info),
            ("sip.refer", Status::Info),
            ("sip.server_header", Status::Info),
            ("robustness.unknown_header", Status::Pass),
            ("robustness.unknown_require", Status::Pass),
            ("secagree.rfc3329", Status::Info),
            ("sip.refer_policy", Status::Pass),
            ("auth.challenge", Status::Warn),
            ("robustness.malformed", MALFORMED),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_forbidding_strangers_is_not_read_as_refusing_features() {
    let f = fake::udp("127.0.0.1:0", proxy(Gate::Forbidden)).await;
    for user in [false, true] {
        let r = default_scan(&f, user).await;
        not_measured_because(&r, "not admitted without credentials", "403");
        let req = one(&r, "robustness.unknown_require");
        assert!(
            req.summary
                .starts_with("Require not measured: not admitted without credentials")
                && req
                    .summary
                    .contains("refused Proxy-Require with SIP/2.0 420"),
            "{}",
            req.summary
        );
        let refer = one(&r, "sip.refer_policy");
        assert!(
            refer.summary.contains(
                "REFER was not acted on: answered SIP/2.0 403 Forbidden, as is every request without credentials here"
            ),
            "{}",
            refer.summary
        );
        assert_every_finding(
            &r,
            &[
                ("transport.udp", Status::Info),
                ("sip.allow", Status::Info),
                ("sip.refer", Status::Info),
                ("sip.server_header", Status::Info),
                ("robustness.unknown_header", Status::Info),
                ("robustness.unknown_require", Status::Info),
                ("secagree.rfc3329", Status::Info),
                ("sip.refer_policy", Status::Pass),
                ("auth.challenge", Status::Info),
                ("robustness.malformed", MALFORMED),
            ],
        );
    }
}

/// With `--user` and `--intrusive` the unknown-dialog REFER's challenge is answered and its 481 is
/// measured; the out-of-dialog REFER still goes without credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refer_policy_answers_the_unknown_dialog_challenge_only_when_intrusive() {
    let f = fake::udp("127.0.0.1:0", proxy(Gate::Challenge)).await;
    let mut o = ScanOptions::new(Target::parse(&f.addr.to_string()).unwrap());
    o.transports = Some(vec![Transport::Udp]);
    o.selectors = vec!["sip.refer_policy".into()];
    o.config.timers.timeout = Duration::from_millis(800);
    o.config.rate = 1000.0;
    o.config.burst = 100;
    o.config.calls.credentials = Some(Credentials::new(USER, PASSWORD));
    o.config.intrusive = true;
    let r = tokio::time::timeout(Duration::from_secs(60), scan(o))
        .await
        .expect("scan hung")
        .expect("scan");
    let p = one(&r, "sip.refer_policy");
    assert_eq!(p.status, Status::Pass, "{p:#?}");
    assert!(
        p.summary.starts_with(
            "an unauthenticated out-of-dialog REFER was not acted on: challenged with SIP/2.0 407"
        ) && p.summary.ends_with("; REFER for an unknown dialog got 481"),
        "{}",
        p.summary
    );
    let refers: Vec<Message> = f
        .requests()
        .into_iter()
        .filter(|m| m.method() == Some("REFER"))
        .collect();
    let with_credentials: Vec<&Message> = refers
        .iter()
        .filter(|m| m.header("Proxy-Authorization").is_some())
        .collect();
    assert_eq!(with_credentials.len(), 1, "{refers:#?}");
    assert!(with_credentials[0].header("To").unwrap().contains(";tag="));
}

/// The findings that read a plain OPTIONS answer say why they could not judge it, quoting the code.
fn not_measured_because(r: &Report, why: &str, code: &str) {
    for id in [
        "sip.allow",
        "sip.refer",
        "robustness.unknown_header",
        "secagree.rfc3329",
    ] {
        let s = &one(r, id).summary;
        assert!(
            s.contains(&format!("not measured: {why}")) && s.contains(code),
            "{id}: {s}"
        );
    }
}
