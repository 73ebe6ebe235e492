#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sipcheck::fuzzing::report_render(data));
