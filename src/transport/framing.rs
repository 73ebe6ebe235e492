//! Cutting a byte stream into SIP messages by `Content-Length` (RFC 3261 §18.3), within hard bounds.

use crate::sip::parse::{Limits, ParseError, read_head};

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

/// Looks for one complete message at the front of `buf`. The head is read by the parser's own
/// [`read_head`], so a frame is exactly what [`crate::sip::Message::parse`] then accepts: the framer
/// cannot see a `Content-Length` the parser does not (a folded ` l: 5` is part of the header before
/// it), nor end a head elsewhere. A head the parser refuses leaves no trustworthy message boundary,
/// so the stream is invalid from there.
pub fn next_frame(buf: &[u8], limits: &Limits) -> Frame {
    let head = match read_head(buf, limits) {
        Ok(head) => head,
        Err(ParseError::Incomplete) => return Frame::Need,
        Err(ParseError::TooLarge(max)) => {
            return Frame::Invalid(format!("no end of headers within {max} bytes"));
        }
        Err(ParseError::BadContentLength(v)) => {
            return Frame::Invalid(format!("unusable Content-Length {v:?}"));
        }
        Err(e) => return Frame::Invalid(e.to_string()),
    };
    let cl = head.content_length.unwrap_or(0);
    let len = head.end.saturating_add(cl);
    if len > limits.max_message {
        return Frame::Invalid(format!(
            "message of {len} bytes (Content-Length {cl}) exceeds the {}-byte limit",
            limits.max_message
        ));
    }
    if buf.len() < len {
        return Frame::Need;
    }
    Frame::Message(len)
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
