//! Inputs the fuzz targets (fuzz/, README "Fuzzing") found trouble with,
//! kept so that it stays fixed. Each fixture in tests/data/fuzz/ is named
//! for what it exercises.

use crate::util::TempStore;
use dmarc_sink::ingest::{Envelope, ingest_message};
use dmarc_sink::limits::Limits;
use dmarc_sink::store::Source;
use std::path::Path;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A multipart whose attached message holds nothing but an empty attached
/// message. Handed to mail-parser 0.11.9 whole, it trips a debug assertion
/// there (message.rs:485, "Invalid part ID"); under `serve`, a debug build
/// would lose its writer thread to it and answer 451 to every later
/// delivery. Extraction now opens attached messages itself, one level at a
/// time, so mail-parser never nests one; a test build keeps mail-parser's
/// debug assertions, so this fails if that changes.
#[test]
fn multipart_with_nested_empty_rfc822_is_kept_as_not_a_report() {
    let mut temp = TempStore::new();
    let raw = fixture("multipart-with-nested-empty-rfc822.eml");
    let outcome = ingest_message(
        &mut temp.store,
        &raw,
        Source::Smtp,
        None,
        &Envelope::default(),
        &Limits::default(),
    )
    .expect("ingest");
    assert_eq!(outcome.verdict().as_str(), "not_a_report");
    assert!(outcome.payloads.is_empty());
}
