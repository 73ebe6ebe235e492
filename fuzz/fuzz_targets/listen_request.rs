#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sipcheck::fuzzing::listen_request(data));
