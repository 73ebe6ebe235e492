//! The crate's layers, declared once here and enforced on every `cargo test`: a library module may
//! name (in a `use` line or an inline `crate::` path) only modules of a lower layer. Lower layers
//! never see higher ones, so no two modules import each other in a circle. The binary's files
//! (`main.rs`, `cli.rs`, `*_cli.rs`) sit above every layer and use the crate's public API only.
//! docs/architecture.md explains the order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom first. A new top-level module must be placed here before the test passes.
const LAYERS: &[&[&str]] = &[
    &["error"],
    &["target", "progress"],
    // The finding model and registry: Finding, Status, Report, every finding's contract.
    &["findings"],
    // Protocols, each above what it builds on.
    &["sip"],
    &["transport", "media"],
    &["evidence", "tls", "discover", "catalog"],
    &["capture", "stir"],
    &["listen"],
    // Probes: the framework, calls, then the probes themselves.
    &["probe"],
    &["call"],
    &["probes"],
    // The run: analyses over findings, the scan, its exit code, many targets.
    &["analysis"],
    &["scan"],
    &["exit"],
    &["batch"],
    &["fleet"],
    // Reports: every rendering of a report.
    &["report"],
    // The command line as data and rules (arguments, man page, the words commands print).
    &["app"],
    // Entry points for the fuzz targets: may reach anything below.
    &["fuzzing"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn is_binary(name: &str) -> bool {
    name == "main" || name == "cli" || name.ends_with("_cli")
}

/// `src/a/b.rs` -> `a`; `src/a.rs` -> `a`.
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The text without `//` comments and without `#[cfg(test)] mod … { … }` blocks: tests may reach
/// anywhere.
fn code_of(text: &str) -> String {
    let no_comments: String = text
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = String::new();
    let mut rest = no_comments.as_str();
    while let Some(i) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let Some(open) = after.find('{') else { break };
        // Only a module block is skipped; `#[cfg(test)]` on an item keeps the item's text out too.
        let mut depth = 0usize;
        let mut end = after.len();
        for (j, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + j + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Every top-level module a file's code names: `crate::x`, and each name in `crate::{x::…, y}`.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let after = &code[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            // Top-level names in the group: those at brace depth 0.
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group[..end].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        start = false;
                        let name = ident(&group[j..]);
                        if !name.is_empty() && name != "self" {
                            found.insert(name);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(after);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

#[test]
fn library_modules_import_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unplaced = BTreeSet::new();
    for file in files {
        let module = top_module(&src, &file);
        if module == "lib" || is_binary(&module) {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            unplaced.insert(module);
            continue;
        };
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        for named in named_modules(&code) {
            if named == module {
                continue;
            }
            match layer_of(&named) {
                Some(l) if l < own => {}
                Some(_) => {
                    upward
                        .entry(format!("{} ({})", module, file.display()))
                        .or_default()
                        .insert(named);
                }
                // Not a module (a macro path such as `crate::registry!`) or not placed: caught above.
                None => {}
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "top-level modules not placed in LAYERS: {unplaced:?}"
    );
    assert!(
        upward.is_empty(),
        "modules that import their own or a higher layer: {upward:#?}"
    );
}

#[test]
fn the_reader_sees_inline_paths_and_groups() {
    // The checker itself must not miss an import, or the test above could never fail.
    let code =
        "use crate::{sip::Message, transport::{self, Conn}};\nfn f() { crate::scan::now(); }";
    let named = named_modules(code);
    assert_eq!(named, ["scan", "sip", "transport"].map(String::from).into());
    let tested =
        code_of("fn a() {}\n#[cfg(test)]\nmod tests { use crate::scan::x; }\n// crate::report");
    assert!(named_modules(&tested).is_empty(), "{tested}");
}
