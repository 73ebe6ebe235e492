//! TLS handshakes to one address, spaced so that the server never works on two of ours at once.
//!
//! Kamailio 5.6 with OpenSSL 3 shares OpenSSL's per-thread state between its TLS worker processes
//! (it lives in shared memory and was made before the workers forked), so two workers that handle
//! our connections at the same moment corrupt it: `qm_free(): BUG: freeing already freed pointer ...
//! tls_init.c: ser_free` in its log, and sooner or later a worker killed by signal 11 or 6. A refused
//! hello is the usual trigger (each one leaves an error in that shared state), and so is the
//! server's teardown of a connection, which is TLS work like a hello. So a turn is held from the
//! hello until the server has closed the connection ([`super::closing`] sends our close at a
//! spaced moment and waits for the server's FIN), and the next turn is given:
//! - near (the address's connects take under [`FAR`], or none was timed yet): only when no other
//!   turn is held, [`GRACE`] after the last was given back. On a loopback or a LAN the server's work
//!   on one connection is then over before the next hello is sent, however slow the server is
//!   (a loaded server took 30 ms to answer a hello; spacing alone still tripped it in one run of
//!   the worker test in three);
//! - far: also while others are held, once [`SPACING`] has passed since the last hello or close.
//!   Hellos then reach the server that far apart, so lines of hellos still overlap their round
//!   trips. (Spacing by the slowest answer seen was tried: at a server that serves one connection
//!   at a time, answers queue behind each other, and the spacing grew to its cap.)
//!
//! A turn is taken before the connection is opened: near, a connection opened while another holds
//! the turn would sit accepted and idle at a server that serves one connection at a time
//! (`openssl s_server`), while the turn holder's hello waits behind it until a timeout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The least time between two hellos (or closes) to a far address: several times what a TLS server
/// usually takes to answer a hello (under 1 ms for Kamailio's signature).
pub const SPACING: Duration = Duration::from_millis(5);

/// A connect that takes this long crossed a real distance: hellos may overlap there.
pub const FAR: Duration = Duration::from_millis(8);

/// The pause after a turn is given back before the next, at a near address: the server may still
/// be finishing its teardown when its FIN reaches us.
pub const GRACE: Duration = Duration::from_millis(2);

/// Waiting for a turn to be given back, with nothing else that would end the wait.
const UNTIL_GIVEN_BACK: Duration = Duration::from_secs(3600);

#[derive(Debug, Default)]
struct State {
    in_flight: usize,
    last_start: Option<Instant>,
    last_end: Option<Instant>,
    /// The shortest connect seen: the round trip.
    rtt: Option<Duration>,
}

impl State {
    fn far(&self) -> bool {
        self.rtt.is_some_and(|r| r >= FAR)
    }

    fn spacing(&self) -> Duration {
        SPACING
    }
}

/// The handshakes of one address.
#[derive(Debug, Default)]
pub(crate) struct Handshakes {
    state: Mutex<State>,
    finished: Notify,
}

/// The right to send one hello; dropped once the server has closed the connection.
#[derive(Debug)]
pub struct HandshakeTurn {
    of: Arc<Handshakes>,
}

impl HandshakeTurn {
    /// Waits until the spacing has passed since the address's last hello or close and claims
    /// that moment: for a close sent after the answer, which makes the server tear a connection
    /// down. At a near address this turn is the only one held, so there is nothing to wait for.
    pub async fn respace(&self) {
        loop {
            let wait = {
                let mut s = self.of.state.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let spacing = s.spacing();
                match s.last_start.map(|t| t + spacing).filter(|due| *due > now) {
                    Some(due) if s.far() => due - now,
                    _ => {
                        s.last_start = Some(now);
                        return;
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Records how long a TCP connect to the address took (a round trip).
    pub fn connected(&self, took: Duration) {
        self.of.connected(took);
    }
}

/// The handshake turns of one address, to hand to code that takes its own (a blocking thread, or a
/// check that also runs alone: `Turns::default()` shares with nobody).
#[derive(Debug, Clone, Default)]
pub struct Turns(pub(crate) Arc<Handshakes>);

impl Turns {
    /// Waits for the next turn.
    pub async fn take(&self) -> HandshakeTurn {
        self.0.clone().turn().await
    }

    /// Waits for the next turn from a blocking thread (one the runtime started, as
    /// `spawn_blocking` does); without a runtime there is nobody to share the address with.
    pub fn take_blocking(&self) -> Option<HandshakeTurn> {
        let rt = tokio::runtime::Handle::try_current().ok()?;
        Some(rt.block_on(self.take()))
    }
}

impl Drop for HandshakeTurn {
    fn drop(&mut self) {
        let mut s = self.of.state.lock().unwrap_or_else(|p| p.into_inner());
        s.in_flight = s.in_flight.saturating_sub(1);
        s.last_end = Some(Instant::now());
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

    /// Whether the address is far enough for hellos to overlap (see the module's words).
    pub(crate) fn is_far(&self) -> bool {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).far()
    }

    /// Records how long a TCP connect to the address took (a round trip).
    pub(crate) fn connected(&self, took: Duration) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.rtt = Some(s.rtt.map_or(took, |r| r.min(took)));
    }

    /// Takes the turn if it is free now, else says how long until it may be.
    fn try_start(&self) -> Option<Duration> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let due = if s.in_flight == 0 {
            match s.last_end {
                Some(t) if !s.far() => t + GRACE,
                _ => now,
            }
        } else if s.far() {
            s.last_start.map_or(now, |t| t + s.spacing())
        } else {
            now + UNTIL_GIVEN_BACK
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

    fn far() -> Arc<Handshakes> {
        let h = Arc::new(Handshakes::default());
        h.connected(Duration::from_millis(50));
        h
    }

    #[tokio::test(start_paused = true)]
    async fn far_away_a_hello_waits_for_the_spacing_while_another_is_unanswered() {
        let h = far();
        let t0 = Instant::now();
        let first = h.clone().turn().await;
        let second = h.clone().turn().await;
        assert_eq!(t0.elapsed(), SPACING);
        let third = h.clone().turn().await;
        assert_eq!(t0.elapsed(), SPACING * 2);
        drop((first, second, third));
    }

    /// Near (or not yet timed), one turn at a time: the next waits for the last to be given back,
    /// then the grace, however long that takes.
    #[tokio::test(start_paused = true)]
    async fn near_one_turn_at_a_time() {
        let h = Arc::new(Handshakes::default());
        h.connected(Duration::from_micros(100));
        let first = h.clone().turn().await;
        let t0 = Instant::now();
        let waiting = tokio::spawn(h.clone().turn());
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert!(!waiting.is_finished());
        drop(first);
        let second = waiting.await.unwrap();
        assert_eq!(t0.elapsed(), Duration::from_millis(40) + GRACE);
        drop(second);
    }

    /// A close sent after the answer is an event at the server like a hello: spaced from the last.
    #[tokio::test(start_paused = true)]
    async fn far_away_a_close_is_spaced_like_a_hello() {
        let h = far();
        let t0 = Instant::now();
        let first = h.clone().turn().await;
        first.respace().await;
        assert_eq!(t0.elapsed(), SPACING);
        let second = h.clone().turn().await;
        assert_eq!(t0.elapsed(), SPACING * 2);
        tokio::time::sleep(SPACING * 3).await;
        let t1 = Instant::now();
        second.respace().await;
        assert_eq!(t1.elapsed(), Duration::ZERO);
        drop((first, second));
    }

    /// Many lines asking at once get turns one SPACING apart, never two within it.
    #[tokio::test(start_paused = true)]
    async fn far_away_concurrent_turns_are_spaced() {
        let h = far();
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
