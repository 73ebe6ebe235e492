//! The opt-in flood probes against a real Kamailio with and without its `pike` flood detector, and
//! against fakes for what Kamailio does not do (an open registrar). Bounded: at most a few hundred
//! requests to loopback per test.

mod support;

use std::sync::Arc;

use support::fake::{self, Reply, respond};
use support::kamailio::{Kamailio, KamailioOptions};
use support::{findings, json, sipcheck};

fn flood(target: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "probe",
        target,
        "--format",
        "json",
        "--transport",
        "udp",
        "--probes",
        "dos",
        "--timeout",
        "1s",
    ];
    args.extend_from_slice(extra);
    json(&sipcheck(&args))
}

#[test]
fn without_dos_flag_nothing_is_sent() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let f = rt.block_on(fake::udp("127.0.0.1:0", fake::ok_with(&[])));
    let r = flood(&f.addr.to_string(), &[]);
    for id in ["dos.options_flood", "dos.register_storm"] {
        let x = findings(&r, id);
        assert_eq!(x[0]["status"], "skipped", "{}", x[0]);
        assert!(x[0]["summary"].as_str().unwrap().contains("--dos"));
    }
    assert_eq!(
        f.received.lock().unwrap().len(),
        0,
        "a skipped flood probe sent traffic"
    );
}

#[test]
fn stock_kamailio_shows_no_rate_limiting() {
    let k = Kamailio::start();
    let r = flood(&k.target(), &["--dos", "--dos-max-requests", "120"]);
    let f = &findings(&r, "dos.options_flood")[0];
    assert_eq!(f["status"], "warn", "{f}");
    assert_eq!(
        f["details"]["requests"], 120,
        "the --dos-max-requests cap holds"
    );
    assert!(f["details"]["limited_at_rate"].is_null());
    assert!(
        f["summary"]
            .as_str()
            .unwrap()
            .contains("no rate limiting seen")
    );
    let reg = &findings(&r, "dos.register_storm")[0];
    assert_eq!(reg["status"], "warn", "{reg}");
    assert_eq!(reg["details"]["steps"][0]["codes"]["404"], 10, "{reg}");
}

#[test]
fn kamailio_with_pike_is_seen_dropping_the_flood_and_recovering() {
    let k = Kamailio::start_with(KamailioOptions {
        address: "127.0.0.5".parse().unwrap(),
        ipv6: false,
        modules: vec!["pike.so".into()],
        modparams: "modparam(\"pike\", \"sampling_time_unit\", 1)\nmodparam(\"pike\", \"reqs_density_per_unit\", 30)\nmodparam(\"pike\", \"remove_latency\", 1)\n".into(),
        route: "    if (!pike_check_req()) { exit; }\n".into(),
        ..KamailioOptions::default()
    });
    let r = flood(&k.target(), &["--dos", "--probes", "dos.options_flood"]);
    let f = &findings(&r, "dos.options_flood")[0];
    assert_eq!(f["status"], "pass", "{f}");
    let rate = f["details"]["limited_at_rate"].as_u64().unwrap();
    assert!(
        rate >= 25,
        "pike allows 30 per second, so 10/s is never limited: {f}"
    );
    assert_eq!(f["details"]["defence"], "silently dropped");
    assert!(
        f["details"]["requests"].as_u64().unwrap() < 385,
        "the ramp stops at the first limited step"
    );
    assert!(
        f["details"]["recovered_after_ms"].is_u64(),
        "pike forgets us after its remove_latency: {f}"
    );
}

#[test]
fn an_open_registrar_fails() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let f = rt.block_on(fake::udp(
        "127.0.0.1:0",
        Arc::new(|m| Reply::Send(respond(m, 200, "OK", &[]))),
    ));
    let r = flood(
        &f.addr.to_string(),
        &[
            "--dos",
            "--dos-max-requests",
            "10",
            "--probes",
            "dos.register_storm",
        ],
    );
    let x = &findings(&r, "dos.register_storm")[0];
    assert_eq!(x["status"], "fail", "{x}");
    assert_eq!(x["details"]["accepted_without_credentials"], 10);
    assert!(f.methods().iter().filter(|m| *m == "REGISTER").count() == 10);
}
