//! Writing results: the result CSVs (`tables`) with each exception's likely
//! cause (`causes`, worded by `cause_text`), the fee check (`fees`),
//! `summary.json` (`summary`), the review worklist (`review`), the handling
//! of exceptions (`resolutions`), what a role may see (`mask`), the views beside
//! them (`reports`: report.html, named reports, column templates,
//! results.xlsx), and publishing it all atomically (`atomic`).

pub mod atomic;
pub mod cause_text;
pub mod causes;
pub mod charts;
pub mod columns;
pub mod exceptions;
pub mod fees;
pub mod html;
pub mod mask;
pub mod named;
pub mod reports;
pub mod resolutions;
pub mod review;
pub mod sheet_words;
pub mod summary;
pub mod tables;
pub mod words;
pub mod xlsx;
