//! SARIF validation by the tools code-scanning users trust: the SARIF 2.1.0 JSON schema and
//! Microsoft's SARIF multitool (`validate --rule-kind "Sarif;Gh;Ghas"`: SARIF's own rules plus GitHub's
//! ingestion rules), both from the npm package `@microsoft/sarif-multitool` that scripts/setup.sh
//! installs. Missing tools fail the test: CI installs them, so a skipped check would hide a gap.

use std::path::{Path, PathBuf};
use std::process::Command;

const LINUX_PACKAGE: &str =
    "@microsoft/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux";

/// The directory of the multitool's Linux package (it ships `sarif-2.1.0.json`), from `npm root -g`.
fn package_dir() -> PathBuf {
    let out = Command::new("npm")
        .args(["root", "-g"])
        .output()
        .expect("npm (scripts/setup.sh installs the SARIF multitool with it)");
    let root = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let dir = Path::new(&root).join(LINUX_PACKAGE);
    assert!(
        dir.join("sarif-2.1.0.json").is_file(),
        "{} missing: run scripts/setup.sh (npm install -g @microsoft/sarif-multitool)",
        dir.display()
    );
    dir
}

/// Validates the SARIF log in `file` against the SARIF 2.1.0 schema and with the multitool; panics with
/// every problem found. Returns the log.
pub fn validate(file: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(file).unwrap();
    let log: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
    let dir = package_dir();
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sarif-2.1.0.json")).unwrap())
            .unwrap();
    let v = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = v
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "not SARIF 2.1.0:\n{}", errors.join("\n"));

    let out_dir = tempfile::tempdir().unwrap();
    let verdict = out_dir.path().join("validation.sarif");
    let run = Command::new(dir.join("Sarif.Multitool"))
        .arg("validate")
        .arg(file)
        .args(["--rule-kind", "Sarif;Gh;Ghas", "--output"])
        .arg(&verdict)
        .env("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        .output()
        .expect("Sarif.Multitool (scripts/setup.sh installs it)");
    let found: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&verdict).unwrap_or_else(|e| {
            panic!(
                "the multitool wrote no verdict ({e}): {}{}",
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            )
        }))
        .unwrap();
    let problems: Vec<String> = found["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["level"] == "error")
        .map(|r| format!("{} {}", r["ruleId"], r["message"]))
        .collect();
    assert!(
        problems.is_empty(),
        "the SARIF multitool (rules Sarif;Gh) found errors in {}:\n{}",
        file.display(),
        problems.join("\n")
    );
    log
}
