//! `endpoints.parity`: the same finding compared across the endpoints of a trunk. Probes run
//! concurrently and cannot see each other's findings, so the comparison is a post-run analysis
//! ([`crate::analysis::parity`]); this probe only makes it selectable and listable.

use crate::findings::Finding;
use crate::probe::{BoxFuture, Context, Probe};

/// Selection handle for `endpoints.parity`; its findings come from the post-run analysis.
pub struct Parity;

impl Probe for Parity {
    fn id(&self) -> &'static str {
        crate::findings::ids::ENDPOINTS_PARITY.id
    }
    fn title(&self) -> &'static str {
        crate::findings::ids::ENDPOINTS_PARITY.spec().title
    }
    fn run<'a>(&'a self, _ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async { Vec::new() })
    }
}
