"""Writes the workbook fixtures of tests/data/excel (run once; the outputs are committed).

    python3 -m venv /tmp/xl && /tmp/xl/bin/pip install xlsxwriter==3.3.1 xlwt==1.3.0
    /tmp/xl/bin/python tests/data/excel/make_fixtures.py

statement.xlsx and statement.xls hold the same bank statement with real cell types: a
two-line preamble, a header on row 4, date-time cells, numeric amounts (one is the cached
result of =0.1+0.2, i.e. the double 0.30000000000000004), text order ids, and a totals
row (合计) with SUM formulas. bad_amount.xlsx has a text amount that is not a number in
cell D6. ledger.csv is the platform's side of the same day.
"""
import datetime
import pathlib

import xlsxwriter
import xlwt

HERE = pathlib.Path(__file__).parent
HEADER = ["交易时间", "流水号", "商户订单号", "借方金额", "贷方金额", "余额", "摘要"]
# time, serial, order id, debit, credit, balance, memo; None = empty cell
ROWS = [
    (datetime.datetime(2026, 11, 24, 9, 15, 40), "B0001", "P001", None, 128.5, 1128.5, "水费代收"),
    (datetime.datetime(2026, 11, 24, 10, 20, 31), "B0002", "P002", None, 1200, 2328.5, "电费代收"),
    (datetime.datetime(2026, 11, 24, 11, 0, 30), "B0003", "P003", None, "=0.1+0.2", 2328.8, "测试入账"),
    (datetime.datetime(2026, 11, 24, 12, 0, 5), "B0004", "P004", 50, None, 2278.8, "退款"),
    (datetime.datetime(2026, 11, 24, 23, 59, 59), "B0005", "P005", None, 6800.01, 9078.81, "学费代收"),
]


def write_xlsx(path, rows):
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("明细")
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    money = book.add_format({"num_format": "#,##0.00"})
    sheet.write(0, 0, "某银行对公账户交易明细")
    sheet.write(1, 0, "账号：6217000099990000")
    sheet.write_row(3, 0, HEADER)
    for r, row in enumerate(rows, start=4):
        sheet.write_datetime(r, 0, row[0], when)
        sheet.write_string(r, 1, row[1])
        sheet.write_string(r, 2, row[2])
        for c in (3, 4, 5):
            value = row[c]
            if value is None:
                continue
            if isinstance(value, str) and value.startswith("="):
                sheet.write_formula(r, c, value, money, 0.1 + 0.2)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            else:
                sheet.write_number(r, c, value, money)
        sheet.write_string(r, 6, row[6])
    total = 4 + len(rows)
    sheet.write(total, 0, "合计")
    sheet.write_formula(total, 3, f"=SUM(D5:D{total})", money, 50)
    sheet.write_formula(total, 4, f"=SUM(E5:E{total})", money, 8128.81)
    book.close()


def write_xls(path, rows):
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("明细")
    when = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    money = xlwt.easyxf(num_format_str="#,##0.00")
    sheet.write(0, 0, "某银行对公账户交易明细")
    sheet.write(1, 0, "账号：6217000099990000")
    for c, name in enumerate(HEADER):
        sheet.write(3, c, name)
    for r, row in enumerate(rows, start=4):
        sheet.write(r, 0, row[0], when)
        sheet.write(r, 1, row[1])
        sheet.write(r, 2, row[2])
        for c in (3, 4, 5):
            value = row[c]
            if value is None:
                continue
            if isinstance(value, str) and value.startswith("="):
                # xlwt stores no cached formula result; store the same double as a number.
                sheet.write(r, c, 0.1 + 0.2, money)
            else:
                sheet.write(r, c, value, money)
        sheet.write(r, 6, row[6])
    total = 4 + len(rows)
    sheet.write(total, 0, "合计")
    sheet.write(total, 3, 50, money)
    sheet.write(total, 4, 8128.81, money)
    book.save(str(path))


def write_ledger(path):
    lines = ["订单号,金额,类型,支付时间"]
    for row in ROWS:
        amount = row[4] if row[4] is not None else row[3]
        amount = "0.30" if isinstance(amount, str) else f"{amount:.2f}"
        kind = "退款" if row[6] == "退款" else "缴费"
        lines.append(f"{row[2]},{amount},{kind},{row[0]:%Y-%m-%d %H:%M:%S}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


write_xlsx(HERE / "statement.xlsx", ROWS)
write_xls(HERE / "statement.xls", ROWS)
bad = list(ROWS)
bad[1] = bad[1][:3] + ("12,34.5",) + bad[1][4:]
write_xlsx(HERE / "bad_amount.xlsx", bad)
write_ledger(HERE / "ledger.csv")
