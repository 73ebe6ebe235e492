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

/// One finding per endpoint that answered OPTIONS, made by `f` from its best response, with the endpoint
/// and the exchange as evidence; the [`unanswered`] finding when no endpoint answered.
pub(crate) async fn per_answer(
    ctx: &crate::probe::Context,
    p: &dyn Probe,
    f: impl Fn(&crate::target::Endpoint, &crate::sip::Message) -> crate::report::Finding,
) -> Vec<crate::report::Finding> {
    let got = answered(ctx).await;
    if got.is_empty() {
        return unanswered(p);
    }
    got.iter()
        .filter_map(|(ep, ex)| {
            let m = ex.best_response()?;
            Some(f(ep, m).endpoint(ep).evidence([ctx.evidence(ex)]))
        })
        .collect()
}

/// The findings to write when no endpoint answered OPTIONS, so a header could not be read.
pub(crate) fn unanswered(p: &dyn Probe) -> Vec<crate::report::Finding> {
    p.finding_ids()
        .into_iter()
        .map(|id| {
            crate::report::Finding::of(
                id,
                crate::report::Status::Error,
                "no endpoint answered OPTIONS, so this could not be measured",
            )
        })
        .collect()
}
