//! Strings made safe for HTML, and dates made readable.
//!
//! Every string that comes from the store goes through [`escape`] before it
//! reaches the page: reports are written by strangers, and a policy domain,
//! a source IP or a DKIM selector can hold markup.

use crate::i18n::Lang;
use jiff::civil::Date;

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by entities, so it is
/// inert both as element content and inside a quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Nov 3`, `11月3日`: a day on a chart axis, where the year is in the
/// page header.
pub fn short_day(date: Date, lang: Lang) -> String {
    match lang {
        Lang::En => {
            let month = MONTHS[(date.month() - 1) as usize];
            format!("{month} {}", date.day())
        }
        Lang::Ja => format!("{}月{}日", date.month(), date.day()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_become_entities() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("example.com"), "example.com");
    }

    #[test]
    fn short_days_name_the_month() {
        let date = jiff::civil::date(2026, 11, 3);
        assert_eq!(short_day(date, Lang::En), "Nov 3");
        assert_eq!(short_day(date, Lang::Ja), "11月3日");
    }
}
