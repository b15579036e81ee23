//! The text forms of `summary`, `sources` and `policy`: tables that fit an
//! 80-column terminal, CSV with one row per item, and JSON documents.
//!
//! The JSON documents are an interface (scripts and dashboards read them):
//! their fields are documented in README and only ever added to.

use super::period::{day, rfc3339};
use super::policy::Readiness;
use super::sources::Source;
use super::summary::DomainSummary;
use super::{Figures, ScopeJson, count, percent, plural};
use serde::Serialize;

/// Width of the terminal the tables are made for.
pub const WIDTH: usize = 80;

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// The JSON document of a command: `{"generated_at", "scope", <key>: items}`.
pub fn json<T: Serialize>(key: &str, items: &T, scope: ScopeJson, now: i64) -> String {
    let mut document = serde_json::Map::new();
    document.insert("generated_at".into(), rfc3339(now).into());
    document.insert(
        "scope".into(),
        serde_json::to_value(scope).expect("the scope serialises"),
    );
    document.insert(
        key.into(),
        serde_json::to_value(items).expect("the items serialise"),
    );
    let mut text = serde_json::to_string_pretty(&document).expect("the document serialises");
    text.push('\n');
    text
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// A column: its title, alignment, and whether it may be cut to fit.
struct Column {
    title: &'static str,
    align: Align,
    /// Narrowest it may be cut to; `None`: never cut.
    cut_to: Option<usize>,
}

const fn left(title: &'static str) -> Column {
    Column {
        title,
        align: Align::Left,
        cut_to: None,
    }
}

const fn right(title: &'static str) -> Column {
    Column {
        title,
        align: Align::Right,
        cut_to: None,
    }
}

const fn flexible(title: &'static str, cut_to: usize) -> Column {
    Column {
        title,
        align: Align::Left,
        cut_to: Some(cut_to),
    }
}

/// Lays out rows under `columns` in at most `indent + WIDTH` columns,
/// cutting the flexible columns (with `…`) when the rows are too wide.
fn table(columns: &[Column], rows: &[Vec<String>], indent: usize) -> String {
    let gap = 2;
    let mut widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([c.title.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let total = |widths: &[usize]| indent + widths.iter().sum::<usize>() + gap * (widths.len() - 1);
    while total(&widths) > WIDTH {
        let widest_cuttable = columns
            .iter()
            .enumerate()
            .filter(|(i, c)| c.cut_to.is_some_and(|min| widths[*i] > min))
            .max_by_key(|(i, _)| widths[*i]);
        match widest_cuttable {
            Some((i, _)) => widths[i] -= 1,
            None => break,
        }
    }
    let mut out = String::new();
    let titles: Vec<String> = columns.iter().map(|c| c.title.to_owned()).collect();
    for row in std::iter::once(&titles).chain(rows) {
        let mut line = " ".repeat(indent);
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str(&" ".repeat(gap));
            }
            let cell = fit(cell, widths[i]);
            let pad = " ".repeat(widths[i] - cell.chars().count());
            match columns[i].align {
                Align::Left => {
                    line.push_str(&cell);
                    line.push_str(&pad);
                }
                Align::Right => {
                    line.push_str(&pad);
                    line.push_str(&cell);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `text` cut to `width` characters, the last one `…` when cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `text` wrapped at word boundaries to `WIDTH`, each line indented.
pub fn wrap(text: &str, indent: usize) -> String {
    wrap_hanging(text, indent, indent)
}

/// `text` wrapped at word boundaries to `WIDTH`: the first line indented
/// by `first`, the others by `rest`.
fn wrap_hanging(text: &str, first: usize, rest: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    let mut indent = first;
    for word in text.split_whitespace() {
        if !line.is_empty() && indent + line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&" ".repeat(indent));
            out.push_str(&line);
            out.push('\n');
            line.clear();
            indent = rest;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&" ".repeat(indent));
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// A DMARC record under a label, on lines of its own so that it can be
/// copied; a record too long for one line breaks between tags.
fn record(label: &str, record: &str) -> String {
    let mut out = format!("  {label}\n");
    let mut line = String::new();
    for tag in record.split("; ") {
        if !line.is_empty() && 4 + line.len() + 2 + tag.len() > WIDTH {
            out.push_str(&format!("    {line};\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push_str("; ");
        }
        line.push_str(tag);
    }
    out.push_str(&format!("    {line}\n"));
    out
}

fn nothing(out: &mut String) {
    out.push_str("No reports in the period asked for.\n");
}

/// `summary` as a table.
pub fn summary_table(domains: &[DomainSummary]) -> String {
    let mut out = String::new();
    if domains.is_empty() {
        nothing(&mut out);
        return out;
    }
    let columns = [
        flexible("DOMAIN", 12),
        right("MESSAGES"),
        right("DMARC"),
        right("DKIM"),
        right("SPF"),
        right("QUAR"),
        right("REJECT"),
        right("ORGS"),
        left("POLICY"),
    ];
    let rows: Vec<Vec<String>> = domains
        .iter()
        .map(|d| {
            // The whole record, pct included, is in the line under the table.
            let policy = d
                .policy
                .as_ref()
                .and_then(|p| p.p.clone())
                .unwrap_or_else(|| "?".into());
            vec![
                d.policy_domain.clone(),
                count(d.figures.messages),
                percent(d.figures.dmarc_pass_share),
                percent(d.figures.dkim_aligned_share),
                percent(d.figures.spf_aligned_share),
                count(d.figures.dispositions.quarantine),
                count(d.figures.dispositions.reject),
                d.reporters.to_string(),
                policy,
            ]
        })
        .collect();
    out.push_str(&table(&columns, &rows, 0));
    out.push('\n');
    for d in domains {
        let policy = d
            .policy
            .as_ref()
            .map_or("no policy seen".to_owned(), |p| p.record.clone());
        out.push_str(&wrap(
            &format!(
                "{}: {} reports, {} to {}; published: {policy}",
                d.policy_domain,
                d.reports,
                day(parse_seconds(&d.period.begin)),
                day(parse_seconds(&d.period.end) - 1),
            ),
            0,
        ));
    }
    out
}

/// Unix seconds back from the RFC 3339 form the summaries carry.
fn parse_seconds(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .unwrap_or(0)
}

/// `sources` as a table per domain, each source followed by its diagnosis.
/// `limit`: sources shown per domain (0: all).
pub fn sources_table(sources: &[Source], limit: usize) -> String {
    let mut out = String::new();
    if sources.is_empty() {
        nothing(&mut out);
        return out;
    }
    let columns = [
        flexible("SOURCE", 15),
        flexible("NAME", 8),
        right("MESSAGES"),
        right("DMARC"),
        right("DKIM"),
        right("SPF"),
    ];
    let mut domains: Vec<&str> = Vec::new();
    for s in sources {
        if !domains.contains(&s.policy_domain.as_str()) {
            domains.push(&s.policy_domain);
        }
    }
    for (n, domain) in domains.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let all: Vec<&Source> = sources
            .iter()
            .filter(|s| s.policy_domain == *domain)
            .collect();
        let shown = if limit == 0 {
            &all[..]
        } else {
            &all[..all.len().min(limit)]
        };
        out.push_str(&format!("{domain}\n"));
        let rows: Vec<Vec<String>> = shown
            .iter()
            .map(|s| {
                vec![
                    s.source_ip.clone(),
                    s.name.clone().unwrap_or_else(|| "-".into()),
                    count(s.figures.messages),
                    percent(s.figures.dmarc_pass_share),
                    percent(s.figures.dkim_aligned_share),
                    percent(s.figures.spf_aligned_share),
                ]
            })
            .collect();
        let text = table(&columns, &rows, 2);
        let mut lines = text.lines();
        if let Some(header) = lines.next() {
            out.push_str(header);
            out.push('\n');
        }
        for (line, source) in lines.zip(shown) {
            out.push_str(line);
            out.push('\n');
            out.push_str(&wrap(
                &format!(
                    "{}: {}",
                    source.diagnosis.code.as_str(),
                    source.diagnosis.message
                ),
                6,
            ));
        }
        if shown.len() < all.len() {
            out.push_str(&format!(
                "  … {} more sources (--limit 0 shows all)\n",
                all.len() - shown.len()
            ));
        }
    }
    out
}

/// `policy` as a block per domain.
pub fn policy_table(domains: &[Readiness]) -> String {
    let mut out = String::new();
    if domains.is_empty() {
        nothing(&mut out);
        return out;
    }
    for (n, r) in domains.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let verdict = match (&r.next, r.ready) {
            (None, _) => "at p=reject: the end of the road".to_owned(),
            (Some(step), true) => format!("ready for p={}", step_name(step)),
            (Some(step), false) => format!("not ready for p={}", step_name(step)),
        };
        out.push_str(&format!("{}: {verdict}\n", r.policy_domain));
        if let Some(current) = &r.current {
            out.push_str(&record("published now:", &current.record));
        }
        if let Some(step) = &r.next {
            let label = if r.ready {
                "publish next at _dmarc.".to_owned() + &r.policy_domain + ":"
            } else {
                "the next step, once ready:".to_owned()
            };
            out.push_str(&record(&label, &step.record));
        }
        out.push_str(&wrap_hanging(
            &format!(
                "evidence: {} over {}; {} fail DMARC, {} of them from your own sources \
                 ({}), {} from unauthorised ones",
                plural(r.messages, "message"),
                plural(r.days_covered, "day"),
                count(r.failing_messages),
                count(r.legitimate_failing_messages),
                percent(r.legitimate_failure_share),
                count(r.unauthorised_messages),
            ),
            2,
            4,
        ));
        for reason in &r.reasons {
            out.push_str(&wrap_hanging(&format!("- {reason}"), 2, 4));
        }
        if !r.affected_sources.is_empty() {
            out.push_str("  your sources the next step would catch today:\n");
            let columns = [
                flexible("SOURCE", 15),
                flexible("NAME", 8),
                right("FAILING"),
                left("DIAGNOSIS"),
            ];
            let rows: Vec<Vec<String>> = r
                .affected_sources
                .iter()
                .map(|a| {
                    vec![
                        a.source_ip.clone(),
                        a.name.clone().unwrap_or_else(|| "-".into()),
                        count(a.failing_messages),
                        a.diagnosis.as_str().to_owned(),
                    ]
                })
                .collect();
            out.push_str(&table(&columns, &rows, 4));
        }
    }
    out
}

fn step_name(step: &super::policy::Step) -> String {
    match step.pct {
        Some(pct) => format!("{} pct={pct}", step.p),
        None => step.p.clone(),
    }
}

/// The fields of a CSV output: names for the header and how to read each
/// from an item, written once so that the two cannot drift apart.
struct Fields<T> {
    fields: Vec<(&'static str, Cell<T>)>,
}

/// How one field's cell is read from an item.
type Cell<T> = Box<dyn Fn(&T) -> String>;

impl<T: 'static> Fields<T> {
    fn new() -> Self {
        Fields { fields: Vec::new() }
    }

    fn add(mut self, name: &'static str, value: impl Fn(&T) -> String + 'static) -> Self {
        self.fields.push((name, Box::new(value)));
        self
    }

    /// The fields of [`Figures`], named as in the JSON (dispositions as
    /// `disposition_none`, ...).
    fn figures(self, figures: fn(&T) -> &Figures) -> Self {
        self.add("messages", move |t| figures(t).messages.to_string())
            .add("dmarc_pass", move |t| figures(t).dmarc_pass.to_string())
            .add("dmarc_pass_share", move |t| {
                figures(t).dmarc_pass_share.to_string()
            })
            .add("dkim_aligned_pass", move |t| {
                figures(t).dkim_aligned_pass.to_string()
            })
            .add("dkim_aligned_share", move |t| {
                figures(t).dkim_aligned_share.to_string()
            })
            .add("spf_aligned_pass", move |t| {
                figures(t).spf_aligned_pass.to_string()
            })
            .add("spf_aligned_share", move |t| {
                figures(t).spf_aligned_share.to_string()
            })
            .add("disposition_none", move |t| {
                figures(t).dispositions.none.to_string()
            })
            .add("disposition_quarantine", move |t| {
                figures(t).dispositions.quarantine.to_string()
            })
            .add("disposition_reject", move |t| {
                figures(t).dispositions.reject.to_string()
            })
    }

    /// `items` as CSV, with a header line.
    fn csv(&self, items: &[T]) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record(self.fields.iter().map(|(name, _)| name))
            .expect("writing to memory");
        for item in items {
            writer
                .write_record(self.fields.iter().map(|(_, value)| value(item)))
                .expect("writing to memory");
        }
        String::from_utf8(writer.into_inner().expect("writing to memory"))
            .expect("CSV of UTF-8 is UTF-8")
    }
}

/// An optional value as a CSV cell: empty when absent.
fn opt<T: ToString>(value: Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// `summary` as CSV, one row per domain.
pub fn summary_csv(domains: &[DomainSummary]) -> String {
    Fields::<DomainSummary>::new()
        .add("policy_domain", |d| d.policy_domain.clone())
        .add("reports", |d| d.reports.to_string())
        .figures(|d| &d.figures)
        .add("reporters", |d| d.reporters.to_string())
        .add("period_begin", |d| d.period.begin.clone())
        .add("period_end", |d| d.period.end.clone())
        .add("policy_p", |d| {
            opt(d.policy.as_ref().and_then(|p| p.p.as_ref()))
        })
        .add("policy_pct", |d| opt(d.policy.as_ref().and_then(|p| p.pct)))
        .add("policy_record", |d| {
            opt(d.policy.as_ref().map(|p| &p.record))
        })
        .csv(domains)
}

/// `sources` as CSV, one row per source; lists joined with ` | `.
pub fn sources_csv(sources: &[Source]) -> String {
    Fields::<Source>::new()
        .add("policy_domain", |s| s.policy_domain.clone())
        .add("source_ip", |s| s.source_ip.clone())
        .add("name", |s| opt(s.name.as_ref()))
        .add("provider", |s| opt(s.provider))
        .add("reverse_dns", |s| opt(s.reverse_dns.as_ref()))
        .figures(|s| &s.figures)
        .add("reporters", |s| s.reporters.to_string())
        .add("first_seen", |s| s.first_seen.clone())
        .add("last_seen", |s| s.last_seen.clone())
        .add("dkim_domains", |s| s.dkim_domains.join(" | "))
        .add("spf_domains", |s| s.spf_domains.join(" | "))
        .add("diagnosis", |s| s.diagnosis.code.as_str().to_owned())
        .add("diagnosis_message", |s| s.diagnosis.message.clone())
        .csv(sources)
}

/// `policy` as CSV, one row per domain; the affected sources as their
/// number, reasons joined with ` | `.
pub fn policy_csv(domains: &[Readiness]) -> String {
    Fields::<Readiness>::new()
        .add("policy_domain", |r| r.policy_domain.clone())
        .add("ready", |r| r.ready.to_string())
        .add("current_record", |r| {
            opt(r.current.as_ref().map(|c| &c.record))
        })
        .add("next_record", |r| opt(r.next.as_ref().map(|n| &n.record)))
        .add("messages", |r| r.messages.to_string())
        .add("days_covered", |r| r.days_covered.to_string())
        .add("failing_messages", |r| r.failing_messages.to_string())
        .add("legitimate_failing_messages", |r| {
            r.legitimate_failing_messages.to_string()
        })
        .add("legitimate_failure_share", |r| {
            r.legitimate_failure_share.to_string()
        })
        .add("unauthorised_messages", |r| {
            r.unauthorised_messages.to_string()
        })
        .add("affected_sources", |r| r.affected_sources.len().to_string())
        .add("reasons", |r| r.reasons.join(" | "))
        .csv(domains)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_cut_flexible_columns_to_fit() {
        let columns = [flexible("NAME", 6), right("N")];
        let rows = vec![vec!["x".repeat(200), "1".into()]];
        let text = table(&columns, &rows, 2);
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
        assert!(text.contains('…'));
    }

    #[test]
    fn wrap_keeps_words_and_width() {
        let text = "word ".repeat(60);
        let wrapped = wrap(&text, 4);
        assert!(
            wrapped
                .lines()
                .all(|l| l.chars().count() <= WIDTH && l.starts_with("    word"))
        );
        assert_eq!(wrapped.split_whitespace().count(), 60);
    }
}
