//! The shared rule for a 401/407 (or a blanket 403) answer to a probe's own request.
//!
//! A 401/407 says "this needs credentials", never "the feature is refused" and never "the request
//! was ignored": the server stopped before looking at what the request asked (RFC 3261 §22.1, and
//! §8.2.2.3's extension check comes after authentication). So with `--user` the challenge is answered
//! (the same request with the next CSeq and a fresh branch, §22.2; a `stale=true` re-challenge once
//! more with the new nonce) and the authenticated answer is judged; without credentials, or when they
//! were not accepted, the probe judges only what does not depend on that answer and says what it
//! could not measure ([`Authed::unjudged`]).
//!
//! A 403 to a request without credentials, from an endpoint whose plain OPTIONS also got 401/403/407,
//! is read the same way: such a trunk admits nobody it does not know (an address allow-list), so the
//! 403 says nothing about this request's content. A 403 from a trunk that answers a plain OPTIONS is
//! an answer to this request, and is judged.

use std::sync::Arc;

use super::Context;
use crate::findings::Evidence;
use crate::sip::digest::{Challenge, DigestClient};
use crate::sip::{Message, Request};
use crate::target::Endpoint;
use crate::transport::Exchange;

/// A request, and when it was challenged and credentials were given, its authenticated repeats.
#[derive(Debug, Clone)]
pub struct Authed {
    /// The request as first sent, without credentials.
    pub first: Arc<Exchange>,
    /// The same request answering the challenge (two when a `stale=true` re-challenge came back).
    pub retries: Vec<Exchange>,
    /// The user the challenge was answered as.
    pub user: Option<String>,
    unjudged: Option<String>,
}

impl Authed {
    /// The last exchange: the authenticated one when the challenge was answered.
    pub fn last(&self) -> &Exchange {
        self.retries.last().unwrap_or(&self.first)
    }

    /// The final response to judge, or `None` when there is no answer or [`unjudged`](Self::unjudged).
    pub fn answer(&self) -> Option<&Message> {
        match self.unjudged {
            Some(_) => None,
            None => self.last().final_response(),
        }
    }

    /// Why the answer cannot be judged (credentials needed, or not accepted, or nobody unknown is
    /// admitted), as a clause for a summary; `None` when the answer can be judged.
    pub fn unjudged(&self) -> Option<&str> {
        self.unjudged.as_deref()
    }

    /// Whether the answer judged is one to an authenticated request.
    pub fn authenticated(&self) -> bool {
        !self.retries.is_empty() && self.unjudged.is_none()
    }

    /// The rule applied to `first` without answering a challenge, for a request that may carry
    /// credentials only under an opt-in (`hint` names it). `blanket`: the endpoint's plain OPTIONS got
    /// 401/403/407, so a 403 is read as "not admitted" too.
    pub fn unanswered(req: &Request, first: Arc<Exchange>, blanket: bool, hint: &str) -> Authed {
        let m = first.final_response();
        let unjudged = match m.and_then(Message::status) {
            Some(401 | 407) => Some(format!(
                "needs credentials: the {} was challenged with {} ({hint})",
                req.method,
                line(m)
            )),
            Some(403) if blanket => Some(format!(
                "not admitted without credentials: the {} got {}, as a plain OPTIONS did",
                req.method,
                line(m)
            )),
            _ => None,
        };
        Authed {
            first,
            retries: Vec::new(),
            user: None,
            unjudged,
        }
    }

    /// Evidence for every exchange, first to last.
    pub fn evidence(&self, ctx: &Context) -> Vec<Evidence> {
        std::iter::once(&*self.first)
            .chain(&self.retries)
            .map(|e| ctx.evidence(e))
            .collect()
    }
}

/// "SIP/2.0 407 Proxy Authentication Required" or "no answer".
fn line(m: Option<&Message>) -> String {
    m.map(|m| m.first_line())
        .unwrap_or_else(|| "no answer".into())
}

fn is_challenge(m: Option<&Message>) -> bool {
    matches!(m.and_then(Message::status), Some(401 | 407))
}

/// Applies the rule to `first`, the exchange of `req` at `ep` without credentials.
pub(super) async fn authenticate(
    ctx: &Context,
    ep: &Endpoint,
    req: &Request,
    first: Arc<Exchange>,
) -> Authed {
    let mut out = Authed {
        first,
        retries: Vec::new(),
        user: None,
        unjudged: None,
    };
    let m = out.first.final_response();
    let code = m.and_then(Message::status);
    if code == Some(403) {
        let base = ctx.options(ep).await;
        let base_code = base.final_response().and_then(Message::status);
        if matches!(base_code, Some(401 | 403 | 407)) {
            out.unjudged = Some(if Arc::ptr_eq(&base, &out.first) {
                format!(
                    "not admitted without credentials: the OPTIONS got {} (no challenge to answer)",
                    line(m)
                )
            } else {
                format!(
                    "not admitted without credentials: the {} got {}, as a plain OPTIONS did ({}; no challenge to answer)",
                    req.method,
                    line(m),
                    line(base.final_response())
                )
            });
        }
        return out;
    }
    if !is_challenge(m) {
        return out;
    }
    let Some(creds) = ctx.config.calls.credentials.clone() else {
        out.unjudged = Some(format!(
            "needs credentials: the {} was challenged with {} (--user answers the challenge)",
            req.method,
            line(m)
        ));
        return out;
    };
    out.user = Some(creds.user.clone());
    let mut client = DigestClient::new(creds);
    let mut challenge = m.cloned();
    let mut cseq = req.cseq;
    // At most two answers: the challenge, and one `stale=true` re-challenge with a new nonce.
    for round in 0..2 {
        let Some(ch) = challenge.take() else { break };
        let chs = Challenge::all_in(&ch);
        let Some(a) = Challenge::pick(&chs).and_then(|c| client.answer(c, &req.method, &req.uri))
        else {
            out.unjudged = Some(format!(
                "needs credentials: the {} was challenged with {}, whose challenge sipcheck cannot answer (algorithm or qop unknown)",
                req.method,
                ch.first_line()
            ));
            return out;
        };
        cseq += 1;
        let mut again = req.clone().header(a.header_name, a.header_value);
        again.cseq = cseq;
        again.branch = crate::sip::request::new_branch();
        let ex = ctx.exchange(ep, &again).await;
        let m = ex.final_response().cloned();
        out.retries.push(ex);
        if !is_challenge(m.as_ref()) {
            return out;
        }
        let stale = Challenge::all_in(m.as_ref().expect("a challenge is a response"))
            .iter()
            .any(|c| c.stale);
        if round == 0 && stale {
            challenge = m;
            continue;
        }
        out.unjudged = Some(format!(
            "credentials not accepted: the {} with credentials for {} got {} again",
            req.method,
            out.user.as_deref().unwrap_or_default(),
            line(m.as_ref())
        ));
        return out;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Config;
    use crate::sip::Limits;
    use crate::target::{Port, Target, Transport};

    fn ex(resp: &str) -> Arc<Exchange> {
        let ep = endpoint();
        let mut e = Exchange::not_sent(&ep, std::time::Duration::ZERO, None);
        e.responses
            .push(Message::parse(resp.as_bytes(), &Limits::default()).unwrap());
        Arc::new(e)
    }

    fn endpoint() -> Endpoint {
        // Nothing listens on the discard port; no test here sends anything.
        Endpoint::new(
            Transport::Udp,
            "127.0.0.1".parse().unwrap(),
            Port::new(9).unwrap(),
        )
    }

    #[tokio::test]
    async fn a_challenge_without_credentials_is_not_judged() {
        let ctx = Context::new(
            Target::parse("127.0.0.1").unwrap(),
            vec![endpoint()],
            Config::default(),
        );
        let req = ctx.request("OPTIONS", "sip:127.0.0.1");
        let first = ex(
            "SIP/2.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\"\r\nContent-Length: 0\r\n\r\n",
        );
        let a = authenticate(&ctx, &endpoint(), &req, first).await;
        assert!(a.answer().is_none());
        let why = a.unjudged().unwrap();
        assert!(
            why.starts_with("needs credentials") && why.contains("407"),
            "{why}"
        );
        assert!(!a.authenticated());

        let ok = authenticate(&ctx, &endpoint(), &req, ex("SIP/2.0 200 OK\r\n\r\n")).await;
        assert_eq!(ok.answer().and_then(Message::status), Some(200));
        assert!(ok.unjudged().is_none());
    }
}
