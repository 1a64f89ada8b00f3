//! The few lines `recon run` prints after a run, in English or Chinese.
//! Result names and reason codes (`amount_mismatch`, `exceptions`) stay as the
//! files and summary.json write them, so they can be searched for; the words
//! around them follow the run's language. Columns are padded by display
//! width, so Chinese labels line up on a terminal.

use std::fmt::Write as _;

use unicode_width::UnicodeWidthStr;

use super::{SideTallies, Summary};
use crate::rules::report::Lang;

/// The labels of the text summary in one language.
struct Labels {
    rules: &'static str,
    date: &'static str,
    role: &'static str,
    ledger: &'static str,
    bank: &'static str,
    amount: &'static str,
    review: &'static str,
    unmatched: &'static str,
    batches: &'static str,
    fees: &'static str,
    pending: &'static str,
    confirmed: &'static str,
    conservation: &'static str,
    status: &'static str,
}

const EN: Labels = Labels {
    rules: "rules",
    date: "date",
    role: "role",
    ledger: "ledger",
    bank: "bank",
    amount: "amount",
    review: "review",
    unmatched: "unmatched",
    batches: "batches",
    fees: "fees",
    pending: "pending",
    confirmed: "confirmed",
    conservation: "conservation",
    status: "status",
};

const ZH: Labels = Labels {
    rules: "规则",
    date: "业务日",
    role: "角色",
    ledger: "账务",
    bank: "流水",
    amount: "金额",
    review: "复核",
    unmatched: "未匹配",
    batches: "批次",
    fees: "手续费",
    pending: "待定",
    confirmed: "已确认",
    conservation: "守恒",
    status: "状态",
};

/// `text` padded with spaces to `width` display columns (at least one space).
pub fn pad(text: &str, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(text.width()).max(1)))
}

/// `text` right-aligned in `width` display columns.
fn right(text: &str, width: usize) -> String {
    format!("{}{text}", " ".repeat(width.saturating_sub(text.width())))
}

/// The label column of the summary lines: 9 display columns.
pub fn label(text: &str) -> String {
    pad(text, 9)
}

/// A summary row's name: the result's name, with its Chinese name before it.
fn row_name(name: &str, lang: Lang) -> String {
    let zh = match name {
        "input" => "输入",
        "carried_in" => "带入",
        "duplicates" => "重复",
        "ignored" => "忽略",
        "matched" => "已匹配",
        "out_of_period" => "非本业务日",
        "pending" => "待定",
        "unmatched" => "未匹配",
        "rejected" => "拒收",
        _ => "",
    };
    match lang {
        Lang::Zh if !zh.is_empty() => format!("{zh} {name}"),
        _ => name.to_string(),
    }
}

impl Summary {
    /// The few lines printed after a run, in `lang`.
    pub fn to_text(&self, lang: Lang) -> String {
        let w = match lang {
            Lang::En => &EN,
            Lang::Zh => &ZH,
        };
        let zh = lang == Lang::Zh;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{}{} {} (sha256 {}…)",
            label(w.rules),
            self.rules.name,
            self.rules.version,
            &self.rules.sha256[..12]
        );
        if let Some(date) = &self.business_date {
            let _ = match (&self.period, zh) {
                (Some(p), false) => writeln!(
                    s,
                    "{}{date} (ledger until {}, statement until the cutoff {})",
                    label(w.date),
                    p.ends,
                    p.cutoff
                ),
                (Some(p), true) => writeln!(
                    s,
                    "{}{date}（账务截至 {}，流水截至截止时间 {}）",
                    label(w.date),
                    p.ends,
                    p.cutoff
                ),
                (None, _) => writeln!(s, "{}{date}", label(w.date)),
            };
        }
        if let Some(role) = &self.role {
            let masks: Vec<String> = role
                .masks
                .iter()
                .map(|(c, k)| format!("{c} {}", k.name()))
                .collect();
            let _ = match (masks.is_empty(), zh) {
                (true, false) => writeln!(s, "{}{} (masks nothing)", label(w.role), role.name),
                (false, false) => writeln!(s, "{}{} (masks {})", label(w.role), role.name, masks.join(", ")),
                (true, true) => writeln!(s, "{}{}（不遮蔽任何列）", label(w.role), role.name),
                (false, true) => writeln!(s, "{}{}（遮蔽 {}）", label(w.role), role.name, masks.join("，")),
            };
        }
        if let Some(scope) = &self.scope {
            let _ = if zh {
                writeln!(
                    s,
                    "{}仅含 {} 的记录：以下计数均为本范围的（本范围状态 {}）；裁剪前已对全部记录证明守恒",
                    label("范围"),
                    scope.rows,
                    scope.status
                )
            } else {
                writeln!(
                    s,
                    "scope    rows where {}: every count below is this scope's (its status: {}); conservation was proved over every row before the cut",
                    scope.rows, scope.status
                )
            };
        }
        let name_width = if zh { 27 } else { 14 };
        let _ = writeln!(
            s,
            "{}{}{}{}{}",
            " ".repeat(name_width),
            right(w.ledger, 10),
            right(w.amount, 17),
            right(w.bank, 10),
            right(w.amount, 17)
        );
        let mut row = |name: &str, t: &SideTallies| {
            let _ = writeln!(
                s,
                "{}{:>10} {:>16}{:>10} {:>16}",
                pad(&row_name(name, lang), name_width),
                t.ledger.count,
                t.ledger.amount,
                t.bank.count,
                t.bank.amount
            );
        };
        let input = SideTallies {
            ledger: self.inputs["ledger"].records,
            bank: self.inputs["bank"].records,
        };
        row("input", &input);
        if let Some(c) = &self.carried_in {
            row("carried_in", &c.tallies());
        }
        for (name, t) in &self.outputs {
            row(name.trim_end_matches(".csv"), t);
        }
        for (currency, c) in &self.currencies {
            row(&format!("{currency} input"), &c.input);
            row(&format!("{currency} outputs"), &c.outputs);
        }
        let _ = if zh {
            writeln!(s, "{}{} 笔匹配需要二次确认", label(w.review), self.review)
        } else {
            writeln!(
                s,
                "{}{} match(es) flagged for a second confirmation",
                label(w.review),
                self.review
            )
        };
        for (reason, c) in &self.unmatched_by_reason {
            let _ = if zh {
                writeln!(
                    s,
                    "{}{reason}：账务 {}，流水 {}",
                    label(w.unmatched),
                    c.ledger,
                    c.bank
                )
            } else {
                writeln!(s, "unmatched {reason}: ledger {}, bank {}", c.ledger, c.bank)
            };
        }
        if let Some(b) = &self.batches {
            let _ = if zh {
                writeln!(
                    s,
                    "{}{} 批中已结算 {} 批（amount_mismatch {}，no_counterpart {}，pending {}）",
                    label(w.batches),
                    b.total,
                    b.settled,
                    b.amount_mismatch,
                    b.no_counterpart,
                    b.pending
                )
            } else {
                writeln!(
                    s,
                    "{}{} settled of {} ({} amount_mismatch, {} no_counterpart, {} pending)",
                    label(w.batches),
                    b.settled,
                    b.total,
                    b.amount_mismatch,
                    b.no_counterpart,
                    b.pending
                )
            };
        }
        if let Some(f) = &self.fees {
            let _ = if zh {
                writeln!(
                    s,
                    "{}核对 {} 行，差异 {} 处，合计 {}（fee_variances.csv）",
                    label(w.fees),
                    f.checked,
                    f.variances,
                    f.variance_text()
                )
            } else {
                writeln!(
                    s,
                    "{}{} row(s) checked, {} variance(s) totalling {} (fee_variances.csv)",
                    label(w.fees),
                    f.checked,
                    f.variances,
                    f.variance_text()
                )
            };
        }
        if let Some(p) = self.outputs.get("pending.csv") {
            if p.ledger.count + p.bank.count > 0 {
                let _ = if zh {
                    writeln!(
                        s,
                        "{}账务 {}，流水 {} 笔等待对方记录 (awaiting_counterpart)：下一天运行时用 --carry-in 带入这个 pending.csv",
                        label(w.pending),
                        p.ledger.count,
                        p.bank.count
                    )
                } else {
                    writeln!(
                        s,
                        "{}ledger {}, bank {} awaiting_counterpart: pass this pending.csv to the next day's run with --carry-in",
                        label(w.pending),
                        p.ledger.count,
                        p.bank.count
                    )
                };
            }
        }
        let c = &self.confirmations;
        let _ = if zh {
            writeln!(
                s,
                "{}{} 项复核中已确认 {} 项（review.csv）",
                label(w.confirmed),
                c.items,
                c.confirmed
            )
        } else {
            writeln!(
                s,
                "confirmed {} of {} review item(s) (review.csv)",
                c.confirmed, c.items
            )
        };
        for item in &c.confirmed_items {
            let _ = if zh {
                writeln!(
                    s,
                    "  {} {} 确认人 {}，时间 {}：{}",
                    item.item,
                    item.kind.name(),
                    item.by,
                    item.at,
                    item.note
                )
            } else {
                writeln!(
                    s,
                    "  {} {} by {} at {}: {}",
                    item.item,
                    item.kind.name(),
                    item.by,
                    item.at,
                    item.note
                )
            };
        }
        self.resolution_lines(&mut s, lang);
        let holds = self.conservation.values().all(|c| c.holds);
        let verdict = match (holds, zh) {
            (true, false) => "holds",
            (false, false) => "FAILED",
            (true, true) => "成立（每条记录恰在一个输出中）",
            (false, true) => "不成立 FAILED",
        };
        let _ = if zh {
            writeln!(s, "{}{verdict}", label(w.conservation))
        } else {
            writeln!(s, "conservation {verdict}")
        };
        let status = match (self.status, zh) {
            ("reconciled", true) => "已对平 (reconciled)".to_string(),
            ("exceptions", true) => "有异常 (exceptions)".to_string(),
            ("closed", true) => "已关账 (closed)".to_string(),
            (other, _) => other.to_string(),
        };
        let whole = match (&self.scope, zh) {
            (None, _) => String::new(),
            (Some(scope), false) => format!(" (the whole day; this scope: {})", scope.status),
            (Some(scope), true) => format!("（全天；本范围：{}）", scope.status),
        };
        let _ = writeln!(s, "{}{status}{whole}", label(w.status));
        s
    }

    /// Resolutions applied, those that no longer apply, and what is still
    /// open, in `lang` (ids, items, reason codes and commands as recorded).
    fn resolution_lines(&self, s: &mut String, lang: Lang) {
        let zh = lang == Lang::Zh;
        let r = &self.resolutions;
        if r.exceptions > 0 {
            let _ = if zh {
                writeln!(
                    s,
                    "{}{} 行异常中已处理 {} 行：配对 {} 行，接受 {} 行（resolutions.csv）",
                    label("已处理"),
                    r.exceptions,
                    r.paired + r.accepted,
                    r.paired,
                    r.accepted
                )
            } else {
                writeln!(
                    s,
                    "resolved {} of {} exception row(s): {} paired, {} accepted (resolutions.csv)",
                    r.paired + r.accepted,
                    r.exceptions,
                    r.paired,
                    r.accepted
                )
            };
        }
        for a in &r.applied {
            let label = a.reason_label.as_deref().unwrap_or_default();
            let difference = a.difference.as_deref().unwrap_or("0");
            let what = match (&a.reason, &a.match_id, zh) {
                (Some(code), _, false) => format!("accepted {code} ({label})"),
                (Some(code), _, true) => format!("接受为 {code}（{label}）"),
                (None, Some(id), false) => format!("paired as {id}, difference {difference}"),
                (None, Some(id), true) => format!("配对为 {id}，差额 {difference}"),
                (None, None, false) => "paired".to_string(),
                (None, None, true) => "已配对".to_string(),
            };
            let _ = if zh {
                let role = a
                    .role
                    .as_deref()
                    .map(|x| format!("，角色 {x}"))
                    .unwrap_or_default();
                writeln!(
                    s,
                    "  {} {} {what}，处理人 {}（系统用户 {}{role}），时间 {}：{}",
                    a.id,
                    a.items.join(" "),
                    a.by,
                    a.user,
                    a.at,
                    a.note
                )
            } else {
                let role = a.role.as_deref().map(|x| format!(" as {x}")).unwrap_or_default();
                writeln!(
                    s,
                    "  {} {} {what} by {} ({}{role}) at {}: {}",
                    a.id,
                    a.items.join(" "),
                    a.by,
                    a.user,
                    a.at,
                    a.note
                )
            };
        }
        for st in &r.stale {
            let rows = st.rows_changed.join(" ");
            let _ = if zh {
                writeln!(
                    s,
                    "警告：{} 的 {} {} 不再适用：{rows} 已改变或不再是异常；请重新处理，或撤销（recon resolve --undo {}）",
                    st.by,
                    st.kind.name(),
                    st.id,
                    st.id
                )
            } else {
                writeln!(
                    s,
                    "warning: {} {} by {} no longer applies: {rows} changed or no longer an exception; resolve again or undo it (recon resolve --undo {})",
                    st.kind.name(),
                    st.id,
                    st.by,
                    st.id
                )
            };
        }
        let o = &self.open;
        if self.status == "exceptions" {
            let mut open = Vec::new();
            if o.rows > 0 {
                open.push(if zh {
                    format!("{} 行异常待配对或接受（recon resolve）", o.rows)
                } else {
                    format!("{} exception row(s) to pair or accept (recon resolve)", o.rows)
                });
            }
            if o.rejected > 0 {
                open.push(if zh {
                    format!("{} 行拒收记录待在输入中修正", o.rejected)
                } else {
                    format!("{} rejected row(s) to fix in the input", o.rejected)
                });
            }
            if o.review_flags > 0 {
                open.push(if zh {
                    format!("{} 个复核标记待确认（recon confirm）", o.review_flags)
                } else {
                    format!("{} review flag(s) to confirm (recon confirm)", o.review_flags)
                });
            }
            let _ = if zh {
                writeln!(s, "{}{}", label("未结"), open.join("；"))
            } else {
                writeln!(s, "open     {}", open.join("; "))
            };
        }
    }
}
