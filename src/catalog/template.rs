//! Filling a catalog message: line endings, `{placeholders}`, raw bytes and repetition.
//!
//! A case's message is written as readable text with `\n` line ends; they become CRLF because that is
//! what SIP uses (a bare LF or CR is written `{lf}` / `{cr}`). Placeholders are filled after that, so a
//! case can still say exactly which odd bytes it sends:
//!
//! | placeholder | becomes |
//! |---|---|
//! | `{target}` | host and port for the Request-URI (`127.0.0.1:5060`, `[::1]:5060`, `sip.example.com:5060`) |
//! | `{uri}` | `sip:{target}` (as the plain OPTIONS uses, on every transport) |
//! | `{host}` `{port}` `{ip}` | the host (bracketed IPv6), the port, the bare address |
//! | `{domain}` | the SIP domain (bracketed if an IPv6 literal) |
//! | `{local}` `{local_ip}` `{local_port}` | our socket (`ip:port`, bracketed IPv6), its address, its port |
//! | `{transport}` `{transport_lc}` `{scheme}` | `UDP`/`TCP`/`TLS`, lower case, `sip`/`sips` |
//! | `{branch}` `{branch2}` `{call_id}` `{tag}` `{tag2}` | fresh per case |
//! | `{user_agent}` | the run's User-Agent |
//! | `{content_length}` | the length of what follows the first blank line |
//! | `{crlf}` `{cr}` `{lf}` `{sp}` `{tab}` `{nul}` | those bytes |
//! | `{x:HH HH…}` | raw bytes in hex (e.g. `{x:c3 28}` for invalid UTF-8) |
//! | `{repeat:N:TEXT}` | TEXT, itself filled, N times; inside it `{i}` is the 0-based index |
//! | `{lbrace}` `{rbrace}` | `{` and `}` |

use std::fmt;

/// Upper bound of a filled message, so a catalog file cannot make us build gigabytes.
pub const MAX_FILLED: usize = 256 * 1024;
/// Upper bound of one `{repeat}`.
pub const MAX_REPEAT: usize = 100_000;
/// Upper bound of `{content_length}` placeholders in one message.
pub const MAX_CONTENT_LENGTHS: usize = 16;

/// The run-time values placeholders are filled with.
#[derive(Debug, Clone)]
pub struct Values {
    pub target: String,
    pub uri: String,
    pub host: String,
    pub port: String,
    pub ip: String,
    pub domain: String,
    pub local: String,
    pub local_ip: String,
    pub local_port: String,
    pub transport: String,
    pub scheme: String,
    pub branch: String,
    pub branch2: String,
    pub call_id: String,
    pub tag: String,
    pub tag2: String,
    pub user_agent: String,
}

impl Values {
    /// Plausible values, used to check a case at load time.
    pub fn example() -> Values {
        Values {
            target: "192.0.2.1:5060".into(),
            uri: "sip:192.0.2.1:5060".into(),
            host: "192.0.2.1".into(),
            port: "5060".into(),
            ip: "192.0.2.1".into(),
            domain: "192.0.2.1".into(),
            local: "192.0.2.2:40000".into(),
            local_ip: "192.0.2.2".into(),
            local_port: "40000".into(),
            transport: "UDP".into(),
            scheme: "sip".into(),
            branch: "z9hG4bK-sc-example1".into(),
            branch2: "z9hG4bK-sc-example2".into(),
            call_id: "example@sipcheck".into(),
            tag: "exampletag1".into(),
            tag2: "exampletag2".into(),
            user_agent: "sipcheck".into(),
        }
    }
}

/// Why a message could not be filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillError(pub String);

impl fmt::Display for FillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `\n` (and `\r\n`) line ends as CRLF; a lone `\r` is kept as written.
pub fn normalise_line_ends(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut prev = '\0';
    for c in text.chars() {
        if c == '\n' && prev != '\r' {
            out.push('\r');
        }
        out.push(c);
        prev = c;
    }
    out
}

/// Fills a message: line ends first, then placeholders, then `{content_length}`.
pub fn fill(text: &str, v: &Values) -> Result<Vec<u8>, FillError> {
    let text = normalise_line_ends(text);
    let mut out = Vec::with_capacity(text.len() + 64);
    let mut cl_at = Vec::new();
    expand(&text, v, None, &mut out, &mut cl_at, 0)?;
    if cl_at.is_empty() {
        return Ok(out);
    }
    let body_len = match crate::sip::parse::header_end(&out) {
        Some(end) => out.len() - end,
        None => 0,
    };
    let digits = body_len.to_string().into_bytes();
    // Insert from the back so earlier offsets stay valid.
    for at in cl_at.into_iter().rev() {
        out.splice(at..at, digits.iter().copied());
    }
    Ok(out)
}

fn expand(
    text: &str,
    v: &Values,
    index: Option<usize>,
    out: &mut Vec<u8>,
    cl_at: &mut Vec<usize>,
    depth: u8,
) -> Result<(), FillError> {
    if depth > 2 {
        return Err(FillError("{repeat} nested more than twice".into()));
    }
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.extend_from_slice(&rest.as_bytes()[..open]);
        let after = &rest[open + 1..];
        let close = matching_close(after)
            .ok_or_else(|| FillError(format!("unclosed '{{' near {:?}", snippet(after))))?;
        let inner = &after[..close];
        placeholder(inner, v, index, out, cl_at, depth)?;
        if out.len() > MAX_FILLED {
            return Err(FillError(format!(
                "filled message exceeds {MAX_FILLED} bytes"
            )));
        }
        rest = &after[close + 1..];
    }
    out.extend_from_slice(rest.as_bytes());
    Ok(())
}

/// The offset of the `}` closing a placeholder whose text starts at `s`, counting nested braces.
fn matching_close(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn snippet(s: &str) -> String {
    s.chars().take(30).collect()
}

fn placeholder(
    inner: &str,
    v: &Values,
    index: Option<usize>,
    out: &mut Vec<u8>,
    cl_at: &mut Vec<usize>,
    depth: u8,
) -> Result<(), FillError> {
    let simple: Option<&[u8]> = match inner {
        "target" => Some(v.target.as_bytes()),
        "uri" => Some(v.uri.as_bytes()),
        "host" => Some(v.host.as_bytes()),
        "port" => Some(v.port.as_bytes()),
        "ip" => Some(v.ip.as_bytes()),
        "domain" => Some(v.domain.as_bytes()),
        "local" => Some(v.local.as_bytes()),
        "local_ip" => Some(v.local_ip.as_bytes()),
        "local_port" => Some(v.local_port.as_bytes()),
        "transport" => Some(v.transport.as_bytes()),
        "scheme" => Some(v.scheme.as_bytes()),
        "branch" => Some(v.branch.as_bytes()),
        "branch2" => Some(v.branch2.as_bytes()),
        "call_id" => Some(v.call_id.as_bytes()),
        "tag" => Some(v.tag.as_bytes()),
        "tag2" => Some(v.tag2.as_bytes()),
        "user_agent" => Some(v.user_agent.as_bytes()),
        "crlf" => Some(b"\r\n"),
        "cr" => Some(b"\r"),
        "lf" => Some(b"\n"),
        "sp" => Some(b" "),
        "tab" => Some(b"\t"),
        "nul" => Some(b"\0"),
        "lbrace" => Some(b"{"),
        "rbrace" => Some(b"}"),
        _ => None,
    };
    if let Some(b) = simple {
        out.extend_from_slice(b);
        return Ok(());
    }
    match inner {
        "transport_lc" => {
            out.extend_from_slice(v.transport.to_ascii_lowercase().as_bytes());
            return Ok(());
        }
        "content_length" => {
            // Each one is a splice into the filled message: a repeated one would cost memory and time.
            if cl_at.len() >= MAX_CONTENT_LENGTHS {
                return Err(FillError(format!(
                    "more than {MAX_CONTENT_LENGTHS} {{content_length}} placeholders"
                )));
            }
            cl_at.push(out.len());
            return Ok(());
        }
        "i" => {
            let i = index.ok_or_else(|| FillError("{i} outside {repeat}".into()))?;
            out.extend_from_slice(i.to_string().as_bytes());
            return Ok(());
        }
        _ => {}
    }
    if let Some(hex) = inner.strip_prefix("x:") {
        for pair in hex.split_whitespace() {
            let b = u8::from_str_radix(pair, 16)
                .ok()
                .filter(|_| pair.len() == 2)
                .ok_or_else(|| FillError(format!("{{x:}} wants hex byte pairs, got {pair:?}")))?;
            out.push(b);
        }
        return Ok(());
    }
    if let Some(spec) = inner.strip_prefix("repeat:") {
        let (n, body) = spec
            .split_once(':')
            .ok_or_else(|| FillError("{repeat:N:TEXT} needs a count and a text".into()))?;
        let n: usize = n
            .trim()
            .parse()
            .ok()
            .filter(|n| *n <= MAX_REPEAT)
            .ok_or_else(|| {
                FillError(format!(
                    "{{repeat}} count {n:?} is not a number up to {MAX_REPEAT}"
                ))
            })?;
        for i in 0..n {
            let before = (out.len(), cl_at.len());
            expand(body, v, Some(i), out, cl_at, depth + 1)?;
            if out.len() > MAX_FILLED {
                return Err(FillError(format!(
                    "filled message exceeds {MAX_FILLED} bytes"
                )));
            }
            // A body that filled to nothing once fills to nothing every time (only a top-level `{i}`
            // depends on the index, and it writes digits): stop, or nested repeats of it spin for ages.
            if (out.len(), cl_at.len()) == before {
                break;
            }
        }
        return Ok(());
    }
    Err(FillError(format!(
        "unknown placeholder {{{}}}",
        snippet(inner)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Result<Vec<u8>, FillError> {
        fill(s, &Values::example())
    }

    #[test]
    fn fills_placeholders_and_line_ends() {
        let out = f("OPTIONS {uri} SIP/2.0\nVia: SIP/2.0/{transport} {local};branch={branch}\nContent-Length: {content_length}\n\nabc").unwrap();
        assert_eq!(
            out,
            b"OPTIONS sip:192.0.2.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2:40000;branch=z9hG4bK-sc-example1\r\nContent-Length: 3\r\n\r\nabc"
        );
    }

    #[test]
    fn raw_bytes_and_bare_line_ends() {
        assert_eq!(
            f("a{nul}b{x:c3 28}{lf}{cr}{crlf}").unwrap(),
            b"a\0b\xc3\x28\n\r\r\n"
        );
        assert_eq!(f("{lbrace}x{rbrace}").unwrap(), b"{x}");
        assert_eq!(f("a\r\nb\n").unwrap(), b"a\r\nb\r\n");
    }

    #[test]
    fn repeats_with_index_and_nesting() {
        assert_eq!(
            f("{repeat:3:X-{i}: {i}{crlf}}").unwrap(),
            b"X-0: 0\r\nX-1: 1\r\nX-2: 2\r\n"
        );
        assert_eq!(f("{repeat:2:{repeat:2:a}b}").unwrap(), b"aabaab");
        assert_eq!(f("{repeat:0:a}").unwrap(), b"");
        let big = f("X: {repeat:65536:a}").unwrap();
        assert_eq!(big.len(), 3 + 65536);
    }

    #[test]
    fn refuses_bad_templates() {
        for bad in [
            "{nope}",
            "{unclosed",
            "{x:zz}",
            "{x:abc}",
            "{i}",
            "{repeat:a:b}",
            "{repeat:200000:a}",
            "{repeat:100000:{repeat:100000:a}}",
            "{repeat:3}",
        ] {
            assert!(f(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_and_content_length_repeats_are_bounded() {
        // Before: 10^10 empty iterations (minutes of CPU), 10^10 `{content_length}` offsets (out of
        // memory), or 10^5 splices into a growing message.
        assert_eq!(f("{repeat:100000:{repeat:100000:}}").unwrap(), b"");
        assert_eq!(f("a{repeat:100000:{repeat:0:x}}b").unwrap(), b"ab");
        assert!(f("{repeat:100000:{repeat:100000:{content_length}}}").is_err());
        assert!(f("{repeat:17:{content_length}}").is_err());
        assert_eq!(
            f("l: {repeat:2:{content_length}}\n\nab").unwrap(),
            b"l: 22\r\n\r\nab"
        );
    }

    #[test]
    fn content_length_counts_the_body_after_filling() {
        let out = f("M\nl: {content_length}\n\n{x:00 01}{crlf}").unwrap();
        assert_eq!(out, b"M\r\nl: 4\r\n\r\n\x00\x01\r\n");
        // No blank line: nothing is body.
        assert_eq!(f("M\nl: {content_length}").unwrap(), b"M\r\nl: 0");
    }
}
