//! Micro-benchmarks of matching with `rules/default.toml`: the key stage
//! (every bank row echoes its order id), the key stage with one bank row in
//! a hundred half as much again as its order (those stay unmatched: the pass
//! over every record that finds their counterparts by key hash runs) and the
//! fallback stage (no bank row has a key: merchant + amount + time window). Run with
//! `cargo bench --bench matching`; figures go in BENCHMARKS.md.

use std::hint::black_box;

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use recon::matching::{reconcile, Sides};
use recon::model::{Amount, Record, RecordText, Side, Stamp};

fn record(side: Side, line: u64, key: &str, merchant: &str, cents: i64, time: DateTime<Utc>) -> Record {
    Record::new(
        side,
        line,
        Amount::new(cents, 2, cents < 0).expect("cents fit"),
        Stamp::new(Some(time)).expect("an ordinary instant"),
        RecordText::new(key, merchant, []),
        recon::model::Currency::CNY,
    )
    .expect("a line a record can come from")
}

/// `n` orders on both sides; bank rows carry the key only when `keyed`;
/// with `off`, every hundredth bank amount is half as much again as the ledger's.
fn day(n: u64, keyed: bool, off: bool) -> (Vec<Record>, Vec<Record>) {
    let start = DateTime::from_timestamp(1_763_942_400, 0).expect("valid instant");
    let mut ledger = Vec::new();
    let mut bank = Vec::new();
    for i in 0..n {
        let key = format!("P20261124{i:08}");
        let merchant = format!("M{:04}", i % 500);
        let cents = 1_000 + (i * 7_919 % 400_000) as i64;
        let t = start + TimeDelta::seconds((i * 86_000 / n) as i64);
        ledger.push(record(Side::Ledger, i + 2, &key, &merchant, cents, t));
        let bank_key = if keyed { key.as_str() } else { "" };
        let lag = TimeDelta::seconds((i % 90) as i64);
        let cents = if off && i % 100 == 0 { cents * 3 / 2 } else { cents };
        bank.push(record(Side::Bank, i + 6, bank_key, &merchant, cents, t + lag));
    }
    (ledger, bank)
}

fn matching(c: &mut Criterion) {
    let plan = recon::rules::load_file(std::path::Path::new("rules/default.toml"))
        .expect("rules/default.toml loads");
    let mut group = c.benchmark_group("matching");
    group.sample_size(10);
    let cases = [
        ("key_100k", 100_000, true, false),
        ("key_mismatch_100k", 100_000, true, true),
        ("fallback_20k", 20_000, false, false),
    ];
    for (name, n, keyed, off) in cases {
        let (ledger, bank) = day(n, keyed, off);
        let sides = Sides {
            ledger: &ledger,
            bank: &bank,
        };
        group.throughput(Throughput::Elements(n * 2));
        group.bench_function(name, |b| {
            b.iter(|| black_box(reconcile(black_box(sides), &plan, None)))
        });
    }
    group.finish();
}

criterion_group!(benches, matching);
criterion_main!(benches);
