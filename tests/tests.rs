//! Integration tests: one binary, one module per concern.

mod util;

mod abuse;
mod alerts;
mod cli;
mod conformance;
mod html;
mod ingest;
mod insight;
mod parse;
mod smtp;
mod systemd;
