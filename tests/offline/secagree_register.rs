//! RFC 3329 on REGISTER with credentials, against an in-process registrar (no packaged server does the
//! security agreement): a 401 carrying `Security-Server`, then a 200 only for a REGISTER whose digest is
//! right AND whose `Security-Verify` echoes the server's list. The password must appear nowhere.

#[allow(unused_imports)]
use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sipcheck::sip::Message;
use sipcheck::sip::digest::Algorithm;
use support::fake::{self, Reply, respond};
use support::{findings, sipcheck_env};

const USER: &str = "alice";
const PASSWORD: &str = "Pw-3329-never-printed";
const REALM: &str = "sec.test";
const NONCE: &str = "b0c1d2e3f4";
const SERVER_LIST: &str =
    "tls;q=0.2, ipsec-3gpp;q=0.1;alg=hmac-sha-1-96;spi-c=1234;spi-s=5678;port-c=5062;port-s=5064";

/// The `name=value` pairs of a Digest header (test-grade: our own values hold no commas).
fn digest_params(v: &str) -> Vec<(String, String)> {
    v.trim_start_matches("Digest ")
        .split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

/// Recomputes the RFC 2617 `qop=auth` MD5 response the client must have sent.
fn digest_ok(v: &str) -> bool {
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
    let ha2 = md5.hex(format!("REGISTER:{uri}").as_bytes());
    let want = md5.hex(format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}").as_bytes());
    user == USER && realm == REALM && nonce == NONCE && resp == want
}

fn requires(m: &Message, tag: &str) -> bool {
    m.list_header("Require")
        .iter()
        .any(|t| t.eq_ignore_ascii_case(tag))
}

/// An RFC 3329 registrar; `accepted` is set when a REGISTER passed both checks.
fn registrar(accepted: Arc<AtomicBool>) -> fake::Handler {
    Arc::new(move |m: &Message| {
        let server = format!("Security-Server: {SERVER_LIST}");
        let challenge = format!(
            "WWW-Authenticate: Digest realm=\"{REALM}\", nonce=\"{NONCE}\", qop=\"auth\", algorithm=MD5"
        );
        if !requires(m, "sec-agree") {
            return Reply::Send(respond(m, 200, "OK", &[]));
        }
        if m.method() != Some("REGISTER") {
            return Reply::Send(respond(
                m,
                494,
                "Security Agreement Required",
                &[&server, "Require: sec-agree"],
            ));
        }
        let verified = m.header("Security-Verify") == Some(SERVER_LIST);
        let authed = m.header("Authorization").is_some_and(digest_ok);
        if verified && authed && m.header("Expires") == Some("0") {
            accepted.store(true, Ordering::SeqCst);
            return Reply::Send(respond(m, 200, "OK", &["Expires: 0"]));
        }
        if m.header("Authorization").is_some() {
            return Reply::Send(respond(m, 403, "Forbidden", &[]));
        }
        Reply::Send(respond(
            m,
            401,
            "Unauthorized",
            &[&challenge, &server, "Require: sec-agree"],
        ))
    })
}

struct Run {
    report: serde_json::Value,
    everything: String,
    requests: Vec<Message>,
    accepted: bool,
}

/// Runs the binary against a fresh registrar, with or without `--user` (password in the environment).
async fn run(user: Option<&str>, password: &str) -> Run {
    let accepted = Arc::new(AtomicBool::new(false));
    let f = fake::udp("127.0.0.1:0", registrar(accepted.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("report.json");
    let mut args: Vec<String> = [
        "probe",
        &f.addr.to_string(),
        "--transport",
        "udp",
        "--probes",
        "secagree",
        "--timeout",
        "1s",
        "--format",
        "json",
        "-o",
        &json_path.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(u) = user {
        args.extend(["--user".to_string(), u.to_string()]);
    }
    let password = password.to_string();
    let out = tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        sipcheck_env(&a, &[("SIPCHECK_PASSWORD", &password)])
    })
    .await
    .unwrap();
    let json_text = std::fs::read_to_string(&json_path).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Run {
        report: serde_json::from_str(&json_text).unwrap(),
        everything: format!(
            "{}\n{}\n{json_text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        requests: f.requests(),
        accepted: accepted.load(Ordering::SeqCst),
    }
}

fn registers(r: &Run) -> Vec<&Message> {
    r.requests
        .iter()
        .filter(|m| m.method() == Some("REGISTER"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_completes_sec_agree_with_digest_and_security_verify() {
    let r = run(Some(USER), PASSWORD).await;
    let f = findings(&r.report, "secagree.rfc3329");
    assert_eq!(f.len(), 1, "{:#}", r.report);
    let reg = &f[0]["details"]["register"];
    assert!(r.accepted, "the registrar never accepted: {reg:#}");
    assert_eq!(reg["accepted"], true, "{reg:#}");
    assert_eq!(reg["completed"], true);
    assert_eq!(reg["digest_answered"], true);
    assert_eq!(reg["security_verify"], SERVER_LIST);
    assert_eq!(reg["final"], 200);
    let codes: Vec<u64> = reg["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["response"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [401, 200]);
    let mechs: Vec<&str> = reg["security_server"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mechanism"].as_str().unwrap())
        .collect();
    assert_eq!(mechs, ["tls", "ipsec-3gpp"]);
    let summary = f[0]["summary"].as_str().unwrap();
    assert!(summary.contains("agreement completed"), "{summary}");
    // The OPTIONS part is unchanged by the REGISTER.
    assert_eq!(f[0]["status"], "pass");
    assert_eq!(f[0]["details"]["downgrade"]["refused"], true);

    let regs = registers(&r);
    assert_eq!(regs.len(), 2);
    for m in &regs {
        assert_eq!(m.header("Expires"), Some("0"));
        assert!(m.header("To").unwrap().contains("sip:alice@127.0.0.1"));
        assert!(m.header("From").unwrap().contains("sip:alice@127.0.0.1"));
        assert!(m.header("Security-Client").is_some());
        assert!(requires(m, "sec-agree"));
    }
    assert_eq!(regs[0].header("Call-ID"), regs[1].header("Call-ID"));
    assert!(regs[0].header("Authorization").is_none());
    // The evidence shows the REGISTERs but not the digest answer.
    let ev = f[0]["evidence"].to_string();
    assert!(ev.contains("REGISTER sip:127.0.0.1"), "{ev}");
    assert!(ev.contains("Authorization: <redacted>"), "{ev}");
    assert!(!ev.contains("response=\\\""), "{ev}");
    assert!(!r.everything.contains(PASSWORD), "the password leaked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_reported_as_not_accepted_without_leaking_it() {
    let wrong = "Wrong-pw-3329-also-secret";
    let r = run(Some(USER), wrong).await;
    let f = findings(&r.report, "secagree.rfc3329");
    assert_eq!(f.len(), 1, "{:#}", r.report);
    let reg = &f[0]["details"]["register"];
    assert!(!r.accepted);
    assert_eq!(reg["accepted"], false, "{reg:#}");
    assert_eq!(reg["final"], 403);
    assert_eq!(reg["digest_answered"], true);
    assert!(
        f[0]["summary"]
            .as_str()
            .unwrap()
            .contains("REGISTER as alice: not accepted (401 → 403"),
        "{}",
        f[0]["summary"]
    );
    assert_eq!(registers(&r).len(), 2);
    assert!(!r.everything.contains(wrong), "the password leaked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_no_register_is_sent() {
    let r = run(None, PASSWORD).await;
    let f = findings(&r.report, "secagree.rfc3329");
    assert_eq!(f.len(), 1, "{:#}", r.report);
    assert!(f[0]["details"]["register"].is_null(), "{:#}", f[0]);
    assert_eq!(f[0]["status"], "pass");
    assert!(registers(&r).is_empty(), "{:?}", r.requests);
    assert!(!r.requests.is_empty(), "the OPTIONS probe did run");
}
