//! Retention: `prune` and `store.retention_days` delete what is older than
//! the cut, keep its daily sums, spare what is younger, and give the space
//! back to the file system.

use crate::util::mail::{Part, gzip, report_mail};
use crate::util::report::{Report, Row};
use crate::util::server::TestServer;
use crate::util::{dmarc_sink, insight_command, insight_json, text};
use dmarc_sink::ingest::{Envelope, ingest_message};
use dmarc_sink::limits::Limits;
use dmarc_sink::store::{Source, Store};
use rusqlite::Connection;
use std::path::{Path, PathBuf};

const DAY: i64 = 86_400;
const DOMAIN: &str = "example.com";

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A report of `rows` records (half passing, half failing) whose range
/// begins `days_ago`.
fn report(id: &str, days_ago: i64, rows: usize) -> Report {
    let rows = (0..rows)
        .map(|i| {
            if i % 2 == 0 {
                Row::aligned("192.0.2.10", 3, DOMAIN)
            } else {
                Row::failing("203.0.113.9", 1, "spoof.example")
            }
        })
        .collect();
    Report {
        org: "google.com",
        id: id.to_owned(),
        domain: DOMAIN,
        begin: now() - days_ago * DAY,
        p: "none",
        pct: 100,
        rows,
    }
}

/// Takes `report` in as a mail with one gzip attachment, plus `extra` parts.
fn deliver(store: &mut Store, report: &Report, extra: Vec<Part>) {
    let mut parts = vec![Part::attachment(
        "application/gzip",
        "report.xml.gz",
        &gzip(report.xml().as_bytes()),
    )];
    parts.extend(extra);
    let mail = report_mail("Report", &format!("{}@test", report.id), parts);
    let envelope = Envelope {
        remote_addr: Some("127.0.0.1".into()),
        rcpt_to: vec!["dmarc@reports.example.net".into()],
        ..Envelope::default()
    };
    ingest_message(
        store,
        &mail,
        Source::Smtp,
        None,
        &envelope,
        &Limits::default(),
    )
    .unwrap();
}

/// 30 reports of a year and more ago, 3 of the last week.
fn fill(db: &Path) {
    fill_old(db, 30);
}

/// `old` reports of a year and more ago, 3 of the last week.
fn fill_old(db: &Path, old: i64) {
    let mut store = Store::open(db).unwrap();
    for i in 0..old {
        deliver(
            &mut store,
            &report(&format!("old-{i}"), 400 + i, 400),
            vec![],
        );
    }
    for i in 0..3 {
        deliver(
            &mut store,
            &report(&format!("young-{i}"), 2 + i, 400),
            vec![],
        );
    }
}

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

fn file_size(db: &Path) -> u64 {
    // The WAL is checkpointed into the file on close; every connection here
    // is closed when this is read.
    std::fs::metadata(db).unwrap().len()
}

fn prune(db: &Path, args: &[&str]) -> String {
    let mut all = vec!["--db", db.to_str().unwrap(), "prune"];
    all.extend_from_slice(args);
    let output = dmarc_sink(&all);
    assert!(
        output.status.success(),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    (dir, db)
}

#[test]
fn prune_deletes_what_is_older_keeps_the_trend_and_shrinks_the_file() {
    let (_dir, db) = temp_db();
    fill(&db);
    let summary_before = insight_json(&db, &["summary"]);
    let days_before = count(&db, "SELECT count(*) FROM daily_totals");
    let messages_before = count(&db, "SELECT sum(messages) FROM daily_totals");
    assert_eq!(days_before, 33);
    assert_eq!(
        count(&db, "PRAGMA auto_vacuum"),
        2,
        "new stores are incremental"
    );

    let preview = prune(&db, &["--older-than", "365d", "--dry-run"]);
    assert!(preview.contains("messages         30 ("), "{preview}");
    assert!(
        preview.contains("reports          30 (12000 records)"),
        "{preview}"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM reports"),
        33,
        "a dry run deletes nothing"
    );

    let size_before = file_size(&db);
    let done = prune(&db, &["--older-than", "365d"]);
    assert!(
        done.contains("reports          30 (12000 records)"),
        "{done}"
    );
    let size_after = file_size(&db);
    assert!(
        size_after * 3 < size_before,
        "the file shrank from {size_before} to {size_after} bytes only"
    );

    // The young stay whole; of the old, nothing but their sums.
    assert_eq!(count(&db, "SELECT count(*) FROM reports"), 3);
    assert_eq!(count(&db, "SELECT count(*) FROM messages"), 3);
    assert_eq!(count(&db, "SELECT count(*) FROM records"), 1200);
    assert_eq!(
        count(&db, "SELECT count(DISTINCT message) FROM message_raw"),
        3
    );
    assert_eq!(count(&db, "SELECT count(*) FROM daily_rollups"), 30);
    assert_eq!(count(&db, "SELECT count(*) FROM daily_totals"), days_before);
    assert_eq!(
        count(&db, "SELECT sum(messages) FROM daily_totals"),
        messages_before
    );
    assert_eq!(count(&db, "PRAGMA freelist_count"), 0);

    // summary over all time still counts the year.
    let summary_after = insight_json(&db, &["summary"]);
    for field in ["messages", "dmarc_pass", "reports", "dkim_aligned_pass"] {
        assert_eq!(
            summary_after["domains"][0][field], summary_before["domains"][0][field],
            "{field}"
        );
    }
    // ...and a period of the pruned days alone.
    let old_only = insight_json(&db, &["summary", "--until", "300d"]);
    assert_eq!(old_only["domains"][0]["messages"], 30 * (200 * 3 + 200));

    // Pruning again finds nothing.
    let again = prune(&db, &["--older-than", "365d"]);
    assert!(again.contains("messages         0 (0 bytes)"), "{again}");
}

#[test]
fn a_young_quarantined_payload_keeps_its_message_and_an_old_one_goes() {
    let (_dir, db) = temp_db();
    {
        let mut store = Store::open(&db).unwrap();
        // An old report beside a payload quarantined now.
        let broken = Part::attachment("text/xml", "broken.xml", b"<feedback><report_metadata>");
        deliver(&mut store, &report("old-with-broken", 400, 4), vec![broken]);
        // A message that is nothing but an old quarantined payload.
        let broken = Part::attachment("text/xml", "broken.xml", b"<feedback><oops>");
        let mail = report_mail("Report", "only-broken@test", vec![broken]);
        ingest_message(
            &mut store,
            &mail,
            Source::Smtp,
            None,
            &Envelope::default(),
            &Limits::default(),
        )
        .unwrap();
    }
    let only_broken = count(
        &db,
        "SELECT id FROM messages WHERE message_id = 'only-broken@test'",
    );
    Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE quarantine SET created_at = created_at - 400 * 86400 WHERE message = ?1",
            [only_broken],
        )
        .unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM quarantine"), 2);

    prune(&db, &["--older-than", "365d"]);
    assert_eq!(count(&db, "SELECT count(*) FROM quarantine"), 1);
    assert_eq!(
        count(&db, "SELECT count(*) FROM reports"),
        1,
        "kept with its message"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM messages WHERE message_id = 'only-broken@test'"
        ),
        0
    );
}

#[test]
fn a_store_from_before_schema_6_is_converted_to_incremental_vacuum() {
    let (_dir, db) = temp_db();
    std::fs::copy("tests/data/store-before-mime-walker.sqlite", &db).unwrap();
    assert_eq!(count(&db, "PRAGMA auto_vacuum"), 0);
    let reports = count(&db, "SELECT count(*) FROM reports");
    assert!(reports > 0);
    prune(&db, &["--older-than", "2000-01-01"]);
    assert_eq!(count(&db, "PRAGMA auto_vacuum"), 2);
    assert_eq!(count(&db, "SELECT count(*) FROM reports"), reports);
}

#[test]
fn prune_without_a_cut_is_a_clear_error() {
    let (_dir, db) = temp_db();
    fill_one(&db);
    let output = dmarc_sink(&["--db", db.to_str().unwrap(), "prune"]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("--older-than"),
        "{}",
        text(&output.stderr)
    );
}

fn fill_one(db: &Path) {
    let mut store = Store::open(db).unwrap();
    deliver(&mut store, &report("one", 1, 2), vec![]);
}

#[test]
fn serve_prunes_by_retention_days() {
    let dir = tempfile::tempdir().unwrap();
    fill_old(&dir.path().join("store.sqlite"), 5);
    let server = TestServer::start_in(dir, "[store]\nretention_days = 30\n");
    let pruned = server.wait_for_log("pruned", 1);
    assert!(pruned[0].contains("reports=5"), "{pruned:?}");
    assert_eq!(server.count("SELECT count(*) FROM reports"), 3);
    assert_eq!(server.count("SELECT count(*) FROM daily_rollups"), 5);
    let summary = insight_command(&server.db, &["summary"]);
    assert!(summary.contains(DOMAIN), "{summary}");
}

#[test]
fn a_report_of_very_many_records_is_deleted_in_steps_and_counted_once() {
    let (_dir, db) = temp_db();
    {
        let mut store = Store::open(&db).unwrap();
        deliver(&mut store, &report("huge", 400, 12_000), vec![]);
        deliver(&mut store, &report("young", 2, 10), vec![]);
    }
    let messages_before = count(&db, "SELECT sum(messages) FROM daily_totals");
    let done = prune(&db, &["--older-than", "365d"]);
    assert!(
        done.contains("reports          1 (12000 records)"),
        "{done}"
    );
    // The roll-up, the records in 5,000s, what remains, and the vacuum.
    let transactions: u64 = done
        .split(" transactions")
        .next()
        .and_then(|t| t.rsplit('\n').next())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| panic!("{done}"));
    assert!(transactions >= 5, "{done}");
    assert_eq!(count(&db, "SELECT count(*) FROM records"), 10);
    assert_eq!(count(&db, "SELECT count(*) FROM reports"), 1);
    assert_eq!(
        count(&db, "SELECT sum(messages) FROM daily_totals"),
        messages_before
    );
}

#[test]
fn a_pruned_report_that_comes_again_is_a_duplicate_not_counted_twice() {
    let (_dir, db) = temp_db();
    fill_old(&db, 2);
    let messages_before = count(&db, "SELECT sum(messages) FROM daily_totals");
    prune(&db, &["--older-than", "365d"]);
    {
        let mut store = Store::open(&db).unwrap();
        // The same old report again: an archive imported, a late retry.
        deliver(&mut store, &report("old-0", 400, 400), vec![]);
    }
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM reports WHERE report_id = 'old-0'"
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM messages WHERE outcome = 'duplicate'"
        ),
        1
    );
    assert_eq!(
        count(&db, "SELECT sum(messages) FROM daily_totals"),
        messages_before
    );
}

#[test]
fn a_range_that_ends_in_the_future_does_not_escape_retention() {
    let (_dir, db) = temp_db();
    {
        let mut store = Store::open(&db).unwrap();
        // Dated 2099 by its sender.
        let mut future = report("future", 0, 2);
        future.begin = 4_070_908_800;
        deliver(&mut store, &future, vec![]);
    }
    let id = count(&db, "SELECT message FROM reports");
    Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE messages SET received_at = received_at - 400 * 86400 WHERE id = ?1",
            [id],
        )
        .unwrap();
    prune(&db, &["--older-than", "365d"]);
    assert_eq!(count(&db, "SELECT count(*) FROM reports"), 0);
}

#[test]
fn a_cut_closer_than_a_day_is_refused() {
    let (_dir, db) = temp_db();
    fill_one(&db);
    for cut in ["1h", "0d"] {
        let output = dmarc_sink(&["--db", db.to_str().unwrap(), "prune", "--older-than", cut]);
        assert!(!output.status.success(), "{cut}");
        assert!(
            text(&output.stderr).contains("at least a day"),
            "{}",
            text(&output.stderr)
        );
    }
    assert_eq!(count(&db, "SELECT count(*) FROM reports"), 1);
}

#[test]
fn policy_weighs_the_reports_that_remain_not_the_rolled_up_days() {
    let (_dir, db) = temp_db();
    fill(&db);
    prune(&db, &["--older-than", "365d"]);
    let policy = insight_json(&db, &["policy"]);
    let domain = &policy["domains"][0];
    // The 3 young reports alone: 200 × 3 passing and 200 failing each.
    assert_eq!(domain["messages"], 3 * 800);
    assert_eq!(domain["days_covered"], 3);
    // summary still counts the year.
    let summary = insight_json(&db, &["summary"]);
    assert_eq!(summary["domains"][0]["messages"], 33 * 800);
}

#[test]
fn a_prune_told_to_stop_ends_early_and_the_next_finishes() {
    use dmarc_sink::store::PruneControl;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let (_dir, db) = temp_db();
    fill_old(&db, 3);
    let mut store = Store::open(&db).unwrap();
    let cut = now() - 365 * DAY;
    let stopped = store
        .prune(
            cut,
            &PruneControl {
                stop: Some(Arc::new(AtomicBool::new(true))),
                ..PruneControl::default()
            },
        )
        .unwrap();
    assert!(stopped.stopped);
    assert_eq!(stopped.deleted.messages, 0);
    let done = store.prune(cut, &PruneControl::default()).unwrap();
    assert!(!done.stopped);
    assert_eq!(done.deleted.reports, 3);
}
