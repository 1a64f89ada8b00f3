//! Writing a drafted rule file: the analysis of `init` as TOML with a
//! comment on every choice.

use std::collections::HashSet;

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::batch::{BatchAdvice, StatementMerchant, TOLERANCE};
use super::{span, KeyCandidate, SideDraft, ZoneAdvice};
use crate::input::field::{clean_field, is_placeholder};
use crate::input::records::type_rows;
use crate::input::table::DelimiterSource;
use crate::model::Side;
use crate::rules::plan::{TimeColumns, DEFAULT_ZONE};

/// Renders the draft.
pub(super) struct Writer<'a> {
    pub(super) name: &'a str,
    pub(super) today: NaiveDate,
    pub(super) ledger: &'a SideDraft,
    pub(super) bank: &'a SideDraft,
    pub(super) keys: &'a [KeyCandidate],
    pub(super) zones: &'a ZoneAdvice,
    pub(super) batch: Option<&'a BatchAdvice>,
}

/// A TOML string literal.
fn q(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

impl Writer<'_> {
    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        self.header(&mut out);
        self.side(
            &mut out,
            self.ledger,
            &self.zones.ledger,
            self.keys.first().map(|k| k.ledger.as_str()),
        );
        self.side(
            &mut out,
            self.bank,
            &self.zones.bank,
            self.keys.first().map(|k| k.bank.as_str()),
        );
        self.evidence(&mut out);
        self.stages(&mut out);
        out
    }

    fn header(&self, out: &mut String) {
        let effective = self.earliest_day().unwrap_or(self.today);
        let (l, b) = (self.ledger.path.display(), self.bank.path.display());
        out.push_str(&format!(
            "# Drafted by `recon rules init` on {today} from\n#   ledger: {l}\n#   bank:   {b}\n\
             # Every choice is explained in a comment. Check the result, then keep this file\n\
             # under version control next to its later versions (see rules/default.toml):\n\
             #   recon rules check <this file>\n\
             #   recon run --ledger {l} --bank {b} --rules <this file> --out out/\n\n\
             [rules]\nname = {name}\nversion = \"0.1.0\"\n\
             effective_from = {effective}          # the earliest business date in the two files\n\
             description = {desc}\n\n\
             {business}",
            today = self.today,
            name = q(self.name),
            desc = q(&format!("Drafted by recon rules init from {l} and {b}")),
            business = self.business(),
        ));
    }

    /// `[business]`, `[thresholds]` and `[duplicates]`: the settings of the
    /// finance calendar and the limits, with what each one does.
    fn business(&self) -> String {
        format!(
            "# ------------------------------------------------------------ the business day\n\
             # Check these before the first `recon run --date D`: they decide which rows\n\
             # belong to day D and which differences are worth a person's time.\n\
             [business]\n\
             timezone = {zone}{pad}# business days are 00:00-24:00 in this zone; every time is\n\
             {cont}# first converted from its own file's zone ([ledger]/[bank])\n\
             cutoff = \"T+1 10:00\"                 # D's statement is complete at 10:00 on D+1: statement\n\
             {cont}# rows stamped after midnight and before then stay with D\n\
             {cont}# when they answer D's payments (a payment at 23:59:50\n\
             {cont}# reaching the bank at 00:00:40), else they are D+1's\n\
             {cont}# (out_of_period.csv). Set it to when your statement for a\n\
             {cont}# day is final; \"T+1 00:00\" keeps nothing after midnight.\n\
             pending_grace = \"10m\"                # a row of D's last 10 minutes with no counterpart yet is\n\
             {cont}# not an exception: it waits in pending.csv for the next\n\
             {cont}# day's run (--carry-in). \"0s\": nothing waits.\n\n\
             [thresholds]\n\
             # Money is written as text so it stays exact.\n\
             ignore_below = \"1.00\"                # unmatched rows under 1.00 go to ignored.csv instead of\n\
             {cont}# the exceptions; \"0\" makes every cent an exception\n\
             review_above = \"5000.00\"             # matches of 5000.00 or more are flagged review = true\n\
             {cont}# for a second confirmation (recon confirm)\n\n\
             [duplicates]\n\
             window = \"24h\"                       # a row repeating a matched row of its side (same key,\n\
             {cont}# amount and direction) within 24h is a duplicate\n\n",
            zone = q(&self.zones.ledger),
            pad = pad(width(&q(&self.zones.ledger)) + 11),
            cont = " ".repeat(37),
        )
    }

    /// The earliest date of any record, in the business zone.
    fn earliest_day(&self) -> Option<NaiveDate> {
        let zone: Tz = self.zones.ledger.parse().unwrap_or(DEFAULT_ZONE);
        [self.ledger, self.bank]
            .iter()
            .flat_map(|d| {
                let mut table = d.located.table.clone();
                type_rows(&mut table, d.side, &d.plan).map_or_else(|_| Vec::new(), |t| t.records)
            })
            .filter_map(|r| r.time())
            .min()
            .map(|t| t.with_timezone(&zone).date_naive())
    }

    fn side(&self, out: &mut String, d: &SideDraft, zone: &str, key: Option<&str>) {
        let name = d.side.name();
        let located = &d.located;
        out.push_str(&format!(
            "# {}\n[{name}]\n",
            "-".repeat(60)
                + if d.side == Side::Ledger {
                    " the ledger"
                } else {
                    " the statement"
                }
        ));
        if let Some((profile, confidence)) = &d.profile {
            out.push_str(&format!(
                "profile = {}{}# recognised: every header name of this built-in profile is on line {} (confidence {confidence:.2})\n",
                q(profile),
                pad(width(profile) + 12),
                located.table.header_line
            ));
        }
        match &located.workbook {
            Some(w) => out.push_str(&format!(
                "# a .{} workbook, sheet {}: no encoding or delimiter to set\n",
                w.kind.name(),
                q(&w.sheet)
            )),
            None => {
                let label = located.encoding.name().to_lowercase();
                out.push_str(&format!(
                    "encoding = {}{}# detected: {}\n",
                    q(&label),
                    pad(width(&label) + 13),
                    located.detection
                ));
                if located.table.delimiter_source != DelimiterSource::Cells {
                    let delimiter = match located.table.delimiter {
                        b'\t' => "tab".to_string(),
                        d => char::from(d).to_string(),
                    };
                    out.push_str(&format!(
                        "delimiter = {}{}# detected: sniffed from the rows\n",
                        q(&delimiter),
                        pad(width(&delimiter) + 14)
                    ));
                }
            }
        }
        out.push_str(&format!(
            "# the header was found on line {} (set header_line = {} to pin it)\n",
            located.table.header_line, located.table.header_line
        ));
        let zone_note = if d.side == Side::Bank {
            self.zones.reason.clone()
        } else {
            "the business zone".to_string()
        };
        out.push_str(&format!(
            "timezone = {}{}# {zone_note}\n\n",
            q(zone),
            pad(width(zone) + 13)
        ));
        self.columns(out, d, key);
    }

    /// Column lines a batch stage needs beyond the profile's or the guessed
    /// mapping: the ledger's fee, the statement's merchant.
    fn batch_lines(&self, d: &SideDraft) -> Vec<String> {
        let Some(a) = self.batch else {
            return Vec::new();
        };
        let c = &d.plan.columns;
        let (role, column, why) = match (d.side, &a.fee, &a.merchant) {
            (Side::Ledger, Some(fee), _) => (
                "fee",
                fee.as_str(),
                "# the channel's fee per row: the batch nets it out",
            ),
            (Side::Ledger, None, _) => return Vec::new(),
            (Side::Bank, _, StatementMerchant::Column(m)) => (
                "merchant",
                m.as_str(),
                "# the credits' merchant, as the ledger writes it",
            ),
            (Side::Bank, _, StatementMerchant::Memo { column, .. }) => (
                "merchant",
                column.as_str(),
                "# the merchant extracted from the memo ([[bank.clean]] above)",
            ),
        };
        let mapped = if role == "fee" { &c.fee } else { &c.merchant };
        if mapped.as_deref() == Some(column) {
            return Vec::new();
        }
        vec![format!(
            "{role} = {}{}{why}\n",
            q(column),
            pad(width(column) + role.len() + 5)
        )]
    }

    fn columns(&self, out: &mut String, d: &SideDraft, key: Option<&str>) {
        let name = d.side.name();
        let c = &d.plan.columns;
        let extra = self.batch_lines(d);
        if d.side == Side::Bank {
            if let Some(BatchAdvice {
                merchant: StatementMerchant::Memo { column, pattern },
                ..
            }) = self.batch
            {
                out.push_str(&format!(
                    "[[bank.clean]]\ncolumn = {}\nextract = {}{}# the merchant number inside the memo, as the credits show it\n\n",
                    q(column),
                    toml::Value::String(pattern.clone()),
                    pad(width(pattern) + 12)
                ));
            }
        }
        let key_note = |k: &str| match self.keys.first() {
            Some(best) => format!(
                "# shares {} values with the {}'s {} (best of the {} candidate pair(s) below)",
                best.shared,
                d.side.other(),
                q(if d.side == Side::Ledger {
                    &best.bank
                } else {
                    &best.ledger
                }),
                self.keys.len()
            ),
            None => format!("# {k}"),
        };
        if d.profile.is_some() {
            let profile_key = c.key.as_deref();
            let line = match key {
                Some(k) if Some(k) != profile_key => {
                    Some(format!("key = {}{}{} (the profile's key is {})\n", q(k), pad(width(k) + 8), key_note(k), q(profile_key.unwrap_or(""))))
                }
                None if profile_key.is_some() => Some(format!(
                    "key = \"\"                            # no column shares values with the {}: no key (a key here would keep fallback matching from pairing rows)\n",
                    d.side.other()
                )),
                _ => None,
            };
            let lines: Vec<String> = line.into_iter().chain(extra).collect();
            if !lines.is_empty() {
                out.push_str(&format!("[{name}.columns]\n{}\n", lines.concat()));
            }
            return;
        }
        out.push_str(&format!(
            "[{name}.columns]\n# roles guessed from the header names (Chinese and English) and the values\n"
        ));
        let mut spec = c.to_spec();
        if d.side == Side::Bank && !extra.is_empty() {
            spec.merchant = None; // written with the batch's reason below
        }
        let how = |role: &str| match role {
            "type" => "# from the values: rows holding a refund word (退款, 冲正, refund, …) are refunds",
            "status" => {
                "# SUCCESS/交易成功 rows count, REFUND/退款成功 rows are refunds, closed ones are set aside"
            }
            "refund_amount" => "# a refund row's amount (its payment amount is 0.00 there)",
            _ if d.from_values.contains(&role) => "# from the values",
            _ => "# from the header name",
        };
        match key {
            Some(k) => out.push_str(&format!("key = {}{}{}\n", q(k), pad(width(k) + 8), key_note(k))),
            None => out.push_str(&format!(
                "# no key: no column shares values with the {}\n",
                d.side.other()
            )),
        }
        let roles: [(&str, &Option<String>, &str); 11] = [
            ("amount", &spec.amount, "amount"),
            ("direction", &spec.direction, "direction"),
            ("debit", &spec.debit, "amount"),
            ("credit", &spec.credit, "amount"),
            ("date", &spec.date, "time"),
            ("time", &spec.time, "time"),
            ("merchant", &spec.merchant, "merchant"),
            ("type", &spec.kind, "type"),
            ("currency", &spec.currency, "currency"),
            ("status", &spec.status, "status"),
            ("refund_amount", &spec.refund_amount, "refund_amount"),
        ];
        for (role, value, origin) in roles {
            if let Some(v) = value {
                out.push_str(&format!(
                    "{role} = {}{}{}\n",
                    q(v),
                    pad(width(v) + role.len() + 5),
                    how(origin)
                ));
            }
        }
        for line in &extra {
            out.push_str(line);
        }
        if let Some(f) = &spec.time_format {
            out.push_str(&format!(
                "time_format = {}{}# day or month first, as the values show\n",
                q(f),
                pad(width(f) + 16)
            ));
        }
        out.push('\n');
    }

    fn evidence(&self, out: &mut String) {
        out.push_str("# Key candidates (ledger column ↔ bank column: distinct values found in both):\n");
        if self.keys.is_empty() {
            out.push_str(
                "#   none: no column of mostly distinct values shares a value with the other file\n",
            );
        }
        for k in self.keys.iter().take(5) {
            out.push_str(&format!("#   {} ↔ {}: {}\n", k.ledger, k.bank, k.shared));
        }
        match self.zones.offsets {
            Some(o) => out.push_str(&format!(
                "# Time offset, bank minus ledger as written, over {} rows sharing a key (each once):\n#   median {}, 5th to 95th percentile {} to {}\n\n",
                o.pairs,
                span(o.median),
                span(o.min),
                span(o.max)
            )),
            None => out.push_str("# Time offset: not measured (no rows share a key and a time)\n\n"),
        }
    }

    fn stages(&self, out: &mut String) {
        out.push_str("# Stages run in order; each only sees rows no earlier stage matched.\n");
        if let Some(a) = self.batch {
            let net = if a.fee.is_some() {
                "net = [\"fee\"]                        # less the ledger's fee column\n"
            } else {
                "# no fee column: the credits are the gross sums (or set fee_rate = \"0.6%\")\n"
            };
            out.push_str(&format!(
                "# The statement pays in batches: {fits} of its {credits} credits are each the net of one\n\
                 # merchant's rows of a business day (payments less refunds{fees}), paid {days} day(s)\n\
                 # later; the ledger has {rows} rows. So one stage nets each merchant-day group and\n\
                 # matches it with the merchant's credit on its settlement day. With `recon run --date D`,\n\
                 # set [business] cutoff past the settlement day (\"T+{next} 00:00\") to judge missing\n\
                 # credits in D's own run; until then they wait (pending).\n\
                 [[stage]]\nname = \"settlement\"\nmatch = \"batch\"\n\
                 group_by = [\"merchant\"]               # one credit per merchant and business day\n\
                 settle = \"T+{days}\"                       # the lag most credits fit (calendar days)\n\
                 {net}tolerance = \"{TOLERANCE}\"\n",
                fits = a.fits,
                credits = a.credits,
                fees = if a.fee.is_some() { " less fees" } else { "" },
                days = a.settle_days,
                rows = a.rows,
                next = a.settle_days + 1,
            ));
            return;
        }
        if !self.keys.is_empty() {
            out.push_str(
                "[[stage]]\nname = \"order-id\"\nmatch = \"key\"                        # same key and direction, same amount\ntolerance = \"0.00\"\n\n\
                 [[stage]]\nname = \"split\"\nmatch = \"split\"                      # several rows of one key summing to the other side\ntolerance = \"0.00\"\n\n\
                 # If your channel keeps a fee, so that the bank row of a payment is a little\n\
                 # lower than the ledger's (amount_mismatch rows whose difference is about\n\
                 # the fee rate), uncomment a stage that accepts the fee as a difference:\n\
                 # [[stage]]\n# name = \"order-id-fee\"\n# match = \"key\"\n# tolerance = \"0.6%\"                # a share of the ledger amount\n\n",
            );
        }
        let (l, b) = (&self.ledger.plan.columns, &self.bank.plan.columns);
        if l.time == TimeColumns::None || b.time == TimeColumns::None {
            if self.keys.is_empty() {
                out.push_str("# no key and no time on both sides: only a key stage could match; add one when the files share an id\n[[stage]]\nname = \"order-id\"\nmatch = \"key\"\n");
            }
            return;
        }
        let merchants_shared = self.merchants_shared();
        let on = if merchants_shared {
            "[\"merchant\", \"amount\"]"
        } else {
            "[\"amount\"]"
        };
        let why = if merchants_shared {
            "# the merchant columns share values"
        } else {
            "# the merchant columns share no values, so amount and time only"
        };
        let (from, to) = self.zones.window();
        out.push_str(&format!(
            "[[stage]]\nname = \"amount-time\"\nmatch = \"fallback\"                   # for rows whose key is missing or differs\n\
             on = {on}{}{why}\nwindow = [\"{from}s\", \"{to}s\"]{}# bank time minus ledger time, covering the offsets seen\n\
             tolerance = \"0.00\"\nambiguous = {}\n",
            pad(width(on) + 5),
            pad(from.to_string().len() + to.to_string().len() + 16),
            if merchants_shared { "\"closest\"" } else { "\"unmatched\"                # equal candidates are left for a person" }
        ));
    }

    fn merchants_shared(&self) -> bool {
        let values = |d: &SideDraft| -> HashSet<String> {
            let Some(m) = &d.plan.columns.merchant else {
                return HashSet::new();
            };
            let Some(i) = d.located.table.header.iter().position(|h| h == m) else {
                return HashSet::new();
            };
            d.located
                .table
                .rows
                .iter()
                .map(|r| clean_field(r.fields.get(i).unwrap_or("")).to_string())
                .filter(|v| !is_placeholder(v))
                .collect()
        };
        !values(self.ledger).is_disjoint(&values(self.bank))
    }
}

/// Spaces that line a comment up at column 38, after `used` columns.
fn pad(used: usize) -> String {
    " ".repeat(38usize.saturating_sub(used).max(1))
}

/// Terminal columns of a text: CJK and full-width characters take two.
fn width(text: &str) -> usize {
    text.chars()
        .map(|c| {
            if ('\u{1100}'..='\u{ffef}').contains(&c) && !('\u{2000}'..='\u{303e}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}
