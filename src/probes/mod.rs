//! The probes, one module each, and the registry that lists them.

use std::sync::Arc;

use crate::probe::Probe;

pub mod auth;
pub mod call_refer;
pub mod dns;
pub mod dos;
pub mod loop_calls;
pub mod media;
pub mod parity;
pub mod plaintext;
pub mod refer_policy;
pub mod robustness;
pub mod rtp_bleed;
pub mod secagree;
pub mod server_header;
pub mod sip_allow;
pub mod sip_refer;
pub mod sips;

pub mod tls;
pub mod transport;

/// Every probe sipcheck knows, in report order.
pub fn all() -> Vec<Arc<dyn Probe>> {
    vec![
        Arc::new(transport::Reachability(crate::target::Transport::Udp)),
        Arc::new(transport::Reachability(crate::target::Transport::Tcp)),
        Arc::new(transport::Reachability(crate::target::Transport::Tls)),
        Arc::new(plaintext::PlaintextOpen),
        Arc::new(sip_allow::Allow),
        Arc::new(sip_refer::Refer),
        Arc::new(server_header::ServerHeader),
        Arc::new(sips::SipsOptions),
        Arc::new(tls::TlsScan),
        Arc::new(tls::robot::TlsRobot),
        Arc::new(dns::Dns::Naptr),
        Arc::new(dns::Dns::Srv),
        Arc::new(dns::Dns::Aaaa),
        Arc::new(dns::Dns::Dnssec),
        Arc::new(auth::Auth),
        Arc::new(media::Media),
        Arc::new(call_refer::CallRefer),
        Arc::new(loop_calls::LoopCalls),
        Arc::new(rtp_bleed::RtpBleed),
        Arc::new(robustness::malformed::Malformed),
        Arc::new(robustness::unknown::UnknownHeader),
        Arc::new(robustness::unknown::UnknownRequire),
        Arc::new(secagree::SecAgree),
        Arc::new(refer_policy::ReferPolicy),
        Arc::new(dos::Flood(dos::Kind::Options)),
        Arc::new(dos::Flood(dos::Kind::Register)),
        // Last: its findings are computed from all the others after the run (scan.rs).
        Arc::new(parity::Parity),
    ]
}

/// The OPTIONS exchanges of every endpoint that answered, fetched concurrently (and shared via the context).
pub(crate) async fn answered(
    ctx: &crate::probe::Context,
) -> Vec<(crate::target::Endpoint, Arc<crate::transport::Exchange>)> {
    let all = futures_util::future::join_all(
        ctx.endpoints
            .iter()
            .map(|ep| async move { (ep.clone(), ctx.options(ep).await) }),
    )
    .await;
    all.into_iter()
        .filter(|(_, ex)| ex.best_response().is_some())
        .collect()
}

/// One finding per endpoint that answered OPTIONS, made by `f` from the answer to judge, with the
/// endpoint and the exchanges as evidence; the [`unanswered`] finding when no endpoint answered.
///
/// The answer is the one the shared rule for challenges gives ([`crate::probe::Authed`]): with
/// `--user`, the answer to the authenticated OPTIONS. When there is none to judge (credentials needed
/// or refused), the finding is `info` saying that `what` was not measured, unless `what` is `None`:
/// then `f` judges the challenge itself (a header any response carries). Each endpoint's finding is
/// [kept](crate::probe::Context::keep) as it is made.
pub(crate) async fn per_answer(
    ctx: &crate::probe::Context,
    p: &dyn Probe,
    what: Option<&str>,
    f: impl Fn(&crate::target::Endpoint, &crate::sip::Message) -> crate::findings::Finding,
) -> Vec<crate::findings::Finding> {
    let got = answered(ctx).await;
    if got.is_empty() {
        return unanswered(p);
    }
    let f = &f;
    ctx.per_endpoint(got, |(ep, ex)| async move {
        let authed = ctx.options_authed(&ep).await;
        let evidence = authed.evidence(ctx);
        let finding = match (authed.answer(), authed.unjudged(), what) {
            (Some(m), _, _) => f(&ep, m),
            (None, Some(why), Some(what)) => crate::findings::Finding::of(
                p.id(),
                crate::findings::Status::Info,
                format!("{what} not measured: {why}"),
            ),
            _ => match authed.last().best_response().or(ex.best_response()) {
                Some(m) => f(&ep, m),
                None => return Vec::new(),
            },
        };
        vec![finding.endpoint(&ep).evidence(evidence)]
    })
    .await
}

/// The findings to write when no endpoint answered OPTIONS, so a header could not be read.
pub(crate) fn unanswered(p: &dyn Probe) -> Vec<crate::findings::Finding> {
    p.finding_ids()
        .into_iter()
        .map(|id| {
            crate::findings::Finding::of(
                id,
                crate::findings::Status::Error,
                "no endpoint answered OPTIONS, so this could not be measured",
            )
        })
        .collect()
}
