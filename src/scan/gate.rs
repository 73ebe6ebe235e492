//! The run's own verdict on itself: what it set out to measure ([`scope`]) and whether it measured
//! anything at all. A run in which no endpoint answered SIP, or in which every probe that ran ended
//! in `error`, is incomplete with the reason; a CI gate must never read it as a clean trunk.

use std::sync::Arc;

use crate::findings::{Finding, GatedOff, OptIns, Scope, Status};
use crate::probe::{Context, Probe};
use crate::target::Transport;
use crate::transport::Wire;

/// The scope of a run about to start.
pub(crate) fn scope(
    ctx: &Context,
    probes: &[Arc<dyn Probe>],
    transports: &[Transport],
    selectors: &[String],
    policy: Option<&str>,
) -> Scope {
    let c = &ctx.config;
    Scope {
        transports: transports.to_vec(),
        selectors: selectors.to_vec(),
        probes: ctx.selected.iter().map(|s| s.to_string()).collect(),
        gated_off: probes
            .iter()
            .filter_map(|p| {
                p.gate(ctx).map(|needs| GatedOff {
                    probe: p.id().to_string(),
                    needs,
                })
            })
            .collect(),
        rate: c.rate,
        max_connections: c.max_connections,
        timeout_ms: c.timers.timeout.as_millis() as u64,
        opt_ins: OptIns {
            calls: c.calls.allow,
            intrusive: c.intrusive,
            dos: c.dos,
            rtp_bleed: c.calls.rtp_bleed,
            loop_calls: c.loop_calls.number.is_some(),
            credentials: c.calls.credentials.is_some(),
        },
        policy: policy.map(str::to_string),
    }
}

/// Why a run in which SIP was sent got no SIP answer from any endpoint, or `None` when one answered
/// (or when no probe of the run sent SIP). Says what the wire showed of each endpoint, and the usual
/// cause of each kind of silence.
pub(crate) fn no_sip_answer(wire: &[(String, Transport, Wire)]) -> Option<String> {
    if wire.is_empty() || wire.iter().any(|(_, _, w)| *w == Wire::Answered) {
        return None;
    }
    let seen: Vec<String> = wire
        .iter()
        .map(|(ep, t, w)| format!("{ep}: {}", w.describe(*t)))
        .collect();
    let mut why = format!("no endpoint answered SIP ({})", seen.join("; "));
    let kinds: Vec<&Wire> = wire.iter().map(|(_, _, w)| w).collect();
    if kinds.iter().any(|w| w.is_silence()) {
        why.push_str(
            ". Silence is what an SBC shows to source addresses it does not serve: most trunks \
             answer only their customers' allowed source addresses, so probe from an address the \
             carrier allows (or ask them to allow this one)",
        );
    }
    Some(why)
}

/// Why a run measured nothing because every probe that ran ended in `error`, or `None`.
pub(crate) fn all_errored<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Option<String> {
    let ran: Vec<&Finding> = findings
        .into_iter()
        .filter(|f| crate::findings::spec(&f.id).is_some_and(|s| s.scanned()))
        .filter(|f| f.status != Status::Skipped)
        .collect();
    if ran.is_empty() || ran.iter().any(|f| f.status != Status::Error) {
        return None;
    }
    let mut ids: Vec<&str> = ran.iter().map(|f| f.id.as_str()).collect();
    ids.dedup();
    Some(format!(
        "every probe that ran ended in error ({}): nothing was measured",
        ids.join(", ")
    ))
}

/// The reasons joined into one `incomplete` sentence, or `None` when there is none.
pub(crate) fn join(reasons: impl IntoIterator<Item = Option<String>>) -> Option<String> {
    let all: Vec<String> = reasons.into_iter().flatten().collect();
    (!all.is_empty()).then(|| all.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: Transport, w: Wire) -> (String, Transport, Wire) {
        (format!("{t}:127.0.0.1:5060"), t, w)
    }

    #[test]
    fn one_answer_is_enough_and_no_sip_sent_says_nothing() {
        assert_eq!(no_sip_answer(&[]), None);
        let w = [
            at(Transport::Udp, Wire::UdpSilent),
            at(Transport::Tcp, Wire::Answered),
        ];
        assert_eq!(no_sip_answer(&w), None);
    }

    #[test]
    fn each_kind_of_silence_is_told_apart() {
        let why = no_sip_answer(&[
            at(Transport::Udp, Wire::UdpSilent),
            at(Transport::Tcp, Wire::AcceptedSilent),
        ])
        .unwrap();
        assert!(why.contains("udp:127.0.0.1:5060: silence"), "{why}");
        assert!(why.contains("TCP accepted but silent"), "{why}");
        assert!(why.contains("allowed source addresses"), "{why}");
        let why = no_sip_answer(&[at(Transport::Tcp, Wire::Refused)]).unwrap();
        assert!(why.contains("connection refused"), "{why}");
        assert!(!why.contains("allowed source addresses"), "{why}");
        let why = no_sip_answer(&[at(Transport::Tcp, Wire::Reset)]).unwrap();
        assert!(why.contains("TCP reset"), "{why}");
    }

    #[test]
    fn all_errored_needs_every_probe_that_ran_in_error() {
        let e = Finding::of("sip.allow", Status::Error, "no answer");
        let s = Finding::of("dos.options_flood", Status::Skipped, "opt-in");
        let p = Finding::of("sip.refer", Status::Pass, "ok");
        assert!(all_errored(&[e.clone(), s.clone()]).is_some());
        assert_eq!(all_errored(&[e, s.clone(), p]), None);
        assert_eq!(all_errored(&[s]), None, "nothing ran: not this rule");
    }
}
