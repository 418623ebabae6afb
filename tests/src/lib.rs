//! End-to-end tests live in `tests/tests/`; they run the binaries that
//! `cargo build` puts in the workspace's target directory.
//!
//! The library holds [`lab`]: cluster nodes in namespaces on one machine,
//! driven by the tests and by the `ha-lab` command (docs/LAB.md).

pub mod lab;
