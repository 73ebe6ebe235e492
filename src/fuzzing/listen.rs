//! Properties of the listener's answer to an inbound request (`sipcheck listen`).

use crate::listen::uas::{Transactions, one_line, response};
use crate::sip::{Limits, Message};

/// Inbound requests: every answer is one well-formed response echoing the request's dialog headers
/// on single lines, bounded by the request, and a retransmission gets the same final answer.
pub fn listen_request(data: &[u8]) {
    let limits = Limits::default();
    let Ok(m) = Message::parse(data, &limits) else {
        return;
    };
    if m.method().is_none() {
        return;
    }
    let final_code = [486u16, 603, 480, 200][data.len() % 4];
    let mut tx = Transactions::default();
    let first = tx.answer(&m, final_code);
    assert_eq!(first.responses.len(), first.codes.len());
    assert!(!first.retransmission);
    let wide = Limits {
        max_message: 8 * limits.max_message,
        max_headers: 4 * limits.max_headers,
        max_line: limits.max_line,
    };
    for (bytes, code) in first.responses.iter().zip(&first.codes) {
        assert!(
            bytes.len() <= 3 * m.raw.len() + 1024,
            "answer larger than the request"
        );
        let r = Message::parse(bytes, &wide).expect("our answer parses");
        assert_eq!(r.status(), Some(*code));
        assert!(r.body.is_empty() && r.content_length() == Ok(Some(0)));
        assert_eq!(
            r.headers_named("Via").count(),
            m.headers_named("Via").count().min(32)
        );
        for name in ["Call-ID", "CSeq"] {
            let echoed = m.header(name).map(one_line);
            assert_eq!(
                r.header(name).map(str::to_string),
                echoed.map(|v| v.trim().to_string())
            );
        }
    }
    let again = tx.answer(&m, final_code);
    if !first.responses.is_empty() {
        assert!(again.retransmission);
        assert_eq!(
            again.responses.last(),
            first.responses.last(),
            "same final answer"
        );
    }
    let _ = response(&m, 500, Some("t"), &[]);
}
