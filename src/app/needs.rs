//! Flags that mean nothing without another: each pair once, refused in one line before anything is
//! read or sent (a `--max-calls` without `--allow-calls` would otherwise be accepted and ignored).

use clap::ArgMatches;
use clap::parser::ValueSource;

use crate::error::{Error, Result};

/// A flag given (by its argument id), the flags of which at least one must be given with it, and
/// the one line said when none is.
pub struct Need {
    /// The argument id of the flag given.
    pub flag: &'static str,
    /// At least one of these must be given too.
    pub any_of: &'static [&'static str],
    /// The refusal.
    pub why: &'static str,
}

const fn need(flag: &'static str, any_of: &'static [&'static str], why: &'static str) -> Need {
    Need { flag, any_of, why }
}

/// Every pair of `probe`. (`--loop-call` and `--listen` are checked by the options builder, which
/// knows every way a loop call can be routed.)
pub const NEEDS: &[Need] = &[
    need(
        "allow_calls",
        &["call_to", "loop_call"],
        "--allow-calls permits calls to --call-to or to the --loop-call DID: give one of them",
    ),
    need(
        "max_calls",
        &["allow_calls"],
        "--max-calls bounds the calls --allow-calls permits: give --allow-calls too",
    ),
    need(
        "refer_to",
        &["allow_calls"],
        "--refer-to is where call.refer transfers a test call: give --call-to and --allow-calls too",
    ),
    need(
        "rtp_bleed",
        &["allow_calls"],
        "--rtp-bleed places one more call: give --call-to and --allow-calls too",
    ),
    need(
        "caller_id",
        &["allow_calls", "loop_call"],
        "--caller-id is the calling number of test calls: give --allow-calls (with --call-to) or --loop-call",
    ),
    need(
        "password_file",
        &["user"],
        "--password-file holds the password of --user: give --user too",
    ),
    need(
        "listen_cert",
        &["listen"],
        "--listen-cert is the certificate of a tls: --listen: give --listen too",
    ),
    need(
        "listen_key",
        &["listen"],
        "--listen-key is the key of a tls: --listen: give --listen too",
    ),
    need(
        "spoof_caller_id",
        &["loop_call"],
        "--spoof-caller-id is used by the loop calls: give --loop-call too",
    ),
    need(
        "sti_ca_file",
        &["loop_call"],
        "--sti-ca-file verifies the loop calls' Identity: give --loop-call too",
    ),
    need(
        "x5u_ca_file",
        &["loop_call"],
        "--x5u-ca-file serves the loop calls' Identity fetches: give --loop-call too",
    ),
    need(
        "fetch_allow",
        &["loop_call"],
        "--expect-spc and --fetch-allow judge and fetch for the loop calls: give --loop-call too",
    ),
    need(
        "expect_spc",
        &["loop_call"],
        "--expect-spc and --fetch-allow judge and fetch for the loop calls: give --loop-call too",
    ),
    need(
        "dos_max_requests",
        &["dos"],
        "--dos-max-requests caps the flood probes: give --dos too",
    ),
    need(
        "client_cert",
        &["client_key"],
        "--client-cert and --client-key go together (the certificate chain and its private key)",
    ),
    need(
        "client_key",
        &["client_cert"],
        "--client-cert and --client-key go together (the certificate chain and its private key)",
    ),
    need(
        "parallel",
        &["file"],
        "--parallel is how many of the -f targets run at once: give -f FILE too",
    ),
    need(
        "jsonl",
        &["file"],
        "--jsonl writes one line per -f target: give -f FILE too",
    ),
    need(
        "shard",
        &["file"],
        "--shard picks a part of the -f list: give -f FILE too",
    ),
    need(
        "resume",
        &["jsonl"],
        "--resume skips the trunks already in the --jsonl file: give --jsonl OUT too",
    ),
];

fn given(m: &ArgMatches, id: &str) -> bool {
    matches!(
        m.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// The first pair broken in `probe`'s arguments, as a one-line option error.
pub fn check(m: &ArgMatches) -> Result<()> {
    match NEEDS
        .iter()
        .find(|n| given(m, n.flag) && !n.any_of.iter().any(|o| given(m, o)))
    {
        Some(n) => Err(Error::BadOption(n.why.to_string())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_named_is_an_argument_of_probe() {
        let cmd = crate::app::command();
        let probe = cmd.find_subcommand("probe").unwrap();
        let ids: Vec<&str> = probe.get_arguments().map(|a| a.get_id().as_str()).collect();
        for n in NEEDS {
            for id in std::iter::once(&n.flag).chain(n.any_of) {
                assert!(ids.contains(id), "{id} is not an argument of probe");
            }
            assert!(!n.why.contains('\n'));
        }
    }
}
