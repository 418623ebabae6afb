//! End-to-end tests live in `tests/tests/`; they run the binaries that
//! `cargo build` puts in the workspace's target directory.
