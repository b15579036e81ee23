//! Integration tests: one binary, one module per concern.

mod util;

mod abuse;
mod cli;
mod conformance;
mod ingest;
mod parse;
mod smtp;
mod systemd;
