//! `robustness.*`: how the trunk reacts to malformed messages (the catalog), unknown headers and
//! unknown `Require` option tags. Shared here: which endpoints to test, sending raw bytes on a fresh
//! socket, and the liveness check.

pub mod malformed;
pub mod raw;
pub mod unknown;

use std::sync::Arc;
use std::time::Duration;

use crate::probe::Context;
use crate::target::{Endpoint, Transport};
use crate::transport::Exchange;

pub use raw::{Liveness, liveness, send_raw};

/// The endpoints worth a robustness run, with their baseline OPTIONS: the first one that answered on
/// each transport, leaving out TLS when TCP answered (the same stream parser usually sits behind both,
/// and the catalog is long).
pub async fn targets(ctx: &Context) -> Vec<(Endpoint, Arc<Exchange>)> {
    let answered = super::answered(ctx).await;
    let tcp = answered.iter().any(|(e, _)| e.transport == Transport::Tcp);
    let mut out: Vec<(Endpoint, Arc<Exchange>)> = Vec::new();
    for (ep, ex) in answered {
        if ep.transport == Transport::Tls && tcp {
            continue;
        }
        if out.iter().any(|(e, _)| e.transport == ep.transport) {
            continue;
        }
        out.push((ep, ex));
    }
    out
}

/// How long to wait for the reaction to one case: ten baseline round trips over UDP (where the case
/// or its answer may be lost and is retransmitted within the wait), four over a stream (the bytes
/// are delivered; the wait covers only the server's own work, which the baseline's round trip
/// already includes once), at least 250 ms (so a momentarily busy trunk is not taken for a silent
/// one), at most the configured timeout. Every dropped case costs this much, and on a stream it
/// holds one of the address's connections for as long, so it sets the pace of the catalog more
/// than anything else.
pub fn case_wait(ctx: &Context, baseline: &Exchange) -> Duration {
    let rtt = baseline.rtt.unwrap_or(Duration::from_millis(100));
    let round_trips = if baseline.transport.is_stream() { 4 } else { 10 };
    (rtt * round_trips)
        .max(Duration::from_millis(250))
        .min(ctx.config.timers.timeout)
}

#[cfg(test)]
mod tests {
    use crate::probe::{Config, Context};
    use crate::target::{Endpoint, Port, Target, Transport};

    fn uri(input: &str) -> String {
        let ep = Endpoint::new(
            Transport::Udp,
            "127.0.0.1".parse().unwrap(),
            Port::new(5070).unwrap(),
        );
        let ctx = Context::new(
            Target::parse(input).unwrap(),
            vec![ep.clone()],
            Config::default(),
        );
        ctx.request_uri(&ep, false)
    }

    #[test]
    fn request_uri_carries_the_target_user() {
        assert_eq!(uri("sip:alice@127.0.0.1:5070"), "sip:alice@127.0.0.1:5070");
        assert_eq!(
            uri("SIP:bob@127.0.0.1;transport=udp"),
            "sip:bob@127.0.0.1:5070"
        );
        assert_eq!(uri("127.0.0.1:5070"), "sip:127.0.0.1:5070");
        assert_eq!(uri("sip:127.0.0.1"), "sip:127.0.0.1:5070");
    }
}
