//! Building SIP requests.
//!
//! The Via and Contact headers depend on the local address, which a TCP or TLS socket only knows once
//! connected, so a [`Request`] is rendered to bytes by the transport with [`Request::render`].

use std::net::SocketAddr;

use rand::Rng;

use crate::target::Transport;

/// The magic cookie of RFC 3261 §8.1.1.7 branches, plus our own marker.
const BRANCH_PREFIX: &str = "z9hG4bK-sc-";

/// The honest default User-Agent.
pub fn default_user_agent() -> String {
    format!("sipcheck/{}", env!("CARGO_PKG_VERSION"))
}

/// A random token of `n` lowercase alphanumerics.
pub fn token(n: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// A fresh RFC 3261 branch.
pub fn new_branch() -> String {
    format!("{BRANCH_PREFIX}{}", token(16))
}

/// A SIP request before it is bound to a socket.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub uri: String,
    pub branch: String,
    pub call_id: String,
    pub cseq: u32,
    pub from: String,
    pub from_tag: String,
    pub to: String,
    /// The user part of our Contact (the calling user on a call, `sipcheck` otherwise).
    pub contact_user: String,
    pub user_agent: String,
    pub max_forwards: u8,
    /// Extra headers, rendered after the standard ones in this order.
    pub headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Request {
    /// A request with fresh Call-ID, tag and branch. `domain` is the SIP domain used in From.
    pub fn new(method: &str, uri: &str, domain: &str) -> Request {
        Request::new_from(method, uri, domain, "sipcheck")
    }

    /// As [`new`](Self::new), from `user@domain` (From and Contact user), e.g. the account a call is
    /// authenticated as.
    pub fn new_from(method: &str, uri: &str, domain: &str, user: &str) -> Request {
        let domain = if domain.contains(':') && !domain.starts_with('[') {
            format!("[{domain}]")
        } else {
            domain.to_string()
        };
        Request {
            method: method.to_string(),
            uri: uri.to_string(),
            branch: new_branch(),
            call_id: format!("{}@sipcheck", token(20)),
            cseq: 1,
            from: format!("\"sipcheck\" <sip:{user}@{domain}>"),
            from_tag: token(10),
            to: format!("<{uri}>"),
            contact_user: user.to_string(),
            user_agent: default_user_agent(),
            max_forwards: 70,
            headers: Vec::new(),
            content_type: None,
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.content_type = Some(content_type.to_string());
        self.body = body.into();
        self
    }

    /// The bytes to send from `local` over `transport`.
    pub fn render(&self, transport: Transport, local: SocketAddr) -> Vec<u8> {
        use std::fmt::Write;
        let mut s = String::with_capacity(512 + self.body.len());
        let t = transport.via_token();
        let _ = write!(s, "{} {} SIP/2.0\r\n", self.method, self.uri);
        let _ = write!(
            s,
            "Via: SIP/2.0/{t} {local};branch={};rport\r\n",
            self.branch
        );
        let _ = write!(s, "Max-Forwards: {}\r\n", self.max_forwards);
        let _ = write!(s, "From: {};tag={}\r\n", self.from, self.from_tag);
        let _ = write!(s, "To: {}\r\n", self.to);
        let _ = write!(s, "Call-ID: {}\r\n", self.call_id);
        let _ = write!(s, "CSeq: {} {}\r\n", self.cseq, self.method);
        let scheme = if transport == Transport::Tls {
            "sips"
        } else {
            "sip"
        };
        let _ = write!(
            s,
            "Contact: <{scheme}:{}@{local};transport={}>\r\n",
            self.contact_user,
            transport.as_str()
        );
        if !self.user_agent.is_empty() {
            let _ = write!(s, "User-Agent: {}\r\n", self.user_agent);
        }
        for (n, v) in &self.headers {
            let _ = write!(s, "{n}: {v}\r\n");
        }
        if let Some(ct) = &self.content_type {
            let _ = write!(s, "Content-Type: {ct}\r\n");
        }
        let _ = write!(s, "Content-Length: {}\r\n\r\n", self.body.len());
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse::{Limits, Message};

    #[test]
    fn renders_a_parseable_options() {
        let r =
            Request::new("OPTIONS", "sip:[::1]:5060", "::1").header("Accept", "application/sdp");
        let bytes = r.render(Transport::Udp, "[::1]:40000".parse().unwrap());
        let m = Message::parse(&bytes, &Limits::default()).unwrap();
        assert_eq!(m.method(), Some("OPTIONS"));
        assert_eq!(m.top_via_branch(), Some(r.branch.clone()));
        assert!(r.branch.starts_with("z9hG4bK"));
        assert_eq!(
            m.header("Via").unwrap(),
            format!("SIP/2.0/UDP [::1]:40000;branch={};rport", r.branch)
        );
        assert_eq!(m.header("User-Agent").unwrap(), default_user_agent());
        assert_eq!(
            m.header("From").unwrap(),
            format!("\"sipcheck\" <sip:sipcheck@[::1]>;tag={}", r.from_tag)
        );
        assert_eq!(m.content_length().unwrap(), Some(0));
    }
}
