-- The reconciliation an analyst writes in DuckDB SQL for a gen_day day: the
-- peer that benches/peer/paired.sh times beside `recon run`. It reads UTF-8
-- copies of the two files (the GBK decoding is done before timing, in DuckDB's
-- favour) and writes matched.csv and exceptions.csv to the directory bound to
-- the `out` variable. Stages, as in rules/default.toml:
--   duplicates  a bank row repeating key, direction and amount of an earlier
--               bank row within 24 h
--   key groups  same key and direction, sums agree within 0.01 (1:1 and splits)
--   key + fee   same key, one row each, bank short by at most 0.6 %
--   asof        bank rows without a key: the latest free ledger row of the same
--               merchant and amount at most 120 s before (ASOF join)
-- Business day: ledger rows of the date (local time); statement rows from the
-- date's 00:00 up to the T+1 10:00 cutoff. Everything else is out of period.

CREATE TEMP TABLE ledger AS
SELECT line, key, merchant, amount, t
FROM (
    SELECT row_number() OVER () + 1 AS line,
           "订单号" AS key,
           "商户号" AS merchant,
           CASE WHEN "缴费类型" IN ('退款', '冲正') THEN -CAST("金额" AS DECIMAL(18, 2))
                ELSE CAST("金额" AS DECIMAL(18, 2)) END AS amount,
           CAST("支付时间" AS TIMESTAMP) AS t
    FROM read_csv(getvariable('ledger'), header = true, all_varchar = true)
)
WHERE t >= CAST(getvariable('day') AS TIMESTAMP)
  AND t < CAST(getvariable('day') AS TIMESTAMP) + INTERVAL 1 DAY;

CREATE TEMP TABLE bank AS
SELECT line, key, merchant, amount, t
FROM (
    SELECT row_number() OVER () + 5 AS line,
           NULLIF(ltrim("商户订单号", '`'), '') AS key,
           "商户号" AS merchant,
           COALESCE(CAST(replace("贷方金额", ',', '') AS DECIMAL(18, 2)), 0)
             - COALESCE(CAST(replace("借方金额", ',', '') AS DECIMAL(18, 2)), 0) AS amount,
           CAST("交易时间(UTC)" AS TIMESTAMP) + INTERVAL 8 HOUR AS t
    FROM read_csv(getvariable('bank'), skip = 4, header = true, all_varchar = true,
                  null_padding = true)
    WHERE "交易时间(UTC)" LIKE '20%'
)
WHERE t >= CAST(getvariable('day') AS TIMESTAMP)
  AND t < CAST(getvariable('day') AS TIMESTAMP) + INTERVAL 34 HOUR;

-- Duplicates: the second and later bank rows of one key, direction and amount within 24 h.
CREATE TEMP TABLE dup AS
SELECT line, first_line
FROM (
    SELECT line, t,
           first_value(line) OVER w AS first_line,
           first_value(t) OVER w AS first_t,
           row_number() OVER w AS n
    FROM bank
    WHERE key IS NOT NULL
    WINDOW w AS (PARTITION BY key, amount ORDER BY t, line)
)
WHERE n > 1 AND t - first_t <= INTERVAL 24 HOUR;

CREATE TEMP TABLE bank_free AS
SELECT * FROM bank WHERE line NOT IN (SELECT line FROM dup);

-- Key groups: same key and direction, sums within 0.01.
CREATE TEMP TABLE key_match AS
WITH lg AS (SELECT key, sign(amount) AS dir, sum(amount) AS s, count(*) AS n
            FROM ledger GROUP BY ALL),
     bg AS (SELECT key, sign(amount) AS dir, sum(amount) AS s, count(*) AS n
            FROM bank_free WHERE key IS NOT NULL GROUP BY ALL)
SELECT lg.key, lg.dir, lg.s - bg.s AS difference,
       CASE WHEN lg.n = 1 AND bg.n = 1 THEN 'order-id' ELSE 'split' END AS stage
FROM lg JOIN bg USING (key, dir)
WHERE abs(lg.s - bg.s) <= 0.01;

-- Key and fee: one row each, the bank short by at most 0.6 %.
CREATE TEMP TABLE fee_match AS
WITH lf AS (SELECT * FROM ledger l
            WHERE NOT EXISTS (SELECT 1 FROM key_match k WHERE k.key = l.key AND k.dir = sign(l.amount))),
     bf AS (SELECT * FROM bank_free b
            WHERE b.key IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM key_match k WHERE k.key = b.key AND k.dir = sign(b.amount))),
     l1 AS (SELECT key, sign(amount) AS dir, min(amount) AS a FROM lf GROUP BY ALL HAVING count(*) = 1),
     b1 AS (SELECT key, sign(amount) AS dir, min(amount) AS a FROM bf GROUP BY ALL HAVING count(*) = 1)
SELECT l1.key, l1.dir, l1.a - b1.a AS difference, 'order-id-fee' AS stage
FROM l1 JOIN b1 USING (key, dir)
WHERE abs(l1.a - b1.a) <= abs(l1.a) * 0.006;

CREATE TEMP TABLE keyed AS
SELECT * FROM key_match UNION ALL SELECT * FROM fee_match;

-- Fallback: bank rows without a key, the closest earlier ledger row of the
-- same merchant and amount within 120 s that no key stage took.
CREATE TEMP TABLE asof_match AS
WITH lf AS (SELECT * FROM ledger l
            WHERE NOT EXISTS (SELECT 1 FROM keyed k WHERE k.key = l.key AND k.dir = sign(l.amount))),
     bk AS (SELECT * FROM bank_free WHERE key IS NULL),
     pairs AS (
        SELECT bk.line AS bank_line, lf.line AS ledger_line
        FROM bk ASOF JOIN lf
          ON bk.merchant = lf.merchant AND bk.amount = lf.amount AND bk.t >= lf.t
        WHERE bk.t - lf.t <= INTERVAL 120 SECOND)
SELECT bank_line, ledger_line
FROM (SELECT *, row_number() OVER (PARTITION BY ledger_line ORDER BY bank_line) AS n FROM pairs)
WHERE n = 1;

CREATE TEMP TABLE matched AS
SELECT 'ledger' AS side, l.line, l.key, l.amount, l.t AS time, l.merchant, k.stage, k.difference
FROM ledger l JOIN keyed k ON k.key = l.key AND k.dir = sign(l.amount)
UNION ALL
SELECT 'bank', b.line, b.key, b.amount, b.t, b.merchant, k.stage, k.difference
FROM bank_free b JOIN keyed k ON k.key = b.key AND k.dir = sign(b.amount)
UNION ALL
SELECT 'ledger', l.line, l.key, l.amount, l.t, l.merchant, 'merchant-amount-time', 0
FROM ledger l JOIN asof_match a ON a.ledger_line = l.line
UNION ALL
SELECT 'bank', b.line, b.key, b.amount, b.t, b.merchant, 'merchant-amount-time', 0
FROM bank_free b JOIN asof_match a ON a.bank_line = b.line;

COPY (SELECT * FROM matched ORDER BY stage, key, side, line)
  TO (getvariable('out') || '/matched.csv') (HEADER);

COPY (
    SELECT 'ledger' AS side, line, key, amount, t AS time, merchant, 'unmatched' AS reason, NULL AS duplicate_of
    FROM ledger WHERE line NOT IN (SELECT line FROM matched WHERE side = 'ledger')
    UNION ALL
    SELECT 'bank', line, key, amount, t, merchant, 'unmatched', NULL
    FROM bank_free WHERE line NOT IN (SELECT line FROM matched WHERE side = 'bank')
    UNION ALL
    SELECT 'bank', b.line, b.key, b.amount, b.t, b.merchant, 'duplicate', d.first_line
    FROM bank b JOIN dup d USING (line)
    ORDER BY side, line
) TO (getvariable('out') || '/exceptions.csv') (HEADER);
