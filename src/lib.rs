//! `recon`: batch payment reconciliation of a platform ledger against a bank
//! or channel statement, driven by versioned TOML rule files.
//!
//! Data flows `input` (bytes → records) → `matching` (stages) → `output`
//! (CSVs, summary, masking, review worklist), steered by a `rules::Plan`;
//! `run` ties one run together, `audit` keeps the hash-chained audit log,
//! `crypto` encrypts results at rest (SM4-GCM), `access` says who may do
//! what, and `cli` is the command line.

pub mod access;
pub mod audit;
pub mod cli;
pub mod crypto;
pub mod digest;
pub mod input;
pub mod interrupt;
pub mod matching;
pub mod model;
pub mod output;
pub mod partition;
pub mod progress;
pub mod rules;
pub mod run;
