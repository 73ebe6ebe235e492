//! Tests against real peers, one binary: Kamailio, baresip, SIPp, openssl, dnsmasq, tshark,
//! secsipidx and the others from Debian's packages, started by the tests and stopped by PID.

#![allow(unreachable_pub)] // test helpers are shared between modules of one test binary, never a public API

#[path = "../support/baresip.rs"]
mod baresip;
#[path = "../support/dnsmasq.rs"]
mod dnsmasq;
#[path = "../golden/mod.rs"]
mod golden;
#[path = "../support/media_fake.rs"]
mod media_fake;
#[path = "../support/mod.rs"]
mod support;
#[path = "../tls_support/mod.rs"]
mod tls_support;

mod auth_kamailio;
mod auth_options_kamailio;
mod call_refer;
mod cli;
mod cli_capture;
mod cli_deliverables;
mod cli_outputs;
mod discovery_batch;
mod discovery_dns;
mod discovery_reference;
mod discovery_trunks;
mod dos_flood;
mod fleet;
mod foundation_kamailio;
mod fuzz_capture;
mod hostile_trunks;
mod listen;
mod loop_kamailio;
mod media_baresip;
mod readme_demo;
mod report_html;
mod robustness_baresip;
mod robustness_kamailio;
mod rtp_bleed;
mod rtpengine_edge;
mod scan_analyses;
mod sipp_peer;
mod stir_verify;
mod tls_checks;
mod tls_connections;
mod tls_hostile;
mod tls_kamailio;
mod tls_kamailio_workers;
mod tls_mutual;
mod tls_openssl;
