//! Cutting a byte stream into SIP messages by `Content-Length` (RFC 3261 §18.3), within hard bounds.

use crate::sip::parse::{Limits, header_end};

/// What the buffer holds so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// Not enough bytes yet.
    Need,
    /// One whole message of this many bytes (including leading keep-alive CRLFs) is at the front.
    Message(usize),
    /// The stream can never yield a message within the limits; the reason says why.
    Invalid(String),
}

/// Looks for one complete message at the front of `buf`.
pub fn next_frame(buf: &[u8], limits: &Limits) -> Frame {
    let skip = buf
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    let rest = &buf[skip..];
    let Some(end) = header_end(rest) else {
        if rest.len() > limits.max_message {
            return Frame::Invalid(format!(
                "no end of headers within {} bytes",
                limits.max_message
            ));
        }
        return Frame::Need;
    };
    let head = &rest[..end];
    let cl = match content_length(head) {
        Ok(cl) => cl.unwrap_or(0),
        Err(v) => return Frame::Invalid(format!("unusable Content-Length {v:?}")),
    };
    if end.saturating_add(cl) > limits.max_message {
        return Frame::Invalid(format!(
            "message of {} bytes (Content-Length {cl}) exceeds the {}-byte limit",
            end.saturating_add(cl),
            limits.max_message
        ));
    }
    if rest.len() < end + cl {
        return Frame::Need;
    }
    Frame::Message(skip + end + cl)
}

fn content_length(head: &[u8]) -> Result<Option<usize>, String> {
    let text = String::from_utf8_lossy(head);
    for line in text.split('\n') {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l") {
            let v = value.trim();
            return v
                .parse::<usize>()
                .map(Some)
                .map_err(|_| v.chars().take(40).collect());
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_by_content_length() {
        let l = Limits::default();
        let m = b"\r\n\r\nSIP/2.0 200 OK\r\nl: 3\r\n\r\nabcSIP/2.0";
        assert_eq!(next_frame(m, &l), Frame::Message(m.len() - 7));
        assert_eq!(
            next_frame(b"SIP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nab", &l),
            Frame::Need
        );
        assert_eq!(next_frame(b"SIP/2.0 200 OK\r\n", &l), Frame::Need);
    }

    #[test]
    fn refuses_oversized_and_unbounded() {
        let l = Limits::default();
        let huge = b"SIP/2.0 200 OK\r\nContent-Length: 10000000\r\n\r\n";
        assert!(matches!(next_frame(huge, &l), Frame::Invalid(_)));
        let overflow = b"SIP/2.0 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n";
        assert!(matches!(next_frame(overflow, &l), Frame::Invalid(_)));
        let endless = vec![b'a'; 70_000];
        assert!(matches!(next_frame(&endless, &l), Frame::Invalid(_)));
        let neg = b"SIP/2.0 200 OK\r\nContent-Length: -4\r\n\r\n";
        assert!(matches!(next_frame(neg, &l), Frame::Invalid(_)));
    }
}
