//! Politeness: a token bucket per target address, a cap on simultaneous connections, and TLS
//! handshakes spaced so that the server never works on two at once ([`super::handshakes`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::handshakes::{HandshakeTurn, Handshakes, Turns};

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Rate and connection limits for one address.
#[derive(Debug)]
struct PerAddress {
    bucket: Mutex<Bucket>,
    connections: Arc<Semaphore>,
    handshakes: Arc<Handshakes>,
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
                    }),
                    connections: Arc::new(Semaphore::new(self.max_connections)),
                    handshakes: Arc::default(),
                })
            })
            .clone()
    }

    /// Waits until one more request may be sent to `addr`.
    pub async fn request(&self, addr: IpAddr) {
        let per = self.per(addr);
        let wait = {
            let mut b = per.bucket.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            b.tokens = (b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * self.rate)
                .min(self.burst);
            b.last = now;
            b.tokens -= 1.0;
            if b.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-b.tokens / self.rate)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
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
