//! The TLS scan of every SIP-TLS endpoint with hand-made ClientHellos (see [`crate::tls::scan`]):
//! measured once per endpoint, then judged into `tls.versions`, `tls.cipher_suites`, `tls.mismatch`,
//! `tls.certificate` and `tls.groups`, one file per finding.

mod certificate;
mod cipher_suites;
mod extras;
mod groups;
mod mismatch;
pub mod robot;
mod versions;

use crate::findings::{Evidence, Finding, Severity, Status};
use crate::findings::{FindingId, ids};
use crate::probe::{BoxFuture, Context, Counter, Probe};
use crate::target::{Endpoint, Transport};
use crate::tls::scan::{Logged, ScanResult, Scanner};

pub struct TlsScan;

impl Probe for TlsScan {
    fn id(&self) -> &'static str {
        "tls.scan"
    }
    fn title(&self) -> &'static str {
        "TLS scan: versions, cipher suites, mismatch handling, certificate, groups"
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let eps: Vec<Endpoint> = ctx.endpoints_on(Transport::Tls).cloned().collect();
            if eps.is_empty() {
                return crate::probe::skipped(
                    self,
                    "no TLS endpoint (TLS not selected, or not published in DNS: see dns.srv)",
                );
            }
            // Endpoints scanned together: each address's connection cap bounds the hellos in flight.
            let hellos = ctx.counter(self.id(), "hellos");
            let hellos = &hellos;
            ctx.per_endpoint(
                eps,
                |ep| async move { scan_endpoint(ctx, &ep, hellos).await },
            )
            .await
        })
    }
}

/// The scan's exchanges that `pick` selects, as evidence (at most 12).
fn evidence(
    ctx: &Context,
    ep: &Endpoint,
    r: &ScanResult,
    pick: impl Fn(&Logged) -> bool,
) -> Vec<Evidence> {
    let offset = ctx.elapsed().saturating_sub(r.elapsed);
    r.log
        .iter()
        .filter(|l| pick(l))
        .take(12)
        .map(|l| Evidence {
            transport: Transport::Tls,
            remote: ep.socket_addr().to_string(),
            local: None,
            at_ms: (offset + l.at).as_millis() as u64,
            rtt_ms: None,
            sent: format!("{} ({})", l.sent, l.purpose),
            received: l.answer.clone(),
            note: None,
        })
        .collect()
}

/// An `error` finding of every TLS id for an endpoint that gave no TLS answer.
fn unreached(ep: &Endpoint, why: &str) -> Vec<Finding> {
    let summary = format!("no TLS answer from {} ({why})", ep.socket_addr());
    fn one<D: serde::Serialize + serde::de::DeserializeOwned + Default>(
        id: FindingId<D>,
        ep: &Endpoint,
        summary: &str,
        set_error: impl FnOnce(&mut D),
    ) -> Finding {
        let mut d = D::default();
        set_error(&mut d);
        id.finding(Status::Error, summary)
            .endpoint(ep)
            .with_details(&d)
    }
    let e = || Some(why.to_string());
    vec![
        one(ids::TLS_VERSIONS, ep, &summary, |d| d.error = e()),
        one(ids::TLS_CIPHER_SUITES, ep, &summary, |d| d.error = e()),
        one(ids::TLS_MISMATCH, ep, &summary, |d| d.error = e()),
        one(ids::TLS_CERTIFICATE, ep, &summary, |d| d.error = e()),
        one(ids::TLS_GROUPS, ep, &summary, |d| d.error = e()),
        one(ids::TLS_EXTENSIONS, ep, &summary, |d| d.error = e()),
        one(ids::TLS_RESUMPTION, ep, &summary, |d| d.error = e()),
        one(ids::TLS_EARLY_DATA, ep, &summary, |d| d.error = e()),
        one(ids::TLS_HEARTBLEED, ep, &summary, |d| d.error = e()),
        one(ids::TLS_SNI, ep, &summary, |d| d.error = e()),
    ]
}

async fn scan_endpoint(ctx: &Context, ep: &Endpoint, hellos: &Counter) -> Vec<Finding> {
    ctx.let_light_probes_go_first(ep).await;
    let domain = ctx.config.domain.clone();
    let scanner = Scanner::new(
        ep.socket_addr(),
        Some(domain.clone()),
        ctx.config.timers.timeout,
        &ctx.limiter,
    )
    .count_hellos(hellos.clone());
    // The checks beyond versions and suites run beside the scan, on their own connections.
    let (r, x) = tokio::join!(scanner.run(), extras::measure(ctx, ep, scanner.sni.clone()));
    ctx.mark_reached(ep, r.reached());
    if !r.reached() {
        let why = r
            .versions
            .values()
            .next()
            .map(|v| v.answer.refusal())
            .unwrap_or_default();
        return unreached(ep, &why);
    }
    let chains = certificate::measure(ctx, ep, &r).await;
    let mut out = vec![
        versions::judge(&r)
            .endpoint(ep)
            .evidence(evidence(ctx, ep, &r, |l| {
                l.purpose.ends_with("support") || l.purpose.starts_with("versions health check")
            })),
        cipher_suites::judge(&r)
            .endpoint(ep)
            .evidence(evidence(ctx, ep, &r, |l| l.purpose.contains("order"))),
        mismatch::judge(&r)
            .endpoint(ep)
            .evidence(evidence(ctx, ep, &r, |l| l.purpose.contains("FALLBACK"))),
        certificate::judge(&domain, &r, &chains).endpoint(ep),
        groups::judge(&r)
            .endpoint(ep)
            .evidence(evidence(ctx, ep, &r, |l| {
                l.purpose.contains("groups") || l.purpose.contains("curves")
            })),
    ];
    let judged = |f: Finding, id: &str| f.endpoint(ep).evidence(extras::evidence(ctx, ep, &x, id));
    let ext = extras::extensions(&r, &x);
    let (st, sum) = ext.judge();
    out.push(judged(
        ids::TLS_EXTENSIONS.finding(st, sum).with_details(&ext),
        ids::TLS_EXTENSIONS.id,
    ));
    let res = extras::resumption(&r, &x);
    let (st, sum) = res.judge();
    out.push(judged(
        ids::TLS_RESUMPTION.finding(st, sum).with_details(&res),
        ids::TLS_RESUMPTION.id,
    ));
    let early = extras::early_data(&r, &x);
    let (st, sum) = early.judge();
    out.push(judged(
        ids::TLS_EARLY_DATA.finding(st, sum).with_details(&early),
        ids::TLS_EARLY_DATA.id,
    ));
    let hb = extras::heartbleed(&r, &x);
    let (st, sum) = hb.judge();
    out.push(judged(
        ids::TLS_HEARTBLEED.finding(st, sum).with_details(&hb),
        ids::TLS_HEARTBLEED.id,
    ));
    let sni = extras::sni(&domain, scanner.sni.as_deref(), &x);
    let (st, sum) = sni.judge();
    out.push(judged(
        ids::TLS_SNI.finding(st, sum).with_details(&sni),
        ids::TLS_SNI.id,
    ));
    if let Some(why) = &r.blocked {
        // The versions were all answered before the target stopped answering, unless one was
        // left unjudged (see `Scanner::confirm_refusals`).
        let versions_partial = !r.unconfirmed.is_empty();
        for f in out.iter_mut().skip(usize::from(!versions_partial)) {
            if f.id != ids::TLS_CERTIFICATE.id {
                f.status = Status::Blocked;
                f.severity = Severity::Low;
                f.summary = format!(
                    "target stopped answering mid-scan ({why}); partial: {}",
                    f.summary
                );
            }
        }
    }
    if let Some(p) = &ctx.config.tls_profile {
        let d = p.judge(&crate::findings::tls::profile::Facts::of(out.iter()));
        let (st, sum) = d.judge();
        out.push(
            ids::TLS_PROFILE
                .finding(st, sum)
                .with_details(&d)
                .endpoint(ep),
        );
    }
    out
}
