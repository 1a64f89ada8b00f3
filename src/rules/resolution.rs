//! `[resolution]` in a rule file: the reason codes an accepted exception may
//! be given (`recon resolve --accept ITEM --reason CODE`), each with the
//! label reports show, and the four-eyes rule.
//!
//! ```toml
//! [resolution]
//! reasons = { bank_fee = "银行手续费", interest = "利息", write_off = "核销" }
//! four_eyes = true        # who ran a day may not confirm or resolve its items
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

/// `[resolution]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolutionSpec {
    /// Reason code → label.
    #[serde(default)]
    pub reasons: BTreeMap<String, String>,
    /// The user who ran a day may not confirm or resolve that day's items.
    #[serde(default)]
    pub four_eyes: bool,
}

/// `[resolution]`, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolutionPlan {
    /// Reason code → label, by code.
    pub reasons: BTreeMap<String, String>,
    /// The user who ran a day may not confirm or resolve that day's items.
    pub four_eyes: bool,
}

/// Checks `[resolution]`; the error names the offending code.
pub fn build(spec: &ResolutionSpec) -> Result<ResolutionPlan, String> {
    for (code, label) in &spec.reasons {
        let well_formed = !code.is_empty()
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !well_formed {
            return Err(format!(
                "[resolution] reasons: \"{code}\" is not a reason code: use lowercase letters, digits, _ and - (e.g. bank_fee), and put the words in the label"
            ));
        }
        if label.trim().is_empty() {
            return Err(format!(
                "[resolution] reasons: {code} has an empty label: say what the code means, e.g. {code} = \"银行手续费\""
            ));
        }
    }
    Ok(ResolutionPlan {
        reasons: spec.reasons.clone(),
        four_eyes: spec.four_eyes,
    })
}
