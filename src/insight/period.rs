//! `--since` and `--until`: a date, a timestamp, or a duration back from now.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// A `--since` or `--until` value that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "{value:?} is neither a date (2026-11-30), a UTC timestamp (2026-11-30T12:00:00Z) \
     nor a duration back from now (30d, 12h, 2w)"
)]
pub struct PeriodError {
    pub value: String,
}

/// Which end of the period a value gives: a bare date means the start of
/// that day for `--since` and the end of it for `--until`, so
/// `--since 2026-11-01 --until 2026-11-30` is all of November.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Since,
    Until,
}

/// Reads `value` as unix seconds, relative to `now`.
pub fn parse_instant(value: &str, end: End, now: Timestamp) -> Result<i64, PeriodError> {
    let error = || PeriodError {
        value: value.to_owned(),
    };
    let text = value.trim();
    if let Ok(date) = text.parse::<Date>() {
        let day = match end {
            End::Since => date,
            End::Until => date.tomorrow().map_err(|_| error())?,
        };
        let start = TimeZone::UTC
            .to_timestamp(day.to_datetime(Time::midnight()))
            .map_err(|_| error())?;
        return Ok(start.as_second());
    }
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Ok(timestamp.as_second());
    }
    let seconds = duration_seconds(text).ok_or_else(error)?;
    let back = now.checked_sub(seconds.seconds()).map_err(|_| error())?;
    Ok(back.as_second())
}

/// `30d`, `12h`, `2w`, `90m` as seconds.
fn duration_seconds(text: &str) -> Option<i64> {
    let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(unit_at);
    let number: i64 = number.parse().ok()?;
    let unit_seconds = match unit {
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    number.checked_mul(unit_seconds)
}

/// Unix seconds as an RFC 3339 UTC timestamp, as the JSON output writes them.
pub fn rfc3339(seconds: i64) -> String {
    Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| seconds.to_string())
}

/// Unix seconds as a UTC date.
pub fn day(seconds: i64) -> String {
    Timestamp::from_second(seconds)
        .map(|t| TimeZone::UTC.to_datetime(t).date().to_string())
        .unwrap_or_else(|_| seconds.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-03T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_date_is_the_start_or_the_end_of_that_day() {
        let since = parse_instant("2026-11-01", End::Since, now()).unwrap();
        let until = parse_instant("2026-11-30", End::Until, now()).unwrap();
        assert_eq!(rfc3339(since), "2026-11-01T00:00:00Z");
        assert_eq!(rfc3339(until), "2026-12-01T00:00:00Z");
    }

    #[test]
    fn a_duration_counts_back_from_now() {
        let since = parse_instant("30d", End::Since, now()).unwrap();
        assert_eq!(rfc3339(since), "2026-11-03T10:00:00Z");
        let since = parse_instant("12h", End::Since, now()).unwrap();
        assert_eq!(rfc3339(since), "2026-12-02T22:00:00Z");
    }

    #[test]
    fn a_timestamp_is_taken_as_is() {
        let at = parse_instant("2026-11-05T06:07:08Z", End::Until, now()).unwrap();
        assert_eq!(rfc3339(at), "2026-11-05T06:07:08Z");
    }

    #[test]
    fn nonsense_is_an_error_that_quotes_it() {
        let error = parse_instant("last tuesday", End::Since, now()).unwrap_err();
        assert!(error.to_string().contains("\"last tuesday\""), "{error}");
        assert!(parse_instant("30y", End::Since, now()).is_err());
    }
}
