//! The command line as data and rules: the arguments of `sipcheck` ([`Cli`]), how they are read
//! ([`parse_from`]: ranges, flags that need another, one-line refusals), what they mean as scan
//! options, the man page and completions, and the words each command prints. The binary parses
//! with this, renders, writes and maps the exit code; it holds no rule of its own.

mod args;
mod man;
mod needs;
mod options;
mod run;
pub mod values;
mod words;

use std::ffi::OsString;

use clap::{CommandFactory, FromArgMatches};

pub use args::{
    Cli, Command, IdentityArgs, ListenArgs, OutputArgs, ProbeArgs, ReportArgs, VerifyArgs,
};
pub use man::{completions, man_page, man_pages};
pub use options::{PASSWORD_VAR, verify_context};
pub use run::{
    Destinations, deliver, diff_files, dry_run_format, list_probes, merge_into, write_index,
    write_item, write_man_pages,
};
pub use words::{
    batch_checks, batch_json, diff_text, gate_lines, index_json, item_entry, run_notes,
    summary_line,
};

use crate::error::Error;

/// The whole command, as clap sees it (help, completions, man page).
pub fn command() -> clap::Command {
    Cli::command()
}

/// What reading the arguments came to.
pub enum Parsed {
    /// A command to run.
    Run(Cli),
    /// Help, the version or clap's own usage error: print it (stdout or stderr as it says) and exit.
    Show(clap::Error, Option<String>),
    /// A value or a combination refused in one line (the usage exit code).
    Refused(Error),
}

/// Reads the arguments (the program name first). A number out of range and a flag given without
/// the flag it needs are refused in one line; a bare target gets the `sipcheck probe` hint.
pub fn parse_from(args: impl IntoIterator<Item = OsString>) -> Parsed {
    let args: Vec<OsString> = args.into_iter().collect();
    let first = args.get(1).map(|a| a.to_string_lossy().into_owned());
    let matches = match command().try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => {
            use std::error::Error as _;
            if e.kind() == clap::error::ErrorKind::ValueValidation
                && let Some(why) = e.source()
            {
                return Parsed::Refused(Error::BadOption(why.to_string()));
            }
            let hint = probe_hint(e.kind(), first);
            return Parsed::Show(e, hint);
        }
    };
    if let Some(("probe", m)) = matches.subcommand()
        && let Err(e) = needs::check(m)
    {
        return Parsed::Refused(e);
    }
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => Parsed::Run(cli),
        Err(e) => Parsed::Show(e, None),
    }
}

/// `sipcheck trunk.example.com` is what nmap's users type: name the command they meant.
fn probe_hint(kind: clap::error::ErrorKind, first: Option<String>) -> Option<String> {
    let first = first?;
    (kind == clap::error::ErrorKind::InvalidSubcommand && !first.starts_with('-'))
        .then(|| format!("sipcheck: to probe a trunk, run: sipcheck probe {first}"))
}
