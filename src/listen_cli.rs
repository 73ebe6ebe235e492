//! Part of the `sipcheck` binary: `sipcheck listen ADDR:PORT`, the standalone listener.

use std::process::ExitCode;
use std::time::Duration;

use sipcheck::exit::Outcome;
use sipcheck::inbound::ListenConfig;
use sipcheck::report::{self, Format};

use crate::cli;

pub(crate) struct ListenArgs<'a> {
    pub addr: &'a str,
    pub duration: Duration,
    pub format: Option<&'a str>,
    pub output: Option<&'a str>,
    pub cert: Option<&'a str>,
    pub key: Option<&'a str>,
    pub max_requests: usize,
    pub sti_ca: Option<&'a str>,
    pub x5u_ca: Option<&'a str>,
    pub fetch_allow: &'a [String],
    pub expect_spc: &'a [String],
}

pub(crate) fn run(a: ListenArgs<'_>) -> ExitCode {
    let files: Vec<String> = a.output.iter().map(|s| s.to_string()).collect();
    let wanted = crate::output_cli::Wanted {
        format: a.format,
        files: &files,
        all: None,
    };
    // The output file is opened before listening: an unwritable path never costs the calls heard.
    let (format, files) = match wanted.explicit().and_then(|f| Ok((f, wanted.open()?))) {
        Ok((f, files)) => (f.unwrap_or(Format::Text), files),
        Err(e) => return cli::fail(&e),
    };
    let mut cfg = match ListenConfig::parse(a.addr, a.cert, a.key) {
        Ok(c) => c,
        Err(e) => return cli::fail(&e),
    };
    cfg.max_requests = a.max_requests.clamp(1, 10_000);
    let ctx = match cli::verify_context(a.sti_ca, a.x5u_ca, None, a.fetch_allow, a.expect_spc) {
        Ok(c) => c,
        Err(e) => return cli::fail(&e),
    };
    let rt = match cli::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await
        }
    };
    let r = match rt.block_on(sipcheck::inbound::run(cfg, a.duration, ctx, interrupt)) {
        Ok(r) => r,
        Err(e) => return cli::fail(&e),
    };
    if let Err(e) = crate::output_cli::deliver(&r, files, format, report::Style::default(), false) {
        return cli::fail(&e);
    }
    cli::exit(Outcome::Report(&r))
}
