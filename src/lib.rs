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
//! Parsing is usable on its own, and never panics on peer input:
//!
//! ```
//! use sipcheck::sip::{Limits, Message};
//!
//! let m = Message::parse(b"SIP/2.0 200 OK\r\nAllow: INVITE, REFER\r\nl: 0\r\n\r\n", &Limits::default()).unwrap();
//! assert_eq!(m.list_header("Allow"), ["INVITE", "REFER"]);
//! assert!(Message::parse(b"\x00garbage", &Limits::default()).is_err());
//! ```
//!
//! The public API is what a program needs: [`Target`] (what the user typed), [`ScanOptions`] (built
//! and checked by [`ScanOptions::builder`]), [`scan`] (the whole run, post-run analyses included) or
//! [`plan`] / [`dry_run`] (the same plan, not run), the [`Report`] and its renderings ([`report`]), the
//! [`exit`] code. The machinery under it (discovery, transport, SIP, TLS, probes) is public for the
//! binary, tests and fuzzers but hidden from these docs: it is not a stable API.

#![forbid(unsafe_code)]

// The public API: what a program needs to run a scan, read a report and act on it.
pub mod analysis;
pub mod batch;
pub mod capture;
pub mod error;
pub mod exit;
pub mod progress;
pub mod report;
pub mod scan;
pub mod target;

// The machinery under the scan. Public for the binary, the tests, the benchmarks and the fuzzers,
// which exercise it directly; not a stable API, so hidden from the documentation.
#[doc(hidden)]
pub mod call;
#[doc(hidden)]
pub mod catalog;
#[doc(hidden)]
pub mod discover;
#[doc(hidden)]
pub mod evidence;
#[doc(hidden)]
pub mod findings;
#[doc(hidden)]
pub mod fuzzing;
#[doc(hidden)]
pub mod listen;
#[doc(hidden)]
pub mod media;
#[doc(hidden)]
pub mod probe;
#[doc(hidden)]
pub mod probes;
#[doc(hidden)]
pub mod sip;
#[doc(hidden)]
pub mod stir;
#[doc(hidden)]
pub mod tls;
#[doc(hidden)]
pub mod transport;

pub use analysis::Baseline;
pub use error::{Error, Result};
pub use exit::Outcome;
pub use probe::Config;
pub use progress::{Progress, ProgressEvent};
pub use report::policy::Policy;
pub use report::{Finding, Format, Report, Severity, Status, render};
pub use scan::{Plan, ScanOptions, ScanOptionsBuilder, dry_run, plan, scan};
pub use target::{Endpoint, Port, Target, Transport};
