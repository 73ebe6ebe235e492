//! `sipcheck verify-identity` against a test STI PKI served over real HTTPS (openssl s_server): the
//! tamper table of issue 13, each row flagged by its own check, a good one passing, and the real
//! secsipidx as a cross-check (not the oracle: where it is more lenient, the RFC sentence is stated).

#[allow(unused_imports)]
use crate::support;

use std::path::Path;
use std::process::Command;

use support::sti::{self, DEST, ORIG, StiPki, X5uServer};

struct Rig {
    pki: StiPki,
    server: X5uServer,
    slow_port: u16,
    _slow: std::net::TcpListener,
}

fn rig() -> Rig {
    let pki = StiPki::new();
    let good = pki.leaf("good");
    let key_pub = good.signer.pub_pem.clone();
    let mut files = vec![
        ("good.pem", sti::ok_answer(&pki.chain("good"))),
        ("leaf-only.pem", sti::ok_answer(&pki.leaf("good").cert_pem)),
        ("bare-key.pem", sti::ok_answer(&key_pub)),
        (
            "garbage.pem",
            sti::ok_answer("\u{1}\u{2}not a certificate at all\n"),
        ),
        (
            "missing.pem",
            "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".into(),
        ),
        (
            "no-store.pem",
            sti::ok_answer(&pki.chain("good")).replacen(
                "\r\n",
                "\r\nCache-Control: no-store\r\n",
                1,
            ),
        ),
    ];
    for name in ["other_ca", "expired", "not_yet", "no_tnauth", "tn_entry"] {
        files.push((
            Box::leak(format!("{name}.pem").into_boxed_str()),
            sti::ok_answer(&pki.chain(name)),
        ));
    }
    let server = X5uServer::start(&files);
    let (slow, slow_port) = sti::silent_listener();
    Rig {
        pki,
        server,
        slow_port,
        _slow: slow,
    }
}

fn run(rig: &Rig, dir: &Path, name: &str, request: &str, roots: bool) -> (i32, serde_json::Value) {
    let file = dir.join(format!("{name}.sip"));
    std::fs::write(&file, request).unwrap();
    let mut args = vec![
        "verify-identity".to_string(),
        file.display().to_string(),
        "--format".into(),
        "json".into(),
        "--x5u-ca-file".into(),
        rig.server.web.ca_pem.display().to_string(),
    ];
    if roots {
        args.push("--sti-ca-file".into());
        args.push(rig.pki.root_pem.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = support::sipcheck(&args);
    let code = out.status.code().unwrap_or(-1);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, json)
}

/// One tamper-table row: the request, and the check that must fail first (None: valid).
struct Row {
    name: &'static str,
    request: String,
    expect: Option<&'static str>,
}

fn rows(rig: &Rig) -> Vec<Row> {
    let now = sti::now();
    let url = |n: &str| rig.server.url(n);
    let good = &rig.pki.leaf("good").signer;
    let signed = |x5u: &str, claims: serde_json::Value, signer: &sti::Signer| {
        sti::identity(&sti::token(&sti::jose(x5u), &claims, signer), x5u)
    };
    let req = |identity: String| sti::invite(ORIG, DEST, &[format!("Identity: {identity}")]);
    let good_id = signed(&url("good.pem"), sti::claims("A", now), good);
    let with_claims = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut c = sti::claims("A", now);
        f(&mut c);
        req(signed(&url("good.pem"), c, good))
    };
    let with_header = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut h = sti::jose(&url("good.pem"));
        f(&mut h);
        req(sti::identity(
            &sti::token(&h, &sti::claims("A", now), good),
            &url("good.pem"),
        ))
    };
    // The good token with its payload swapped for another one (origid changed), signature kept.
    let changed_payload = {
        let t = sti::token(&sti::jose(&url("good.pem")), &sti::claims("A", now), good);
        let parts: Vec<&str> = t.split('.').collect();
        let mut c = sti::claims("A", now);
        c["origid"] = "00000000-0000-0000-0000-000000000000".into();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            sti::b64(c.to_string().as_bytes()),
            parts[2]
        );
        req(sti::identity(&forged, &url("good.pem")))
    };
    let changed_x5u = {
        let t = sti::token(&sti::jose(&url("good.pem")), &sti::claims("A", now), good);
        let parts: Vec<&str> = t.split('.').collect();
        let other = url("good.pem").replace("good.pem", "good.pem#copy");
        let h = sti::b64(sti::jose(&other).to_string().as_bytes());
        req(sti::identity(
            &format!("{h}.{}.{}", parts[1], parts[2]),
            &other,
        ))
    };
    let leaf_signed = |name: &str| {
        let x = url(&format!("{name}.pem"));
        req(signed(
            &x,
            sti::claims("A", now),
            &rig.pki.leaf(name).signer,
        ))
    };
    let slow = format!("https://127.0.0.1:{}/slow.pem", rig.slow_port);
    let date = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .unwrap()
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap()
    };
    vec![
        Row {
            name: "good",
            request: req(good_id.clone()),
            expect: None,
        },
        Row {
            name: "good with fresh Date and PAI",
            request: sti::invite(
                "19995550000",
                DEST,
                &[
                    format!("P-Asserted-Identity: <sip:+{ORIG}@127.0.0.1;user=phone>"),
                    format!("Date: {}", date(now)),
                    format!("Identity: {good_id}"),
                ],
            ),
            expect: None,
        },
        Row {
            name: "changed payload",
            request: changed_payload,
            expect: Some("signature"),
        },
        Row {
            name: "changed x5u",
            request: changed_x5u,
            expect: Some("signature"),
        },
        Row {
            name: "stale iat",
            request: req(signed(&url("good.pem"), sti::claims("A", now - 120), good)),
            expect: Some("iat_fresh"),
        },
        Row {
            name: "future iat",
            request: req(signed(&url("good.pem"), sti::claims("A", now + 120), good)),
            expect: Some("iat_fresh"),
        },
        Row {
            name: "stale Date",
            request: sti::invite(
                ORIG,
                DEST,
                &[
                    format!("Date: {}", date(now - 600)),
                    format!("Identity: {good_id}"),
                ],
            ),
            expect: Some("date_fresh"),
        },
        Row {
            name: "x5u 404",
            request: req(signed(&url("missing.pem"), sti::claims("A", now), good)),
            expect: Some("x5u_fetch"),
        },
        Row {
            name: "x5u slow",
            request: req(signed(&slow, sti::claims("A", now), good)),
            expect: Some("x5u_fetch"),
        },
        Row {
            name: "x5u garbage",
            request: req(signed(&url("garbage.pem"), sti::claims("A", now), good)),
            expect: Some("certificate"),
        },
        Row {
            name: "x5u bare key",
            request: req(signed(&url("bare-key.pem"), sti::claims("A", now), good)),
            expect: Some("certificate"),
        },
        Row {
            name: "another signing key",
            request: req(signed(
                &url("good.pem"),
                sti::claims("A", now),
                &sti::Signer::new(),
            )),
            expect: Some("signature"),
        },
        Row {
            name: "certificate from another CA",
            request: leaf_signed("other_ca"),
            expect: Some("chain"),
        },
        Row {
            name: "expired certificate",
            request: leaf_signed("expired"),
            expect: Some("cert_validity"),
        },
        Row {
            name: "not-yet-valid certificate",
            request: leaf_signed("not_yet"),
            expect: Some("cert_validity"),
        },
        Row {
            name: "no TNAuthList",
            request: leaf_signed("no_tnauth"),
            expect: Some("tn_auth_list"),
        },
        Row {
            name: "TN entry instead of SPC",
            request: leaf_signed("tn_entry"),
            expect: Some("tn_auth_list"),
        },
        Row {
            name: "intermediate missing",
            request: req(signed(&url("leaf-only.pem"), sti::claims("A", now), good)),
            expect: Some("chain"),
        },
        Row {
            name: "info differs from x5u",
            request: req(sti::identity(
                &sti::token(&sti::jose(&url("good.pem")), &sti::claims("A", now), good),
                &url("other.pem"),
            )),
            expect: Some("x5u_matches_info"),
        },
        Row {
            name: "alg ES384",
            request: with_header(&|h| h["alg"] = "ES384".into()),
            expect: Some("jose_alg"),
        },
        Row {
            name: "alg none",
            request: with_header(&|h| h["alg"] = "none".into()),
            expect: Some("jose_alg"),
        },
        Row {
            name: "attest D",
            request: with_claims(&|c| c["attest"] = "D".into()),
            expect: Some("attest"),
        },
        Row {
            name: "no origid",
            request: with_claims(&|c| {
                c.as_object_mut().unwrap().remove("origid");
            }),
            expect: Some("claims"),
        },
        Row {
            name: "JOSE header without typ and ppt",
            request: with_header(&|h| {
                let o = h.as_object_mut().unwrap();
                o.remove("typ");
                o.remove("ppt");
            }),
            expect: Some("jose_header"),
        },
        Row {
            name: "claims missing",
            request: with_claims(&|c| {
                let o = c.as_object_mut().unwrap();
                o.remove("orig");
                o.remove("dest");
            }),
            expect: Some("claims"),
        },
        Row {
            name: "compact form",
            request: req(format!(
                "..{};info=<{}>;alg=ES256;ppt=shaken",
                good_id
                    .split('.')
                    .nth(2)
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap(),
                url("good.pem")
            )),
            expect: Some("full_form"),
        },
        Row {
            name: "garbage",
            request: req("\u{7f}garbage;;;=<".into()),
            expect: Some("full_form"),
        },
        Row {
            name: "From does not match",
            request: sti::invite("19995550000", DEST, &[format!("Identity: {good_id}")]),
            expect: Some("orig_tn"),
        },
        Row {
            name: "To does not match",
            request: sti::invite(ORIG, "19995550001", &[format!("Identity: {good_id}")]),
            expect: Some("dest_tn"),
        },
        Row {
            name: "no Identity",
            request: sti::invite(ORIG, DEST, &[]),
            expect: Some("present"),
        },
    ]
}

#[test]
fn tamper_table_each_row_flagged_by_its_own_check() {
    let rig = rig();
    let dir = tempfile::tempdir().unwrap();
    let mut wrong = Vec::new();
    for row in rows(&rig) {
        let (code, json) = run(
            &rig,
            dir.path(),
            &row.name.replace(' ', "_"),
            &row.request,
            true,
        );
        let first = &json["identities"][0];
        let failed = first["failure"]["check"].as_str();
        let ok = match row.expect {
            None => code == 0 && first["verdict"] == "valid" && failed.is_none(),
            Some(check) => code == 1 && first["verdict"] == "invalid" && failed == Some(check),
        };
        if !ok {
            wrong.push(format!(
                "{}: expected {:?}, got exit {code}, verdict {}, first failure {:?}\n{}",
                row.name,
                row.expect,
                first["verdict"],
                failed,
                serde_json::to_string_pretty(&first["checks"]).unwrap()
            ));
        }
        if let Some(check) = row.expect {
            let (want_code, _) = match check {
                "present" => (428, ""),
                "x5u_fetch" | "x5u_matches_info" => (436, ""),
                "iat_fresh" | "date_fresh" => (403, ""),
                "certificate" | "cert_validity" | "chain" | "tn_auth_list" | "jose_alg" => {
                    (437, "")
                }
                _ => (438, ""),
            };
            if first["failure"]["code"] != want_code {
                wrong.push(format!(
                    "{}: code {} not {want_code}",
                    row.name, first["failure"]["code"]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn without_sti_roots_the_chain_is_a_warn_never_a_pass() {
    let rig = rig();
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(&rig);
    let good = rows.iter().find(|r| r.name == "good").unwrap();
    let (code, json) = run(&rig, dir.path(), "noroots", &good.request, false);
    let first = &json["identities"][0];
    assert_eq!(code, 1, "{json}");
    assert_eq!(first["verdict"], "chain_not_verified", "{json}");
    let chain = first["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "chain")
        .unwrap();
    assert_eq!(chain["outcome"], "warn");
    assert_eq!(chain["detail"], "chain not verified: no STI roots given");
    assert_eq!(first["passport"]["attest"], "A");
    // The text form says so too, and exits 1.
    let file = dir.path().join("noroots.sip");
    let out = support::sipcheck(&[
        "verify-identity",
        file.to_str().unwrap(),
        "--x5u-ca-file",
        rig.server.web.ca_pem.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("chain not verified: no STI roots given"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("resp.sip");
    std::fs::write(&f, "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap();
    let g = dir.path().join("junk.sip");
    std::fs::write(&g, [0u8, 1, 2, 0xff]).unwrap();
    for args in [
        vec!["verify-identity", f.to_str().unwrap()],
        vec!["verify-identity", g.to_str().unwrap()],
        vec!["verify-identity", "/nonexistent/x.sip"],
        vec!["verify-identity", f.to_str().unwrap(), "--at", "yesterday"],
        vec![
            "verify-identity",
            f.to_str().unwrap(),
            "--sti-ca-file",
            g.to_str().unwrap(),
        ],
    ] {
        let out = support::sipcheck(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `secsipidx -check` with the leaf's public key (its exit status is its error code mod 256).
fn secsipidx_accepts(dir: &Path, identity: &str, pub_pem: &str) -> bool {
    let id = dir.join("identity.txt");
    let key = dir.join("pub.pem");
    std::fs::write(&id, identity).unwrap();
    std::fs::write(&key, pub_pem).unwrap();
    let st = Command::new("secsipidx")
        .args(["-check", "-expire", "60", "-fidentity"])
        .arg(&id)
        .arg("-fpubkey")
        .arg(&key)
        .output()
        .expect("secsipidx");
    st.status.success()
}

fn identity_of(request: &str) -> &str {
    request
        .lines()
        .find_map(|l| l.strip_prefix("Identity: "))
        .unwrap()
}

#[test]
fn secsipidx_signs_what_sipcheck_verifies_and_cross_checks_the_tamper_rows() {
    let rig = rig();
    let dir = tempfile::tempdir().unwrap();
    let good = rig.pki.leaf("good");
    // A header made by the real secsipid library verifies in full.
    let key = dir.path().join("leaf-key.pem");
    std::fs::write(&key, &good.signer.key_pem).unwrap();
    let out = Command::new("secsipidx")
        .args(["-sign-full", "-a", "A", "-o", ORIG, "-d", DEST, "-x5u"])
        .arg(rig.server.url("good.pem"))
        .arg("-k")
        .arg(&key)
        .output()
        .expect("secsipidx");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let identity = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let req = sti::invite(ORIG, DEST, &[format!("Identity: {identity}")]);
    let (code, json) = run(&rig, dir.path(), "secsipidx", &req, true);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["identities"][0]["certificate"]["spc"], "1234");

    // Where both must reject: the signature or the age of the token is wrong.
    let rows = rows(&rig);
    let pub_pem = &good.signer.pub_pem;
    for name in ["changed payload", "another signing key", "stale iat"] {
        let r = rows.iter().find(|r| r.name == name).unwrap();
        assert!(
            !secsipidx_accepts(dir.path(), identity_of(&r.request), pub_pem),
            "secsipidx accepted {name}"
        );
    }
    assert!(
        secsipidx_accepts(dir.path(), &identity, pub_pem),
        "secsipidx rejects its own header"
    );
    // Where libsecsipid 1.2.0 is lenient and sipcheck is not, the sentence that decides:
    let lenient = [
        (
            "future iat",
            "RFC 8224 §4.1: iat is the time the PASSporT was created; one from the future is not fresh",
        ),
        (
            "attest D",
            "RFC 8588 §4: attest MUST be \"A\", \"B\" or \"C\"",
        ),
        ("no origid", "RFC 8588 §4: the PASSporT MUST include origid"),
        (
            "JOSE header without typ and ppt",
            "RFC 8225 §4 and RFC 8588 §3: typ is \"passport\" and ppt is \"shaken\"",
        ),
    ];
    for (name, why) in lenient {
        let r = rows.iter().find(|r| r.name == name).unwrap();
        let theirs = secsipidx_accepts(dir.path(), identity_of(&r.request), pub_pem);
        let (code, _) = run(&rig, dir.path(), "lenient", &r.request, true);
        assert_eq!(code, 1, "sipcheck must reject {name}: {why}");
        eprintln!(
            "{name}: secsipidx {}, sipcheck rejects ({why})",
            if theirs { "accepts" } else { "rejects" }
        );
    }
}

/// Several Identity headers are each verified; a second fetch of the same x5u in one run comes from
/// the cache unless the server said `Cache-Control: no-store`; a diverted call's `ppt=div` PASSporT
/// carries `div` instead of `attest`/`origid`.
#[test]
fn several_identities_each_verified_with_a_per_run_cache() {
    let rig = rig();
    let dir = tempfile::tempdir().unwrap();
    let now = sti::now();
    let good = &rig.pki.leaf("good").signer;
    let id = |x5u: &str| {
        sti::identity(
            &sti::token(&sti::jose(x5u), &sti::claims("A", now), good),
            x5u,
        )
    };
    let (cached, fresh) = (rig.server.url("good.pem"), rig.server.url("no-store.pem"));
    let mut div_hdr = sti::jose(&cached);
    div_hdr["ppt"] = "div".into();
    let div_claims = serde_json::json!({
        "dest": {"tn": [DEST]}, "div": {"tn": "12155550150"}, "iat": now, "orig": {"tn": ORIG}
    });
    let div = format!(
        "{};info=<{cached}>;alg=ES256;ppt=div",
        sti::token(&div_hdr, &div_claims, good)
    );
    let req = sti::invite(
        ORIG,
        DEST,
        &[
            format!("Identity: {}", id(&cached)),
            format!("Identity: {}", id(&cached)),
            format!("Identity: {}", id(&fresh)),
            format!("Identity: {}", id(&fresh)),
            format!("Identity: {div}"),
        ],
    );
    let (code, json) = run(&rig, dir.path(), "several", &req, true);
    let ids = json["identities"].as_array().unwrap();
    assert_eq!(ids.len(), 5, "{json:#}");
    assert_eq!(code, 0, "{json:#}");
    assert!(ids.iter().all(|i| i["verdict"] == "valid"), "{json:#}");
    let cached_flags: Vec<bool> = ids
        .iter()
        .map(|i| i["x5u_cached"].as_bool().unwrap())
        .collect();
    assert_eq!(cached_flags, [false, true, false, false, true]);
    let attest = ids[4]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "attest")
        .unwrap();
    assert_eq!(attest["outcome"], "skipped", "ppt=div carries no attest");
    // One bad Identity among good ones makes the request invalid (exit 1), and names which.
    let mut bad = sti::claims("A", now);
    bad["attest"] = "D".into();
    let req = sti::invite(
        ORIG,
        DEST,
        &[
            format!("Identity: {}", id(&cached)),
            format!(
                "Identity: {}",
                sti::identity(&sti::token(&sti::jose(&cached), &bad, good), &cached)
            ),
        ],
    );
    let (code, json) = run(&rig, dir.path(), "onebad", &req, true);
    assert_eq!(code, 1);
    assert_eq!(json["identities"][0]["verdict"], "valid");
    assert_eq!(json["identities"][1]["failure"]["check"], "attest");
}
