//! Times on the lot page: the batch's timestamps read back (`batch::time::parse_micros`,
//! re-exported here) and written as short UTC text. The calendar is `clock`'s. No time
//! zones, no leap seconds.

pub use crate::batch::time::parse_micros;

/// `2026-11-22 06:20` (UTC) for microseconds since 1970.
pub fn minute_text(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let (days, rem) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = crate::clock::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// `2026-11-22 06:20:01` (UTC) for microseconds since 1970.
pub fn second_text(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000).rem_euclid(60);
    format!("{}:{seconds:02}", minute_text(micros))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn reads_what_the_batch_writes() {
        let when = UNIX_EPOCH + Duration::from_micros(1_795_846_801_123_456);
        let text = crate::batch::time::rfc3339(when);
        assert_eq!(parse_micros(&text), Some(1_795_846_801_123_456));
        assert_eq!(parse_micros("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_micros("2000-02-29T12:00:00.5+00:00"),
            Some(951_825_600_500_000)
        );
        assert_eq!(minute_text(951_825_600_500_000), "2000-02-29 12:00");
        assert_eq!(second_text(951_825_601_500_000), "2000-02-29 12:00:01");
    }

    #[test]
    fn refuses_what_is_not_utc_rfc3339() {
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T06:20:01",
            "2026-11-22T06:20:01+01:00",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T06:20:01.Z",
            "2026-11-22T06:20:01.1234567890Z",
            "２026-11-22T06:20:01Z",
        ] {
            assert_eq!(parse_micros(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,40}") {
            let _ = parse_micros(&text);
        }

        #[test]
        fn round_trips_any_time(micros in 0i64..4_102_444_800_000_000) {
            let when = UNIX_EPOCH + Duration::from_micros(micros as u64);
            prop_assert_eq!(parse_micros(&crate::batch::time::rfc3339(when)), Some(micros));
        }
    }
}
