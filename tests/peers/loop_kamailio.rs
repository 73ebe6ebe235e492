//! Loop calls through a real Kamailio acting as the carrier: `secsipid_add_identity()` signs the
//! INVITE it relays to sipcheck's listener (attestation A for the number the account owns, C for any
//! other), and a strict carrier refuses caller IDs the account does not own (608 + Call-Info
//! jwscard, 403), anonymous calls (433) and more than a few call attempts (503 + Retry-After).

#[allow(unused_imports)]
use crate::support;

use std::path::Path;

use support::kamailio::{Kamailio, KamailioOptions};
use support::sti::{self, StiPki, X5uServer};

const OWNED: &str = "+12155550100";
const DID: &str = "+12155550199";

/// The carrier's INVITE handling; `@@…@@` filled in by `carrier`.
const SIGN: &str = r#"
    if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
    if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
    if (is_method("INVITE")) {
        if (is_present_hf("P-Asserted-Identity")) { $var(o) = $(ai{uri.user}{s.rm,+}); } else { $var(o) = $(fU{s.rm,+}); }
        $var(d) = $(rU{s.rm,+});
@@POLICY@@
        if ($var(o) == "12155550100") { $var(a) = "A"; } else { $var(a) = "C"; }
        if (secsipid_add_identity("$var(o)", "$var(d)", "$var(a)", "", "@@X5U@@", "@@KEY@@") < 0) {
            sl_send_reply("500", "Signing failed");
            exit;
        }
        $du = "sip:127.0.0.1:@@LISTEN@@";
        t_relay();
        exit;
    }
"#;

const STRICT: &str = r#"
        if ($fU == "anonymous") { sl_send_reply("433", "Anonymity Disallowed"); exit; }
        if ($(fU{s.rm,+}) != "12155550100") {
            append_to_reply("Call-Info: <https://127.0.0.1/jws>;purpose=jwscard\r\n");
            sl_send_reply("608", "Rejected");
            exit;
        }
        if ($var(o) != "12155550100") { sl_send_reply("403", "Caller ID not yours"); exit; }
        if ($sht(calls=>n) == $null) { $sht(calls=>n) = 0; }
        if ($shtinc(calls=>n) > 6) {
            append_to_reply("Retry-After: 10\r\n");
            sl_send_reply("503", "Too Many Calls");
            exit;
        }
"#;

/// A calls-per-second cap with Kamailio's `pipelimit` (TAILDROP: past 4 INVITEs in a 10 s interval).
const PIPELIMIT: &str = r#"
        if (!pl_check("calls", "TAILDROP", 4)) {
            pl_drop("10");
            exit;
        }
"#;

fn carrier(pki: &StiPki, x5u: &str, listen: u16, strict: bool, dir: &Path) -> Kamailio {
    carrier_with(
        pki,
        x5u,
        listen,
        if strict {
            Policy::Strict
        } else {
            Policy::Signs
        },
        dir,
    )
}

#[derive(PartialEq)]
enum Policy {
    Signs,
    Strict,
    Pipelimit,
}

fn carrier_with(pki: &StiPki, x5u: &str, listen: u16, policy: Policy, dir: &Path) -> Kamailio {
    let strict = policy == Policy::Strict;
    let key = dir.join("sp-key.pem");
    std::fs::write(&key, &pki.leaf("good").signer.key_pem).unwrap();
    let route = SIGN
        .replace(
            "@@POLICY@@",
            match policy {
                Policy::Strict => STRICT,
                Policy::Pipelimit => PIPELIMIT,
                Policy::Signs => "",
            },
        )
        .replace("@@X5U@@", x5u)
        .replace("@@KEY@@", &key.display().to_string())
        .replace("@@LISTEN@@", &listen.to_string());
    let mut modules = vec!["secsipid.so".to_string()];
    let mut modparams = String::new();
    if policy == Policy::Pipelimit {
        modules.push("pipelimit.so".into());
        modparams.push_str("modparam(\"pipelimit\", \"timer_interval\", 10)\n");
    }
    if strict {
        modules.push("htable.so".into());
        modparams.push_str("modparam(\"htable\", \"htable\", \"calls=>size=4;autoexpire=120\")\n");
    }
    Kamailio::start_with(KamailioOptions {
        ipv6: false,
        route,
        modules,
        modparams,
        ..KamailioOptions::default()
    })
}

/// A terminating verification service: `secsipid_check_identity()` (x5u fetched over HTTPS), then
/// the result as `verstat` on a rewritten P-Asserted-Identity, Identity stripped.
const VERIFY: &str = r#"
    if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
    if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
    if (is_method("INVITE")) {
        if (is_present_hf("P-Asserted-Identity")) { $var(o) = $(ai{uri.user}); } else { $var(o) = $fU; }
        $var(vs) = "No-TN-Validation";
        if (is_present_hf("Identity")) {
            if (secsipid_check_identity("") > 0) {
                $var(p) = $(hdr(Identity){s.select,1,.}{s.decode.base64urlt});
                if ($var(p) =~ "\"attest\":\"A\"") { $var(vs) = "TN-Validation-Passed-A"; }
                else if ($var(p) =~ "\"attest\":\"B\"") { $var(vs) = "TN-Validation-Passed-B"; }
                else { $var(vs) = "TN-Validation-Passed-C"; }
            } else {
                $var(vs) = "TN-Validation-Failed";
            }
        }
        remove_hf("Identity");
        remove_hf("P-Asserted-Identity");
        append_hf("P-Asserted-Identity: <sip:$var(o);verstat=$var(vs)@127.0.0.1;user=phone>\r\n");
        $du = "sip:127.0.0.1:@@LISTEN@@";
        t_relay();
        exit;
    }
"#;

fn free_udp() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn probe(
    k: &Kamailio,
    listen: u16,
    pki: &StiPki,
    web_ca: &Path,
    extra: &[&str],
) -> serde_json::Value {
    let listen = format!("127.0.0.1:{listen}");
    let root = pki.root_pem.display().to_string();
    let ca = web_ca.display().to_string();
    let target = k.target();
    let mut args = vec![
        "probe",
        &target,
        "--transport",
        "udp",
        "--probes",
        "stir",
        "--format",
        "json",
        "--allow-calls",
        "--loop-call",
        DID,
        "--listen",
        &listen,
        "--caller-id",
        OWNED,
        "--sti-ca-file",
        &root,
        "--x5u-ca-file",
        &ca,
        "--fetch-allow",
        sti::FETCH_ALLOW,
        "--max-calls",
        "30",
    ];
    args.extend_from_slice(extra);
    let out = support::sipcheck(&args);
    let report = support::json(&out);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        k.log_text()
    );
    report
}

fn one<'a>(r: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    let f = support::findings(r, id);
    assert_eq!(f.len(), 1, "{id}: {r:#}");
    f[0]
}

#[test]
fn signing_carrier_attests_the_owned_number_a_and_spoofed_ones_c() {
    let crl = sti::HttpFiles::start();
    let pki = StiPki::with_crl_url(&crl.url("/sti-pa.crl"));
    crl.put(
        "/sti-pa.crl",
        "application/pkix-crl",
        &pki.crl(&["revoked"]),
    );
    let server = X5uServer::start(&[("sp.pem", sti::ok_answer(&pki.chain("good")))]);
    let dir = tempfile::tempdir().unwrap();
    let listen = free_udp();
    let k = carrier(&pki, &server.url("sp.pem"), listen, false, dir.path());
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "name = \"loop\"\n[rules]\nmin_owned_attestation = \"A\"\nspoofed_calls_refused = true\nown_spc_required = true\n",
    )
    .unwrap();
    let r = probe(
        &k,
        listen,
        &pki,
        &server.web.ca_pem,
        &["--policy", policy.to_str().unwrap(), "--expect-spc", "1234"],
    );
    let rule = |name: &str| {
        r["policy"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["rule"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name}: {:#}", r["policy"]))
    };
    assert_eq!(rule("min_owned_attestation")["outcome"], "pass");
    assert_eq!(rule("spoofed_calls_refused")["outcome"], "fail");
    assert_eq!(rule("own_spc_required")["outcome"], "pass");
    // The signer: the carrier's own SPC, its certificate not on the STI-PA CRL (fetched from
    // the loopback CRL server).
    let signer = one(&r, "stir.signer");
    assert_eq!(signer["status"], "pass", "{signer:#}");
    assert_eq!(signer["details"]["spc"], "1234");
    assert_eq!(signer["details"]["own_certificate"], true);
    assert_eq!(signer["details"]["revocation"], "good");
    assert_eq!(signer["details"]["attestation"], "A");
    assert!(crl.hits() >= 1);
    // secsipid signs no RCD: nothing to compare.
    assert_eq!(one(&r, "stir.rcd")["status"], "info", "{r:#}");
    // The answer sheet's question 12 states the signer, attestation, revocation and ownership.
    let report: sipcheck::report::Report = serde_json::from_value(r.clone()).unwrap();
    let q12 = sipcheck::report::answers::all(&report)
        .into_iter()
        .find(|a| a.question.number == 12)
        .unwrap();
    for part in [
        "SPC 1234",
        "attestation A",
        "revocation good",
        "the carrier signed with its own certificate",
    ] {
        assert!(q12.text.contains(part), "{part}: {}", q12.text);
    }
    let att = one(&r, "stir.attestation");
    assert_eq!(att["status"], "pass", "{att:#}\n{}", k.log_text());
    assert_eq!(att["details"]["attestation"], "A");
    let checks = att["details"]["identity"]["identities"][0]["checks"]
        .as_array()
        .unwrap();
    assert!(
        checks
            .iter()
            .all(|c| c["outcome"] == "pass" || c["outcome"] == "skipped"),
        "{checks:#?}"
    );
    // secsipid adds no Date and no RCD, and the PASSporT is not a div: those checks have nothing
    // to look at; every other check passed.
    let skipped: Vec<&str> = checks
        .iter()
        .filter(|c| c["outcome"] == "skipped")
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        skipped,
        [
            "date_fresh",
            "div_target",
            "rcd",
            "rcd_integrity",
            "rcd_name"
        ],
        "{checks:#?}"
    );
    for id in ["spoof.caller_id", "spoof.asserted_identity"] {
        let f = one(&r, id);
        assert_eq!(f["status"], "warn", "{f:#}");
        assert_eq!(f["details"]["attestation"], "C", "{f:#}");
        assert_eq!(f["details"]["delivered"], true);
    }
    let anon = one(&r, "spit.anonymous");
    assert_eq!(anon["status"], "info", "{anon:#}");
    assert!(
        anon["summary"].as_str().unwrap().contains("Privacy id"),
        "{anon:#}"
    );
    assert_eq!(one(&r, "spit.call_rate")["status"], "skipped");
    assert_eq!(one(&r, "spit.blocking_notice")["status"], "info");
    // Every call ended: the listener's 486 relayed back, nothing left ringing.
    let answers: Vec<&str> = ["stir.attestation", "spoof.caller_id"]
        .iter()
        .map(|id| one(&r, id)["details"]["answer"].as_str().unwrap_or(""))
        .collect();
    assert!(
        answers.iter().all(|a| a.starts_with("SIP/2.0 486")),
        "{answers:?}"
    );
}

#[test]
fn strict_carrier_refuses_spoofing_anonymity_and_bursts() {
    let pki = StiPki::new();
    let server = X5uServer::start(&[("sp.pem", sti::ok_answer(&pki.chain("good")))]);
    let dir = tempfile::tempdir().unwrap();
    let listen = free_udp();
    let k = carrier(&pki, &server.url("sp.pem"), listen, true, dir.path());
    let r = probe(
        &k,
        listen,
        &pki,
        &server.web.ca_pem,
        &["--dos", "--policy", "strict"],
    );
    assert_eq!(one(&r, "stir.attestation")["status"], "pass", "{r:#}");
    let rules = r["policy"]["rules"].as_array().unwrap();
    for name in ["min_owned_attestation", "spoofed_calls_refused"] {
        let x = rules.iter().find(|x| x["rule"] == name).unwrap();
        assert_eq!(x["outcome"], "pass", "{x:#}");
    }
    let from = one(&r, "spoof.caller_id");
    assert_eq!(from["status"], "pass", "{from:#}");
    assert!(
        from["summary"].as_str().unwrap().contains("608 Rejected"),
        "{from:#}"
    );
    let pai = one(&r, "spoof.asserted_identity");
    assert_eq!(pai["status"], "pass", "{pai:#}");
    assert!(pai["summary"].as_str().unwrap().contains("403"), "{pai:#}");
    let anon = one(&r, "spit.anonymous");
    assert_eq!(anon["status"], "pass", "{anon:#}");
    assert!(
        anon["summary"].as_str().unwrap().contains("433"),
        "{anon:#}"
    );
    let rate = one(&r, "spit.call_rate");
    assert_eq!(rate["status"], "pass", "{rate:#}");
    assert!(
        rate["summary"].as_str().unwrap().contains("Retry-After 10"),
        "{rate:#}"
    );
    // The cap lets 6 INVITEs through: the owned-number call, 5 burst calls, then the 6th is refused.
    assert_eq!(rate["details"]["calls"], 6, "{rate:#}");
    assert_eq!(rate["details"]["delivered"], 5, "{rate:#}");
    let notice = one(&r, "spit.blocking_notice");
    assert_eq!(notice["status"], "pass", "{notice:#}");
    assert!(
        notice["details"]["notices"].to_string().contains("jwscard"),
        "{notice:#}"
    );
}

#[test]
fn loop_calls_need_allow_calls_and_dry_run_lists_them() {
    let pki = StiPki::new();
    let dir = tempfile::tempdir().unwrap();
    let listen = free_udp();
    let k = carrier(&pki, "https://127.0.0.1:1/x.pem", listen, false, dir.path());
    let target = k.target();
    let l = format!("127.0.0.1:{listen}");
    let base = [
        "probe",
        &target,
        "--transport",
        "udp",
        "--probes",
        "stir",
        "--loop-call",
        DID,
        "--listen",
        &l,
        "--caller-id",
        OWNED,
    ];
    let mut args = base.to_vec();
    args.extend(["--format", "json"]);
    let out = support::sipcheck(&args);
    let r = support::json(&out);
    for id in ["stir.attestation", "spoof.caller_id", "spit.anonymous"] {
        let f = one(&r, id);
        assert_eq!(f["status"], "skipped");
        assert!(
            f["summary"].as_str().unwrap().contains("--allow-calls"),
            "{f:#}"
        );
    }
    assert!(
        !k.log_text().contains("INVITE"),
        "no call without --allow-calls"
    );
    let mut dry = base.to_vec();
    dry.extend(["--allow-calls", "--dry-run"]);
    let out = support::sipcheck(&dry);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("loop calls (4):"), "{text}");
    assert!(
        text.contains("P-Asserted-Identity: <sip:+12025550123@"),
        "{text}"
    );
    assert!(text.contains("Privacy: id"), "{text}");
    // --loop-call without --listen is a usage error.
    let out = support::sipcheck(&["probe", &target, "--loop-call", DID]);
    assert_eq!(out.status.code(), Some(2));
}

/// The carrier signs at origination and verifies at termination: the customer gets no Identity, only
/// `verstat` in P-Asserted-Identity (what Bandwidth, Telnyx and Flowroute deliver).
#[test]
fn verstat_carrier_reports_the_carriers_verdict_not_sipchecks() {
    let pki = StiPki::new();
    let server = X5uServer::start(&[("sp.pem", sti::ok_answer(&pki.chain("good")))]);
    let dir = tempfile::tempdir().unwrap();
    let listen = free_udp();
    let verifier = Kamailio::start_with(KamailioOptions {
        ipv6: false,
        route: VERIFY.replace("@@LISTEN@@", &listen.to_string()),
        modules: vec!["secsipid.so".into()],
        env: vec![(
            "SSL_CERT_FILE".into(),
            server.web.ca_pem.display().to_string(),
        )],
        ..KamailioOptions::default()
    });
    let signer = carrier(
        &pki,
        &server.url("sp.pem"),
        verifier.port,
        false,
        dir.path(),
    );
    let r = probe(&signer, listen, &pki, &server.web.ca_pem, &[]);
    let att = one(&r, "stir.attestation");
    assert_eq!(att["status"], "info", "{att:#}\n{}", verifier.log_text());
    assert!(
        att["summary"]
            .as_str()
            .unwrap()
            .contains("verstat=TN-Validation-Passed-A (verified by the carrier, not by sipcheck)"),
        "{att:#}"
    );
    assert_eq!(att["details"]["attestation"], "A");
    assert_eq!(
        att["details"]["verdict"], "invalid",
        "no Identity reached the listener"
    );
    let spoof = one(&r, "spoof.caller_id");
    assert_eq!(spoof["status"], "warn", "{spoof:#}");
    assert_eq!(spoof["details"]["attestation"], "C");
}

/// Kamailio's `pipelimit` as the call-rate cap: the burst is refused with 503 + Retry-After once the
/// interval's allowance is spent (where in the burst depends on the interval's phase: at most 4 per
/// interval, so by call 9 at the latest), and the burst stops there.
#[test]
fn pipelimit_cap_stops_the_burst() {
    let pki = StiPki::new();
    let server = X5uServer::start(&[("sp.pem", sti::ok_answer(&pki.chain("good")))]);
    let dir = tempfile::tempdir().unwrap();
    let listen = free_udp();
    let k = carrier_with(
        &pki,
        &server.url("sp.pem"),
        listen,
        Policy::Pipelimit,
        dir.path(),
    );
    let r = probe(&k, listen, &pki, &server.web.ca_pem, &["--dos"]);
    let rate = one(&r, "spit.call_rate");
    assert_eq!(rate["status"], "pass", "{rate:#}\n{}", k.log_text());
    let calls = rate["details"]["calls"].as_u64().unwrap();
    assert!((1..=9).contains(&calls), "{rate:#}");
    assert_eq!(
        rate["details"]["delivered"].as_u64().unwrap(),
        calls - 1,
        "{rate:#}"
    );
    assert!(
        rate["summary"].as_str().unwrap().contains("Retry-After 10"),
        "{rate:#}"
    );
}
