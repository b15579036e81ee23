//! Numbers, shares and dates as each language writes them.
//!
//! The patterns are CLDR's for the two languages we ship, which agree on
//! numbers: digits grouped in threes with `,`, a `.` before decimals and
//! `%` straight after (`12,345`, `97.3%`). Dates differ: English output
//! keeps ISO 8601 (`2026-11-01`), which every English reader and script
//! reads alike; Japanese writes `2026年11月1日`, CLDR's long date for `ja`.
//! Two fixed patterns do not justify ICU4X's data in the binary.

use super::{Lang, Messages};
use fluent_bundle::FluentValue;
use fluent_bundle::memoizer::MemoizerKind;

impl Messages {
    /// A count for people: `12,345`.
    pub fn count(&self, n: i64) -> String {
        group_thousands(n)
    }

    /// A share (0.973) as a percentage for people: `97.3%`.
    pub fn percent(&self, share: f64) -> String {
        format!("{:.1}%", share * 100.0)
    }

    /// The UTC day of `seconds`: `2026-11-01`, `2026年11月1日`. Seconds
    /// no calendar holds (a report may say anything) are shown as they
    /// are, never as some other day.
    pub fn day(&self, seconds: i64) -> String {
        let Ok(instant) = jiff::Timestamp::from_second(seconds) else {
            return seconds.to_string();
        };
        let date = jiff::tz::TimeZone::UTC.to_datetime(instant).date();
        match self.lang {
            Lang::En => date.to_string(),
            Lang::Ja => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
        }
    }
}

/// `n` with its thousands grouped: `-1,234,567`.
pub fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The bundles' formatter: a whole number given to a message as a number
/// (so that it can also choose the plural) is shown grouped, `12,345`,
/// which fluent-bundle alone does not do. Anything else is left to it.
pub(super) fn format_value<M: MemoizerKind>(value: &FluentValue, _: &M) -> Option<String> {
    match value {
        FluentValue::Number(number)
            if number.value.fract() == 0.0
                && number.value.abs() < 9.0e15
                && number.options.minimum_fraction_digits.is_none() =>
        {
            Some(group_thousands(number.value as i64))
        }
        _ => None,
    }
}
