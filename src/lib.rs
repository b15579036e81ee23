//! dmarc-sink receives DMARC aggregate reports (RFC 7489, RFC 9990), SMTP TLS
//! reports (RFC 8460) and DMARC failure reports (RFC 6591) by SMTP or from
//! files, and stores them in SQLite.
//!
//! The modules, in the order data flows through them:
//!
//! - [`serve`] and [`smtp`]: the daemon; takes messages over SMTP.
//! - [`import`]: takes messages and report files from disk.
//! - [`ingest`]: the steps for one message, in order, in one transaction.
//! - [`extract`]: message bytes → report payloads (MIME, gzip, zip, sniffing),
//!   each of a kind told from its content.
//! - [`parse`]: payload → report: aggregate XML streaming, TLS JSON, failure
//!   report fields ([`report`] holds the types).
//! - [`store`]: report → SQLite; the only code that knows SQL.
//! - [`alert`]: under `serve`, a stored report that shows a new source
//!   failing DMARC, failures over a threshold, or a new TLS failure type:
//!   a WARN line and a webhook.
//! - [`insight`]: store → what it means: summaries, sources and their
//!   diagnoses, policy readiness, the HTML page, the weekly digest mail.
//! - [`housekeeping`]: under `serve`, what runs on a clock: retention and
//!   the hourly alert check.
//! - [`export`]: store → a fleet's PostgreSQL, under `serve` in the
//!   background (`[export.postgres]`) or once (`export postgres`).
//!
//! Around them: [`config`] (the TOML file), [`limits`] (what hostile input
//! may cost), [`logging`] (tracing, text or JSON), [`metrics`] (what
//! `serve` counts, served to Prometheus).

pub mod alert;
pub mod auth;
pub mod check;
pub mod config;
pub mod dns;
pub mod export;
pub mod extract;
pub mod housekeeping;
pub mod i18n;
pub mod import;
pub mod ingest;
pub mod insight;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod parse;
pub mod report;
pub mod serve;
pub mod smtp;
pub mod store;
