#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paper_ls::fuzzing::csl_json(data));
