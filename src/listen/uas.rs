//! The UAS side of one inbound request: what to answer (RFC 3261 §8.2, §17.2), and the state that
//! keeps a retransmitted request from being recorded or answered differently twice.

use std::collections::{HashMap, VecDeque};

use crate::sip::Message;

/// Transactions remembered for retransmissions; the oldest are forgotten past this.
const MAX_REMEMBERED: usize = 1024;
pub const ALLOW: &str = "INVITE, ACK, CANCEL, OPTIONS";

/// The answers for one request, in the order to send them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub responses: Vec<Vec<u8>>,
    pub codes: Vec<u16>,
    /// A retransmission of a request already recorded.
    pub retransmission: bool,
}

/// The INVITEs and their answers so far: keyed by Call-ID, top Via branch and CSeq method.
#[derive(Default)]
pub struct Transactions {
    answered: HashMap<(String, String, String), Answer>,
    order: VecDeque<(String, String, String)>,
    calls: HashMap<String, String>,
    tags: u64,
}

fn key(m: &Message) -> (String, String, String) {
    (
        m.header("Call-ID").unwrap_or("").to_string(),
        m.top_via_branch().unwrap_or_default(),
        m.cseq().map(|c| c.1).unwrap_or_default(),
    )
}

impl Transactions {
    /// What to send for `m` (a request), with `final_code` as the answer to INVITE.
    pub fn answer(&mut self, m: &Message, final_code: u16) -> Answer {
        let method = m.method().unwrap_or("").to_ascii_uppercase();
        let k = key(m);
        if let Some(prev) = self.answered.get(&k) {
            let mut a = prev.clone();
            // A retransmitted INVITE gets the final answer again, not a second 100.
            if method == "INVITE" && a.responses.len() > 1 {
                a.responses.remove(0);
                a.codes.remove(0);
            }
            a.retransmission = true;
            return a;
        }
        let call_id = k.0.clone();
        let mut out = Answer {
            responses: Vec::new(),
            codes: Vec::new(),
            retransmission: false,
        };
        let mut push = |code: u16, tag: Option<&str>, extra: &[String]| {
            out.responses.push(response(m, code, tag, extra));
            out.codes.push(code);
        };
        match method.as_str() {
            "INVITE" => {
                self.tags += 1;
                let tag = format!("sc{:x}{}", self.tags, std::process::id());
                push(100, None, &[]);
                push(final_code, Some(&tag), &[]);
                if self.calls.len() < MAX_REMEMBERED {
                    self.calls.insert(call_id, tag);
                }
            }
            "ACK" => {}
            "OPTIONS" => push(
                200,
                Some("scopt"),
                &[format!("Allow: {ALLOW}"), "Accept: application/sdp".into()],
            ),
            "CANCEL" => match self.calls.get(&call_id) {
                // The INVITE was answered at once, so the CANCEL finds it completed (§9.2): 200 to the CANCEL.
                Some(tag) => {
                    let tag = tag.clone();
                    push(200, Some(&tag), &[])
                }
                None => push(481, Some("scx"), &[]),
            },
            "BYE" => push(481, Some("scx"), &[]),
            _ => push(405, Some("scx"), &[format!("Allow: {ALLOW}")]),
        }
        if method != "ACK" {
            if self.order.len() >= MAX_REMEMBERED
                && let Some(old) = self.order.pop_front()
            {
                self.answered.remove(&old);
            }
            self.order.push_back(k.clone());
            self.answered.insert(k, out.clone());
        }
        out
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        200 => "OK",
        405 => "Method Not Allowed",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        603 => "Decline",
        _ => "Refused",
    }
}

/// A response echoing the request's Via, From, To (with our tag), Call-ID and CSeq (§8.2.6.2).
pub fn response(m: &Message, code: u16, to_tag: Option<&str>, extra: &[String]) -> Vec<u8> {
    let mut s = format!("SIP/2.0 {code} {}\r\n", reason(code));
    for v in m.headers_named("Via").take(32) {
        s.push_str(&format!("Via: {}\r\n", one_line(v)));
    }
    for name in ["From", "Call-ID", "CSeq"] {
        if let Some(v) = m.header(name) {
            s.push_str(&format!("{name}: {}\r\n", one_line(v)));
        }
    }
    if let Some(to) = m.header("To") {
        let to = one_line(to);
        match to_tag {
            Some(t) if crate::sip::parse::param(&to, "tag").is_none() => {
                s.push_str(&format!("To: {to};tag={t}\r\n"))
            }
            _ => s.push_str(&format!("To: {to}\r\n")),
        }
    }
    for e in extra {
        s.push_str(e);
        s.push_str("\r\n");
    }
    s.push_str(&format!(
        "Server: sipcheck-listen/{}\r\nContent-Length: 0\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    ));
    s.into_bytes()
}

/// A header value as one line: an echoed value must not smuggle a CRLF into our answer.
pub(crate) fn one_line(v: &str) -> String {
    v.chars()
        .filter(|c| *c != '\r' && *c != '\n')
        .take(2048)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Limits;

    fn req(method: &str, branch: &str) -> Message {
        let raw = format!(
            "{method} sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch={branch}\r\nFrom: <sip:2@h>;tag=a\r\nTo: <sip:1@h>\r\nCall-ID: c1\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
        );
        Message::parse(raw.as_bytes(), &Limits::default()).unwrap()
    }

    #[test]
    fn invite_gets_trying_then_busy_and_retransmissions_the_same_final() {
        let mut t = Transactions::default();
        let a = t.answer(&req("INVITE", "z9hG4bK1"), 486);
        assert_eq!(a.codes, [100, 486]);
        let busy = String::from_utf8(a.responses[1].clone()).unwrap();
        assert!(busy.starts_with("SIP/2.0 486 Busy Here\r\n"), "{busy}");
        assert!(busy.contains("To: <sip:1@h>;tag=sc"), "{busy}");
        let again = t.answer(&req("INVITE", "z9hG4bK1"), 486);
        assert!(again.retransmission);
        assert_eq!(again.responses, vec![a.responses[1].clone()]);
        assert!(t.answer(&req("ACK", "z9hG4bK1"), 486).codes.is_empty());
        assert_eq!(t.answer(&req("CANCEL", "z9hG4bK1"), 486).codes, [200]);
        assert_eq!(t.answer(&req("OPTIONS", "z9hG4bK2"), 486).codes, [200]);
        assert_eq!(t.answer(&req("REGISTER", "z9hG4bK3"), 486).codes, [405]);
        assert_eq!(t.answer(&req("BYE", "z9hG4bK4"), 486).codes, [481]);
    }

    #[test]
    fn remembers_a_bounded_number_of_transactions() {
        let mut t = Transactions::default();
        for i in 0..(MAX_REMEMBERED + 10) {
            t.answer(&req("OPTIONS", &format!("z9hG4bK{i}")), 486);
        }
        assert!(t.answered.len() <= MAX_REMEMBERED);
    }
}
