//! The date and time flows may use: today's date and the current instant, in UTC.
//!
//! Scripts get `today()` (`YYYY-MM-DD`) and `now()` (RFC 3339, whole seconds, `Z`), profiles
//! `${today}`. A run may fix the date with `--var today=YYYY-MM-DD` (a batch that must issue
//! every card with one date, a test); [`Date::parse`] checks such an override. There is no
//! time-zone option: the date is the UTC date, as on a card read in another time zone.
//!
//! This module reads the system clock and converts days to calendar dates (the proleptic
//! Gregorian calendar, years 0000-9999); it does not format anything but these two forms.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar date (proleptic Gregorian), years 0000-9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year, 0-9999.
    pub year: u16,
    /// Month, 1-12.
    pub month: u8,
    /// Day of the month, 1-31.
    pub day: u8,
}

/// Days from 1970-01-01 to `year-month-day` (H. Hinnant's days-from-civil algorithm).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of a day count from 1970-01-01 (the inverse of `days_from_civil`).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl Date {
    /// Parses `YYYY-MM-DD` (four, two and two digits) and checks that the day exists.
    pub fn parse(text: &str) -> Result<Date, String> {
        let bytes = text.as_bytes();
        let shape = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape {
            return Err(format!("`{text}` is not a date: expected YYYY-MM-DD"));
        }
        let number = |range: std::ops::Range<usize>| {
            text[range]
                .bytes()
                .fold(0i64, |n, b| n * 10 + i64::from(b - b'0'))
        };
        let (year, month, day) = (number(0..4), number(5..7), number(8..10));
        let days = days_from_civil(year, month, day);
        if !(1..=12).contains(&month) || civil_from_days(days) != (year, month, day) {
            return Err(format!("`{text}` is not a date: no such day"));
        }
        Ok(Date::from_unix_days(days))
    }

    /// The date `days` days after 1970-01-01 (clamped to years 0000-9999).
    pub fn from_unix_days(days: i64) -> Date {
        let days = days.clamp(days_from_civil(0, 1, 1), days_from_civil(9999, 12, 31));
        let (year, month, day) = civil_from_days(days);
        // In range by the clamp above.
        Date {
            year: u16::try_from(year).unwrap_or(0),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }

    /// The date as four BCD bytes, `YYYY MM DD` → `20 26 03 14` (what `${today}` sends).
    pub fn bcd(&self) -> [u8; 4] {
        let bcd = |n: u16| ((n / 10 % 10) as u8) << 4 | (n % 10) as u8;
        [
            bcd(self.year / 100),
            bcd(self.year % 100),
            bcd(u16::from(self.month)),
            bcd(u16::from(self.day)),
        ]
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Seconds since 1970-01-01T00:00:00Z by the system clock (0 for a clock set before it).
fn unix_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Today's date in UTC.
pub fn today() -> Date {
    Date::from_unix_days(unix_seconds().div_euclid(86_400))
}

/// The current instant in UTC as RFC 3339 with whole seconds: `2026-03-14T09:26:53Z`.
pub fn now() -> String {
    format_instant(unix_seconds())
}

/// RFC 3339 (UTC, whole seconds) of a Unix time.
fn format_instant(seconds: i64) -> String {
    let date = Date::from_unix_days(seconds.div_euclid(86_400));
    let second_of_day = seconds.rem_euclid(86_400);
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dates_parse_format_and_convert() {
        let date = Date::parse("2026-03-14").unwrap();
        assert_eq!(date.to_string(), "2026-03-14");
        assert_eq!(date.bcd(), [0x20, 0x26, 0x03, 0x14]);
        assert_eq!(Date::parse("2024-02-29").unwrap().day, 29);
        for bad in ["2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31"] {
            assert!(
                Date::parse(bad).unwrap_err().contains("no such day"),
                "{bad}"
            );
        }
        for bad in [
            "2026-3-14",
            "14.03.2026",
            "",
            "2026-03-14Z",
            "２０２６-03-14",
            "+026-03-14",
        ] {
            assert!(
                Date::parse(bad).unwrap_err().contains("YYYY-MM-DD"),
                "{bad}"
            );
        }
        assert_eq!(format_instant(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_instant(1_773_480_413), "2026-03-14T09:26:53Z");
        assert_eq!(format_instant(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn today_and_now_follow_the_system_clock() {
        let before = unix_seconds();
        let (date, instant) = (today(), now());
        let after = unix_seconds();
        let dates = [before, after].map(|s| Date::from_unix_days(s.div_euclid(86_400)));
        assert!(dates.contains(&date), "{date} {dates:?}");
        // Fixed-width text: string order is time order.
        assert!(
            format_instant(before) <= instant && instant <= format_instant(after),
            "{instant}"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(text in ".{0,12}") {
            if let Ok(date) = Date::parse(&text) {
                prop_assert_eq!(date.to_string(), text);
            }
        }

        #[test]
        fn days_round_trip(days in -719_528i64..2_932_896) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
            let date = Date::from_unix_days(days);
            prop_assert_eq!(Date::parse(&date.to_string()), Ok(date));
        }
    }
}
