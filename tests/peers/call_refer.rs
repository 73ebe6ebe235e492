//! `call.refer`: REFER inside a real answered call. A real baresip is the far end (directly, and through
//! a Kamailio that Record-Routes, so the REFER and the NOTIFYs follow the dialog's route) and a second
//! baresip is the transfer target; in-process fakes refuse REFER in the dialog (403/405/501) or accept
//! it and never send a final NOTIFY. Every dialog sipcheck set up is ended (BYE sent or received).

#[allow(unused_imports)]
use crate::{baresip, media_fake, support};

use std::sync::Arc;
use std::time::{Duration, Instant};

use baresip::{Baresip, MediaMode};
use media_fake::{CallFake, response};
use sipcheck::Report;
use sipcheck::probe::Config;
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::sip::Message;
use sipcheck::{Status, Target, Transport};
use support::kamailio::{Kamailio, KamailioOptions};
use support::{findings, sipcheck};

/// Waits (bounded) until baresip closed every call it answered; returns (answered, closed).
fn all_closed(b: &Baresip) -> (usize, usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (a, c) = b.calls_answered_and_closed();
        if a == c || Instant::now() > deadline {
            return (a, c);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn refer_run(target: &str, refer_to: &str) -> serde_json::Value {
    refer_run_to(target, "bob", refer_to, "1")
}

fn refer_run_to(target: &str, to: &str, refer_to: &str, max_calls: &str) -> serde_json::Value {
    let out = sipcheck(&[
        "probe",
        target,
        "--transport",
        "udp",
        "--probes",
        "call.refer",
        "--max-calls",
        max_calls,
        "--call-to",
        to,
        "--refer-to",
        refer_to,
        "--allow-calls",
        "--timeout",
        "3s",
        "--format",
        "json",
    ]);
    support::json(&out)
}

fn assert_completed(f: &serde_json::Value, b: &Baresip, target: &Baresip) {
    assert_eq!(f["status"], "pass", "{f:#}\n{}", b.log_text());
    assert_eq!(f["details"]["outcome"], "completed", "{f:#}");
    let refer = &f["details"]["refer"];
    assert_eq!(refer["code"], 202, "{f:#}");
    let notifies = refer["notifies"].as_array().unwrap();
    assert!(!notifies.is_empty());
    for n in notifies {
        assert!(n["event"].as_str().unwrap().starts_with("refer"), "{n:#}");
        assert_eq!(n["content_type"], "message/sipfrag", "{n:#}");
    }
    assert!(
        f["summary"]
            .as_str()
            .unwrap()
            .contains("sipfrag \"200 OK\""),
        "{f:#}"
    );
    // The evidence holds the REFER and the NOTIFYs.
    let ev = f["evidence"].as_array().unwrap();
    let refer_sent = ev
        .iter()
        .find(|e| e["sent"].as_str().unwrap().starts_with("REFER "))
        .expect("REFER in the evidence");
    let sent = refer_sent["sent"].as_str().unwrap();
    assert!(sent.contains("Refer-To: <sip:bob@"), "{sent}");
    assert!(sent.contains("Referred-By: "), "{sent}");
    assert!(refer_sent["received"].as_str().unwrap().contains("NOTIFY "));
    // The transfer reached the target, and our own call with the far end was ended.
    assert_eq!(
        target.calls_answered_and_closed().0,
        1,
        "{}",
        target.log_text()
    );
    let (a, c) = all_closed(b);
    assert_eq!((a, c), (1, 1), "our call was left up:\n{}", b.log_text());
    assert!(
        f["details"]["teardown"]["clean"].as_bool().unwrap(),
        "{f:#}"
    );
}

#[test]
fn baresip_carries_out_a_refer_in_the_call() {
    let b = Baresip::start(MediaMode::Plain, "127.0.0.5");
    let t = Baresip::start(MediaMode::Plain, "127.0.0.6");
    let r = refer_run(&b.target(), &format!("sip:bob@{}", t.addr));
    let f = findings(&r, "call.refer");
    assert_eq!(f.len(), 1);
    assert_completed(f[0], &b, &t);
    // `sip.refer` (Allow) was not asked for and is not replaced by the measurement.
    assert!(findings(&r, "sip.refer").is_empty());
    // The answer sheet's REFER question and `compare` carry the measured transfer.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    std::fs::write(&path, r.to_string()).unwrap();
    let p = path.display().to_string();
    let out = sipcheck(&["compare", &p, &p, "--format", "md"]);
    let md = String::from_utf8_lossy(&out.stdout);
    let row = md
        .lines()
        .find(|l| l.starts_with("| 16 | REFER (call transfer) |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        row.contains("**pass**") && row.contains("REFER accepted"),
        "{row}"
    );
}

#[test]
fn through_a_record_routing_kamailio_the_refer_follows_the_route() {
    let b = Baresip::start(MediaMode::Plain, "127.0.0.7");
    let t = Baresip::start(MediaMode::Plain, "127.0.0.8");
    let route = format!(
        r#"
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{ t_relay(); }}
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("INVITE")) {{
        record_route();
        $du = "sip:{addr}";
        t_relay();
        exit;
    }}
"#,
        addr = b.addr
    );
    let k = Kamailio::start_with(KamailioOptions {
        modules: vec!["rr.so".into()],
        route,
        ipv6: false,
        ..KamailioOptions::default()
    });
    let r = refer_run(&k.target(), &format!("sip:bob@{}", t.addr));
    let f = findings(&r, "call.refer");
    assert_completed(f[0], &b, &t);
    let ev = f[0]["evidence"].as_array().unwrap();
    let refer = ev
        .iter()
        .map(|e| e["sent"].as_str().unwrap())
        .find(|s| s.starts_with("REFER "))
        .unwrap();
    assert!(
        refer.contains(&format!("Route: <sip:{}:{};lr", k.address, k.port)),
        "the REFER must follow the Record-Route:\n{refer}\n{}",
        k.log_text()
    );
    // The NOTIFYs came back through Kamailio (its Via on top).
    let received: String = ev.iter().map(|e| e["received"].as_str().unwrap()).collect();
    let notify = &received[received.find("NOTIFY ").unwrap()..];
    let via = notify.lines().find(|l| l.starts_with("Via: ")).unwrap();
    assert!(via.contains(&format!("{}:{}", k.address, k.port)), "{via}");
}

fn config() -> Config {
    let mut cfg = Config::default();
    cfg.timers.timeout = Duration::from_secs(2);
    cfg.calls.call_to = Some("bob".into());
    cfg.calls.allow = true;
    cfg.calls.refer_to = Some("carol".into());
    // One call: the blind REFER only (the attended transfer needs two more and is skipped).
    cfg.calls.max_calls = 1;
    cfg
}

async fn run(fake: &CallFake) -> Report {
    let mut o = ScanOptions::new(Target::parse(&fake.target()).unwrap());
    o.transports = Some(vec![Transport::Udp]);
    o.selectors = vec!["call.refer".into()];
    o.config = config();
    scan(o).await.unwrap()
}

const PLAIN_ANSWER: &str = "v=0\r\no=fake 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// A trunk that answers the call and treats the REFER with `refer`.
fn trunk(refer: impl Fn(&Message) -> Vec<Vec<u8>> + Send + Sync + 'static) -> media_fake::Handler {
    Arc::new(move |m: &Message| match m.method().unwrap_or_default() {
        "OPTIONS" | "BYE" | "CANCEL" => vec![response(m, 200, "OK", &[], None)],
        "INVITE" => vec![response(
            m,
            200,
            "OK",
            &["Contact: <sip:bob@127.0.0.1>".into()],
            Some(PLAIN_ANSWER),
        )],
        "REFER" => refer(m),
        _ => vec![],
    })
}

async fn wait_for_bye(fake: &CallFake) {
    let until = Instant::now() + Duration::from_secs(3);
    while fake.count("BYE") < 1 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        fake.count("BYE"),
        1,
        "the call was hung up: {:?}",
        fake.methods()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refer_refused_in_the_dialog_is_told_by_its_code() {
    for (code, reason) in [
        (403, "Forbidden"),
        (405, "Method Not Allowed"),
        (501, "Not Implemented"),
    ] {
        let fake =
            CallFake::start(trunk(move |m| vec![response(m, code, reason, &[], None)])).await;
        let r = run(&fake).await;
        let f = r.findings_with_id("call.refer").next().unwrap();
        assert_eq!(f.status, Status::Info, "{f:#?}");
        assert_eq!(f.details["outcome"], "refused");
        // The details read back as their registered type.
        let d = sipcheck::findings::ids::CALL_REFER.read(f).unwrap();
        assert_eq!(d.outcome, sipcheck::findings::call::ReferResult::Refused);
        assert_eq!(d.refer.as_ref().and_then(|r| r.code), Some(code));
        assert!(d.teardown.clean, "{d:?}");
        assert!(
            f.summary
                .contains(&format!("REFER refused in the dialog: \"{code} {reason}\"")),
            "{}",
            f.summary
        );
        assert_eq!(fake.count("REFER"), 1);
        wait_for_bye(&fake).await;
    }
}

/// 202, one `100 Trying` NOTIFY, and nothing after: accepted but never completed.
#[tokio::test(flavor = "multi_thread")]
async fn refer_accepted_but_never_completed() {
    let fake = CallFake::start(trunk(|m| {
        let notify = format!(
            "NOTIFY {contact} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKfakenotify\r\n\
             From: {to};tag=fk1\r\nTo: {from}\r\nCall-ID: {cid}\r\nCSeq: 7 NOTIFY\r\n\
             Event: refer\r\nSubscription-State: active;expires=60\r\nContent-Type: message/sipfrag\r\n\
             Content-Length: 20\r\n\r\nSIP/2.0 100 Trying\r\n",
            contact = m
                .header("Contact")
                .unwrap_or_default()
                .trim_matches(|c| c == '<' || c == '>'),
            to = m.header("To").unwrap_or_default().split(";tag").next().unwrap_or_default(),
            from = m.header("From").unwrap_or_default(),
            cid = m.header("Call-ID").unwrap_or_default(),
        );
        vec![response(m, 202, "Accepted", &[], None), notify.into_bytes()]
    }))
    .await;
    let started = Instant::now();
    let r = run(&fake).await;
    let f = r.findings_with_id("call.refer").next().unwrap();
    assert_eq!(f.status, Status::Warn, "{f:#?}");
    assert_eq!(f.details["outcome"], "accepted_not_completed");
    assert!(f.summary.contains("never completed"), "{}", f.summary);
    assert!(
        f.summary.contains("last sipfrag \"100 Trying\""),
        "{}",
        f.summary
    );
    assert_eq!(f.details["refer"]["notifies"].as_array().unwrap().len(), 1);
    // Bounded: the follow deadline, the call set-up and the BYE.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    wait_for_bye(&fake).await;
}

#[test]
fn refer_needs_refer_to() {
    let out = sipcheck(&[
        "probe",
        "127.0.0.1:9",
        "--probes",
        "call.refer",
        "--call-to",
        "bob",
        "--allow-calls",
        "--format",
        "json",
        "--timeout",
        "1s",
        "--dry-run",
    ]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("--refer-to"), "{text}");
}

/// Attended transfer through a Kamailio that routes by Request-URI: the call to the transferee and the
/// call to the target both go through it, the REFER names the target with Replaces of our second call.
/// Measured with baresip 1.0.0: it calls the target but without replacing our call (warn).
#[test]
fn attended_transfer_through_kamailio_is_measured() {
    let a = Baresip::start(MediaMode::Plain, "127.0.0.10");
    let t = Baresip::start(MediaMode::Plain, "127.0.0.11");
    let route = r#"
    if (is_method("CANCEL")) {
        if (t_check_trans()) { t_relay(); }
        exit;
    }
    if (has_totag()) {
        if (loose_route()) { t_relay(); exit; }
        if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
        sl_send_reply("404", "Not here");
        exit;
    }
    if (is_method("INVITE")) {
        record_route();
        t_relay();
        exit;
    }
"#;
    let k = Kamailio::start_with(KamailioOptions {
        modules: vec!["rr.so".into()],
        route: route.into(),
        ipv6: false,
        ..KamailioOptions::default()
    });
    let r = refer_run_to(
        &k.target(),
        &format!("sip:bob@{}", a.addr),
        &format!("sip:bob@{}", t.addr),
        "3",
    );
    assert_eq!(findings(&r, "call.refer")[0]["status"], "pass", "{r:#}");
    let f = findings(&r, "call.refer_replaces")[0];
    let att = &f["details"]["attended"];
    assert_eq!(att["transferee_call"], "SIP/2.0 200 Answering", "{f:#}");
    assert_eq!(att["target_call"], "SIP/2.0 200 Answering", "{f:#}");
    let refer_to = att["refer"]["refer_to"].as_str().unwrap();
    assert!(refer_to.contains("?Replaces="), "{refer_to}");
    assert!(
        refer_to.contains("%3Bto-tag%3D") && refer_to.contains("%3Bfrom-tag%3D"),
        "{refer_to}"
    );
    assert_eq!(att["refer"]["code"], 202, "{f:#}");
    // What baresip 1.0.0 does with it: a new call to the target, ours left in place (then ended by us).
    assert_eq!(f["status"], "warn", "{f:#}\n{}", t.log_text());
    assert_eq!(f["details"]["outcome"], "not_replaced");
    assert_eq!(att["target_call_replaced"], false);
    assert_eq!(f["details"]["teardown_clean"], true, "{f:#}");
    // Both of our calls were ended with a BYE in the evidence.
    let byes = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["sent"].as_str().unwrap().starts_with("BYE "))
        .count();
    assert_eq!(byes, 2, "{f:#}");
}
