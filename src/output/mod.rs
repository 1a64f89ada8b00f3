//! Writing results: the result CSVs (`tables`), `summary.json` (`summary`),
//! the review worklist (`review`), what a role may see (`mask`), and
//! publishing them atomically (`atomic`).

pub mod atomic;
pub mod mask;
pub mod review;
pub mod summary;
pub mod tables;
