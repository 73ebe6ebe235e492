//! Part of the `sipcheck` binary: `sipcheck verify-identity FILE`, the offline verifier (offline but
//! for the x5u fetch). Exit 0 when every Identity is fully valid, 1 otherwise, 2 for usage errors.

use std::process::ExitCode;
use std::sync::Arc;

use sipcheck::Error;
use sipcheck::sip::{Limits, Message};
use sipcheck::stir::{self, VerifyContext, X5uFetcher};

use crate::cli::{self, EXIT_USAGE};

/// The STI roots and the x5u client every identity-verifying command shares.
pub(crate) fn context(
    sti_ca: Option<&str>,
    x5u_ca: Option<&str>,
    at: Option<&str>,
) -> Result<VerifyContext, Error> {
    let sti_roots = sti_ca
        .map(stir::cert::load_roots)
        .transpose()?
        .map(Arc::new);
    let fetcher = match x5u_ca {
        Some(p) => X5uFetcher::from_ca_file(p)?,
        None => X5uFetcher::with_web_roots(),
    };
    let now = match at {
        Some(t) => parse_rfc3339(t)?,
        None => now_unix(),
    };
    Ok(VerifyContext {
        now,
        sti_roots,
        fetcher,
    })
}

pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn parse_rfc3339(t: &str) -> Result<i64, Error> {
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .map(|d| d.unix_timestamp())
        .map_err(|e| Error::BadOption(format!("--at {t:?} is not RFC 3339 ({e})")))
}

pub(crate) fn run(
    file: &str,
    sti_ca: Option<&str>,
    x5u_ca: Option<&str>,
    at: Option<&str>,
    format: &str,
) -> ExitCode {
    if !matches!(format, "text" | "json") {
        return cli::fail(&Error::BadOption(format!(
            "unknown format {format:?} (expected text or json)"
        )));
    }
    let ctx = match context(sti_ca, x5u_ca, at) {
        Ok(c) => c,
        Err(e) => return cli::fail(&e),
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return cli::fail(&Error::io(format!("cannot read {file}"), e)),
    };
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let msg = match Message::parse(&bytes[start..], &Limits::default()) {
        Ok(m) if m.method().is_some() => m,
        Ok(_) => {
            eprintln!("sipcheck: {file} holds a SIP response, not a request");
            return ExitCode::from(EXIT_USAGE);
        }
        Err(e) => {
            eprintln!("sipcheck: {file} is not a SIP request: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let rt = match cli::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = rt.block_on(stir::verify_request(&msg, &ctx));
    if format == "json" {
        println!(
            "{}",
            serde_json::to_string_pretty(&result).unwrap_or_default()
        );
    } else {
        print!("{}", stir::text::render(&result));
    }
    ExitCode::from(u8::from(!result.all_valid()))
}
