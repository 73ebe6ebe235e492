//! Reports, policy, diff, compare and the answer sheet loop over the finding registry and name no
//! finding id: what is particular to one finding lives in its contract beside its details type
//! (`src/findings/`). This test reads the source of `src/report/` and `src/analysis/` (outside their
//! unit tests) and fails on a finding id in a string literal or a typed handle (`ids::`), except an
//! analysis naming the one finding it writes.

use std::path::{Path, PathBuf};

use sipcheck::findings::REGISTRY;

/// (file, the handle it may name): the analyses that write a finding of their own.
const WRITERS: &[(&str, &str)] = &[
    ("src/analysis/parity.rs", "ENDPOINTS_PARITY"),
    ("src/analysis/mod.rs", "ENDPOINTS_PARITY"),
    ("src/analysis/baseline.rs", "BASELINE_DIFF"),
    ("src/analysis/policy/judge.rs", "POLICY_RULE"),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("source directory").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file without its unit tests (everything from the first `#[cfg(test)]` on).
fn code(text: &str) -> &str {
    text.split("#[cfg(test)]").next().unwrap_or(text)
}

/// Every place a finding id is named in the code of `dirs`, as `file:line: what`.
fn named_ids(root: &Path, dirs: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    for d in dirs {
        rust_files(&root.join(d), &mut files);
    }
    let mut hits = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(root)
            .unwrap_or(&f)
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&f).expect("readable source");
        for (n, line) in code(&text).lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for (i, _) in line.match_indices("ids::") {
                let name: String = line[i + 5..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if !WRITERS.iter().any(|(w, h)| *w == rel && *h == name) {
                    hits.push(format!("{rel}:{}: ids::{name}", n + 1));
                }
            }
            for s in REGISTRY {
                let id = s.id.trim_end_matches('*');
                if line.contains(&format!("\"{id}")) {
                    hits.push(format!("{rel}:{}: \"{id}…\"", n + 1));
                }
            }
        }
    }
    hits
}

#[test]
fn reports_and_analyses_name_no_finding_id() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let hits = named_ids(root, &["src/report", "src/analysis"]);
    assert!(
        hits.is_empty(),
        "finding ids named outside their contracts (move the logic into the finding's contract in src/findings/):\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_check_finds_what_it_looks_for() {
    let dir = std::env::temp_dir().join(format!("sipcheck-contract-ids-{}", std::process::id()));
    let sub = dir.join("src/report");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        sub.join("x.rs"),
        "fn a() { let _ = ids::TLS_VERSIONS; let _ = \"tls.cipher_suites\"; }\n#[cfg(test)]\nmod t { const X: &str = \"tls.versions\"; }\n",
    )
    .unwrap();
    let hits = named_ids(&dir, &["src/report"]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits[0].contains("ids::TLS_VERSIONS"), "{hits:?}");
    assert!(hits[1].contains("tls.cipher_suites"), "{hits:?}");
}
