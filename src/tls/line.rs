//! The connections of one line of hellos that depend on each other's answers (a suite or group
//! enumeration): the line keeps its connection slot from one hello to the next, and while a hello is
//! in flight it opens the next connection in a slot nobody else is waiting for, so a further hello
//! costs one round trip instead of two (connect, then hello).
//!
//! Each hello waits for the address's handshake turn ([`crate::transport::Limiter::handshake`]) once
//! its connection is open, so connections opened ahead never make the server answer two at once.
//!
//! Only when connecting costs: a line opens ahead once its connects took at least a quarter of its
//! answers' time and the address is far (a real distance, where a connect is a round trip). Where connects are free (a LAN,
//! or a relay that cannot delay a handshake) an idle spare saves nothing, and at a server that serves
//! one connection at a time (`openssl s_server`) it would hold the server while hellos of other lines
//! that are already sent wait behind it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::answer::Answer;
use super::wire;
use crate::transport::Limiter;

type Spare = JoinHandle<(OwnedSemaphorePermit, Result<TcpStream, Answer>, Duration)>;

/// One sequence of hellos to one address, under that address's connection cap.
pub(crate) struct Line<'a> {
    addr: SocketAddr,
    wait: Duration,
    limiter: &'a Limiter,
    connections: &'a AtomicUsize,
    slot: Option<OwnedSemaphorePermit>,
    spare: Option<Spare>,
    /// The last connect's and the last answer's time on this line.
    connect_took: Option<Duration>,
    answer_took: Option<Duration>,
}

impl Drop for Line<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.spare.take() {
            s.abort();
        }
    }
}

impl<'a> Line<'a> {
    pub(crate) fn new(
        addr: SocketAddr,
        wait: Duration,
        limiter: &'a Limiter,
        connections: &'a AtomicUsize,
    ) -> Line<'a> {
        Line {
            addr,
            wait,
            limiter,
            connections,
            slot: None,
            spare: None,
            connect_took: None,
            answer_took: None,
        }
    }

    /// Opens a connection ahead of the next hello if a slot is free.
    fn preconnect(&mut self) {
        let (Some(c), Some(a)) = (self.connect_took, self.answer_took) else {
            return;
        };
        // Near, the server gets one connection at a time from the hello to its close (see
        // crate::transport::HandshakeTurn); an idle spare would be one more, closed at no turn.
        if c * 4 < a || !self.limiter.is_far(self.addr.ip()) {
            return;
        }
        let Some(permit) = self.limiter.try_connection(self.addr.ip()) else {
            return;
        };
        self.connections.fetch_add(1, Ordering::Relaxed);
        let (addr, deadline) = (self.addr, Instant::now() + self.wait);
        self.spare = Some(tokio::spawn(async move {
            let t = Instant::now();
            let c = wire::connect(addr, deadline).await;
            (permit, c, t.elapsed())
        }));
    }

    /// Sends `hello` and reads its answer; `more` says another hello is likely to follow.
    pub(crate) async fn ask(
        &mut self,
        hello: &[u8],
        close_first: Option<[u8; 7]>,
        want_flight: bool,
        more: bool,
    ) -> Answer {
        let mut open = None;
        if let Some(spare) = self.spare.take()
            && let Ok((permit, conn, took)) = spare.await
        {
            self.connect_took = Some(took);
            self.limiter.connected(self.addr.ip(), took);
            // The spare's slot becomes the line's; the old one goes to whoever waits for it.
            self.slot = Some(permit);
            match conn {
                Ok(s) => open = Some(s),
                // A connect that failed ahead of time failed like a fresh one would.
                Err(a) => return a,
            }
        }
        if self.slot.is_none() {
            self.slot = Some(self.limiter.connection(self.addr.ip()).await);
        }
        let Some(s) = open else {
            return self.fresh(hello, close_first, want_flight, more).await;
        };
        // Opened only now, after the connection that carries this hello: a server that accepts one
        // connection at a time then never sits on an idle spare while this hello waits behind it.
        if more {
            self.preconnect();
        }
        let turn = self.limiter.handshake(self.addr.ip()).await;
        let t = Instant::now();
        let a = wire::ask_on(s, hello, close_first, want_flight, t + self.wait, turn).await;
        self.answer_took = Some(t.elapsed());
        match a {
            // A connection opened ahead may have been closed by the server while it sat idle; only a
            // fresh connection's close or reset is the server's answer to the hello.
            Answer::Closed | Answer::Reset | Answer::Io(_) => {
                if let Some(s) = self.spare.take() {
                    s.abort();
                }
                self.fresh(hello, close_first, want_flight, more).await
            }
            a => a,
        }
    }

    async fn fresh(
        &mut self,
        hello: &[u8],
        close_first: Option<[u8; 7]>,
        want_flight: bool,
        more: bool,
    ) -> Answer {
        // The turn before the connect (see crate::transport::HandshakeTurn).
        let turn = self.limiter.handshake(self.addr.ip()).await;
        let deadline = Instant::now() + self.wait;
        self.connections.fetch_add(1, Ordering::Relaxed);
        let t = Instant::now();
        match wire::connect(self.addr, deadline).await {
            Err(a) => a,
            Ok(s) => {
                self.connect_took = Some(t.elapsed());
                self.limiter.connected(self.addr.ip(), t.elapsed());
                if more && self.spare.is_none() {
                    self.preconnect();
                }
                let t = Instant::now();
                let a = wire::ask_on(s, hello, close_first, want_flight, deadline, turn).await;
                self.answer_took = Some(t.elapsed());
                a
            }
        }
    }
}
