//! A tolerant, bounded SIP message parser.
//!
//! Peers are hostile until proven otherwise: every size is bounded, nothing panics, and the raw bytes are
//! kept so a finding can quote exactly what the trunk said. Header names are normalised to their long
//! form (RFC 3261 §7.3.3 compact forms) and folded lines are unfolded (§7.3.1).

use std::fmt;

/// Bounds applied to every message read from a peer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_message: usize,
    pub max_headers: usize,
    pub max_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: 64 * 1024,
            max_headers: 256,
            max_line: 8 * 1024,
        }
    }
}

/// Why a message could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Headers not terminated by an empty line (yet).
    Incomplete,
    TooLarge(usize),
    TooManyHeaders,
    LineTooLong,
    BadStartLine(String),
    BadHeader(String),
    BadContentLength(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Incomplete => f.write_str("message incomplete (no end of headers)"),
            ParseError::TooLarge(n) => write!(f, "message larger than the {n}-byte limit"),
            ParseError::TooManyHeaders => f.write_str("too many header lines"),
            ParseError::LineTooLong => f.write_str("header line longer than the limit"),
            ParseError::BadStartLine(l) => write!(f, "bad start line {l:?}"),
            ParseError::BadHeader(l) => write!(f, "bad header line {l:?}"),
            ParseError::BadContentLength(v) => write!(f, "bad Content-Length {v:?}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// The first line of a SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request {
        method: String,
        uri: String,
        version: String,
    },
    Response {
        version: String,
        code: u16,
        reason: String,
    },
}

/// A parsed SIP message with its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub start: StartLine,
    /// `(long-form name, value)` in order of appearance, folded lines joined.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The bytes the message was parsed from.
    pub raw: Vec<u8>,
}

const COMPACT: &[(&str, &str)] = &[
    ("a", "Accept-Contact"),
    ("b", "Referred-By"),
    ("c", "Content-Type"),
    ("d", "Request-Disposition"),
    ("e", "Content-Encoding"),
    ("f", "From"),
    ("i", "Call-ID"),
    ("j", "Reject-Contact"),
    ("k", "Supported"),
    ("l", "Content-Length"),
    ("m", "Contact"),
    ("o", "Event"),
    ("r", "Refer-To"),
    ("s", "Subject"),
    ("t", "To"),
    ("u", "Allow-Events"),
    ("v", "Via"),
    ("x", "Session-Expires"),
    ("y", "Identity"),
];

/// The long form of a header name (`v` → `Via`); other names are returned as given.
pub fn canonical_name(name: &str) -> &str {
    if name.len() == 1 {
        for (c, long) in COMPACT {
            if name.eq_ignore_ascii_case(c) {
                return long;
            }
        }
    }
    name
}

/// The byte offset just past the first empty line (CRLF or bare LF) ending the headers, leading
/// keep-alive CRLFs included, if present.
pub fn header_end(buf: &[u8]) -> Option<usize> {
    let skip = keep_alives(buf);
    blank_line_end(buf, skip, buf.len())
}

/// Leading CRLFs are keep-alives (RFC 5626), not part of the message that follows.
fn keep_alives(buf: &[u8]) -> usize {
    buf.iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count()
}

/// The offset past the first empty line found in `buf[from..to]`. Line by line, so the first blank
/// line wins whatever its line ends: a later CRLF CRLF never hides an earlier LF LF, which is what
/// makes the answer the same however much of the stream has arrived.
fn blank_line_end(buf: &[u8], from: usize, to: usize) -> Option<usize> {
    let mut line_start = from;
    for (i, b) in buf.get(from..to)?.iter().enumerate() {
        if *b == b'\n' {
            let at = from + i;
            if matches!(&buf[line_start..at], b"" | b"\r") {
                return Some(at + 1);
            }
            line_start = at + 1;
        }
    }
    None
}

/// A message head as both the datagram parser and the stream framer read it: one routine, so where a
/// stream message ends is always where the parser says its headers end plus its `Content-Length`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Offset just past the blank line, keep-alive CRLFs included.
    pub end: usize,
    pub start: StartLine,
    /// `(long-form name, value)` in order of appearance, folded lines joined.
    pub headers: Vec<(String, String)>,
    /// The first `Content-Length` (compact `l` included), `None` when absent.
    pub content_length: Option<usize>,
}

/// Reads the head at the front of `buf` (which may hold more: a body, further stream messages).
/// `Incomplete` when the blank line has not arrived yet and may still arrive within
/// `limits.max_message` bytes; `TooLarge` when it cannot.
pub fn read_head(buf: &[u8], limits: &Limits) -> Result<Head, ParseError> {
    let skip = keep_alives(buf);
    // A head ending past max_message is refused however it ends, so no need to look further.
    let window = buf.len().min(limits.max_message);
    let Some(end) = blank_line_end(buf, skip, window) else {
        return Err(if buf.len() > limits.max_message {
            ParseError::TooLarge(limits.max_message)
        } else {
            ParseError::Incomplete
        });
    };
    let head = String::from_utf8_lossy(&buf[skip..end]);
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    if first.len() > limits.max_line {
        return Err(ParseError::LineTooLong);
    }
    let start = parse_start_line(first)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.len() > limits.max_line {
            return Err(ParseError::LineTooLong);
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            match headers.last_mut() {
                Some((_, v)) => {
                    if v.len() + line.len() > limits.max_line {
                        return Err(ParseError::LineTooLong);
                    }
                    // Joined with one space, and only when there is something to join: a value
                    // folded onto an empty one, or a blank continuation, gains no stray space.
                    let more = line.trim();
                    if !more.is_empty() {
                        if !v.is_empty() {
                            v.push(' ');
                        }
                        v.push_str(more);
                    }
                }
                None => return Err(ParseError::BadHeader(truncate(line))),
            }
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| ParseError::BadHeader(truncate(line)))?;
        let name = name.trim();
        if name.is_empty() || name.bytes().any(|b| b <= b' ' || b >= 0x7f) {
            return Err(ParseError::BadHeader(truncate(line)));
        }
        if headers.len() >= limits.max_headers {
            return Err(ParseError::TooManyHeaders);
        }
        headers.push((canonical_name(name).to_string(), value.trim().to_string()));
    }
    let content_length = content_length_of(&headers)?;
    Ok(Head {
        end,
        start,
        headers,
        content_length,
    })
}

fn content_length_of(headers: &[(String, String)]) -> Result<Option<usize>, ParseError> {
    match headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
    {
        None => Ok(None),
        Some((_, v)) => v
            .trim()
            .parse::<usize>()
            .map(Some)
            .map_err(|_| ParseError::BadContentLength(truncate(v))),
    }
}

impl Message {
    /// Parses one complete datagram (or one framed stream message). The body is everything after the
    /// headers, cut to `Content-Length` when that is smaller.
    pub fn parse(buf: &[u8], limits: &Limits) -> Result<Message, ParseError> {
        if buf.len() > limits.max_message {
            return Err(ParseError::TooLarge(limits.max_message));
        }
        let head = read_head(buf, limits)?;
        let mut body = buf[head.end..].to_vec();
        if let Some(cl) = head.content_length {
            body.truncate(cl);
        }
        Ok(Message {
            start: head.start,
            headers: head.headers,
            raw: buf[..head.end + body.len()].to_vec(),
            body,
        })
    }

    /// The `Content-Length` value, `None` when absent; an unparseable or absurd value is an error.
    pub fn content_length(&self) -> Result<Option<usize>, ParseError> {
        content_length_of(&self.headers)
    }

    /// The first value of a header (case-insensitive, compact forms understood).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = canonical_name(name);
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let name = canonical_name(name);
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The comma-separated tokens of every instance of a list header (`Allow`, `Supported`).
    pub fn list_header(&self, name: &str) -> Vec<String> {
        self.headers_named(name)
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// The header line exactly as we understood it, for quoting in evidence (`Allow: INVITE, ACK`).
    pub fn quote_header(&self, name: &str) -> Option<String> {
        let canonical = canonical_name(name);
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(canonical))
            .map(|(n, v)| format!("{n}: {v}"))
    }

    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            _ => None,
        }
    }

    pub fn reason(&self) -> &str {
        match &self.start {
            StartLine::Response { reason, .. } => reason,
            _ => "",
        }
    }

    /// The `(number, method)` of the CSeq header.
    pub fn cseq(&self) -> Option<(u32, String)> {
        let v = self.header("CSeq")?;
        let mut it = v.split_whitespace();
        let n = it.next()?.parse().ok()?;
        let m = it.next()?.to_string();
        Some((n, m))
    }

    /// The `branch` parameter of the top Via.
    pub fn top_via_branch(&self) -> Option<String> {
        let via = self.header("Via")?;
        let first = via.split(',').next()?;
        param(first, "branch")
    }

    /// The first line of the message, for one-line summaries.
    pub fn first_line(&self) -> String {
        match &self.start {
            StartLine::Request {
                method,
                uri,
                version,
            } => format!("{method} {uri} {version}"),
            StartLine::Response {
                version,
                code,
                reason,
            } => format!("{version} {code} {reason}"),
        }
    }
}

/// A `;name=value` parameter of a header value (case-insensitive name), unquoted.
pub fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    let bad = || ParseError::BadStartLine(truncate(line));
    if let Some(rest) = line.strip_prefix("SIP/") {
        let mut it = rest.splitn(3, ' ');
        let ver = it.next().ok_or_else(bad)?;
        let code: u16 = it.next().and_then(|c| c.parse().ok()).ok_or_else(bad)?;
        if !(100..=699).contains(&code) {
            return Err(bad());
        }
        let reason = it.next().unwrap_or("").to_string();
        return Ok(StartLine::Response {
            version: format!("SIP/{ver}"),
            code,
            reason,
        });
    }
    let mut it = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (it.next(), it.next(), it.next(), it.next())
    else {
        return Err(bad());
    };
    if method.is_empty()
        || !method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
    {
        return Err(bad());
    }
    if !version.starts_with("SIP/") {
        return Err(bad());
    }
    Ok(StartLine::Request {
        method: method.to_string(),
        uri: uri.to_string(),
        version: version.to_string(),
    })
}

fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Message, ParseError> {
        Message::parse(s.as_bytes(), &Limits::default())
    }

    #[test]
    fn response_with_compact_and_folded_headers() {
        let m = parse(
            "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKabc;rport=5060\r\n\
             i: abc@x\r\nAllow: INVITE, ACK,\r\n  REFER, BYE\r\nk: replaces\r\nCSeq: 7 OPTIONS\r\nl: 4\r\n\r\nbodyEXTRA",
        )
        .unwrap();
        assert_eq!(m.status(), Some(200));
        assert_eq!(m.header("Call-ID"), Some("abc@x"));
        assert_eq!(m.top_via_branch().as_deref(), Some("z9hG4bKabc"));
        assert_eq!(
            m.list_header("Allow"),
            vec!["INVITE", "ACK", "REFER", "BYE"]
        );
        assert_eq!(m.list_header("Supported"), vec!["replaces"]);
        assert_eq!(m.cseq(), Some((7, "OPTIONS".into())));
        assert_eq!(m.body, b"body");
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for s in [
            "",
            "garbage\r\n\r\n",
            "SIP/2.0 abc OK\r\n\r\n",
            "SIP/2.0 99 Low\r\n\r\n",
            "SIP/2.0 200 OK\r\nNoColon\r\n\r\n",
            "SIP/2.0 200 OK\r\n folded-first\r\n\r\n",
            "SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\n",
            "SIP/2.0 200 OK\r\n",
        ] {
            assert!(parse(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn enforces_limits() {
        let many: String = (0..300).map(|i| format!("X-{i}: y\r\n")).collect();
        assert_eq!(
            parse(&format!("SIP/2.0 200 OK\r\n{many}\r\n")),
            Err(ParseError::TooManyHeaders)
        );
        let long = "a".repeat(9000);
        assert_eq!(
            parse(&format!("SIP/2.0 200 OK\r\nX: {long}\r\n\r\n")),
            Err(ParseError::LineTooLong)
        );
        let big = vec![b'a'; 70_000];
        assert!(matches!(
            Message::parse(&big, &Limits::default()),
            Err(ParseError::TooLarge(_))
        ));
    }

    #[test]
    fn parses_requests() {
        let m =
            parse("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n").unwrap();
        assert_eq!(m.method(), Some("OPTIONS"));
        assert!(parse("OPTIONS sip:a@b HTTP/1.1\r\n\r\n").is_err());
    }
}
