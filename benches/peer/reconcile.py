#!/usr/bin/env python3
"""Runs benches/peer/reconcile.sql with DuckDB: the peer of `recon run` in
benches/peer/paired.sh. Needs `pip install duckdb`; not used by the tests.

usage: reconcile.py LEDGER_UTF8.csv BANK_UTF8.csv YYYY-MM-DD OUTDIR
"""
import os
import sys

import duckdb


def main() -> int:
    if len(sys.argv) != 5:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ledger, bank, day, out = sys.argv[1:]
    os.makedirs(out, exist_ok=True)
    sql = open(os.path.join(os.path.dirname(__file__), "reconcile.sql"), encoding="utf-8").read()
    con = duckdb.connect()
    con.execute("SET VARIABLE ledger = ?", [ledger])
    con.execute("SET VARIABLE bank = ?", [bank])
    con.execute("SET VARIABLE day = ?", [day])
    con.execute("SET VARIABLE out = ?", [out])
    con.execute(sql)
    for name in ("matched.csv", "exceptions.csv"):
        rows = con.execute("SELECT count(*) FROM read_csv(?)", [os.path.join(out, name)]).fetchone()[0]
        print(f"{name}: {rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
