//! The RFC 3329 agreement on a REGISTER, when credentials are given: the client offers its
//! `Security-Client` list, answers a Digest challenge once, and sends `Security-Verify` equal to the
//! server's `Security-Server` list (§2.3.1 steps 3-4). `Expires: 0` means the request can only remove a
//! binding (ours, if any), never create one.

use super::{SECURITY_CLIENT, mechanisms};
use crate::findings::Evidence;
use crate::findings::secagree::{Register, RegisterStep};
use crate::probe::Context;
use crate::sip::Message;
use crate::sip::digest::{Challenge, Credentials, DigestClient};
use crate::target::Endpoint;

/// At most this many REGISTERs: the offer, one with the digest answer and/or Security-Verify, and one
/// more when the server asks for the second after the first (494, then 401).
const MAX_REQUESTS: u32 = 3;

/// What the REGISTER agreement showed.
pub(super) struct Outcome {
    pub details: Register,
    pub evidence: Vec<Evidence>,
    /// One sentence for the finding's summary.
    pub summary: String,
}

/// The server's `Security-Server` list as one header value, as the client must echo it.
fn server_list(m: &Message) -> Option<String> {
    let parts: Vec<&str> = m
        .headers_named("Security-Server")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

pub(super) async fn register(ctx: &Context, ep: &Endpoint, creds: &Credentials) -> Outcome {
    let host = ctx.uri_host(ep);
    let uri = format!("sip:{host}");
    let aor = format!("<sip:{}@{host}>", creds.user);
    let mut auth = DigestClient::new(creds.clone());
    let mut base = ctx
        .request("REGISTER", &uri)
        .header("Expires", "0")
        .header("Require", "sec-agree")
        .header("Proxy-Require", "sec-agree")
        .header("Supported", "sec-agree")
        .header("Security-Client", SECURITY_CLIENT);
    base.to = aor.clone();
    base.from = aor;
    let mut verify: Option<String> = None;
    let mut authorization: Option<(&'static str, String)> = None;
    let mut digest_answered = false;
    let mut mechs = Vec::new();
    let mut trail: Vec<RegisterStep> = Vec::new();
    let mut evidence = Vec::new();
    let mut last: Option<u16> = None;
    let mut note: Option<&str> = None;
    for cseq in 1..=MAX_REQUESTS {
        let mut req = base.clone();
        // Same dialog identifiers, fresh branch, next CSeq: RFC 3261 §10.2.
        req.cseq = cseq;
        req.branch = crate::sip::request::new_branch();
        if let Some(v) = &verify {
            req = req.header("Security-Verify", v.clone());
        }
        if let Some((n, v)) = &authorization {
            req = req.header(n, v.clone());
        }
        let ex = ctx.exchange(ep, &req).await;
        evidence.push(ctx.evidence(&ex));
        let m = ex.final_response();
        let code = m.and_then(|m| m.status());
        last = code;
        trail.push(RegisterStep {
            response: code,
            security_verify: verify.is_some(),
            digest: authorization.is_some(),
        });
        let Some(m) = m else {
            note = Some("no final answer");
            break;
        };
        let list = server_list(m);
        if list.is_some() && mechs.is_empty() {
            mechs = mechanisms(m);
        }
        let mut progressed = false;
        if verify.is_none()
            && let Some(l) = list
            && matches!(code, Some(401 | 407 | 494))
        {
            verify = Some(l);
            progressed = true;
        }
        if matches!(code, Some(401 | 407)) && !digest_answered {
            digest_answered = true;
            let chs = Challenge::all_in(m);
            match Challenge::pick(&chs).and_then(|ch| auth.answer(ch, "REGISTER", &uri)) {
                Some(a) => {
                    authorization = Some((a.header_name, a.header_value));
                    progressed = true;
                }
                None => note = Some("the challenge could not be answered"),
            }
        }
        if !progressed {
            break;
        }
    }
    let accepted = last.is_some_and(|c| (200..300).contains(&c));
    let codes = trail
        .iter()
        .map(|t| match t.response {
            Some(c) => c.to_string(),
            None => "none".into(),
        })
        .collect::<Vec<_>>()
        .join(" → ");
    let summary = match (accepted, &verify, authorization.is_some()) {
        (true, Some(_), true) => format!(
            "REGISTER as {}: agreement completed ({codes}) with digest and a Security-Verify echoing the server's list",
            creds.user
        ),
        (true, Some(_), false) => format!(
            "REGISTER as {}: agreement completed ({codes}) with a Security-Verify echoing the server's list, without digest",
            creds.user
        ),
        (true, None, _) => format!(
            "REGISTER as {}: accepted ({codes}) without any Security-Server list: Require: sec-agree was ignored",
            creds.user
        ),
        (false, _, _) => format!(
            "REGISTER as {}: not accepted ({codes}{})",
            creds.user,
            note.map(|n| format!("; {n}")).unwrap_or_default()
        ),
    };
    Outcome {
        details: Register {
            user: creds.user.clone(),
            expires: 0,
            responses: trail,
            security_server: mechs,
            completed: accepted && verify.is_some(),
            security_verify: verify,
            digest_answered: authorization.is_some(),
            final_code: last,
            accepted,
        },
        evidence,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Limits;

    #[test]
    fn security_verify_echoes_every_security_server_header_in_order() {
        let m = Message::parse(
            b"SIP/2.0 401 Unauthorized\r\nSecurity-Server: tls;q=0.2\r\nSecurity-Server:  ipsec-3gpp;q=0.1;alg=hmac-sha-1-96 \r\nContent-Length: 0\r\n\r\n",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(
            server_list(&m).as_deref(),
            Some("tls;q=0.2, ipsec-3gpp;q=0.1;alg=hmac-sha-1-96")
        );
        let none = Message::parse(
            b"SIP/2.0 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(server_list(&none), None);
    }
}
