//! Integration tests: one binary, one module per concern.

mod util;

mod abuse;
mod alerts;
mod approved;
mod bombs;
mod check_dns;
mod check_dns_ja;
mod cli;
mod conformance;
mod digest;
mod docs;
mod exact_values;
mod export_postgres;
mod fleet_reads;
mod fleet_views;
mod fuzz_regressions;
mod html;
mod ingest;
mod insight;
mod insight_ja;
mod insight_tls_failure;
mod metrics;
mod mime_walk;
mod parse;
mod retention;
mod smtp;
mod storage_failures;
mod systemd;
mod tls_failure;
mod trust;
mod watch;
