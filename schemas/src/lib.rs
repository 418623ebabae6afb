//! CIB validation rules.
