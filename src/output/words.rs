//! The fixed wording of report.html in each language (data is never
//! translated, only the page around it).

use super::exceptions::ExceptionKind;

/// Every label of the page, in one language.
pub struct Words {
    /// `lang` attribute of the page.
    pub html_lang: &'static str,
    /// Page title.
    pub title: &'static str,
    /// Status text when everything reconciled.
    pub reconciled: &'static str,
    /// Status text when there are exceptions.
    pub exceptions_status: &'static str,
    /// Status text when every exception is paired or accepted.
    pub closed: &'static str,
    /// Heading of the handling of exceptions.
    pub handling: &'static str,
    /// A scoped view's note: before the filter, after it, before the scope's status.
    pub scope: [&'static str; 3],
    /// Column labels of the handling table.
    pub handling_columns: [&'static str; 9],
    /// "Business date".
    pub business_date: &'static str,
    /// "Run".
    pub run_time: &'static str,
    /// Summary heading.
    pub summary: &'static str,
    /// The ledger side.
    pub ledger: &'static str,
    /// The bank side.
    pub bank: &'static str,
    /// Row-count column.
    pub rows: &'static str,
    /// Amount column.
    pub amount: &'static str,
    /// The input row of the summary.
    pub input: &'static str,
    /// The outputs-total row of the summary.
    pub outputs_total: &'static str,
    /// Proof sentence: "read".
    pub read: &'static str,
    /// Proof sentence: "rows".
    pub rows_word: &'static str,
    /// Proof sentence: "outputs hold".
    pub in_outputs: &'static str,
    /// Proof verdict when it holds.
    pub holds: &'static str,
    /// Proof verdict when it fails.
    pub fails: &'static str,
    /// Punctuation after a side name.
    pub colon: &'static str,
    /// Punctuation between count and amount.
    pub comma: &'static str,
    /// Punctuation between input and outputs.
    pub semicolon: &'static str,
    /// Stage column.
    pub stage: &'static str,
    /// Matches column.
    pub matches: &'static str,
    /// The review row of the stage table.
    pub review_matches: &'static str,
    /// Heading of the batch counts (a batch stage).
    pub batches: &'static str,
    /// Heading of the fee check (`[fees]`).
    pub fee_check: &'static str,
    /// "rows checked", "variances" and their total, for the fee check.
    pub fee_words: [&'static str; 3],
    /// Provenance heading.
    pub provenance: &'static str,
    /// "Rules".
    pub rules_name: &'static str,
    /// "Version".
    pub version: &'static str,
    /// "Effective from".
    pub effective_from: &'static str,
    /// "File".
    pub file: &'static str,
    /// "Encoding".
    pub encoding: &'static str,
    /// "Header line".
    pub header_line: &'static str,
    /// Charts heading.
    pub charts: &'static str,
    /// Chart: exceptions by reason.
    pub by_reason: &'static str,
    /// Chart: exceptions by hour.
    pub by_hour: &'static str,
    /// Chart: exceptions by amount.
    pub by_amount: &'static str,
    /// Exception table heading.
    pub exception_rows: &'static str,
    /// Filter box placeholder.
    pub filter_hint: &'static str,
    /// After "N / M".
    pub rows_shown: &'static str,
    /// Legend of the highlight.
    pub highlight: &'static str,
    /// Truncation note, before the number.
    pub truncated_before: &'static str,
    /// Truncation note, after the number.
    pub truncated_after: &'static str,
    /// Table column labels, in order: kind, side, line, key, amount, time, merchant, reason, related, likely cause.
    pub columns: [&'static str; 10],
    /// Kind labels: unmatched, duplicate, review.
    pub kinds: [&'static str; 3],
    /// Reason labels, in the order of `REASONS`.
    pub reasons: [&'static str; 7],
}

/// Column keys of the exception table, and whether they sort as numbers.
const COLUMNS: [(&str, bool); 10] = [
    ("kind", false),
    ("side", false),
    ("line", true),
    ("key", false),
    ("amount", true),
    ("time", false),
    ("merchant", false),
    ("reason", false),
    ("related", false),
    ("likely_cause", false),
];

/// The reason codes charted, as the CSVs write them.
const REASONS: [&str; 7] = [
    "no_counterpart",
    "amount_mismatch",
    "ambiguous",
    "counterpart_matched",
    "no_counterpart_after_grace",
    "duplicate",
    "review",
];

impl Words {
    /// (key, label, numeric) of each exception table column.
    pub fn table_columns(&self) -> [(&'static str, &'static str, bool); 10] {
        std::array::from_fn(|i| (COLUMNS[i].0, self.columns[i], COLUMNS[i].1))
    }

    /// The label of a reason code, with the code when they differ (unknown codes are shown as they are).
    pub fn reason_label(&self, code: &str) -> String {
        match REASONS.iter().position(|r| *r == code) {
            Some(i) if self.reasons[i] != code => format!("{} ({code})", self.reasons[i]),
            _ => code.to_string(),
        }
    }

    /// The label of a kind of exception.
    pub fn kind_label(&self, kind: ExceptionKind) -> &'static str {
        self.kinds[kind as usize]
    }
}

/// English.
pub const EN: Words = Words {
    html_lang: "en",
    title: "Reconciliation report",
    reconciled: "Reconciled",
    exceptions_status: "Exceptions",
    closed: "Closed",
    scope: [
        "This view holds only the rows where",
        "every count on this page is of those rows; conservation was proved over every row before the view was cut. Status in this scope:",
        "(the status above is the whole day's).",
    ],
    handling: "Exceptions and their handling",
    handling_columns: [
        "Row",
        "Exception",
        "Amount",
        "Likely cause",
        "Status",
        "Resolved by",
        "Reason",
        "Note",
        "When",
    ],
    business_date: "Business date",
    run_time: "Run",
    summary: "Summary",
    ledger: "Ledger",
    bank: "Bank",
    rows: "rows",
    amount: "amount",
    input: "Input",
    outputs_total: "Outputs total",
    read: "read",
    rows_word: "rows",
    in_outputs: "outputs hold",
    holds: "holds ✓",
    fails: "FAILS ✗",
    colon: ":",
    comma: ",",
    semicolon: ";",
    stage: "Stage",
    matches: "Matches",
    review_matches: "Matches flagged for review",
    batches: "Settlement batches",
    fee_check: "Fee check",
    fee_words: ["rows checked", "variances", "total variance"],
    provenance: "Rules and inputs",
    rules_name: "Rules",
    version: "Version",
    effective_from: "Effective from",
    file: "File",
    encoding: "Encoding",
    header_line: "Header line",
    charts: "Exceptions at a glance",
    by_reason: "Exceptions by reason",
    by_hour: "Exceptions by hour of day",
    by_amount: "Exceptions by amount",
    exception_rows: "Exceptions",
    filter_hint: "Filter: any text in the row",
    rows_shown: "rows shown",
    highlight: "Highlighted: amount at or above review_above",
    truncated_before: "The table lists the first",
    truncated_after: "rows; the charts and the CSV files hold them all.",
    columns: [
        "Kind",
        "Side",
        "Line",
        "Key",
        "Amount",
        "Time",
        "Merchant",
        "Reason",
        "Related",
        "Likely cause",
    ],
    kinds: ["unmatched", "duplicate", "review"],
    reasons: REASONS,
};

/// Simplified Chinese.
pub const ZH: Words = Words {
    html_lang: "zh-CN",
    title: "对账报告",
    reconciled: "已平",
    exceptions_status: "有异常",
    closed: "已结清",
    scope: [
        "此视图仅含满足以下条件的记录",
        "本页所有计数均为这些记录的；视图裁剪前已对全部记录证明守恒。本范围状态：",
        "（上方状态为全天的）。",
    ],
    handling: "异常及处理",
    handling_columns: [
        "行",
        "异常",
        "金额",
        "可能原因",
        "状态",
        "处理人",
        "原因",
        "备注",
        "时间",
    ],
    business_date: "业务日期",
    run_time: "运行",
    summary: "汇总",
    ledger: "台账",
    bank: "银行",
    rows: "笔数",
    amount: "金额",
    input: "输入",
    outputs_total: "输出合计",
    read: "读入",
    rows_word: "笔",
    in_outputs: "输出合计",
    holds: "平衡 ✓",
    fails: "不平衡 ✗",
    colon: "：",
    comma: "，",
    semicolon: "；",
    stage: "匹配阶段",
    matches: "匹配组数",
    review_matches: "待复核的匹配",
    batches: "结算批次",
    fee_check: "手续费核对",
    fee_words: ["核对笔数", "差异笔数", "差异合计"],
    provenance: "规则与输入文件",
    rules_name: "规则",
    version: "版本",
    effective_from: "生效日期",
    file: "文件",
    encoding: "编码",
    header_line: "表头行",
    charts: "异常概览",
    by_reason: "按原因",
    by_hour: "按时段（小时）",
    by_amount: "按金额",
    exception_rows: "异常明细",
    filter_hint: "筛选：行内任意文字",
    rows_shown: "行显示中",
    highlight: "高亮：金额达到复核阈值",
    truncated_before: "表格仅列出前",
    truncated_after: "行；图表与 CSV 文件包含全部。",
    columns: [
        "类别",
        "来源",
        "行号",
        "订单号",
        "金额",
        "时间",
        "商户",
        "原因",
        "关联",
        "可能原因",
    ],
    kinds: ["未匹配", "重复", "待复核"],
    reasons: [
        "无对应记录",
        "金额不符",
        "候选不唯一",
        "对方已匹配",
        "宽限期后仍无对应",
        "重复",
        "待复核",
    ],
};
