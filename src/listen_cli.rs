//! Part of the `sipcheck` binary: `sipcheck listen ADDR:PORT`, the standalone listener.

use std::process::ExitCode;
use std::time::Duration;

use sipcheck::exit::Outcome;
use sipcheck::identity::VerifyContext;
use sipcheck::inbound::ListenConfig;
use sipcheck::report::{self, Format};

use crate::cli;

pub(crate) struct ListenArgs<'a> {
    pub addr: &'a str,
    pub duration: Duration,
    pub format: &'a str,
    pub output: Option<&'a str>,
    pub cert: Option<&'a str>,
    pub key: Option<&'a str>,
    pub max_requests: usize,
    pub sti_ca: Option<&'a str>,
    pub x5u_ca: Option<&'a str>,
}

pub(crate) fn run(a: ListenArgs<'_>) -> ExitCode {
    let format: Format = match a.format.parse() {
        Ok(f) => f,
        Err(e) => return cli::fail(&e),
    };
    let mut cfg = match ListenConfig::parse(a.addr, a.cert, a.key) {
        Ok(c) => c,
        Err(e) => return cli::fail(&e),
    };
    cfg.max_requests = a.max_requests.clamp(1, 10_000);
    let ctx = match VerifyContext::load(a.sti_ca, a.x5u_ca, None) {
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
    let text = report::render(&r, format, false);
    match a.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                return cli::fail(&sipcheck::Error::io(format!("cannot write {path}"), e));
            }
            print!("{}", report::render(&r, Format::Text, false));
        }
        None => print!("{text}"),
    }
    cli::exit(Outcome::Report(&r))
}
