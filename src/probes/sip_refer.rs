//! `sip.refer`: does the trunk advertise REFER (RFC 3515) and Replaces (RFC 3891)? The answer names the
//! response and header it came from, because carriers' documents rarely say.

use crate::findings::sip::{ReferDetails, ReferSource};

use super::per_answer;
use crate::findings::{Finding, Status};
use crate::probe::{BoxFuture, Context, Probe};

pub struct Refer;

impl Probe for Refer {
    fn id(&self) -> &'static str {
        "sip.refer"
    }
    fn title(&self) -> &'static str {
        "REFER (call transfer) advertised"
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(per_answer(
            ctx,
            self,
            Some("whether REFER is advertised"),
            |ep, m| {
                let allow = m.list_header("Allow");
                let supported = m.list_header("Supported");
                let refer = allow.iter().any(|a| a.eq_ignore_ascii_case("REFER"));
                let replaces = supported.iter().any(|s| s.eq_ignore_ascii_case("replaces"));
                let norefersub = supported
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case("norefersub"));
                let source = m.quote_header("Allow");
                let summary = match (&source, refer) {
                    (Some(h), true) => format!(
                        "REFER advertised: \"{h}\" in the {} to OPTIONS; Replaces {}",
                        m.first_line(),
                        if replaces {
                            "supported"
                        } else {
                            "not advertised"
                        }
                    ),
                    (Some(h), false) => format!(
                        "REFER not advertised: \"{h}\" in the {} to OPTIONS",
                        m.first_line()
                    ),
                    (None, _) => format!(
                        "cannot tell: the {} to OPTIONS carried no Allow header",
                        m.first_line()
                    ),
                };
                Finding::of(self.id(), Status::Info, summary).with_details(&ReferDetails {
                    advertised: source.as_ref().map(|_| refer),
                    replaces,
                    norefersub,
                    source: ReferSource {
                        transport: Some(ep.transport),
                        response: m.first_line(),
                        header: source,
                        supported_header: m.quote_header("Supported"),
                    },
                })
            },
        ))
    }
}
