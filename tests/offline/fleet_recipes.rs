//! The fleet recipes in docs/recipes validate against the schemas their platforms publish: the
//! GitHub workflow schema vendored by check-jsonschema, and Kubernetes' own OpenAPI schemas through
//! kubernetes-validate (both from PyPI, installed by scripts/setup-test-rig.sh). A mutated copy is
//! refused, so the check is not a formality. Their sipcheck command lines use the flags the binary
//! has (`--shard`, `--jsonl`, `--resume`, `merge`).

use std::path::Path;
use std::process::Command;

fn recipe(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/recipes")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn validates(tool: &str, args: &[&str], file: &str) -> (bool, String) {
    let out = Command::new(tool)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{tool} is not installed (scripts/setup-test-rig.sh): {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn mutated(file: &str, from: &str, to: &str) -> tempfile::NamedTempFile {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{from} not in {file}");
    let t = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    std::fs::write(t.path(), text.replacen(from, to, 1)).unwrap();
    t
}

#[test]
fn the_github_workflow_matches_the_workflow_schema() {
    let gh = ["--builtin-schema", "vendor.github-workflows"];
    let file = recipe("github-fleet.yml");
    let (ok, text) = validates("check-jsonschema", &gh, &file);
    assert!(ok, "{text}");
    let bad = mutated(&file, "runs-on: ubuntu-latest", "runs-on: [");
    assert!(!validates("check-jsonschema", &gh, bad.path().to_str().unwrap()).0);
    let bad = mutated(
        &file,
        "    runs-on: ubuntu-latest",
        "    runs_on: ubuntu-latest",
    );
    assert!(!validates("check-jsonschema", &gh, bad.path().to_str().unwrap()).0);
}

#[test]
fn the_kubernetes_job_matches_the_kubernetes_schema() {
    let strict = ["--strict"];
    let file = recipe("k8s-fleet-job.yaml");
    let (ok, text) = validates("kubernetes-validate", &strict, &file);
    assert!(ok, "{text}");
    let bad = mutated(&file, "completions: 20", "completions: twenty");
    assert!(!validates("kubernetes-validate", &strict, bad.path().to_str().unwrap()).0);
    let bad = mutated(
        &file,
        "completionMode: Indexed",
        "completionMode: Indexed\n  shards: 20",
    );
    assert!(!validates("kubernetes-validate", &strict, bad.path().to_str().unwrap()).0);
}

#[test]
fn the_recipes_use_flags_the_binary_has() {
    let help = Command::new(env!("CARGO_BIN_EXE_sipcheck"))
        .args(["probe", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in ["--shard", "--jsonl", "--resume", "--parallel", "--rate"] {
        assert!(help.contains(flag), "probe --help lacks {flag}");
    }
    let merge = Command::new(env!("CARGO_BIN_EXE_sipcheck"))
        .args(["merge", "--help"])
        .output()
        .unwrap();
    assert!(merge.status.success());
    for f in ["github-fleet.yml", "k8s-fleet-job.yaml"] {
        let text = std::fs::read_to_string(recipe(f)).unwrap();
        assert!(text.contains("--shard") && text.contains("--jsonl"), "{f}");
        assert!(text.contains("sipcheck merge"), "{f}");
    }
}
