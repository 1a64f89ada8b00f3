//! Channel fees: the `[fees]` section (agreed rate, per-merchant rates,
//! rounding, tolerance) checked into a `FeePlan`, and the expected fee of a
//! row under it. A batch stage's `fee_rate` uses the same arithmetic.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};

use super::schema::FeeSpec;

/// How an expected fee is rounded, row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Half away from zero (0.005 → 0.01): what channels bill with.
    HalfUp,
    /// Half to the even neighbour (banker's rounding).
    HalfEven,
    /// Toward zero (truncate).
    Down,
    /// Away from zero.
    Up,
}

impl Rounding {
    fn parse(text: &str) -> Result<Rounding, String> {
        match text {
            "half_up" => Ok(Rounding::HalfUp),
            "half_even" => Ok(Rounding::HalfEven),
            "down" => Ok(Rounding::Down),
            "up" => Ok(Rounding::Up),
            other => Err(format!(
                "[fees] rounding = \"{other}\" is not a rounding rule (use \"half_up\", \"half_even\", \"down\" or \"up\")"
            )),
        }
    }

    fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::Down => RoundingStrategy::ToZero,
            Rounding::Up => RoundingStrategy::AwayFromZero,
        }
    }
}

/// A fee rate with its rounding: the fee of an amount, signed like it
/// (a refund returns its fee).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeRate {
    /// The rate in percent (`0.6` for `"0.6%"`).
    pub percent: Decimal,
    /// Rounding of each row's fee.
    pub rounding: Rounding,
    /// Decimal places the fee is rounded to.
    pub places: u32,
}

impl FeeRate {
    /// The fee on `amount`.
    pub fn fee(&self, amount: Decimal) -> Decimal {
        (amount * self.percent / Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(self.places, self.rounding.strategy())
    }
}

/// Parses a rate written `"0.6%"`.
pub fn percent(what: &str, text: &str) -> Result<Decimal, String> {
    let bad = || format!("{what}: \"{text}\" is not a rate (write it with a percent sign, e.g. \"0.6%\")");
    let number = text.trim().strip_suffix('%').ok_or_else(bad)?;
    let value = Decimal::from_str_exact(number.trim()).map_err(|_| bad())?;
    if value.is_sign_negative() || value > Decimal::ONE_HUNDRED {
        return Err(bad());
    }
    Ok(value)
}

/// The checked `[fees]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeePlan {
    /// The rate of every merchant without one of its own.
    pub rate: FeeRate,
    /// Rates agreed with single merchants.
    pub merchants: BTreeMap<String, FeeRate>,
    /// Rates of rows in a currency, by ISO code (`USD`).
    pub currencies: BTreeMap<String, FeeRate>,
    /// Largest difference between actual and expected fee that is not a variance.
    pub tolerance: Decimal,
}

impl FeePlan {
    /// Checks `[fees]`; an error names the key it is about.
    pub fn build(spec: &FeeSpec) -> Result<FeePlan, (&'static str, String)> {
        let rounding = match &spec.rounding {
            Some(r) => Rounding::parse(r).map_err(|e| ("rounding", e))?,
            None => Rounding::HalfUp,
        };
        let places = spec.places.unwrap_or(2);
        if places > 8 {
            return Err((
                "places",
                format!("[fees] places = {places}: at most 8 decimal places"),
            ));
        }
        let rate = |what: &str, text: &str| -> Result<FeeRate, String> {
            Ok(FeeRate {
                percent: percent(what, text)?,
                rounding,
                places,
            })
        };
        let base = rate("[fees] rate", &spec.rate).map_err(|e| ("rate", e))?;
        let merchants = spec
            .merchants
            .iter()
            .map(|(m, r)| Ok((m.clone(), rate(&format!("[fees.merchants] \"{m}\""), r)?)))
            .collect::<Result<_, String>>()
            .map_err(|e| ("merchants", e))?;
        let currencies = spec
            .currencies
            .iter()
            .map(|(c, r)| {
                let code = crate::input::amount::currency_code(c).ok_or_else(|| {
                    format!("[fees.currencies] \"{c}\" is not a currency code (write ISO 4217 codes such as USD or EUR)")
                })?;
                Ok((code.to_string(), rate(&format!("[fees.currencies] \"{c}\""), r)?))
            })
            .collect::<Result<_, String>>()
            .map_err(|e| ("currencies", e))?;
        let tolerance = match &spec.tolerance {
            Some(t) => Decimal::from_str_exact(t.trim())
                .ok()
                .filter(|v| !v.is_sign_negative())
                .ok_or_else(|| {
                    (
                        "tolerance",
                        format!("[fees] tolerance: \"{t}\" is not an amount (write it like \"0.01\")"),
                    )
                })?,
            None => Decimal::ZERO,
        };
        Ok(FeePlan {
            rate: base,
            merchants,
            currencies,
            tolerance,
        })
    }

    /// The rate of a row of `merchant` in `currency`: the merchant's own
    /// rate, else its currency's, else the agreed rate.
    pub fn rate_for(&self, merchant: &str, currency: &str) -> &FeeRate {
        self.merchants
            .get(merchant)
            .or_else(|| self.currencies.get(currency))
            .unwrap_or(&self.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(percent: &str, rounding: Rounding) -> FeeRate {
        FeeRate {
            percent: percent.parse().unwrap(),
            rounding,
            places: 2,
        }
    }

    #[test]
    fn fees_round_per_rule_and_keep_the_amount_sign() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        // 0.6% of 128.50 = 0.771; of 0.75 = 0.0045; of 12.50 = 0.075.
        assert_eq!(rate("0.6", Rounding::HalfUp).fee(d("128.50")), d("0.77"));
        assert_eq!(rate("0.6", Rounding::HalfUp).fee(d("12.50")), d("0.08"));
        // 0.5% of 17.00 = 0.085: the two half rules part.
        assert_eq!(rate("0.5", Rounding::HalfUp).fee(d("17.00")), d("0.09"));
        assert_eq!(rate("0.5", Rounding::HalfEven).fee(d("17.00")), d("0.08"));
        assert_eq!(rate("0.6", Rounding::Down).fee(d("12.50")), d("0.07"));
        assert_eq!(rate("0.6", Rounding::Up).fee(d("0.75")), d("0.01"));
        assert_eq!(rate("0.6", Rounding::HalfUp).fee(d("-200.00")), d("-1.20"));
    }

    #[test]
    fn rates_need_a_percent_sign() {
        assert_eq!(percent("r", "0.6%").unwrap(), "0.6".parse::<Decimal>().unwrap());
        assert!(percent("r", "0.006").is_err());
        assert!(percent("r", "-1%").is_err());
        assert!(percent("r", "101%").is_err());
    }
}
