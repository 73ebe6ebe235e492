//! REFER inside an answered call (RFC 3515) and the implicit subscription it creates: the far end's
//! NOTIFYs (`Event: refer`, `message/sipfrag` bodies, RFC 3420) report how the transfer it attempts
//! goes. A REFER may carry `Replaces` in its Refer-To (RFC 3891) for an attended transfer.
//!
//! Every NOTIFY is answered 200 as it arrives (in [`CallLeg::recv_any`]); the wait for a final status is
//! bounded by a deadline and by a count of messages.

use std::time::Duration;

use tokio::time::Instant;

pub use crate::findings::call::{Notify, ReferOutcome};

use super::CallLeg;
use crate::sip::Message;
use crate::sip::digest::{Challenge, DigestClient};
use crate::transport::TxError;

/// At most this many NOTIFYs are recorded; a far end that sends more only keeps being answered.
const MAX_NOTIFIES: usize = 16;
/// At most this many messages are read while waiting for the transfer's outcome.
const MAX_MESSAGES: usize = 200;

fn notify_of(m: &Message, after: Duration) -> Notify {
    let body = String::from_utf8_lossy(&m.body);
    let first = body.lines().next().unwrap_or_default().trim();
    let status = first
        .strip_prefix("SIP/2.0 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|c| (100..700).contains(c));
    Notify {
        after_ms: after.as_millis() as u64,
        event: m.header("Event").map(str::to_string),
        subscription_state: m.header("Subscription-State").map(str::to_string),
        content_type: m.header("Content-Type").map(str::to_string),
        sipfrag: status.map(|_| first.chars().take(120).collect()),
        status,
    }
}

fn product(m: &Message) -> Option<String> {
    m.header("Server")
        .or_else(|| m.header("User-Agent"))
        .map(|s| s.chars().take(120).collect())
}

impl CallLeg {
    /// Sends REFER with `refer_to` (a URI, `<>` added) and `Referred-By: referred_by` inside the answered
    /// call, answers one challenge with `auth`, then follows the NOTIFYs until a final sipfrag status,
    /// the end of the subscription, the far end hanging up and going quiet, or `follow` has passed.
    pub async fn refer(
        &mut self,
        refer_to: &str,
        referred_by: &str,
        mut auth: Option<&mut DigestClient>,
        follow: Duration,
    ) -> ReferOutcome {
        let mut out = ReferOutcome {
            refer_to: refer_to.to_string(),
            ..ReferOutcome::default()
        };
        let start = Instant::now();
        let before = self.peer_requests().len();
        let mut notifies_seen = self.notify_count();
        let mut authorization: Option<(&'static str, String)> = None;
        let mut answer = None;
        for _ in 0..2 {
            let Some(mut r) = self.dialog_request("REFER") else {
                out.error = Some("no dialog to send REFER in".into());
                return out;
            };
            r = r
                .header("Refer-To", format!("<{refer_to}>"))
                .header("Referred-By", referred_by.to_string());
            if let Some((n, v)) = &authorization {
                r = r.header(n, v.clone());
            }
            let resp = match self.transaction(&r).await {
                Ok(m) => m,
                Err(e) => {
                    out.error = Some(e);
                    break;
                }
            };
            let code = resp.status().unwrap_or(0);
            if (code == 401 || code == 407) && authorization.is_none() {
                let uri = r.uri.clone();
                let a = auth.as_deref_mut().and_then(|c| {
                    let chs = Challenge::all_in(&resp);
                    c.answer(Challenge::pick(&chs)?, "REFER", &uri)
                });
                if let Some(a) = a {
                    out.authenticated = true;
                    authorization = Some((a.header_name, a.header_value));
                    continue;
                }
            }
            answer = Some(resp);
            break;
        }
        if let Some(m) = &answer {
            out.code = m.status();
            out.response = Some(m.first_line());
            out.answered_by = product(m);
        }
        let accepted = out.code.is_some_and(|c| (200..300).contains(&c));
        let ended_already = self
            .notifies_since(notifies_seen)
            .iter()
            .any(|m| notify_of(m, Duration::ZERO).terminated());
        if accepted && !ended_already {
            self.subscription_opened();
        }
        // A refused REFER creates no subscription; an accepted one is followed to its end.
        let until = start + if accepted { follow } else { Duration::ZERO };
        let mut quiet_after_bye: Option<Instant> = None;
        for _ in 0..MAX_MESSAGES {
            self.collect_notifies(&mut out, &mut notifies_seen, start);
            let done = out.final_notify().is_some() || out.notifies.iter().any(Notify::terminated);
            if done || Instant::now() >= until {
                break;
            }
            // Once the far end hung up, a NOTIFY may still be on its way; wait a little for it.
            if self.ended_by_peer() && quiet_after_bye.is_none() {
                quiet_after_bye = Some(Instant::now() + Duration::from_secs(2));
            }
            let wait = quiet_after_bye.map_or(until, |q| q.min(until));
            if Instant::now() >= wait {
                break;
            }
            match self.recv_any(wait, true).await {
                Ok(_) | Err(TxError::Timeout) => {}
                Err(e) => {
                    out.error.get_or_insert(e.to_string());
                    break;
                }
            }
        }
        self.collect_notifies(&mut out, &mut notifies_seen, start);
        out.followed_ms = start.elapsed().as_millis() as u64;
        out.peer_hung_up = self.ended_by_peer();
        out.peer_requests = self.peer_requests()[before..].to_vec();
        out
    }

    fn collect_notifies(&mut self, out: &mut ReferOutcome, seen: &mut usize, start: Instant) {
        for m in self.notifies_since(*seen) {
            if out.notifies.len() < MAX_NOTIFIES {
                out.notifies.push(notify_of(&m, start.elapsed()));
            }
        }
        *seen = self.notify_count();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Limits;

    fn notify(state: &str, body: &str) -> Message {
        let raw = format!(
            "NOTIFY sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKn\r\nFrom: <sip:b@x>;tag=b\r\n\
             To: <sip:a@x>;tag=a\r\nCall-ID: c\r\nCSeq: 1 NOTIFY\r\nEvent: refer;id=2\r\n\
             Subscription-State: {state}\r\nContent-Type: message/sipfrag\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        Message::parse(raw.as_bytes(), &Limits::default()).unwrap()
    }

    #[test]
    fn sipfrag_status_and_subscription_end() {
        let n = notify_of(
            &notify("active;expires=60", "SIP/2.0 100 Trying\r\n"),
            Duration::ZERO,
        );
        assert_eq!(n.status, Some(100));
        assert_eq!(n.sipfrag.as_deref(), Some("SIP/2.0 100 Trying"));
        assert!(!n.terminated());
        let n = notify_of(
            &notify("terminated;reason=noresource", "SIP/2.0 486 Busy Here"),
            Duration::ZERO,
        );
        assert_eq!(n.status, Some(486));
        assert!(n.terminated());
        // Not a sipfrag: no status is made up.
        let n = notify_of(&notify("active", "hello"), Duration::ZERO);
        assert_eq!((n.status, n.sipfrag), (None, None));
        let n = notify_of(&notify("active", "SIP/2.0 999 Odd"), Duration::ZERO);
        assert_eq!(n.status, None);
    }
}

#[cfg(test)]
mod after_bye {
    use std::net::SocketAddr;
    use std::time::Duration;

    use tokio::net::UdpSocket;
    use tokio::time::Instant;

    use crate::call::{CallLeg, InviteOptions};
    use crate::probe::{Config, Context};
    use crate::sip::{Limits, Message};
    use crate::target::{Endpoint, Port, Target, Transport};

    fn reply(req: &Message, code: &str, extra: &str) -> String {
        let h = |n| req.header(n).unwrap_or_default().to_string();
        let to = if h("To").contains("tag=") {
            h("To")
        } else {
            format!("{};tag=far", h("To"))
        };
        format!(
            "SIP/2.0 {code}\r\nVia: {}\r\nFrom: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\n{extra}Content-Length: 0\r\n\r\n",
            h("Via"),
            h("From"),
            h("Call-ID"),
            h("CSeq")
        )
    }

    fn notify(invite: &Message, cseq: u32, state: &str, frag: &str) -> String {
        let h = |n| invite.header(n).unwrap_or_default().to_string();
        format!(
            "NOTIFY sip:sipcheck@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKn{cseq}\r\n\
             From: {};tag=far\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} NOTIFY\r\nEvent: refer\r\n\
             Subscription-State: {state}\r\nContent-Type: message/sipfrag\r\nContent-Length: {}\r\n\r\n{frag}",
            h("To"),
            h("From"),
            h("Call-ID"),
            frag.len()
        )
    }

    async fn recv(s: &UdpSocket, until: Instant) -> Option<(Message, SocketAddr)> {
        let mut buf = vec![0u8; 65536];
        let (n, from) = tokio::time::timeout_at(until, s.recv_from(&mut buf))
            .await
            .ok()?
            .ok()?;
        Some((Message::parse(&buf[..n], &Limits::default()).ok()?, from))
    }

    /// A far end that answers, accepts the REFER with a `100 Trying` NOTIFY, answers our BYE and only
    /// then sends the final NOTIFY, retransmitting it (RFC 3261 §17.1.2) until it gets a response.
    /// Returns the response it got, if any.
    async fn far_end(server: UdpSocket) -> Option<String> {
        let until = Instant::now() + Duration::from_secs(15);
        let (invite, peer) = recv(&server, until).await?;
        let ok = reply(&invite, "200 OK", "Contact: <sip:far@127.0.0.1>\r\n");
        server.send_to(ok.as_bytes(), peer).await.ok()?;
        loop {
            let (m, _) = recv(&server, until).await?;
            match m.method().unwrap_or_default() {
                "REFER" => {
                    let acc = reply(&m, "202 Accepted", "");
                    server.send_to(acc.as_bytes(), peer).await.ok()?;
                    let n = notify(&invite, 1, "active;expires=60", "SIP/2.0 100 Trying\r\n");
                    server.send_to(n.as_bytes(), peer).await.ok()?;
                }
                "BYE" => {
                    let ok = reply(&m, "200 OK", "");
                    server.send_to(ok.as_bytes(), peer).await.ok()?;
                    break;
                }
                _ => {}
            }
        }
        let last = notify(
            &invite,
            2,
            "terminated;reason=noresource",
            "SIP/2.0 404 Not Found\r\n",
        );
        let mut wait = Duration::from_millis(500);
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            server.send_to(last.as_bytes(), peer).await.ok()?;
            let until = Instant::now() + wait;
            while let Some((m, _)) = recv(&server, until).await {
                if m.cseq().is_some_and(|(n, meth)| n == 2 && meth == "NOTIFY") {
                    return Some(m.first_line());
                }
            }
            wait *= 2;
        }
        None
    }

    /// RFC 6665 §4.1.3/§4.2.2: a NOTIFY is answered whenever it comes, 200 or 481; the REFER's
    /// subscription can outlive our BYE, so its final NOTIFY is answered after the hang-up too.
    #[tokio::test]
    async fn a_final_notify_after_our_bye_is_answered() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = server.local_addr().unwrap().port();
        let peer = tokio::spawn(far_end(server));
        let ep = Endpoint::new(
            Transport::Udp,
            "127.0.0.1".parse().unwrap(),
            Port::new(port).unwrap(),
        );
        let target = Target::parse(&format!("127.0.0.1:{port}")).unwrap();
        let mut cfg = Config::default();
        cfg.timers.timeout = Duration::from_secs(2);
        let ctx = Context::new(target, vec![ep.clone()], cfg);
        let uri = format!("sip:far@127.0.0.1:{port}");
        let mut leg = CallLeg::open(&ctx, &ep, &uri).await.unwrap();
        let out = leg.invite("v=0\r\n", None, &InviteOptions::default()).await;
        assert_eq!(out.final_code(), Some(200), "{:?}", out.error);
        let r = leg
            .refer(
                "sip:carol@127.0.0.1",
                "<sip:a@x>",
                None,
                Duration::from_millis(600),
            )
            .await;
        assert_eq!(r.code, Some(202), "{r:?}");
        let t = leg.hangup().await;
        assert_eq!(t.bye_response, Some(200));
        leg.close().await;
        let got = peer.await.unwrap();
        assert!(
            got.as_deref()
                .is_some_and(|l| l.starts_with("SIP/2.0 200") || l.starts_with("SIP/2.0 481")),
            "the final NOTIFY was left unanswered: {got:?}"
        );
    }
}
