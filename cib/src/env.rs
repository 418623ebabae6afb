//! The `HA_*` environment contract, re-exported from the `haenv` crate
//! (docs/ENVIRONMENT.md) so callers can keep saying `cib::env::HaEnv`.
//! The contract lives in `haenv` because transport needs it too and
//! cannot depend on cib (docs/DECISIONS.md).

pub use haenv::*;
