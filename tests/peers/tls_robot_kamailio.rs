//! `tls.robot` against the real Kamailio the tests start: its certificate is ECDSA, so no static-RSA
//! suite can be accepted and the check stops after its one RSA-only hello: not applicable, one
//! handshake, and Kamailio's own log shows no damage. (The oracle itself is checked against a fake
//! and `openssl s_server` in tls_fakes_confirmed.rs.)

#[allow(unused_imports)]
use crate::{support, tls_support};

use support::kamailio::Kamailio;
use tls_support::finding;

#[test]
fn kamailio_with_an_ecdsa_certificate_costs_one_hello_and_no_damage() {
    let k = Kamailio::start();
    let target = format!("127.0.0.1:{}", k.tls_port);
    let out = support::sipcheck(&[
        "probe",
        &target,
        "--transport",
        "tls",
        "--probes",
        "tls.robot",
        "--intrusive",
        "--timeout",
        "2s",
        "--format",
        "json",
    ]);
    let r = support::json(&out);
    let f = finding(&r, "tls.robot");
    let d = &f["details"];
    assert_eq!(d["rsa_key_exchange"], false, "{f:#}");
    assert_eq!(d["hello"], "alert:handshake_failure", "{f:#}");
    assert_eq!(f["status"], "pass", "{f:#}");
    assert_eq!(d["handshakes"], 1, "{d:#}");
    assert!(
        f["summary"].as_str().unwrap().starts_with("not applicable"),
        "{f:#}"
    );
    let log = k.log_text();
    let damage: Vec<&str> = log
        .lines()
        .filter(|l| {
            [
                "freeing already freed",
                "exited by a signal",
                "beginning overwritten",
            ]
            .iter()
            .any(|x| l.contains(x))
        })
        .collect();
    assert!(damage.is_empty(), "{damage:#?}");
}
