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
//! Module map: [`target`] (what the user typed) → [`discover`] (endpoints) → [`transport`] (UDP/TCP/TLS
//! transactions) → [`sip`] (messages) → [`probe`] (framework) → [`probes`] (one module per probe) →
//! [`report`] (scorecard and renderings).

#![forbid(unsafe_code)]

pub mod analysis;
pub mod batch;
pub mod call;
pub mod capture;
pub mod catalog;
pub mod discover;
pub mod error;
pub mod evidence;
pub mod exit;
pub mod findings;
#[doc(hidden)]
pub mod fuzzing;
pub mod listen;
pub mod media;
pub mod probe;
pub mod probes;
pub mod report;
pub mod scan;
pub mod sip;
pub mod stir;
pub mod target;
pub mod tls;
pub mod transport;

pub use error::{Error, Result};
pub use exit::Outcome;
pub use report::{Finding, Format, Report, Status};
pub use scan::{Plan, ScanOptions, ScanOptionsBuilder, dry_run, plan, scan};
pub use target::{Endpoint, Port, Target, Transport};
