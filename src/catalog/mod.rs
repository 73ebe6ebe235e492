//! The malformed-message catalog: one TOML file per case, built in from `probes/malformed/` and
//! extended at run time with `--catalog DIR`.
//!
//! A case file (see `probes/malformed/FORMAT.md` for the full format):
//!
//! ```toml
//! id = "max-forwards-zero"
//! title = "Max-Forwards: 0"
//! rfc = "RFC 3261"
//! section = "16.3"
//! category = "semantics"
//! safety = "safe"          # or "intrusive": only with --intrusive
//! valid = false            # invalid messages must not be accepted (2xx)
//! expect = ["483"]         # codes, classes (4xx), drop, accept, reject
//! on_accept = "fail"       # status when an invalid message gets a 2xx (default warn)
//! message = '''
//! OPTIONS {uri} SIP/2.0
//! Via: SIP/2.0/{transport} {local};branch={branch};rport
//! ...
//! '''
//! ```
//!
//! Files are taken in file-name order; a `--catalog` case with the id of a built-in one replaces it.

pub mod expect;
pub mod template;

use std::path::Path;

use serde::Deserialize;

pub use expect::{Expect, Reaction, Verdict, classify};
pub use template::{Values, fill};

use crate::error::{Error, Result};
use crate::findings::Safety;
use crate::findings::Status;
use crate::target::Transport;

// `BUILTIN: &[(&str, &str)]`: (file name, contents) of every probes/malformed/*.toml, made by build.rs.
include!(concat!(env!("OUT_DIR"), "/catalog_builtin.rs"));

/// Most files read from one `--catalog` directory, and the largest file, so a wrong path cannot
/// make us read a disk.
const MAX_FILES: usize = 1000;
const MAX_FILE_BYTES: u64 = 256 * 1024;

/// Which address family a case applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Any,
    V4,
    V6,
}

/// One catalog case, checked and ready to fill.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub title: String,
    /// `RFC 4475 §3.1.2.1`
    pub rfc: String,
    pub category: String,
    pub safety: Safety,
    /// Whether the message is valid SIP (and so must be accepted).
    pub valid: bool,
    pub expect: Vec<Expect>,
    /// Headers an expected response must carry (e.g. `Allow` on a 405).
    pub expect_headers: Vec<String>,
    /// Status of the case when an invalid message is accepted.
    pub on_accept: Status,
    /// Transports the case applies to (empty: all).
    pub transports: Vec<Transport>,
    pub family: Family,
    /// Free text for the catalog's readers (FORMAT.md); accepted from the file, never judged by.
    #[allow(dead_code)]
    pub notes: Option<String>,
    /// The message template.
    pub message: String,
    /// Where the case came from (`builtin:010-garbage.toml` or a path).
    pub source: String,
}

impl Case {
    /// Whether the case applies to a transport and an address family.
    pub fn applies_to(&self, t: Transport, ipv6: bool) -> bool {
        (self.transports.is_empty() || self.transports.contains(&t))
            && match self.family {
                Family::Any => true,
                Family::V4 => !ipv6,
                Family::V6 => ipv6,
            }
    }

    /// The expectations as written (`400 | drop`).
    pub fn expect_text(&self) -> String {
        self.expect
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    id: String,
    title: String,
    rfc: String,
    section: Option<String>,
    category: String,
    #[serde(default)]
    safety: Option<String>,
    #[serde(default)]
    valid: bool,
    expect: OneOrMany,
    #[serde(default)]
    expect_headers: Vec<String>,
    #[serde(default)]
    on_accept: Option<String>,
    #[serde(default)]
    transports: Vec<String>,
    #[serde(default)]
    ip: Option<Family>,
    #[serde(default)]
    notes: Option<String>,
    message: String,
}

fn bad(source: &str, reason: impl Into<String>) -> Error {
    Error::BadFile {
        path: source.to_string(),
        reason: reason.into(),
    }
}

/// The type a case file's key takes, in words.
fn case_field_type(_section: &str, key: &str, _value: &str) -> &'static str {
    match key {
        "valid" => "true or false",
        "expect" => "a string or an array of strings",
        "expect_headers" | "transports" => "an array of strings",
        _ => "a string",
    }
}

/// Parses and checks one case file; `source` names it in errors.
pub fn parse_case(text: &str, source: &str) -> Result<Case> {
    let f: CaseFile = toml::from_str(text).map_err(|e| {
        let (line, reason) = crate::error::toml_reason(text, &e, &case_field_type);
        bad(&format!("{source}:{line}"), reason)
    })?;
    if f.id.is_empty()
        || f.id.len() > 64
        || !f
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err(bad(
            source,
            format!(
                "id {:?} must be 1-64 characters of a-z, 0-9, '-' and '.'",
                f.id
            ),
        ));
    }
    let safety = match f.safety.as_deref().unwrap_or("safe") {
        "safe" => Safety::Safe,
        "intrusive" => Safety::Intrusive,
        other => {
            return Err(bad(
                source,
                format!("safety {other:?} (use safe or intrusive)"),
            ));
        }
    };
    let expect_words = match f.expect {
        OneOrMany::One(s) => s.split('|').map(str::to_string).collect(),
        OneOrMany::Many(v) => v,
    };
    let expect = expect_words
        .iter()
        .map(|s| Expect::parse(s))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(source, e))?;
    if expect.is_empty() {
        return Err(bad(source, "expect lists no reaction"));
    }
    let on_accept = match f.on_accept.as_deref().unwrap_or("warn") {
        "warn" => Status::Warn,
        "fail" => Status::Fail,
        "info" => Status::Info,
        other => {
            return Err(bad(
                source,
                format!("on_accept {other:?} (use warn, fail or info)"),
            ));
        }
    };
    let transports = f
        .transports
        .iter()
        .map(|t| {
            t.parse::<Transport>()
                .map_err(|e| bad(source, e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    // Filling with example values catches unknown placeholders and oversized repeats at load time.
    fill(&f.message, &Values::example()).map_err(|e| bad(source, format!("message: {e}")))?;
    let rfc = match &f.section {
        Some(s) if !s.is_empty() => format!("{} §{}", f.rfc.trim(), s.trim()),
        _ => f.rfc.trim().to_string(),
    };
    Ok(Case {
        id: f.id,
        title: f.title,
        rfc,
        category: f.category,
        safety,
        valid: f.valid,
        expect,
        expect_headers: f.expect_headers,
        on_accept,
        transports,
        family: f.ip.unwrap_or(Family::Any),
        notes: f.notes,
        message: f.message,
        source: source.to_string(),
    })
}

/// The built-in cases, in file-name order.
pub fn builtin() -> Result<Vec<Case>> {
    BUILTIN
        .iter()
        .map(|(name, text)| parse_case(text, &format!("builtin:{name}")))
        .collect()
}

/// The `*.toml` cases of a directory, in file-name order.
pub fn load_dir(dir: &Path) -> Result<Vec<Case>> {
    let shown = dir.display().to_string();
    let rd = std::fs::read_dir(dir).map_err(|e| bad(&shown, e.to_string()))?;
    let mut paths = Vec::new();
    for entry in rd.take(MAX_FILES * 4) {
        let entry = entry.map_err(|e| bad(&shown, e.to_string()))?;
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "toml") && p.is_file() {
            paths.push(p);
        }
    }
    if paths.len() > MAX_FILES {
        return Err(bad(&shown, format!("more than {MAX_FILES} case files")));
    }
    paths.sort();
    let mut out = Vec::with_capacity(paths.len());
    for p in paths {
        let name = p.display().to_string();
        let len = std::fs::metadata(&p)
            .map_err(|e| bad(&name, e.to_string()))?
            .len();
        if len > MAX_FILE_BYTES {
            return Err(bad(&name, format!("larger than {MAX_FILE_BYTES} bytes")));
        }
        let text = std::fs::read_to_string(&p).map_err(|e| bad(&name, e.to_string()))?;
        out.push(parse_case(&text, &name)?);
    }
    Ok(out)
}

/// The catalog to run: built-in cases, then those of `extra` (replacing built-ins with the same id).
/// Two files with one id in the same place are an error.
pub fn load(extra: Option<&Path>) -> Result<Vec<Case>> {
    let mut cases = builtin()?;
    check_unique(&cases)?;
    if let Some(dir) = extra {
        let user = load_dir(dir)?;
        check_unique(&user)?;
        for c in user {
            match cases.iter_mut().find(|b| b.id == c.id) {
                Some(slot) => *slot = c,
                None => cases.push(c),
            }
        }
    }
    Ok(cases)
}

fn check_unique(cases: &[Case]) -> Result<()> {
    for (i, c) in cases.iter().enumerate() {
        if let Some(other) = cases[..i].iter().find(|o| o.id == c.id) {
            return Err(bad(
                &c.source,
                format!("id {:?} is also used by {}", c.id, other.source),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "max-forwards-zero"
title = "Max-Forwards: 0"
rfc = "RFC 3261"
section = "16.3"
category = "semantics"
expect = "483 | 4xx"
on_accept = "fail"
transports = ["udp", "tcp"]
message = '''
OPTIONS {uri} SIP/2.0
Max-Forwards: 0
Content-Length: {content_length}

'''
"#;

    #[test]
    fn parses_a_case() {
        let c = parse_case(GOOD, "t").unwrap();
        assert_eq!(c.rfc, "RFC 3261 §16.3");
        assert_eq!(c.expect, vec![Expect::Code(483), Expect::Class(4)]);
        assert_eq!(c.on_accept, Status::Fail);
        assert_eq!(c.safety, Safety::Safe);
        assert!(!c.valid);
        assert!(c.applies_to(Transport::Udp, false));
        assert!(!c.applies_to(Transport::Tls, false));
        assert_eq!(c.expect_text(), "483 | 4xx");
    }

    #[test]
    fn rejects_bad_cases_with_the_file_name() {
        for (from, to) in [
            ("max-forwards-zero", "Max Forwards"),
            ("483 | 4xx", "483 | sometimes"),
            ("on_accept = \"fail\"", "on_accept = \"panic\""),
            ("[\"udp\", \"tcp\"]", "[\"sctp\"]"),
            ("Max-Forwards: 0", "Max-Forwards: {mf}"),
            ("category", "colour"),
        ] {
            let text = GOOD.replace(from, to);
            let e = parse_case(&text, "cases/x.toml").unwrap_err().to_string();
            assert!(e.starts_with("cases/x.toml"), "{e}");
        }
    }

    #[test]
    fn builtin_catalog_loads_with_unique_ids() {
        let cases = load(None).unwrap();
        assert!(cases.len() >= 30, "{} cases", cases.len());
        assert!(cases.iter().any(|c| c.safety == Safety::Intrusive));
        assert!(cases.iter().any(|c| c.valid));
        assert!(cases.iter().any(|c| c.family == Family::V6));
    }

    #[test]
    fn user_dir_adds_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.toml"),
            GOOD.replace("max-forwards-zero", "my-case"),
        )
        .unwrap();
        let first = builtin().unwrap()[0].id.clone();
        let over = GOOD.replace("max-forwards-zero", &first);
        std::fs::write(dir.path().join("b.toml"), over).unwrap();
        std::fs::write(dir.path().join("ignored.txt"), "not a case").unwrap();
        let n_builtin = builtin().unwrap().len();
        let cases = load(Some(dir.path())).unwrap();
        assert_eq!(cases.len(), n_builtin + 1);
        assert_eq!(cases[0].id, first);
        assert!(cases[0].source.ends_with("b.toml"));
        assert_eq!(cases.last().unwrap().id, "my-case");
        // Same id twice in one directory.
        std::fs::write(
            dir.path().join("c.toml"),
            GOOD.replace("max-forwards-zero", "my-case"),
        )
        .unwrap();
        assert!(load(Some(dir.path())).is_err());
        assert!(load(Some(&dir.path().join("missing"))).is_err());
    }
}
