//! Reading ledger and statement files: bytes → decoded text → table region →
//! typed records. Nothing here knows about matching.

pub mod amount;
pub mod encoding;
pub mod field;
pub mod time;
