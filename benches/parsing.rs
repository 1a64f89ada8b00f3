//! Micro-benchmarks of reading: field parsing (amounts, times; the typed
//! fast paths `parse_minor` and `utc_seconds` on their own), a record's
//! packed text with its key hash, encoding
//! detection and decoding, reading a whole table in parallel chunks, and
//! `recon check`'s pass that types a GBK statement into totals chunk by chunk.
//! Run with `cargo bench --bench parsing`; figures go in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use recon::input::amount::{parse_amount, parse_minor};
use recon::input::chunked::{read_head, read_typed};
use recon::input::encoding::{decode, EncodingChoice};
use recon::input::records::AMOUNT_NOTE;
use recon::input::table::TableOptions;
use recon::input::tally::{RowTally, Typing};
use recon::input::time::{parse_time, utc_seconds, TimeLayout};
use recon::model::{text_hash, RecordText, Side};

const AMOUNTS: [&str; 6] = ["12.50", "1,234.56", "-0.01", "¥88.00", "(300.00)", "400000.00"];
const TIMES: [&str; 4] = [
    "2026-11-24 10:15:03",
    "2026/11/24 10:15:03",
    "20261124101503",
    "2026-11-24T02:15:03Z",
];

fn fields(c: &mut Criterion) {
    let mut group = c.benchmark_group("fields");
    group.throughput(Throughput::Elements(AMOUNTS.len() as u64));
    group.bench_function("parse_amount", |b| {
        b.iter(|| {
            for a in AMOUNTS {
                black_box(parse_amount(black_box(a), Some(2)).unwrap());
            }
        })
    });
    let plain = AMOUNTS.iter().filter(|a| !a.starts_with('(')).count();
    group.throughput(Throughput::Elements(plain as u64));
    group.bench_function("parse_minor", |b| {
        b.iter(|| {
            for a in AMOUNTS.iter().filter(|a| !a.starts_with('(')) {
                black_box(parse_minor(black_box(a), Some(2)).unwrap());
            }
        })
    });
    group.throughput(Throughput::Elements(TIMES.len() as u64));
    group.bench_function("utc_seconds", |b| {
        let zone = chrono_tz::Asia::Shanghai;
        b.iter(|| {
            for t in TIMES {
                black_box(utc_seconds(black_box(t), zone).unwrap());
            }
        })
    });
    group.bench_function("parse_time", |b| {
        let zone = chrono_tz::Asia::Shanghai;
        b.iter(|| {
            for t in TIMES {
                black_box(parse_time(black_box(t), &TimeLayout::Auto, zone).unwrap());
            }
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("record_text_with_key_hash", |b| {
        let carried = ["H00000007", "6217000000055433", "代收"];
        b.iter(|| black_box(RecordText::new(black_box("P2026112400000007"), "M0365", carried)))
    });
    group.bench_function("text_hash", |b| {
        b.iter(|| black_box(text_hash(black_box("P2026112400000007"))))
    });
    group.finish();
}

/// A bank statement of `rows` rows in the generator's shape.
fn statement(rows: usize) -> String {
    let mut text =
        String::from("XX银行对公账户交易明细\n交易时间(UTC),商户订单号,商户号,借方金额,贷方金额,余额,摘要\n");
    for i in 0..rows {
        text.push_str(&format!(
            "2026-11-24 {:02}:{:02}:{:02},`P2026112400{i:06},M{:04},,\"1,{:03}.50\",,代收\n",
            i / 3600 % 24,
            i / 60 % 60,
            i % 60,
            i % 500,
            i % 1000
        ));
    }
    text.push_str("合计,,,,,,\n");
    text
}

fn encoding(c: &mut Criterion) {
    let text = statement(20_000);
    let gbk = encoding_rs::GBK.encode(&text).0.into_owned();
    let mut group = c.benchmark_group("encoding");
    group.throughput(Throughput::Bytes(gbk.len() as u64));
    group.bench_function("detect_and_decode_gbk", |b| {
        b.iter(|| black_box(decode(black_box(&gbk), EncodingChoice::Auto).unwrap()))
    });
    let utf8 = text.into_bytes();
    group.throughput(Throughput::Bytes(utf8.len() as u64));
    group.bench_function("detect_and_decode_utf8", |b| {
        b.iter(|| black_box(decode(black_box(&utf8), EncodingChoice::Auto).unwrap()))
    });
    group.finish();
}

fn table(c: &mut Criterion) {
    let text = statement(50_000);
    let plan = recon::rules::load_file(std::path::Path::new("rules/default.toml"))
        .expect("rules/default.toml loads");
    let options = TableOptions {
        expected_columns: plan.bank.columns.names(),
        ..TableOptions::default()
    };
    let mut group = c.benchmark_group("table");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("read_typed_bank_50k_rows", |b| {
        b.iter(|| {
            let (_, typed) = read_typed(black_box(&text), &options, Side::Bank, &plan.bank).unwrap();
            black_box(typed.unwrap().records.len())
        })
    });
    // `recon check`'s pass over a GBK statement: each chunk of the bytes
    // decoded, parsed and typed into running totals, no row kept.
    let gbk = encoding_rs::GBK.encode(&text).0.into_owned();
    let mut bank = plan.bank.clone();
    bank.columns.carry.push(AMOUNT_NOTE.to_string());
    let note_at = bank.columns.carry.len() - 1;
    let head = read_head(&text, &options).unwrap().expect("a header row");
    let typing = Typing::new(&head.table(), &bank, note_at).unwrap();
    group.throughput(Throughput::Bytes(gbk.len() as u64));
    group.bench_function("check_fold_gbk_bank_50k_rows", |b| {
        b.iter(|| {
            let make = || RowTally::new(Some(&typing), &[]);
            let (_, fold) = head
                .fold_legacy(black_box(&gbk), encoding_rs::GBK, make)
                .unwrap()
                .expect("every chunk decodes");
            black_box(fold.tally.records)
        })
    });
    group.finish();
}

criterion_group!(benches, fields, encoding, table);
criterion_main!(benches);
