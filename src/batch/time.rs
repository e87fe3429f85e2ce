//! Wall-clock timestamps as RFC 3339 UTC text, for journal records, reports and traces.
//!
//! Written out here rather than pulling in a date crate: the only need is formatting
//! `SystemTime` as `2026-11-22T06:20:01.123456Z` (the calendar is `crate::clock`'s). No
//! parsing, no time zones.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::clock::Date;

/// An RFC 3339 UTC timestamp with microseconds.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let date = Date::from_unix_days(days);
    format!(
        "{date}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_micros()
    )
}

/// The current time, as [`rfc3339`].
pub fn now() -> String {
    rfc3339(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let t = UNIX_EPOCH + Duration::from_micros(1_795_328_401_123_456);
        assert_eq!(rfc3339(t), "2026-11-22T06:20:01.123456Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000000Z");
    }
}
