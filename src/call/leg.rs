//! One outgoing call: the INVITE client transaction (RFC 3261 §17.1.1), digest retry (§22.2), and
//! cleanup in every case — CANCEL on a provisional we do not want to keep (§9), ACK on every final
//! response (ACK in the transaction for errors, a new ACK for 2xx, §13.2.2.4), BYE once a dialog exists.
//!
//! Responses relayed through a proxy can arrive out of order (a 180 after the 200); a provisional that
//! arrives once a final one is known changes nothing. Every wait is bounded.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use crate::evidence;
use crate::findings::Evidence;
use crate::probe::Context;
use crate::sip::digest::{Algorithm, Challenge, DigestClient};
use crate::sip::request::new_branch;
use crate::sip::{Message, Request};
use crate::target::{Endpoint, Transport};
use crate::transport::{Connection, Incoming, TxError};

/// How to run one INVITE.
#[derive(Debug, Clone)]
pub struct InviteOptions {
    /// CANCEL as soon as a provisional other than 100 arrives (the call must not be set up at all).
    pub cancel_on_ringing: bool,
    /// Longest wait for a final response once something answered; then CANCEL.
    pub ring_timeout: Duration,
    /// Exchange media on an answered call before hanging up (off: hang up at once).
    pub exchange_media: bool,
    /// A From value (name-addr, without tag) instead of the calling user's (loop calls' caller IDs).
    pub from: Option<String>,
    /// Extra INVITE headers (P-Asserted-Identity, Privacy).
    pub headers: Vec<(String, String)>,
}

impl Default for InviteOptions {
    fn default() -> Self {
        InviteOptions {
            cancel_on_ringing: false,
            ring_timeout: Duration::from_secs(5),
            exchange_media: true,
            from: None,
            headers: Vec::new(),
        }
    }
}

/// What one INVITE (with its authenticated retries) came to.
#[derive(Debug, Clone, Default)]
pub struct InviteOutcome {
    /// Provisional codes in arrival order (all transactions).
    pub provisional: Vec<u16>,
    /// The final response that ended the last INVITE transaction.
    pub final_response: Option<Message>,
    /// The first 401/407 received, and the challenges it carried.
    pub challenge: Option<Message>,
    pub challenges: Vec<Challenge>,
    /// The algorithm we answered a challenge with, if we did.
    pub answered_with: Option<Algorithm>,
    /// How many challenges were answered (a `stale=true` re-challenge or a second hop adds one).
    pub auth_rounds: u32,
    /// A challenge after our credentials said `stale=true`, and was answered with the new nonce.
    pub stale_retried: bool,
    /// Whether a CANCEL was sent, and why.
    pub cancelled: Option<String>,
    /// Why no final response was had, if so.
    pub error: Option<String>,
}

impl InviteOutcome {
    pub fn final_code(&self) -> Option<u16> {
        self.final_response.as_ref().and_then(Message::status)
    }

    /// The credentials were sent and the trunk challenged or forbade them anyway: the final response's
    /// first line, for a message that quotes it.
    pub fn credentials_refused(&self) -> Option<String> {
        let code = self.final_code()?;
        (self.answered_with.is_some() && matches!(code, 401 | 403 | 407)).then(|| {
            self.final_response
                .as_ref()
                .map(|m| m.first_line())
                .unwrap_or_default()
        })
    }

    /// The 2xx, when the call was answered.
    pub fn answer(&self) -> Option<&Message> {
        self.final_response
            .as_ref()
            .filter(|m| m.status().is_some_and(|c| (200..300).contains(&c)))
    }
}

/// How a call ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Teardown {
    /// A dialog existed (a 2xx was received and ACKed).
    pub established: bool,
    /// The final response to our BYE, if one was sent and answered.
    pub bye_response: Option<u16>,
    /// The far end hung up first (we answered its BYE).
    pub ended_by_peer: bool,
    pub note: Option<String>,
}

impl Teardown {
    /// As a finding reports it.
    pub fn details(&self) -> crate::findings::call::TeardownDetails {
        crate::findings::call::TeardownDetails {
            established: self.established,
            bye_response: self.bye_response,
            ended_by_peer: self.ended_by_peer,
            clean: self.clean(),
            note: self.note.clone(),
        }
    }

    /// No dialog is left up as far as we can tell.
    pub fn clean(&self) -> bool {
        !self.established
            || self.ended_by_peer
            || self
                .bye_response
                .is_some_and(|c| (200..300).contains(&c) || c == 481)
    }
}

/// At most this many messages sent are recorded as evidence: the far end provokes one per request it
/// sends inside our call (and per retransmitted final response), which must not grow the report.
const MAX_STEPS: usize = 64;
/// Longest a hang-up waits for the last NOTIFY of a REFER subscription still open.
pub const SUBSCRIPTION_LINGER: Duration = Duration::from_secs(4);
/// At most this many challenges are answered on one call (first, stale nonce, a second authenticating hop).
const MAX_AUTH_ROUNDS: u32 = 3;
/// At most this many provisional codes are listed, for the same reason.
const MAX_PROVISIONAL: usize = 32;

struct Step {
    at: Duration,
    sent: Vec<u8>,
    received: Vec<u8>,
}

struct Dialog {
    to: String,
    remote_target: String,
    routes: Vec<String>,
}

/// One call to one endpoint, on one connection.
pub struct CallLeg {
    conn: Connection,
    _permit: Option<OwnedSemaphorePermit>,
    endpoint: Endpoint,
    run_start: Instant,
    t1: Duration,
    timeout: Duration,
    user_agent: String,
    /// The local SIP address (media sockets are bound on the same IP).
    pub local: SocketAddr,
    pub uri: String,
    call_id: String,
    from: String,
    contact_user: String,
    from_tag: String,
    cseq: u32,
    /// The branch and CSeq of the INVITE transaction in progress.
    invite_branch: String,
    invite_cseq: u32,
    invite_to: String,
    /// `Authorization` and/or `Proxy-Authorization` for the next INVITE (a proxy and the far end can
    /// both challenge).
    auth_headers: Vec<(&'static str, String)>,
    /// [`InviteOptions::headers`] of the call in progress.
    invite_headers: Vec<(String, String)>,
    dialog: Option<Dialog>,
    ended_by_peer: bool,
    /// We sent BYE: requests of the dialog still arriving are answered 481 (a terminating NOTIFY 200).
    hung_up: bool,
    /// A REFER's implicit subscription is open (accepted, no terminating NOTIFY answered yet).
    subscription_open: bool,
    /// Methods of the requests the far end sent inside our call (bounded), in arrival order.
    peer_requests: Vec<String>,
    /// NOTIFYs received inside the call (bounded), for a REFER's subscription.
    notifies: Vec<Message>,
    steps: Vec<Step>,
}

fn is_provisional(code: u16) -> bool {
    (100..200).contains(&code)
}

impl CallLeg {
    /// Connects to `ep` (under the context's politeness budget) for a call to `uri`.
    pub async fn open(ctx: &Context, ep: &Endpoint, uri: &str) -> Result<CallLeg, TxError> {
        let (conn, permit) = ctx.connect(ep).await?;
        let domain = &ctx.config.domain;
        let user = ctx.config.calls.calling_user().to_string();
        let req = Request::new_from("INVITE", uri, domain, &user);
        Ok(CallLeg {
            local: conn.local,
            conn,
            _permit: permit,
            endpoint: ep.clone(),
            run_start: ctx.run_start(),
            t1: ctx.config.timers.t1,
            timeout: ctx.config.timers.timeout,
            user_agent: ctx.config.user_agent.clone(),
            uri: uri.to_string(),
            call_id: req.call_id,
            from: req.from,
            contact_user: req.contact_user,
            from_tag: req.from_tag,
            cseq: 0,
            invite_branch: String::new(),
            invite_cseq: 0,
            invite_to: format!("<{uri}>"),
            auth_headers: Vec::new(),
            invite_headers: Vec::new(),
            dialog: None,
            ended_by_peer: false,
            hung_up: false,
            subscription_open: false,
            peer_requests: Vec::new(),
            notifies: Vec::new(),
            steps: Vec::new(),
        })
    }

    fn request(&self, method: &str, uri: &str, to: &str, branch: &str, cseq: u32) -> Request {
        let mut r = Request::new(method, uri, "x");
        r.from = self.from.clone();
        r.from_tag = self.from_tag.clone();
        r.contact_user = self.contact_user.clone();
        r.call_id = self.call_id.clone();
        r.to = to.to_string();
        r.branch = branch.to_string();
        r.cseq = cseq;
        r.user_agent = self.user_agent.clone();
        r
    }

    async fn send(&mut self, bytes: Vec<u8>) -> Result<(), TxError> {
        let at = self.run_start.elapsed();
        let res = self.conn.send(&bytes, Instant::now() + self.timeout).await;
        // Our INVITEs (at most two) are always kept: a retransmission resends the last one recorded.
        if self.steps.len() < MAX_STEPS || bytes.starts_with(b"INVITE ") {
            self.steps.push(Step {
                at,
                sent: bytes,
                received: Vec::new(),
            });
        }
        res
    }

    async fn resend_last_invite(&mut self) -> Result<(), TxError> {
        let bytes = self
            .steps
            .iter()
            .rev()
            .find(|s| s.sent.starts_with(b"INVITE "))
            .map(|s| s.sent.clone())
            .unwrap_or_default();
        self.conn.send(&bytes, Instant::now() + self.timeout).await
    }

    /// The next response of our call, logged (requests from the far end are answered on the way);
    /// `Err(Timeout)` at the deadline.
    async fn recv(&mut self, deadline: Instant) -> Result<Message, TxError> {
        self.recv_any(deadline, false).await
    }

    /// As [`recv`](Self::recv); with `requests`, a request of our call is also returned (once answered).
    pub(super) async fn recv_any(
        &mut self,
        deadline: Instant,
        requests: bool,
    ) -> Result<Message, TxError> {
        loop {
            match self.conn.recv(deadline).await? {
                Incoming::Message(m) => {
                    if let Some(s) = self.steps.last_mut()
                        && s.received.len() < 64 * 1024
                    {
                        s.received.extend_from_slice(&m.raw);
                    }
                    if m.header("Call-ID") != Some(self.call_id.as_str()) {
                        continue;
                    }
                    if m.status().is_none() {
                        self.answer_request(&m).await;
                        if requests {
                            return Ok(m);
                        }
                        continue;
                    }
                    return Ok(m);
                }
                Incoming::Garbage(b, _) => {
                    if let Some(s) = self.steps.last_mut()
                        && s.received.len() < 64 * 1024
                    {
                        s.received.extend_from_slice(&b[..b.len().min(2048)]);
                    }
                }
            }
        }
    }

    /// Answers a request from the far end inside our call (BYE above all), so it is not retransmitted at us.
    async fn answer_request(&mut self, m: &Message) {
        if m.header("Call-ID") != Some(self.call_id.as_str()) {
            return;
        }
        let method = m.method().unwrap_or_default().to_ascii_uppercase();
        if self.peer_requests.len() < MAX_PROVISIONAL && method != "ACK" {
            self.peer_requests.push(method.clone());
        }
        if method == "NOTIFY" && self.notifies.len() < MAX_PROVISIONAL {
            self.notifies.push(m.clone());
        }
        let terminating = method == "NOTIFY"
            && m.header("Subscription-State")
                .is_some_and(|s| s.trim().to_ascii_lowercase().starts_with("terminated"));
        if method == "NOTIFY" && (terminating || self.hung_up) {
            // Answered below with 200 (it ends the subscription) or 481 (which ends it, RFC 6665 §4.1.3).
            self.subscription_open = false;
        }
        let (code, reason) = match method.as_str() {
            "ACK" => return,
            "BYE" => {
                self.ended_by_peer = true;
                (200, "OK")
            }
            "NOTIFY" if self.hung_up && !terminating => (481, "Subscription Does Not Exist"),
            _ if self.hung_up && method != "NOTIFY" => (481, "Call/Transaction Does Not Exist"),
            "OPTIONS" | "INFO" | "NOTIFY" | "UPDATE" => (200, "OK"),
            "INVITE" => (488, "Not Acceptable Here"),
            _ => (405, "Method Not Allowed"),
        };
        let mut s = format!("SIP/2.0 {code} {reason}\r\n");
        for v in m.headers_named("Via") {
            s.push_str(&format!("Via: {v}\r\n"));
        }
        for h in ["From", "To", "Call-ID", "CSeq"] {
            if let Some(v) = m.header(h) {
                s.push_str(&format!("{h}: {v}\r\n"));
            }
        }
        s.push_str("Content-Length: 0\r\n\r\n");
        let _ = self.send(s.into_bytes()).await;
    }

    /// The challenge to answer after `rounds` answered ones, if any: the first challenge; a `stale=true`
    /// one (our nonce expired, the credentials were fine, RFC 2617 §3.2.1); or one from a header kind
    /// not answered yet (a proxy's 407 after the far end's 401, or the reverse). Anything else is the
    /// credentials being refused, so it is not answered again.
    fn challenge_to_answer<'c>(
        &self,
        challenges: &'c [Challenge],
        rounds: u32,
    ) -> Option<&'c Challenge> {
        if rounds >= MAX_AUTH_ROUNDS {
            return None;
        }
        let ch = Challenge::pick(challenges)?;
        let name = if ch.proxy {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        let kind_answered = self.auth_headers.iter().any(|(n, _)| *n == name);
        (rounds == 0 || ch.stale || !kind_answered).then_some(ch)
    }

    fn matches_invite(&self, m: &Message) -> bool {
        m.cseq()
            .is_some_and(|(n, meth)| meth.eq_ignore_ascii_case("INVITE") && n == self.invite_cseq)
    }

    async fn send_invite(&mut self, sdp: &str) -> Result<(), TxError> {
        self.cseq += 1;
        self.invite_cseq = self.cseq;
        self.invite_branch = new_branch();
        let mut r = self.request(
            "INVITE",
            &self.uri.clone(),
            &self.invite_to.clone(),
            &self.invite_branch.clone(),
            self.cseq,
        );
        r = r
            .header("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS")
            .body("application/sdp", sdp.as_bytes().to_vec());
        for (n, v) in &self.auth_headers {
            r = r.header(n, v.clone());
        }
        for (n, v) in &self.invite_headers {
            r = r.header(n, v.clone());
        }
        let bytes = r.render(self.endpoint.transport, self.local);
        self.send(bytes).await
    }

    /// ACK for a non-2xx final response: same branch and Request-URI, the response's To (§17.1.1.3).
    async fn ack_error(&mut self, resp: &Message) {
        let to = resp.header("To").unwrap_or(&self.invite_to).to_string();
        let mut r = self.request(
            "ACK",
            &self.uri.clone(),
            &to,
            &self.invite_branch.clone(),
            self.invite_cseq,
        );
        r.method = "ACK".into();
        let bytes = r.render(self.endpoint.transport, self.local);
        let _ = self.send(bytes).await;
    }

    /// Records the dialog a 2xx created and ACKs it (a new transaction, §13.2.2.4).
    async fn ack_2xx(&mut self, resp: &Message) {
        if self.dialog.is_none() {
            let contact = resp
                .header("Contact")
                .and_then(|c| {
                    let s = c.find('<')? + 1;
                    let e = c[s..].find('>')? + s;
                    Some(c[s..e].to_string())
                })
                .or_else(|| {
                    resp.header("Contact")
                        .map(|c| c.split(';').next().unwrap_or(c).trim().to_string())
                })
                .unwrap_or_else(|| self.uri.clone());
            let mut routes: Vec<String> = resp
                .headers_named("Record-Route")
                .flat_map(|v| v.split(','))
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect();
            routes.reverse();
            self.dialog = Some(Dialog {
                to: resp.header("To").unwrap_or(&self.invite_to).to_string(),
                remote_target: contact,
                routes,
            });
        }
        let Some(d) = &self.dialog else { return };
        let (uri, to, routes) = (d.remote_target.clone(), d.to.clone(), d.routes.clone());
        let mut r = self.request("ACK", &uri, &to, &new_branch(), self.invite_cseq);
        for rt in routes {
            r = r.header("Route", rt);
        }
        let bytes = r.render(self.endpoint.transport, self.local);
        let _ = self.send(bytes).await;
    }

    async fn cancel(&mut self) {
        let mut r = self.request(
            "CANCEL",
            &self.uri.clone(),
            &self.invite_to.clone(),
            &self.invite_branch.clone(),
            self.invite_cseq,
        );
        r.method = "CANCEL".into();
        let bytes = r.render(self.endpoint.transport, self.local);
        let _ = self.send(bytes).await;
    }

    /// Sends the INVITE with `sdp`, answers one challenge with `auth` when given, and returns once the
    /// call is answered, refused, cancelled or given up on. Always call [`hangup`](Self::hangup) after.
    pub async fn invite(
        &mut self,
        sdp: &str,
        mut auth: Option<&mut DigestClient>,
        opts: &InviteOptions,
    ) -> InviteOutcome {
        let mut out = InviteOutcome::default();
        if let Some(f) = &opts.from {
            self.from = f.clone();
        }
        self.invite_headers = opts.headers.clone();
        if let Err(e) = self.send_invite(sdp).await {
            out.error = Some(e.to_string());
            return out;
        }
        let udp = self.endpoint.transport == Transport::Udp;
        let mut interval = self.t1;
        let mut next_retx = Instant::now() + interval;
        let mut heard = false;
        let mut deadline = Instant::now() + self.timeout;
        let mut cancel_deadline: Option<Instant> = None;
        // Hard bound on the whole exchange whatever the peer does (an endless stream of 1xx, say).
        let hard_stop = Instant::now() + self.timeout + opts.ring_timeout + Duration::from_secs(4);
        loop {
            let now = Instant::now();
            if now >= hard_stop {
                out.error
                    .get_or_insert_with(|| "gave up: the call took too long".into());
                if out.cancelled.is_none() && heard {
                    self.cancel().await;
                    out.cancelled = Some("no final response in time".into());
                }
                return out;
            }
            let wait_until = match cancel_deadline {
                Some(c) => c.min(hard_stop),
                None if udp && !heard => next_retx.min(deadline),
                None => deadline,
            }
            .min(hard_stop);
            match self.recv(wait_until).await {
                Ok(m) => {
                    let code = m.status().unwrap_or(0);
                    if !self.matches_invite(&m) {
                        // A retransmitted final response of the first (challenged) INVITE: ACK again.
                        let old_invite = m.cseq().is_some_and(|(n, meth)| {
                            meth.eq_ignore_ascii_case("INVITE") && n < self.invite_cseq
                        });
                        if old_invite && code >= 300 {
                            let branch = std::mem::replace(
                                &mut self.invite_branch,
                                m.top_via_branch().unwrap_or_default(),
                            );
                            let cseq = std::mem::replace(
                                &mut self.invite_cseq,
                                m.cseq().map(|c| c.0).unwrap_or(0),
                            );
                            self.ack_error(&m).await;
                            self.invite_branch = branch;
                            self.invite_cseq = cseq;
                        }
                        continue;
                    }
                    heard = true;
                    if is_provisional(code) {
                        if out.provisional.len() < MAX_PROVISIONAL {
                            out.provisional.push(code);
                        }
                        if out.final_response.is_some() {
                            continue;
                        }
                        deadline = Instant::now() + opts.ring_timeout;
                        if opts.cancel_on_ringing && code > 100 && out.cancelled.is_none() {
                            self.cancel().await;
                            out.cancelled = Some(format!("cancelled at once on the {code}"));
                            cancel_deadline =
                                Some(Instant::now() + self.timeout.min(Duration::from_secs(4)));
                        }
                        continue;
                    }
                    if (200..300).contains(&code) {
                        self.ack_2xx(&m).await;
                        out.final_response = Some(m);
                        return out;
                    }
                    self.ack_error(&m).await;
                    if code == 401 || code == 407 {
                        let challenges = Challenge::all_in(&m);
                        if out.challenge.is_none() {
                            out.challenges = challenges.clone();
                            out.challenge = Some(m.clone());
                        }
                        let answer = auth.as_deref_mut().and_then(|c| {
                            let ch = self.challenge_to_answer(&challenges, out.auth_rounds)?;
                            if out.auth_rounds > 0 && ch.stale {
                                out.stale_retried = true;
                            }
                            c.answer(ch, "INVITE", &self.uri)
                        });
                        if let Some(a) = answer {
                            out.answered_with = Some(a.algorithm);
                            out.auth_rounds += 1;
                            self.auth_headers.retain(|(n, _)| *n != a.header_name);
                            self.auth_headers.push((a.header_name, a.header_value));
                            if let Err(e) = self.send_invite(sdp).await {
                                out.final_response = Some(m);
                                out.error = Some(e.to_string());
                                return out;
                            }
                            heard = false;
                            interval = self.t1;
                            next_retx = Instant::now() + interval;
                            deadline = Instant::now() + self.timeout;
                            continue;
                        }
                    }
                    out.final_response = Some(m);
                    return out;
                }
                Err(TxError::Timeout) => {
                    let now = Instant::now();
                    if cancel_deadline.is_some_and(|c| now >= c) {
                        out.error = Some("no final response after CANCEL".into());
                        return out;
                    }
                    if now >= deadline {
                        if heard && out.cancelled.is_none() {
                            self.cancel().await;
                            out.cancelled = Some(format!(
                                "no final response within {} s of ringing",
                                opts.ring_timeout.as_secs()
                            ));
                            cancel_deadline = Some(now + self.timeout.min(Duration::from_secs(4)));
                            continue;
                        }
                        out.error = Some(TxError::Timeout.to_string());
                        return out;
                    }
                    if udp && !heard && now >= next_retx {
                        if let Err(e) = self.resend_last_invite().await {
                            out.error = Some(e.to_string());
                            return out;
                        }
                        interval *= 2;
                        next_retx = now + interval;
                    }
                }
                Err(e) => {
                    out.error = Some(e.to_string());
                    return out;
                }
            }
        }
    }

    /// A request inside the dialog (remote target, route set, next CSeq), or `None` without a dialog.
    pub(super) fn dialog_request(&mut self, method: &str) -> Option<Request> {
        let d = self.dialog.as_ref()?;
        let (uri, to, routes) = (d.remote_target.clone(), d.to.clone(), d.routes.clone());
        self.cseq += 1;
        let mut r = self.request(method, &uri, &to, &new_branch(), self.cseq);
        r.method = method.to_string();
        for rt in routes {
            r = r.header("Route", rt);
        }
        Some(r)
    }

    /// Sends `r` (a non-INVITE request) and waits, bounded, for its final response, retransmitting over
    /// UDP (RFC 3261 §17.1.2) and re-ACKing a retransmitted 2xx of our INVITE meanwhile.
    pub(super) async fn transaction(&mut self, r: &Request) -> Result<Message, String> {
        let bytes = r.render(self.endpoint.transport, self.local);
        if let Err(e) = self.send(bytes.clone()).await {
            return Err(format!("{} not sent: {e}", r.method));
        }
        let udp = self.endpoint.transport == Transport::Udp;
        let deadline = Instant::now() + self.timeout;
        let mut interval = self.t1;
        let mut next_retx = Instant::now() + interval;
        loop {
            let wait = if udp {
                next_retx.min(deadline)
            } else {
                deadline
            };
            match self.recv(wait).await {
                Ok(m) => {
                    let code = m.status().unwrap_or(0);
                    let ours = m.cseq().is_some_and(|(n, meth)| {
                        n == r.cseq && meth.eq_ignore_ascii_case(&r.method)
                    });
                    if ours && code >= 200 {
                        return Ok(m);
                    }
                    if self.matches_invite(&m) && (200..300).contains(&code) {
                        self.ack_2xx(&m).await;
                    }
                }
                Err(TxError::Timeout) if Instant::now() < deadline => {
                    let _ = self.conn.send(&bytes, deadline).await;
                    interval = (interval * 2).min(Duration::from_secs(4));
                    next_retx = Instant::now() + interval;
                }
                Err(e) => return Err(format!("no answer to {}: {e}", r.method)),
            }
        }
    }

    /// Hangs up: BYE when a dialog exists and the far end has not hung up already, waiting (bounded) for
    /// its answer, re-ACKing retransmitted 2xx meanwhile.
    pub async fn hangup(&mut self) -> Teardown {
        let mut t = Teardown {
            established: self.dialog.is_some(),
            ended_by_peer: self.ended_by_peer,
            ..Teardown::default()
        };
        if !self.ended_by_peer
            && let Some(r) = self.dialog_request("BYE")
        {
            self.hung_up = true;
            match self.transaction(&r).await {
                Ok(m) => t.bye_response = m.status(),
                Err(e) => t.note = Some(e),
            }
            t.ended_by_peer = self.ended_by_peer;
        }
        self.hung_up = true;
        self.close_subscription().await;
        t
    }

    /// A REFER's subscription can outlive the dialog (RFC 6665 §4.5.2): its last NOTIFY may come after
    /// the BYE. Waits for it (bounded by [`SUBSCRIPTION_LINGER`]) and answers it, 200 for a terminating
    /// one and 481 otherwise, either of which ends the subscription, so no NOTIFY is left retransmitting.
    async fn close_subscription(&mut self) {
        let until = Instant::now() + SUBSCRIPTION_LINGER;
        while self.subscription_open && Instant::now() < until {
            if self.recv_any(until, true).await.is_err() {
                break;
            }
        }
    }

    /// Marks a REFER's implicit subscription as open (the REFER was accepted).
    pub(super) fn subscription_opened(&mut self) {
        self.subscription_open = true;
    }

    /// Keeps the signalling alive for `d` (answering a BYE or OPTIONS from the far end, re-ACKing 2xx).
    pub async fn hold(&mut self, d: Duration) {
        let until = Instant::now() + d;
        while Instant::now() < until && !self.ended_by_peer {
            if let Ok(m) = self.recv(until).await
                && self.matches_invite(&m)
                && m.status().is_some_and(|c| (200..300).contains(&c))
            {
                self.ack_2xx(&m).await;
            }
        }
    }

    pub fn ended_by_peer(&self) -> bool {
        self.ended_by_peer
    }

    pub(super) fn notify_count(&self) -> usize {
        self.notifies.len()
    }

    pub(super) fn notifies_since(&self, n: usize) -> Vec<Message> {
        self.notifies.get(n..).unwrap_or_default().to_vec()
    }

    /// Methods of the requests the far end sent inside the call, in arrival order.
    pub fn peer_requests(&self) -> &[String] {
        &self.peer_requests
    }

    /// The dialog's identifiers (Call-ID, our tag, the far end's tag), for a `Replaces` header.
    pub fn dialog_id(&self) -> Option<(String, String, String)> {
        let d = self.dialog.as_ref()?;
        let remote_tag = crate::sip::parse::param(&d.to, "tag")?;
        Some((self.call_id.clone(), self.from_tag.clone(), remote_tag))
    }

    /// The From we call as (`"sipcheck" <sip:user@domain>`), for a `Referred-By`.
    pub fn our_from(&self) -> &str {
        &self.from
    }

    /// The call's messages as evidence: one record per message sent, with what arrived after it.
    /// Credentials are redacted by [`evidence::printable`], SDES keys by [`crate::sip::sdp::redact_keys`].
    pub fn evidence(&self) -> Vec<Evidence> {
        self.steps
            .iter()
            .map(|s| Evidence {
                transport: self.endpoint.transport,
                remote: self.endpoint.socket_addr().to_string(),
                local: Some(self.local.to_string()),
                at_ms: s.at.as_millis() as u64,
                rtt_ms: None,
                sent: crate::sip::sdp::redact_keys(&evidence::printable(&s.sent)),
                received: crate::sip::sdp::redact_keys(&evidence::printable(&s.received)),
                note: None,
            })
            .collect()
    }

    /// Closes the connection (streams politely).
    pub async fn close(self) {
        self.conn.close().await;
    }
}

/// A fresh session id for SDP `o=` lines.
pub fn session_id() -> u64 {
    use rand::Rng;
    rand::rng().random_range(1..1u64 << 40)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Config;
    use crate::target::{Port, Target};
    use tokio::net::UdpSocket;

    /// A far end that floods the call with in-dialog OPTIONS and 180s before refusing it: the call's
    /// evidence and provisional list stay bounded, and the refusal is still what the outcome shows.
    #[tokio::test]
    async fn a_chatty_far_end_does_not_grow_the_call_record() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = server.local_addr().unwrap().port();
        let peer = tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            let invite = Message::parse(&buf[..n], &crate::sip::Limits::default()).unwrap();
            let cid = invite.header("Call-ID").unwrap().to_string();
            let via = invite.header("Via").unwrap().to_string();
            for i in 0..300 {
                let m = if i % 2 == 0 {
                    format!(
                        "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKp{i}\r\n\
                         From: <sip:p@x>;tag=a\r\nTo: <sip:q@x>\r\nCall-ID: {cid}\r\nCSeq: {i} OPTIONS\r\n\
                         Content-Length: 0\r\n\r\n"
                    )
                } else {
                    format!(
                        "SIP/2.0 180 Ringing\r\nVia: {via}\r\nTo: <sip:x>;tag=b\r\nCall-ID: {cid}\r\n\
                         CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
                    )
                };
                server.send_to(m.as_bytes(), from).await.unwrap();
                if i % 10 == 0 {
                    // Lets the leg drain its socket so no datagram is dropped on loopback.
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
            let busy = format!(
                "SIP/2.0 486 Busy Here\r\nVia: {via}\r\nTo: <sip:x>;tag=b\r\nCall-ID: {cid}\r\n\
                 CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
            );
            server.send_to(busy.as_bytes(), from).await.unwrap();
            // Kept open until the leg is done, or its answers draw ICMP port-unreachable.
            server
        });
        let ep = Endpoint::new(
            Transport::Udp,
            "127.0.0.1".parse().unwrap(),
            Port::new(port).unwrap(),
        );
        let target = Target::parse(&format!("127.0.0.1:{port}")).unwrap();
        let ctx = Context::new(target, vec![ep.clone()], Config::default());
        let uri = format!("sip:test@127.0.0.1:{port}");
        let mut leg = CallLeg::open(&ctx, &ep, &uri).await.unwrap();
        let out = leg.invite("v=0\r\n", None, &InviteOptions::default()).await;
        let _server = peer.await.unwrap();
        assert_eq!(out.final_code(), Some(486), "{:?}", out.error);
        assert!(!out.provisional.is_empty());
        assert!(
            out.provisional.len() <= MAX_PROVISIONAL,
            "{}",
            out.provisional.len()
        );
        let ev = leg.evidence();
        assert!(ev.len() <= MAX_STEPS + 2, "{}", ev.len());
        assert!(ev[0].sent.starts_with("INVITE "));
        leg.close().await;
    }
}
