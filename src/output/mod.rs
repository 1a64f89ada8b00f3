//! Writing results: the result CSVs (`tables`) with each exception's likely
//! cause (`causes`), `summary.json` (`summary`), the views beside them
//! (`reports`: report.html, named reports, column templates, results.xlsx),
//! and publishing it all atomically (`atomic`).

pub mod atomic;
pub mod cause_text;
pub mod causes;
pub mod charts;
pub mod columns;
pub mod exceptions;
pub mod html;
pub mod named;
pub mod reports;
pub mod summary;
pub mod tables;
pub mod words;
pub mod xlsx;
