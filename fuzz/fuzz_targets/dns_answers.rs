#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sipcheck::fuzzing::dns_answers(data));
