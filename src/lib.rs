//! `recon`: batch payment reconciliation of a platform ledger against a bank
//! or channel statement, driven by versioned TOML rule files.
//!
//! Data flows `input` (bytes → records) → `matching` (stages) → `output`
//! (CSVs, summary), steered by a `rules::Plan`; `run` ties one run together
//! and `cli` is the command line. `crypto` encrypts results at rest (SM4-GCM).

pub mod cli;
pub mod crypto;
pub mod input;
pub mod matching;
pub mod model;
pub mod output;
pub mod rules;
pub mod run;
