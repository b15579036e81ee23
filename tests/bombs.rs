//! The bomb suite: hostile mails built in the test (tests/util/bombs.rs),
//! delivered over SMTP to a real `dmarc-sink serve`. Each must be refused
//! with the limit that stopped it named, with its value, in the quarantine
//! row, or, for a legal report of a hostile shape, stored whole; the
//! daemon's peak resident memory must stay under 128 MiB; and a report
//! delivered right after must be answered 250 and stored.
//!
//! How fast each is refused is the bomb benchmark's to show, at the default
//! limits (`cargo bench --bench bombs`). Here the client's 30 s read timeout
//! is only a guard against a hang. The bombs that inflate to past
//! `max_decompressed_bytes` run against a server with that limit at 32 MiB,
//! so that an unoptimised build need not inflate a gigabyte.

use crate::util::bombs::{self, Bomb, MIB, deflate_runs, gzip_member};
use crate::util::server::TestServer;
use dmarc_sink::limits::Limits;
use std::io::Read;

/// The decompression limit the servers for inflating bombs run with.
const SMALL_DECOMPRESSION_LIMIT: u64 = 32 * MIB;

fn small_decompression_limit() -> (Limits, String) {
    let limits = Limits {
        max_decompressed_bytes: SMALL_DECOMPRESSION_LIMIT,
        ..Limits::default()
    };
    let config = format!("[limits]\nmax_decompressed_bytes = {SMALL_DECOMPRESSION_LIMIT}\n");
    (limits, config)
}

/// Delivers `bomb` to a fresh server started with `config`, and checks all.
fn handled(bomb: &Bomb, config: &str) {
    let server = TestServer::start(config);
    let delivery = bombs::deliver(&server, bomb);
    let problems = delivery.problems(bomb);
    assert!(
        problems.is_empty(),
        "{} ({} bytes, replied after {:?}): {problems:#?}\nthe server's log:\n{}",
        bomb.name,
        bomb.payload_bytes,
        delivery.elapsed,
        server.log()
    );
}

/// Handled as it must be at the default limits.
fn handled_by_default(build: fn(&Limits) -> Bomb) {
    handled(&build(&Limits::default()), "");
}

/// Handled as it must be by a server whose decompression limit is small.
fn handled_with_small_decompression_limit(build: fn(&Limits) -> Bomb) {
    let (limits, config) = small_decompression_limit();
    handled(&build(&limits), &config);
}

#[test]
fn gzip_bomb_of_zeros_is_no_report() {
    handled_by_default(bombs::gzip_zeros);
}

#[test]
fn report_shaped_gzip_bomb_stops_at_the_decompression_limit() {
    handled_with_small_decompression_limit(bombs::gzip_report_shaped);
}

#[test]
fn zip_bomb_of_high_ratio_stops_at_the_decompression_limit() {
    handled_with_small_decompression_limit(bombs::zip_high_ratio);
}

#[test]
fn zip_with_too_many_entries_is_refused() {
    handled_by_default(bombs::zip_many_entries);
}

#[test]
fn zip_with_a_million_entries_is_refused_before_it_is_opened() {
    handled_by_default(bombs::zip_million_entries);
}

#[test]
fn zip_with_overlapping_entries_stops_at_the_decompression_limit() {
    handled_with_small_decompression_limit(bombs::zip_overlapping);
}

#[test]
fn zips_nested_past_the_limit_are_refused() {
    handled_by_default(bombs::zip_nested);
}

#[test]
fn zips_in_zips_share_the_memory_of_one_message() {
    handled_by_default(bombs::zip_nested_in_memory);
}

#[test]
fn zip_holding_a_zip_bomb_stops_at_the_decompression_limit() {
    handled_with_small_decompression_limit(bombs::zip_holding_a_bomb);
}

#[test]
fn zip_of_zip_bombs_shares_one_decompression_limit() {
    handled_with_small_decompression_limit(bombs::zip_of_zip_bombs);
}

#[test]
fn multiparts_nested_past_the_limit_are_refused() {
    handled_by_default(bombs::mime_nested_multiparts);
}

#[test]
fn multiparts_nested_100000_deep_are_refused_before_parsing() {
    handled_by_default(bombs::mime_deep_multiparts);
}

#[test]
fn messages_attached_100000_deep_are_refused_at_the_nesting_limit() {
    handled_by_default(bombs::mime_nested_messages);
}

#[test]
fn encoded_messages_attached_100000_deep_are_refused_at_the_nesting_limit() {
    handled_by_default(bombs::mime_encoded_nested_messages);
}

#[test]
fn multipart_of_100000_parts_is_refused_before_parsing() {
    handled_by_default(bombs::mime_many_parts);
}

#[test]
fn entity_bomb_is_refused_at_the_doctype() {
    handled_by_default(|_| bombs::entity_bomb());
}

#[test]
fn text_node_of_100_mib_stops_at_the_token_limit() {
    handled_by_default(bombs::xml_huge_text);
}

#[test]
fn million_deep_elements_stop_at_the_depth_limit() {
    handled_by_default(bombs::xml_deep_nesting);
}

#[test]
fn a_record_of_half_a_gigabyte_of_comments_stops_at_the_record_limit() {
    handled_by_default(bombs::xml_record_of_long_comments);
}

#[test]
fn a_record_of_ten_million_empty_reasons_stops_at_the_record_limit() {
    handled_by_default(bombs::xml_record_of_empty_reasons);
}

#[test]
fn records_that_would_keep_long_strings_are_stored_within_the_memory_budget() {
    handled_by_default(bombs::xml_records_reusing_long_strings);
}

#[test]
fn failing_records_of_long_source_addresses_are_stored_within_the_memory_budget() {
    handled_by_default(bombs::xml_records_of_long_source_addresses);
}

#[test]
fn tls_report_of_100_mib_stops_at_the_json_limit() {
    handled_by_default(bombs::json_huge_tls_report);
}

#[test]
fn empty_failure_details_are_refused_at_the_first() {
    handled_by_default(bombs::json_empty_failure_details);
}

#[test]
fn million_deep_json_lists_are_refused_without_recursion() {
    handled_by_default(bombs::json_deep_nesting);
}

/// The builders make what they say: streams that inflate to what they
/// claim, with the right CRC, and archives the zip crate reads.
#[test]
fn bombs_are_well_formed() {
    let deflated = deflate_runs(&[(b"<feedback>", 1), (b"abc", 5), (b"</feedback>", 2)]);
    let mut inflated = String::new();
    flate2::read::GzDecoder::new(&gzip_member(&deflated)[..])
        .read_to_string(&mut inflated)
        .expect("a valid gzip member, CRC and length included");
    assert_eq!(inflated, "<feedback>abcabcabcabcabc</feedback></feedback>");

    let limits = Limits {
        max_message_bytes: 8 * MIB,
        max_decompressed_bytes: 4 * MIB,
        max_zip_entries: 5,
        ..Limits::default()
    };
    for build in [
        bombs::zip_high_ratio,
        bombs::zip_overlapping,
        bombs::zip_nested_in_memory,
        bombs::zip_of_zip_bombs,
    ] {
        let bomb = build(&limits);
        let attachment = attachment_of(&bomb.mail);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(attachment))
            .unwrap_or_else(|e| panic!("{}: {e}", bomb.name));
        assert!(!archive.is_empty(), "{}", bomb.name);
        let mut head = [0u8; 5];
        archive
            .by_index(archive.len() - 1)
            .unwrap()
            .read_exact(&mut head)
            .unwrap();
        assert!(
            &head == b"<?xml" || &head[..4] == b"PK\x03\x04",
            "{}: {head:?}",
            bomb.name
        );
    }
    let overlapping = zip::ZipArchive::new(std::io::Cursor::new(attachment_of(
        &bombs::zip_overlapping(&limits).mail,
    )))
    .unwrap()
    .has_overlapping_files()
    .unwrap();
    assert!(overlapping, "the entries share their data");
}

/// The decoded attachment of a mail built by `report_mail`.
fn attachment_of(mail: &[u8]) -> Vec<u8> {
    let message = mail_parser::MessageParser::default().parse(mail).unwrap();
    message.attachments().last().unwrap().contents().to_vec()
}
