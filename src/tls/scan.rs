//! The TLS scan of one endpoint: versions, cipher suites in server order, groups, fallback handling,
//! and the first flights (certificates) seen on the way.
//!
//! Every ClientHello is one short TCP connection. The version probe of a version offers every suite
//! of that version, so it is also the first step of that version's enumeration, which then offers all
//! remaining suites and removes the chosen one until the server refuses: N accepted suites cost N + 1
//! hellos and come out in the server's preference order when the server enforces one. Picks that
//! deviate from the offered order prove a server order; picks in the offered order are ambiguous, and
//! one more hello offering the first and last suite found in reverse order settles it.
//! Versions, groups and the fallback test run concurrently under the connection limit.
//!
//! Speed at a distance is the longest line of dependent hellos (about 80 for a legacy TLS 1.2 list).
//! Each line keeps its connection slot and, where connecting costs a round trip, opens its next
//! connection while a hello is in flight ([`super::line`]), so a hello costs one round trip, not two.
//! Each version, suite and group hello is followed at once by close_notify and our FIN, so a server
//! that serves one connection at a time (`openssl s_server`, which reads a closed connection to the
//! peer's FIN before it accepts the next) is free again as soon as it has answered, not a round trip
//! later. An answer that is not a whole first flight is asked again without the early close, so
//! neither changes a result.
//!
//! Hellos to one address are spaced so that the server never handles two at once (see
//! [`crate::transport::HandshakeTurn`]: concurrent handshakes corrupt Kamailio 5.6's memory): near,
//! the next goes once the server has closed the last connection; at a distance, a few milliseconds
//! after the last hello, so the lines still overlap their round trips.
//!
//! Politeness is the connection cap (`--max-connections`, shared with the other probes per address):
//! each hello is one short connection and nothing else is sent, so the request-rate bucket (meant
//! for SIP requests) is not applied here; a scan of a legacy server takes about 160 connections.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::join_all;
use serde::Serialize;
use tokio::time::Instant;

use super::answer::{Answer, ServerHello};
use super::groups;
use super::hello::Hello;
use super::line::Line;
use super::suites;
use super::version::{Version, wire_label};
use super::wire;
use crate::progress::Counter;
use crate::transport::Limiter;

/// Where and how to scan.
pub struct Scanner<'a> {
    pub addr: SocketAddr,
    /// SNI host name; `None` for IP targets.
    pub sni: Option<String>,
    /// Longest wait for one answer (connect + hello + flight).
    pub wait: Duration,
    limiter: &'a Limiter,
    connections: AtomicUsize,
    /// Whether hellos in a line are followed at once by close_notify (see [`wire::ask_on`]); cleared
    /// when that cost this server an answer.
    close_first: AtomicBool,
    start: Instant,
    log: Mutex<Vec<Logged>>,
    blocked: Mutex<Option<String>>,
    /// Told of each hello answered (the progress line's `hellos`).
    hellos: Option<Counter>,
}

/// One hello and its answer, for evidence.
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: Duration,
    pub purpose: String,
    pub sent: String,
    pub answer: String,
}

/// How one version was answered.
#[derive(Debug, Clone)]
pub struct VersionResult {
    pub accepted: bool,
    pub refusal: Option<String>,
    pub answer: Answer,
}

/// The accepted suites of one version.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteList {
    /// `Some(true)` when the server enforces its own order, `Some(false)` when it follows the client's,
    /// `None` when fewer than two suites make the question moot.
    pub server_order: Option<bool>,
    pub suites: Vec<u16>,
}

/// Fallback protection (RFC 7507) and the TLS 1.3 downgrade sentinel (RFC 8446 §4.1.3).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Mismatch {
    /// `None` when the test does not apply (fewer than two versions accepted).
    pub fallback_scsv_tested_with: Option<String>,
    pub fallback_scsv_answer: Option<String>,
    pub fallback_scsv_honoured: Option<bool>,
    /// How `fallback_scsv_honoured` was decided, when the answer was not an alert.
    pub fallback_scsv_how: Option<String>,
    /// For each version below TLS 1.3 that was accepted, the sentinel seen (or none); only filled when
    /// TLS 1.3 is accepted.
    pub downgrade_sentinel: BTreeMap<String, Option<String>>,
}

/// The key-exchange groups accepted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Groups {
    /// How they were found: `tls1.3 key_share/HelloRetryRequest` or `tls1.2 ServerKeyExchange`.
    pub method: Option<String>,
    /// In the server's preference order.
    pub groups: Vec<u16>,
    /// DHE prime sizes seen in TLS ≤ 1.2 ServerKeyExchange messages.
    pub dh_bits: Vec<usize>,
}

/// The extensions and session id of one TLS ≤ 1.2 ServerHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloFacts {
    pub version: u16,
    pub suite: u16,
    pub extensions: Vec<u16>,
    pub session_id_len: u8,
}

impl HelloFacts {
    fn of(h: &ServerHello) -> HelloFacts {
        HelloFacts {
            version: h.version,
            suite: h.suite,
            extensions: h.extensions.clone(),
            session_id_len: h.session_id_len,
        }
    }
}

/// How an SSLv2 CLIENT-HELLO was answered.
#[derive(Debug, Clone)]
pub struct Sslv2Result {
    pub accepted: bool,
    pub refusal: Option<String>,
    /// The cipher kinds the SERVER-HELLO offered.
    pub ciphers: Vec<String>,
}

/// Everything the scan measured.
#[derive(Debug, Clone)]
pub struct ScanResult {
    /// SSLv3 to TLS 1.3 (TLS-record hellos); SSLv2 is [`ScanResult::sslv2`].
    pub versions: BTreeMap<Version, VersionResult>,
    /// `None` when the SSLv2 hello was not sent (the scan stopped: blocked).
    pub sslv2: Option<Sslv2Result>,
    pub suites: BTreeMap<Version, SuiteList>,
    pub groups: Groups,
    pub mismatch: Mismatch,
    /// TLS ≤ 1.2 first flights, one per distinct leaf certificate.
    pub flights: Vec<ServerHello>,
    /// What each accepted TLS ≤ 1.2 hello's ServerHello said, one per (version, suite).
    pub hello_facts: Vec<HelloFacts>,
    /// Any flight asked for a client certificate / stapled OCSP / acknowledged renegotiation_info /
    /// chose compression.
    pub client_cert_requested: bool,
    pub ocsp_stapled: bool,
    pub secure_renegotiation: Option<bool>,
    pub compression: Option<bool>,
    pub connections: usize,
    pub elapsed: Duration,
    /// Set when the target started dropping connections, with what happened; results are partial.
    pub blocked: Option<String>,
    /// Versions (labels) whose hello met a dropped connection rather than an alert, when a later
    /// hello could not show the target was still answering: not judged.
    pub unconfirmed: Vec<String>,
    pub log: Vec<Logged>,
}

impl ScanResult {
    pub fn accepted(&self) -> Vec<Version> {
        self.versions
            .iter()
            .filter(|(_, r)| r.accepted)
            .map(|(v, _)| *v)
            .collect()
    }

    /// Whether the refusal of the version labelled `label` could not be judged (see
    /// [`ScanResult::unconfirmed`]).
    pub fn unjudged(&self, label: &str) -> bool {
        self.unconfirmed.iter().any(|l| l == label)
    }

    /// Whether anything at all answered at the TLS level (alert or hello).
    pub fn reached(&self) -> bool {
        self.versions
            .values()
            .any(|r| matches!(r.answer, Answer::Hello(_) | Answer::Alert { .. }))
            || self.sslv2.as_ref().is_some_and(|x| x.accepted)
    }
}

/// How each version's support hello was answered.
fn version_results(answers: Vec<(Version, Answer)>) -> BTreeMap<Version, VersionResult> {
    answers
        .into_iter()
        .map(|(v, a)| {
            let (accepted, refusal) = match &a {
                Answer::Hello(h) if h.version == v.wire() => (true, None),
                Answer::Hello(h) => (false, Some(format!("negotiated:{}", wire_label(h.version)))),
                other => (false, Some(other.refusal())),
            };
            (
                v,
                VersionResult {
                    accepted,
                    refusal,
                    answer: a,
                },
            )
        })
        .collect()
}

fn accepted_of(versions: &BTreeMap<Version, VersionResult>) -> Vec<Version> {
    versions
        .iter()
        .filter(|(_, r)| r.accepted)
        .map(|(v, _)| *v)
        .collect()
}

fn describe(h: &Hello) -> String {
    format!(
        "ClientHello {} with {} suites{}, groups {}",
        h.version.label(),
        h.suites.len(),
        if h.fallback_scsv {
            " + TLS_FALLBACK_SCSV"
        } else {
            ""
        },
        h.groups.len()
    )
}

/// Whether the fallback hello was refused because of the SCSV, and how that was decided when it was
/// not the `inappropriate_fallback` alert.
fn fallback_verdict(a: &Answer, control: Option<&Answer>) -> (Option<bool>, Option<String>) {
    match (a, control) {
        (
            Answer::Alert {
                description: 86, ..
            },
            _,
        ) => (Some(true), None),
        (Answer::Hello(_), _) => (Some(false), None),
        (Answer::Closed | Answer::Reset, Some(Answer::Hello(h))) => (
            Some(true),
            Some(format!(
                "the hello with TLS_FALLBACK_SCSV was {} without an alert, the same hello without it was answered with {}",
                a.refusal(),
                describe_answer(&Answer::Hello(h.clone()))
            )),
        ),
        (Answer::Closed | Answer::Reset, Some(c)) => (
            None,
            Some(format!(
                "the hello with TLS_FALLBACK_SCSV was {}, and so was the same hello without it ({}): the refusal says nothing about the SCSV",
                a.refusal(),
                c.refusal()
            )),
        ),
        _ => (None, None),
    }
}

fn describe_answer(a: &Answer) -> String {
    match a {
        Answer::Hello(h) => format!(
            "{} {} {}{}",
            if h.hello_retry {
                "HelloRetryRequest"
            } else {
                "ServerHello"
            },
            wire_label(h.version),
            suites::name(h.suite),
            h.key_share_group
                .or(h.kx_group)
                .map(|g| format!(" group {}", groups::name(g)))
                .unwrap_or_default()
        ),
        other => other.refusal(),
    }
}

impl<'a> Scanner<'a> {
    pub fn new(
        addr: SocketAddr,
        sni: Option<String>,
        wait: Duration,
        limiter: &'a Limiter,
    ) -> Self {
        Scanner {
            addr,
            sni: sni.filter(|s| !s.is_empty() && s.parse::<std::net::IpAddr>().is_err()),
            wait,
            limiter,
            connections: AtomicUsize::new(0),
            close_first: AtomicBool::new(true),
            start: Instant::now(),
            log: Mutex::new(Vec::new()),
            blocked: Mutex::new(None),
            hellos: None,
        }
    }

    /// Counts each hello on `c` as it is answered.
    pub fn count_hellos(mut self, c: Counter) -> Self {
        self.hellos = Some(c);
        self
    }

    fn hello_done(&self) {
        if let Some(c) = &self.hellos {
            c.tick();
        }
    }

    fn is_blocked(&self) -> bool {
        self.blocked.lock().map(|b| b.is_some()).unwrap_or(true)
    }

    fn block(&self, why: String) {
        if let Ok(mut b) = self.blocked.lock()
            && b.is_none()
        {
            *b = Some(why);
        }
    }

    async fn ask(&self, purpose: &str, h: &Hello) -> Answer {
        let _permit = self.limiter.connection(self.addr.ip()).await;
        let turn = self.limiter.handshake(self.addr.ip()).await;
        let at = self.start.elapsed();
        let want_flight = h.version != Version::Tls13;
        let a = wire::ask(
            self.addr,
            &h.encode(),
            want_flight,
            self.wait,
            &self.connections,
            turn,
        )
        .await;
        self.hello_done();
        if let Ok(mut log) = self.log.lock() {
            log.push(Logged {
                at,
                purpose: purpose.to_string(),
                sent: describe(h),
                answer: describe_answer(&a),
            });
        }
        a
    }

    fn line(&self) -> Line<'_> {
        Line::new(self.addr, self.wait, self.limiter, &self.connections)
    }

    /// One hello of a line. With close_first, an answer that is not a whole first flight is asked
    /// again without it, and only that answer counts: a server that drops or alerts because of the
    /// early close_notify never costs a suite, and is asked without it from then on.
    async fn ask_in(&self, line: &mut Line<'_>, purpose: &str, h: &Hello, more: bool) -> Answer {
        let want_flight = h.version != Version::Tls13;
        let early = self.close_first.load(Ordering::Relaxed);
        let at = self.start.elapsed();
        let bytes = h.encode();
        let close = early.then(|| wire::close_notify(h.version.wire()));
        let mut a = line.ask(&bytes, close, want_flight, more).await;
        self.hello_done();
        let mut with_close = early;
        let whole = |a: &Answer| a.hello().is_some_and(|x| !want_flight || x.flight_complete);
        if early && !whole(&a) {
            let b = line.ask(&bytes, None, want_flight, more).await;
            self.hello_done();
            if whole(&b) {
                self.close_first.store(false, Ordering::Relaxed);
            }
            if let Ok(mut log) = self.log.lock() {
                log.push(Logged {
                    at,
                    purpose: purpose.to_string(),
                    sent: format!("{}, then close_notify", describe(h)),
                    answer: format!("{} (asked again without close_notify)", describe_answer(&a)),
                });
            }
            a = b;
            with_close = false;
        }
        if let Ok(mut log) = self.log.lock() {
            log.push(Logged {
                at,
                purpose: purpose.to_string(),
                sent: if with_close {
                    format!("{}, then close_notify", describe(h))
                } else {
                    describe(h)
                },
                answer: describe_answer(&a),
            });
        }
        a
    }

    fn hello(&self, v: Version, suites: Vec<u16>) -> Hello {
        Hello::new(v, suites, self.sni.clone())
    }

    /// One SSLv2 CLIENT-HELLO under the connection cap, logged like the other hellos.
    async fn sslv2(&self) -> Sslv2Result {
        let _permit = self.limiter.connection(self.addr.ip()).await;
        let turn = self.limiter.handshake(self.addr.ip()).await;
        let at = self.start.elapsed();
        let a = super::sslv2::ask(self.addr, self.wait, &self.connections, turn).await;
        self.hello_done();
        let (accepted, refusal, ciphers) = match &a {
            Ok(x) if x.accepted() => match x {
                super::sslv2::Sslv2Answer::ServerHello { ciphers, .. } => {
                    (true, None, ciphers.clone())
                }
                _ => (true, None, Vec::new()),
            },
            Ok(x) => (false, Some(x.refusal()), Vec::new()),
            Err(why) => (false, Some(why.clone()), Vec::new()),
        };
        if let Ok(mut log) = self.log.lock() {
            log.push(Logged {
                at,
                purpose: "SSLv2 support".into(),
                sent: format!(
                    "SSLv2 CLIENT-HELLO, {} cipher kinds",
                    super::sslv2::CIPHER_KINDS.len()
                ),
                answer: match &a {
                    Ok(x) if x.accepted() => format!("SSLv2 SERVER-HELLO, {}", ciphers.join(" ")),
                    Ok(x) => x.refusal(),
                    Err(why) => why.clone(),
                },
            });
        }
        Sslv2Result {
            accepted,
            refusal,
            ciphers,
        }
    }

    /// The hello that asks whether `v` is supported (every candidate suite).
    async fn ask_version(&self, line: &mut Line<'_>, v: Version, purpose: &str) -> Answer {
        let h = self.hello(v, suites::candidates(v));
        self.ask_in(line, purpose, &h, false).await
    }

    /// Runs the whole scan. Nothing waits for more than it needs: each version's enumeration starts
    /// when that version's hello is answered, the TLS 1.3 groups when TLS 1.3's is, and only the
    /// fallback test (which needs the two highest versions) waits for all of them.
    pub async fn run(&self) -> ScanResult {
        let probes: Vec<_> = Version::ALL
            .iter()
            .map(|&v| {
                async move {
                    let purpose = format!("{} support", v.label());
                    (v, self.ask_version(&mut self.line(), v, &purpose).await)
                }
                .shared()
            })
            .collect();
        let all_answers = || join_all(probes.iter().cloned());
        // Newest version first: its hello heads the longest lines (TLS 1.3's groups, TLS 1.2's
        // suites), and the address's connection slots go to whoever asked first.
        let enumerations = join_all(probes.iter().rev().cloned().map(|p| async move {
            let (v, a) = p.await;
            match a.hello() {
                Some(h) if h.version == v.wire() => Some((v, self.enumerate(v, h.suite).await)),
                _ => None,
            }
        }));
        let groups = async {
            let tls13 = probes[Version::ALL.len() - 1].clone().await;
            match tls13.1.hello() {
                Some(h) if h.version == Version::Tls13.wire() => self.groups13(h.suite).await,
                _ => {
                    let versions = version_results(all_answers().await);
                    self.groups12(&accepted_of(&versions)).await
                }
            }
        };
        let mismatch = async {
            let versions = version_results(all_answers().await);
            self.fallback(&accepted_of(&versions)).await
        };
        let sslv2 = async {
            let sslv2 = self.sslv2().await;
            let unconfirmed = self.confirm_refusals(&all_answers().await, &sslv2).await;
            (sslv2, unconfirmed)
        };
        let (enumerated, groups, mismatch, (sslv2, unconfirmed), answers) =
            tokio::join!(enumerations, groups, mismatch, sslv2, all_answers());
        let enumerated = enumerated.into_iter().flatten();
        let versions = version_results(answers);
        let accepted = accepted_of(&versions);
        let mut suites_by_version = BTreeMap::new();
        let mut flights: Vec<ServerHello> = Vec::new();
        let mut all_flights: Vec<ServerHello> = versions
            .values()
            .filter_map(|r| r.answer.hello().cloned())
            .filter(|h| h.version < 0x0304)
            .collect();
        for (v, (list, fl)) in enumerated {
            suites_by_version.insert(v, list);
            all_flights.extend(fl);
        }
        let mut groups = groups;
        for f in &all_flights {
            if let Some(bits) = f.dh_bits
                && !groups.dh_bits.contains(&bits)
            {
                groups.dh_bits.push(bits);
            }
            if !f.chain.is_empty() && !flights.iter().any(|g| g.chain.first() == f.chain.first()) {
                flights.push(f.clone());
            }
        }
        let mut mismatch = mismatch;
        if accepted.contains(&Version::Tls13) {
            for v in accepted.iter().filter(|v| **v < Version::Tls13) {
                let s = versions[v]
                    .answer
                    .hello()
                    .and_then(|h| h.downgrade_sentinel())
                    .map(str::to_string);
                mismatch.downgrade_sentinel.insert(v.label().to_string(), s);
            }
        }
        let any = |f: fn(&ServerHello) -> bool| all_flights.iter().any(f);
        let mut hello_facts: Vec<HelloFacts> = Vec::new();
        for f in &all_flights {
            let x = HelloFacts::of(f);
            if !hello_facts
                .iter()
                .any(|y| y.version == x.version && y.suite == x.suite)
            {
                hello_facts.push(x);
            }
        }
        ScanResult {
            hello_facts,
            client_cert_requested: any(|f| f.client_cert_requested),
            ocsp_stapled: any(|f| f.ocsp_stapled),
            secure_renegotiation: (!all_flights.is_empty())
                .then(|| any(|f| f.secure_renegotiation)),
            compression: (!all_flights.is_empty()).then(|| any(|f| f.compression != 0)),
            versions,
            sslv2: Some(sslv2),
            suites: suites_by_version,
            groups,
            mismatch,
            flights,
            connections: self.connections.load(Ordering::Relaxed),
            elapsed: self.start.elapsed(),
            blocked: self.blocked.lock().ok().and_then(|b| b.clone()),
            unconfirmed,
            log: self.log.lock().map(|l| l.clone()).unwrap_or_default(),
        }
    }

    /// A version hello met by a reset, a close or silence instead of an alert is a refusal only if
    /// the target was still answering: one that has begun dropping us (an intrusion prevention
    /// system mid-scan) drops every hello alike. One more hello, sent after those answers, tells the
    /// two apart: for the newest accepted version (it must be accepted again), else for the newest
    /// version refused by an alert (it must be answered again, by an alert or a hello). Not so
    /// answered, the scan is blocked and those versions are returned, not judged. Blocked already,
    /// they are not judged either, and no hello is spent.
    async fn confirm_refusals(
        &self,
        answers: &[(Version, Answer)],
        sslv2: &Sslv2Result,
    ) -> Vec<String> {
        let dropped = |a: &Answer| a.hello().is_none() && !a.is_alert();
        let mut odd: Vec<(String, String)> = answers
            .iter()
            .filter(|(_, a)| dropped(a))
            .map(|(v, a)| (v.label().to_string(), a.refusal()))
            .collect();
        if let Some(r) = sslv2.refusal.as_ref().filter(|r| !r.starts_with("alert:")) {
            odd.insert(0, (Version::Ssl2.label().to_string(), r.clone()));
        }
        if odd.is_empty() {
            return Vec::new();
        }
        let accepted = |v: &Version, a: &Answer| a.hello().is_some_and(|h| h.version == v.wire());
        let newest = |ok: &dyn Fn(&Version, &Answer) -> bool| {
            answers.iter().rev().find(|(v, a)| ok(v, a)).map(|(v, _)| *v)
        };
        let (v, alerted) = match (newest(&accepted), newest(&|_, a| a.is_alert())) {
            (Some(v), _) => (v, false),
            (None, Some(v)) => (v, true),
            (None, None) => return Vec::new(),
        };
        let labels = odd.iter().map(|(l, _)| l.clone()).collect();
        if self.is_blocked() {
            return labels;
        }
        let purpose = format!("versions health check ({})", v.label());
        let again = self.ask_version(&mut self.line(), v, &purpose).await;
        if again.hello().is_some() || (alerted && again.is_alert()) {
            return Vec::new();
        }
        let what: Vec<String> = odd.iter().map(|(l, r)| format!("{l} {r}")).collect();
        self.block(format!(
            "{}, and then {} {} to a hello it had {}",
            what.join(", "),
            v.label(),
            again.refusal(),
            if alerted { "answered" } else { "accepted" }
        ));
        labels
    }

    /// After an answer that is neither a hello nor an alert, asks again with a hello known to work:
    /// if that fails too the target is dropping us (blocked); if it works, the odd answer was the
    /// server's way of refusing.
    async fn still_answering(&self, line: &mut Line<'_>, v: Version, what: &Answer) -> bool {
        let purpose = format!("{} health check", v.label());
        let again = self.ask_version(line, v, &purpose).await;
        if again.hello().is_some() {
            return true;
        }
        self.block(format!(
            "{} answered {} and then {} to a hello it had accepted",
            v.label(),
            what.refusal(),
            again.refusal()
        ));
        false
    }

    async fn enumerate(&self, v: Version, first: u16) -> (SuiteList, Vec<ServerHello>) {
        let mut line = self.line();
        let mut remaining = suites::candidates(v);
        let mut found = vec![first];
        let mut flights = Vec::new();
        remaining.retain(|c| *c != first);
        for _ in 0..=remaining.len() {
            if remaining.is_empty() || self.is_blocked() {
                break;
            }
            let a = self
                .ask_in(
                    &mut line,
                    &format!("{} suites", v.label()),
                    &self.hello(v, remaining.clone()),
                    true,
                )
                .await;
            match &a {
                Answer::Hello(h) if h.version == v.wire() && remaining.contains(&h.suite) => {
                    remaining.retain(|c| *c != h.suite);
                    found.push(h.suite);
                    flights.push((**h).clone());
                }
                Answer::Hello(_) | Answer::Alert { .. } => break,
                // Reset, silence or close: either the server's way of saying "none of these", or the
                // target has started dropping us; the health check tells which.
                other => {
                    self.still_answering(&mut line, v, other).await;
                    break;
                }
            }
        }
        // A client-order server picks the suites in the order they were offered; any other sequence
        // already proves a server order, without the extra hello.
        let offered = suites::candidates(v);
        let rank = |c: &u16| offered.iter().position(|x| x == c).unwrap_or(usize::MAX);
        let in_offer_order = found.windows(2).all(|w| rank(&w[0]) < rank(&w[1]));
        let server_order = if found.len() >= 2 && !in_offer_order {
            Some(true)
        } else if found.len() >= 2 && !self.is_blocked() {
            let (a, b) = (found[0], found[found.len() - 1]);
            let ans = self
                .ask_in(
                    &mut line,
                    &format!("{} server order", v.label()),
                    &self.hello(v, vec![b, a]),
                    false,
                )
                .await;
            match ans.hello() {
                Some(h) if h.suite == a => Some(true),
                Some(h) if h.suite == b => Some(false),
                _ => None,
            }
        } else {
            None
        };
        (
            SuiteList {
                server_order,
                suites: found,
            },
            flights,
        )
    }

    /// TLS 1.3 groups, offered without key shares so that the server names its pick in a
    /// HelloRetryRequest; `suite` is one it accepted.
    async fn groups13(&self, suite: u16) -> Groups {
        let mut line = self.line();
        let mut out = Groups {
            method: Some("TLSv1.3 supported_groups without key shares (HelloRetryRequest)".into()),
            ..Groups::default()
        };
        let mut remaining = groups::tls13_groups();
        for _ in 0..=remaining.len() {
            if remaining.is_empty() || self.is_blocked() {
                break;
            }
            let mut h = self.hello(Version::Tls13, vec![suite]);
            h.groups = remaining.clone();
            h.key_shares = Vec::new();
            let a = self.ask_in(&mut line, "TLSv1.3 groups", &h, true).await;
            match a.hello().and_then(|h| h.key_share_group) {
                Some(g) if remaining.contains(&g) => {
                    remaining.retain(|c| *c != g);
                    out.groups.push(g);
                }
                _ => {
                    if !(a.is_alert() || a.hello().is_some()) {
                        self.still_answering(&mut line, Version::Tls13, &a).await;
                    }
                    break;
                }
            }
        }
        out
    }

    /// Without TLS 1.3: the named curves of ECDHE ServerKeyExchanges at the highest version from
    /// TLS 1.0 up.
    async fn groups12(&self, accepted: &[Version]) -> Groups {
        let mut out = Groups::default();
        let Some(&v) = accepted.iter().rev().find(|v| **v >= Version::Tls10) else {
            return out;
        };
        let mut line = self.line();
        let ecdhe: Vec<u16> = suites::candidates(v)
            .into_iter()
            .filter(|c| suites::name(*c).contains("ECDHE"))
            .collect();
        out.method = Some(format!("{} ECDHE ServerKeyExchange", v.label()));
        let mut remaining = groups::tls12_curves();
        for _ in 0..=remaining.len() {
            if remaining.is_empty() || self.is_blocked() {
                break;
            }
            let mut h = self.hello(v, ecdhe.clone());
            h.groups = remaining.clone();
            let a = self
                .ask_in(&mut line, &format!("{} curves", v.label()), &h, true)
                .await;
            match a.hello().and_then(|h| h.kx_group) {
                Some(g) if remaining.contains(&g) => {
                    remaining.retain(|c| *c != g);
                    out.groups.push(g);
                }
                _ => {
                    if !(a.is_alert() || a.hello().is_some()) {
                        self.still_answering(&mut line, v, &a).await;
                    }
                    break;
                }
            }
        }
        out
    }

    async fn fallback(&self, accepted: &[Version]) -> Mismatch {
        let mut m = Mismatch::default();
        let (Some(&top), Some(&lower)) = (accepted.last(), accepted.iter().rev().nth(1)) else {
            return m;
        };
        let mut h = self.hello(lower, suites::candidates(lower));
        h.fallback_scsv = true;
        let a = self
            .ask(
                &format!(
                    "TLS_FALLBACK_SCSV at {} (max {})",
                    lower.label(),
                    top.label()
                ),
                &h,
            )
            .await;
        m.fallback_scsv_tested_with = Some(lower.label().to_string());
        m.fallback_scsv_answer = Some(describe_answer(&a));
        // A server may refuse the fallback by closing without an alert (RFC 7507 §3 asks for one,
        // but the refusal is what protects). That is only a refusal of the SCSV if the same hello
        // without it completes: send it once more as the control.
        let control = if matches!(a, Answer::Closed | Answer::Reset) {
            h.fallback_scsv = false;
            let c = self
                .ask(
                    &format!(
                        "control: the same {} hello without TLS_FALLBACK_SCSV",
                        lower.label()
                    ),
                    &h,
                )
                .await;
            Some(c)
        } else {
            None
        };
        (m.fallback_scsv_honoured, m.fallback_scsv_how) = fallback_verdict(&a, control.as_ref());
        m
    }
}
