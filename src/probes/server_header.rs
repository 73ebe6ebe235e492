//! `sip.server_header`: does the trunk tell strangers which product and version it runs?

use crate::findings::sip::ServerHeaderDetails;

use super::per_answer;
use crate::findings::{Finding, Severity, Status};
use crate::probe::{BoxFuture, Context, Probe};

pub struct ServerHeader;

/// Whether a product string carries a version number (`Kamailio (5.6.3 (x86_64/linux))`).
pub fn leaks_version(product: &str) -> bool {
    let b = product.as_bytes();
    b.windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2].is_ascii_digit())
        || product
            .split(['/', ' '])
            .skip(1)
            .any(|t| t.starts_with(|c: char| c.is_ascii_digit()))
}

impl Probe for ServerHeader {
    fn id(&self) -> &'static str {
        "sip.server_header"
    }
    fn title(&self) -> &'static str {
        "Server software disclosure"
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(per_answer(ctx, self, None, |_, m| {
            let header = m
                .quote_header("Server")
                .or_else(|| m.quote_header("User-Agent"));
            let product = m.header("Server").or_else(|| m.header("User-Agent"));
            let (status, severity, summary) = match product {
                Some(p) if leaks_version(p) => (
                    Status::Warn,
                    Severity::Low,
                    format!(
                        "product and version disclosed: \"{}\"",
                        header.clone().unwrap_or_default()
                    ),
                ),
                Some(_) => (
                    Status::Info,
                    Severity::None,
                    format!(
                        "product disclosed without a version: \"{}\"",
                        header.clone().unwrap_or_default()
                    ),
                ),
                None => (
                    Status::Pass,
                    Severity::None,
                    "no Server or User-Agent header in responses".to_string(),
                ),
            };
            Finding::of(self.id(), status, summary)
                .severity(severity)
                .with_details(&ServerHeaderDetails {
                    version_disclosed: product.is_some_and(leaks_version),
                    product: product.map(str::to_string),
                    header,
                })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::leaks_version;

    #[test]
    fn version_detection() {
        assert!(leaks_version("kamailio (5.6.3 (x86_64/linux))"));
        assert!(leaks_version("Asterisk PBX 18.2.0"));
        assert!(leaks_version("FPBX-16.0.33(18.13.0)"));
        assert!(leaks_version("baresip v2.0.0"));
        assert!(!leaks_version("SBC"));
        assert!(!leaks_version("Acme Session Director"));
    }
}
