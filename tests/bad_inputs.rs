//! The bad-input suite: every kind of broken file or rule file, run through
//! the real binary. Each is refused with exit code 2 (`recon check` exits 1
//! when it can read the file but found problems, 2 when it cannot read it at
//! all), with a message that names the file, line and column and says what
//! to do, and a previous results directory stays byte for byte as it was.
//! Fixtures are in tests/data/bad (made by make_fixtures.py there); the big
//! ones are generated here into a temporary directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{data, recon, root, snapshot, stderr, stdout};

const RULES: &str = "rules/default.toml";
const GOOD_LEDGER: &str = "examples/basic/ledger.csv";
const GOOD_BANK: &str = "examples/basic/bank.csv";
const HEADER: &str = "订单号,商户号,缴费类型,金额,支付时间,户号,付款账号\n";

/// A results directory written by a good run, with its bytes, so a failed
/// run can be shown to have changed nothing.
struct Previous {
    tmp: tempfile::TempDir,
    out: PathBuf,
    before: Vec<(String, Vec<u8>)>,
}

impl Previous {
    fn new() -> Previous {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let done = run_files(
            &root().join(GOOD_LEDGER),
            &root().join(GOOD_BANK),
            &root().join(RULES),
            &out,
            &[],
        );
        assert_eq!(done.status.code(), Some(1), "{}", stderr(&done));
        let before = snapshot(&out);
        assert!(before.iter().any(|(name, _)| name == "summary.json"));
        Previous { tmp, out, before }
    }

    /// A scratch path beside the results, for generated inputs.
    fn scratch(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn assert_unchanged(&self, case: &str) {
        assert_eq!(
            snapshot(&self.out),
            self.before,
            "{case}: previous results changed"
        );
        let mut names: Vec<String> = std::fs::read_dir(self.tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        names.sort();
        assert!(names.is_empty(), "{case}: temporary files left behind: {names:?}");
    }
}

fn run_files(ledger: &Path, bank: &Path, rules: &Path, out: &Path, extra: &[&str]) -> Output {
    common::run(ledger, bank, rules, out)
        .args(extra)
        .output()
        .unwrap()
}

fn assert_contains(text: &str, expected: &[&str], case: &str) {
    for e in expected {
        assert!(text.contains(e), "{case}: expected {e:?} in:\n{text}");
    }
}

/// Which side a bad file is given as.
#[derive(Clone, Copy)]
enum As {
    Ledger,
    Bank,
}

/// `recon run` with `file` as one side (the other good) over previous
/// results: exit 2, every `expected` text on stderr, nothing changed.
fn assert_run_refused(file: &Path, side: As, rules: &Path, expected: &[&str]) {
    let previous = Previous::new();
    let (ledger, bank) = match side {
        As::Ledger => (file.to_path_buf(), root().join(GOOD_BANK)),
        As::Bank => (root().join(GOOD_LEDGER), file.to_path_buf()),
    };
    let case = file.display().to_string();
    let failed = run_files(&ledger, &bank, rules, &previous.out, &[]);
    assert_eq!(failed.status.code(), Some(2), "{case}: {}", stderr(&failed));
    assert!(stdout(&failed).is_empty(), "{case}: printed a summary");
    assert_contains(&stderr(&failed), expected, &case);
    previous.assert_unchanged(&case);
}

/// `recon check FILE --rules R --side S`: the exit code, and stdout + stderr.
fn check(file: &Path, side: As, rules: &Path) -> (Option<i32>, String) {
    let side = match side {
        As::Ledger => "ledger",
        As::Bank => "bank",
    };
    let done = recon()
        .arg("check")
        .arg(file)
        .arg("--rules")
        .arg(rules)
        .args(["--side", side])
        .output()
        .unwrap();
    (done.status.code(), format!("{}{}", stdout(&done), stderr(&done)))
}

/// A file `run` refuses and `check` reports with `check_code`, both with
/// every `expected` text.
fn assert_refused(file: &Path, side: As, check_code: i32, expected: &[&str]) {
    let rules = root().join(RULES);
    assert_run_refused(file, side, &rules, expected);
    let (code, text) = check(file, side, &rules);
    assert_eq!(code, Some(check_code), "check {}: {text}", file.display());
    assert_contains(&text, expected, &format!("check {}", file.display()));
}

fn bad(name: &str) -> PathBuf {
    data(&format!("bad/{name}"))
}

#[test]
fn truncated_gbk_character_at_end_of_file() {
    assert_refused(
        &bad("gbk_truncated.csv"),
        As::Ledger,
        2,
        &[
            "gbk_truncated.csv:4:1: ",
            "bytes that are not valid GBK",
            "fix this spot, name the file's real encoding (--encoding, or encoding = in the rule file's side section), or re-export it",
        ],
    );
}

#[test]
fn gbk_row_in_a_utf8_file() {
    assert_refused(
        &bad("gbk_in_utf8.csv"),
        As::Ledger,
        2,
        &[
            "gbk_in_utf8.csv:4:14: ",
            "valid UTF-8 up to here, then a byte that is not: the file mixes encodings",
            "re-export it in one encoding",
        ],
    );
}

/// UTF-16 without a byte-order mark is recognised by its NUL pattern and
/// gives exactly the results of the same file in UTF-8.
#[test]
fn utf16_without_bom_reads_like_utf8() {
    for (name, little_endian) in [("utf16le_no_bom.csv", true), ("utf16be_no_bom.csv", false)] {
        let tmp = tempfile::tempdir().unwrap();
        let bytes = std::fs::read(bad(name)).unwrap();
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|u| {
                if little_endian {
                    u16::from_le_bytes([u[0], u[1]])
                } else {
                    u16::from_be_bytes([u[0], u[1]])
                }
            })
            .collect();
        let utf8 = tmp.path().join("utf8.csv");
        std::fs::write(&utf8, String::from_utf16(&units).unwrap()).unwrap();
        let rules = root().join(RULES);
        let bank = root().join(GOOD_BANK);
        let from_utf16 = run_files(&bad(name), &bank, &rules, &tmp.path().join("a"), &[]);
        let from_utf8 = run_files(&utf8, &bank, &rules, &tmp.path().join("b"), &[]);
        assert_eq!(
            from_utf16.status.code(),
            Some(1),
            "{name}: {}",
            stderr(&from_utf16)
        );
        assert_eq!(from_utf8.status.code(), Some(1));
        for file in ["matched.csv", "unmatched.csv", "ignored.csv", "duplicates.csv"] {
            assert_eq!(
                std::fs::read(tmp.path().join("a").join(file)).unwrap(),
                std::fs::read(tmp.path().join("b").join(file)).unwrap(),
                "{name}: {file}"
            );
        }
        let (code, report) = check(&bad(name), As::Ledger, &rules);
        assert_eq!(code, Some(0), "{report}");
        let encoding = if little_endian { "UTF-16LE" } else { "UTF-16BE" };
        assert_contains(
            &report,
            &[&format!("{encoding} (UTF-16 byte pattern without BOM)")],
            name,
        );
    }
}

#[test]
fn utf16_cut_in_the_middle_of_a_character() {
    assert_refused(
        &bad("utf16le_odd_length.csv"),
        As::Ledger,
        2,
        &[
            "utf16le_odd_length.csv:3:137: ",
            "bytes that are not valid UTF-16LE",
        ],
    );
}

#[test]
fn nul_byte() {
    assert_refused(
        &bad("nul_byte.csv"),
        As::Ledger,
        2,
        &[
            "nul_byte.csv:4:3: ",
            "NUL byte",
            "export the statement as CSV again",
        ],
    );
}

/// A NUL past the first megabyte of a GBK statement: `check` decodes such
/// a file piece by piece and meets the NUL in a piece rather than up front,
/// and refuses it all the same, at its line and column.
#[test]
fn nul_byte_deep_in_a_gbk_statement() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("nul_deep.csv");
    let mut text = String::from("交易时间,商户订单号,金额,摘要\n");
    for i in 0..30_000 {
        text.push_str(&format!(
            "2026-11-24 10:{:02}:{:02},P{i:08},12.50,代收缴费\n",
            i / 60 % 60,
            i % 60
        ));
    }
    let mut bytes = encoding_rs::GBK.encode(&text).0.into_owned();
    // The amount's first digit on line 29001, 1.3 MB in.
    let line_start = bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .nth(29_000 - 1)
        .map(|(i, _)| i + 1)
        .unwrap();
    bytes[line_start + 30] = 0;
    std::fs::write(&path, bytes).unwrap();
    let done = recon().arg("check").arg(&path).output().unwrap();
    assert_eq!(done.status.code(), Some(2), "{}", stderr(&done));
    assert_contains(
        &stderr(&done),
        &[
            "nul_deep.csv:29001:31: NUL byte (byte offset 1305015)",
            "export the statement as CSV again",
        ],
        "NUL deep in a GBK statement",
    );
}

#[test]
fn ten_megabyte_field() {
    let previous = Previous::new();
    let path = previous.scratch("big_field.csv");
    let huge = "x".repeat(10 * 1024 * 1024);
    let text = format!("{HEADER}P001,M-WATER,水费,128.50,2026-11-24 09:15:03,W1001,6217\nP002,M-POWER,{huge},1.00,2026-11-24 10:20:00,E2,6\n");
    std::fs::write(&path, text).unwrap();
    let expected = [
        "big_field.csv:3:3: ",
        "a field of 10485760 bytes, longer than the 65536 any statement field needs",
        "fix it or export the file again",
    ];
    let failed = run_files(
        &path,
        &root().join(GOOD_BANK),
        &root().join(RULES),
        &previous.out,
        &[],
    );
    assert_eq!(failed.status.code(), Some(2));
    let message = stderr(&failed);
    assert_contains(&message, &expected, "10 MB field");
    assert!(
        message.len() < 1000,
        "the message quotes the field: {} bytes",
        message.len()
    );
    previous.assert_unchanged("10 MB field");
    let (code, text) = check(&path, As::Ledger, &root().join(RULES));
    assert_eq!(code, Some(2));
    assert_contains(&text, &expected, "check 10 MB field");
}

/// A long value that is still a field is quoted shortened in its message.
#[test]
fn long_bad_amount_is_quoted_shortened() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("long_amount.csv");
    let amount = "9".repeat(1000);
    std::fs::write(
        &path,
        format!("{HEADER}P002,M-POWER,电费,{amount},2026-11-24 10:20:00,E2,6\n"),
    )
    .unwrap();
    let (code, text) = check(&path, As::Ledger, &root().join(RULES));
    assert_eq!(code, Some(1));
    let quoted = format!(
        "long_amount.csv:2:4: \"{}… (1000 characters)\" is too large to be an amount",
        "9".repeat(40)
    );
    assert_contains(&text, &[&quoted], "long amount");
    assert!(text.len() < 2000, "{text}");
}

#[test]
fn unbalanced_quote() {
    assert_refused(
        &bad("unbalanced_quote.csv"),
        As::Ledger,
        2,
        &[
            "unbalanced_quote.csv:3:1: ",
            "a quoted field opened here is never closed",
            "fix the quote or export the file again",
        ],
    );
}

#[test]
fn rows_with_too_few_and_too_many_fields() {
    assert_refused(
        &bad("too_few_fields.csv"),
        As::Ledger,
        1,
        &["too_few_fields.csv:4:4: row has 3 fields but the header has 7: mapped column 4 is missing"],
    );
    assert_refused(
        &bad("too_many_fields.csv"),
        As::Ledger,
        1,
        &["too_many_fields.csv:4:8: row has 8 fields but the header has 7: the extra fields hold data (an unquoted delimiter inside a value?)"],
    );
}

#[test]
fn bad_rows_say_how_to_go_on() {
    assert_run_refused(
        &bad("too_few_fields.csv"),
        As::Ledger,
        &root().join(RULES),
        &["1 bad row(s); nothing was written. Fix them, or rerun with --skip-bad-rows to set them aside in rejected.csv"],
    );
}

#[test]
fn header_missing_a_mapped_column() {
    assert_refused(
        &bad("missing_column.csv"),
        As::Ledger,
        1,
        &[
            "missing_column.csv:1:1: column \"支付时间\" (from the rule file) is not in the header on line 1",
            "Correct the name in the rule file's columns section, or check that this is the right file",
        ],
    );
}

#[test]
fn duplicate_header_names() {
    assert_refused(
        &bad("duplicate_header.csv"),
        As::Ledger,
        1,
        &["duplicate_header.csv:1:5: column \"金额\" appears twice in the header on line 1 (columns 4 and 5); rename one in the file or map the other"],
    );
}

#[test]
fn bad_amounts_each_with_their_position() {
    assert_refused(
        &bad("bad_amounts.csv"),
        As::Ledger,
        1,
        &[
            "bad_amounts.csv:4:4: \"1,2,3\" is not an amount: thousands separator ',' is misplaced",
            "bad_amounts.csv:5:4: \"12.345\" has 3 decimal places, at most 2 allowed: correct the amount, or raise amount_decimals",
            "bad_amounts.csv:6:4: \"1e5\" is not an amount: exponents are not accepted in money (write 100000.00)",
            "bad_amounts.csv:7:4: \"NaN\" is not an amount: expected digits such as 12.50",
            "bad_amounts.csv:8:4: the amount is empty: expected a number such as 12.50",
        ],
    );
}

#[test]
fn impossible_date() {
    assert_refused(
        &bad("impossible_date.csv"),
        As::Ledger,
        1,
        &["impossible_date.csv:4:5: \"2026-02-30 10:20:00\" does not exist (no such date or time of day): correct it in the file"],
    );
}

/// With a high `amount_decimals` an amount may have more digits than the
/// integer a record holds it as: a bad row for `run` and `check` alike,
/// named by line and column, never a rounded or wrapped value.
#[test]
fn amounts_past_64_bit_units_are_bad_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let limit = "amount_decimals = 2                  # more decimals than this is an error";
    let text = std::fs::read_to_string(root().join(RULES)).unwrap();
    assert!(text.contains(limit));
    let rules = tmp.path().join("many_decimals.toml");
    std::fs::write(&rules, text.replace(limit, "amount_decimals = 20")).unwrap();
    let path = tmp.path().join("long_digits.csv");
    std::fs::write(
        &path,
        format!(
            "{HEADER}P001,M-WATER,水费,128.50,2026-11-24 09:15:03,W1001,6217\n\
             P002,M-POWER,电费,0.0000000000000000001,2026-11-24 10:20:00,E2,6\n\
             P003,M-POWER,电费,999999999999999.9999,2026-11-24 10:21:00,E3,6\n"
        ),
    )
    .unwrap();
    // 1 at scale 19 is held; 9999999999999999999 units are past 2^63.
    let expected = ["long_digits.csv:4:4: the amount has too many digits to be held exactly"];
    assert_run_refused(&path, As::Ledger, &rules, &expected);
    let (code, text) = check(&path, As::Ledger, &rules);
    assert_eq!(code, Some(1), "{text}");
    assert_contains(&text, &expected, "check long digits");
}

/// Rules whose ledger times are New York time: 2026-03-08 02:30 never happened there.
fn new_york_rules(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join(RULES)).unwrap();
    let ledger_zone = "timezone = \"Asia/Shanghai\"           # zone the ledger's times are written in";
    assert!(text.contains(ledger_zone));
    let path = dir.join("new_york.toml");
    std::fs::write(
        &path,
        text.replace(ledger_zone, "timezone = \"America/New_York\""),
    )
    .unwrap();
    path
}

#[test]
fn time_in_a_daylight_saving_gap() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = new_york_rules(tmp.path());
    let expected = [
        "dst_gap.csv:4:5: \"2026-03-08 02:30:00\" does not exist in America/New_York: it falls in the daylight-saving gap; check the file's time zone",
    ];
    assert_run_refused(&bad("dst_gap.csv"), As::Ledger, &rules, &expected);
    let (code, text) = check(&bad("dst_gap.csv"), As::Ledger, &rules);
    assert_eq!(code, Some(1));
    assert_contains(&text, &expected, "check dst_gap.csv");
    // The same wall time is fine in Shanghai, which has no daylight saving.
    let (code, text) = check(&bad("dst_gap.csv"), As::Ledger, &root().join(RULES));
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn empty_file() {
    for name in ["empty.csv", "blank_lines_only.csv"] {
        assert_refused(
            &bad(name),
            As::Ledger,
            2,
            &[
                &format!("{name}:1:1: the file is empty"),
                "check the path, or export the statement again",
            ],
        );
    }
}

#[test]
fn zip_pdf_and_image_given_as_statement() {
    let tmp = tempfile::tempdir().unwrap();
    let renamed = tmp.path().join("statement.xlsx");
    std::fs::copy(bad("statement.zip"), &renamed).unwrap();
    let cases = [
        (bad("statement.zip"), "statement.zip:1:1: not a text file, looks like a ZIP archive (not an .xlsx workbook): unpack it first"),
        (renamed, "statement.xlsx:1:1: not a text file, looks like a ZIP archive (not an .xlsx workbook): unpack it first"),
        (bad("statement.pdf"), "statement.pdf:1:1: not a text file, looks like a PDF document: download the statement as CSV instead"),
        (bad("statement.png"), "statement.png:1:1: not a text file, looks like a PNG image: export the statement as CSV instead"),
    ];
    for (file, expected) in cases {
        assert_refused(&file, As::Bank, 2, &[expected]);
    }
}

#[test]
fn directory_given_as_file() {
    let tmp = tempfile::tempdir().unwrap();
    let expected = format!(
        "{}: is a directory, not a file; give the path of the exported statement file",
        tmp.path().display()
    );
    assert_refused(tmp.path(), As::Ledger, 2, &[&expected]);
}

/// Whether this process can read a file whose permissions deny it (root can).
fn permissions_are_bypassed(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.join("probe");
    std::fs::write(&probe, "x").unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::read(&probe).is_ok()
}

#[test]
fn unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    if permissions_are_bypassed(tmp.path()) {
        eprintln!(
            "SKIPPED unreadable_file (chmod 000): this test runs with privileges that read any file (root); \
             unreadable_device_file covers the same error"
        );
        return;
    }
    let path = tmp.path().join("locked.csv");
    std::fs::copy(root().join(GOOD_LEDGER), &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    assert_refused(
        &path,
        As::Ledger,
        2,
        &[
            "locked.csv: cannot read: Permission denied",
            "check the path and that this account may read the file",
        ],
    );
}

/// /proc/self/mem cannot be read from its start, not even by root.
#[cfg(target_os = "linux")]
#[test]
fn unreadable_device_file() {
    assert_refused(
        Path::new("/proc/self/mem"),
        As::Ledger,
        2,
        &[
            "/proc/self/mem: cannot read: Input/output error",
            "check the path and that this account may read the file",
        ],
    );
}

/// A good run into `out`, its audit log in `audit`.
fn run_good_into(out: &Path, audit: &Path) -> Output {
    let audit = audit.to_str().unwrap();
    run_files(
        &root().join(GOOD_LEDGER),
        &root().join(GOOD_BANK),
        &root().join(RULES),
        out,
        &["--audit", audit],
    )
}

#[test]
fn output_below_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("report.txt");
    std::fs::write(&file, "not a directory").unwrap();
    let audit = tmp.path().join("audit.log");
    for out in [file.join("out"), file.clone()] {
        let failed = run_good_into(&out, &audit);
        assert_eq!(failed.status.code(), Some(2));
        assert_contains(
            &stderr(&failed),
            &[&format!(
                "{}: is a file, not a directory, so no results directory can be created there; choose another --out",
                file.display()
            )],
            "out below a file",
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a directory");
    }
    // With the audit log in its default place (beside the results) the run
    // stops even earlier, before reading anything.
    let failed = run_files(
        &root().join(GOOD_LEDGER),
        &root().join(GOOD_BANK),
        &root().join(RULES),
        &file.join("out"),
        &[],
    );
    assert_eq!(failed.status.code(), Some(2));
    assert_contains(
        &stderr(&failed),
        &["nothing was run: every run must be recorded", "report.txt"],
        "audit log below a file",
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a directory");
}

/// Nothing can be created in /proc, not even by root.
#[cfg(target_os = "linux")]
#[test]
fn output_on_a_read_only_path() {
    let tmp = tempfile::tempdir().unwrap();
    let failed = run_good_into(Path::new("/proc/recon-results"), &tmp.path().join("audit.log"));
    assert_eq!(failed.status.code(), Some(2));
    assert_contains(
        &stderr(&failed),
        &[
            "/proc: cannot create a temporary directory for the results",
            "Nothing was changed: give --out a path in a directory you can write to",
        ],
        "read-only out",
    );
    assert!(!Path::new("/proc/recon-results").exists());
}

/// The default rule file with its first `from` replaced by `to`, written to
/// `dir/r.toml`; also the 1-based line of `marker` (a part of `to`) in the
/// edited text: the line the error is about.
fn edited_rules(dir: &Path, from: &str, to: &str, marker: &str) -> (PathBuf, usize) {
    let text = std::fs::read_to_string(root().join(RULES)).unwrap();
    let at = text
        .find(from)
        .unwrap_or_else(|| panic!("default.toml no longer has {from:?}"));
    let in_to = to.find(marker).expect("the marker is part of the edit");
    let line = text[..at].matches('\n').count() + to[..in_to].matches('\n').count() + 1;
    let path = dir.join("r.toml");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    (path, line)
}

/// A rule file `rules check` and `run` refuse at `LINE:COL`, with `expected`.
fn assert_rules_refused(from: &str, to: &str, marker: &str, column: usize, expected: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let (rules, line) = edited_rules(tmp.path(), from, to, marker);
    let located = format!("r.toml:{line}:{column}: {expected}");
    let checked = recon().args(["rules", "check"]).arg(&rules).output().unwrap();
    assert_eq!(checked.status.code(), Some(2));
    assert_contains(&stderr(&checked), &[&located], "rules check");
    assert_run_refused(&root().join(GOOD_LEDGER), As::Ledger, &rules, &[&located]);
}

#[test]
fn rule_file_with_an_unknown_key() {
    assert_rules_refused(
        "review_above = ",
        "reveiw_above = ",
        "reveiw_above",
        1,
        "unknown field `reveiw_above`, expected `ignore_below` or `review_above`; correct the key's spelling or remove it",
    );
}

#[test]
fn rule_file_with_a_wrong_type() {
    assert_rules_refused(
        "max_parts = 10",
        "max_parts = \"ten\"",
        "max_parts",
        13,
        "invalid type: string \"ten\", expected a whole number; fix this setting",
    );
}

#[test]
fn rule_file_contradictions() {
    assert_rules_refused(
        "ignore_below = \"1.00\"",
        "ignore_below = \"6000.00\"",
        "ignore_below",
        1,
        "[thresholds] ignore_below (6000.00) is not below review_above (5000.00): amounts that need a second confirmation cannot also be too small to matter; lower ignore_below or raise review_above",
    );
    assert_rules_refused(
        "window = [\"0s\", \"120s\"]",
        "window = [\"120s\", \"0s\"]",
        "window = [",
        1,
        "[[stage]] #4 \"merchant-amount-time\": window starts after it ends (120s > 0s)",
    );
    assert_rules_refused(
        "\n[bank.columns]",
        "\n[bank.status]\nsuccess = [\"交易成功\"]\nignore = [\"交易成功\"]\n\n[bank.columns]",
        "[bank.status]",
        1,
        "[bank.status]: \"交易成功\" is in both success and ignore",
    );
}

/// A rule file references nothing but built-in profiles, so there are no
/// cycles; a reference to a profile that does not exist is the closest.
#[test]
fn rule_file_with_a_dangling_reference() {
    assert_rules_refused(
        "# profile = \"wechat-merchant\"",
        "profile = \"wechat-merchants\"",
        "profile = \"wechat-merchants\"",
        1,
        "[bank] profile: unknown profile \"wechat-merchants\"",
    );
}

#[test]
fn rule_file_stage_names_used_twice() {
    assert_rules_refused(
        "name = \"split\"",
        "name = \"order-id\"",
        "name",
        1,
        "[[stage]] #2: name \"order-id\" is used twice",
    );
}

/// Many good rows and a few bad ones: the run stops listing exactly the bad
/// ones; with --skip-bad-rows they go to rejected.csv and the rest is reconciled.
#[test]
fn some_bad_rows_among_many_good_ones() {
    let previous = Previous::new();
    let path = previous.scratch("day.csv");
    let mut text = String::from(HEADER);
    let bad_lines = [250, 777, 1500];
    for line in 2..=2001u32 {
        let amount = match line {
            250 => "12.3.4".to_string(),
            777 => "".to_string(),
            1500 => "1e3".to_string(),
            _ => format!("{}.{:02}", line, line % 100),
        };
        text.push_str(&format!(
            "L{line:05},M-WATER,水费,{amount},2026-11-24 {:02}:{:02}:00,W{line},6217\n",
            line % 24,
            line % 60
        ));
    }
    std::fs::write(&path, text).unwrap();
    let rules = root().join(RULES);
    let bank = root().join(GOOD_BANK);
    let stopped = run_files(&path, &bank, &rules, &previous.out, &[]);
    assert_eq!(stopped.status.code(), Some(2));
    let message = stderr(&stopped);
    assert_contains(
        &message,
        &[
            "3 bad row(s); nothing was written",
            "day.csv:250:4: \"12.3.4\" is not an amount: unexpected '.'",
            "day.csv:777:4: the amount is empty",
            "day.csv:1500:4: \"1e3\" is not an amount: exponents are not accepted",
        ],
        "stopped",
    );
    assert_eq!(message.lines().filter(|l| l.contains("day.csv:")).count(), 3);
    previous.assert_unchanged("bad rows without --skip-bad-rows");

    let skipped = run_files(&path, &bank, &rules, &previous.out, &["--skip-bad-rows"]);
    assert_eq!(skipped.status.code(), Some(1), "{}", stderr(&skipped));
    let rejected = common::rows(&previous.out.join("rejected.csv"));
    let lines: Vec<u32> = rejected.iter().map(|r| r["line"].parse().unwrap()).collect();
    assert_eq!(lines, bad_lines);
    assert!(rejected[0]["error"].contains("\"12.3.4\" is not an amount"));
    assert!(rejected[1]["raw"].starts_with("L00777,M-WATER,水费,,"));
    let summary = common::summary(&previous.out);
    assert_eq!(summary["inputs"]["ledger"]["rejected"], 3);
    assert_eq!(summary["conservation"]["ledger"]["input"]["count"], 2000);
    assert_eq!(summary["conservation"]["ledger"]["holds"], true);
    assert_eq!(summary["outputs"]["rejected.csv"]["ledger"]["count"], 3);
    let elsewhere: u64 = ["matched.csv", "unmatched.csv", "ignored.csv", "duplicates.csv"]
        .iter()
        .map(|f| summary["outputs"][f]["ledger"]["count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(elsewhere, 1997);
}

/// A reader that stops early (`recon check FILE | head`) ends the output;
/// the exit code still says what was found, never a panic.
#[test]
fn closed_output_pipe_is_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("many_problems.csv");
    let mut text = String::from(HEADER);
    for i in 0..3000 {
        text.push_str(&format!("P{i},M-POWER,电费,1e5,2026-11-24 10:20:00,E2,6\n"));
    }
    std::fs::write(&path, text).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("recon"))
        .args([
            "check",
            "--max-problems",
            "0",
            "--rules",
            RULES,
            "--side",
            "ledger",
        ])
        .arg(&path)
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The report (about 300 kB) is larger than a pipe holds, so the writer
    // meets the closed pipe whatever the timing.
    drop(child.stdout.take());
    let done = child.wait_with_output().unwrap();
    assert_eq!(done.status.code(), Some(1), "{}", stderr(&done));
    assert!(!stderr(&done).contains("panicked"), "{}", stderr(&done));
}
