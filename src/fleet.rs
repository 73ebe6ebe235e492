//! A fleet of trunks across many jobs: one JSON line per trunk as it finishes (`--jsonl`), a run
//! that picks up where an interrupted one stopped (`--resume`), a target list split into disjoint
//! shards keyed by the trunks' resolved SBC addresses (`--shard I/N`), and the shards' outputs
//! joined again (`sipcheck merge`).
//!
//! Shards are keyed by address, not by line: trunks that share an SBC address land in the same shard,
//! so the per-address politeness budget (`--rate`, `--max-connections`) still holds when the shards
//! run on different machines. Trunks are grouped when any address is shared (a chain of shared
//! addresses is one group), and a group's shard follows from its smallest address by a fixed hash,
//! so every job computes the same split from the same DNS answers.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::str::FromStr;

use crate::batch::{Batch, Item};
use crate::discover::{self, Settings};
use crate::error::{Error, Result};
use crate::findings::SCHEMA_VERSION;
use crate::scan::ScanOptions;
use crate::target::Target;

/// The I-th (from 1) of N parts of a target list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, from 1.
    pub index: u32,
    /// How many parts.
    pub count: u32,
}

/// Most shards a list is split into (a Kubernetes Indexed Job or CI matrix larger than this is not
/// a fleet, it is a mistake).
pub const MAX_SHARDS: u32 = 10_000;

impl FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Shard> {
        let bad = || {
            Error::BadOption(format!(
                "--shard {s:?}: give I/N with 1 <= I <= N <= {MAX_SHARDS} (e.g. 3/8)"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count || count > MAX_SHARDS {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// FNV-1a: the same on every machine and every run, unlike the standard library's hasher.
fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The shard (from 1) of each target, given the addresses each resolved to (a target that did not
/// resolve is keyed by its own text). Trunks sharing any address are one group, in one shard.
pub fn assign(keys: &[Vec<String>], count: u32) -> Vec<u32> {
    // Union-find over targets, joined through the addresses they share.
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let mut owner: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, ks) in keys.iter().enumerate() {
        for k in ks {
            match owner.get(k.as_str()) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a] = b;
                }
                None => {
                    owner.insert(k, i);
                }
            }
        }
    }
    // A group's key: its smallest address, which every job computes alike.
    let mut group_key: BTreeMap<usize, &str> = BTreeMap::new();
    for (i, ks) in keys.iter().enumerate() {
        let r = root(&mut parent, i);
        for k in ks {
            let e = group_key.entry(r).or_insert(k.as_str());
            if k.as_str() < *e {
                *e = k.as_str();
            }
        }
    }
    (0..keys.len())
        .map(|i| {
            let r = root(&mut parent, i);
            let key = group_key.get(&r).copied().unwrap_or("");
            (stable_hash(key) % u64::from(count)) as u32 + 1
        })
        .collect()
}

/// The addresses a target's trunk is reached at: what discovery finds for it, sorted; the target's
/// own text when it does not parse or resolve (it then forms a group of its own).
async fn shard_key(input: &str, template: &ScanOptions, settings: &Settings) -> Vec<String> {
    let Ok(target) = Target::parse(input) else {
        return vec![format!("target:{input}")];
    };
    let transports = template
        .transports
        .clone()
        .unwrap_or_else(|| target.default_transports());
    match discover::discover(&target, &transports, template.tls_port, settings).await {
        Ok(d) if !d.endpoints.is_empty() => {
            let set: BTreeSet<String> = d.endpoints.iter().map(|e| e.address.to_string()).collect();
            set.into_iter().collect()
        }
        _ => vec![format!("target:{input}")],
    }
}

/// The targets of `shard`, in file order, resolving each (with the options' DNS settings) to key it
/// by address. Lookups run `parallel` at a time.
pub async fn shard_targets(
    targets: Vec<String>,
    shard: Shard,
    template: &ScanOptions,
    parallel: usize,
) -> Vec<String> {
    use futures_util::StreamExt;
    let settings = template.config.discovery.clone();
    let keys: Vec<Vec<String>> = futures_util::stream::iter(targets.iter())
        .map(|t| shard_key(t, template, &settings))
        .buffered(parallel.clamp(1, 1024))
        .collect()
        .await;
    let shards = assign(&keys, shard.count);
    targets
        .into_iter()
        .zip(shards)
        .filter(|(_, s)| *s == shard.index)
        .map(|(t, _)| t)
        .collect()
}

/// `--jsonl OUT`: one line per finished trunk, each written whole and flushed, so an interrupted run
/// leaves every finished line intact.
pub struct JsonlOut {
    file: std::fs::File,
    path: String,
}

impl JsonlOut {
    /// Opens OUT before the first packet. Without `resume` it is created (or emptied); with it, the
    /// targets already in it are returned to be skipped, and a last line cut off by an interruption
    /// is dropped so the next line starts clean.
    pub fn open(path: &str, resume: bool) -> Result<(JsonlOut, HashSet<String>)> {
        let io = |e| Error::io(format!("cannot open {path}"), e);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(!resume)
            .open(path)
            .map_err(io)?;
        let mut done = HashSet::new();
        if resume {
            let mut text = String::new();
            file.read_to_string(&mut text).map_err(io)?;
            let whole = text.rfind('\n').map_or(0, |i| i + 1);
            for line in text[..whole].lines() {
                if let Ok(item) = serde_json::from_str::<Item>(line) {
                    done.insert(item.target);
                }
            }
            file.set_len(whole as u64).map_err(io)?;
            file.seek(SeekFrom::End(0)).map_err(io)?;
        }
        Ok((
            JsonlOut {
                file,
                path: path.to_string(),
            },
            done,
        ))
    }

    /// Appends one trunk's line.
    pub fn append(&mut self, item: &Item) -> Result<()> {
        let mut line = serde_json::to_string(item).map_err(|e| Error::BadFile {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|e| Error::io(format!("cannot write {}", self.path), e))
    }
}

/// Reads a JSON Lines file of trunk items; a last line cut off by an interruption is ignored, any
/// other line that is not an item is an error naming its line number.
pub fn read_jsonl(path: &str) -> Result<Vec<Item>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::BadFile {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut items = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Item>(line) {
            Ok(item) => items.push(item),
            Err(_) if n + 1 == lines.len() && !complete => {}
            Err(e) => {
                return Err(Error::BadFile {
                    path: path.into(),
                    reason: format!("line {}: not a sipcheck trunk line: {e}", n + 1),
                });
            }
        }
    }
    Ok(items)
}

/// Joins shard outputs into one batch: every trunk once (a trunk in several files, as after a
/// resumed shard, keeps its last line), sorted by target.
pub fn merge(paths: &[String]) -> Result<Batch> {
    let mut by_target: BTreeMap<String, Item> = BTreeMap::new();
    for p in paths {
        for item in read_jsonl(p)? {
            by_target.insert(item.target.clone(), item);
        }
    }
    Ok(Batch {
        schema_version: SCHEMA_VERSION,
        targets: by_target.into_values().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(k: &[&[&str]]) -> Vec<Vec<String>> {
        k.iter()
            .map(|ks| ks.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn shards_parse_and_refuse_nonsense() {
        assert_eq!(
            "3/8".parse::<Shard>().unwrap(),
            Shard { index: 3, count: 8 }
        );
        for bad in ["0/4", "5/4", "1", "a/b", "1/0", "1/10001"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn trunks_sharing_an_address_share_a_shard_through_a_chain() {
        let k = keys(&[
            &["10.0.0.1"],
            &["10.0.0.1", "10.0.0.2"],
            &["10.0.0.2"],
            &["10.0.0.3"],
        ]);
        for n in 1..=7 {
            let s = assign(&k, n);
            assert_eq!(s[0], s[1]);
            assert_eq!(s[1], s[2]);
            assert!(s.iter().all(|&x| (1..=n).contains(&x)));
        }
    }

    #[test]
    fn the_split_does_not_depend_on_list_order() {
        let k = keys(&[&["a"], &["b"], &["c", "a"], &["d"], &["e"]]);
        let mut rev = k.clone();
        rev.reverse();
        let s = assign(&k, 3);
        let mut r = assign(&rev, 3);
        r.reverse();
        assert_eq!(s, r);
    }

    #[test]
    fn an_interrupted_line_is_dropped_on_resume() {
        let dir = std::env::temp_dir().join(format!("sipcheck-fleet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.jsonl");
        let path = path.to_str().unwrap();
        let item = |t: &str| Item {
            target: t.into(),
            exit_code: 3,
            error: Some("x".into()),
            report: None,
        };
        let (mut out, done) = JsonlOut::open(path, false).unwrap();
        assert!(done.is_empty());
        out.append(&item("a.example")).unwrap();
        drop(out);
        std::fs::write(
            path,
            std::fs::read_to_string(path).unwrap() + "{\"target\":\"b.exa",
        )
        .unwrap();
        assert_eq!(read_jsonl(path).unwrap().len(), 1);
        let (mut out, done) = JsonlOut::open(path, true).unwrap();
        assert_eq!(done, HashSet::from(["a.example".to_string()]));
        out.append(&item("b.example")).unwrap();
        let all = read_jsonl(path).unwrap();
        assert_eq!(all.len(), 2, "{}", std::fs::read_to_string(path).unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
