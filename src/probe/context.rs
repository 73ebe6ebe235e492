//! The run context every probe shares: target, endpoints, settings, politeness budget, memoised exchanges.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::Limiter;
use super::challenge::{self, Authed};
use crate::evidence;
use crate::findings::{Evidence, Finding, ids};
use crate::sip::{Limits, Request};
use crate::target::{Endpoint, Host, Target, Transport};
use crate::transport::{
    Connection, Exchange, Timers, TlsSettings, TxError, TxKey, Wire, transaction,
};

/// Settings of a run. `Config::default()` is what `sipcheck probe` uses without flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// RFC 3261 timers: T1, and the longest wait for an answer (`--timeout`).
    pub timers: Timers,
    /// The User-Agent our requests carry.
    pub user_agent: String,
    /// The SIP domain: SNI and the RFC 5922 identity the certificate must match.
    pub domain: String,
    /// Trust roots, client certificate, key log.
    pub tls: TlsSettings,
    /// Bounds on what a peer may send.
    pub limits: Limits,
    /// New requests per second per address, and the burst allowed before pacing starts.
    pub rate: f64,
    /// Requests allowed at once before pacing starts.
    pub burst: u32,
    /// Simultaneous connections per address.
    pub max_connections: usize,
    /// Run probes of the `dos` class (bounded floods that look for rate limiting); opt-in.
    pub dos: bool,
    /// Hard cap on the requests one `dos` probe may send.
    pub dos_max_requests: u32,
    /// Longest a single probe may run before it is stopped and reported as `error`.
    pub probe_timeout: Duration,
    /// Run probes of the `intrusive` class (malformed or oversized messages, REFER with credentials).
    pub intrusive: bool,
    /// Judge each TLS endpoint against this profile (`--profile`): adds `tls.profile`.
    pub tls_profile: Option<crate::findings::tls::profile::Profile>,
    /// How endpoints are discovered (`--dns-server`, `--no-discovery`, bounds).
    pub discovery: crate::discover::Settings,
    /// Test calls: `--call-to`, `--allow-calls`, `--max-calls`, credentials (see [`crate::call`]).
    pub calls: super::CallPolicy,
    /// Extra malformed-message cases (`--catalog DIR`), added to the built-in catalog at run time.
    pub catalog_dir: Option<std::path::PathBuf>,
    /// Loop calls: `--loop-call`, `--listen`, `--spoof-caller-id`, the identity verifier.
    pub loop_calls: super::LoopSettings,
    /// Told when each probe starts and ends (a terminal's progress bar); nothing when unset.
    pub progress: super::Progress,
}

/// The default `--max-connections`: TCP/TLS connections one address holds from us at once. Five is
/// sslyze's default per-server limit, so a server that tolerates the TLS scanner its operators already
/// run tolerates us. Measured, it is the fewest that fit a default scan of a server 100 ms away into its
/// request pacing plus a few round trips (docs/benchmarks.md); near, the rate budget binds first.
pub const DEFAULT_MAX_CONNECTIONS: usize = 5;

impl Default for Config {
    fn default() -> Self {
        Config {
            timers: Timers::default(),
            user_agent: crate::sip::request::default_user_agent(),
            domain: String::new(),
            tls: TlsSettings::webpki(),
            limits: Limits::default(),
            rate: 20.0,
            burst: 10,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            dos: false,
            dos_max_requests: 600,
            probe_timeout: Duration::from_secs(120),
            intrusive: false,
            tls_profile: None,
            discovery: crate::discover::Settings::default(),
            calls: super::CallPolicy::default(),
            catalog_dir: None,
            loop_calls: Default::default(),
            progress: Default::default(),
        }
    }
}

type OptionsSlot = Arc<OnceCell<Arc<Exchange>>>;
type AuthedSlot = Arc<OnceCell<Arc<Authed>>>;

/// Everything a probe needs, shared by all probes of a run.
pub struct Context {
    pub target: Target,
    pub endpoints: Vec<Endpoint>,
    pub config: Config,
    /// What DNS discovery found (records, cuts); `None` when the context was built without it.
    pub discovery: Option<Arc<crate::discover::Discovery>>,
    pub limiter: Arc<Limiter>,
    run_start: Instant,
    options: Mutex<HashMap<Endpoint, OptionsSlot>>,
    sips_options: Mutex<HashMap<Endpoint, OptionsSlot>>,
    options_authed: Mutex<HashMap<Endpoint, AuthedSlot>>,
    reached: Mutex<HashMap<String, bool>>,
    /// The most each endpoint's SIP exchanges got back (by endpoint label), for an honest verdict on a
    /// run in which nothing answered SIP.
    wire: Mutex<HashMap<String, (Transport, Wire)>>,
    /// Finding ids of the probes selected for this run, so a heavy probe can let light ones go first.
    pub selected: Vec<&'static str>,
    /// Flood probes that have sent their flood in this run, in order, so the next one waits for the
    /// trunk to answer normally again and says what ran before it.
    pub floods_done: Mutex<Vec<&'static str>>,
    /// Findings probes finished before they were done (per endpoint), so that a probe stopped at its
    /// time limit loses only what it had not measured yet (see [`Context::keep`]).
    kept: Mutex<Vec<Finding>>,
}

impl Context {
    pub fn new(target: Target, endpoints: Vec<Endpoint>, mut config: Config) -> Context {
        if config.domain.is_empty() {
            config.domain = target.domain();
        }
        Context {
            limiter: Arc::new(Limiter::new(
                config.rate,
                config.burst,
                config.max_connections,
            )),
            target,
            endpoints,
            config,
            discovery: None,
            run_start: Instant::now(),
            options: Mutex::new(HashMap::new()),
            sips_options: Mutex::new(HashMap::new()),
            options_authed: Mutex::new(HashMap::new()),
            reached: Mutex::new(HashMap::new()),
            wire: Mutex::new(HashMap::new()),
            selected: Vec::new(),
            floods_done: Mutex::new(Vec::new()),
            kept: Mutex::new(Vec::new()),
        }
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.run_start.elapsed()
    }

    pub fn run_start(&self) -> Instant {
        self.run_start
    }

    /// The endpoints on one transport.
    pub fn endpoints_on(&self, t: Transport) -> impl Iterator<Item = &Endpoint> {
        self.endpoints.iter().filter(move |e| e.transport == t)
    }

    /// The host to put in Request-URIs: the domain name when the target is a name, else the address.
    pub fn uri_host(&self, ep: &Endpoint) -> String {
        match &self.target.host {
            Host::Name(n) => n.clone(),
            Host::Ip(_) => match ep.address {
                IpAddr::V6(a) => format!("[{a}]"),
                a => a.to_string(),
            },
        }
    }

    /// `sip:host:port` (or `sips:`) for an endpoint; `sip:user@host:port` when the target named a user
    /// (a UA such as baresip only answers requests addressed to its account).
    pub fn request_uri(&self, ep: &Endpoint, sips: bool) -> String {
        let scheme = if sips { "sips" } else { "sip" };
        let user = self
            .target_user()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        format!("{scheme}:{user}{}:{}", self.uri_host(ep), ep.port)
    }

    /// The user part of a `sip:user@host` / `sips:user@host` target, if one was given.
    pub fn target_user(&self) -> Option<String> {
        self.target.user.clone()
    }

    /// Records a finished per-endpoint finding as it is made, and returns it: if the probe then hits
    /// its time limit, the runner keeps what was recorded and reports only the rest as unfinished.
    pub fn keep(&self, f: Finding) -> Finding {
        self.kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(f.clone());
        f
    }

    /// Runs `measure` for every item (an endpoint and what it needs) concurrently, within each address's
    /// politeness budget, and [keeps](Context::keep) each item's findings as soon as they are made: silent
    /// endpoints share one wait instead of waiting one after another, and a probe stopped at its time
    /// limit loses only the endpoints it had not finished. Findings come back in the items' order.
    pub async fn per_endpoint<T, F, Fut>(&self, items: Vec<T>, measure: F) -> Vec<Finding>
    where
        F: Fn(T) -> Fut,
        Fut: std::future::Future<Output = Vec<Finding>>,
    {
        let measure = &measure;
        futures_util::future::join_all(items.into_iter().map(|item| async move {
            let found = measure(item).await;
            found.into_iter().map(|f| self.keep(f)).collect::<Vec<_>>()
        }))
        .await
        .into_iter()
        .flatten()
        .collect()
    }

    /// The shared OPTIONS exchanges of `eps`, fetched concurrently, in the same order.
    pub async fn options_of<'e>(
        &self,
        eps: impl IntoIterator<Item = &'e Endpoint>,
    ) -> Vec<Arc<Exchange>> {
        futures_util::future::join_all(eps.into_iter().map(|ep| self.options(ep))).await
    }

    /// The findings [`keep`](Context::keep) recorded with one of these ids.
    pub fn kept(&self, ids: &[&str]) -> Vec<Finding> {
        self.kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|f| ids.contains(&f.id.as_str()))
            .cloned()
            .collect()
    }

    /// A new request with the run's User-Agent and domain.
    pub fn request(&self, method: &str, uri: &str) -> Request {
        let mut r = Request::new(method, uri, &self.config.domain);
        r.user_agent = self.config.user_agent.clone();
        r
    }

    /// A count inside `probe` for the progress line (`cases`, `hellos`, `flood steps`); share one
    /// between the probe's endpoints so the line shows their sum.
    pub fn counter(&self, probe: &'static str, what: &'static str) -> super::Counter {
        super::Counter::new(self.config.progress.clone(), probe, what)
    }

    /// Tells the progress line that a call was placed: calls placed so far of `--max-calls`, a
    /// budget of the whole run (no one probe's count).
    pub fn call_placed(&self) {
        let c = &self.config.calls;
        self.counter("", "calls")
            .set(c.placed() as usize, c.max_calls as usize);
    }

    /// Records whether anything answered at an endpoint. Once reached, an endpoint stays reached.
    pub fn mark_reached(&self, ep: &Endpoint, reached: bool) {
        let mut m = self.reached.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.entry(ep.label()).or_insert(false);
        *e |= reached;
    }

    /// `Some(true)` if any contacted endpoint answered, `Some(false)` if all contacted ones were silent,
    /// `None` if nothing was contacted.
    pub fn any_reached(&self) -> Option<bool> {
        let m = self.reached.lock().unwrap_or_else(|p| p.into_inner());
        if m.is_empty() {
            None
        } else {
            Some(m.values().any(|v| *v))
        }
    }

    /// Records what the wire showed of a SIP exchange with an endpoint; the most seen is kept.
    pub fn saw(&self, ep: &Endpoint, ex: &Exchange) {
        let seen = Wire::of(ex);
        let mut m = self.wire.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.entry(ep.label()).or_insert((ep.transport, seen.clone()));
        if seen > e.1 {
            e.1 = seen;
        }
    }

    /// What the wire showed of each endpoint's SIP exchanges, by endpoint label, sorted; empty when
    /// no probe of the run sent SIP.
    pub fn wire(&self) -> Vec<(String, Transport, Wire)> {
        let m = self.wire.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<_> = m
            .iter()
            .map(|(k, (t, w))| (k.clone(), *t, w.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Opens a connection under the politeness budget (the permit must live as long as the connection).
    /// A stream holds one of the address's connection slots; a UDP socket holds none (the server keeps
    /// no connection for it, only the transaction), so UDP transactions are bounded by the rate alone.
    pub async fn connect(
        &self,
        ep: &Endpoint,
    ) -> Result<(Connection, Option<tokio::sync::OwnedSemaphorePermit>), TxError> {
        let permit = if ep.transport.is_stream() {
            Some(self.limiter.connection(ep.address).await)
        } else {
            None
        };
        let open = |deadline| {
            Connection::open(
                ep,
                &self.config.tls,
                &self.config.domain,
                self.config.limits,
                deadline,
            )
        };
        let conn = match ep.transport {
            Transport::Udp => {
                self.limiter.request(ep.address).await;
                open(Instant::now() + self.config.timers.timeout).await
            }
            Transport::Tcp => {
                let timed = async {
                    let t = Instant::now();
                    let c = open(t + self.config.timers.timeout).await;
                    if c.is_ok() {
                        self.limiter.stream_connected(ep.address, t.elapsed());
                    }
                    c
                };
                // Where a connect costs a round trip, it starts that long before the request's
                // token is due, so the two waits overlap (see `Limiter::request_in_slot_opening`);
                // near, it follows the token, so the server never holds a connection idle for one.
                // Either way the request goes ahead of those holding no slot.
                match self.limiter.stream_connect_lead(ep.address) {
                    Some(lead) => {
                        self.limiter
                            .request_in_slot_opening(ep.address, lead, timed)
                            .await
                    }
                    None => {
                        self.limiter.request_in_slot(ep.address).await;
                        timed.await
                    }
                }
            }
            // The TLS handshake takes the address's handshake turn, like the TLS scan's hellos, and
            // only once the token is there: a turn held while waiting would stall every other hello.
            Transport::Tls => {
                self.limiter.request_in_slot(ep.address).await;
                let turn = self.limiter.handshake(ep.address).await;
                let conn = open(Instant::now() + self.config.timers.timeout).await;
                drop(turn);
                conn
            }
        };
        match conn {
            Ok(mut c) => {
                // Its close is TLS work at the server too: sent in a turn of its own.
                if ep.transport == Transport::Tls {
                    c.close_in_turn(self.limiter.turns(ep.address));
                }
                Ok((c, permit))
            }
            Err(e) => {
                // A server that asked for a client certificate answered TLS, even if it then hung up.
                self.mark_reached(ep, e.is_client_cert());
                Err(e)
            }
        }
    }

    /// One transaction for `req` on a fresh connection; failures are inside the returned exchange.
    pub async fn exchange(&self, ep: &Endpoint, req: &Request) -> Exchange {
        let key = TxKey {
            branch: req.branch.clone(),
            method: req.method.clone(),
        };
        let first = self
            .exchange_with(ep, &key, |local| req.render(ep.transport, local))
            .await;
        // A stream reset before any answer is retried once: a transient reset (a busy worker, a
        // neighbour's failed handshake) is not the trunk's answer. The evidence keeps the first failure.
        let transient = matches!(first.error, Some(TxError::Reset | TxError::Closed));
        if !(ep.transport.is_stream() && first.responses.is_empty() && transient) {
            return first;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut second = self
            .exchange_with(ep, &key, |local| req.render(ep.transport, local))
            .await;
        second.earlier_attempt = first.error.map(|e| e.to_string());
        second
    }

    /// One transaction whose bytes are made by `render` from the local address (for hand-made messages).
    pub async fn exchange_with(
        &self,
        ep: &Endpoint,
        key: &TxKey,
        render: impl FnOnce(SocketAddr) -> Vec<u8>,
    ) -> Exchange {
        let at = self.elapsed();
        let (mut conn, _permit) = match self.connect(ep).await {
            Ok(c) => c,
            Err(e) => {
                let ex = Exchange::not_sent(ep, at, Some(e));
                self.saw(ep, &ex);
                return ex;
            }
        };
        let bytes = render(conn.local);
        let ex = transaction(&mut conn, bytes, key, &self.config.timers, self.run_start).await;
        self.mark_reached(ep, ex.reached);
        self.saw(ep, &ex);
        conn.close().await;
        ex
    }

    /// The plain OPTIONS exchange with an endpoint, done once per run and shared by every probe.
    pub async fn options(&self, ep: &Endpoint) -> Arc<Exchange> {
        self.shared_options(&self.options, ep, false).await
    }

    /// [`options`](Context::options) under the shared rule for challenges (see [`Authed`]): answered
    /// with `--user` when challenged; done once per run and shared.
    pub async fn options_authed(&self, ep: &Endpoint) -> Arc<Authed> {
        let slot = {
            let mut m = self
                .options_authed
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            m.entry(ep.clone()).or_default().clone()
        };
        slot.get_or_init(|| async {
            let first = self.options(ep).await;
            let req = self.options_request(ep, false);
            Arc::new(challenge::authenticate(self, ep, &req, first).await)
        })
        .await
        .clone()
    }

    /// [`sips_options`](Context::sips_options) under the shared rule for challenges.
    pub async fn sips_options_authed(&self, ep: &Endpoint) -> Authed {
        let first = self.sips_options(ep).await;
        let req = self.options_request(ep, true);
        challenge::authenticate(self, ep, &req, first).await
    }

    /// One transaction for `req` under the shared rule for a 401/407 answer (see [`Authed`]).
    pub async fn exchange_authed(&self, ep: &Endpoint, req: &Request) -> Authed {
        let first = Arc::new(self.exchange(ep, req).await);
        challenge::authenticate(self, ep, req, first).await
    }

    fn options_request(&self, ep: &Endpoint, sips: bool) -> Request {
        let uri = self.request_uri(ep, sips);
        self.request("OPTIONS", &uri)
            .header("Accept", "application/sdp")
    }

    /// The OPTIONS to a `sips:` Request-URI over TLS, done once per run and shared.
    pub async fn sips_options(&self, ep: &Endpoint) -> Arc<Exchange> {
        self.shared_options(&self.sips_options, ep, true).await
    }

    async fn shared_options(
        &self,
        slots: &Mutex<HashMap<Endpoint, OptionsSlot>>,
        ep: &Endpoint,
        sips: bool,
    ) -> Arc<Exchange> {
        let slot = {
            let mut m = slots.lock().unwrap_or_else(|p| p.into_inner());
            m.entry(ep.clone()).or_default().clone()
        };
        slot.get_or_init(|| async {
            let req = self.options_request(ep, sips);
            Arc::new(self.exchange(ep, &req).await)
        })
        .await
        .clone()
    }

    /// Whether a finding id is written by a probe selected for this run.
    pub fn is_selected(&self, finding_id: &str) -> bool {
        self.selected.contains(&finding_id)
    }

    /// Waits until the light SIP exchanges that selected probes make with `ep` are done, so a heavy
    /// probe (a TLS scan, a malformed-message catalog) does not disturb them. Some servers reset an
    /// established connection when another connection's handshake fails in the same worker.
    pub async fn let_light_probes_go_first(&self, ep: &Endpoint) {
        let wants_options = match ep.transport {
            Transport::Udp => self.is_selected(ids::TRANSPORT_UDP.id),
            Transport::Tcp => self.is_selected(ids::TRANSPORT_TCP.id),
            Transport::Tls => self.is_selected(ids::TRANSPORT_TLS.id),
        } || [
            ids::SIP_ALLOW.id,
            ids::SIP_REFER.id,
            ids::SIP_SERVER_HEADER.id,
            ids::TRANSPORT_PLAINTEXT_OPEN.id,
        ]
        .iter()
        .any(|id| self.is_selected(id));
        if wants_options {
            self.options(ep).await;
        }
        if ep.transport == Transport::Tls && self.is_selected(ids::SIPS_OPTIONS.id) {
            self.sips_options(ep).await;
        }
    }

    /// Evidence for an exchange.
    pub fn evidence(&self, ex: &Exchange) -> Evidence {
        evidence::from_exchange(ex)
    }
}
