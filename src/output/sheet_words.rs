//! The words of results.xlsx in Chinese: sheet names, the Summary sheet's
//! labels and the data sheets' column headers. Values are never translated;
//! a column the table does not know (a carried column, a named report's)
//! keeps its own name.

use crate::rules::report::Lang;

/// `en` in `lang`: the Chinese word for a label of the workbook, or `en`.
pub fn word(lang: Lang, en: &'static str) -> &'static str {
    if lang == Lang::En {
        return en;
    }
    match en {
        "Summary" => "汇总",
        "recon results" => "recon 对账结果",
        "Status" => "状态",
        "Business date" => "业务日",
        "Rules" => "规则",
        "Rules version" => "规则版本",
        "Effective from" => "生效日期",
        "Rule file" => "规则文件",
        "Rules SHA-256" => "规则 SHA-256",
        "Started" => "开始",
        "Finished" => "结束",
        "Tool" => "工具",
        "Times" => "时间",
        "Output" => "输出",
        "Ledger rows" => "账务笔数",
        "Ledger amount" => "账务金额",
        "Bank rows" => "流水笔数",
        "Bank amount" => "流水金额",
        "input" => "输入",
        "outputs total" => "输出合计",
        "holds" => "成立",
        "FAILS" => "不成立",
        "Input" => "输入文件",
        "Path" => "路径",
        "Encoding" => "编码",
        "Rows" => "行数",
        "ledger" => "账务",
        "bank" => "流水",
        "reconciled" => "已对平",
        "exceptions" => "有异常",
        "closed" => "已结清",
        "Scope" => "范围",
        "Status in scope" => "范围内状态",
        _ => en,
    }
}

/// The sheet name of a result file in Chinese, when it is one of recon's.
pub fn sheet(lang: Lang, stem: &str) -> Option<&'static str> {
    if lang == Lang::En {
        return None;
    }
    Some(match stem {
        "matched" => "已匹配",
        "unmatched" => "未匹配",
        "duplicates" => "重复",
        "ignored" => "已忽略",
        "pending" => "待定",
        "out_of_period" => "非本业务日",
        "rejected" => "拒收",
        "review" => "复核",
        "fee_variances" => "手续费差异",
        _ => return None,
    })
}

/// A data sheet's column header in `lang`.
pub fn column(lang: Lang, name: &str) -> String {
    if lang == Lang::En {
        return name.to_string();
    }
    let zh = match name {
        "match_id" => "匹配号",
        "stage" => "阶段",
        "side" => "方",
        "line" => "行号",
        "key" => "订单号",
        "amount" => "金额",
        "time" => "时间",
        "merchant" => "商户",
        "difference" => "差额",
        "review" => "需复核",
        "review_reason" => "复核原因",
        "likely_cause" => "可能原因",
        "reason" => "原因",
        "counterpart" => "对方记录",
        "duplicate_of" => "重复于",
        "business_date" => "业务日",
        "carried_from" => "带入自",
        "output" => "来源",
        "item" => "事项",
        "kind" => "类别",
        "detail" => "说明",
        "identity" => "标识",
        "confirmed_by" => "确认人",
        "confirmed_at" => "确认时间",
        "confirm_note" => "确认说明",
        "raw" => "原文",
        "error" => "错误",
        "group_net" => "批次净额",
        "expected" => "应收手续费",
        "actual" => "实收手续费",
        _ => return name.to_string(),
    };
    zh.to_string()
}
