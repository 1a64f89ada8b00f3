//! Amount parsing: never panics, and every amount it accepts reads back as
//! the same decimal from its plain text (nothing invented by the clean-up).
#![no_main]

use libfuzzer_sys::fuzz_target;
use recon::input::amount::{parse_amount, parse_optional_amount};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for limit in [None, Some(2)] {
        if let Ok(value) = parse_amount(text, limit) {
            let again = parse_amount(&value.to_string(), limit).expect("a parsed amount's text parses");
            assert_eq!(again, value, "{text:?}");
            assert_eq!(again.scale(), value.scale(), "{text:?}");
            if let Some(places) = limit {
                assert!(
                    value.scale() <= places,
                    "{text:?} has more than {places} decimals"
                );
            }
        }
        let _ = parse_optional_amount(text, limit);
    }
});
