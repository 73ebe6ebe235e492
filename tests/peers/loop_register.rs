//! Loop calls from behind NAT (`--loop-via-register`) through a real Kamailio registrar: sipcheck
//! REGISTERs the account over TCP or TLS (digest against `auth_db`), the registrar sees a Contact it
//! cannot reach (rewritten as a NAT would leave it) and stores the address the REGISTER came from
//! (`nathelper`'s `fix_nated_register()`), signs the loop call with
//! `secsipid_add_identity()` and delivers it with `lookup("location")` over the REGISTER's own
//! connection. sipcheck opens no listening socket; it answers 486 on the flow, measures
//! `stir.attestation`, keeps the flow alive with CRLF pings that Kamailio answers (the registrar
//! asks for them every second with `Flow-Timer`) and leaves usrloc empty (`Expires: 0`).

#[allow(unused_imports)]
use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use support::kamailio::{Kamailio, KamailioOptions};
use support::sti::{self, StiPki, X5uServer};

const OWNED: &str = "+12155550100";
const DID: &str = "+12155550199";
const REALM: &str = "sipcheck.test";
const USER: &str = "alice";
const PASSWORD: &str = "Reg-pw-5Kt9-not-in-reports";

/// REGISTER with digest into usrloc (the source address kept as `received`); INVITEs to the DID
/// signed and delivered to the account's registered contact.
const ROUTE: &str = r#"
    if (is_method("REGISTER")) {
        if (!auth_check("@@REALM@@", "subscriber", "0")) {
            auth_challenge("@@REALM@@", "0");
            exit;
        }
        consume_credentials();
        # As a NAT would: the Contact names an address the registrar cannot reach (nothing listens
        # on 127.0.0.99:9), so only the REGISTER's own connection can carry the calls back.
        subst_hf("Contact", "/@127\.0\.0\.1:[0-9]+/@127.0.0.99:9/", "a");
        msg_apply_changes();
        fix_nated_register();
        append_to_reply("Flow-Timer: 1\r\n");
        xlog("L_NOTICE", "REGISTER from $si:$sp over $pr expires $hdr(Expires)\n");
        if (!save("location")) { sl_reply_error(); }
        exit;
    }
    if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
    if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
    if (is_method("INVITE")) {
        xlog("L_NOTICE", "INVITE for $rU\n");
        if (is_present_hf("P-Asserted-Identity")) { $var(o) = $(ai{uri.user}{s.rm,+}); } else { $var(o) = $(fU{s.rm,+}); }
        $var(d) = $(rU{s.rm,+});
        if ($var(o) == "12155550100") { $var(a) = "A"; } else { $var(a) = "C"; }
        if (secsipid_add_identity("$var(o)", "$var(d)", "$var(a)", "", "@@X5U@@", "@@KEY@@") < 0) {
            sl_send_reply("500", "Signing failed");
            exit;
        }
        # The owned-number call is held a moment, so the flow lives long enough for a keep-alive.
        if ($var(a) == "A") { usleep(1500000); }
        $rU = "@@USER@@";
        if (!lookup("location")) { sl_send_reply("480", "Not Registered"); exit; }
        xlog("L_NOTICE", "DELIVER $ru via $du\n");
        t_relay();
        exit;
    }
"#;

fn registrar(pki: &StiPki, x5u: &str, ctl: &std::path::Path) -> Kamailio {
    let db = tempfile::tempdir().unwrap();
    std::fs::write(
        db.path().join("version"),
        "id(int,auto) table_name(string) table_version(int) \n0:subscriber:7\n",
    )
    .unwrap();
    std::fs::write(
        db.path().join("subscriber"),
        format!(
            "id(int,auto) username(string) domain(string) password(string) ha1(string,null) ha1b(string,null) \n1:{USER}:{REALM}:{PASSWORD}:::\n"
        ),
    )
    .unwrap();
    let key = db.path().join("sp-key.pem");
    std::fs::write(&key, &pki.leaf("good").signer.key_pem).unwrap();
    let db_path = db.keep();
    let route = ROUTE
        .replace("@@REALM@@", REALM)
        .replace("@@USER@@", USER)
        .replace("@@X5U@@", x5u)
        .replace("@@KEY@@", &key.display().to_string());
    let modparams = format!(
        "modparam(\"auth_db\", \"db_url\", \"text://{db}\")\n\
         modparam(\"auth_db\", \"calculate_ha1\", yes)\n\
         modparam(\"auth_db\", \"password_column\", \"password\")\n\
         modparam(\"auth_db\", \"load_credentials\", \"\")\n\
         modparam(\"usrloc\", \"db_mode\", 0)\n\
         modparam(\"nathelper|registrar\", \"received_avp\", \"$avp(RECEIVED)\")\n\
         modparam(\"ctl\", \"binrpc\", \"unix:{ctl}\")\n",
        db = db_path.display(),
        ctl = ctl.display()
    );
    Kamailio::start_with(KamailioOptions {
        ipv6: false,
        route,
        modules: [
            "secsipid.so",
            "db_text.so",
            "auth.so",
            "auth_db.so",
            "usrloc.so",
            "registrar.so",
            "nathelper.so",
            "ctl.so",
            "cfgutils.so",
            "textopsx.so",
        ]
        .map(String::from)
        .to_vec(),
        modparams,
        ..KamailioOptions::default()
    })
}

/// Kamailio's location table as `kamcmd ul.dump` prints it.
fn ul_dump(ctl: &std::path::Path) -> String {
    let out = std::process::Command::new("kamcmd")
        .args(["-s", &format!("unix:{}", ctl.display()), "ul.dump"])
        .output()
        .expect("kamcmd (Debian package kamailio)");
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

/// The sockets of `pid` that `ss` lists with `flags` (`-ltnp`: listening TCP).
fn sockets_of(pid: u32, flags: &str) -> Vec<String> {
    let out = std::process::Command::new("ss")
        .args(["-H", flags])
        .output()
        .expect("ss (Debian package iproute2)");
    let tag = format!("pid={pid},");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&tag))
        .map(str::to_string)
        .collect()
}

#[test]
fn loop_call_arrives_over_a_tcp_registration_with_no_listening_port() {
    loop_over_registration("tcp");
}

#[test]
fn loop_call_arrives_over_a_tls_registration_with_no_listening_port() {
    loop_over_registration("tls");
}

fn loop_over_registration(transport: &str) {
    let pki = StiPki::new();
    let server = X5uServer::start(&[("sp.pem", sti::ok_answer(&pki.chain("good")))]);
    let ctl_dir = tempfile::tempdir().unwrap();
    let ctl = ctl_dir.path().join("kamailio_ctl");
    let k = registrar(&pki, &server.url("sp.pem"), &ctl);
    let target = match transport {
        "tls" => format!("127.0.0.1:{}", k.tls_port),
        _ => k.target(),
    };
    let root = pki.root_pem.display().to_string();
    let ca = server.web.ca_pem.display().to_string();
    let sip_ca = k.pki.ca_pem.display().to_string();
    let args = [
        "probe",
        &target,
        "--ca-file",
        &sip_ca,
        "--transport",
        transport,
        "--probes",
        "stir",
        "--format",
        "json",
        "--allow-calls",
        "--loop-call",
        DID,
        "--loop-via-register",
        "--user",
        USER,
        "--caller-id",
        OWNED,
        "--sti-ca-file",
        &root,
        "--x5u-ca-file",
        &ca,
        "--fetch-allow",
        sti::FETCH_ALLOW,
        "--max-calls",
        "8",
    ];
    let bin = std::env::var("SIPCHECK_TEST_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_sipcheck").to_string());
    let child = std::process::Command::new(bin)
        .args(args)
        .env("NO_COLOR", "1")
        .env("SIPCHECK_PASSWORD", PASSWORD)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run sipcheck");
    let pid = child.id();
    // While sipcheck runs: its listening TCP sockets (none expected) and its UDP sockets (only an
    // outgoing call's RTP/RTCP pair).
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let done = done.clone();
        std::thread::spawn(move || {
            let (mut listening, mut udp_max) = (Vec::new(), 0);
            let until = std::time::Instant::now() + Duration::from_secs(120);
            while !done.load(Ordering::Relaxed) && std::time::Instant::now() < until {
                listening.extend(sockets_of(pid, "-ltnp"));
                udp_max = udp_max.max(sockets_of(pid, "-uanp").len());
                std::thread::sleep(Duration::from_millis(50));
            }
            (listening, udp_max)
        })
    };
    let out = support::wait_bounded(child, 120);
    done.store(true, Ordering::Relaxed);
    let (listening, udp_max) = watcher.join().unwrap();
    let log = k.log_text();
    assert!(log.contains("INVITE for"), "{log}");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{stderr}\n{log}"
    );
    let r = support::json(&out);
    assert!(listening.is_empty(), "sipcheck listened: {listening:?}");
    assert!(
        udp_max <= 2,
        "UDP sockets beyond a call's media pair: {udp_max}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(PASSWORD));

    let att = support::findings(&r, "stir.attestation");
    assert_eq!(att.len(), 1, "{r:#}");
    let att = att[0];
    assert_eq!(att["status"], "pass", "{att:#}\n{log}");
    assert_eq!(att["details"]["attestation"], "A", "{att:#}");
    assert_eq!(att["details"]["delivered"], true);
    let summary = att["summary"].as_str().unwrap();
    assert!(
        summary.contains("(--loop-via-register: registered over"),
        "{summary}"
    );
    assert!(summary.contains("unregistered at the end"), "{summary}");
    // The inbound INVITE came over the REGISTER's connection: same local address, no other.
    let ev = att["evidence"].as_array().unwrap();
    let register: Vec<&serde_json::Value> = ev
        .iter()
        .filter(|e| e["sent"].as_str().unwrap_or("").starts_with("REGISTER "))
        .collect();
    let invite = ev
        .iter()
        .find(|e| e["received"].as_str().unwrap_or("").starts_with("INVITE "))
        .unwrap_or_else(|| panic!("no inbound INVITE in the evidence: {att:#}"));
    assert!(
        register.len() >= 3,
        "challenge, REGISTER, unREGISTER: {ev:#?}"
    );
    assert!(
        register.iter().all(|e| e["local"] == invite["local"]),
        "{ev:#?}"
    );
    assert!(invite["sent"].as_str().unwrap().contains("SIP/2.0 486"));
    let last = register.last().unwrap();
    assert!(last["sent"].as_str().unwrap().contains("Expires: 0"));
    assert!(
        last["received"]
            .as_str()
            .unwrap()
            .starts_with("SIP/2.0 200")
    );
    // Kamailio delivered to the address the REGISTER came from, over the same transport.
    let local = invite["local"].as_str().unwrap();
    assert!(
        log.contains(&format!("via sip:{local};transport={transport}")),
        "{local}\n{log}"
    );
    assert!(
        log.contains(&format!("REGISTER from {local} over {transport}")),
        "{local}\n{log}"
    );
    assert_eq!(invite["transport"], transport);
    // The call was for the unreachable Contact, and came over the flow all the same.
    assert!(
        invite["received"].as_str().unwrap().starts_with(&format!(
            "INVITE sip{}:alice@127.0.0.99:9;",
            if transport == "tls" { "s" } else { "" }
        )),
        "{invite:#}"
    );
    // CRLF keep-alives every 0.8-1 s (Flow-Timer: 1), answered by Kamailio's pongs.
    let note = last["note"].as_str().unwrap_or("");
    let count = |what: &str| -> u32 {
        let before = note.split(what).next().unwrap_or("");
        before
            .rsplit(|c: char| !c.is_ascii_digit())
            .find(|w| !w.is_empty())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    assert!(count(" keep-alive pings") >= 1, "{note}");
    assert!(count(" pongs") >= 1, "{note}");
    assert!(!note.contains("missing"), "{note}");
    // The binding is gone: Expires: 0 at the end.
    let after = ul_dump(&ctl);
    assert!(
        !after.contains(USER),
        "usrloc not empty after the run:\n{after}"
    );
}

/// The dry run says which way the calls come back; `--listen` and `--loop-via-register` exclude
/// each other. Nothing is sent.
#[test]
fn dry_run_names_the_registration_and_listen_excludes_it() {
    let base = [
        "probe",
        "127.0.0.1:5999",
        "--transport",
        "tcp",
        "--probes",
        "stir",
        "--allow-calls",
        "--loop-call",
        DID,
        "--caller-id",
        OWNED,
        "--user",
        USER,
        "--dry-run",
    ];
    let env = [("SIPCHECK_PASSWORD", PASSWORD)];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        support::sipcheck_env(&args, &env)
    };
    let out = run(&["--loop-via-register"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "the calls come back over a REGISTER as alice on tcp:127.0.0.1:5999 (no listening port"
        ),
        "{text}"
    );
    assert!(
        text.contains("unREGISTERed (Expires: 0) at the end"),
        "{text}"
    );
    let out = run(&["--listen", "127.0.0.1:5070"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("the listener on udp:127.0.0.1:5070 answers 486"),
        "{text}"
    );
    // Over UDP alone there is no connection to register on.
    let mut udp = base.to_vec();
    udp[3] = "udp";
    udp.push("--loop-via-register");
    let out = support::sipcheck_env(&udp, &env);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("no TCP or TLS endpoint: skipped"), "{text}");
    let out = run(&["--listen", "127.0.0.1:5070", "--loop-via-register"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exclude each other"));
}

/// A REGISTER the registrar refuses (a wrong password) places no call: every loop finding is an
/// error that says so, with the REGISTERs as evidence, and the password appears nowhere.
#[test]
fn a_refused_registration_places_no_call() {
    let pki = StiPki::new();
    let ctl_dir = tempfile::tempdir().unwrap();
    let ctl = ctl_dir.path().join("kamailio_ctl");
    let k = registrar(&pki, "https://127.0.0.1:1/x.pem", &ctl);
    let target = k.target();
    let wrong = "Wrong-pw-3Hq8-not-in-reports";
    let out = support::sipcheck_env(
        &[
            "probe",
            &target,
            "--transport",
            "tcp",
            "--probes",
            "stir",
            "--format",
            "json",
            "--allow-calls",
            "--loop-call",
            DID,
            "--loop-via-register",
            "--user",
            USER,
            "--caller-id",
            OWNED,
        ],
        &[("SIPCHECK_PASSWORD", wrong)],
    );
    let r = support::json(&out);
    let att = support::findings(&r, "stir.attestation")[0];
    assert_eq!(att["status"], "error", "{att:#}");
    let summary = att["summary"].as_str().unwrap();
    assert!(
        summary.contains("REGISTER as alice over tcp:") && summary.contains("401"),
        "{summary}"
    );
    assert_eq!(att["evidence"].as_array().unwrap().len(), 2, "{att:#}");
    for id in ["spoof.caller_id", "spit.anonymous"] {
        assert_eq!(support::findings(&r, id)[0]["status"], "error");
    }
    let log = k.log_text();
    assert!(!log.contains("INVITE for"), "a call was placed: {log}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(wrong));
    assert!(!ul_dump(&ctl).contains(USER));
}
