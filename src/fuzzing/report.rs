//! Properties of escaping and rendering peer text: the escapers alone, and the HTML report of a real
//! report (Kamailio's or baresip's, as `fuzz_capture` wrote them) with the fuzz input spliced into
//! every string a report can hold.

use std::sync::OnceLock;

use serde_json::Value;

use crate::report::escape::{html, md, md_fenced};
use crate::report::{Report, View, html as html_report};

/// Reports real probes wrote, the bases the input is spliced into.
const BASES: [&str; 2] = [
    include_str!("../../fuzz/corpus/report_json/kamailio-report.json"),
    include_str!("../../fuzz/corpus/report_json/baresip-report.json"),
];

/// Keys whose strings are typed (enums, addresses): a peer's text cannot reach them.
const TYPED: &[&str] = &["transport", "address", "status", "severity"];

/// The tags and attributes the HTML renderer writes; anything else came from peer text.
const TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "table", "tr", "th",
    "td", "span", "pre", "code", "b", "ul", "li", "details", "summary", "div", "a",
];
const ATTRS: &[&str] = &[
    "charset",
    "class",
    "content",
    "href",
    "http-equiv",
    "id",
    "lang",
    "name",
    "title",
];
const ENTITIES: &[&str] = &["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"];

fn bases() -> &'static [Value; 2] {
    static B: OnceLock<[Value; 2]> = OnceLock::new();
    B.get_or_init(|| BASES.map(|t| serde_json::from_str(t).expect("a base report")))
}

/// Every untyped string leaf of `v` replaced by the next piece, in turn; returns the bytes put in.
fn splice(v: &mut Value, key: Option<&str>, pieces: &[String], next: &mut usize) -> usize {
    match v {
        Value::String(s) if !key.is_some_and(|k| TYPED.contains(&k)) => {
            let p = &pieces[*next % pieces.len()];
            *next += 1;
            *s = p.clone();
            p.len()
        }
        Value::Array(a) => a.iter_mut().map(|x| splice(x, key, pieces, next)).sum(),
        Value::Object(o) => o
            .iter_mut()
            .map(|(k, x)| splice(x, Some(k), pieces, next))
            .sum(),
        _ => 0,
    }
}

/// Markdown escape, HTML escape and code fences on the input's text, then the HTML report of a real
/// report carrying that text in every string: no markup, entity or fence comes from peer text, and
/// output grows at most linearly.
pub fn report_render(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_escapes(&text);
    let pieces: Vec<String> = data
        .split(|b| *b == 0xff)
        .take(64)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    let base = &bases()[usize::from(data.first().is_some_and(|b| b & 1 == 1))];
    let (out, inserted) = render_with(base, &pieces);
    let tags = skeleton(&out);
    let (empty, _) = render_with(base, &[String::new()]);
    // A string appears a few times (answer sheet, groups, appendix), each escaped at most 6-fold.
    assert!(
        out.len() <= empty.len() + 48 * inserted + 4096,
        "{} bytes of HTML from {inserted} bytes of text (empty: {})",
        out.len(),
        empty.len()
    );
    // The same text without HTML specials gives the same tags: peer text never shapes the markup.
    const PLAIN: [(char, char); 5] = [
        ('<', '\u{2039}'),
        ('>', '\u{203a}'),
        ('&', '\u{214b}'),
        ('"', '\u{201d}'),
        ('\'', '\u{2019}'),
    ];
    if !text.contains(PLAIN.map(|(_, p)| p)) {
        let plain: Vec<String> = pieces
            .iter()
            .map(|p| {
                p.chars()
                    .map(|c| PLAIN.iter().find(|(h, _)| *h == c).map_or(c, |(_, p)| *p))
                    .collect()
            })
            .collect();
        let (out_plain, _) = render_with(base, &plain);
        assert_eq!(
            tags,
            skeleton(&out_plain),
            "HTML specials in peer text changed the markup"
        );
    }
}

fn render_with(base: &Value, pieces: &[String]) -> (String, usize) {
    let mut v = base.clone();
    let inserted = splice(&mut v, None, pieces, &mut 0);
    let r: Report = serde_json::from_value(v).expect("a report with any text in its strings");
    (html_report::render(&View::of(&r)), inserted)
}

fn check_escapes(s: &str) {
    let h = html(s);
    assert!(
        h.len() <= 6 * s.len(),
        "html escape grew {} to {}",
        s.len(),
        h.len()
    );
    assert!(!h.contains(['<', '>', '"', '\'']), "{h:?}");
    check_entities(&h);
    assert!(!h.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));

    let m = md(s);
    assert!(
        m.len() <= 5 * s.len(),
        "md escape grew {} to {}",
        s.len(),
        m.len()
    );
    check_md(&m);

    let f = md_fenced(s, "json");
    check_fenced(&f, s);
}

/// Every `&` starts one of the entities the escaper writes, so no other entity decodes.
fn check_entities(h: &str) {
    for (i, _) in h.match_indices('&') {
        assert!(
            ENTITIES.iter().any(|e| h[i..].starts_with(e)),
            "a raw & at {i}: {h:?}"
        );
    }
}

/// Markdown escape output is inline text only: on one line, no control character, HTML specials as
/// entities, every markdown punctuation character backslash-escaped (an `_` may stay only between
/// ASCII letters and digits, where it emphasises nothing in CommonMark or pandoc).
fn check_md(m: &str) {
    assert!(!m.contains(['\n', '\r', '<', '>']), "{m:?}");
    assert!(!m.chars().any(char::is_control), "{m:?}");
    check_entities(m);
    let chars: Vec<char> = m.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let next = chars.get(i + 1).copied();
                assert!(
                    next.is_some_and(|n| "\\`*_[]|~^$#@".contains(n)),
                    "a lone backslash escapes {next:?}: {m:?}"
                );
                i += 2;
                continue;
            }
            '_' => {
                let ascii = |j: Option<usize>| {
                    j.and_then(|j| chars.get(j))
                        .is_some_and(char::is_ascii_alphanumeric)
                };
                assert!(
                    ascii(i.checked_sub(1)) && ascii(Some(i + 1)),
                    "an unescaped _ can emphasise: {m:?}"
                );
            }
            '`' | '*' | '[' | ']' | '|' | '~' | '^' | '$' | '#' | '@' => {
                panic!("unescaped {c:?}: {m:?}")
            }
            _ => {}
        }
        i += 1;
    }
}

/// A fenced block opens with its fence, holds the text, and no line of the text (CommonMark ends
/// lines at LF, CRLF and a lone CR) can close it.
fn check_fenced(f: &str, text: &str) {
    let fence_len = f.chars().take_while(|c| *c == '`').count();
    assert!(fence_len >= 3);
    let fence = "`".repeat(fence_len);
    let body = f
        .strip_prefix(&format!("{fence}json\n"))
        .and_then(|r| r.strip_suffix(&format!("\n{fence}")))
        .expect("fence, text, fence");
    assert_eq!(body, text.trim_end());
    for line in body.split(['\n', '\r']) {
        let l = line.trim_start_matches(' ');
        let indent = line.len() - l.len();
        let ticks = l.chars().take_while(|c| *c == '`').count();
        assert!(
            indent > 3 || ticks < fence_len || !l[ticks..].trim_matches([' ', '\t']).is_empty(),
            "the line {line:?} closes the fence"
        );
    }
}

/// Tag and attribute names in order; panics on any `<`, `>` or `&` that is not ours.
fn skeleton(out: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut rest = out;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        assert!(!text.contains('>'), "a raw > in text: {text:?}");
        check_entities(text);
        let gt = rest[lt..].find('>').expect("a tag is closed") + lt;
        let tag = &rest[lt + 1..gt];
        tags.push(check_tag(tag));
        rest = &rest[gt + 1..];
        if tag == "style" {
            // Our own stylesheet (its selectors use `>`).
            let end = rest.find("</style>").expect("the style element ends");
            rest = &rest[end..];
        }
    }
    assert!(!rest.contains('>'));
    check_entities(rest);
    tags
}

fn check_tag(tag: &str) -> String {
    if tag == "!DOCTYPE html" {
        return tag.to_string();
    }
    let body = tag.strip_prefix('/').unwrap_or(tag);
    let (name, mut attrs) = body.split_once(' ').unwrap_or((body, ""));
    assert!(
        TAGS.contains(&name),
        "a tag the renderer does not write: <{tag}>"
    );
    let mut out = format!("{}{name}", if body.len() < tag.len() { "/" } else { "" });
    while !attrs.is_empty() {
        let (attr, after) = attrs.split_once("=\"").expect("attr=\"value\"");
        assert!(
            ATTRS.contains(&attr),
            "an attribute the renderer does not write: <{tag}>"
        );
        let (value, after) = after.split_once('"').expect("a closed value");
        assert!(!value.contains('<'), "<{tag}>");
        check_entities(value);
        out.push(' ');
        out.push_str(attr);
        attrs = after.strip_prefix(' ').unwrap_or(after);
    }
    out
}
