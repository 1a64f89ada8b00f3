//! The words of likely causes: each `Cause` as one short sentence in
//! English or Chinese, naming the rows and figures it rests on. Finding the
//! evidence is `causes`' job; this module only phrases it.

use chrono::{NaiveTime, Timelike};

use super::causes::Cause;
use crate::model::RowRef;
use crate::rules::business::Cutoff;
use crate::rules::partition::PartitionKey;
use crate::rules::report::Lang;

/// Most row references quoted in one cause.
const MAX_REFS: usize = 3;

/// `40 s`, `3 min`, `2 h`.
fn span(seconds: i64, lang: Lang) -> String {
    let s = seconds.abs();
    let (n, en, zh) = if s < 120 {
        (s, "s", "秒")
    } else if s < 7200 {
        (s / 60, "min", "分钟")
    } else {
        (s / 3600, "h", "小时")
    };
    match lang {
        Lang::En => format!("{n} {en}"),
        Lang::Zh => format!("{n} {zh}"),
    }
}

fn refs(rows: &[RowRef]) -> String {
    let mut text = rows
        .iter()
        .take(MAX_REFS)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    if rows.len() > MAX_REFS {
        text.push_str(" …");
    }
    text
}

fn hhmm(t: NaiveTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// `tomorrow 10:00` / `次日 10:00` for T+1, else `T+2 10:00`.
fn cutoff_words(c: &Cutoff, lang: Lang) -> String {
    match (c.days_after, lang) {
        (1, Lang::En) => format!("tomorrow {}", hhmm(c.time)),
        (1, Lang::Zh) => format!("次日 {}", hhmm(c.time)),
        (n, _) => format!("T+{n} {}", hhmm(c.time)),
    }
}

impl Cause {
    /// The cause in words.
    pub fn text(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.english(),
            Lang::Zh => self.chinese(),
        }
    }

    fn english(&self) -> String {
        match self {
            Cause::ChannelFee {
                short,
                percent,
                above_tolerance,
            } => {
                let beyond = above_tolerance
                    .map(|t| format!(", above the rules' {t}% tolerance"))
                    .unwrap_or_default();
                format!("same key, bank amount {short} lower: looks like a channel fee ({percent}%{beyond})")
            }
            Cause::Rounding { difference } => {
                format!("same key, amounts differ by {}: likely rounding", difference.abs())
            }
            Cause::AmountsDiffer { ledger, bank } => format!(
                "same key, bank amount {} {} (ledger {ledger}, bank {bank}): more than a fee or rounding; check both records",
                (bank - ledger).abs(),
                if bank > ledger { "higher" } else { "lower" }
            ),
            Cause::KeyAlreadyMatched { matched } => format!(
                "same key already matched on the other side ({}): an extra row, e.g. a second payment",
                refs(matched)
            ),
            Cause::DoubleSubmission {
                of,
                seconds,
                same_key,
            } => {
                let what = if *same_key {
                    "same key and amount"
                } else {
                    "same merchant and amount"
                };
                let when = match seconds {
                    Some(s) if *s < 0 => format!("{} before", span(*s, Lang::En)),
                    Some(s) => format!("{} after", span(*s, Lang::En)),
                    None => "as".to_string(),
                };
                format!("{what} {when} matched row {of}: likely double submission")
            }
            Cause::LateInDay { at, cutoff } => match cutoff {
                Some(c) => format!(
                    "paid {}, cutoff {}: likely arrives T+{}",
                    hhmm(*at),
                    cutoff_words(c, Lang::En),
                    c.days_after
                ),
                None => format!(
                    "paid {}, near the end of the business day: likely on the next day's statement (T+1)",
                    hhmm(*at)
                ),
            },
            Cause::EarlyInDay { at } => format!(
                "recorded {}, just after midnight: the ledger entry is likely in the previous business day",
                hhmm(*at)
            ),
            Cause::StillAloneAfterGrace => {
                "carried in as pending from the previous business day and still without a counterpart: not received by the cutoff; check with the other side"
                    .into()
            }
            Cause::NoKeyCandidates {
                among: Some(PartitionKey::Key),
                ..
            } => "bank row with no order id, and the rules pair rows by order id only (no fallback stage)".into(),
            Cause::NoKeyCandidates {
                candidates,
                window,
                has_fallback,
                among,
            } => {
                let w = span(window.num_seconds(), Lang::En);
                let tail = if *has_fallback {
                    ""
                } else {
                    " (the rules have no fallback stage)"
                };
                let of = if *among == Some(PartitionKey::Merchant) {
                    " of this merchant"
                } else {
                    ""
                };
                match candidates.len() {
                    0 => format!(
                        "bank row with no order id; no open ledger row{of} with equal amount within {w}{tail}"
                    ),
                    n => format!(
                        "bank row with no order id; {n} candidate(s){of} with equal amount within {w}: {}{tail}",
                        refs(candidates)
                    ),
                }
            }
            Cause::KeylessBankNearby {
                rows,
                window,
                among: Some(PartitionKey::Merchant),
            } => format!(
                "bank row(s) of this merchant with no order id and equal amount within {}: {} (not paired: compare them)",
                span(window.num_seconds(), Lang::En),
                refs(rows)
            ),
            Cause::KeylessBankNearby { rows, window, .. } => format!(
                "bank row(s) with no order id and equal amount within {}: {} (not paired: check the merchant)",
                span(window.num_seconds(), Lang::En),
                refs(rows)
            ),
            Cause::Ambiguous { candidates } if candidates.len() == 1 => format!(
                "one of several rows that fit {} equally well: the rules leave the choice to a person",
                refs(candidates)
            ),
            Cause::Ambiguous { candidates } => format!(
                "{} equally good candidates ({}): the rules leave the choice to a person",
                candidates.len(),
                refs(candidates)
            ),
            Cause::UnmatchedRefund => {
                "refund with no refund on the other side: not processed yet, or recorded as a payment".into()
            }
            Cause::NotOnStatement { among: None } => {
                "no bank row with this order id, and none of equal amount nearby: not received, or not on this statement"
                    .into()
            }
            Cause::NotOnStatement {
                among: Some(PartitionKey::Merchant),
            } => {
                "no bank row with this order id, and none of this merchant with equal amount nearby: not received, or not on this statement"
                    .into()
            }
            Cause::NotOnStatement {
                among: Some(PartitionKey::Key),
            } => "no bank row with this order id: not received, or not on this statement".into(),
            Cause::NotInLedger => {
                "no ledger row with this order id: money received without a platform order (manual top-up, or missing from the export)"
                    .into()
            }
            Cause::LargeAmount { amount, limit } => {
                format!("large amount {amount} (review_above {limit}): needs a second confirmation")
            }
            Cause::ChosenAmongCandidates => {
                "paired without order id, chosen among equally good candidates: confirm the pair".into()
            }
            Cause::BatchDiffers {
                net,
                credit,
                rows,
                settle_date,
            } => format!(
                "batch of {rows} row(s) nets {net}, the credit on {settle_date} is {credit} ({} {}): a missing or extra order, a refund, or a fee off the agreed rate",
                (credit - net).abs(),
                if credit > net { "more" } else { "less" }
            ),
            Cause::BatchNotPaid {
                net,
                rows,
                settle_date,
            } => format!(
                "batch of {rows} row(s) netting {net} has no credit on its settlement day {settle_date}: not paid yet, or paid under another merchant"
            ),
        }
    }

    fn chinese(&self) -> String {
        match self {
            Cause::ChannelFee {
                short,
                percent,
                above_tolerance,
            } => {
                let beyond = above_tolerance
                    .map(|t| format!("，超出规则容差 {t}%"))
                    .unwrap_or_default();
                format!("订单号相同，银行金额少 {short}：疑似渠道手续费（{percent}%{beyond}）")
            }
            Cause::Rounding { difference } => {
                format!("订单号相同，金额相差 {}：疑似舍入差异", difference.abs())
            }
            Cause::AmountsDiffer { ledger, bank } => format!(
                "订单号相同，银行金额{} {}（台账 {ledger}，银行 {bank}）：超出手续费或舍入范围，请核对双方记录",
                if bank > ledger { "多" } else { "少" },
                (bank - ledger).abs()
            ),
            Cause::KeyAlreadyMatched { matched } => {
                format!("订单号在另一方已匹配（{}）：多出的一笔，如重复付款", refs(matched))
            }
            Cause::DoubleSubmission {
                of,
                seconds,
                same_key,
            } => {
                let what = if *same_key {
                    "订单号、金额相同"
                } else {
                    "同商户同金额"
                };
                let when = match seconds {
                    Some(s) if *s < 0 => format!("，早 {}", span(*s, Lang::Zh)),
                    Some(s) => format!("，晚 {}", span(*s, Lang::Zh)),
                    None => String::new(),
                };
                format!("与已匹配的 {of} {what}{when}：疑似重复提交")
            }
            Cause::LateInDay { at, cutoff } => match cutoff {
                Some(c) => format!(
                    "支付于 {}，截止{}：可能 T+{} 到账",
                    hhmm(*at),
                    cutoff_words(c, Lang::Zh),
                    c.days_after
                ),
                None => format!("支付于 {}，接近日终：可能出现在次日对账单（T+1）", hhmm(*at)),
            },
            Cause::EarlyInDay { at } => {
                format!("记账于 {}，刚过零点：对应台账可能在前一业务日", hhmm(*at))
            }
            Cause::StillAloneAfterGrace => {
                "上一业务日的待定记录带入后仍无对应记录：截止时间前未到账，请与对方核实".into()
            }
            Cause::NoKeyCandidates {
                among: Some(PartitionKey::Key),
                ..
            } => "银行流水无订单号，而规则只按订单号配对（未设兜底匹配）".into(),
            Cause::NoKeyCandidates {
                candidates,
                window,
                has_fallback,
                among,
            } => {
                let w = span(window.num_seconds(), Lang::Zh);
                let tail = if *has_fallback { "" } else { "（规则未设兜底匹配）" };
                let of = if *among == Some(PartitionKey::Merchant) {
                    "该商户"
                } else {
                    ""
                };
                match candidates.len() {
                    0 => format!("银行流水无订单号；{w}内{of}没有同金额的未匹配台账记录{tail}"),
                    n => format!(
                        "银行流水无订单号；{w}内{of}有 {n} 笔同金额候选：{}{tail}",
                        refs(candidates)
                    ),
                }
            }
            Cause::KeylessBankNearby {
                rows,
                window,
                among: Some(PartitionKey::Merchant),
            } => format!(
                "{}内有该商户无订单号、同金额的银行流水：{}（未配对：请人工核对）",
                span(window.num_seconds(), Lang::Zh),
                refs(rows)
            ),
            Cause::KeylessBankNearby { rows, window, .. } => format!(
                "{}内有无订单号、同金额的银行流水：{}（未配对：请核对商户）",
                span(window.num_seconds(), Lang::Zh),
                refs(rows)
            ),
            Cause::Ambiguous { candidates } if candidates.len() == 1 => format!(
                "与其他记录同样适合 {}：规则要求人工选择",
                refs(candidates)
            ),
            Cause::Ambiguous { candidates } => format!(
                "有 {} 个同样合适的候选（{}）：规则要求人工选择",
                candidates.len(),
                refs(candidates)
            ),
            Cause::UnmatchedRefund => "退款在另一方没有对应退款：可能尚未处理，或被记为付款".into(),
            Cause::NotOnStatement { among: None } => {
                "银行流水中没有此订单号，附近也没有同金额记录：款项未到账，或不在本对账单中".into()
            }
            Cause::NotOnStatement {
                among: Some(PartitionKey::Merchant),
            } => "银行流水中没有此订单号，该商户附近也没有同金额记录：款项未到账，或不在本对账单中".into(),
            Cause::NotOnStatement {
                among: Some(PartitionKey::Key),
            } => "银行流水中没有此订单号：款项未到账，或不在本对账单中".into(),
            Cause::NotInLedger => {
                "台账中没有此订单号：收到款项但无平台订单（人工充值，或导出时遗漏）".into()
            }
            Cause::LargeAmount { amount, limit } => {
                format!("大额 {amount}（复核阈值 {limit}）：需二次确认")
            }
            Cause::ChosenAmongCandidates => "无订单号配对，从多个同样合适的候选中选出：请确认".into(),
            Cause::BatchDiffers {
                net,
                credit,
                rows,
                settle_date,
            } => format!(
                "批次共 {rows} 笔，净额 {net}，{settle_date} 入账 {credit}（{}{}）：可能漏单、多单、退款或手续费不符",
                if credit > net { "多" } else { "少" },
                (credit - net).abs()
            ),
            Cause::BatchNotPaid {
                net,
                rows,
                settle_date,
            } => format!(
                "批次共 {rows} 笔，净额 {net}，结算日 {settle_date} 无入账：尚未结算，或记在其他商户名下"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::model::{Origin, Side};

    #[test]
    fn double_submissions_say_how_far_apart() {
        let c = Cause::DoubleSubmission {
            of: RowRef {
                side: Side::Ledger,
                line: 7,
                origin: Origin::Input,
            },
            seconds: Some(40),
            same_key: false,
        };
        assert_eq!(
            c.text(Lang::En),
            "same merchant and amount 40 s after matched row ledger:7: likely double submission"
        );
        assert_eq!(
            c.text(Lang::Zh),
            "与已匹配的 ledger:7 同商户同金额，晚 40 秒：疑似重复提交"
        );
    }

    #[test]
    fn late_payments_mention_the_cutoff_when_known() {
        let at = NaiveTime::from_hms_opt(23, 58, 10).unwrap();
        let with = Cause::LateInDay {
            at,
            cutoff: Some("T+1 10:00".parse().unwrap()),
        };
        assert_eq!(
            with.text(Lang::En),
            "paid 23:58, cutoff tomorrow 10:00: likely arrives T+1"
        );
        assert_eq!(with.text(Lang::Zh), "支付于 23:58，截止次日 10:00：可能 T+1 到账");
        let later = Cause::LateInDay {
            at,
            cutoff: Some("T+2 09:30".parse().unwrap()),
        };
        assert_eq!(
            later.text(Lang::En),
            "paid 23:58, cutoff T+2 09:30: likely arrives T+2"
        );
        let without = Cause::LateInDay { at, cutoff: None };
        assert!(without
            .text(Lang::En)
            .contains("near the end of the business day"));
    }

    #[test]
    fn keyless_bank_rows_count_candidates() {
        let row = |line| RowRef {
            side: Side::Ledger,
            line,
            origin: Origin::Input,
        };
        let c = Cause::NoKeyCandidates {
            candidates: vec![row(4), row(9), row(11), row(12)],
            window: TimeDelta::seconds(120),
            has_fallback: true,
            among: None,
        };
        assert_eq!(
            c.text(Lang::En),
            "bank row with no order id; 4 candidate(s) with equal amount within 2 min: ledger:4 ledger:9 ledger:11 …"
        );
        assert_eq!(
            c.text(Lang::Zh),
            "银行流水无订单号；2 分钟内有 4 笔同金额候选：ledger:4 ledger:9 ledger:11 …"
        );
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(40, Lang::En), "40 s");
        assert_eq!(span(-300, Lang::En), "5 min");
        assert_eq!(span(7200, Lang::Zh), "2 小时");
    }
}
