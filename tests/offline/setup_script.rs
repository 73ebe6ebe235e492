//! `scripts/setup.sh --check-rust`, the README's first set-up command's Rust check: with Rust older
//! than Cargo.toml's rust-version, or none, it stops (exit 1) and prints the rustup line instead of
//! leaving the build to fail inside the compiler; with a new enough one it says what to run next.

use std::path::Path;
use std::process::{Command, Output};

/// A directory holding `rustc` and `cargo` stand-ins that print `version`.
fn fake_toolchain(dir: &Path, version: &str) {
    for tool in ["rustc", "cargo"] {
        let path = dir.join(tool);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho '{tool} {version} (fake)'\n"),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// `scripts/setup.sh --check-rust` with PATH = `path_first` then the system directories, and HOME.
fn check_rust(path_first: Option<&Path>, home: &Path) -> Output {
    let mut path = String::new();
    if let Some(p) = path_first {
        path = format!("{}:", p.display());
    }
    path.push_str("/usr/bin:/bin");
    Command::new("bash")
        .args(["scripts/setup.sh", "--check-rust"])
        .env("PATH", path)
        .env("HOME", home)
        .output()
        .expect("bash")
}

fn rust_version_needed() -> String {
    let toml = std::fs::read_to_string("Cargo.toml").unwrap();
    let line = toml
        .lines()
        .find(|l| l.starts_with("rust-version"))
        .expect("Cargo.toml has a rust-version");
    line.split('"').nth(1).unwrap().to_string()
}

#[test]
fn an_old_rust_stops_with_the_rustup_line() {
    let dir = tempfile::tempdir().unwrap();
    fake_toolchain(dir.path(), "1.63.0");
    let out = check_rust(Some(dir.path()), dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("needs Rust >= {}", rust_version_needed())),
        "{err}"
    );
    assert!(err.contains("found 1.63.0"), "{err}");
    assert!(err.contains("https://sh.rustup.rs | sh -s -- -y"), "{err}");
}

#[test]
fn no_rust_stops_with_the_rustup_line() {
    let home = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    // /usr/bin may hold Debian's own rustc (1.63, refused too); an empty first PATH entry changes nothing.
    let out = check_rust(Some(empty.path()), home.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("https://sh.rustup.rs"), "{err}");
}

#[test]
fn rustup_installed_but_not_on_path_says_to_source_its_env() {
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join(".cargo/bin");
    std::fs::create_dir_all(&bin).unwrap();
    fake_toolchain(&bin, "1.95.0");
    if Path::new("/usr/bin/rustc").exists() {
        return; // Debian's rustc on PATH is judged by its version instead (the first test's case).
    }
    let out = check_rust(None, home.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(". \"$HOME/.cargo/env\""), "{err}");
}

#[test]
fn a_new_enough_rust_passes() {
    let dir = tempfile::tempdir().unwrap();
    fake_toolchain(dir.path(), &rust_version_needed());
    let out = check_rust(Some(dir.path()), dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("cargo install --locked --path ."), "{said}");
}
