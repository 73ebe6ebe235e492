//! Sending hand-made bytes and judging the reaction, and the "is it still alive?" check.
//!
//! Every case goes out on a fresh socket (a new UDP port, a new TCP connection), so a late answer to
//! one case can only reach a socket that is already closed and never confuses the next case. On that
//! socket any response counts, because a malformed message may carry no Via or CSeq to match by.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

use crate::catalog::Reaction;
use crate::probe::Context;
use crate::target::{Endpoint, Transport};
use crate::transport::{Exchange, Incoming, TxError};

/// Sends the bytes `render` makes from our local address and waits up to `wait` for a final
/// response (UDP is retransmitted per Timer E within that wait). Returns the exchange, for evidence,
/// and the reaction.
pub async fn send_raw(
    ctx: &Context,
    ep: &Endpoint,
    render: impl FnOnce(SocketAddr) -> Result<Vec<u8>, String>,
    wait: Duration,
) -> (Exchange, Reaction) {
    let at = ctx.elapsed();
    let mut ex = Exchange::not_sent(ep, at, None);
    let (mut conn, _permit) = match ctx.connect(ep).await {
        Ok(c) => c,
        Err(e) => {
            let r = match e {
                TxError::Refused | TxError::Reset => Reaction::Closed(e.kind().to_string()),
                _ => Reaction::NotSent(format!("cannot connect: {e}")),
            };
            ex.error = Some(e);
            return (ex, r);
        }
    };
    ex.local = Some(conn.local);
    ex.tls = conn.tls.clone();
    ex.reached = ep.transport.is_stream();
    ex.sent = match render(conn.local) {
        Ok(b) => b,
        Err(e) => return (ex, Reaction::NotSent(e)),
    };
    let start = Instant::now();
    let deadline = start + wait;
    if let Err(e) = conn.send(&ex.sent, deadline).await {
        let r = Reaction::NotSent(format!("send failed: {e}"));
        ex.error = Some(e);
        conn.close().await;
        return (ex, r);
    }
    let udp = ep.transport == Transport::Udp;
    let t1 = ctx.config.timers.t1;
    let mut interval = t1;
    let mut next_retx = start + interval;
    let mut ending: Option<Reaction> = None;
    // Bounded: at most a few dozen items fit in the wait, and strays are capped.
    for _ in 0..64 {
        let until = if udp {
            next_retx.min(deadline)
        } else {
            deadline
        };
        match conn.recv(until).await {
            Ok(Incoming::Message(m)) if m.status().is_some() => {
                ex.reached = true;
                ex.rtt.get_or_insert_with(|| start.elapsed());
                let fin = m.status().is_some_and(|c| c >= 200);
                ex.responses.push(m);
                if fin {
                    break;
                }
            }
            Ok(other) => {
                ex.reached = true;
                if let Incoming::Garbage(_, why) = &other
                    && ex.responses.is_empty()
                {
                    ending = Some(Reaction::Unparseable(why.clone()));
                }
                if ex.strays.len() < 16 {
                    ex.strays.push(other);
                }
            }
            Err(TxError::Timeout) if udp && Instant::now() < deadline => {
                if conn.send(&ex.sent, deadline).await.is_ok() {
                    ex.retransmissions += 1;
                }
                // Every raw case backs off as a non-INVITE request does (Timer E, capped at T2).
                interval = ctx.config.timers.next_interval(interval, false);
                next_retx = Instant::now() + interval;
            }
            Err(TxError::Timeout) => {
                ex.error = Some(TxError::Timeout);
                break;
            }
            Err(e) => {
                ex.reached = true;
                let r = match &e {
                    TxError::Protocol(why, _) => Reaction::Unparseable(why.clone()),
                    // An ICMP port-unreachable on UDP: nobody listens any more.
                    TxError::Refused => Reaction::Closed("refused".into()),
                    other => Reaction::Closed(match other {
                        TxError::Reset => "reset".into(),
                        TxError::Closed => "closed".into(),
                        o => o.to_string(),
                    }),
                };
                ending = Some(r);
                ex.error = Some(e);
                break;
            }
        }
    }
    conn.close().await;
    let reaction = match ex.best_response() {
        Some(m) => Reaction::Response {
            code: m.status().unwrap_or(0),
            reason: m.reason().to_string(),
        },
        None => ending.unwrap_or(Reaction::NoAnswer),
    };
    (ex, reaction)
}

/// The outcome of a liveness check: a plain OPTIONS, answered (any final response) in time or not.
#[derive(Debug, Clone)]
pub struct Liveness {
    pub alive: bool,
    /// `200 OK in 1.2 ms`, or why not.
    pub text: String,
    pub exchange: Exchange,
}

/// Sends a normal OPTIONS with the run's timers (Timer F capped by `--timeout`).
pub async fn liveness(ctx: &Context, ep: &Endpoint) -> Liveness {
    let uri = ctx.request_uri(ep, false);
    let req = ctx.request("OPTIONS", &uri);
    let ex = ctx.exchange(ep, &req).await;
    match ex.final_response() {
        Some(m) => Liveness {
            alive: true,
            text: format!(
                "{} {} in {:.1} ms",
                m.status().unwrap_or(0),
                m.reason(),
                ex.rtt.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
            ),
            exchange: ex,
        },
        None => Liveness {
            alive: false,
            text: ex
                .error
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "no final response".into()),
            exchange: ex,
        },
    }
}
