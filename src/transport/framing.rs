//! Cutting a byte stream into SIP messages by `Content-Length` (RFC 3261 §18.3), within hard bounds.

use crate::sip::parse::{Head, Limits, ParseError, read_head};

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
#[cfg(feature = "internals")]
pub fn next_frame(buf: &[u8], limits: &Limits) -> Frame {
    match length(limits, read_head(buf, limits)) {
        Ok(len) if buf.len() >= len => Frame::Message(len),
        Ok(_) => Frame::Need,
        Err(f) => f,
    }
}

/// The length of the message at the front of `buf`, from its head as [`read_head`] read it, or
/// the frame to return when there is none yet.
fn length(limits: &Limits, head: Result<Head, ParseError>) -> Result<usize, Frame> {
    let head = match head {
        Ok(head) => head,
        Err(ParseError::Incomplete) => return Err(Frame::Need),
        Err(ParseError::TooLarge(max)) => return Err(too_large(max)),
        Err(ParseError::BadContentLength(v)) => {
            return Err(Frame::Invalid(format!("unusable Content-Length {v:?}")));
        }
        Err(e) => return Err(Frame::Invalid(e.to_string())),
    };
    let cl = head.content_length.unwrap_or(0);
    let len = head.end.saturating_add(cl);
    if len > limits.max_message {
        return Err(Frame::Invalid(format!(
            "message of {len} bytes (Content-Length {cl}) exceeds the {}-byte limit",
            limits.max_message
        )));
    }
    Ok(len)
}

fn too_large(max: usize) -> Frame {
    Frame::Invalid(format!("no end of headers within {max} bytes"))
}

/// [`next_frame`] for a buffer that grows between calls, as a stream's does: it remembers how far
/// the head was searched for its blank line and, once the head is read, how long the message is,
/// so each byte is looked at a bounded number of times and a peer sending one byte per segment
/// costs linear time, not quadratic. It answers exactly what [`next_frame`] answers on the same
/// bytes. After [`Frame::Message`]`(n)` the caller removes those `n` bytes from the front before
/// the next call; after [`Frame::Invalid`] the stream is done.
#[derive(Debug, Clone)]
pub struct Framer {
    limits: Limits,
    state: State,
}

#[derive(Debug, Clone, Default)]
enum State {
    /// Searching for the head's end: the leading keep-alive CRLFs counted so far (while nothing
    /// else has arrived), where the current line starts, and how far the search got.
    #[default]
    Start,
    Head {
        line_start: usize,
        scanned: usize,
    },
    /// The head is read: the message is this long.
    Body(usize),
}

impl Framer {
    pub fn new(limits: Limits) -> Framer {
        Framer {
            limits,
            state: State::Start,
        }
    }

    /// What the buffer holds so far (see [`next_frame`]).
    pub fn next(&mut self, buf: &[u8]) -> Frame {
        let max = self.limits.max_message;
        if let State::Start = self.state {
            // Leading CRLFs are keep-alives; the head's first line starts after them.
            let skip = buf
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            if skip == buf.len() {
                return if buf.len() > max {
                    too_large(max)
                } else {
                    Frame::Need
                };
            }
            self.state = State::Head {
                line_start: skip,
                scanned: skip,
            };
        }
        if let State::Head {
            line_start,
            scanned,
        } = &mut self.state
        {
            // The same line-by-line search as `read_head`, resumed where it stopped, within the
            // same window.
            let window = buf.len().min(max);
            let mut found = false;
            while *scanned < window {
                let i = *scanned;
                *scanned += 1;
                if buf[i] == b'\n' {
                    if matches!(&buf[*line_start..i], b"" | b"\r") {
                        found = true;
                        break;
                    }
                    *line_start = i + 1;
                }
            }
            if !found {
                return if buf.len() > max {
                    too_large(max)
                } else {
                    Frame::Need
                };
            }
            match length(&self.limits, read_head(buf, &self.limits)) {
                Ok(len) => self.state = State::Body(len),
                Err(f) => return f,
            }
        }
        match self.state {
            State::Body(len) if buf.len() >= len => {
                self.state = State::Start;
                Frame::Message(len)
            }
            _ => Frame::Need,
        }
    }
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
