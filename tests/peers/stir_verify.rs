//! `sipcheck verify-identity` against a test STI PKI served over real HTTPS (openssl s_server): the
//! tamper table of issue 13, each row flagged by its own check, a good one passing, and the real
//! secsipidx as a cross-check (not the oracle: where it is more lenient, the RFC sentence is stated).

#[allow(unused_imports)]
use crate::support;

use std::path::Path;
use std::process::Command;

use support::sti::{self, DEST, FETCH_ALLOW, HttpFiles, ORIG, StiPki, X5uServer};

struct Rig {
    pki: StiPki,
    server: X5uServer,
    slow_port: u16,
    _slow: std::net::TcpListener,
    /// The STI-PA CRL on loopback (plain HTTP, as ATIS-1000080 §6.4.1 names it).
    crl: HttpFiles,
}

fn rig() -> Rig {
    let crl = HttpFiles::start();
    let pki = StiPki::with_crl_url(&crl.url("/sti-pa.crl"));
    crl.put(
        "/sti-pa.crl",
        "application/pkix-crl",
        &pki.crl(&["revoked"]),
    );
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
            sti::ok_answer(&pki.chain("good"))
                .replace("Cache-Control: max-age=3600", "Cache-Control: no-store"),
        ),
    ];
    let chain = pki.chain("good");
    files.push((
        "no-cache-control.pem",
        sti::ok_answer(&chain).replace("Cache-Control: max-age=3600\r\n", ""),
    ));
    files.push((
        "text-plain.pem",
        sti::ok_answer(&chain).replace("application/pem-certificate-chain", "text/plain"),
    ));
    files.push((
        "redirect.pem",
        "HTTP/1.0 302 Found\r\nLocation: /good.pem\r\nContent-Length: 0\r\n\r\n".into(),
    ));
    files.push((
        "card.json",
        format!(
            "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=60\r\nContent-Length: {}\r\n\r\n{CARD}",
            CARD.len()
        ),
    ));
    for name in [
        "other_ca",
        "expired",
        "not_yet",
        "no_tnauth",
        "tn_entry",
        "revoked",
        "no_cdp",
        "crl_down",
        "third_party",
        "cn_mismatch",
        "two_spc",
        "short_serial",
    ] {
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
        crl,
    }
}

/// The jCard an rcd PASSporT references (`jcl`), served by the x5u server.
const CARD: &str = r#"["vcard",[["version",{},"text","4.0"],["fn",{},"text","Acme Bank"]]]"#;

fn run(rig: &Rig, dir: &Path, name: &str, request: &str, roots: bool) -> (i32, serde_json::Value) {
    run_with(rig, dir, name, request, roots, &[])
}

fn run_with(
    rig: &Rig,
    dir: &Path,
    name: &str,
    request: &str,
    roots: bool,
    extra: &[&str],
) -> (i32, serde_json::Value) {
    let file = dir.join(format!("{name}.sip"));
    std::fs::write(&file, request).unwrap();
    let mut args = vec![
        "verify-identity".to_string(),
        file.display().to_string(),
        "--format".into(),
        "json".into(),
        "--x5u-ca-file".into(),
        rig.server.web.ca_pem.display().to_string(),
        "--fetch-allow".into(),
        FETCH_ALLOW.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
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
        Row {
            name: "revoked leaf",
            request: leaf_signed("revoked"),
            expect: Some("revocation"),
        },
        Row {
            name: "leaf without CRL Distribution Point",
            request: leaf_signed("no_cdp"),
            expect: Some("cert_cdp"),
        },
        Row {
            name: "CN names another SPC",
            request: leaf_signed("cn_mismatch"),
            expect: Some("cert_cn"),
        },
        Row {
            name: "two SPCs",
            request: leaf_signed("two_spc"),
            expect: Some("tn_auth_list"),
        },
        Row {
            name: "16-bit serial",
            request: leaf_signed("short_serial"),
            expect: Some("cert_serial"),
        },
        Row {
            name: "x5u at a private address",
            request: req(signed(
                "https://10.0.0.1/cert.pem",
                sti::claims("A", now),
                good,
            )),
            expect: Some("x5u_fetch"),
        },
        Row {
            name: "x5u at the metadata address",
            request: req(signed(
                "https://169.254.169.254/latest/meta-data/cert.pem",
                sti::claims("A", now),
                good,
            )),
            expect: Some("x5u_fetch"),
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
                "certificate" | "cert_validity" | "chain" | "tn_auth_list" | "jose_alg"
                | "revocation" | "cert_cdp" | "cert_cn" | "cert_serial" => (437, ""),
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
        "--fetch-allow",
        FETCH_ALLOW,
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
    secsipidx_says(dir, identity, pub_pem).0
}

/// `secsipidx -check` with the leaf's public key: whether it accepts, and what it printed.
fn secsipidx_says(dir: &Path, identity: &str, pub_pem: &str) -> (bool, String) {
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
    (
        st.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&st.stdout),
            String::from_utf8_lossy(&st.stderr)
        ),
    )
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

fn check<'a>(identity: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    identity["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {identity:#}"))
}

/// An x5u naming a private or special-purpose address is refused before any socket (the unit test
/// `private_and_special_addresses_are_refused_without_a_socket` counts the connection attempts:
/// zero); here the command line says so, with `--fetch-allow` opening loopback only.
#[test]
fn x5u_at_private_addresses_is_refused_without_connecting() {
    let rig = rig();
    let dir = tempfile::tempdir().unwrap();
    for name in ["x5u at a private address", "x5u at the metadata address"] {
        let r = rows(&rig).into_iter().find(|r| r.name == name).unwrap();
        let (code, json) = run(&rig, dir.path(), "private", &r.request, true);
        let first = &json["identities"][0];
        assert_eq!(code, 1);
        let fetch = check(first, "x5u_fetch");
        assert_eq!(fetch["outcome"], "fail", "{first:#}");
        let detail = fetch["detail"].as_str().unwrap();
        assert!(detail.contains("refused without connecting"), "{detail}");
        assert!(
            detail.contains("private-use (RFC 1918)") || detail.contains("link-local (RFC 3927)"),
            "{detail}"
        );
    }
    // Observed at the socket: an x5u on 127.0.0.2, where a listener waits, with only 127.0.0.1
    // allowed. A connection attempt would complete into the listener's backlog; none arrives.
    let trap = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let x5u = format!(
        "https://127.0.0.2:{}/cert.pem",
        trap.local_addr().unwrap().port()
    );
    let req = sti::invite(
        ORIG,
        DEST,
        &[format!(
            "Identity: {}",
            sti::identity(
                &sti::token(
                    &sti::jose(&x5u),
                    &sti::claims("A", sti::now()),
                    &rig.pki.leaf("good").signer
                ),
                &x5u
            )
        )],
    );
    let file = dir.path().join("trap.sip");
    std::fs::write(&file, req).unwrap();
    let out = support::sipcheck(&[
        "verify-identity",
        file.to_str().unwrap(),
        "--fetch-allow",
        "127.0.0.1/32",
        "--format",
        "json",
    ]);
    let json = support::json(&out);
    let fetch = check(&json["identities"][0], "x5u_fetch");
    assert!(
        fetch["detail"]
            .as_str()
            .unwrap()
            .contains("refused without connecting"),
        "{fetch}"
    );
    assert_eq!(
        trap.accept().map(|_| ()).map_err(|e| e.kind()),
        Err(std::io::ErrorKind::WouldBlock),
        "sipcheck connected to a refused address"
    );
    // The observer works: with 127.0.0.2 allowed the connection arrives (and the silent TLS
    // handshake ends at the fetch deadline).
    let out = support::sipcheck(&[
        "verify-identity",
        file.to_str().unwrap(),
        "--fetch-allow",
        "127.0.0.2/32",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        trap.accept().is_ok(),
        "the allowed connection did not arrive"
    );
}

/// What the specs make a "should" stays valid with a warn: an unreachable CRL (status
/// undetermined, RFC 5280 §6.3.3), and STI-CR answers without Cache-Control, with another content
/// type, or behind a redirect (followed, and said).
#[test]
fn should_rules_warn_and_keep_the_identity_valid() {
    let rig = rig();
    let dir = tempfile::tempdir().unwrap();
    let now = sti::now();
    let good = &rig.pki.leaf("good").signer;
    let signed = |file: &str, signer: &sti::Signer| {
        let x5u = rig.server.url(file);
        sti::invite(
            ORIG,
            DEST,
            &[format!(
                "Identity: {}",
                sti::identity(
                    &sti::token(&sti::jose(&x5u), &sti::claims("A", now), signer),
                    &x5u
                )
            )],
        )
    };
    let cases = [
        (
            "crl_down.pem",
            &rig.pki.leaf("crl_down").signer,
            "revocation",
            "revocation status undetermined",
        ),
        (
            "no-cache-control.pem",
            good,
            "x5u_answer",
            "no Cache-Control",
        ),
        ("text-plain.pem", good, "x5u_answer", "text/plain"),
        ("redirect.pem", good, "x5u_answer", "redirected to"),
    ];
    for (file, signer, name, says) in cases {
        let (code, json) = run(&rig, dir.path(), "warn", &signed(file, signer), true);
        let first = &json["identities"][0];
        assert_eq!(
            (code, &first["verdict"]),
            (0, &"valid".into()),
            "{file}: {first:#}"
        );
        let c = check(first, name);
        assert_eq!(c["outcome"], "warn", "{file}: {c}");
        assert!(!c["clause"].as_str().unwrap_or("").is_empty(), "{c}");
        assert!(c["detail"].as_str().unwrap().contains(says), "{file}: {c}");
    }
    // The good leaf: its CRL was fetched from the loopback server and says "not revoked".
    let (code, json) = run(&rig, dir.path(), "good", &signed("good.pem", good), true);
    let first = &json["identities"][0];
    assert_eq!(code, 0, "{first:#}");
    assert_eq!(check(first, "revocation")["outcome"], "pass", "{first:#}");
    assert_eq!(first["certificate"]["revocation"], "good");
    assert!(rig.crl.hits() >= 1);
    // Without the STI-PA root the CRL's signature cannot be checked: undetermined, a warn.
    let (_, json) = run(
        &rig,
        dir.path(),
        "noroots",
        &signed("good.pem", good),
        false,
    );
    let rev = check(&json["identities"][0], "revocation");
    assert_eq!(rev["outcome"], "warn", "{rev}");
    assert!(
        rev["detail"].as_str().unwrap().contains("--sti-ca-file"),
        "{rev}"
    );
}

/// `--expect-spc`: a call signed with another provider's SPC is a failing signer (exit 1) although
/// the Identity itself verifies; the carrier's own SPC passes.
#[test]
fn expect_spc_flags_a_third_party_signer() {
    let rig = rig();
    let dir = tempfile::tempdir().unwrap();
    let x5u = rig.server.url("third_party.pem");
    let req = sti::invite(
        ORIG,
        DEST,
        &[format!(
            "Identity: {}",
            sti::identity(
                &sti::token(
                    &sti::jose(&x5u),
                    &sti::claims("A", sti::now()),
                    &rig.pki.leaf("third_party").signer
                ),
                &x5u
            )
        )],
    );
    let (code, json) = run_with(
        &rig,
        dir.path(),
        "tp",
        &req,
        true,
        &["--expect-spc", "1234,567J"],
    );
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(json["identities"][0]["verdict"], "valid");
    let s = &json["signers"][0];
    assert_eq!(s["spc"], "5678");
    assert_eq!(s["cn_spc"], "5678");
    assert_eq!(s["own_certificate"], false, "{s}");
    assert_eq!(s["expected_spc"], serde_json::json!(["1234", "567J"]));
    assert!(
        s["subject"].as_str().unwrap().contains("SHAKEN 5678"),
        "{s}"
    );
    assert!(
        s["issuer"].as_str().unwrap().contains("intermediate"),
        "{s}"
    );
    let (code, json) = run_with(
        &rig,
        dir.path(),
        "own",
        &req,
        true,
        &["--expect-spc", "5678"],
    );
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["signers"][0]["own_certificate"], true);
    // The text form names the signer and why it fails.
    let file = dir.path().join("tp.sip");
    let out = support::sipcheck(&[
        "verify-identity",
        file.to_str().unwrap(),
        "--x5u-ca-file",
        rig.server.web.ca_pem.to_str().unwrap(),
        "--sti-ca-file",
        rig.pki.root_pem.to_str().unwrap(),
        "--fetch-allow",
        FETCH_ALLOW,
        "--expect-spc",
        "1234",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("signer: FAIL signed by SPC 5678"), "{text}");
    assert!(text.contains("a third party signed"), "{text}");
    assert_eq!(out.status.code(), Some(1));
    let bad = support::sipcheck(&[
        "verify-identity",
        file.to_str().unwrap(),
        "--expect-spc",
        "12 34",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = support::sipcheck(&[
        "verify-identity",
        file.to_str().unwrap(),
        "--fetch-allow",
        "10.0.0.0/99",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    // On probe they belong to the loop calls: alone, a one-line usage error before any packet.
    let bad = support::sipcheck(&["probe", "127.0.0.1:9", "--expect-spc", "1234"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--loop-call"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// The number a diverted call is now addressed to (Request-URI), and the original called number.
const NEW_TARGET: &str = "12155550177";

struct Tokens {
    rcd_good: String,
    rcd_tampered_digest: String,
    rcd_tampered_signature: String,
    shaken: String,
    div_good: String,
    div_tampered_signature: String,
}

fn tokens(rig: &Rig) -> Tokens {
    use base64::Engine;
    let now = sti::now();
    let signer = &rig.pki.leaf("good").signer;
    let x5u = rig.server.url("good.pem");
    let jcl = rig.server.url("card.json");
    let digest = |b: &[u8]| {
        format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD
                .encode(ring::digest::digest(&ring::digest::SHA256, b))
        )
    };
    let mut rcd_hdr = sti::jose(&x5u);
    rcd_hdr["ppt"] = "rcd".into();
    let rcd_claims = |d: String| {
        serde_json::json!({
            "dest": {"tn": [DEST]}, "iat": now, "orig": {"tn": ORIG},
            "rcd": {"nam": "Acme Bank", "jcl": jcl}, "rcdi": {"/jcl": d}
        })
    };
    let rcd_good = sti::token(&rcd_hdr, &rcd_claims(digest(CARD.as_bytes())), signer);
    let rcd_tampered_digest = sti::token(&rcd_hdr, &rcd_claims(digest(b"another card")), signer);
    let rcd_tampered_signature = {
        let parts: Vec<&str> = rcd_good.split('.').collect();
        let mut c = rcd_claims(digest(CARD.as_bytes()));
        c["rcd"]["nam"] = "Your Bank".into();
        format!(
            "{}.{}.{}",
            parts[0],
            sti::b64(c.to_string().as_bytes()),
            parts[2]
        )
    };
    let shaken = sti::token(&sti::jose(&x5u), &sti::claims("A", now), signer);
    let mut div_hdr = sti::jose(&x5u);
    div_hdr["ppt"] = "div".into();
    let div_claims = serde_json::json!({
        "dest": {"tn": [NEW_TARGET]}, "div": {"tn": DEST}, "iat": now, "orig": {"tn": ORIG}
    });
    let div_good = sti::token(&div_hdr, &div_claims, signer);
    let div_tampered_signature = {
        let parts: Vec<&str> = div_good.split('.').collect();
        let mut c = div_claims.clone();
        c["dest"]["tn"] = serde_json::json!(["12155550166"]);
        format!(
            "{}.{}.{}",
            parts[0],
            sti::b64(c.to_string().as_bytes()),
            parts[2]
        )
    };
    Tokens {
        rcd_good,
        rcd_tampered_digest,
        rcd_tampered_signature,
        shaken,
        div_good,
        div_tampered_signature,
    }
}

fn with_ppt(token: &str, x5u: &str, ppt: &str) -> String {
    format!("{token};info=<{x5u}>;alg=ES256;ppt={ppt}")
}

/// A retargeted INVITE: Request-URI the new target, To the original called number, History-Info
/// naming both.
fn diverted(identities: &[String]) -> String {
    let mut extra = vec![format!(
        "History-Info: <sip:+{DEST}@127.0.0.1>;index=1, <sip:+{NEW_TARGET}@127.0.0.1;cause=302>;index=1.1"
    )];
    extra.extend(identities.iter().map(|i| format!("Identity: {i}")));
    sti::invite(ORIG, DEST, &extra).replacen(
        &format!("INVITE sip:+{DEST}@"),
        &format!("INVITE sip:+{NEW_TARGET}@"),
        1,
    )
}

/// RFC 9795 rcd PASSporTs and RFC 8946 div PASSporTs: the valid ones verify (before, ppt=rcd failed
/// header_params with 438 and a div's dest was compared with To), tampered ones fail by the check
/// that catches them, and a display name that is not the signed one warns.
#[test]
fn rcd_and_div_passports_verify_and_tampering_is_caught() {
    let rig = rig();
    let dir = tempfile::tempdir().unwrap();
    let t = tokens(&rig);
    let x5u = rig.server.url("good.pem");
    let named = |name: &str, id: &str| {
        sti::invite(ORIG, DEST, &[format!("Identity: {id}")]).replacen(
            &format!("From: <sip:+{ORIG}"),
            &format!("From: \"{name}\" <sip:+{ORIG}"),
            1,
        )
    };
    let rcd = |tok: &str| with_ppt(tok, &x5u, "rcd");
    // Valid rcd, name shown as signed.
    let (code, json) = run(
        &rig,
        dir.path(),
        "rcd",
        &named("Acme Bank", &rcd(&t.rcd_good)),
        true,
    );
    let first = &json["identities"][0];
    assert_eq!(code, 0, "{first:#}");
    assert_eq!(first["verdict"], "valid");
    assert_eq!(check(first, "header_params")["outcome"], "pass");
    assert_eq!(
        check(first, "rcd_integrity")["outcome"],
        "pass",
        "{first:#}"
    );
    assert_eq!(check(first, "rcd_name")["outcome"], "pass");
    assert_eq!(first["rcd"]["nam"], "Acme Bank");
    // Valid rcd, but the far end displays another name: a warn, still valid.
    let (code, json) = run(
        &rig,
        dir.path(),
        "rcdname",
        &named("Your Bank", &rcd(&t.rcd_good)),
        true,
    );
    let first = &json["identities"][0];
    assert_eq!(code, 0);
    let n = check(first, "rcd_name");
    assert_eq!(n["outcome"], "warn");
    assert!(
        n["detail"].as_str().unwrap().contains("\"Your Bank\""),
        "{n}"
    );
    // A Call-Info jCard (RFC 9796) that is not the signed jcl: unsigned RCD, a warn.
    let with_card = named("Acme Bank", &rcd(&t.rcd_good)).replacen(
        "Content-Length: 0\r\n",
        "Call-Info: <https://cards.example/other.json>;purpose=jcard;call-reason=\"Sale\"\r\nContent-Length: 0\r\n",
        1,
    );
    let (code, json) = run(&rig, dir.path(), "rcdcard", &with_card, true);
    let n = check(&json["identities"][0], "rcd_name");
    assert_eq!((code, &n["outcome"]), (0, &"warn".into()), "{n}");
    assert!(
        n["detail"].as_str().unwrap().contains("not the signed jcl"),
        "{n}"
    );
    assert_eq!(json["call_info_rcd"][0]["call_reason"], "Sale", "{json:#}");
    // Tampered: the rcdi digest is not the referenced content's; the claims changed after signing.
    for (tok, failing) in [
        (&t.rcd_tampered_digest, "rcd_integrity"),
        (&t.rcd_tampered_signature, "signature"),
    ] {
        let (code, json) = run(
            &rig,
            dir.path(),
            "rcdbad",
            &named("Acme Bank", &rcd(tok)),
            true,
        );
        let first = &json["identities"][0];
        assert_eq!(code, 1);
        assert_eq!(first["failure"]["check"], failing, "{first:#}");
        assert_eq!(first["failure"]["code"], 438);
    }
    // div: the shaken PASSporT and the retargeting entity's div, on a diverted INVITE.
    let shaken = sti::identity(&t.shaken, &x5u);
    let req = diverted(&[shaken.clone(), with_ppt(&t.div_good, &x5u, "div")]);
    let (code, json) = run(&rig, dir.path(), "div", &req, true);
    let ids = json["identities"].as_array().unwrap();
    assert_eq!(code, 0, "{json:#}");
    assert!(ids.iter().all(|i| i["verdict"] == "valid"), "{json:#}");
    let dest = check(&ids[1], "dest_tn");
    assert!(
        dest["detail"].as_str().unwrap().contains("Request-URI"),
        "{dest}"
    );
    assert_eq!(
        check(&ids[1], "div_target")["outcome"],
        "pass",
        "{:#}",
        ids[1]
    );
    // The shaken one is still compared with To (the original called number).
    assert_eq!(check(&ids[0], "dest_tn")["outcome"], "pass");
    let req = diverted(&[shaken, with_ppt(&t.div_tampered_signature, &x5u, "div")]);
    let (code, json) = run(&rig, dir.path(), "divbad", &req, true);
    assert_eq!(code, 1);
    assert_eq!(
        json["identities"][1]["failure"]["check"], "dest_tn",
        "{json:#}"
    );
}

/// secsipidx (libsecsipid 1.2.0) as the cross-check where it can speak: it rejects the revoked leaf
/// given the STI-PA CRL and accepts the good one; it verifies the signatures of rcd and div tokens
/// (bare) and rejects tampered ones. Where it differs, the sentence that decides is stated.
#[test]
fn secsipidx_cross_checks_revocation_rcd_and_div() {
    let rig = rig();
    let dir = tempfile::tempdir().unwrap();
    let t = tokens(&rig);
    let x5u = rig.server.url("good.pem");
    let p = |name: &str, body: &[u8]| {
        let f = dir.path().join(name);
        std::fs::write(&f, body).unwrap();
        f
    };
    let root = rig.pki.root_pem.clone();
    let inter = p("inter.pem", rig.pki.intermediate_pem.as_bytes());
    let crl = p("crl.der", &rig.pki.crl(&["revoked"]));
    // -cert-verify 29 = time validity (1) + CA file (4) + intermediate file (8) + CRL file (16).
    let with_cert = |leaf: &str, identity: &str| -> bool {
        let cert = p("leaf.pem", rig.pki.leaf(leaf).cert_pem.as_bytes());
        let id = p("identity.txt", identity.as_bytes());
        Command::new("secsipidx")
            .args([
                "-check",
                "-expire",
                "60",
                "-cert-verify",
                "29",
                "-fidentity",
            ])
            .arg(&id)
            .arg("-fpubkey")
            .arg(&cert)
            .arg("-ca-file")
            .arg(&root)
            .arg("-ca-inter")
            .arg(&inter)
            .arg("-crl-file")
            .arg(&crl)
            .output()
            .expect("secsipidx")
            .status
            .success()
    };
    let signed_by = |leaf: &str| {
        let u = rig.server.url(&format!("{leaf}.pem"));
        sti::identity(
            &sti::token(
                &sti::jose(&u),
                &sti::claims("A", sti::now()),
                &rig.pki.leaf(leaf).signer,
            ),
            &u,
        )
    };
    assert!(
        with_cert("good", &signed_by("good")),
        "secsipidx rejects the good leaf"
    );
    assert!(
        !with_cert("revoked", &signed_by("revoked")),
        "secsipidx accepts the revoked leaf"
    );
    let (code, json) = run(
        &rig,
        dir.path(),
        "revoked",
        &sti::invite(ORIG, DEST, &[format!("Identity: {}", signed_by("revoked"))]),
        true,
    );
    assert_eq!(
        (code, &json["identities"][0]["failure"]["code"]),
        (1, &437.into())
    );
    // Signatures of rcd and div tokens: secsipidx rejects the tampered ones for their signature
    // ("ECDSA verification failed") and the valid ones for something else: libsecsipid accepts no
    // PASSporT type but "shaken". sipcheck accepts them; the sentences that decide: RFC 8946 §3,
    // "The headers of the new PASSporTs generated by retargeting entities MUST include the "div"
    // PASSporT type", and the IANA PASSporT Extensions registry lists ppt "rcd" (RFC 9795) beside
    // "shaken" (RFC 8588).
    let pub_pem = &rig.pki.leaf("good").signer.pub_pem;
    for (tok, ppt, valid) in [
        (&t.rcd_good, "rcd", true),
        (&t.rcd_tampered_signature, "rcd", false),
        (&t.div_good, "div", true),
        (&t.div_tampered_signature, "div", false),
    ] {
        let (theirs, said) = secsipidx_says(dir.path(), tok, pub_pem);
        assert!(
            !theirs,
            "libsecsipid 1.2.0 was expected to refuse ppt {ppt}: {said}"
        );
        assert_eq!(
            said.contains("ECDSA verification failed"),
            !valid,
            "valid {valid} {ppt}: {said}"
        );
        assert!(!secsipidx_accepts(
            dir.path(),
            &with_ppt(tok, &x5u, ppt),
            pub_pem
        ));
    }
    // Where secsipidx has no rule (the ATIS-1000080 certificate profile) it accepts what sipcheck
    // rejects. ATIS-1000080 v004/v005 §6.4.1 (paraphrased): the subject CN is "SHAKEN" and the
    // TNAuthList SPC; the TNAuthList holds one SPC; the serial carries at least 64 bits of CSPRNG
    // output; the CRL Distribution Points name the STI-PA CRL with a cRLIssuer.
    for leaf in ["cn_mismatch", "two_spc", "short_serial", "no_cdp"] {
        let theirs = with_cert(leaf, &signed_by(leaf));
        let (code, _) = run(
            &rig,
            dir.path(),
            leaf,
            &sti::invite(ORIG, DEST, &[format!("Identity: {}", signed_by(leaf))]),
            true,
        );
        assert_eq!(code, 1, "sipcheck must reject {leaf}");
        eprintln!(
            "{leaf}: secsipidx {}, sipcheck rejects",
            if theirs { "accepts" } else { "rejects" }
        );
    }
}
