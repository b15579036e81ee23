//! The text forms of `summary`, `sources` and `policy`: tables that fit an
//! 80-column terminal ([`tables`], laid out by [`layout`]), CSV with one row
//! per item ([`csv`]), and JSON documents ([`json`]).
//!
//! The JSON documents are an interface (scripts and dashboards read them):
//! their fields are documented in README and only ever added to.

mod csv;
mod layout;
mod tables;

pub use csv::{policy_csv, sources_csv, summary_csv};
pub use layout::{WIDTH, wrap};
pub use tables::{policy_table, sources_table, summary_table};

use super::ScopeJson;
use super::period::rfc3339;
use serde::Serialize;

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
