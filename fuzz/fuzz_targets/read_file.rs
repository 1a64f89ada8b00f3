//! Reading a statement file end to end, as `recon run` and `recon check` do:
//! workbook or text detection, encoding detection and strict decoding, the
//! table region (delimiter, header, preamble, trailer), and typing the rows
//! with the default rule file's ledger and bank mappings and with guessed
//! columns and profiles. Never panics, and every data row is accounted for.
#![no_main]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use recon::input::read_source;
use recon::model::Side;
use recon::rules::inspect::{inspect, InspectOptions};
use recon::rules::{self, Plan};

fn plan() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| {
        let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/default.toml");
        rules::load_file(&rules).expect("rules/default.toml loads")
    })
}

fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| std::env::temp_dir().join(format!("recon-fuzz-read-{}.csv", std::process::id())))
}

fuzz_target!(|data: &[u8]| {
    let path = file();
    std::fs::File::create(path)
        .and_then(|mut f| f.write_all(data))
        .expect("temporary statement file");
    for (side, side_plan) in [(Side::Ledger, &plan().ledger), (Side::Bank, &plan().bank)] {
        if let Ok(source) = read_source(path, side, side_plan) {
            let table = &source.located.table;
            assert!(table.header_line >= 1);
            for record in &source.typed.records {
                assert!(record.line > table.header_line && record.line <= table.total_lines.max(1) + 1);
            }
        }
    }
    let options = InspectOptions {
        rules: None,
        side: Side::Bank,
        date: None,
        encoding: None,
        delimiter: None,
        timezone: None,
        profile: Some("auto".into()),
    };
    let _ = inspect(path, &options);
});
