//! Generates one business day for `rules/default.toml`: a ledger (UTF-8 with
//! BOM), a bank statement (GBK, CRLF, preamble and totals trailer, debit and
//! credit columns, running balance, UTC times) and `truth.csv`, the expected
//! outcome of every row. Rows carry the extra columns real exports have
//! (payer name, channel and address in the ledger; serial number, merchant
//! name, counterparty and remark in the bank file), so 1M orders make about
//! 125 MB of ledger and 145 MB of bank statement. Rows are streamed, so 10M
//! orders fit in memory.
//!
//! `cargo run --release --example gen_day -- --orders N --out DIR [--date D] [--seed S]`
//!
//! With `--mode settlement` it writes a channel bill instead (`bill.csv`:
//! orders and refunds of many merchants with the channel's fee, some fees
//! off the 0.6% rate), the bank's settlement credits on the next day
//! (`bank.csv`: one net credit per merchant, some missing, some short) and
//! `truth.csv` with a `fee_variance` column, for
//! `tests/data/settlement/rules.toml`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Parser;

/// Seconds from local midnight to the last ordinary payment time.
const DAY_SECONDS: u64 = 86_340;
/// Local time is UTC+8.
const UTC_OFFSET: u64 = 8 * 3600;

/// A xorshift64* generator: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
}

/// The generated shape of one order.
#[derive(Clone, Copy)]
enum Case {
    Clean,
    BlankKey,
    Split,
    Refund,
    DuplicateBank,
    Fee,
    Mismatch,
    LedgerOnly,
    BankOnly,
    Small,
    Large,
    Midnight,
}

fn pick(rng: &mut Rng) -> Case {
    match rng.below(100) {
        0..=77 => Case::Clean,
        78..=81 => Case::BlankKey,
        82..=84 => Case::Split,
        85..=87 => Case::Refund,
        88..=89 => Case::DuplicateBank,
        90..=91 => Case::Fee,
        92..=93 => Case::Mismatch,
        94..=95 => Case::LedgerOnly,
        96 => Case::BankOnly,
        97 => Case::Small,
        98 => Case::Large,
        _ => Case::Midnight,
    }
}

struct Writers {
    ledger: BufWriter<File>,
    bank: BufWriter<File>,
    truth: BufWriter<File>,
    ledger_line: u64,
    bank_line: u64,
    debit_cents: u64,
    credit_cents: u64,
    bank_rows: u64,
    /// Running account balance in cents, written in the 余额 column.
    balance_cents: u64,
    /// The business day's local midnight, in seconds since the epoch as if UTC.
    day: u64,
}

/// Payer names (户名): family name and given name.
const FAMILY: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
const GIVEN: [&str; 8] = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强"];
/// Payment channels (缴费渠道).
const CHANNELS: [&str; 4] = ["微信", "支付宝", "银联", "柜台"];
/// Streets for the address column.
const STREETS: [&str; 4] = ["幸福路", "人民路", "解放大道", "建设街"];
/// Merchant names (商户名称) by the last digit of the merchant number.
const MERCHANT_NAMES: [&str; 4] = [
    "城市水务集团有限公司",
    "市供电公司",
    "市教育局学费专户",
    "市社会保险基金专户",
];

/// A payer name derived from the order number.
fn payer(order: u64) -> String {
    format!(
        "{}{}",
        FAMILY[(order % 8) as usize],
        GIVEN[(order / 8 % 8) as usize]
    )
}

/// One ledger row (time is seconds after local midnight).
struct LedgerRow<'a> {
    key: &'a str,
    merchant: &'a str,
    kind: &'a str,
    cents: u64,
    local_seconds: u64,
    order: u64,
}

impl Writers {
    fn ledger(&mut self, row: &LedgerRow, outcome: &str, detail: &str) -> std::io::Result<u64> {
        self.ledger_line += 1;
        writeln!(
            self.ledger,
            "{},{},{},{},{},H{:08},6217{:012},{},{},{}{}号{}栋{}室",
            row.key,
            row.merchant,
            row.kind,
            money(row.cents, false),
            clock(self.day + row.local_seconds),
            row.order,
            row.order * 7919 % 1_000_000_000_000,
            payer(row.order),
            CHANNELS[(row.order % 4) as usize],
            STREETS[(row.order / 4 % 4) as usize],
            1 + row.order % 300,
            1 + row.order / 300 % 30,
            101 + row.order % 1200,
        )?;
        writeln!(self.truth, "ledger,{},{outcome},{detail}", self.ledger_line)?;
        Ok(self.ledger_line)
    }

    /// A bank row; `outflow` puts the amount in the debit column.
    #[allow(clippy::too_many_arguments)]
    fn bank(
        &mut self,
        key: &str,
        merchant: &str,
        cents: u64,
        outflow: bool,
        utc_seconds: u64,
        memo: &str,
        outcome: &str,
        detail: &str,
    ) -> std::io::Result<u64> {
        self.bank_line += 1;
        self.bank_rows += 1;
        let (debit, credit) = if outflow {
            self.debit_cents += cents;
            self.balance_cents -= cents;
            (money(cents, true), String::new())
        } else {
            self.credit_cents += cents;
            self.balance_cents += cents;
            (String::new(), money(cents, true))
        };
        let key = if key.is_empty() {
            String::new()
        } else {
            format!("`{key}")
        };
        let merchant_name = MERCHANT_NAMES[usize::from(merchant.as_bytes()[merchant.len() - 1]) % 4];
        let line = format!(
            "{},{key},{merchant},{debit},{credit},{},{memo},BK20261124{:011},{merchant_name},{},附言:{}缴费\r\n",
            clock(utc_seconds),
            money(self.balance_cents, true),
            self.bank_rows * 7 + 3,
            payer(self.bank_rows),
            CHANNELS[(self.bank_rows % 4) as usize],
        );
        self.bank.write_all(&encoding_rs::GBK.encode(&line).0)?;
        writeln!(self.truth, "bank,{},{outcome},{detail}", self.bank_line)?;
        Ok(self.bank_line)
    }

    /// The bank's copy of a plain payment, matched to its ledger row by order id.
    fn bank_echo(&mut self, key: &str, merchant: &str, cents: u64, utc_seconds: u64) -> std::io::Result<u64> {
        self.bank(
            key,
            merchant,
            cents,
            false,
            utc_seconds,
            "代收",
            "matched",
            "order-id",
        )
    }
}

/// `1234.50`, or `"1,234.50"` with separators (quoted) when `grouped` and ≥ 1000.
fn money(cents: u64, grouped: bool) -> String {
    let (units, rest) = (cents / 100, cents % 100);
    if !grouped || units < 1000 {
        return format!("{units}.{rest:02}");
    }
    let digits = units.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("\"{out}.{rest:02}\"")
}

/// `YYYY-MM-DD HH:MM:SS` for seconds since the epoch.
fn clock(epoch: u64) -> String {
    chrono::DateTime::from_timestamp(epoch as i64, 0)
        .expect("a time within chrono's range")
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn generate(orders: u64, out: &std::path::Path, seed: u64, date: NaiveDate) -> std::io::Result<()> {
    // The business day's local midnight, written as if it were UTC: ledger times are local.
    let day = date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp() as u64;
    std::fs::create_dir_all(out)?;
    let mut w = Writers {
        ledger: BufWriter::new(File::create(out.join("ledger.csv"))?),
        bank: BufWriter::new(File::create(out.join("bank.csv"))?),
        truth: BufWriter::new(File::create(out.join("truth.csv"))?),
        ledger_line: 1,
        bank_line: 5,
        debit_cents: 0,
        credit_cents: 0,
        bank_rows: 0,
        balance_cents: 1_000_000_000,
        day,
    };
    w.ledger.write_all(
        "\u{feff}订单号,商户号,缴费类型,金额,支付时间,户号,付款账号,户名,缴费渠道,地址\n".as_bytes(),
    )?;
    let preamble = format!("XX银行对公账户交易明细\r\n账号：6217000099990000,户名：城市公共缴费平台\r\n查询日期：{date}\r\n\r\n交易时间(UTC),商户订单号,商户号,借方金额,贷方金额,余额,摘要,流水号,商户名称,对方户名,备注\r\n");
    w.bank.write_all(&encoding_rs::GBK.encode(&preamble).0)?;
    writeln!(w.truth, "side,line,outcome,detail")?;
    let mut rng = Rng(seed.max(1));
    const KINDS: [&str; 4] = ["水费", "电费", "学费", "社保"];
    for i in 0..orders {
        let case = pick(&mut rng);
        let key = format!("P{}{i:08}", date.format("%Y%m%d"));
        let merchant = format!("M{:04}", 1 + rng.below(500));
        let mut t = i * DAY_SECONDS / orders.max(1);
        let mut cents = rng.between(1_000, 400_000);
        let kind = KINDS[rng.below(4) as usize];
        match case {
            Case::Midnight => t = 86_340 + rng.below(60),
            Case::Small => cents = rng.between(1, 99),
            Case::Large => cents = rng.between(500_000, 2_000_000),
            _ => {}
        }
        let utc = day + t - UTC_OFFSET;
        let lag = rng.between(0, 90);
        let row = LedgerRow {
            key: &key,
            merchant: &merchant,
            kind,
            cents,
            local_seconds: t,
            order: i,
        };
        match case {
            Case::Clean | Case::Large | Case::Midnight => {
                w.ledger(&row, "matched", "order-id")?;
                w.bank_echo(&key, &merchant, cents, utc + lag)?;
            }
            Case::BlankKey => {
                // A merchant of its own, so the fallback has exactly one candidate.
                let own = format!("MF{i:08}");
                let row = LedgerRow {
                    merchant: &own,
                    ..row
                };
                w.ledger(&row, "matched", "merchant-amount-time")?;
                let later = utc + rng.between(5, 100);
                w.bank(
                    "",
                    &own,
                    cents,
                    false,
                    later,
                    "代收(无订单号)",
                    "matched",
                    "merchant-amount-time",
                )?;
            }
            Case::Split => {
                w.ledger(&row, "matched", "split")?;
                let parts = rng.between(2, 3);
                let mut left = cents.max(300);
                if left != cents {
                    unreachable!("amounts start at 10.00");
                }
                for p in 0..parts {
                    let part = if p + 1 == parts {
                        left
                    } else {
                        rng.between(100, left / 2)
                    };
                    left -= part;
                    w.bank(
                        &key,
                        &merchant,
                        part,
                        false,
                        utc + lag + p * 5,
                        "分笔",
                        "matched",
                        "split",
                    )?;
                }
            }
            Case::Refund => {
                let refund_key = format!("R20261124{i:08}");
                let row = LedgerRow {
                    key: &refund_key,
                    kind: "退款",
                    ..row
                };
                w.ledger(&row, "matched", "order-id")?;
                w.bank(
                    &refund_key,
                    &merchant,
                    cents,
                    true,
                    utc + lag,
                    "退款",
                    "matched",
                    "order-id",
                )?;
            }
            Case::DuplicateBank => {
                w.ledger(&row, "matched", "order-id")?;
                let first = w.bank_echo(&key, &merchant, cents, utc + lag)?;
                let again = utc + lag + rng.between(10, 60);
                w.bank(
                    &key,
                    &merchant,
                    cents,
                    false,
                    again,
                    "重复提交",
                    "duplicate",
                    &format!("bank:{first}"),
                )?;
            }
            Case::Fee => {
                w.ledger(&row, "matched", "order-id-fee")?;
                let fee = (cents * rng.between(1, 5) / 1000).max(1);
                w.bank(
                    &key,
                    &merchant,
                    cents - fee,
                    false,
                    utc + lag,
                    "扣手续费",
                    "matched",
                    "order-id-fee",
                )?;
            }
            Case::Mismatch => {
                w.ledger(&row, "unmatched", "amount_mismatch")?;
                let more = cents + cents * 3 / 100 + 1;
                w.bank(
                    &key,
                    &merchant,
                    more,
                    false,
                    utc + lag,
                    "代收",
                    "unmatched",
                    "amount_mismatch",
                )?;
            }
            Case::LedgerOnly => {
                w.ledger(&row, "unmatched", "no_counterpart")?;
            }
            Case::Small => {
                w.ledger(&row, "ignored", "")?;
            }
            Case::BankOnly => {
                w.bank(
                    "",
                    "M9999",
                    cents,
                    false,
                    utc + lag,
                    "未知来账",
                    "unmatched",
                    "no_counterpart",
                )?;
            }
        }
    }
    let trailer = format!(
        "合计,,,{},{},,,,,,\r\n共{}笔,,,,,,,,,,\r\n",
        money(w.debit_cents, true),
        money(w.credit_cents, true),
        w.bank_rows
    );
    w.bank.write_all(&encoding_rs::GBK.encode(&trailer).0)?;
    w.ledger.flush()?;
    w.bank.flush()?;
    w.truth.flush()
}

/// The fee at 0.6%, rounded half away from zero, in cents (signed like `cents`).
fn fee_cents(cents: i64) -> i64 {
    let scaled = cents.abs() * 6;
    let fee = scaled / 1000 + i64::from(scaled % 1000 >= 500);
    fee * cents.signum()
}

/// Signed `-12.34` from cents.
fn signed_money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// What the bank does with one merchant's batch.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Credit {
    Paid,
    Missing,
    Short(i64),
}

/// `--mode settlement`: see the module docs.
fn generate_settlement(
    orders: u64,
    out: &std::path::Path,
    seed: u64,
    date: NaiveDate,
) -> std::io::Result<()> {
    // The business day's local midnight, written as if it were UTC: times are local.
    let day = date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp() as u64;
    std::fs::create_dir_all(out)?;
    let mut rng = Rng(seed.max(1));
    let merchants = (orders / 40).clamp(3, 500);
    let mut bill = BufWriter::new(File::create(out.join("bill.csv"))?);
    let mut truth_rows: Vec<(u64, u64, bool)> = Vec::new();
    writeln!(bill, "order_id,merchant,amount,fee,paid_at")?;
    // (net cents, bill lines) per merchant.
    let mut batches: Vec<(i64, Vec<usize>)> = vec![(0, Vec::new()); merchants as usize];
    for order in 0..orders {
        let m = rng.below(merchants);
        let refund = rng.below(100) < 8;
        let cents = if refund {
            -(rng.between(100, 10_000) as i64)
        } else {
            rng.between(100, 200_000) as i64
        };
        let wrong = rng.below(100) < 3;
        let fee = fee_cents(cents) + if wrong { rng.between(5, 100) as i64 } else { 0 };
        let at = day + rng.below(DAY_SECONDS);
        let line = order + 2;
        writeln!(
            bill,
            "S{order:09},1900{m:06},{},{},{}",
            signed_money(cents),
            signed_money(fee),
            clock(at)
        )?;
        let batch = &mut batches[m as usize];
        batch.0 += cents - fee;
        batch.1.push(truth_rows.len());
        truth_rows.push((line, m, wrong));
    }
    bill.flush()?;
    let mut bank = BufWriter::new(File::create(out.join("bank.csv"))?);
    writeln!(bank, "time,memo,amount")?;
    let mut fates = Vec::with_capacity(batches.len());
    let mut bank_truth = Vec::new();
    let mut bank_line = 1;
    for (m, (net, rows)) in batches.iter().enumerate() {
        let fate = match rng.below(10) {
            _ if rows.is_empty() => Credit::Missing,
            0 => Credit::Missing,
            1 => Credit::Short(rng.between(100, 50_000) as i64),
            _ => Credit::Paid,
        };
        fates.push(fate);
        let paid = match fate {
            Credit::Missing => continue,
            Credit::Paid => *net,
            Credit::Short(by) => net - by,
        };
        bank_line += 1;
        writeln!(
            bank,
            "{},结算 商户号1900{m:06} 批次{},{}",
            clock(day + 86_400 + 8 * 3600 + m as u64),
            date.format("%Y%m%d"),
            signed_money(paid)
        )?;
        let outcome = match fate {
            Credit::Short(_) => "unmatched amount_mismatch",
            _ => "matched settlement",
        };
        bank_truth.push((bank_line, outcome));
    }
    bank.flush()?;
    let mut truth = BufWriter::new(File::create(out.join("truth.csv"))?);
    writeln!(truth, "side,line,outcome,detail,fee_variance")?;
    for (line, m, wrong) in truth_rows {
        let outcome = match fates[m as usize] {
            Credit::Paid => "matched settlement",
            Credit::Short(_) => "unmatched amount_mismatch",
            Credit::Missing => "unmatched no_counterpart",
        };
        let (outcome, detail) = outcome.split_once(' ').unwrap_or((outcome, ""));
        writeln!(truth, "ledger,{line},{outcome},{detail},{wrong}")?;
    }
    for (line, outcome) in bank_truth {
        let (outcome, detail) = outcome.split_once(' ').unwrap_or((outcome, ""));
        writeln!(truth, "bank,{line},{outcome},{detail},false")?;
    }
    truth.flush()
}

/// Generates one business day of payments for rules/default.toml, with the
/// expected outcome of every row in truth.csv.
#[derive(Parser)]
#[command(
    name = "gen_day",
    after_long_help = "Examples:
  A small day for a first look (ledger.csv, bank.csv, truth.csv in day/):
    cargo run --release --example gen_day -- --orders 1000 --out day
  The 1M-order day of the benchmarks, for business date 2026-12-01:
    cargo run --release --example gen_day -- --orders 1000000 --date 2026-12-01 --out /tmp/big
  A settlement day: a channel bill (bill.csv) and the bank's net credits (bank.csv):
    cargo run --release --example gen_day -- --mode settlement --orders 4000 --out settle
    recon run --ledger settle/bill.csv --bank settle/bank.csv \\
              --rules tests/data/settlement/rules.toml --out out/settle
  Then reconcile it:
    recon run --ledger day/ledger.csv --bank day/bank.csv --rules rules/default.toml \\
              --date 2026-11-24 --out out/day"
)]
struct Args {
    /// Number of ledger orders (the bank file gets about as many rows)
    #[arg(long, value_name = "N")]
    orders: u64,
    /// Directory to write ledger.csv, bank.csv and truth.csv into (created)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Business date of the day (Asia/Shanghai), YYYY-MM-DD
    #[arg(long, value_name = "D", default_value = "2026-11-24")]
    date: NaiveDate,
    /// Seed of the random generator: the same seed makes the same files
    #[arg(long, value_name = "S", default_value_t = 42)]
    seed: u64,
    /// `day` (ledger and statement for rules/default.toml) or `settlement`
    /// (a channel bill with fees and the bank's net credit per merchant on D+1,
    /// for tests/data/settlement/rules.toml)
    #[arg(long, value_name = "MODE", default_value = "day", value_parser = ["day", "settlement"])]
    mode: String,
}

fn main() {
    let args = Args::parse();
    let written = if args.mode == "settlement" {
        generate_settlement(args.orders, &args.out, args.seed, args.date)
    } else {
        generate(args.orders, &args.out, args.seed, args.date)
    };
    if let Err(e) = written {
        eprintln!("gen_day: {}: {e}", args.out.display());
        std::process::exit(2);
    }
}
