//! Many trunks in one run (`sipcheck probe -f targets.txt`): each target is an ordinary scan with its
//! own discovery and report; at most `parallel` run at once. They share one politeness budget per
//! address, so trunks on one SBC together keep to `--rate` and `--max-connections` there.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::error::{Error, Result};
use crate::exit::{self, Outcome};
use crate::findings::Report;
use crate::scan::{ScanOptions, scan};
use crate::target::Target;
use crate::transport::Limiter;

/// Longest targets file accepted, in targets.
pub const MAX_TARGETS: usize = 10_000;

/// Reads a targets file: one target per line; blank lines and `#` comments are ignored.
pub fn read_targets(path: &str) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::BadFile {
        path: path.into(),
        reason: e.to_string(),
    })?;
    parse_targets(&text).map_err(|reason| Error::BadFile {
        path: path.into(),
        reason,
    })
}

/// The targets of a targets file's text.
pub fn parse_targets(text: &str) -> std::result::Result<Vec<String>, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.split('#').next().unwrap_or_default().trim();
        if t.is_empty() {
            continue;
        }
        if out.len() == MAX_TARGETS {
            return Err(format!("more than {MAX_TARGETS} targets"));
        }
        out.push(t.to_string());
    }
    if out.is_empty() {
        return Err("no targets (one per line; # starts a comment)".into());
    }
    Ok(out)
}

/// What one target of a batch produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item {
    /// The target as written in the file.
    pub target: String,
    /// The exit code this target alone would have given (0, 1, 2 bad target, 3 unresolvable/incomplete).
    pub exit_code: u8,
    /// Why there is no report (bad target, NXDOMAIN, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The target's report, when its scan ran (even an incomplete one).
    pub report: Option<Report>,
}

impl Item {
    fn failed(target: String, e: &Error) -> Item {
        Item {
            target,
            exit_code: exit::code(Outcome::Error(e)),
            error: Some(e.to_string()),
            report: None,
        }
    }
}

/// The combined JSON document of a batch (`--format json` without `-o DIR`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Batch {
    /// The report schema version of every report inside.
    pub schema_version: u32,
    /// One item per target, in file order.
    pub targets: Vec<Item>,
}

/// The exit code of a batch: the highest of its targets' (3 beats 2 beats 1 beats 0).
pub fn exit_code(items: &[Item]) -> u8 {
    let codes: Vec<u8> = items.iter().map(|i| i.exit_code).collect();
    exit::code(Outcome::Batch(&codes))
}

/// Scans every target with the settings of `template` (its target is replaced), `parallel` at a time,
/// each target's exit code gated by `fail_on`.
/// `done` is called as each target finishes, in completion order, with the target's index in `targets`;
/// the items are returned in file order. A panic in one scan becomes that target's error.
/// Without `keep_reports` the returned items carry no report (`done` has seen each one): a fleet
/// written out as it finishes (`--jsonl`, `-o DIR`) does not hold every finished trunk's report in
/// memory until the last one ends.
pub async fn scan_all(
    targets: Vec<String>,
    template: ScanOptions,
    parallel: usize,
    fail_on: exit::FailOn,
    keep_reports: bool,
    mut done: impl FnMut(usize, &Item),
) -> Vec<Item> {
    let parallel = parallel.clamp(1, 1024);
    let mut template = template;
    if template.politeness.is_none() {
        let c = &template.config;
        template.politeness = Some(Arc::new(Limiter::new(c.rate, c.burst, c.max_connections)));
    }
    let template = Arc::new(template);
    let mut slots: Vec<Option<Item>> = vec![None; targets.len()];
    let mut set = JoinSet::new();
    let mut ids = std::collections::HashMap::new();
    let mut next = 0;
    loop {
        while set.len() < parallel && next < targets.len() {
            let i = next;
            next += 1;
            let input = targets[i].clone();
            let template = template.clone();
            let handle = set.spawn(async move {
                let item = match Target::parse(&input) {
                    Err(e) => Item::failed(input, &e),
                    Ok(target) => {
                        let mut opts = (*template).clone();
                        opts.target = target;
                        match scan(opts).await {
                            Ok(r) => Item {
                                target: input,
                                exit_code: exit::code(Outcome::Gate(&r, fail_on)),
                                error: r.incomplete.clone(),
                                report: Some(r),
                            },
                            Err(e) => Item::failed(input, &e),
                        }
                    }
                };
                (i, item)
            });
            ids.insert(handle.id(), i);
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let (i, mut item) = match joined {
            Ok(v) => v,
            Err(e) => {
                let Some(&i) = ids.get(&e.id()) else { continue };
                (
                    i,
                    Item {
                        target: targets[i].clone(),
                        exit_code: exit::USAGE,
                        error: Some(if e.is_panic() {
                            "scan panicked (a bug in sipcheck)".into()
                        } else {
                            "scan cancelled".into()
                        }),
                        report: None,
                    },
                )
            }
        };
        done(i, &item);
        if !keep_reports {
            item.report = None;
        }
        slots[i] = Some(item);
    }
    slots
        .into_iter()
        .zip(targets)
        .map(|(s, t)| {
            s.unwrap_or(Item {
                target: t,
                exit_code: exit::USAGE,
                error: Some("not run".into()),
                report: None,
            })
        })
        .collect()
}

/// A file name for a target's report: its index (for order and uniqueness) and a readable slug.
pub fn file_name(index: usize, target: &str, ext: &str) -> String {
    let slug: String = target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!("{:04}-{}.{ext}", index + 1, slug.trim_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_file() {
        let t = parse_targets("# trunks\n\nsip.example.com\n 127.0.0.1:5070  # lab\n").unwrap();
        assert_eq!(t, ["sip.example.com", "127.0.0.1:5070"]);
        assert!(parse_targets("# nothing\n\n").is_err());
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            file_name(0, "sips:a@[::1]:5061", "json"),
            "0001-sips_a____1__5061.json"
        );
        assert_eq!(file_name(9, "../etc", "md"), "0010-_etc.md");
        assert!(!file_name(0, "/x/../../y", "json").contains('/'));
    }

    #[test]
    fn worst_exit_code_wins() {
        let item = |c| Item {
            target: "x".into(),
            exit_code: c,
            error: None,
            report: None,
        };
        assert_eq!(exit_code(&[item(0), item(1), item(0)]), 1);
        assert_eq!(exit_code(&[item(3), item(1)]), 3);
    }
}
