//! `sip.allow`: the methods a trunk accepts (`Allow`) and the extensions it supports (`Supported`).

use crate::findings::sip::AllowDetails;

use super::per_answer;
use crate::findings::{Finding, Status};
use crate::probe::{BoxFuture, Context, Probe};

pub struct Allow;

impl Probe for Allow {
    fn id(&self) -> &'static str {
        "sip.allow"
    }
    fn title(&self) -> &'static str {
        "Methods allowed and extensions supported"
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(per_answer(
            ctx,
            self,
            Some("Allow and Supported"),
            |_, m| {
                let allow = m.list_header("Allow");
                let supported = m.list_header("Supported");
                let summary = if allow.is_empty() {
                    format!("{} carried no Allow header", m.first_line())
                } else {
                    format!(
                        "Allow: {}; Supported: {}",
                        allow.join(", "),
                        if supported.is_empty() {
                            "none".into()
                        } else {
                            supported.join(", ")
                        }
                    )
                };
                Finding::of(self.id(), Status::Info, summary).with_details(&AllowDetails {
                    response: m.first_line(),
                    allow_header: m.quote_header("Allow"),
                    supported_header: m.quote_header("Supported"),
                    allow,
                    supported,
                })
            },
        ))
    }
}
