//! `dos.options_flood` and `dos.register_storm`: does the trunk notice one source flooding it, and
//! does it recover? Seed questions 8 (DoS) and 6 (registration storms).
//!
//! Opt-in (`--dos`), run after every other probe, bounded in count (`--dos-max-requests`) and rate (a
//! ramp from 10 to 200 requests per second, one second per step), and stopped at the first step in which
//! the trunk limits us: the aim is to see the defence engage, not to hurt the trunk. Only one source is
//! tested, so distributed attacks are out of reach; the summary says so.
//!
//! The runner runs the flood probes one after another. A flood that follows another first waits
//! (up to [`RECOVERY_WAIT`]) for the trunk to answer a normal OPTIONS again, and its finding names the
//! floods before it: a ban earned by the REGISTER storm must not be credited to the OPTIONS flood.
//! When the trunk never answered again, a limit seen is reported as `info`, not as a pass.

use std::time::Duration;

use tokio::time::Instant;

use crate::evidence;
use crate::findings::dos::{FloodDetails, FloodStep, Settle};
use crate::findings::ids;
use crate::findings::{Evidence, Finding, Severity, Status};
use crate::probe::{BoxFuture, Context, Probe};
use crate::target::{Endpoint, Transport};
use crate::transport::{Connection, Exchange, Timers, TxKey, transaction};

/// Requests per second of each step of the ramp.
const RAMP: &[u32] = &[10, 25, 50, 100, 200];
/// Share of a step's requests refused with 503/429 or left unanswered that counts as "limiting".
const LIMITED_SHARE: f64 = 0.2;
/// Longest wait for the trunk to answer again once it limited us.
const RECOVERY_WAIT: Duration = Duration::from_secs(15);

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Options,
    Register,
}

pub struct Flood(pub Kind);

trait Limited {
    fn limited(&self) -> bool;
}

impl Limited for FloodStep {
    fn limited(&self) -> bool {
        self.sent > 0
            && f64::from(self.refused + self.silent) / f64::from(self.sent) >= LIMITED_SHARE
    }
}

impl Probe for Flood {
    fn id(&self) -> &'static str {
        match self.0 {
            Kind::Options => "dos.options_flood",
            Kind::Register => "dos.register_storm",
        }
    }
    fn title(&self) -> &'static str {
        match self.0 {
            Kind::Options => "Rate limiting of an OPTIONS flood from one source",
            Kind::Register => "Rate limiting of a registration storm from one source",
        }
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            if !ctx.config.dos {
                return crate::probe::skipped(
                    self,
                    &format!(
                        "opt-in flood probe: pass --dos to send up to {} requests at up to {} per second, stopping once the trunk limits us",
                        ctx.config.dos_max_requests,
                        RAMP.last().copied().unwrap_or(0)
                    ),
                );
            }
            let Some(ep) = pick_endpoint(ctx).await else {
                return super::unanswered(self);
            };
            vec![self.flood(ctx, &ep).await]
        })
    }
}

/// UDP first (floods are cheapest there), then TCP, then TLS; only endpoints that answered OPTIONS.
async fn pick_endpoint(ctx: &Context) -> Option<Endpoint> {
    ctx.options_of(&ctx.endpoints).await;
    for t in [Transport::Udp, Transport::Tcp, Transport::Tls] {
        for ep in ctx.endpoints_on(t) {
            if ctx.options(ep).await.best_response().is_some() {
                return Some(ep.clone());
            }
        }
    }
    None
}

impl Flood {
    fn request(&self, ctx: &Context, ep: &Endpoint) -> crate::sip::Request {
        match self.0 {
            Kind::Options => ctx.request("OPTIONS", &ctx.request_uri(ep, false)),
            Kind::Register => {
                let user = format!("sc-storm-{}", crate::sip::request::token(8));
                let mut r = ctx.request("REGISTER", &format!("sip:{}", ctx.uri_host(ep)));
                r.from = format!("<sip:{user}@{}>", ctx.config.domain);
                r.to = r.from.clone();
                r.header("Expires", "60")
            }
        }
    }

    /// One request on its own connection, with no retransmission (a flood does not retry).
    async fn one(&self, ctx: &Context, ep: &Endpoint, timeout: Duration) -> Exchange {
        let req = self.request(ctx, ep);
        let key = TxKey {
            branch: req.branch.clone(),
            method: req.method.clone(),
        };
        let timers = Timers {
            t1: timeout,
            t2: timeout,
            timeout,
        };
        let deadline = Instant::now() + timeout;
        match Connection::open(
            ep,
            &ctx.config.tls,
            &ctx.config.domain,
            ctx.config.limits,
            deadline,
        )
        .await
        {
            Ok(mut conn) => {
                let bytes = req.render(ep.transport, conn.local);
                let ex = transaction(&mut conn, bytes, &key, &timers, ctx.run_start()).await;
                conn.close().await;
                ex
            }
            Err(e) => Exchange::not_sent(ep, ctx.elapsed(), Some(e)),
        }
    }

    async fn flood(&self, ctx: &Context, ep: &Endpoint) -> Finding {
        let before: Vec<String> = ctx
            .floods_done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|s| s.to_string())
            .collect();
        let settle = if before.is_empty() {
            None
        } else {
            let again = self.recovery(ctx, ep).await;
            Some(Settle {
                answered_again_after_ms: again.map(|d| d.as_millis() as u64),
                waited_up_to_ms: RECOVERY_WAIT.as_millis() as u64,
            })
        };
        let finding = self.ramp(ctx, ep, before, settle).await;
        ctx.floods_done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(self.id());
        finding
    }

    async fn ramp(
        &self,
        ctx: &Context,
        ep: &Endpoint,
        before: Vec<String>,
        settle: Option<Settle>,
    ) -> Finding {
        let timeout = ctx.config.timers.timeout.min(Duration::from_secs(1));
        let budget = ctx.config.dos_max_requests;
        let mut steps: Vec<FloodStep> = Vec::new();
        let mut total = 0u32;
        let mut evidence: Vec<Evidence> = Vec::new();
        let mut open_registrar = 0u32;
        let mut detected = None;
        let count = ctx.counter(self.id(), "flood steps");
        count.expect(RAMP.len());
        for &rate in RAMP {
            let n = rate.min(budget.saturating_sub(total));
            if n == 0 {
                break;
            }
            let start = Instant::now();
            let interval = Duration::from_secs(1) / rate;
            let exchanges = futures_util::future::join_all((0..n).map(|i| async move {
                tokio::time::sleep_until(start + interval * i).await;
                self.one(ctx, ep, timeout).await
            }))
            .await;
            total += n;
            let mut step = FloodStep {
                rate,
                sent: n,
                ..FloodStep::default()
            };
            for ex in &exchanges {
                match ex.final_response().and_then(|m| m.status()) {
                    Some(code) => {
                        step.answered += 1;
                        *step.codes.entry(code).or_default() += 1;
                        if code == 503 || code == 429 {
                            step.refused += 1;
                        }
                        if self.0 == Kind::Register && (200..300).contains(&code) {
                            open_registrar += 1;
                        }
                    }
                    None => step.silent += 1,
                }
            }
            if evidence.is_empty()
                && let Some(first) = exchanges.first()
            {
                evidence.push(evidence::from_exchange(first));
            }
            let limited = step.limited();
            if limited
                && let Some(ex) = exchanges.iter().find(|e| {
                    e.final_response()
                        .is_none_or(|m| matches!(m.status(), Some(503 | 429)))
                })
            {
                evidence.push(evidence::from_exchange(ex));
            }
            steps.push(step);
            count.tick();
            if limited {
                detected = Some(rate);
                break;
            }
        }
        let recovery = match detected {
            Some(_) => Some(self.recovery(ctx, ep).await),
            None => None,
        };
        let details = FloodDetails {
            method: if self.0 == Kind::Options {
                "OPTIONS"
            } else {
                "REGISTER"
            }
            .into(),
            requests: total,
            limited_at_rate: detected,
            defence: None,
            recovered_after_ms: recovery.flatten().map(|d| d.as_millis() as u64),
            accepted_without_credentials: open_registrar,
            steps,
            ran_after: before,
            settle,
        };
        self.verdict(ep, details, evidence)
    }

    /// How long until a plain OPTIONS is answered again, polled once a second up to RECOVERY_WAIT.
    async fn recovery(&self, ctx: &Context, ep: &Endpoint) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < RECOVERY_WAIT {
            let req = ctx.request("OPTIONS", &ctx.request_uri(ep, false));
            let key = TxKey {
                branch: req.branch.clone(),
                method: req.method.clone(),
            };
            let ex = ctx
                .exchange_with(ep, &key, |local| req.render(ep.transport, local))
                .await;
            if ex
                .final_response()
                .is_some_and(|m| !matches!(m.status(), Some(503 | 429)))
            {
                return Some(start.elapsed());
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        None
    }

    fn verdict(&self, ep: &Endpoint, mut d: FloodDetails, evidence: Vec<Evidence>) -> Finding {
        let (steps, total, detected, open_registrar) = (
            &d.steps,
            d.requests,
            d.limited_at_rate,
            d.accepted_without_credentials,
        );
        let recovery = d.recovered_after_ms.map(Duration::from_millis);
        let what = match self.0 {
            Kind::Options => "OPTIONS flood",
            Kind::Register => "unauthenticated REGISTER storm",
        };
        let how = steps
            .last()
            .map(|s| {
                if s.silent >= s.refused {
                    "silently dropped"
                } else {
                    "refused with 503/429"
                }
            })
            .unwrap_or("");
        let (status, severity, mut summary) = match detected {
            Some(rate) => (
                Status::Pass,
                Severity::None,
                format!(
                    "{what} from one source was {how} at {rate} requests/s after {total} requests; {}",
                    match recovery {
                        Some(d) => format!("answering again after {:.1} s", d.as_secs_f64()),
                        None => format!("still not answering {} s later", RECOVERY_WAIT.as_secs()),
                    }
                ),
            ),
            None => (
                Status::Warn,
                Severity::Medium,
                format!(
                    "no rate limiting seen: {total} {what} requests from one source up to {} requests/s were all answered normally",
                    steps.last().map(|s| s.rate).unwrap_or(0)
                ),
            ),
        };
        // A flood after another one, on a trunk that never answered normally again: a limit seen
        // here may be the earlier flood's ban.
        let unsettled = d
            .settle
            .as_ref()
            .is_some_and(|s| s.answered_again_after_ms.is_none());
        let (status, severity) = if unsettled && detected.is_some() {
            (Status::Info, Severity::None)
        } else {
            (status, severity)
        };
        let (status, severity) = if open_registrar > 0 {
            summary = format!(
                "{open_registrar} REGISTERs for random users were accepted without credentials; {summary}"
            );
            (Status::Fail, Severity::Critical)
        } else {
            (status, severity)
        };
        summary.push_str(" (one source only: distributed attacks are not measured)");
        if !d.ran_after.is_empty() {
            let earlier = d.ran_after.join(", ");
            summary.push_str(&match d.settle.as_ref().and_then(|s| s.answered_again_after_ms) {
                Some(ms) => format!(
                    "; ran after {earlier}, once the trunk answered a normal OPTIONS again ({:.1} s later)",
                    ms as f64 / 1000.0
                ),
                None => format!(
                    "; ran after {earlier}, and the trunk had not answered a normal OPTIONS again within {} s, so a limit seen here cannot be told apart from that probe's",
                    RECOVERY_WAIT.as_secs()
                ),
            });
        }
        d.defence = detected.map(|_| how.to_string());
        let id = match self.0 {
            Kind::Options => ids::DOS_OPTIONS_FLOOD,
            Kind::Register => ids::DOS_REGISTER_STORM,
        };
        id.finding(status, summary)
            .severity(severity)
            .endpoint(ep)
            .with_details(&d)
            .evidence(evidence)
    }
}
