//! dmarc-sink receives DMARC aggregate reports and stores them in SQLite.
pub mod extract;
pub mod ingest;
pub mod limits;
pub mod parse;
pub mod report;
pub mod store;
