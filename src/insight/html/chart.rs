//! One domain's days as an inline SVG chart: the DMARC, aligned DKIM and
//! aligned SPF pass rates as lines above, the messages stacked by
//! disposition as bars below, on one calendar axis.
//!
//! The axis runs over every calendar day from the first report to the last,
//! so a day without reports is a gap in the lines, not a silent join. There
//! is no script: each day's figures are in a `<title>` tooltip over the
//! whole height of its column. Colours come from the page's style sheet
//! (classes), so the chart follows it.

use super::text::{escape, short_day};
use crate::i18n::{FluentValue, Messages};
use crate::insight::share;
use crate::store::{Counts, DailyTotals};
use jiff::ToSpan;
use jiff::civil::Date;
use std::fmt::Write;

/// The SVG's coordinate space; it scales to the width of its box.
const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 352.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const LEGEND_Y: f64 = 14.0;
const RATES_TOP: f64 = 36.0;
const RATES_BOTTOM: f64 = 220.0;
const VOLUME_TOP: f64 = 258.0;
const VOLUME_BOTTOM: f64 = 320.0;
const DAY_LABELS_Y: f64 = 340.0;
/// At most this many dates under the axis, so they never overlap.
const MAX_DAY_LABELS: usize = 8;
/// Up to this many days each figure gets a dot; beyond, the lines suffice.
const MAX_DAYS_WITH_DOTS: i64 = 93;

/// A line of the chart: its CSS class, its legend's message, and its
/// count per day.
struct Line {
    class: &'static str,
    label: &'static str,
    passed: fn(&Counts) -> i64,
}

const LINES: [Line; 3] = [
    Line {
        class: "dmarc",
        label: "html-figure-dmarc",
        passed: |d| d.dmarc_pass,
    },
    Line {
        class: "dkim",
        label: "html-figure-dkim",
        passed: |d| d.dkim_aligned_pass,
    },
    Line {
        class: "spf",
        label: "html-figure-spf",
        passed: |d| d.spf_aligned_pass,
    },
];

/// The bars' parts, bottom up: (CSS class, legend's message).
const BARS: [(&str, &str); 3] = [
    ("none", "html-chart-delivered"),
    ("quarantine", "html-chart-quarantined"),
    ("reject", "html-chart-rejected"),
];

/// A reported day placed on the axis.
struct Day<'a> {
    /// Days since the first day on the axis.
    index: i64,
    date: Date,
    totals: &'a DailyTotals,
}

/// The chart for `days` (one domain's, in day order) of `domain`; empty
/// when no day can be read.
pub fn daily_chart(domain: &str, days: &[&DailyTotals], messages: &Messages) -> String {
    let dated: Vec<(Date, &DailyTotals)> = days
        .iter()
        .filter_map(|d| d.day.parse::<Date>().ok().map(|date| (date, *d)))
        .collect();
    let Some(&(first, _)) = dated.first() else {
        return String::new();
    };
    let days: Vec<Day<'_>> = dated
        .iter()
        .map(|(date, totals)| Day {
            index: first.until(*date).map_or(0, |span| span.get_days().into()),
            date: *date,
            totals,
        })
        .collect();
    let span = days.last().map_or(0, |d| d.index) + 1;
    let axis = Axis { span };
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         preserveAspectRatio=\"xMidYMid meet\"><title>{}</title>",
        messages.format(
            "html-chart-title",
            &[("domain", FluentValue::from(escape(domain)))]
        )
    );
    legend(&mut svg, messages);
    rate_grid(&mut svg);
    let most = days
        .iter()
        .map(|d| d.totals.counts.messages)
        .max()
        .unwrap_or(0);
    volume_bars(&mut svg, &axis, &days, most, messages);
    // DMARC last, on top: it is the line that matters and often runs
    // over one of the others.
    for line in LINES.iter().rev() {
        rate_line(&mut svg, &axis, &days, line);
    }
    day_labels(&mut svg, &axis, first, messages);
    tooltips(&mut svg, &axis, &days, messages);
    svg.push_str("</svg>");
    svg
}

/// The calendar axis: `span` days, each a column of equal width.
struct Axis {
    span: i64,
}

impl Axis {
    fn column(&self) -> f64 {
        (WIDTH - LEFT - RIGHT) / self.span as f64
    }

    /// The middle of day `index`'s column.
    fn x(&self, index: i64) -> f64 {
        LEFT + (index as f64 + 0.5) * self.column()
    }
}

fn rate_y(share: f64) -> f64 {
    RATES_BOTTOM - share * (RATES_BOTTOM - RATES_TOP)
}

/// Roughly how wide `label` is in the legend's 13px font: a wide (CJK)
/// character is the font size, a capital about two thirds of it, other
/// Latin letters half.
fn legend_width(label: &str) -> f64 {
    label
        .chars()
        .map(|c| match c {
            c if c > '\u{2E7F}' => 13.0,
            'A'..='Z' => 8.5,
            _ => 6.5,
        })
        .sum()
}

/// The legend's next x: `slot` on, as always in English, or more when the
/// label (after its `mark`, the line or the box) would run into the next
/// entry.
fn advance(x: f64, slot: f64, mark: f64, label: &str) -> f64 {
    x + slot.max(mark + legend_width(label) + 12.0)
}

fn legend(svg: &mut String, messages: &Messages) {
    let mut x = LEFT;
    for line in &LINES {
        let label = messages.text(line.label);
        let _ = write!(
            svg,
            "<line class=\"line {}\" x1=\"{x}\" y1=\"{LEGEND_Y}\" x2=\"{}\" y2=\"{LEGEND_Y}\"/>\
             <text class=\"legend\" x=\"{}\" y=\"{}\">{}</text>",
            line.class,
            x + 18.0,
            x + 24.0,
            LEGEND_Y + 4.0,
            label
        );
        x = advance(x, 132.0, 24.0, &label);
    }
    x += 24.0;
    for (class, id) in BARS {
        let label = messages.text(id);
        let _ = write!(
            svg,
            "<rect class=\"bar {class}\" x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\"/>\
             <text class=\"legend\" x=\"{}\" y=\"{}\">{label}</text>",
            LEGEND_Y - 6.0,
            x + 18.0,
            LEGEND_Y + 4.0,
        );
        x = advance(x, 112.0, 18.0, &label);
    }
}

fn rate_grid(svg: &mut String) {
    for tick in [0, 25, 50, 75, 100] {
        let y = rate_y(tick as f64 / 100.0);
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\"/>\
             <text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{tick}%</text>",
            WIDTH - RIGHT,
            LEFT - 8.0,
            y + 4.0
        );
    }
}

fn rate_line(svg: &mut String, axis: &Axis, days: &[Day<'_>], line: &Line) {
    let mut path = String::new();
    let mut previous: Option<i64> = None;
    for day in days {
        let command = if previous == Some(day.index - 1) {
            'L'
        } else {
            'M'
        };
        let y = rate_y(share(
            (line.passed)(&day.totals.counts),
            day.totals.counts.messages,
        ));
        let _ = write!(path, "{command}{:.1} {y:.1} ", axis.x(day.index));
        previous = Some(day.index);
    }
    let _ = write!(
        svg,
        "<path class=\"line {}\" d=\"{}\"/>",
        line.class,
        path.trim_end()
    );
    if axis.span <= MAX_DAYS_WITH_DOTS {
        for day in days {
            let y = rate_y(share(
                (line.passed)(&day.totals.counts),
                day.totals.counts.messages,
            ));
            let _ = write!(
                svg,
                "<circle class=\"dot {}\" cx=\"{:.1}\" cy=\"{y:.1}\" r=\"3\"/>",
                line.class,
                axis.x(day.index)
            );
        }
    }
}

fn volume_bars(svg: &mut String, axis: &Axis, days: &[Day<'_>], most: i64, messages: &Messages) {
    let _ = write!(
        svg,
        "<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{VOLUME_BOTTOM}\" x2=\"{}\" y2=\"{VOLUME_BOTTOM}\"/>\
         <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
         <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>",
        WIDTH - RIGHT,
        VOLUME_TOP - 8.0,
        messages.text("html-chart-messages-per-day"),
        WIDTH - RIGHT,
        LEFT - 8.0,
        VOLUME_TOP + 4.0,
        messages.count(most),
        LEFT - 8.0,
        VOLUME_BOTTOM + 4.0,
    );
    if most <= 0 {
        return;
    }
    let scale = (VOLUME_BOTTOM - VOLUME_TOP) / most as f64;
    let width = (axis.column() * 0.7).clamp(1.0, 28.0);
    for day in days {
        let t = day.totals;
        let parts = [
            t.counts.messages - t.counts.quarantined - t.counts.rejected,
            t.counts.quarantined,
            t.counts.rejected,
        ];
        let mut bottom = VOLUME_BOTTOM;
        for ((class, _), messages) in BARS.iter().zip(parts) {
            if messages <= 0 {
                continue;
            }
            let height = messages as f64 * scale;
            let _ = write!(
                svg,
                "<rect class=\"bar {class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{height:.1}\"/>",
                axis.x(day.index) - width / 2.0,
                bottom - height
            );
            bottom -= height;
        }
    }
}

fn day_labels(svg: &mut String, axis: &Axis, first: Date, messages: &Messages) {
    let step = (axis.span as usize).div_ceil(MAX_DAY_LABELS).max(1);
    for index in (0..axis.span).step_by(step) {
        let Ok(date) = first.checked_add(index.days()) else {
            break;
        };
        let x = axis.x(index);
        let _ = write!(
            svg,
            "<line class=\"axis\" x1=\"{x:.1}\" y1=\"{VOLUME_BOTTOM}\" x2=\"{x:.1}\" y2=\"{}\"/>\
             <text class=\"tick\" x=\"{x:.1}\" y=\"{DAY_LABELS_Y}\" text-anchor=\"middle\">{}</text>",
            VOLUME_BOTTOM + 4.0,
            short_day(date, messages.lang())
        );
    }
}

/// A transparent column per reported day, over both panels, whose
/// `<title>` the browser shows on hover.
fn tooltips(svg: &mut String, axis: &Axis, days: &[Day<'_>], messages: &Messages) {
    let column = axis.column();
    for day in days {
        let t = day.totals;
        let mut title = messages.format(
            "html-chart-tip-day",
            &[
                ("day", FluentValue::from(messages.day(midnight(day.date)))),
                ("messages", FluentValue::from(t.counts.messages)),
            ],
        );
        for line in &LINES {
            let _ = write!(
                title,
                "\n{} {}",
                messages.text(line.label),
                messages.percent(share((line.passed)(&t.counts), t.counts.messages))
            );
        }
        let _ = write!(
            title,
            "\n{}",
            messages.format(
                "html-chart-tip-dispositions",
                &[
                    ("quarantined", FluentValue::from(t.counts.quarantined)),
                    ("rejected", FluentValue::from(t.counts.rejected)),
                ],
            )
        );
        let _ = write!(
            svg,
            "<rect class=\"hit\" x=\"{:.1}\" y=\"{RATES_TOP}\" width=\"{column:.1}\" height=\"{}\">\
             <title>{title}</title></rect>",
            axis.x(day.index) - column / 2.0,
            VOLUME_BOTTOM - RATES_TOP
        );
    }
}

/// The first second of `date`, UTC, for [`Messages::day`].
fn midnight(date: Date) -> i64 {
    jiff::tz::TimeZone::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .map_or(0, |instant| instant.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn english() -> Messages {
        Messages::new(Lang::En)
    }

    fn day(day: &str, messages: i64, dmarc_pass: i64) -> DailyTotals {
        DailyTotals {
            policy_domain: "example.com".into(),
            day: day.into(),
            counts: Counts {
                messages,
                dmarc_pass,
                dkim_aligned_pass: dmarc_pass,
                spf_aligned_pass: 0,
                quarantined: 0,
                rejected: messages - dmarc_pass,
            },
        }
    }

    #[test]
    fn a_missing_day_breaks_the_lines() {
        let days = [
            day("2026-11-01", 10, 10),
            day("2026-11-02", 10, 5),
            day("2026-11-04", 10, 0),
        ];
        let refs: Vec<&DailyTotals> = days.iter().collect();
        let svg = daily_chart("example.com", &refs, &english());
        let dmarc = svg
            .split("<path class=\"line dmarc\" d=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        assert_eq!(dmarc.matches('M').count(), 2, "{dmarc}");
        assert_eq!(dmarc.matches('L').count(), 1, "{dmarc}");
        // Four calendar days, three reported: three tooltips.
        assert_eq!(svg.matches("class=\"hit\"").count(), 3);
        assert!(
            svg.contains("2026-11-02: 10 messages\nDMARC pass 50.0%"),
            "{svg}"
        );
    }

    #[test]
    fn one_day_is_a_centred_point() {
        let only = day("2026-11-01", 3, 3);
        let svg = daily_chart("example.com", &[&only], &english());
        let middle = LEFT + (WIDTH - LEFT - RIGHT) / 2.0;
        assert!(svg.contains(&format!("cx=\"{middle:.1}\"")), "{svg}");
        assert!(svg.contains(">Nov 1</text>"));
    }

    #[test]
    fn the_legend_keeps_its_places_in_english_and_makes_room_in_japanese() {
        let only = day("2026-11-01", 3, 3);
        let english = daily_chart("example.com", &[&only], &english());
        let legends = |svg: &str| -> Vec<f64> {
            svg.split("<text class=\"legend\" x=\"")
                .skip(1)
                .map(|rest| rest.split('"').next().unwrap().parse().unwrap())
                .collect()
        };
        assert_eq!(legends(&english), [80.0, 212.0, 344.0, 494.0, 606.0, 718.0]);
        let japanese = Messages::new(Lang::Ja);
        let svg = daily_chart("example.com", &[&only], &japanese);
        let x = legends(&svg);
        // "DMARC認証に成功": 5 capitals and 5 wide characters after x=80.
        assert!(x[1] - x[0] >= 5.0 * 8.5 + 5.0 * 13.0, "{x:?}");
        assert!(svg.contains(">11月1日</text>"), "{svg}");
    }

    #[test]
    fn a_long_period_has_few_labels() {
        let days: Vec<DailyTotals> = (1..=28)
            .flat_map(|d| [format!("2026-10-{d:02}"), format!("2026-11-{d:02}")])
            .map(|d| day(&d, 5, 5))
            .collect();
        let mut refs: Vec<&DailyTotals> = days.iter().collect();
        refs.sort_by(|a, b| a.day.cmp(&b.day));
        let svg = daily_chart("example.com", &refs, &english());
        let labels = svg.matches("text-anchor=\"middle\"").count();
        assert!((2..=MAX_DAY_LABELS).contains(&labels), "{labels} labels");
    }
}
