//! Embeds the built-in malformed-message catalog: every `probes/malformed/*.toml`, in file-name order,
//! so adding a case file needs no code change.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new("probes/malformed");
    println!("cargo:rerun-if-changed=probes/malformed");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from(
        "/// Built-in catalog cases: (file name, contents).\npub const BUILTIN: &[(&str, &str)] = &[\n",
    );
    for p in files {
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 file name");
        // Relative to the manifest, not an absolute path: the generated list stays valid when cargo
        // reuses this build script's output for a checkout at another path (git worktrees).
        let _ = writeln!(
            out,
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/probes/malformed/{name}\"))),"
        );
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("catalog_builtin.rs");
    std::fs::write(dest, out).expect("write catalog list");
}
