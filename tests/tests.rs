//! Integration tests: one binary, one module per concern.

mod util;

mod cli;
mod conformance;
mod ingest;
mod parse;
