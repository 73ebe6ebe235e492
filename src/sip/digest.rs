//! HTTP Digest authentication as SIP uses it (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760): parsing
//! `WWW-Authenticate` / `Proxy-Authenticate` challenges and answering them with MD5, SHA-256 or
//! SHA-512-256, `qop=auth`, and a nonce count per nonce.
//!
//! The password lives only inside [`Credentials`], whose `Debug` never shows it, so it cannot reach a
//! log line, the report or the evidence by accident.

use std::collections::HashMap;
use std::fmt;

use md5::{Digest as _, Md5};

/// A Digest hash algorithm (the `-sess` variants are a flag on [`Challenge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Algorithm {
    #[serde(rename = "MD5")]
    Md5,
    #[serde(rename = "SHA-256")]
    Sha256,
    #[serde(rename = "SHA-512-256")]
    Sha512_256,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha512_256 => "SHA-512-256",
        }
    }

    /// Parses an `algorithm=` value; `None` for algorithms we cannot compute. Returns `(alg, sess)`.
    pub fn parse(s: &str) -> Option<(Algorithm, bool)> {
        let s = s.trim().to_ascii_uppercase();
        let (base, sess) = match s.strip_suffix("-SESS") {
            Some(b) => (b.to_string(), true),
            None => (s, false),
        };
        let alg = match base.as_str() {
            "MD5" => Algorithm::Md5,
            "SHA-256" => Algorithm::Sha256,
            "SHA-512-256" => Algorithm::Sha512_256,
            _ => return None,
        };
        Some((alg, sess))
    }

    /// Lower-case hex of the hash of `data`.
    pub fn hex(self, data: &[u8]) -> String {
        let bytes: Vec<u8> = match self {
            Algorithm::Md5 => Md5::digest(data).to_vec(),
            Algorithm::Sha256 => ring::digest::digest(&ring::digest::SHA256, data)
                .as_ref()
                .to_vec(),
            Algorithm::Sha512_256 => ring::digest::digest(&ring::digest::SHA512_256, data)
                .as_ref()
                .to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A user name and password. `Debug` and `Display` never show the password.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    password: String,
}

impl Credentials {
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The secret, for code that must make sure it never printed it (tests, redaction).
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Credentials {{ user: {:?}, password: <redacted> }}",
            self.user
        )
    }
}

/// One parsed challenge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Challenge {
    /// True for `Proxy-Authenticate` (answer with `Proxy-Authorization`).
    pub proxy: bool,
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    /// The algorithm as the server wrote it (`MD5` when absent, RFC 2617 §3.2.1).
    pub algorithm_name: String,
    /// `None` when we do not know the algorithm.
    pub algorithm: Option<Algorithm>,
    pub sess: bool,
    /// The qop options offered (`auth`, `auth-int`); empty for an RFC 2069 challenge.
    pub qop: Vec<String>,
    pub stale: bool,
}

/// Splits `a=b, c="d, e"` into pairs, honouring quotes and backslash escapes. Bounded by the input.
fn auth_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.trim().is_empty() && chars.peek().is_none() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            }
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        if chars.peek().is_none() {
            return out;
        }
    }
}

impl Challenge {
    /// Parses one header value; `None` unless it is a Digest challenge with a realm and a nonce.
    pub fn parse(value: &str, proxy: bool) -> Option<Challenge> {
        let value = value.trim();
        // CR, LF and NUL are not allowed in auth-params (RFC 3261 §25.1): a realm or nonce with one
        // would be copied into our Authorization header and split it.
        if value.contains(['\r', '\n', '\0']) {
            return None;
        }
        let (scheme, rest) = value.split_at(value.find(char::is_whitespace)?);
        if !scheme.eq_ignore_ascii_case("Digest") {
            return None;
        }
        let params = auth_params(rest);
        let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let algorithm_name = get("algorithm").unwrap_or_else(|| "MD5".to_string());
        let parsed = Algorithm::parse(&algorithm_name);
        Some(Challenge {
            proxy,
            realm: get("realm")?,
            nonce: get("nonce")?,
            opaque: get("opaque"),
            algorithm: parsed.map(|(a, _)| a),
            sess: parsed.is_some_and(|(_, s)| s),
            algorithm_name,
            qop: get("qop")
                .map(|q| {
                    q.split(',')
                        .map(|t| t.trim().to_ascii_lowercase())
                        .filter(|t| !t.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// Every Digest challenge in a 401 or 407 response, in order.
    pub fn all_in(m: &crate::sip::Message) -> Vec<Challenge> {
        let www = m
            .headers_named("WWW-Authenticate")
            .filter_map(|v| Challenge::parse(v, false));
        let proxy = m
            .headers_named("Proxy-Authenticate")
            .filter_map(|v| Challenge::parse(v, true));
        www.chain(proxy).collect()
    }

    /// The challenge to answer: the strongest algorithm we can compute (RFC 8760 §2.4: a server lists
    /// its preferred first, but a client uses the first one it supports; we rank by strength so an
    /// MD5 listed first cannot downgrade us).
    pub fn pick(challenges: &[Challenge]) -> Option<&Challenge> {
        challenges
            .iter()
            .filter(|c| c.algorithm.is_some())
            .max_by_key(|c| c.algorithm)
    }
}

/// Answers challenges, counting nonce uses so a reused nonce gets `nc=00000002`.
#[derive(Debug, Clone)]
pub struct DigestClient {
    creds: Credentials,
    nonce_counts: HashMap<String, u32>,
}

/// The parts of an answer, for tests and for logging without the response hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `Authorization` or `Proxy-Authorization`.
    pub header_name: &'static str,
    pub header_value: String,
    pub algorithm: Algorithm,
    pub qop: Option<String>,
    pub nc: u32,
}

impl DigestClient {
    pub fn new(creds: Credentials) -> DigestClient {
        DigestClient {
            creds,
            nonce_counts: HashMap::new(),
        }
    }

    /// The header to add to `method uri` to answer `ch`; `None` if its algorithm is unknown or it
    /// only offers `auth-int` (we do not hash bodies).
    pub fn answer(&mut self, ch: &Challenge, method: &str, uri: &str) -> Option<Answer> {
        let cnonce = crate::sip::request::token(24);
        self.answer_with_cnonce(ch, method, uri, &cnonce)
    }

    /// As [`answer`](Self::answer) with a given client nonce (for RFC test vectors).
    pub fn answer_with_cnonce(
        &mut self,
        ch: &Challenge,
        method: &str,
        uri: &str,
        cnonce: &str,
    ) -> Option<Answer> {
        let alg = ch.algorithm?;
        let qop = if ch.qop.is_empty() {
            None
        } else if ch.qop.iter().any(|q| q == "auth") {
            Some("auth".to_string())
        } else {
            return None;
        };
        let nc = {
            let n = self.nonce_counts.entry(ch.nonce.clone()).or_insert(0);
            *n = n.saturating_add(1);
            *n
        };
        let nc_hex = format!("{nc:08x}");
        let mut ha1 =
            alg.hex(format!("{}:{}:{}", self.creds.user, ch.realm, self.creds.password).as_bytes());
        if ch.sess {
            ha1 = alg.hex(format!("{ha1}:{}:{cnonce}", ch.nonce).as_bytes());
        }
        let ha2 = alg.hex(format!("{method}:{uri}").as_bytes());
        let response = match &qop {
            Some(q) => {
                alg.hex(format!("{ha1}:{}:{nc_hex}:{cnonce}:{q}:{ha2}", ch.nonce).as_bytes())
            }
            None => alg.hex(format!("{ha1}:{}:{ha2}", ch.nonce).as_bytes()),
        };
        let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let mut v = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm={}",
            q(&self.creds.user),
            q(&ch.realm),
            q(&ch.nonce),
            q(uri),
            ch.algorithm_name
        );
        if let Some(qv) = &qop {
            v.push_str(&format!(
                ", qop={qv}, nc={nc_hex}, cnonce=\"{}\"",
                q(cnonce)
            ));
        }
        if let Some(o) = &ch.opaque {
            v.push_str(&format!(", opaque=\"{}\"", q(o)));
        }
        Some(Answer {
            header_name: if ch.proxy {
                "Proxy-Authorization"
            } else {
                "Authorization"
            },
            header_value: v,
            algorithm: alg,
            qop,
            nc,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response_of(a: &Answer) -> String {
        auth_params(a.header_value.trim_start_matches("Digest "))
            .into_iter()
            .find(|(k, _)| k == "response")
            .unwrap()
            .1
    }

    #[test]
    fn rfc2617_md5_vector() {
        let ch = Challenge::parse(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
            false,
        )
        .unwrap();
        assert_eq!(ch.algorithm, Some(Algorithm::Md5));
        assert_eq!(ch.qop, ["auth", "auth-int"]);
        let mut c = DigestClient::new(Credentials::new("Mufasa", "Circle Of Life"));
        let a = c
            .answer_with_cnonce(&ch, "GET", "/dir/index.html", "0a4f113b")
            .unwrap();
        assert_eq!(response_of(&a), "6629fae49393a05397450978507c4ef1");
        assert_eq!(a.header_name, "Authorization");
        assert!(a.header_value.contains("nc=00000001"));
        assert!(
            a.header_value
                .contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"")
        );
    }

    const RFC7616_CH: &str = r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=ALG, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
    const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    #[test]
    fn rfc7616_md5_and_sha256_vectors() {
        for (alg, want) in [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            (
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let ch = Challenge::parse(&RFC7616_CH.replace("ALG", alg), true).unwrap();
            let mut c = DigestClient::new(Credentials::new("Mufasa", "Circle of Life"));
            let a = c
                .answer_with_cnonce(&ch, "GET", "/dir/index.html", RFC7616_CNONCE)
                .unwrap();
            assert_eq!(response_of(&a), want, "{alg}");
            assert_eq!(a.header_name, "Proxy-Authorization");
        }
    }

    #[test]
    fn rfc7616_sha512_256_vector() {
        // The inputs of RFC 7616 §3.9.2 (A1 uses the plain user name even with userhash). The response
        // printed there (ae66e6…) does not follow from those inputs; this one is what OpenSSL's
        // SHA-512/256 gives (checked with Python's hashlib), and the FIPS 180-4 "abc" vector pins the hash.
        let ch = Challenge::parse(
            r#"Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true"#,
            false,
        )
        .unwrap();
        assert_eq!(ch.algorithm, Some(Algorithm::Sha512_256));
        let mut c = DigestClient::new(Credentials::new("J\u{e4}s\u{f8}n Doe", "Secret, or not?"));
        let a = c
            .answer_with_cnonce(
                &ch,
                "GET",
                "/doe.json",
                "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
            )
            .unwrap();
        assert_eq!(
            response_of(&a),
            "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"
        );
        assert_eq!(
            Algorithm::Sha512_256.hex(b"abc"),
            "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
        );
    }

    #[test]
    fn counts_nonce_uses_and_picks_the_strongest() {
        let md5 = Challenge::parse(r#"Digest realm="r", nonce="n1", qop="auth""#, false).unwrap();
        let sha = Challenge::parse(
            r#"Digest realm="r", nonce="n1", qop="auth", algorithm=SHA-256"#,
            false,
        )
        .unwrap();
        let odd =
            Challenge::parse(r#"Digest realm="r", nonce="n1", algorithm=SHA3"#, false).unwrap();
        assert_eq!(odd.algorithm, None);
        let all = [md5.clone(), odd, sha.clone()];
        assert_eq!(Challenge::pick(&all), Some(&sha));
        let mut c = DigestClient::new(Credentials::new("u", "p"));
        assert_eq!(c.answer(&md5, "INVITE", "sip:x").unwrap().nc, 1);
        let second = c.answer(&sha, "INVITE", "sip:x").unwrap();
        assert_eq!(second.nc, 2);
        assert!(second.header_value.contains("nc=00000002"));
    }

    #[test]
    fn rfc2069_challenge_has_no_qop_and_auth_int_only_is_refused() {
        let ch = Challenge::parse(r#"Digest realm="r", nonce="n""#, false).unwrap();
        let mut c = DigestClient::new(Credentials::new("u", "p"));
        let a = c.answer(&ch, "INVITE", "sip:x").unwrap();
        assert_eq!(a.qop, None);
        assert!(!a.header_value.contains("nc="));
        let int =
            Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-int""#, false).unwrap();
        assert!(c.answer(&int, "INVITE", "sip:x").is_none());
    }

    #[test]
    fn hostile_headers_do_not_panic_and_password_is_not_debuggable() {
        for v in [
            "",
            "Digest",
            "Digest ",
            "Digest realm=\"unterminated",
            "Digest ,,,,=,=\"\\",
            "Basic realm=\"x\"",
            "Digest realm=x, nonce",
        ] {
            let _ = Challenge::parse(v, false);
        }
        let c = Credentials::new("alice", "s3cr3t-pw");
        assert!(!format!("{c:?}").contains("s3cr3t"));
        assert!(!format!("{:?}", DigestClient::new(c)).contains("s3cr3t"));
    }
}
