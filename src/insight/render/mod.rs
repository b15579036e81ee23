//! The text forms of `summary`, `sources` and `policy`: tables that fit an
//! 80-column terminal ([`tables`], laid out by [`layout`]), CSV with one row
//! per item ([`csv`]), and JSON documents ([`json`]).
//!
//! The JSON documents are an interface (scripts and dashboards read them):
//! their fields are documented in docs/insight.md and only ever added to.

mod csv;
mod layout;
mod tables;

pub use csv::{policy_csv, sources_csv, summary_csv};
pub use layout::{WIDTH, width, wrap};
pub(crate) use layout::{flexible, left, right, table};
pub use tables::{left_out_note, policy_table, sources_table, summary_table};

use super::ScopeJson;
use super::period::rfc3339;
use super::sources::Source;
use super::tls_failure::ReportedFailures;
use crate::store::LeftOut;
use serde::Serialize;

/// Text for a terminal: every control character but the line feed becomes
/// U+FFFD, so that no report string (a TLS report's `policy-domain` of
/// `\u{1b}]...`) reaches the operator's terminal as an escape sequence.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// The JSON document of a command: `{"generated_at", "scope", "left_out",
/// <key>: items}`.
pub fn json<T: Serialize>(
    key: &str,
    items: &T,
    scope: ScopeJson,
    left_out: &[LeftOut],
    now: i64,
) -> String {
    document(vec![(key, value(items))], scope, left_out, now)
}

/// The JSON document of `sources`: `{"generated_at", "scope", "left_out",
/// "sources", "tls_failures", "failure_sources"}`.
pub fn sources_json(
    sources: &[Source],
    failures: &ReportedFailures,
    scope: ScopeJson,
    left_out: &[LeftOut],
    now: i64,
) -> String {
    document(
        vec![
            ("sources", value(&sources)),
            ("tls_failures", value(&failures.tls_failures)),
            ("failure_sources", value(&failures.failure_sources)),
        ],
        scope,
        left_out,
        now,
    )
}

fn value<T: Serialize>(items: &T) -> serde_json::Value {
    serde_json::to_value(items).expect("the items serialise")
}

/// `{"generated_at", "scope", "left_out"}` and `items`. `left_out`: per
/// domain, the reports and messages from senders that did not
/// authenticate, which the items do not count.
fn document(
    items: Vec<(&str, serde_json::Value)>,
    scope: ScopeJson,
    left_out: &[LeftOut],
    now: i64,
) -> String {
    let mut document = serde_json::Map::new();
    document.insert("generated_at".into(), rfc3339(now).into());
    document.insert(
        "scope".into(),
        serde_json::to_value(scope).expect("the scope serialises"),
    );
    document.insert("left_out".into(), value(&left_out));
    for (key, items) in items {
        document.insert(key.into(), items);
    }
    let mut text = serde_json::to_string_pretty(&document).expect("the document serialises");
    text.push('\n');
    text
}
