//! Who our calls come from, and how digest challenges on INVITE are answered, against an in-process
//! fake trunk that checks what a real proxy checks (From user = authenticated user) and shows what no
//! packaged server is easily made to show: a `stale=true` re-challenge, and a challenge repeated after
//! good-looking credentials.

#[allow(unused_imports)]
use crate::{media_fake, support};

use std::sync::Arc;
use std::time::Duration;

use media_fake::{CallFake, response};
use sipcheck::Report;
use sipcheck::probe::Config;
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::sip::Message;
use sipcheck::sip::digest::Credentials;
use sipcheck::{Status, Target, Transport};

fn config(caller_id: Option<&str>) -> Config {
    let mut cfg = Config::default();
    cfg.timers.timeout = Duration::from_secs(2);
    cfg.calls.call_to = Some("bob".into());
    cfg.calls.allow = true;
    cfg.calls.max_calls = 1;
    cfg.calls.credentials = Some(Credentials::new("alice", "pw-identity"));
    cfg.calls.caller_id = caller_id.map(str::to_string);
    cfg
}

async fn run(fake: &CallFake, cfg: Config) -> Report {
    let mut o = ScanOptions::new(Target::parse(&fake.target()).unwrap());
    o.transports = Some(vec![Transport::Udp]);
    o.selectors = vec!["media.sdes".into()];
    o.config = cfg;
    scan(o).await.unwrap()
}

fn sdes(r: &Report) -> &sipcheck::Finding {
    r.findings_with_id("media.sdes").next().expect("media.sdes")
}

/// The user part of a `<sip:user@host...>` header value.
fn user_of(v: &str) -> String {
    let s = v.split_once("sip:").map(|x| x.1).unwrap_or_default();
    s.split('@').next().unwrap_or_default().to_string()
}

fn nonce_of(m: &Message) -> Option<String> {
    let v = m.header("Proxy-Authorization")?;
    let i = v.find("nonce=\"")? + 7;
    Some(v[i..].split('"').next()?.to_string())
}

fn proxy_challenge(m: &Message, nonce: &str, stale: bool) -> Vec<Vec<u8>> {
    let stale = if stale { ", stale=true" } else { "" };
    vec![response(
        m,
        407,
        "Proxy Authentication Required",
        &[format!(
            "Proxy-Authenticate: Digest realm=\"fake\", nonce=\"{nonce}\", qop=\"auth\", algorithm=MD5{stale}"
        )],
        None,
    )]
}

/// A trunk that challenges, answers the first credentials with `stale=true` and a fresh nonce, and takes
/// the call only when From and Contact name the authenticated user (or the caller id it was told of).
fn stale_then_checked(expect_user: &'static str) -> media_fake::Handler {
    Arc::new(move |m: &Message| match m.method().unwrap_or_default() {
        "OPTIONS" | "BYE" | "CANCEL" => vec![response(m, 200, "OK", &[], None)],
        "INVITE" => match nonce_of(m).as_deref() {
            None => proxy_challenge(m, "n1", false),
            Some("n1") => proxy_challenge(m, "n2", true),
            Some(_) => {
                let from = m.header("From").unwrap_or_default();
                let contact = m.header("Contact").unwrap_or_default();
                if user_of(from) != expect_user || user_of(contact) != expect_user {
                    return vec![response(m, 403, "Wrong From user", &[], None)];
                }
                vec![response(m, 486, "Busy Here", &[], None)]
            }
        },
        _ => vec![],
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_account_user_calls_and_a_stale_nonce_is_answered_again() {
    let fake = CallFake::start(stale_then_checked("alice")).await;
    let r = run(&fake, config(None)).await;
    let f = sdes(&r);
    // The trunk took the authenticated INVITE (486: busy), so identity and the stale retry were right.
    assert!(f.summary.contains("did not take the call"), "{f:#?}");
    assert!(f.summary.contains("486"), "{}", f.summary);
    assert_eq!(f.details["auth_rounds"], 2, "{:#}", f.details);
    assert_eq!(f.details["stale_nonce_retried"], true);
    assert_eq!(fake.count("INVITE"), 3);
    let reqs = fake.requests.lock().unwrap();
    let inv = reqs.iter().find(|m| m.method() == Some("INVITE")).unwrap();
    // The From domain is the target's SIP domain (here the address it was given as).
    assert!(
        inv.header("From")
            .unwrap()
            .contains("<sip:alice@127.0.0.1>"),
        "{:?}",
        inv.header("From")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn caller_id_sets_the_calling_number() {
    let fake = CallFake::start(stale_then_checked("+15550100")).await;
    let r = run(&fake, config(Some("+15550100"))).await;
    let f = sdes(&r);
    assert!(f.summary.contains("486"), "{f:#?}");
    // The account user is still the one that authenticates.
    let reqs = fake.requests.lock().unwrap();
    let last = reqs.iter().rfind(|m| m.method() == Some("INVITE")).unwrap();
    assert!(
        last.header("Proxy-Authorization")
            .unwrap()
            .contains("username=\"alice\""),
        "{:?}",
        last.header("Proxy-Authorization")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_challenge_repeated_after_credentials_is_credentials_not_accepted() {
    let fake = CallFake::start(Arc::new(|m: &Message| {
        match m.method().unwrap_or_default() {
            "OPTIONS" | "BYE" | "CANCEL" => vec![response(m, 200, "OK", &[], None)],
            // A fresh nonce every time but never stale: the credentials themselves are refused.
            "INVITE" => proxy_challenge(m, &format!("n{}", nonce_of(m).unwrap_or_default()), false),
            _ => vec![],
        }
    }))
    .await;
    let r = run(&fake, config(None)).await;
    let f = sdes(&r);
    assert_eq!(f.status, Status::Error, "{f:#?}");
    assert!(
        f.summary.contains(
            "credentials were not accepted: the authenticated INVITE was answered \"407 Proxy Authentication Required\""
        ),
        "{}",
        f.summary
    );
    assert_eq!(f.details["auth_rounds"], 1);
    assert_eq!(
        fake.count("INVITE"),
        2,
        "the refused credentials are not sent again"
    );
    // The last ACK leaves just before the probe ends; the fake may still be reading it.
    let until = std::time::Instant::now() + Duration::from_secs(3);
    while fake.count("ACK") < 2 && std::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fake.count("ACK"), 2, "every 407 was ACKed");
}
