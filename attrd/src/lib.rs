//! attrd: see docs/ATTRD.md (being written).
