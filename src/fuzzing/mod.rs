//! Property checks over every parser of peer bytes and user files, for the cargo-fuzz targets in
//! `fuzz/` and for the corpus test (`tests/offline/fuzz_corpus.rs`) that runs the same checks under a plain
//! `cargo test`. Not a stable API: it exists so the targets stay a few lines each and internals stay
//! private (like rustls's `internal::fuzzing`).
//!
//! Each check panics when a property fails: bounds on what is kept, agreement between two ways of
//! computing the same thing (one read and byte-by-byte reads, the framer and the parser), and round
//! trips where the code has a printer. "It did not panic" alone is not the point.

mod dns;
mod listen;
mod peer;
mod report;
mod stir;
mod user;

pub use dns::dns_answers;
pub use listen::listen_request;
pub use peer::{
    cert_der, digest_challenge, evidence_redaction, rtp_rtcp, sdp, sip_message, sip_stream, srtp,
    tls_answer,
};
pub use report::report_render;
pub use stir::{stir_identity, stir_x5u_pem};
pub use user::{catalog_case, catalog_template, policy_toml, report_json};

/// One property check: panics when a property fails on the input.
pub type Check = fn(&[u8]);

/// Every target by name: the name is the `fuzz/fuzz_targets/<name>.rs` file and the
/// `fuzz/corpus/<name>/` directory.
pub const TARGETS: &[(&str, Check)] = &[
    ("sip_message", sip_message),
    ("sip_stream", sip_stream),
    ("tls_answer", tls_answer),
    ("sdp", sdp),
    ("digest_challenge", digest_challenge),
    ("rtp_rtcp", rtp_rtcp),
    ("srtp", srtp),
    ("cert_der", cert_der),
    ("evidence_redaction", evidence_redaction),
    ("policy_toml", policy_toml),
    ("catalog_case", catalog_case),
    ("catalog_template", catalog_template),
    ("report_json", report_json),
    ("stir_identity", stir_identity),
    ("stir_x5u_pem", stir_x5u_pem),
    ("listen_request", listen_request),
    ("dns_answers", dns_answers),
    ("report_render", report_render),
];
