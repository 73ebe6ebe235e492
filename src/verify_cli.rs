//! Part of the `sipcheck` binary: `sipcheck verify-identity FILE`, the offline verifier (offline but
//! for the x5u fetch). Exit 0 when every Identity is fully valid, 1 otherwise, 2 for usage errors.

use std::process::ExitCode;

use sipcheck::Error;
use sipcheck::exit::Outcome;
use sipcheck::identity::{self as stir, VerifyContext};

use crate::cli;

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
    let setup = VerifyContext::load(sti_ca, x5u_ca, at).and_then(|ctx| {
        let bytes = std::fs::read(file).map_err(|e| Error::io(format!("cannot read {file}"), e))?;
        Ok((ctx, stir::saved_request(file, &bytes)?))
    });
    let (ctx, msg) = match setup {
        Ok(v) => v,
        Err(e) => return cli::fail(&e),
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
        print!("{}", stir::render(&result));
    }
    cli::exit(Outcome::Identity {
        all_valid: result.all_valid(),
    })
}
