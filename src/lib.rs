//! # sipcheck
//!
//! Measures what a SIP trunk really does about security — which transports answer, whether SIPS works
//! with a certificate for the SIP domain, which methods and extensions it advertises (REFER!), what it
//! discloses — and writes an evidence-backed scorecard.
//!
//! The binary is a thin CLI over this library; tests, benchmarks and fuzzers use the library directly.
//!
//! ```no_run
//! # async fn demo() -> sipcheck::Result<()> {
//! use sipcheck::{ScanOptions, Target, exit, scan};
//!
//! let opts = ScanOptions::builder(Target::parse("sip:127.0.0.1:5060")?)
//!     .probes(["transport", "sip"])
//!     .policy_named("baseline")
//!     .rate(10.0)
//!     .build()?;
//! let report = scan(opts).await?;
//! for f in &report.findings {
//!     println!("{} {} {}", f.status, f.id, f.summary);
//! }
//! std::process::exit(exit::code(exit::Outcome::Report(&report)).into());
//! # }
//! ```
//!
//! A target is checked before anything is sent:
//!
//! ```
//! use sipcheck::Target;
//!
//! assert!(Target::parse("sips:trunk.example.com:5061").is_ok());
//! assert!(Target::parse("sip:host;maddr=10.0.0.1").is_err());
//! ```
//!
//! The public API is what a program needs: [`Target`] (what the user typed), [`ScanOptions`] (built
//! and checked by [`ScanOptions::builder`]), [`scan`] (the whole run, post-run analyses included) or
//! [`plan`] / [`dry_run`] (the same plan, not run), the [`Report`] and its renderings ([`report`]), the
//! [`exit`] code; [`inbound`] and [`identity`] serve `sipcheck listen` and `verify-identity`;
//! [`app`] is the `sipcheck` command line itself as data and rules (arguments, ranges, help, man
//! pages), which the binary only parses with. The
//! machinery under it (discovery, transport, SIP, TLS, probes) is private; the `internals` feature
//! opens it, undocumented and unstable, for the tests, fuzz targets and benchmarks.

#![forbid(unsafe_code)]

/// Declares library modules that are private to the crate: with the `internals` feature (the tests,
/// fuzz targets and benchmarks turn it on) they are public but hidden from the docs, so those can
/// drive the machinery directly; without it the compiler sees who really uses what, and dead code
/// is an error in CI's `cargo clippy --lib --bins`.
macro_rules! internal_modules {
    ($($name:ident),* $(,)?) => {
        $(
            #[cfg(feature = "internals")]
            #[doc(hidden)]
            pub mod $name;
            #[cfg(not(feature = "internals"))]
            mod $name;
        )*
    };
}

// The public API: what a program needs to run a scan, read a report and act on it.
pub mod analysis;
pub mod app;
pub mod batch;
pub mod error;
pub mod exit;
pub mod fleet;
pub mod progress;
pub mod report;
pub mod scan;
pub mod target;

// The machinery under the scan.
internal_modules!(
    call, capture, catalog, discover, evidence, findings, listen, media, probe, probes, sip, stir,
    tls, transport,
);

// The properties the fuzz targets and the corpus test check: nothing else calls them.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod fuzzing;

pub use analysis::Baseline;
pub use capture::PcapWriter;
pub use error::{Error, Result};
pub use exit::Outcome;
pub use findings::{
    Finding, GatedOff, OptIns, ProbeError, Report, Scope, Severity, SeverityCounts, Status,
    StatusCounts, Summary,
};
pub use probe::{CallPolicy, Config, DEFAULT_MAX_CALLS, DEFAULT_MAX_CONNECTIONS};
pub use progress::{Bar, Progress, ProgressEvent, ProgressLine};
pub use report::{Format, render};
pub use scan::{DryRun, Plan, ScanOptions, ScanOptionsBuilder, dry_run, plan, scan};
pub use target::{Endpoint, Port, Target, Transport};

/// Receiving calls (`sipcheck listen`): where to listen and the run that reports each caller.
pub mod inbound {
    pub use crate::listen::report::run;
    pub use crate::listen::{DEFAULT_MAX_REQUESTS, ListenConfig};
}

/// STIR/SHAKEN: verifying the Identity of a SIP request (`sipcheck verify-identity`).
pub mod identity {
    pub use crate::stir::public_addr::Cidr;
    pub use crate::stir::text::render;
    pub use crate::stir::{RequestIdentity, VerifyContext, saved_request, verify_request};
}
