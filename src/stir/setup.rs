//! Building a [`VerifyContext`] from what a user names (root files, a moment), and reading a saved
//! request: shared by `verify-identity`, `listen` and the loop calls.

use std::sync::Arc;

use super::{VerifyContext, X5uFetcher};
use crate::error::{Error, Result};
use crate::sip::{Limits, Message};

impl VerifyContext {
    /// The same context judging signers against the carrier's own SPCs (`--expect-spc`).
    pub fn expecting(mut self, spcs: Vec<String>) -> Self {
        self.expect_spc = spcs;
        self
    }

    /// The same context fetching also from these blocks (`--fetch-allow`), which are otherwise
    /// refused as private or special-purpose.
    pub fn allowing(mut self, allow: Vec<super::public_addr::Cidr>) -> Self {
        self.fetcher = self.fetcher.with_allowed(allow);
        self
    }

    /// The STI-PA roots from `sti_ca` (PEM; none leaves the chain unverified, so never valid), the x5u
    /// client trusting `x5u_ca` (PEM; default the built-in web roots), as of `at` (RFC 3339; default now).
    pub fn load(sti_ca: Option<&str>, x5u_ca: Option<&str>, at: Option<&str>) -> Result<Self> {
        let sti_roots = sti_ca
            .map(super::cert::load_roots)
            .transpose()?
            .map(Arc::new);
        let fetcher = match x5u_ca {
            Some(p) => X5uFetcher::from_ca_file(p)?,
            None => X5uFetcher::with_web_roots(),
        };
        let now = match at {
            Some(t) => {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .map(|d| d.unix_timestamp())
                    .map_err(|e| Error::BadOption(format!("--at {t:?} is not RFC 3339 ({e})")))?
            }
            None => crate::tls::cert::now_unix(),
        };
        Ok(VerifyContext {
            now,
            sti_roots,
            fetcher,
            crls: Default::default(),
            expect_spc: Vec::new(),
        })
    }
}

/// The SIP request saved in `bytes` (leading blank lines allowed), read from `file`; a response or
/// anything that is not SIP is an error naming the file.
pub fn saved_request(file: &str, bytes: &[u8]) -> Result<Message> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let bad = |reason: String| Error::BadFile {
        path: file.to_string(),
        reason,
    };
    match Message::parse(&bytes[start..], &Limits::default()) {
        Ok(m) if m.method().is_some() => Ok(m),
        Ok(_) => Err(bad("holds a SIP response, not a request".into())),
        Err(e) => Err(bad(format!("is not a SIP request: {e}"))),
    }
}
