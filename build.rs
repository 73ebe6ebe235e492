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
        let abs = std::fs::canonicalize(&p).expect("catalog file path");
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 file name");
        let _ = writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            abs.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("catalog_builtin.rs");
    std::fs::write(dest, out).expect("write catalog list");
}
