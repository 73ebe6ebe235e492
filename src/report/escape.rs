//! Escaping what a trunk wrote (Server, reason phrases, Allow, Supported, DNS names) before it goes
//! into a markdown or HTML report, so a hostile peer's bytes render as text and never as markup.

/// Text for HTML element content and attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Text for inline markdown outside code, on one line and safe in a table cell: HTML specials become
/// entities, markdown punctuation (emphasis, links, code spans, pipes, pandoc's math and sub/superscript)
/// is backslash-escaped, line breaks become spaces so no block can start.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        // An underscore inside a word (TLS13_AES_128) emphasises nothing in CommonMark or pandoc.
        // ASCII only: a letter-like symbol (Ⓐ, category So) is punctuation to CommonMark, so in
        // `Ⓐ_x_Ⓐ` the underscores emphasise.
        let inside_word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(char::is_ascii_alphanumeric)
        };
        match c {
            '_' if inside_word(i.checked_sub(1)) && inside_word(Some(i + 1)) => out.push(c),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '^' | '$' | '#' | '@' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A markdown code block whose fence is longer than any backtick run inside, so a peer's bytes cannot
/// close it.
pub fn md_fenced(text: &str, lang: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{lang}\n{}\n{fence}", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_stays_text() {
        let hostile =
            "INVITE, <script>alert(3)</script>, </td></tr></table> | `x` *b* [l](javascript:1)";
        let h = html(hostile);
        assert!(!h.contains('<') && !h.contains('>'), "{h}");
        let m = md(hostile);
        assert!(!m.contains('<') && !m.contains('>'), "{m}");
        assert!(
            !m.contains(" |") && m.contains("\\|") && m.contains("\\`x\\`"),
            "{m}"
        );
        assert_eq!(md("a\nb\\c"), "a b\\\\c");
        assert_eq!(md("TLS13_AES _x_"), "TLS13_AES \\_x\\_");
    }

    #[test]
    fn fences_outgrow_backticks() {
        let f = md_fenced("a ```` b", "");
        assert!(f.starts_with("`````\n") && f.ends_with("\n`````"), "{f}");
        assert_eq!(md_fenced("x", "json"), "```json\nx\n```");
    }
}
