//! Part of the `sipcheck` binary: `sipcheck listen ADDR:PORT`, the standalone listener.

use std::process::ExitCode;
use std::time::Duration;

use sipcheck::listen::{ListenAddr, ListenConfig};
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

/// Reads `--listen-cert/--listen-key` into the listener's configuration.
pub(crate) fn config(
    addr: &str,
    cert: Option<&str>,
    key: Option<&str>,
) -> sipcheck::Result<ListenConfig> {
    let at = ListenAddr::parse(addr)?;
    let mut cfg = ListenConfig::new(at);
    cfg.tls = match (cert, key) {
        (Some(c), Some(k)) => Some((c.to_string(), k.to_string())),
        (None, None) => None,
        _ => {
            return Err(sipcheck::Error::BadOption(
                "--listen-cert and --listen-key go together".into(),
            ));
        }
    };
    Ok(cfg)
}

pub(crate) fn run(a: ListenArgs<'_>) -> ExitCode {
    let format: Format = match a.format.parse() {
        Ok(f) => f,
        Err(e) => return cli::fail(&e),
    };
    let mut cfg = match config(a.addr, a.cert, a.key) {
        Ok(c) => c,
        Err(e) => return cli::fail(&e),
    };
    cfg.max_requests = a.max_requests.clamp(1, 10_000);
    let ctx = match crate::verify_cli::context(a.sti_ca, a.x5u_ca, None) {
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
    let r = match rt.block_on(sipcheck::listen::report::run(
        cfg, a.duration, ctx, interrupt,
    )) {
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
    ExitCode::from(r.exit_code() as u8)
}
