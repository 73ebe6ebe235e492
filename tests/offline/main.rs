//! Offline tests, one binary: parsers, in-process fake trunks, renderers, user files. They start no
//! real server.

#![allow(unreachable_pub)] // test helpers are shared between modules of one test binary, never a public API

#[path = "../golden/mod.rs"]
mod golden;
#[path = "../handmade/mod.rs"]
mod handmade;
#[path = "../support/media_fake.rs"]
mod media_fake;
#[allow(dead_code)]
#[path = "../support/mutate.rs"]
mod mutate;
#[path = "../support/probed.rs"]
mod probed;
#[path = "../support/probed_media.rs"]
mod probed_media;
#[path = "../support/mod.rs"]
mod support;
#[path = "../support/tls12_fake.rs"]
mod tls12_fake;
#[path = "../support/tls_hello_fake.rs"]
mod tls_hello_fake;

mod auth_proxy_fake;
mod batch_politeness;
mod call_identity;
mod call_teardown;
mod cli_outputs;
mod cli_progress;
mod cli_selection;
mod contract_ids;
mod dtls_fake;
mod endpoints_overlap;
mod fleet_recipes;
mod fuzz_corpus;
mod fuzz_regressions;
mod gate;
mod layers;
mod media_answers;
mod media_fake_tests;
mod parser_robustness;
mod partial_results;
mod peer_parsers_robustness;
mod report_compare;
mod report_contract;
mod report_diff;
mod report_formats;
mod report_junit;
mod report_policy;
mod report_schema;
mod robustness_fakes;
mod rsip_measurement;
mod secagree_register;
mod setup_script;
mod tls12_fakes;
mod tls_heartbleed_fake;
mod tls_integrity_only;
mod tls_named_suites;
mod tls_sslv2;
mod user_files_robustness;
