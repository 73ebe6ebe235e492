//! Turning raw exchanges into report evidence: printable, bounded and with credentials removed.

use crate::findings::Evidence;
use crate::transport::Exchange;

/// Evidence text is cut to this many bytes per direction so a hostile peer cannot bloat the report.
pub const MAX_EVIDENCE_BYTES: usize = 8 * 1024;

/// Headers whose value is, or is computed from, a credential (`rspauth` is a digest over the password).
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "authentication-info",
];

/// Replaces the values of credential-bearing headers with `<redacted>`; works on any bytes. A folded
/// continuation of such a header (a line starting with SP or HT, RFC 3261 §7.3.1) carries the rest
/// of the credential (`response="…"`, offline-crackable), so each of those lines becomes
/// `<redacted>` too, keeping its indentation and line end.
pub fn redact(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut in_secret = false;
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        if in_secret && line.first().is_some_and(|b| matches!(b, b' ' | b'\t')) {
            let indent = line
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            out.extend_from_slice(&line[..indent]);
            out.extend_from_slice(b"<redacted>");
            out.extend_from_slice(line_end(line));
            continue;
        }
        in_secret = false;
        match secret_header_colon(line) {
            Some(i) => {
                in_secret = true;
                out.extend_from_slice(&line[..=i]);
                out.extend_from_slice(b" <redacted>");
                out.extend_from_slice(line_end(line));
            }
            None if is_crypto_line(line) => out.extend_from_slice(&mask_sdes_keys(line)),
            None => out.extend_from_slice(line),
        }
    }
    out
}

/// The offset of the colon of a credential-bearing header line, if `line` is one.
pub fn secret_header_colon(line: &[u8]) -> Option<usize> {
    let i = line.iter().position(|b| *b == b':')?;
    let name = String::from_utf8_lossy(&line[..i]);
    SECRET_HEADERS
        .contains(&name.trim().to_ascii_lowercase().as_str())
        .then_some(i)
}

/// Whether `line` is an SDP `a=crypto:` attribute as [`crate::sip::sdp::Sdp`] reads it: the
/// attribute name is matched without regard to case there, so it is here (`a=CRYPTO:` too).
pub fn is_crypto_line(line: &[u8]) -> bool {
    line.len() > 9
        && line.starts_with(b"a=")
        && line[2..8].eq_ignore_ascii_case(b"crypto")
        && line[8] == b':'
}

fn line_end(line: &[u8]) -> &'static [u8] {
    if line.ends_with(b"\r\n") {
        b"\r\n"
    } else if line.ends_with(b"\n") {
        b"\n"
    } else {
        b""
    }
}

/// SDES master keys (`a=crypto:… inline:KEY|…`, RFC 4568) are secrets too: each key character becomes
/// `*`, keeping the length so a captured SDP body still matches its Content-Length.
fn mask_sdes_keys(line: &[u8]) -> Vec<u8> {
    let mut out = line.to_vec();
    let mut i = 0;
    while let Some(pos) = out[i..].windows(7).position(|w| w == b"inline:") {
        let mut j = i + pos + 7;
        while j < out.len() && !matches!(out[j], b'|' | b' ' | b'\r' | b'\n' | b';') {
            out[j] = b'*';
            j += 1;
        }
        i = j;
    }
    out
}

/// Redacted, bounded, printable text: valid UTF-8 kept, other bytes as `\xNN`, NUL as `\x00`.
pub fn printable(bytes: &[u8]) -> String {
    let redacted = redact(bytes);
    let cut = &redacted[..redacted.len().min(MAX_EVIDENCE_BYTES)];
    let mut s = String::with_capacity(cut.len());
    for chunk in cut.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() && c != '\r' && c != '\n' && c != '\t' {
                s.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                s.push(c);
            }
        }
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    if redacted.len() > MAX_EVIDENCE_BYTES {
        s.push_str(&format!(
            "\n[… {} more bytes not kept]",
            redacted.len() - MAX_EVIDENCE_BYTES
        ));
    }
    s
}

/// The evidence record for one exchange.
pub fn from_exchange(ex: &Exchange) -> Evidence {
    Evidence {
        transport: ex.transport,
        remote: ex.remote.to_string(),
        local: ex.local.map(|l| l.to_string()),
        at_ms: ex.at.as_millis() as u64,
        rtt_ms: ex
            .rtt
            .map(|d| (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0),
        sent: printable(&ex.sent),
        received: printable(&ex.received_bytes()),
        note: {
            let failure = ex.error.as_ref().map(|e| {
                if ex.retransmissions > 0 {
                    format!("{e} (after {} retransmissions)", ex.retransmissions)
                } else {
                    e.to_string()
                }
            });
            let retry = ex
                .earlier_attempt
                .as_ref()
                .map(|e| format!("retried once after: {e}"));
            match (failure, retry) {
                (Some(f), Some(r)) => Some(format!("{f}; {r}")),
                (f, r) => f.or(r),
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials_and_escapes_binary() {
        let msg = b"REGISTER sip:x SIP/2.0\r\nAuthorization: Digest username=\"u\", response=\"abc\"\r\nproxy-authorization:Digest x\nX: \x00\xff\r\n\r\n";
        let p = printable(msg);
        assert!(p.contains("Authorization: <redacted>\r\n"), "{p}");
        assert!(p.contains("proxy-authorization: <redacted>\n"), "{p}");
        assert!(!p.contains("response="));
        assert!(p.contains("X: \\x00\\xff"));
    }

    #[test]
    fn masks_sdes_keys_keeping_length() {
        let line = b"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:GjeNAGlV6Fg/RY6KFeIrMZPGCG3ohesoBjxdlG39|2^31\r\nm=audio\r\n";
        let r = redact(line);
        assert_eq!(r.len(), line.len());
        let t = String::from_utf8(r).unwrap();
        assert!(t.starts_with("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:****************************************|2^31\r\n"), "{t}");
        assert!(!t.contains("GjeNAG"));
    }

    #[test]
    fn bounds_evidence() {
        let big = vec![b'a'; MAX_EVIDENCE_BYTES * 3];
        let p = printable(&big);
        assert!(p.len() < MAX_EVIDENCE_BYTES + 100);
        assert!(p.contains("more bytes not kept"));
    }
}
