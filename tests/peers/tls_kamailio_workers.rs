//! The TLS scan leaves Kamailio's TLS workers as it found them. Kamailio 5.6 with OpenSSL 3 keeps
//! OpenSSL's per-thread state in memory its TLS worker processes share, so two workers taking our
//! ClientHellos at the same moment corrupt it (`qm_free(): BUG: freeing already freed pointer ...
//! tls_init.c: ser_free`, then a worker killed by signal 11 or 6; with the websocket module loaded
//! it dies sooner; after the damage a worker may also hang). The scan hands the server one
//! connection at a time, from the hello until the server has closed it; this runs it repeatedly
//! against a real Kamailio with the websocket module and sixteen TLS workers, and reads Kamailio's
//! own log after each scan.

#[allow(unused_imports)]
use crate::{support, tls_support};

use support::kamailio::{Kamailio, KamailioOptions};
use tls_support::finding;

/// Enough scans to catch the scan that gave the turn back at the answer, before the server's
/// teardown, and ran the resumption, SNI and heartbeat handshakes beside the hellos at no turn: it
/// failed all 6 runs of this test, at scan 5 to 24; each scan takes about half a second.
const RUNS: usize = 30;

fn websocket_kamailio() -> Kamailio {
    Kamailio::start_with(KamailioOptions {
        modules: vec!["xhttp.so".into(), "websocket.so".into()],
        // Sixteen TLS workers, as a busy production server runs: the more workers take hellos at
        // once, the sooner unspaced hellos meet in two of them (with the template's two, the old
        // scan tripped it about once in a hundred scans; with eight, about once in four).
        globals: "tcp_children=16\ntcp_accept_no_cl=yes".into(),
        modparams: r#"event_route[xhttp:request] {
    if ($hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm =~ "GET") {
        ws_handle_handshake();
        exit;
    }
    xhttp_reply("404", "Not Found", "", "");
}"#
        .into(),
        ..KamailioOptions::default()
    })
}

#[test]
fn repeated_tls_scans_leave_kamailios_tls_workers_intact() {
    let k = websocket_kamailio();
    let target = format!("127.0.0.1:{}", k.tls_port);
    for run in 1..=RUNS {
        let out = support::sipcheck(&[
            "probe",
            &target,
            "--transport",
            "tls",
            "--probes",
            "tls",
            // More connections at once than the default: spacing must not depend on a low cap.
            "--max-connections",
            "16",
            "--format",
            "json",
            "--domain",
            support::certs::DOMAIN,
        ]);
        let r = support::json(&out);
        let v = finding(&r, "tls.versions");
        assert_eq!(
            v["details"]["TLSv1.2"]["accepted"], true,
            "run {run}: {v:#}"
        );
        let hurt = k.damage();
        assert!(
            hurt.is_empty(),
            "run {run} of {RUNS}: Kamailio's log shows damage:\n{}",
            hurt.join("\n")
        );
    }
    // The scans reached the TLS workers: they logged the refused hellos.
    assert!(k.log_text().contains("tls_h_read_f"), "{}", k.log_text());
}
