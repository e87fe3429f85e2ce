//! Reading back the timestamps the batch writes (`2026-11-22T06:20:01.123456Z`, see
//! `batch::time`) as microseconds since 1970, and writing them as short UTC text.
//!
//! Only UTC is accepted (`Z` or `+00:00`), with 0 to 9 fraction digits: that is what this
//! tool writes and what a ledger export holds. Anything else is `None` — the caller says
//! which line. No time zones, no leap seconds.

/// Microseconds since 1970-01-01T00:00:00Z of an RFC 3339 UTC timestamp, or `None`.
pub fn parse_micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &b[19..];
    let mut micros = 0i64;
    if let [b'.', tail @ ..] = rest {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        for (i, c) in tail[..n].iter().enumerate() {
            if i < 6 {
                micros = micros * 10 + i64::from(c - b'0');
            }
        }
        for _ in n..6 {
            micros *= 10;
        }
        rest = &tail[n..];
    }
    if !matches!(rest, b"Z" | b"z" | b"+00:00") {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(seconds * 1_000_000 + micros)
}

/// `2026-11-22 06:20` (UTC) for microseconds since 1970.
pub fn minute_text(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let (days, rem) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
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

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
    })
}

fn leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
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
