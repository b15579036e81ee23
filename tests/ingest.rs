//! The ingest pipeline on report mails built in the tests, checked against
//! the rows of a real SQLite file.

use crate::util::TempStore;
use crate::util::mail::{Part, gzip, report_mail, report_xml, single_part_mail, zip};
use dmarc_sink::ingest::{Envelope, MessageOutcome, PayloadOutcome, ingest_message, reparse};
use dmarc_sink::limits::Limits;
use dmarc_sink::store::{Source, StoreError};
use std::io::Read;

fn ingest(temp: &mut TempStore, raw: &[u8]) -> MessageOutcome {
    ingest_with(temp, raw, &Limits::default())
}

fn ingest_with(temp: &mut TempStore, raw: &[u8], limits: &Limits) -> MessageOutcome {
    let envelope = Envelope {
        remote_addr: Some("192.0.2.200".into()),
        helo: Some("mail-sor-f41.google.com".into()),
        mail_from: Some("noreply-dmarc-support@google.com".into()),
        rcpt_to: vec!["dmarc@reports.example.com".into()],
        ..Envelope::default()
    };
    ingest_message(&mut temp.store, raw, Source::Smtp, None, &envelope, limits).expect("ingest")
}

fn count(temp: &TempStore, sql: &str) -> i64 {
    temp.store
        .connection()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

fn stored_members(outcome: &MessageOutcome) -> Vec<&str> {
    outcome
        .payloads
        .iter()
        .filter(|p| matches!(p.outcome, PayloadOutcome::Stored { .. }))
        .map(|p| p.member.as_str())
        .collect()
}

#[test]
fn gzip_attachment_is_stored_field_by_field() {
    let mut temp = TempStore::new();
    let xml = report_xml(
        "google.com",
        "1001",
        "example.com",
        &[("192.0.2.1", 3), ("2001:db8::1", 4)],
    );
    let raw = report_mail(
        "Report domain: example.com Submitter: google.com Report-ID: 1001",
        "gzip-1@google.com",
        vec![Part::attachment(
            "application/gzip",
            "google.com!example.com!1700006400!1700092799.xml.gz",
            &gzip(xml.as_bytes()),
        )],
    );
    let outcome = ingest(&mut temp, &raw);
    assert_eq!(stored_members(&outcome), vec!["2"]);
    assert_eq!(outcome.verdict().as_str(), "stored");

    let conn = temp.store.connection();
    let text = |sql: &str| -> Option<String> { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(text("SELECT source FROM messages").as_deref(), Some("smtp"));
    assert_eq!(
        text("SELECT remote_addr FROM messages").as_deref(),
        Some("192.0.2.200")
    );
    assert_eq!(
        text("SELECT mail_from FROM messages").as_deref(),
        Some("noreply-dmarc-support@google.com")
    );
    assert_eq!(
        text("SELECT rcpt_to FROM messages").as_deref(),
        Some("dmarc@reports.example.com")
    );
    assert_eq!(
        text("SELECT message_id FROM messages").as_deref(),
        Some("gzip-1@google.com")
    );
    assert_eq!(
        text("SELECT outcome FROM messages").as_deref(),
        Some("stored")
    );
    assert_eq!(count(&temp, "SELECT size FROM messages"), raw.len() as i64);

    assert_eq!(
        text("SELECT org_name FROM reports").as_deref(),
        Some("google.com")
    );
    assert_eq!(
        text("SELECT email FROM reports").as_deref(),
        Some("noreply@google.com")
    );
    assert_eq!(
        text("SELECT report_id FROM reports").as_deref(),
        Some("1001")
    );
    assert_eq!(
        text("SELECT policy_domain FROM reports").as_deref(),
        Some("example.com")
    );
    assert_eq!(text("SELECT p FROM reports").as_deref(), Some("none"));
    assert_eq!(text("SELECT member FROM reports").as_deref(), Some("2"));
    assert_eq!(
        count(&temp, "SELECT date_begin FROM reports"),
        1_700_006_400
    );
    assert_eq!(count(&temp, "SELECT date_end FROM reports"), 1_700_092_799);
    assert_eq!(count(&temp, "SELECT pct FROM reports"), 100);
    let records: Vec<(String, i64, String, String, String, String)> = conn
        .prepare("SELECT source_ip, count, disposition, dkim, spf, envelope_from FROM records ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[1],
        (
            "2001:db8::1".into(),
            4,
            "none".into(),
            "pass".into(),
            "fail".into(),
            "amazonses.com".into()
        )
    );
    assert_eq!(
        count(
            &temp,
            "SELECT count(*) FROM dkim_results WHERE selector = 'sel' AND result = 'pass'"
        ),
        2
    );
    assert_eq!(
        count(
            &temp,
            "SELECT count(*) FROM spf_results WHERE scope = 'mfrom' AND domain = 'amazonses.com'"
        ),
        2
    );
    assert_eq!(
        count(
            &temp,
            "SELECT sum(count) FROM report_records WHERE dmarc = 'pass'"
        ),
        7
    );
    assert_eq!(
        count(
            &temp,
            "SELECT messages FROM daily_totals WHERE day = '2023-11-15'"
        ),
        7
    );
    assert_eq!(
        count(
            &temp,
            "SELECT spf_aligned_pass FROM source_totals WHERE source_ip = '192.0.2.1'"
        ),
        0
    );
}

#[test]
fn raw_message_is_kept_and_reads_back_identically() {
    let mut temp = TempStore::new();
    let xml = report_xml("google.com", "raw-1", "example.com", &[("192.0.2.1", 1)]);
    let raw = report_mail(
        "raw",
        "raw-1@google.com",
        vec![Part::attachment("text/xml", "r.xml", xml.as_bytes())],
    );
    let outcome = ingest(&mut temp, &raw);
    let mut back = Vec::new();
    temp.store
        .raw_message(outcome.message)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, raw);
    assert_eq!(
        count(
            &temp,
            "SELECT count(*) FROM messages WHERE raw_encoding = 'gzip'"
        ),
        1
    );
}

#[test]
fn zip_with_two_reports_and_macos_metadata() {
    let mut temp = TempStore::new();
    let first = report_xml("yahoo.com", "y-1", "example.com", &[("192.0.2.1", 1)]);
    let second = report_xml(
        "yahoo.com",
        "y-2",
        "example.org",
        &[("192.0.2.2", 2), ("192.0.2.3", 3)],
    );
    let archive = zip(&[
        ("reports/first.xml", first.as_bytes()),
        (
            "__MACOSX/reports/._first.xml",
            b"\x00\x05\x16\x07 resource fork",
        ),
        ("reports/second.xml", second.as_bytes()),
        ("README.txt", b"nothing to see"),
    ]);
    let raw = report_mail(
        "zip",
        "zip-1@yahoo.com",
        vec![Part::attachment("application/zip", "yahoo.zip", &archive)],
    );
    let outcome = ingest(&mut temp, &raw);
    assert_eq!(
        stored_members(&outcome),
        vec!["2/reports/first.xml", "2/reports/second.xml"]
    );
    assert_eq!(count(&temp, "SELECT count(*) FROM records"), 3);
    assert_eq!(count(&temp, "SELECT count(*) FROM quarantine"), 0);
}

#[test]
fn gzip_labelled_zip_with_rfc2231_name() {
    let mut temp = TempStore::new();
    let xml = report_xml("outlook.com", "o-1", "example.com", &[("192.0.2.9", 9)]);
    let raw = report_mail(
        "mislabelled",
        "label-1@outlook.com",
        vec![Part::attachment_rfc2231(
            "application/zip",
            "enterprise.protection.outlook.com%21example.com%211700006400%211700092799.xml.gz",
            &gzip(xml.as_bytes()),
        )],
    );
    let outcome = ingest(&mut temp, &raw);
    assert_eq!(stored_members(&outcome), vec!["2"]);
    assert_eq!(count(&temp, "SELECT sum(count) FROM records"), 9);
}

#[test]
fn xml_labelled_octet_stream_and_multi_member_gzip() {
    let mut temp = TempStore::new();
    let xml = report_xml(
        "mail.ru",
        "m-1",
        "example.com",
        &[("192.0.2.4", 4), ("192.0.2.5", 5)],
    );
    let (head, tail) = xml.split_at(xml.len() / 2);
    let mut two_members = gzip(head.as_bytes());
    two_members.extend(gzip(tail.as_bytes()));
    two_members.extend_from_slice(b"\r\n");
    let other = report_xml("mail.ru", "m-2", "example.com", &[("192.0.2.6", 6)]);
    let raw = report_mail(
        "two",
        "two-1@mail.ru",
        vec![
            Part::attachment("application/octet-stream", "report.bin", &two_members),
            Part::attachment("application/octet-stream", "plain", other.as_bytes()),
        ],
    );
    let outcome = ingest(&mut temp, &raw);
    assert_eq!(stored_members(&outcome), vec!["2", "3"]);
    assert_eq!(count(&temp, "SELECT sum(count) FROM records"), 15);
}

#[test]
fn report_as_the_message_body() {
    let mut temp = TempStore::new();
    let xml = report_xml("fastmail.com", "f-1", "example.com", &[("192.0.2.7", 7)]);
    let raw = single_part_mail("body", "body-1@fastmail.com", Part::text("text/xml", &xml));
    let outcome = ingest(&mut temp, &raw);
    assert_eq!(stored_members(&outcome), vec!["0"]);
}

#[test]
fn forwarded_report_inside_nested_multipart() {
    let mut temp = TempStore::new();
    let xml = report_xml("google.com", "fw-1", "example.com", &[("192.0.2.8", 8)]);
    let original = report_mail(
        "original",
        "orig@google.com",
        vec![Part::attachment(
            "application/gzip",
            "r.xml.gz",
            &gzip(xml.as_bytes()),
        )],
    );
    let raw = report_mail(
        "Fwd: report",
        "fwd@example.com",
        vec![Part::multipart(
            "mixed",
            "=_inner",
            vec![
                Part::text("text/plain", "see attached"),
                Part::message(&original),
            ],
        )],
    );
    let outcome = ingest(&mut temp, &raw);
    // 0 multipart, 1 text, 2 inner multipart, 3 text, 4 message/rfc822,
    // 5 its root multipart, 6 its text, 7 the gzip.
    assert_eq!(stored_members(&outcome), vec!["7"]);
}

#[test]
fn html_body_and_spam_are_not_reports() {
    let mut temp = TempStore::new();
    let raw = report_mail(
        "Cheap watches",
        "spam@example.net",
        vec![
            Part::text(
                "text/html",
                "<html><body><div>feedback welcome</ div></body></html>",
            ),
            Part::attachment("image/png", "logo.png", b"\x89PNG\r\n\x1a\n...."),
        ],
    );
    let outcome = ingest(&mut temp, &raw);
    assert!(outcome.is_not_a_report());
    assert_eq!(outcome.verdict().as_str(), "not_a_report");
    assert_eq!(
        count(
            &temp,
            "SELECT count(*) FROM messages WHERE outcome = 'not_a_report'"
        ),
        1
    );
    assert_eq!(count(&temp, "SELECT count(*) FROM message_raw"), 1);
}

#[test]
fn duplicate_delivery_is_stored_once() {
    let mut temp = TempStore::new();
    let xml = report_xml("google.com", "dup-1", "example.com", &[("192.0.2.1", 5)]);
    let raw = report_mail(
        "dup",
        "dup@google.com",
        vec![Part::attachment(
            "application/gzip",
            "r.xml.gz",
            &gzip(xml.as_bytes()),
        )],
    );
    let first = ingest(&mut temp, &raw);
    let second = ingest(&mut temp, &raw);
    let PayloadOutcome::Stored { id, .. } = &first.payloads[0].outcome else {
        panic!("first delivery not stored: {first:?}");
    };
    match &second.payloads[0].outcome {
        PayloadOutcome::Duplicate { existing, report } => {
            assert_eq!(*existing, Some(*id));
            assert_eq!(report.messages, 5);
        }
        other => panic!("second delivery: {other:?}"),
    }
    assert_eq!(second.verdict().as_str(), "duplicate");
    assert_eq!(count(&temp, "SELECT count(*) FROM messages"), 2);
    assert_eq!(count(&temp, "SELECT count(*) FROM reports"), 1);
    assert_eq!(count(&temp, "SELECT sum(count) FROM records"), 5);
}

#[test]
fn unreadable_payload_is_quarantined_beside_a_good_one() {
    let mut temp = TempStore::new();
    let good = report_xml("google.com", "good-1", "example.com", &[("192.0.2.1", 1)]);
    let mut bad = report_xml(
        "google.com",
        "bad-1",
        "example.com",
        &[("192.0.2.2", 2), ("192.0.2.3", 3)],
    );
    bad.truncate(bad.len() - 60);
    let bad_gz = gzip(bad.as_bytes());
    let raw = report_mail(
        "partial",
        "partial@google.com",
        vec![
            Part::attachment("application/gzip", "good.xml.gz", &gzip(good.as_bytes())),
            Part::attachment("application/gzip", "bad.xml.gz", &bad_gz),
        ],
    );
    let outcome = ingest(&mut temp, &raw);
    assert_eq!(outcome.verdict().as_str(), "partial");
    assert_eq!(stored_members(&outcome), vec!["2"]);
    match &outcome.payloads[1].outcome {
        PayloadOutcome::Quarantined { kind, error } => {
            assert_eq!(kind.as_str(), "xml");
            assert!(error.starts_with("malformed XML at byte"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    // The half-read report left no rows behind.
    assert_eq!(count(&temp, "SELECT count(*) FROM reports"), 1);
    assert_eq!(count(&temp, "SELECT count(*) FROM records"), 1);
    let (member, payload): (String, Vec<u8>) = temp
        .store
        .connection()
        .query_row("SELECT member, payload FROM quarantine", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(member, "3");
    assert_eq!(payload, bad_gz, "the carrying part is kept as it came");
}

#[test]
fn store_failure_rolls_back_the_whole_message() {
    let mut temp = TempStore::new();
    temp.store
        .connection()
        .execute_batch(
            "CREATE TRIGGER disk_on_fire BEFORE INSERT ON records WHEN NEW.source_ip = '192.0.2.99'
             BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;",
        )
        .unwrap();
    let first = report_xml("google.com", "tx-1", "example.com", &[("192.0.2.1", 1)]);
    let second = report_xml("google.com", "tx-2", "example.com", &[("192.0.2.99", 1)]);
    let raw = report_mail(
        "tx",
        "tx@google.com",
        vec![
            Part::attachment("text/xml", "first.xml", first.as_bytes()),
            Part::attachment("text/xml", "second.xml", second.as_bytes()),
        ],
    );
    let result = ingest_message(
        &mut temp.store,
        &raw,
        Source::Smtp,
        None,
        &Envelope::default(),
        &Limits::default(),
    );
    match result {
        Err(StoreError::Sqlite(error)) => {
            assert!(error.to_string().contains("disk on fire"), "{error}")
        }
        other => panic!("expected a store error, got {other:?}"),
    }
    for table in [
        "messages",
        "message_raw",
        "reports",
        "records",
        "quarantine",
    ] {
        assert_eq!(
            count(&temp, &format!("SELECT count(*) FROM {table}")),
            0,
            "{table} is empty"
        );
    }
}

#[test]
fn gzip_bomb_is_quarantined_with_the_limit_named() {
    let mut temp = TempStore::new();
    let limits = Limits {
        max_decompressed_bytes: 1024 * 1024,
        ..Limits::default()
    };
    // 20,000 records: about 8 MB of XML, well-formed all the way.
    let records = vec![("192.0.2.1", 1); 20_000];
    let xml = report_xml("bomb.example", "bomb-1", "example.com", &records);
    assert!(xml.len() > 4 * 1024 * 1024);
    let raw = report_mail(
        "bomb",
        "bomb@example",
        vec![Part::attachment(
            "application/gzip",
            "bomb.xml.gz",
            &gzip(xml.as_bytes()),
        )],
    );
    let outcome = ingest_with(&mut temp, &raw, &limits);
    match &outcome.payloads[0].outcome {
        PayloadOutcome::Quarantined { kind, error } => {
            assert_eq!(kind.as_str(), "limit");
            assert!(
                error.contains("limits.max_decompressed_bytes") && error.contains("1048576"),
                "{error}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        count(&temp, "SELECT count(*) FROM records"),
        0,
        "the records read before the limit are rolled back"
    );
}

#[test]
fn zip_with_too_many_entries_is_quarantined() {
    let mut temp = TempStore::new();
    let limits = Limits {
        max_zip_entries: 3,
        ..Limits::default()
    };
    let xml = report_xml("many.example", "many-1", "example.com", &[("192.0.2.1", 1)]);
    let names: Vec<String> = (0..5).map(|i| format!("r{i}.xml")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), xml.as_bytes())).collect();
    let raw = report_mail(
        "many",
        "many@example",
        vec![Part::attachment(
            "application/zip",
            "many.zip",
            &zip(&entries),
        )],
    );
    let outcome = ingest_with(&mut temp, &raw, &limits);
    assert_eq!(outcome.payloads.len(), 1);
    assert!(
        matches!(&outcome.payloads[0].outcome, PayloadOutcome::Quarantined { error, .. } if error.contains("limits.max_zip_entries"))
    );
}

#[test]
fn nested_archives_hit_the_depth_limit() {
    let mut temp = TempStore::new();
    let limits = Limits {
        max_nesting_depth: 4,
        ..Limits::default()
    };
    let mut payload =
        report_xml("deep.example", "deep-1", "example.com", &[("192.0.2.1", 1)]).into_bytes();
    for _ in 0..6 {
        payload = gzip(&payload);
    }
    let raw = report_mail(
        "deep",
        "deep@example",
        vec![Part::attachment("application/gzip", "deep.gz", &payload)],
    );
    let outcome = ingest_with(&mut temp, &raw, &limits);
    assert!(
        matches!(&outcome.payloads[0].outcome, PayloadOutcome::Quarantined { error, .. } if error.contains("limits.max_nesting_depth")),
        "{outcome:?}"
    );
}

#[test]
fn reparse_recovers_what_a_tighter_reader_quarantined() {
    let mut temp = TempStore::new();
    let xml = report_xml(
        "google.com",
        "re-1",
        "example.com",
        &[("192.0.2.1", 2), ("192.0.2.2", 3)],
    );
    let raw = report_mail(
        "re",
        "re@google.com",
        vec![Part::attachment(
            "application/gzip",
            "r.xml.gz",
            &gzip(xml.as_bytes()),
        )],
    );
    let old_reader = Limits {
        max_xml_token_bytes: 16,
        ..Limits::default()
    };
    let outcome = ingest_with(&mut temp, &raw, &old_reader);
    assert_eq!(outcome.verdict().as_str(), "quarantined");
    assert_eq!(count(&temp, "SELECT count(*) FROM quarantine"), 1);

    let summary = reparse(&mut temp.store, false, &Limits::default()).unwrap();
    assert_eq!(
        (
            summary.messages,
            summary.recovered,
            summary.still_quarantined
        ),
        (1, 1, 0)
    );
    assert_eq!(count(&temp, "SELECT count(*) FROM quarantine"), 0);
    assert_eq!(count(&temp, "SELECT sum(count) FROM records"), 5);
    assert_eq!(count(&temp, "SELECT outcome = 'stored' FROM messages"), 1);

    // A second pass over everything finds nothing new and duplicates nothing.
    let again = reparse(&mut temp.store, true, &Limits::default()).unwrap();
    assert_eq!((again.messages, again.recovered), (1, 0));
    assert_eq!(count(&temp, "SELECT count(*) FROM records"), 2);
}

#[test]
fn schema_is_versioned_and_in_wal_mode() {
    let temp = TempStore::new();
    assert_eq!(temp.store.schema_version().unwrap(), 7);
    let mode: String = temp
        .store
        .connection()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(temp.store);
    let reopened = dmarc_sink::store::Store::open(&temp.dir.path().join("store.sqlite")).unwrap();
    assert_eq!(reopened.schema_version().unwrap(), 7);
}

/// A report large enough to be parsed on a thread of its own, with one
/// record whose comment and human result are longer than a packed batch
/// takes (it goes to the store whole): every record is stored, in order,
/// each value exactly as sent.
#[test]
fn records_of_long_values_among_packed_ones_are_stored_in_order() {
    let mut temp = TempStore::new();
    // Text that gzip cannot shrink much, so the attachment passes the
    // size that is parsed inline.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut noise = |len: usize| -> String {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'a' + (state % 26) as u8)
            })
            .collect()
    };
    let long_comment = noise(300 * 1024);
    let long_human = format!("{} 日本語", noise(100 * 1024));
    let mut records = String::new();
    let mut expected = Vec::new();
    for n in 0..600u32 {
        let ip = format!("198.51.{}.{}", n / 256, n % 256);
        // Three long records in a row (each waits for the store to take
        // the one before), then one alone.
        let (comment, human) = if matches!(n, 300..=302 | 450) {
            (long_comment.clone(), long_human.clone())
        } else {
            (format!("short {n} {}", noise(200)), format!("h{n}"))
        };
        records.push_str(&format!(
            "<record><row><source_ip>{ip}</source_ip><count>{}</count>\
             <policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>pass</spf>\
             <reason><type>forwarded</type><comment>{comment}</comment></reason></policy_evaluated></row>\
             <identifiers><header_from>example.com</header_from></identifiers>\
             <auth_results><dkim><domain>d{n}.example</domain><selector>s{n}</selector>\
             <result>fail</result><human_result>{human}</human_result></dkim>\
             <spf><domain>example.com</domain><result>pass</result></spf></auth_results></record>",
            n + 1
        ));
        expected.push((ip, i64::from(n + 1), comment, human));
    }
    let xml = format!(
        "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>google.com</org_name>\
         <report_id>long-values</report_id><date_range><begin>1700006400</begin>\
         <end>1700092799</end></date_range></report_metadata><policy_published>\
         <domain>example.com</domain><p>none</p></policy_published>{records}</feedback>"
    );
    let attachment = gzip(xml.as_bytes());
    assert!(
        attachment.len() > dmarc_sink::ingest::INLINE_MAX_BYTES,
        "the report must take the threaded path ({} bytes)",
        attachment.len()
    );
    let raw = report_mail(
        "Report domain: example.com Submitter: google.com Report-ID: long-values",
        "long-values@google.com",
        vec![Part::attachment(
            "application/gzip",
            "google.com!example.com!1700006400!1700092799.xml.gz",
            &attachment,
        )],
    );
    let outcome = ingest(&mut temp, &raw);
    assert_eq!(stored_members(&outcome), vec!["2"]);

    let conn = temp.store.connection();
    let mut statement = conn
        .prepare(
            "SELECT r.source_ip, r.count, rr.comment, d.human_result
             FROM records r
             JOIN record_reasons rr ON rr.record = r.id
             JOIN dkim_results d ON d.record = r.id
             ORDER BY r.id",
        )
        .unwrap();
    let stored: Vec<(String, i64, String, String)> = statement
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(stored.len(), expected.len());
    assert!(
        stored == expected,
        "the stored records differ from those sent"
    );
}
