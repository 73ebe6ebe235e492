//! Every seed of every fuzz target goes through the target's property check under a plain
//! `cargo test`, so the properties are checked on every CI run, nightly toolchain or not
//! (`fuzz/corpus/<target>/`, `docs/fuzzing.md`). The minimized failures themselves are
//! tests/fuzz_regressions.rs.

use std::path::Path;

use sipcheck::fuzzing::TARGETS;

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a readable corpus entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.display().to_string(), bytes)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_target_has_a_corpus_and_a_fuzz_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    for (name, _) in TARGETS {
        assert!(seeds(name).len() >= 2, "{name}: fewer than 2 seeds");
        let target = root.join("fuzz_targets").join(format!("{name}.rs"));
        let src = std::fs::read_to_string(&target).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            src.contains(&format!("sipcheck::fuzzing::{name}(")),
            "{name}"
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name} not in fuzz/Cargo.toml"
        );
    }
}

#[test]
fn every_seed_keeps_its_target_properties() {
    let mut checked = 0;
    for (name, check) in TARGETS {
        for (path, bytes) in seeds(name) {
            let r = std::panic::catch_unwind(|| check(&bytes));
            assert!(r.is_ok(), "{name}: property failed on {path}");
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} seeds");
}

#[test]
fn the_corpus_stays_small() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let total: usize = TARGETS
        .iter()
        .flat_map(|(name, _)| seeds(name))
        .map(|(_, b)| b.len())
        .sum();
    assert!(
        total < 1024 * 1024,
        "{} holds {total} bytes",
        root.display()
    );
}
