//! Writing results: the result CSVs (`tables`), `summary.json` (`summary`),
//! and publishing them atomically (`atomic`).

pub mod atomic;
pub mod summary;
pub mod tables;
