//! `probe`'s flags as [`ScanOptions`], through the library's validating builder.

use crate::error::{Error, Result};
use crate::listen::ListenConfig;
use crate::scan::{ScanOptions, ScanOptionsBuilder};
use crate::stir::VerifyContext;
use crate::stir::public_addr::Cidr;
use crate::target::{Target, Transport};

use super::args::{IdentityArgs, ProbeArgs};

/// The environment variable the digest password is read from.
pub const PASSWORD_VAR: &str = "SIPCHECK_PASSWORD";

impl ProbeArgs {
    /// The scan options for `target` (with `-f`, each listed target replaces it). `files` also reads
    /// the baseline and creates the key log (not for `--dry-run`, which writes nothing).
    pub fn options(&self, target: &str, files: bool) -> Result<ScanOptions> {
        let a = self;
        let target = Target::parse(target)?;
        let transports = a
            .transport
            .iter()
            .map(|t| t.parse())
            .collect::<Result<Vec<Transport>>>()?;
        let b = ScanOptions::builder(target)
            .maybe((!transports.is_empty()).then_some(transports), |b, t| {
                b.transports(t)
            })
            .maybe(a.tls_port, ScanOptionsBuilder::tls_port)
            .probes(&a.probes)
            .timeout(a.timeout)
            .maybe(a.domain.as_deref(), ScanOptionsBuilder::domain)
            .maybe(a.ca_file.as_deref(), ScanOptionsBuilder::ca_file)
            .maybe(a.user_agent.as_deref(), ScanOptionsBuilder::user_agent)
            .rate(a.rate)
            .max_connections(a.max_connections)
            .intrusive(a.intrusive)
            .maybe(a.catalog.clone(), ScanOptionsBuilder::catalog_dir)
            .maybe(a.dns_server.as_deref(), ScanOptionsBuilder::dns_server)
            .no_discovery(a.no_discovery)
            .dos(a.dos)
            .dos_max_requests(a.dos_max_requests)
            .maybe(a.call_to.as_deref(), ScanOptionsBuilder::call_to)
            .allow_calls(a.allow_calls)
            .max_calls(a.max_calls)
            .maybe(a.user.as_deref(), ScanOptionsBuilder::user)
            .maybe(
                a.password_file.as_deref(),
                ScanOptionsBuilder::password_file,
            )
            .maybe(
                std::env::var(PASSWORD_VAR).ok(),
                ScanOptionsBuilder::password,
            )
            .rtp_bleed(a.rtp_bleed)
            .maybe(a.refer_to.as_deref(), ScanOptionsBuilder::refer_to)
            .maybe(a.caller_id.as_deref(), ScanOptionsBuilder::caller_id)
            .maybe(a.loop_call.as_deref(), ScanOptionsBuilder::loop_call)
            .loop_via_register(a.loop_via_register)
            .maybe(
                a.spoof_caller_id.as_deref(),
                ScanOptionsBuilder::spoof_caller_id,
            )
            .maybe(a.profile.as_deref(), ScanOptionsBuilder::tls_profile)
            .maybe(a.policy.as_deref(), ScanOptionsBuilder::policy_named);
        let b = match (&a.client_cert, &a.client_key) {
            (Some(c), Some(k)) => b.client_certificate(c, k),
            _ => b,
        };
        let b = match &a.listen {
            Some(at) => b.listen(ListenConfig::parse(
                at,
                a.listen_cert.as_deref(),
                a.listen_key.as_deref(),
            )?),
            None => b,
        };
        let b = match a.loop_call {
            Some(_) => b.verify(verify_context(&a.identity, None)?),
            None => b,
        };
        let b = if files {
            b.maybe(a.baseline.as_deref(), ScanOptionsBuilder::baseline_file)
                .maybe(a.keylog.as_deref(), ScanOptionsBuilder::key_log_file)
        } else {
            b
        };
        b.build()
    }
}

/// The identity verifier's context from the flags `probe`, `listen` and `verify-identity` share:
/// STI roots, x5u trust, the moment (`at`), `--fetch-allow` blocks and `--expect-spc` codes.
pub fn verify_context(a: &IdentityArgs, at: Option<&str>) -> Result<VerifyContext> {
    let allow = a
        .fetch_allow
        .iter()
        .map(|c| Cidr::parse(c))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::BadOption(format!("--fetch-allow: {e}")))?;
    let spcs: Vec<String> = a
        .expect_spc
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(bad) = spcs
        .iter()
        .find(|s| s.len() > 16 || !s.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(Error::BadOption(format!(
            "--expect-spc {bad:?} is not a Service Provider Code (letters and digits, e.g. 1234 or 567J)"
        )));
    }
    Ok(
        VerifyContext::load(a.sti_ca_file.as_deref(), a.x5u_ca_file.as_deref(), at)?
            .allowing(allow)
            .expecting(spcs),
    )
}
