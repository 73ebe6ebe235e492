//! Politeness: a token bucket per target address, a cap on simultaneous connections, and TLS
//! handshakes spaced so that the server never works on two at once ([`super::handshakes`]).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::handshakes::{FAR, HandshakeTurn, Handshakes, Turns};

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
    /// The requests waiting for a token, by ticket, in arrival order: those that hold one of the
    /// address's connection slots (served first), and the others.
    in_slot: VecDeque<u64>,
    others: VecDeque<u64>,
    next_ticket: u64,
}

impl Bucket {
    fn refill(&mut self, rate: f64, burst: f64) {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.saturating_duration_since(self.last).as_secs_f64() * rate).min(burst);
        self.last = now;
    }

    fn queue(&mut self, in_slot: bool) -> &mut VecDeque<u64> {
        if in_slot {
            &mut self.in_slot
        } else {
            &mut self.others
        }
    }

    /// How long until `ticket` gets its token if nobody gives up a place ahead of it: the requests
    /// ahead of it in its line (and, outside the slots, every request holding one), one token each.
    fn due(&self, ticket: u64, in_slot: bool, rate: f64) -> Duration {
        let line = if in_slot { &self.in_slot } else { &self.others };
        let mut ahead = line.iter().position(|t| *t == ticket).unwrap_or(0);
        if !in_slot {
            ahead += self.in_slot.len();
        }
        let short = (ahead as f64 + 1.0 - self.tokens).max(0.0);
        Duration::from_secs_f64(short / rate)
    }

    /// Whether `ticket` is next in line for a token.
    fn is_next(&self, ticket: u64, in_slot: bool) -> bool {
        if in_slot {
            self.in_slot.front() == Some(&ticket)
        } else {
            self.in_slot.is_empty() && self.others.front() == Some(&ticket)
        }
    }
}

/// What a request waiting in the line does next.
enum Watch {
    Done,
    Sleep(Duration),
    UntilMoved,
}

/// A place in the line for a token; given up if the waiting request is dropped (a probe stopped at
/// its time limit), so the next one is not left behind it.
struct Waiting<'a> {
    per: &'a PerAddress,
    ticket: u64,
    in_slot: bool,
}

impl<'a> Waiting<'a> {
    /// A new place at the end of the line of `in_slot` requests (or of the others).
    fn enqueue(per: &'a PerAddress, in_slot: bool) -> Waiting<'a> {
        let mut b = per.bucket.lock().unwrap_or_else(|p| p.into_inner());
        let ticket = b.next_ticket;
        b.next_ticket += 1;
        b.queue(in_slot).push_back(ticket);
        Waiting {
            per,
            ticket,
            in_slot,
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut b = self.per.bucket.lock().unwrap_or_else(|p| p.into_inner());
        let ticket = self.ticket;
        b.queue(self.in_slot).retain(|t| *t != ticket);
        drop(b);
        self.per.moved.notify_waiters();
    }
}

/// Rate and connection limits for one address.
#[derive(Debug)]
struct PerAddress {
    bucket: Mutex<Bucket>,
    /// Told whenever the line for tokens moves (a token taken, a place given up).
    moved: Notify,
    connections: Arc<Semaphore>,
    handshakes: Arc<Handshakes>,
    /// The shortest plain TCP connect seen (SIP over TCP): apart from the TLS handshakes' own, so
    /// a connect timed under load on a plain port never makes TLS hellos overlap at a near server.
    stream_connect: Mutex<Option<Duration>>,
}

/// The run's politeness budget, applied per target address.
#[derive(Debug)]
pub struct Limiter {
    rate: f64,
    burst: f64,
    max_connections: usize,
    addresses: Mutex<HashMap<IpAddr, Arc<PerAddress>>>,
}

impl Limiter {
    /// `rate` new requests per second with bursts of `burst`, and `max_connections` at once, per address.
    pub fn new(rate: f64, burst: u32, max_connections: usize) -> Limiter {
        Limiter {
            rate: rate.max(0.1),
            burst: f64::from(burst.max(1)),
            max_connections: max_connections.max(1),
            addresses: Mutex::new(HashMap::new()),
        }
    }

    fn per(&self, addr: IpAddr) -> Arc<PerAddress> {
        let mut map = self.addresses.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(addr)
            .or_insert_with(|| {
                Arc::new(PerAddress {
                    bucket: Mutex::new(Bucket {
                        tokens: self.burst,
                        last: Instant::now(),
                        in_slot: VecDeque::new(),
                        others: VecDeque::new(),
                        next_ticket: 0,
                    }),
                    moved: Notify::new(),
                    connections: Arc::new(Semaphore::new(self.max_connections)),
                    handshakes: Arc::default(),
                    stream_connect: Mutex::new(None),
                })
            })
            .clone()
    }

    /// Waits until one more request may be sent to `addr`.
    pub async fn request(&self, addr: IpAddr) {
        self.take_token(addr, false).await;
    }

    /// [`request`](Limiter::request) for a request whose connection already holds one of the
    /// address's connection slots: it gets the next token before the requests that hold none (UDP).
    /// A slot held while its request waits behind a queue of UDP requests is a connection nobody
    /// uses, and the cap is what paces streams at a distance; the rate is the same, only the order
    /// in which waiting requests get their tokens changes.
    pub async fn request_in_slot(&self, addr: IpAddr) {
        self.take_token(addr, true).await;
    }

    /// [`request_in_slot`](Limiter::request_in_slot) for a request whose connection is still to be
    /// opened: `open` starts once the token is due within `lead` (the connect's round trip), so the
    /// connect overlaps the wait for the token, and the connection never sits open waiting for its
    /// token much longer than that. The rate budget counts requests; a SYN is none.
    pub async fn request_in_slot_opening<F: Future>(
        &self,
        addr: IpAddr,
        lead: Duration,
        open: F,
    ) -> F::Output {
        let per = self.per(addr);
        let place = Waiting::enqueue(&per, true);
        self.until_due_within(&place, lead).await;
        let (out, ()) = tokio::join!(open, self.wait_token(place));
        out
    }

    async fn take_token(&self, addr: IpAddr, in_slot: bool) {
        let per = self.per(addr);
        self.wait_token(Waiting::enqueue(&per, in_slot)).await;
    }

    /// Waits until the token of `place` is due within `lead`.
    async fn until_due_within(&self, place: &Waiting<'_>, lead: Duration) {
        self.watch(place.per, |b| {
            let due = b.due(place.ticket, place.in_slot, self.rate);
            if due <= lead {
                Watch::Done
            } else {
                Watch::Sleep(due - lead)
            }
        })
        .await;
    }

    /// Waits for the token of `place` and takes it; `place` gives up the ticket as it is dropped
    /// and wakes the next.
    async fn wait_token(&self, place: Waiting<'_>) {
        let (ticket, in_slot) = (place.ticket, place.in_slot);
        self.watch(place.per, |b| {
            if !b.is_next(ticket, in_slot) {
                Watch::UntilMoved
            } else if b.tokens >= 1.0 - 1e-9 {
                b.tokens -= 1.0;
                Watch::Done
            } else {
                Watch::Sleep(Duration::from_secs_f64((1.0 - b.tokens) / self.rate))
            }
        })
        .await;
        drop(place);
    }

    /// Reads the address's line (refilled) with `step` until it says done, again whenever the line
    /// moves or the wait it names has passed.
    async fn watch(&self, per: &PerAddress, mut step: impl FnMut(&mut Bucket) -> Watch) {
        loop {
            let moved = per.moved.notified();
            tokio::pin!(moved);
            // Registered before the line is read, so a move in between still wakes us.
            moved.as_mut().enable();
            let next = {
                let mut b = per.bucket.lock().unwrap_or_else(|p| p.into_inner());
                b.refill(self.rate, self.burst);
                step(&mut b)
            };
            match next {
                Watch::Done => return,
                Watch::Sleep(w) => {
                    tokio::select! {
                        () = tokio::time::sleep(w) => {}
                        () = moved => {}
                    }
                }
                Watch::UntilMoved => moved.await,
            }
        }
    }

    /// Holds one of the connection slots of `addr` until the permit is dropped.
    pub async fn connection(&self, addr: IpAddr) -> OwnedSemaphorePermit {
        let per = self.per(addr);
        per.connections
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// Waits for the turn to send a TLS hello to `addr`; hold it until the answer is read and the
    /// connection closed.
    pub async fn handshake(&self, addr: IpAddr) -> HandshakeTurn {
        self.per(addr).handshakes.clone().turn().await
    }

    /// Records how long a plain TCP connect to `addr` took (SIP over TCP).
    pub fn stream_connected(&self, addr: IpAddr, took: Duration) {
        let per = self.per(addr);
        let mut m = per.stream_connect.lock().unwrap_or_else(|p| p.into_inner());
        *m = Some(m.map_or(took, |r| r.min(took)));
    }

    /// The round trip a plain TCP connect to `addr` takes, if it is a real one (every connect
    /// timed took at least [`FAR`]): how far ahead of a request's token its connect may start.
    pub fn stream_connect_lead(&self, addr: IpAddr) -> Option<Duration> {
        let per = self.per(addr);
        let m = per.stream_connect.lock().unwrap_or_else(|p| p.into_inner());
        m.filter(|r| *r >= FAR)
    }

    /// Records how long a TCP connect to `addr` took: whether hellos may overlap there.
    pub fn connected(&self, addr: IpAddr, took: Duration) {
        self.per(addr).handshakes.connected(took);
    }

    /// Whether `addr` is far enough for TLS hellos to overlap (its connects take a real round trip).
    pub fn is_far(&self, addr: IpAddr) -> bool {
        self.per(addr).handshakes.is_far()
    }

    /// The handshake turns of `addr`, for handshakes run on a blocking thread.
    pub fn turns(&self, addr: IpAddr) -> Turns {
        Turns(self.per(addr).handshakes.clone())
    }

    /// A connection slot of `addr` if one is free right now and nobody is waiting for it: extra
    /// connections opened ahead of need (the TLS scan's pre-connects) never delay a waiting probe.
    pub fn try_connection(&self, addr: IpAddr) -> Option<OwnedSemaphorePermit> {
        self.per(addr).connections.clone().try_acquire_owned().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bucket_allows_burst_then_paces() {
        let l = Limiter::new(10.0, 3, 2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            l.request(a).await;
        }
        assert!(t0.elapsed() < Duration::from_millis(1));
        l.request(a).await;
        assert!(t0.elapsed() >= Duration::from_millis(99));
        // Another address has its own budget.
        let t1 = Instant::now();
        l.request("127.0.0.2".parse().unwrap()).await;
        assert!(t1.elapsed() < Duration::from_millis(1));
    }

    /// A plain TCP connect is worth opening ahead of its token only where every connect timed took a
    /// round trip: one fast connect (a near server, timed once under load as slow) says near.
    #[test]
    fn stream_connects_lead_only_where_every_connect_took_a_round_trip() {
        let l = Limiter::new(10.0, 1, 2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(l.stream_connect_lead(a), None, "nothing timed yet: near");
        l.stream_connected(a, Duration::from_millis(60));
        l.stream_connected(a, Duration::from_millis(50));
        assert_eq!(l.stream_connect_lead(a), Some(Duration::from_millis(50)));
        l.stream_connected(a, Duration::from_micros(100));
        l.stream_connected(a, Duration::from_millis(50));
        assert_eq!(l.stream_connect_lead(a), None);
        // Apart from the TLS handshakes' own measure: TLS hellos stay spaced as near.
        assert!(!l.is_far(a));
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        l.stream_connected(b, Duration::from_millis(50));
        assert!(!l.is_far(b));
    }

    /// The connect starts one lead before the request's token is due, and the request goes when
    /// both are done: the connect's round trip overlaps the wait instead of following it.
    #[tokio::test(start_paused = true)]
    async fn a_connect_starts_one_lead_before_its_token() {
        let l = Limiter::new(10.0, 1, 2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        l.request(a).await;
        let connect = |took: u64| async move {
            let started = t0.elapsed();
            tokio::time::sleep(Duration::from_millis(took)).await;
            started
        };
        let lead = Duration::from_millis(30);
        let started = l.request_in_slot_opening(a, lead, connect(30)).await;
        assert_eq!(started, Duration::from_millis(70));
        assert_eq!(t0.elapsed(), Duration::from_millis(100));
        // A connect slower than its lead: the request goes when the connect is done.
        let started = l.request_in_slot_opening(a, lead, connect(80)).await;
        assert_eq!(started, Duration::from_millis(170));
        assert_eq!(t0.elapsed(), Duration::from_millis(250));
        // A token already there: the connect starts at once.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = l.request_in_slot_opening(a, lead, connect(30)).await;
        assert_eq!(started, Duration::from_millis(450));
    }

    /// A request whose connection holds a slot gets the next token before one that waited longer
    /// without a slot; the rate stays the same.
    #[tokio::test(start_paused = true)]
    async fn a_request_holding_a_slot_goes_first() {
        let l = Arc::new(Limiter::new(10.0, 1, 2));
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        l.request(a).await;
        let udp = tokio::spawn({
            let l = l.clone();
            async move {
                l.request(a).await;
                t0.elapsed()
            }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        l.request_in_slot(a).await;
        assert_eq!(t0.elapsed(), Duration::from_millis(100));
        assert_eq!(udp.await.unwrap(), Duration::from_millis(200));
    }

    /// A request given up while it waits (its probe stopped) does not hold back the next.
    #[tokio::test(start_paused = true)]
    async fn a_dropped_request_leaves_the_line() {
        let l = Arc::new(Limiter::new(10.0, 1, 2));
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        l.request(a).await;
        let gone = tokio::spawn({
            let l = l.clone();
            async move { l.request(a).await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        gone.abort();
        let _ = gone.await;
        l.request(a).await;
        assert_eq!(t0.elapsed(), Duration::from_millis(100));
    }

    /// Many tasks sharing one address's bucket (a probe measuring its endpoints concurrently) get
    /// tokens no faster than the rate: the n-th is let through no earlier than (n - burst) / rate.
    #[tokio::test(start_paused = true)]
    async fn concurrent_tasks_share_one_budget_per_address() {
        let l = Arc::new(Limiter::new(10.0, 3, 2));
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..40 {
            let l = l.clone();
            set.spawn(async move {
                l.request(a).await;
                Instant::now()
            });
        }
        let mut at: Vec<Duration> = set.join_all().await.iter().map(|t| *t - t0).collect();
        at.sort();
        for (n, t) in at.iter().enumerate() {
            let earliest = Duration::from_secs_f64((n as f64 + 1.0 - 3.0).max(0.0) / 10.0);
            assert!(
                *t + Duration::from_micros(10) >= earliest,
                "request {n} at {t:?}"
            );
        }
        // Paced, not serialised behind one another's sleeps: the last is let through at its turn.
        assert!(at[39] < Duration::from_millis(3800), "{:?}", at[39]);
    }
}
