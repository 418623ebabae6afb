//! Any input: the CIB parser returns an error or a tree, never panics or
//! hangs, and a tree survives serialize + parse unchanged.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cib::fuzzing::check_parse(data);
});
