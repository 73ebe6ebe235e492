//! Calls through a real carrier edge: Kamailio (its `rtpengine` module) in front of a real rtpengine
//! (userspace, Debian's `rtpengine-daemon`), relaying to a real baresip far end on another loopback
//! address. Profiles: a transparent relay, an edge ending SRTP or DTLS-SRTP (plain RTP behind it),
//! latching and protected relays (rtpengine's endpoint learning modes, `strict-source`), digest auth
//! in front, and an edge answering SRTP with plain RTP. Each test checks sipcheck's verdict and
//! rtpengine's own view of the same call (`rtpengine-ctl list sessions CALLID`, or its log). Every
//! call is short (`--max-calls`, the probes' own bounds); the file runs in about half a minute.

#[allow(unused_imports)]
use crate::{baresip, support};

use baresip::{Baresip, MediaMode};
use serde_json::Value;
use support::kamailio::{Kamailio, KamailioOptions};
use support::rtpengine::{Learning, Rtpengine};
use support::{findings, json, sipcheck, sipcheck_env};

/// Kamailio anchoring every call's media at `r` (offer with `offer_flags`, answer with `answer_flags`)
/// and relaying INVITEs to `b`; `extra_route` runs first for new INVITEs (authentication).
fn edge(b: &Baresip, r: &Rtpengine, offer_flags: &str, answer_flags: &str) -> Kamailio {
    edge_with(b, r, offer_flags, answer_flags, None)
}

/// As [`edge`], challenging new INVITEs for digest credentials from `users` (a db_text directory)
/// before any media is anchored.
fn edge_with(
    b: &Baresip,
    r: &Rtpengine,
    offer_flags: &str,
    answer_flags: &str,
    users: Option<&std::path::Path>,
) -> Kamailio {
    let auth = if users.is_some() {
        format!(
            r#"if (!auth_check("{REALM}", "subscriber", "0")) {{
            auth_challenge("{REALM}", "1");
            exit;
        }}
        consume_credentials();"#
        )
    } else {
        String::new()
    };
    let route = format!(
        r#"
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{ rtpengine_delete(); t_relay(); }}
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{
            if (is_method("BYE")) {{ rtpengine_delete(); }}
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("INVITE")) {{
        {auth}
        record_route();
        rtpengine_offer("{offer_flags}");
        t_on_reply("EDGE_REPLY");
        t_on_failure("EDGE_FAILED");
        $du = "sip:{addr}";
        t_relay();
        exit;
    }}
"#,
        addr = b.addr
    );
    let mut modules = vec!["rr.so".to_string(), "rtpengine.so".to_string()];
    let mut modparams = String::new();
    if let Some(db) = users {
        modules.extend(["db_text.so", "auth.so", "auth_db.so"].map(String::from));
        modparams.push_str(&format!(
            "modparam(\"auth_db\", \"db_url\", \"text://{}\")\n\
             modparam(\"auth_db\", \"calculate_ha1\", yes)\n\
             modparam(\"auth_db\", \"password_column\", \"password\")\n\
             modparam(\"auth_db\", \"load_credentials\", \"\")\n",
            db.display()
        ));
    }
    modparams += &format!(
        "modparam(\"rtpengine\", \"rtpengine_sock\", \"udp:127.0.0.1:{ng}\")\n\
         onreply_route[EDGE_REPLY] {{\n\
             if (has_body(\"application/sdp\")) {{ rtpengine_answer(\"{answer_flags}\"); }}\n\
         }}\n\
         failure_route[EDGE_FAILED] {{\n\
             rtpengine_delete();\n\
         }}\n",
        ng = r.ng_port
    );
    Kamailio::start_with(KamailioOptions {
        modules,
        modparams,
        route,
        ipv6: false,
        ..KamailioOptions::default()
    })
}

const REALM: &str = "edge.test";
const USER: &str = "alice";
const PASSWORD: &str = "Edge-pw-3Kx9-not-in-reports";

/// A db_text user table holding [`USER`] with [`PASSWORD`], inside `dir`.
fn users(dir: &std::path::Path) -> std::path::PathBuf {
    let db = dir.join("db");
    std::fs::create_dir_all(&db).unwrap();
    std::fs::write(
        db.join("version"),
        "id(int,auto) table_name(string) table_version(int) \n0:subscriber:7\n",
    )
    .unwrap();
    std::fs::write(
        db.join("subscriber"),
        format!(
            "id(int,auto) username(string) domain(string) password(string) ha1(string,null) ha1b(string,null) \n1:{USER}:{REALM}:{PASSWORD}:::\n"
        ),
    )
    .unwrap();
    db
}

fn probe(k: &Kamailio, b: &Baresip, probes: &str, extra: &[&str]) -> Value {
    probe_env(k, b, probes, extra, &[])
}

fn probe_env(
    k: &Kamailio,
    b: &Baresip,
    probes: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Value {
    let target = k.target();
    let mut args = vec![
        "probe",
        &target,
        "--transport",
        "udp",
        "--probes",
        probes,
        "--call-to",
        &b.user,
        "--allow-calls",
        "--timeout",
        "3s",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    json(&sipcheck_env(&args, env))
}

fn one<'a>(r: &'a Value, id: &str) -> &'a Value {
    let f = findings(r, id);
    assert_eq!(f.len(), 1, "one {id} finding expected: {r:#}");
    f[0]
}

/// One side of a call in rtpengine's own listing (`rtpengine-ctl list sessions CALLID`): the monologue
/// of the caller (`FROM_TAG`, sipcheck) or the callee (`TO_TAG`, baresip), with its first media.
#[derive(Debug, Default, Clone)]
struct Side {
    kind: String,
    protocol: String,
    /// rtpengine's RTP port for this side and the endpoint it learned (`local <> peer`).
    local: String,
    peer: String,
    /// Packets rtpengine received from this side's endpoint, and errors (e.g. dropped by strict source).
    packets: u64,
    errors: u64,
}

fn sides(listing: &str) -> Vec<Side> {
    let mut out: Vec<Side> = Vec::new();
    for l in listing.lines() {
        let l = l.trim_start_matches('-').trim();
        if let Some(rest) = l.strip_prefix("Tag '") {
            let kind = rest.split("type: ").nth(1).unwrap_or("").split(',').next();
            out.push(Side {
                kind: kind.unwrap_or_default().to_string(),
                ..Side::default()
            });
        } else if let (Some(s), Some(rest)) = (out.last_mut(), l.strip_prefix("Media #1 (")) {
            s.protocol = rest
                .split(" over ")
                .nth(1)
                .unwrap_or("")
                .split(')')
                .next()
                .unwrap_or("")
                .to_string();
        } else if let (Some(s), Some(rest)) = (out.last_mut(), l.strip_prefix("Port")) {
            if !s.local.is_empty() || rest.contains("(RTCP)") {
                continue;
            }
            let mut parts = rest.split(',');
            let ends: Vec<&str> = parts
                .next()
                .unwrap_or("")
                .split("<>")
                .map(str::trim)
                .collect();
            s.local = ends.first().copied().unwrap_or_default().to_string();
            s.peer = ends.get(1).copied().unwrap_or_default().to_string();
            for p in parts {
                let p = p.trim();
                if let Some(n) = p.strip_suffix(" p") {
                    s.packets = n.parse().unwrap_or(0);
                } else if let Some(n) = p.strip_suffix(" e") {
                    s.errors = n.parse().unwrap_or(0);
                }
            }
        }
    }
    out
}

/// The Call-ID of the INVITE behind finding `f`, from its evidence.
fn call_id(f: &Value) -> String {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["sent"].as_str())
        .find(|s| s.starts_with("INVITE "))
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Call-ID: ")))
        .unwrap_or_else(|| panic!("no INVITE in the evidence: {f:#}"))
        .to_string()
}

/// rtpengine's caller and callee sides of the call behind `f`.
fn seen_by_rtpengine(r: &Rtpengine, f: &Value) -> (Side, Side, String) {
    let listing = r.session(&call_id(f));
    let s = sides(&listing);
    let side = |k: &str| {
        s.iter().find(|x| x.kind == k).cloned().unwrap_or_else(|| {
            panic!(
                "no {k} side in rtpengine's listing:\n{listing}\n{}",
                r.log_text()
            )
        })
    };
    (side("FROM_TAG"), side("TO_TAG"), listing)
}

/// Plain RTP both sides through a relay that follows the newest source for its first 3 s (rtpengine's
/// default `delayed` learning): the RTP bleed.
/// rtpengine's RTP port for sipcheck's side must be the media address sipcheck reported for its leg,
/// and the answering party another address (baresip's): the relay is named, the far leg is not judged.
fn assert_leg_is_the_relay(f: &Value, caller: &Side, b: &Baresip, listing: &str) {
    let leg = &f["details"]["leg"];
    assert_eq!(
        leg["media_address"],
        caller.local.as_str(),
        "{leg:#}\n{listing}"
    );
    assert_eq!(leg["answering_party"], b.addr.ip().to_string(), "{leg:#}");
    let summary = f["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "between sipcheck and the trunk's media address {}",
            caller.local
        )) && summary.contains("cannot be seen from here"),
        "{summary}"
    );
}

/// SRTP both sides, the relay passing SDES through: sipcheck's verdicts pass for its own leg, and
/// rtpengine relayed SRTP on both sides of the same call.
#[test]
fn a_transparent_relay_passes_srtp_and_is_named_in_the_leg() {
    let b = Baresip::start(MediaMode::SdesMandatory, "127.0.0.31");
    let r = Rtpengine::start(Learning::Delayed);
    let k = edge(&b, &r, "", "");
    let rep = probe(&k, &b, "media.sdes,media.srtp_flow", &["--max-calls", "1"]);
    let sdes = one(&rep, "media.sdes");
    assert_eq!(sdes["status"], "pass", "{sdes:#}");
    let flow = one(&rep, "media.srtp_flow");
    assert_eq!(flow["status"], "pass", "{flow:#}");
    let (caller, callee, listing) = seen_by_rtpengine(&r, sdes);
    assert_leg_is_the_relay(sdes, &caller, &b, &listing);
    assert_leg_is_the_relay(flow, &caller, &b, &listing);
    // rtpengine's own view: SRTP on both sides, media relayed both ways.
    assert_eq!(caller.protocol, "RTP/SAVP", "{listing}");
    assert_eq!(callee.protocol, "RTP/SAVP", "{listing}");
    let authenticated = flow["details"]["media"]["rtp_authenticated"]
        .as_u64()
        .unwrap();
    assert!(caller.packets > 0 && callee.packets > 0, "{listing}");
    // What sipcheck authenticated came from baresip through the relay.
    assert!(
        authenticated <= callee.packets,
        "{authenticated} > {listing}"
    );
}

/// SRTP toward sipcheck, plain RTP toward baresip (the edge terminates SRTP): sipcheck's verdicts pass
/// and say the leg they hold for; rtpengine shows the plain far leg sipcheck cannot see.
#[test]
fn an_edge_terminating_srtp_passes_for_our_leg_only() {
    let b = Baresip::start(MediaMode::Plain, "127.0.0.34");
    let r = Rtpengine::start(Learning::Delayed);
    let k = edge(&b, &r, "RTP/AVP", "");
    let rep = probe(&k, &b, "media.sdes,media.srtp_flow", &["--max-calls", "1"]);
    let sdes = one(&rep, "media.sdes");
    assert_eq!(sdes["status"], "pass", "{sdes:#}\n{}", k.log_text());
    let flow = one(&rep, "media.srtp_flow");
    assert_eq!(flow["status"], "pass", "{flow:#}");
    let (caller, callee, listing) = seen_by_rtpengine(&r, sdes);
    assert_eq!(caller.protocol, "RTP/SAVP", "{listing}");
    assert_eq!(
        callee.protocol, "RTP/AVP",
        "the far leg is plain:\n{listing}"
    );
    assert!(callee.packets > 0, "{listing}");
    assert_leg_is_the_relay(sdes, &caller, &b, &listing);
    assert_leg_is_the_relay(flow, &caller, &b, &listing);
    answer_sheet_keeps_to_our_leg(&rep);
}

/// The answer sheet's SRTP questions say which leg was seen and do not claim end-to-end encryption.
fn answer_sheet_keeps_to_our_leg(rep: &Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    std::fs::write(&path, rep.to_string()).unwrap();
    let out = sipcheck(&["report", &path.display().to_string(), "--format", "md"]);
    let md = String::from_utf8_lossy(&out.stdout);
    let lower = md.to_lowercase();
    assert!(
        !lower.contains("end-to-end") && !lower.contains("end to end"),
        "{md}"
    );
    for q in ["| 5 |", "| 7 |"] {
        let row = md
            .lines()
            .find(|l| l.starts_with(q))
            .unwrap_or_else(|| panic!("{md}"));
        assert!(
            row.contains("own leg") && row.contains("cannot be seen from here"),
            "{row}"
        );
        if q == "| 5 |" {
            assert!(row.contains("SRTP and SRTCP verified both ways"), "{row}");
        }
    }
}

/// rtpengine's default (`delayed` learning: it follows the newest source for 3 s) follows sipcheck's
/// second port: the bleed, seen by sipcheck and in rtpengine's own log. `strict-source` does not help:
/// it applies only once learning ended, and sipcheck's second port speaks within the first second.
#[test]
fn a_latching_edge_bleeds_even_with_strict_source() {
    for flags in ["", "strict-source"] {
        let b = Baresip::start(MediaMode::Plain, "127.0.0.35");
        let r = Rtpengine::start(Learning::Delayed);
        let k = edge(&b, &r, flags, flags);
        let rep = probe(&k, &b, "media.rtp_bleed", &["--rtp-bleed"]);
        let f = one(&rep, "media.rtp_bleed");
        assert_eq!(f["status"], "fail", "{flags:?}: {f:#}");
        let second = f["details"]["bleed"]["second_port"].as_str().unwrap();
        let log = r.log_text();
        assert!(
            log.lines().any(|l| l.contains("Peer address changed from")
                && l.ends_with(&format!(" to {second}"))),
            "{flags:?}: rtpengine did not switch to {second}:\n{log}"
        );
        assert!(
            log.contains(&format!("-> remote {second} (RTP")),
            "{flags:?}: rtpengine never sent to {second}"
        );
    }
}

/// A bleed call through an rtpengine learning with `learning`, Kamailio passing `flags`; the finding and
/// rtpengine's view of sipcheck's side, and whether rtpengine ever sent media to the second port.
fn bleed_through(learning: Learning, flags: &str, ip: &str) -> (Value, Side, bool) {
    let b = Baresip::start(MediaMode::Plain, ip);
    let r = Rtpengine::start(learning);
    let k = edge(&b, &r, flags, flags);
    let rep = probe(&k, &b, "media.rtp_bleed", &["--rtp-bleed"]);
    let f = one(&rep, "media.rtp_bleed").clone();
    let (caller, _, _) = seen_by_rtpengine(&r, &f);
    let second = f["details"]["bleed"]["second_port"]
        .as_str()
        .unwrap()
        .to_string();
    let sent_there = r.log_text().contains(&format!("-> remote {second} (RTP"));
    (f, caller, sent_there)
}

/// `immediate` learning (the first source is kept) with `strict-source`: nothing leaks, and rtpengine
/// dropped the second port's packets (its error counter on sipcheck's side).
#[test]
fn a_protected_edge_passes_and_drops_the_second_source() {
    let (f, caller, sent_there) = bleed_through(Learning::Immediate, "strict-source", "127.0.0.36");
    assert_eq!(f["status"], "pass", "{f:#}");
    let bleed = &f["details"]["bleed"];
    assert_eq!(bleed["received_on_second_port"], 0, "{bleed:#}");
    assert_eq!(
        caller.errors,
        bleed["sent_from_second_port"].as_u64().unwrap(),
        "{caller:?}"
    );
    assert_ne!(
        caller.peer,
        bleed["second_port"].as_str().unwrap(),
        "{caller:?}"
    );
    assert!(!sent_there);
}

/// `immediate` alone, and `heuristic` (which prefers the source matching the SDP address and port)
/// with or without `strict-source`, keep media on the negotiated address too. rtpengine accepts the
/// second port's packets in all three (no errors counted): only `immediate` with `strict-source` drops
/// them, since `heuristic` is still inside its 3 s learning window when they arrive.
#[test]
fn immediate_or_heuristic_learning_also_stops_the_bleed() {
    for (learning, flags, ip) in [
        (Learning::Immediate, "", "127.0.0.39"),
        (Learning::Heuristic, "", "127.0.0.40"),
        (Learning::Heuristic, "strict-source", "127.0.0.41"),
    ] {
        let (f, caller, sent_there) = bleed_through(learning, flags, ip);
        assert_eq!(f["status"], "pass", "{learning:?} {flags:?}: {f:#}");
        assert!(!sent_there, "{learning:?} {flags:?}");
        assert_eq!(caller.errors, 0, "{learning:?} {flags:?}: {caller:?}");
    }
}

/// Digest auth in front of the edge: the challenged INVITE never reaches rtpengine (one call there, the
/// authenticated one), and the SRTP verdicts pass for our leg.
#[test]
fn an_edge_with_digest_auth_anchors_only_the_authenticated_call() {
    let b = Baresip::start(MediaMode::SdesMandatory, "127.0.0.37");
    let r = Rtpengine::start(Learning::Delayed);
    let dir = tempfile::tempdir().unwrap();
    let db = users(dir.path());
    let k = edge_with(&b, &r, "", "", Some(&db));
    let rep = probe_env(
        &k,
        &b,
        "media.sdes,media.srtp_flow",
        &["--max-calls", "1", "--user", USER],
        &[("SIPCHECK_PASSWORD", PASSWORD)],
    );
    assert!(!rep.to_string().contains(PASSWORD));
    let sdes = one(&rep, "media.sdes");
    assert_eq!(sdes["status"], "pass", "{sdes:#}\n{}", k.log_text());
    assert_eq!(sdes["details"]["auth_rounds"], 1, "{sdes:#}");
    assert_eq!(one(&rep, "media.srtp_flow")["status"], "pass");
    let (caller, callee, listing) = seen_by_rtpengine(&r, sdes);
    assert_eq!(r.call_ids(), vec![call_id(sdes)], "{listing}");
    // Two INVITEs (challenged, then authenticated), one offer to rtpengine.
    let invites = sdes["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["sent"].as_str().unwrap_or("").starts_with("INVITE "))
        .count();
    assert_eq!(invites, 2, "{sdes:#}");
    assert_eq!(r.ng_commands("Offer"), 1, "{}", r.ctl(&["list", "totals"]));
    assert!(caller.packets > 0 && callee.packets > 0, "{listing}");
    assert_leg_is_the_relay(sdes, &caller, &b, &listing);
}

/// An edge that answers an SRTP offer with plain RTP (rtpengine told to answer RTP/AVP): sipcheck
/// calls it a downgrade and hangs up at once; rtpengine shows plain RTP on both sides of the call,
/// baresip's media reaching it before the hang-up.
#[test]
fn an_edge_answering_srtp_with_plain_rtp_is_a_downgrade() {
    let b = Baresip::start(MediaMode::Plain, "127.0.0.38");
    let r = Rtpengine::start(Learning::Delayed);
    let k = edge(&b, &r, "RTP/AVP", "RTP/AVP");
    let rep = probe(&k, &b, "media.sdes", &["--max-calls", "1"]);
    let sdes = one(&rep, "media.sdes");
    assert_eq!(sdes["status"], "fail", "{sdes:#}");
    assert_eq!(sdes["details"]["answer_profile"], "RTP/AVP", "{sdes:#}");
    assert!(
        sdes["summary"]
            .as_str()
            .unwrap()
            .contains("fell back to unencrypted media"),
        "{sdes:#}"
    );
    let (caller, callee, listing) = seen_by_rtpengine(&r, sdes);
    assert_eq!(caller.protocol, "RTP/AVP", "{listing}");
    assert_eq!(callee.protocol, "RTP/AVP", "{listing}");
    assert!(callee.packets > 0, "{listing}");
    assert_leg_is_the_relay(sdes, &caller, &b, &listing);
}

/// DTLS-SRTP toward sipcheck, plain RTP toward baresip: rtpengine completes the handshake with
/// sipcheck, and the handshake counts as complete because the relay's SRTP authenticated with the
/// exporter's keys; rtpengine's listing shows DTLS-SRTP on sipcheck's side only.
#[test]
fn an_edge_terminating_dtls_srtp_completes_the_handshake_it_shows() {
    let b = Baresip::start(MediaMode::Plain, "127.0.0.42");
    let r = Rtpengine::start(Learning::Delayed);
    let k = edge(&b, &r, "RTP/AVP", "");
    // The media probe places the SDES call first, then the DTLS-SRTP one.
    let rep = probe(&k, &b, "media.dtls_srtp", &["--max-calls", "2"]);
    let d = one(&rep, "media.dtls_srtp");
    let (caller, callee, listing) = seen_by_rtpengine(&r, d);
    assert_eq!(d["status"], "pass", "{d:#}");
    assert_eq!(d["details"]["dtls"]["confirmed"], true, "{d:#}");
    assert_eq!(d["details"]["dtls"]["fingerprint_matches"], true, "{d:#}");
    assert!(
        d["details"]["media"]["rtp_authenticated"].as_u64().unwrap() > 0,
        "{d:#}"
    );
    assert_eq!(caller.protocol, "UDP/TLS/RTP/SAVP", "{listing}");
    assert_eq!(callee.protocol, "RTP/AVP", "{listing}");
    assert!(callee.packets > 0, "{listing}");
    assert_leg_is_the_relay(d, &caller, &b, &listing);
}
