//! TLS handshakes to one address, spaced so that the server seldom works on two of ours at once.
//!
//! Kamailio 5.6 with OpenSSL 3 shares OpenSSL's per-thread state between its TLS worker processes
//! (it lives in shared memory and was made before the workers forked), so two workers that take
//! ClientHellos at the same moment corrupt it: `qm_free(): BUG: freeing already freed pointer ...
//! tls_init.c: ser_free` in its log, and sooner or later a worker killed by signal 11 or 6. Hellos one
//! at a time trip it far less (sslscan's way), concurrent ones often (sslyze's), whatever the client
//! does around them. So a hello is sent when every earlier hello to the address has been answered
//! (the server is idle: on a LAN this is at once) or, while some are still in flight, no sooner than
//! [`SPACING`] after the last one: at a distance hellos then reach the server that far apart, longer
//! than it usually takes to answer one, and lines of hellos still overlap their round trips.
//!
//! Not a guarantee: a loaded server with many TLS workers took up to 30 ms to answer a hello, and
//! the server's own teardown of a connection we closed still runs beside the next hello (see
//! `tests/peers/tls_kamailio_workers.rs`, ignored until that is fixed).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The least time between two hellos to one address while an earlier one is unanswered: several
/// times what a TLS server usually takes to answer a hello (under 1 ms for Kamailio's signature).
pub const SPACING: Duration = Duration::from_millis(5);

#[derive(Debug, Default)]
struct State {
    in_flight: usize,
    last_start: Option<Instant>,
}

/// The handshakes of one address.
#[derive(Debug, Default)]
pub(crate) struct Handshakes {
    state: Mutex<State>,
    finished: Notify,
}

/// The right to send one hello; dropped once its answer is read and the connection closed.
#[derive(Debug)]
pub struct HandshakeTurn {
    of: Arc<Handshakes>,
}

impl Drop for HandshakeTurn {
    fn drop(&mut self) {
        let mut s = self.of.state.lock().unwrap_or_else(|p| p.into_inner());
        s.in_flight = s.in_flight.saturating_sub(1);
        drop(s);
        self.of.finished.notify_waiters();
    }
}

impl Handshakes {
    /// Waits for this address's next turn to send a hello.
    pub(crate) async fn turn(self: Arc<Self>) -> HandshakeTurn {
        loop {
            let finished = self.finished.notified();
            tokio::pin!(finished);
            // Registered before the state is read, so a turn dropped in between still wakes us.
            finished.as_mut().enable();
            let Some(wait) = self.try_start() else {
                break;
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = finished => {}
            }
        }
        HandshakeTurn { of: self }
    }

    /// Takes the turn if it is free now, else says how long until the spacing allows one.
    fn try_start(&self) -> Option<Duration> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let due = match s.last_start {
            Some(t) if s.in_flight > 0 => t + SPACING,
            _ => now,
        };
        if due > now {
            return Some(due - now);
        }
        s.in_flight += 1;
        s.last_start = Some(now);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_hello_waits_for_the_spacing_while_another_is_unanswered() {
        let h = Arc::new(Handshakes::default());
        let t0 = Instant::now();
        let first = h.clone().turn().await;
        let second = h.clone().turn().await;
        assert_eq!(t0.elapsed(), SPACING);
        let third = h.clone().turn().await;
        assert_eq!(t0.elapsed(), SPACING * 2);
        drop((first, second, third));
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_frees_the_server_at_once() {
        let h = Arc::new(Handshakes::default());
        let first = h.clone().turn().await;
        let t0 = Instant::now();
        let waiting = tokio::spawn(h.clone().turn());
        tokio::time::sleep(Duration::from_millis(1)).await;
        drop(first);
        let second = waiting.await.unwrap();
        assert_eq!(t0.elapsed(), Duration::from_millis(1));
        // With nothing in flight the next one goes at once, however recent the last was.
        drop(second);
        let t1 = Instant::now();
        let _third = h.clone().turn().await;
        assert_eq!(t1.elapsed(), Duration::ZERO);
    }

    /// Many lines asking at once get turns one SPACING apart, never two within it.
    #[tokio::test(start_paused = true)]
    async fn concurrent_turns_are_spaced() {
        let h = Arc::new(Handshakes::default());
        let t0 = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..10 {
            let h = h.clone();
            set.spawn(async move {
                let turn = h.turn().await;
                let at = Instant::now();
                tokio::time::sleep(Duration::from_millis(100)).await;
                drop(turn);
                at
            });
        }
        let mut at: Vec<Duration> = set.join_all().await.iter().map(|t| *t - t0).collect();
        at.sort();
        for w in at.windows(2) {
            assert!(w[1] - w[0] >= SPACING, "{at:?}");
        }
        assert!(at[9] <= SPACING * 9 + Duration::from_millis(1), "{at:?}");
    }
}
