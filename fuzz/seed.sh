#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seeds from the repository's own files:
# every statement and ledger under tests/data and examples (the real samples
# of /work/shared/samples are copied in tests/data/samples), every rule file,
# and amount and time texts cut from those files. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=fuzz/corpus
mkdir -p "$corpus"/{read_file,amount,time,rules}

# Each file under its path with / as _, so equal names in two folders stay apart.
copy_as_path() {
    while read -r f; do cp "$f" "$1/$(echo "$f" | tr '/' '_')"; done
}
find tests/data examples -type f \( -name '*.csv' -o -name '*.tsv' -o -name '*.xls' -o -name '*.xlsx' \
    -o -name '*.zip' -o -name '*.pdf' -o -name '*.png' \) -size -2M | copy_as_path "$corpus/read_file"
find rules tests/data examples -type f -name '*.toml' | copy_as_path "$corpus/rules"

# Amount and time seeds: every field of the text samples that looks like one.
python3 - "$corpus" <<'PY'
import hashlib, pathlib, re, sys
corpus = pathlib.Path(sys.argv[1])
fields = set()
for path in list(pathlib.Path("tests/data").rglob("*.csv")) + list(pathlib.Path("examples").rglob("*.csv")):
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        continue
    for field in re.split(r"[,\t\n]", text):
        field = field.strip().strip('"')
        if field and len(field) < 40 and re.search(r"\d", field):
            fields.add(field)
extra_amounts = ["1,234.56", "¥28.16", "(1,234.50)", "－１，２３４．５０", "1,234.50-", "1e5", "NaN", "12.345", "CNY 1,000"]
extra_times = ["2026-11-24 10:15:03", "20261124101503", "2026-11-24T02:15:03Z", "2026/1/5 9:05:03",
               "2026-11-24 10:15:03 +0800", "2026-11-24 10:15:03.250", "%d/%m/%Y %H:%M\x0024/03/2025 9:05"]
def put(target, text):
    name = hashlib.sha1(text.encode()).hexdigest()[:16]
    (corpus / target / name).write_text(text)
for f in sorted(fields) + extra_amounts:
    if re.fullmatch(r"[-+(（]?[¥￥$]?[\d,，.．０-９]+\)?-?元?", f) or f in extra_amounts:
        put("amount", f)
for f in sorted(fields) + extra_times:
    if re.match(r"\d{4}[-/.]?\d", f) or f in extra_times:
        put("time", f)
PY
for t in read_file amount time rules; do echo "$t: $(ls "$corpus/$t" | wc -l) seeds"; done
