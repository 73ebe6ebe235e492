//! The JSON Schema of the report, generated from the Rust types so it cannot drift from them (the
//! committed copy is `probes/report.schema.json`; a test regenerates it and fails when they differ),
//! and the shape check every report load runs against it.
//!
//! The schema describes what this build writes: a field is `required` unless the writer may leave it
//! out (`skip_serializing_if`), and each registered finding id constrains a non-empty `details` to its
//! details type, so a renamed key is an error rather than a silent `false`, `0` or `None`. A finding
//! that measured nothing carries `details: {}`.
//!
//! Reports of an older schema version still load: each field the schema requires that such a report
//! lacks is read as its default and said in one line ("schema 1: field … absent, read as …").

use std::collections::BTreeMap;
use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::{REGISTRY, Report, SCHEMA_VERSION, spec};

/// Where the committed schema lives, relative to the repository root.
pub const PATH: &str = "probes/report.schema.json";

/// What an older report lacking a top-level field is read as, when that is not the type's default.
const READ_AS: &[(&str, &str)] = &[
    ("summary", "counted from its findings"),
    (
        "scope",
        "unknown (diff and compare cannot tell what the run left out)",
    ),
];

/// The schema as a tree, with each registered id's details schema, generated once.
struct Schemas {
    root: Value,
    details: Vec<(&'static str, Value)>,
}

fn schemas() -> &'static Schemas {
    static S: OnceLock<Schemas> = OnceLock::new();
    S.get_or_init(generate)
}

fn generate() -> Schemas {
    let mut g = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let root = g.root_schema_for::<Report>();
    let details: Vec<(&'static str, Value)> = REGISTRY
        .iter()
        .map(|s| {
            let d = (s.details_schema)(&mut g);
            (s.id, serde_json::to_value(d).unwrap_or_default())
        })
        .collect();
    let per_id: Vec<Value> = details
        .iter()
        .map(|(id, d)| {
            let id = match id.strip_suffix('*') {
                Some(prefix) => {
                    json!({ "type": "string", "pattern": format!("^{}.+", regex_escape(prefix)) })
                }
                None => json!({ "const": id }),
            };
            json!({
                "if": { "properties": { "id": id }, "required": ["id"] },
                "then": { "properties": { "details": {
                    "if": { "minProperties": 1 },
                    "then": d,
                } } },
            })
        })
        .collect();
    let mut root = serde_json::to_value(root).unwrap_or_default();
    let defs: Map<String, Value> = g.take_definitions(true).into_iter().collect();
    if let Some(obj) = root.as_object_mut() {
        obj.insert(
            "$id".into(),
            Value::String(format!("urn:sipcheck:report-schema:v{SCHEMA_VERSION}")),
        );
        let all = obj
            .entry("$defs")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(all) = all.as_object_mut() {
            for (k, v) in defs {
                all.entry(k).or_insert(v);
            }
            if let Some(Value::Object(finding)) = all.get_mut("Finding") {
                finding.insert("allOf".into(), Value::Array(per_id));
            }
        }
    }
    Schemas { root, details }
}

/// The JSON Schema (draft 2020-12) of [`Report`], pretty-printed with a trailing newline.
pub fn json_schema() -> String {
    let mut s = serde_json::to_string_pretty(&schemas().root).expect("schemas always serialise");
    s.push('\n');
    s
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}

/// A required field a report lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Absent {
    /// Where, as `findings[sip.allow].details.allow` (array items as `[]`).
    pub path: String,
    /// How many objects lack it.
    pub count: usize,
    /// What it is read as.
    pub read_as: String,
    /// Keys of the same object the schema does not know (a renamed key shows here).
    pub beside: Vec<String>,
}

/// How a report's JSON departs from the schema of this build: required fields it lacks, and fields
/// the schema does not know (by path, with how many objects).
#[derive(Debug, Default)]
pub struct Gaps {
    pub absent: Vec<Absent>,
    pub unknown: Vec<(String, usize)>,
}

/// Walks a report's JSON against the schema.
pub fn gaps(raw: &Value) -> Gaps {
    let s = schemas();
    let mut w = Walk {
        defs: s.root.get("$defs").and_then(Value::as_object),
        absent: BTreeMap::new(),
        unknown: BTreeMap::new(),
    };
    let Some(obj) = raw.as_object() else {
        return Gaps::default();
    };
    // Findings are walked one by one below, each `details` against its own id's type.
    let top: Map<String, Value> = obj
        .iter()
        .map(|(k, v)| match k.as_str() {
            "findings" => (k.clone(), Value::Array(Vec::new())),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    w.walk(&Value::Object(top), &s.root, "");
    let finding_schema = json!({ "$ref": "#/$defs/Finding" });
    for f in obj
        .get("findings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = f.get("id").and_then(Value::as_str).unwrap_or("");
        let path = format!("findings[{id}]");
        w.walk(f, &finding_schema, &path);
        let details = f.get("details").and_then(Value::as_object);
        let schema = spec(id).and_then(|sp| s.details.iter().find(|(i, _)| *i == sp.id));
        if let (Some(d), Some((_, schema))) = (details, schema)
            && !d.is_empty()
        {
            w.walk(&Value::Object(d.clone()), schema, &format!("{path}.details"));
        }
    }
    Gaps {
        absent: w
            .absent
            .into_iter()
            .map(|(path, (count, read_as, beside))| Absent {
                path,
                count,
                read_as,
                beside,
            })
            .collect(),
        unknown: w.unknown.into_iter().collect(),
    }
}

struct Walk<'a> {
    defs: Option<&'a Map<String, Value>>,
    absent: BTreeMap<String, (usize, String, Vec<String>)>,
    unknown: BTreeMap<String, usize>,
}

impl<'a> Walk<'a> {
    fn resolve(&self, schema: &'a Value) -> &'a Value {
        let mut s = schema;
        for _ in 0..16 {
            let Some(name) = s
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            else {
                break;
            };
            match self.defs.and_then(|d| d.get(name)) {
                Some(t) => s = t,
                None => break,
            }
        }
        s
    }

    fn walk(&mut self, v: &Value, schema: &'a Value, path: &str) {
        let schema = self.resolve(schema);
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = schema.get(key).and_then(Value::as_array) {
                self.alternatives(v, alts, path);
            }
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all.iter().filter(|s| s.get("if").is_none()) {
                self.walk(v, s, path);
            }
        }
        match v {
            Value::Object(o) => self.object(o, schema, path),
            Value::Array(a) => {
                if let Some(items) = schema.get("items").filter(|i| i.is_object()) {
                    for item in a {
                        self.walk(item, items, &format!("{path}[]"));
                    }
                }
            }
            _ => {}
        }
    }

    /// A value under `anyOf`/`oneOf`: walked against the alternative it departs from least.
    fn alternatives(&mut self, v: &Value, alts: &'a [Value], path: &str) {
        if !(v.is_object() || v.is_array()) {
            return;
        }
        let mut best: Option<Walk<'a>> = None;
        for alt in alts {
            let mut trial = Walk {
                defs: self.defs,
                absent: BTreeMap::new(),
                unknown: BTreeMap::new(),
            };
            trial.walk(v, alt, path);
            let cost = |w: &Walk| w.absent.len() + w.unknown.len();
            if best.as_ref().is_none_or(|b| cost(&trial) < cost(b)) {
                best = Some(trial);
            }
        }
        if let Some(b) = best {
            self.merge(b);
        }
    }

    fn merge(&mut self, other: Walk<'a>) {
        for (k, (n, r, b)) in other.absent {
            let e = self.absent.entry(k).or_insert((0, r, Vec::new()));
            e.0 += n;
            for x in b {
                if !e.2.contains(&x) {
                    e.2.push(x);
                }
            }
        }
        for (k, n) in other.unknown {
            *self.unknown.entry(k).or_default() += n;
        }
    }

    fn object(&mut self, o: &Map<String, Value>, schema: &'a Value, path: &str) {
        let join = |k: &str| {
            if path.is_empty() {
                k.to_string()
            } else {
                format!("{path}.{k}")
            }
        };
        let props = schema.get("properties").and_then(Value::as_object);
        let open = schema.get("additionalProperties");
        let mut strangers = Vec::new();
        for (k, v) in o {
            match props.and_then(|p| p.get(k)) {
                Some(s) => self.walk(v, s, &join(k)),
                None => match open {
                    Some(s @ Value::Object(_)) => self.walk(v, s, &join(k)),
                    Some(Value::Bool(true)) => {}
                    _ if props.is_some() => strangers.push(k.clone()),
                    _ => {}
                },
            }
        }
        for k in &strangers {
            *self.unknown.entry(join(k)).or_default() += 1;
        }
        let required = schema.get("required").and_then(Value::as_array);
        for k in required.into_iter().flatten().filter_map(Value::as_str) {
            if o.contains_key(k) {
                continue;
            }
            let field = props.and_then(|p| p.get(k));
            let read_as = read_as(&join(k), field.map(|f| self.resolve(f)));
            let e = self
                .absent
                .entry(join(k))
                .or_insert((0, read_as, Vec::new()));
            e.0 += 1;
            for s in &strangers {
                if !e.2.contains(s) {
                    e.2.push(s.clone());
                }
            }
        }
    }
}

/// What a reader takes an absent field for: the schema's `default`, else the type's.
fn read_as(path: &str, field: Option<&Value>) -> String {
    if let Some((_, r)) = READ_AS.iter().find(|(p, _)| *p == path) {
        return r.to_string();
    }
    let Some(field) = field else {
        return "its default".into();
    };
    if let Some(d) = field.get("default") {
        return d.to_string();
    }
    let types: Vec<&str> = match field.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let nullable = types.contains(&"null")
        || field
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|s| s.get("type") == Some(&json!("null"))));
    if nullable {
        return "null".into();
    }
    match types.first().copied() {
        Some("boolean") => "false".into(),
        Some("integer" | "number") => "0".into(),
        Some("string") => "\"\"".into(),
        Some("array") => "[]".into(),
        _ => "its default".into(),
    }
}

/// The gaps as one sentence each, for a report of `version`: what an older version lacks is read as
/// its default; in this version's report a lacking field is an error (the caller's).
pub fn sentences(version: u32, g: &Gaps) -> Vec<String> {
    let mut out = Vec::new();
    for a in &g.absent {
        let times = if a.count > 1 {
            format!(" ({}x)", a.count)
        } else {
            String::new()
        };
        out.push(format!(
            "schema {version}: field `{}`{times} absent, read as {}",
            a.path, a.read_as
        ));
    }
    for (path, n) in &g.unknown {
        let times = if *n > 1 {
            format!(" ({n}x)")
        } else {
            String::new()
        };
        out.push(format!(
            "schema {version}: field `{path}`{times} is not in schema {SCHEMA_VERSION}; left out"
        ));
    }
    out
}

/// Why a report of this build's schema version is refused: the first required field it lacks,
/// naming any key beside it the schema does not know (a renamed key).
pub fn refusal(g: &Gaps) -> Option<String> {
    let a = g.absent.first()?;
    let beside = if a.beside.is_empty() {
        String::new()
    } else {
        format!(
            " (beside it: {}, which schema {SCHEMA_VERSION} does not have: a renamed key?)",
            a.beside
                .iter()
                .map(|b| format!("`{b}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let more = match g.absent.len() {
        1 => String::new(),
        n => format!("; {} more required field(s) absent", n - 1),
    };
    Some(format!(
        "schema {SCHEMA_VERSION} requires field `{}`, which is absent{beside}{more}",
        a.path
    ))
}

/// Parses a report: a report of this build's schema version must have every required field; an
/// older one loads with each field it lacks read as its default, said in [`Loaded::differences`].
pub fn load(text: &str) -> Result<Loaded, String> {
    let raw: Value =
        serde_json::from_str(text).map_err(|e| format!("not a sipcheck JSON report: {e}"))?;
    let version = raw
        .get("schema_version")
        .and_then(Value::as_u64)
        .ok_or("not a sipcheck JSON report: no schema_version")?;
    let g = gaps(&raw);
    let had_summary = raw.get("summary").is_some();
    if version >= u64::from(SCHEMA_VERSION)
        && let Some(why) = refusal(&g)
    {
        return Err(format!("not a sipcheck JSON report: {why}"));
    }
    let mut report: Report = serde_json::from_value(raw)
        .map_err(|e| format!("not a sipcheck JSON report: {e}"))?;
    if !had_summary {
        report.summarize();
    }
    let version = u32::try_from(version).unwrap_or(u32::MAX);
    let differences = if version < SCHEMA_VERSION {
        sentences(version, &g)
    } else {
        sentences(version, &Gaps {
            absent: Vec::new(),
            unknown: g.unknown,
        })
    };
    Ok(Loaded {
        report,
        differences,
    })
}

/// A report as read, with how its shape differs from this build's schema.
#[derive(Debug)]
pub struct Loaded {
    pub report: Report,
    /// One sentence per difference.
    pub differences: Vec<String>,
}
