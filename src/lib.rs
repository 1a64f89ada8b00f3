//! `recon`: batch payment reconciliation of a platform ledger against a bank
//! or channel statement, driven by versioned TOML rule files.

pub mod cli;
pub mod input;
