//! Catalog cases (`--catalog DIR`) and policies (`--policy FILE`) are written by users: a mistyped or
//! hostile file must give an error naming the file, never a panic, a hang or a runaway message.
//! Seeded mutations of the shipped files; bounded so each test runs in a few seconds in a debug build.

#[allow(unused_imports)]
use crate::mutate;

use mutate::mutate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sipcheck::catalog::parse_case;
use sipcheck::catalog::template::{MAX_CONTENT_LENGTHS, MAX_FILLED, Values, fill};
use sipcheck::report::policy;

fn shipped(dir: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(format!("{}/{dir}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no .toml files in {dir}");
    out
}

#[test]
fn mutated_policies_are_errors_not_panics() {
    let seeds = shipped("probes/policies");
    for s in &seeds {
        policy::parse(s, "seed.toml").unwrap();
    }
    let mut rng = StdRng::seed_from_u64(0x9011c7);
    let alphabet = "=[]\"'#\n .-_0123456789é\u{0}".as_bytes();
    for _ in 0..3_000 {
        let seed = &seeds[rng.random_range(0..seeds.len())];
        let text =
            String::from_utf8_lossy(&mutate(&mut rng, seed.as_bytes(), alphabet, 6)).into_owned();
        if let Err(e) = policy::parse(&text, "mutated.toml") {
            assert!(e.to_string().contains("mutated.toml"), "{e}");
        }
    }
}

#[test]
fn mutated_catalog_cases_are_errors_not_panics() {
    let seeds = shipped("probes/malformed");
    let mut rng = StdRng::seed_from_u64(0xca7a10);
    let alphabet = "{}:=\"'[]\n 0123456789repeatixcrlfcontent_length\u{0}".as_bytes();
    for _ in 0..2_000 {
        let seed = &seeds[rng.random_range(0..seeds.len())];
        let text =
            String::from_utf8_lossy(&mutate(&mut rng, seed.as_bytes(), alphabet, 6)).into_owned();
        if let Err(e) = parse_case(&text, "mutated.toml") {
            assert!(e.to_string().contains("mutated.toml"), "{e}");
        }
    }
}

#[test]
fn mutated_templates_stay_within_the_size_bound() {
    let v = Values::example();
    let seeds = [
        "A {uri}\nl: {content_length}\n\n{repeat:3:x{i}{crlf}}",
        "{repeat:100:{repeat:100:ab}}{x:c3 28}",
        "{repeat:2000:X-{i}: {i}{crlf}}{content_length}",
    ];
    let mut rng = StdRng::seed_from_u64(0x7e3);
    let alphabet = b"{}:0123456789repeatix ";
    for _ in 0..5_000 {
        let seed = seeds[rng.random_range(0..seeds.len())];
        let text =
            String::from_utf8_lossy(&mutate(&mut rng, seed.as_bytes(), alphabet, 6)).into_owned();
        if let Ok(out) = fill(&text, &v) {
            // Each `{content_length}` adds a few digits past the bound checked while filling.
            assert!(
                out.len() <= MAX_FILLED + MAX_CONTENT_LENGTHS * 8,
                "{text:?} -> {}",
                out.len()
            );
        }
    }
}

/// `--client-cert`/`--client-key` that are missing, not PEM, hold no certificate or key, or do not
/// belong together: exit 2 with one line naming the file, before any traffic (the target is a
/// closed loopback port that would give a report, not an error).
#[test]
fn bad_client_certificate_files_are_one_line_errors() {
    let pki = crate::support::certs::TestPki::new(&Default::default());
    let dir = pki.path();
    let junk = dir.join("junk.pem");
    std::fs::write(&junk, "not a pem file\n").unwrap();
    let s = |p: &std::path::Path| p.display().to_string();
    let (cert, key, ca, junk) = (
        s(&pki.client_cert_pem),
        s(&pki.client_key_pem),
        s(&pki.ca_pem),
        s(&junk),
    );
    let server_key = s(&pki.key_pem);
    let missing = s(&dir.join("missing.pem"));
    let cases: [(&[&str], &str, &str); 6] = [
        (
            &["--client-cert", &missing, "--client-key", &key],
            &missing,
            "",
        ),
        (
            &["--client-cert", &junk, "--client-key", &key],
            &junk,
            "CERTIFICATE",
        ),
        (
            &["--client-cert", &cert, "--client-key", &junk],
            &junk,
            "private key",
        ),
        (
            &["--client-cert", &cert, "--client-key", &ca],
            &ca,
            "private key",
        ),
        (
            &["--client-cert", &cert, "--client-key", &server_key],
            &server_key,
            "does not belong",
        ),
        (&["--client-cert", &cert], "--client-key", "go together"),
    ];
    for (flags, names, says) in cases {
        let mut args = vec!["probe", "127.0.0.1:9", "--transport", "tls"];
        args.extend_from_slice(flags);
        let out = crate::support::sipcheck(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(
            err.contains(names) && err.contains(says),
            "{flags:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "no report: {flags:?}");
    }
}
