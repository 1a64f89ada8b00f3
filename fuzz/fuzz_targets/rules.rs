//! Rule-file loading: any bytes as a rule file give a plan or an error with
//! a position inside the file, never a panic.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use recon::rules::{self, RulesError};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("recon-fuzz-rules-{}.toml", std::process::id()));
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(data))
        .expect("temporary rule file");
    match rules::load_file(&path) {
        Ok(plan) => assert!(!plan.stages.is_empty()),
        Err(RulesError::Toml { line, column, .. } | RulesError::Invalid { line, column, .. }) => {
            let lines = data.split(|&b| b == b'\n').count();
            assert!(
                line >= 1 && line <= lines && column >= 1,
                "{line}:{column} of {lines} lines"
            );
        }
        Err(_) => {}
    }
});
