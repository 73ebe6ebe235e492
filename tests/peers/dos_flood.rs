//! The opt-in flood probes against a real Kamailio with and without its `pike` flood detector, and
//! against fakes for what Kamailio does not do (an open registrar). Bounded: at most a few hundred
//! requests to loopback per test.

#[allow(unused_imports)]
use crate::support;

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

/// A Kamailio whose `pike` watches REGISTER only and, once a source bursts, bans it for a few
/// seconds (everything from it is dropped), as an SBC's registration-flood defence does.
fn kamailio_banning_register_bursts() -> Kamailio {
    Kamailio::start_with(KamailioOptions {
        address: "127.0.0.6".parse().unwrap(),
        ipv6: false,
        modules: vec!["pike.so".into(), "htable.so".into()],
        modparams: "modparam(\"pike\", \"sampling_time_unit\", 1)\nmodparam(\"pike\", \"reqs_density_per_unit\", 20)\nmodparam(\"pike\", \"remove_latency\", 1)\nmodparam(\"htable\", \"htable\", \"ban=>size=8;autoexpire=4;\")\nmodparam(\"htable\", \"timer_interval\", 1)\n".into(),
        route: "    if ($sht(ban=>$si) != $null) { exit; }\n    if (is_method(\"REGISTER\") && !pike_check_req()) { $sht(ban=>$si) = 1; exit; }\n".into(),
        ..KamailioOptions::default()
    })
}

fn verdicts(r: &serde_json::Value) -> (serde_json::Value, serde_json::Value) {
    (
        findings(r, "dos.options_flood")[0].clone(),
        findings(r, "dos.register_storm")[0].clone(),
    )
}

/// Both floods in one run give the verdicts each gives alone: the REGISTER storm's ban is not
/// credited to the OPTIONS flood, and the later flood names the earlier one.
#[test]
fn floods_in_one_run_are_not_credited_with_each_others_ban() {
    let k = kamailio_banning_register_bursts();
    let both = flood(&k.target(), &["--dos"]);
    let (opt, reg) = verdicts(&both);
    assert_eq!(opt["status"], "warn", "{opt}");
    assert!(opt["details"]["limited_at_rate"].is_null(), "{opt}");
    assert_eq!(reg["status"], "pass", "{reg}");
    assert_eq!(reg["details"]["defence"], "silently dropped", "{reg}");
    assert!(
        reg["details"]["limited_at_rate"].as_u64().unwrap() >= 25,
        "{reg}"
    );
    // Whichever ran second names the first and waited for a normal answer.
    let (first, second) = if opt["details"]["ran_after"].is_array() {
        (&reg, &opt)
    } else {
        (&opt, &reg)
    };
    assert!(first["details"]["ran_after"].is_null(), "{first}");
    assert_eq!(second["details"]["ran_after"][0], first["id"], "{second}");
    assert!(
        second["details"]["settle"]["answered_again_after_ms"].is_u64(),
        "{second}"
    );
    assert!(
        second["summary"].as_str().unwrap().contains("ran after"),
        "{second}"
    );
    // Each alone: the same verdicts.
    let alone_opt = flood(&k.target(), &["--dos", "--probes", "dos.options_flood"]);
    let alone_opt = &findings(&alone_opt, "dos.options_flood")[0];
    assert_eq!(alone_opt["status"], opt["status"], "{alone_opt}");
    // Let the ban (if any) from the run above expire before the storm alone.
    std::thread::sleep(std::time::Duration::from_secs(5));
    let alone_reg = flood(&k.target(), &["--dos", "--probes", "dos.register_storm"]);
    let alone_reg = &findings(&alone_reg, "dos.register_storm")[0];
    assert_eq!(alone_reg["status"], reg["status"], "{alone_reg}");
    assert_eq!(alone_reg["details"]["defence"], reg["details"]["defence"]);
}
