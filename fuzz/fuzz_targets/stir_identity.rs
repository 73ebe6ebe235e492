#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sipcheck::fuzzing::stir_identity(data));
