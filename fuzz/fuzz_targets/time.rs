//! Time parsing: never panics; an accepted time written back in ISO-8601
//! with its offset reads as the same instant, whatever the source's zone.
//! A NUL byte splits the input into a `time_format` pattern and a value,
//! as a rule file's `time_format` would be used.
#![no_main]

use chrono_tz::Tz;
use libfuzzer_sys::fuzz_target;
use recon::input::time::{format_in_zone, parse_date_time, parse_time, TimeLayout};

const ZONES: [Tz; 4] = [
    chrono_tz::Asia::Shanghai,
    chrono_tz::UTC,
    chrono_tz::America::New_York,
    chrono_tz::Australia::Lord_Howe,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let zone = ZONES[data.len() % ZONES.len()];
    if let Some((format, value)) = text.split_once('\0') {
        let layout = TimeLayout::Format(format.to_string());
        let _ = parse_time(value, &layout, zone);
        if let Some((date, clock)) = value.split_once(' ') {
            let _ = parse_date_time(date, clock, &layout, zone);
        }
        return;
    }
    if let Ok(instant) = parse_time(text, &TimeLayout::Auto, zone) {
        let written = format_in_zone(instant, zone);
        let again = parse_time(&written, &TimeLayout::Auto, zone).expect("written time parses");
        assert_eq!(again, instant, "{text:?} written as {written:?}");
    }
    if let Some((date, clock)) = text.split_once(' ') {
        let _ = parse_date_time(date, clock, &TimeLayout::Auto, zone);
    }
});
