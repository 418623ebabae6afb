//! Any input: the wire decoder returns an error or a packet, never panics;
//! packets re-encode stably; messages built from the input round-trip and
//! authenticate (`transport::fuzzing::check_wire`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    transport::fuzzing::check_wire(data);
});
