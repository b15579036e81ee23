//! Alerts under `dmarc-sink serve`: a real server over loopback SMTP, gzip
//! report mails built here, and a real HTTP listener as the webhook.

use crate::util::mail::{Dmarc, Part, dmarc_report_xml, gzip, report_mail};
use crate::util::server::TestServer;
use crate::util::tls_failure::{TlsFailure, TlsPolicy, TlsReport};
use crate::util::webhook::{Webhook, refused_url, silent_listener};
use crate::util::{dmarc_sink, rfc3339};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// 2023-11-15 00:00 UTC, and the day after.
const DAY_1: i64 = 1_700_006_400;
const DAY_2: i64 = DAY_1 + 86_400;
/// The end of a report that begins on `DAY_1` (see `dmarc_report_xml`).
const DAY_1_END: i64 = DAY_1 + 86_399;
const NEW_SOURCE: &str = "alert: new source failing DMARC";
const THRESHOLD: &str = "alert: DMARC failures above the threshold";
const WEBHOOK_FAILED: &str = "alert webhook failed";
const NEW_TLS_FAILURE: &str = "alert: new TLS failure type";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A report mail from google.com with a gzip attachment.
fn mail(domain: &str, report_id: &str, begin: i64, records: &[(&str, u32, Dmarc)]) -> Vec<u8> {
    let xml = dmarc_report_xml("google.com", report_id, domain, begin, records);
    report_mail(
        &format!("Report domain: {domain} Submitter: google.com Report-ID: {report_id}"),
        &format!("{report_id}@google.com"),
        vec![Part::attachment(
            "application/gzip",
            &format!("google.com!{domain}!{report_id}.xml.gz"),
            &gzip(xml.as_bytes()),
        )],
    )
}

/// A TLS report mail from google.com over `DAY_1` with the given policies.
fn tls_mail(report_id: &str, policies: Vec<TlsPolicy<'_>>) -> Vec<u8> {
    TlsReport::new("google.com", report_id, DAY_1, policies).mail()
}

/// A TLS report mail from google.com over `DAY_1` whose one policy is
/// [`policy`]`("example.com", failures)`.
fn example_com_tls_mail(report_id: &str, failures: Vec<TlsFailure<'_>>) -> Vec<u8> {
    tls_mail(report_id, vec![policy("example.com", failures)])
}

/// An MTA-STS policy for `domain` with 100 successful sessions.
fn policy<'a>(domain: &'a str, failures: Vec<TlsFailure<'a>>) -> TlsPolicy<'a> {
    TlsPolicy::sts(domain, 100, failures)
}

/// Delivers one mail in a session of its own; returns how long the answer
/// to its data took, which must be 250.
fn deliver(server: &TestServer, mail: &[u8]) -> Duration {
    let mut client = server.connect();
    assert_eq!(client.reply().0, 220);
    assert_eq!(client.command("EHLO mail-sor-f41.google.com").0, 250);
    let started = Instant::now();
    let (code, text) = client.deliver(
        "noreply-dmarc-support@google.com",
        "dmarc@reports.example.com",
        mail,
    );
    assert_eq!(code, 250, "{text}");
    started.elapsed()
}

fn alerts_config(webhook: &str, more: &str) -> String {
    format!("[alerts]\nwebhook = {webhook:?}\n{more}")
}

/// How many lines of the server's log contain `needle`.
fn logged(server: &TestServer, needle: &str) -> usize {
    server.log().lines().filter(|l| l.contains(needle)).count()
}

/// Waits for `count` lines of the server's log that contain `needle`, and
/// checks there are no more.
fn assert_logged(server: &TestServer, needle: &str, count: usize) {
    server.wait_for_log(needle, count);
    assert_eq!(logged(server, needle), count, "{}", server.log());
}

/// Checks that the log line holds each of `fields`.
fn assert_fields(line: &str, fields: &[&str]) {
    for field in fields {
        assert!(line.contains(field), "{field} in {line}");
    }
}

/// Checks that the alert was created at `before` or later, and not after now.
fn assert_created_since(alert: &serde_json::Value, before: i64) {
    let created_at = alert["created_at"]
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_second();
    assert!((before..=now()).contains(&created_at), "{created_at}");
}

/// Imports the files in `inbox` into `db` with alerts configured to go to
/// `webhook` (the config written into `dir`): it succeeds and raises none.
fn import_without_alerting(dir: &Path, db: &Path, inbox: &Path, webhook: &str) {
    let config = dir.join("import.toml");
    std::fs::write(&config, alerts_config(webhook, "")).unwrap();
    let output = dmarc_sink(&[
        "--config",
        path(&config),
        "--db",
        path(db),
        "import",
        path(inbox),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("alert"), "{stderr}");
}

fn keys(document: &serde_json::Value) -> Vec<&str> {
    let mut keys: Vec<&str> = document
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn a_new_failing_source_alerts_once() {
    let hook = Webhook::start();
    let server = TestServer::start(&alerts_config(&hook.url, ""));
    let before = now();
    deliver(
        &server,
        &mail(
            "example.com",
            "new-1",
            DAY_1,
            &[
                ("192.0.2.1", 100, Dmarc::Pass),
                ("198.51.100.7", 7, Dmarc::Fail),
                ("198.51.100.7", 2, Dmarc::Pass),
            ],
        ),
    );
    let request = hook.next();
    assert_eq!(request.request_line, "POST /hooks/dmarc HTTP/1.1");
    assert_eq!(request.header("content-type"), Some("application/json"));
    let alert = request.json();
    assert_eq!(
        keys(&alert),
        [
            "created_at",
            "date_begin",
            "date_end",
            "day",
            "failing_messages",
            "failure_share",
            "kind",
            "messages",
            "org_name",
            "policy_domain",
            "report_id",
            "sources",
            "sources_total"
        ]
    );
    assert_eq!(alert["kind"], "new_failing_source");
    assert_eq!(alert["policy_domain"], "example.com");
    assert_eq!(alert["org_name"], "google.com");
    assert_eq!(alert["report_id"], "new-1");
    assert_eq!(alert["date_begin"], rfc3339(DAY_1));
    assert_eq!(alert["date_end"], rfc3339(DAY_1_END));
    assert_eq!(alert["day"], "2023-11-15");
    assert_eq!(alert["messages"], 109);
    assert_eq!(alert["failing_messages"], 7);
    // 7 / 109, to four decimals.
    assert_eq!(alert["failure_share"].as_f64(), Some(0.0642));
    assert_eq!(
        alert["sources"],
        json!([{"source_ip": "198.51.100.7", "failing_messages": 7}])
    );
    assert_eq!(alert["sources_total"], 1);
    assert_created_since(&alert, before);
    let line = &server.wait_for_log(NEW_SOURCE, 1)[0];
    assert_fields(
        line,
        &[
            " WARN ",
            "policy_domain=\"example.com\"",
            "org_name=\"google.com\"",
            "report_id=\"new-1\"",
            "sources=1",
            "first=198.51.100.7",
        ],
    );

    // The same source failing again, in another report: nothing new.
    deliver(
        &server,
        &mail(
            "example.com",
            "new-2",
            DAY_1,
            &[
                ("192.0.2.1", 100, Dmarc::Pass),
                ("198.51.100.7", 5, Dmarc::Fail),
            ],
        ),
    );
    // A source never seen failing: an alert again, naming only it. Alerts
    // go out in order, so this being the next request shows new-2 sent none.
    deliver(
        &server,
        &mail(
            "example.com",
            "new-3",
            DAY_1,
            &[
                ("192.0.2.1", 100, Dmarc::Pass),
                ("198.51.100.7", 3, Dmarc::Fail),
                ("203.0.113.9", 4, Dmarc::Fail),
            ],
        ),
    );
    let alert = hook.next().json();
    assert_eq!(alert["report_id"], "new-3");
    assert_eq!(alert["failing_messages"], 7);
    assert_eq!(
        alert["sources"],
        json!([{"source_ip": "203.0.113.9", "failing_messages": 4}])
    );
    server.wait_for_log(NEW_SOURCE, 2);

    // A report with 60 new failing sources: one alert, listing 50 of them,
    // most failing first, and counting all.
    let addresses: Vec<String> = (100..160).map(|i| format!("203.0.113.{i}")).collect();
    let mut records: Vec<(&str, u32, Dmarc)> = addresses
        .iter()
        .map(|ip| (ip.as_str(), 1, Dmarc::Fail))
        .collect();
    records.last_mut().unwrap().1 = 9;
    records.push(("192.0.2.1", 1000, Dmarc::Pass));
    deliver(&server, &mail("example.com", "new-4", DAY_1, &records));
    let alert = hook.next().json();
    assert_eq!(alert["report_id"], "new-4");
    assert_eq!(alert["sources_total"], 60);
    let sources = alert["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 50);
    assert_eq!(
        sources[0],
        json!({"source_ip": "203.0.113.159", "failing_messages": 9})
    );
    assert_eq!(
        sources[1],
        json!({"source_ip": "203.0.113.100", "failing_messages": 1})
    );
    let line = &server.wait_for_log(NEW_SOURCE, 3)[2];
    assert!(
        line.contains("sources=60")
            && line.contains("first=203.0.113.159,203.0.113.100,203.0.113.101,"),
        "{line}"
    );

    assert_eq!(logged(&server, NEW_SOURCE), 3, "{}", server.log());
    assert_eq!(logged(&server, THRESHOLD), 0, "{}", server.log());
    assert!(hook.received().is_empty());
    assert_eq!(
        server.count("SELECT count(*) FROM alerts WHERE kind = 'new_failing_source'"),
        3
    );
    assert_eq!(server.count("SELECT count(*) FROM alerts"), 3);
    assert_eq!(
        server.count(
            "SELECT count(*) FROM alerts a JOIN reports r ON r.id = a.report
             WHERE r.report_id = 'new-3' AND a.day IS NULL
               AND json_extract(a.details, '$.sources[0].source_ip') = '203.0.113.9'"
        ),
        1
    );
    assert_eq!(server.count("SELECT count(*) FROM failing_sources"), 62);
    assert_eq!(
        server.count(
            "SELECT count(*) FROM failing_sources f JOIN reports r ON r.id = f.first_report
             WHERE f.policy_domain = 'example.com' AND f.source_ip = '198.51.100.7'
               AND r.report_id = 'new-1' AND f.first_seen = 1700006400"
        ),
        1
    );
}

#[test]
fn the_failure_threshold_alerts_once_per_domain_and_day() {
    let hook = Webhook::start();
    let server = TestServer::start(&alerts_config(
        &hook.url,
        "failure_share = 0.5\nmin_failing_messages = 10\n",
    ));
    // 30 of 50 fail: over the threshold, from a source new to the domain.
    deliver(
        &server,
        &mail(
            "example.com",
            "d1-a",
            DAY_1,
            &[
                ("192.0.2.1", 20, Dmarc::Pass),
                ("198.51.100.7", 30, Dmarc::Fail),
            ],
        ),
    );
    assert_eq!(hook.next().json()["kind"], "new_failing_source");
    let alert = hook.next().json();
    assert_eq!(
        keys(&alert),
        [
            "created_at",
            "date_begin",
            "date_end",
            "day",
            "failing_messages",
            "failure_share",
            "kind",
            "messages",
            "org_name",
            "policy_domain",
            "report_id"
        ]
    );
    assert_eq!(alert["kind"], "failure_threshold");
    assert_eq!(alert["policy_domain"], "example.com");
    assert_eq!(alert["org_name"], "google.com");
    assert_eq!(alert["report_id"], "d1-a");
    assert_eq!(alert["date_begin"], rfc3339(DAY_1));
    assert_eq!(alert["date_end"], rfc3339(DAY_1_END));
    assert_eq!(alert["day"], "2023-11-15");
    assert_eq!(alert["messages"], 50);
    assert_eq!(alert["failing_messages"], 30);
    assert_eq!(alert["failure_share"].as_f64(), Some(0.6));
    let line = &server.wait_for_log(THRESHOLD, 1)[0];
    assert_fields(
        line,
        &[
            " WARN ",
            "policy_domain=\"example.com\"",
            "report_id=\"d1-a\"",
            "day=\"2023-11-15\"",
            "messages=50",
            "failing_messages=30",
            "failure_share=0.600",
        ],
    );

    // The same domain and day, over the threshold again: already alerted.
    deliver(
        &server,
        &mail(
            "example.com",
            "d1-b",
            DAY_1,
            &[
                ("192.0.2.1", 10, Dmarc::Pass),
                ("198.51.100.7", 40, Dmarc::Fail),
            ],
        ),
    );
    // The next day: all 9 fail, but 9 is under min_failing_messages...
    deliver(
        &server,
        &mail(
            "example.com",
            "d2-few",
            DAY_2,
            &[("198.51.100.7", 9, Dmarc::Fail)],
        ),
    );
    // ... and 40 of 140 is under the share.
    deliver(
        &server,
        &mail(
            "example.com",
            "d2-low",
            DAY_2,
            &[
                ("192.0.2.1", 100, Dmarc::Pass),
                ("198.51.100.7", 40, Dmarc::Fail),
            ],
        ),
    );
    // Exactly at the share (12 of 24) counts: a new day, a new alert. Being
    // the next request shows that the three reports before sent none.
    deliver(
        &server,
        &mail(
            "example.com",
            "d2-even",
            DAY_2,
            &[
                ("192.0.2.1", 12, Dmarc::Pass),
                ("198.51.100.7", 12, Dmarc::Fail),
            ],
        ),
    );
    let alert = hook.next().json();
    assert_eq!(
        (&alert["kind"], &alert["report_id"], &alert["day"]),
        (
            &json!("failure_threshold"),
            &json!("d2-even"),
            &json!("2023-11-16")
        )
    );
    assert_eq!(alert["failure_share"].as_f64(), Some(0.5));
    // Another domain on that day has a threshold of its own.
    deliver(
        &server,
        &mail(
            "example.org",
            "org-1",
            DAY_2,
            &[("198.51.100.7", 25, Dmarc::Fail)],
        ),
    );
    assert_eq!(hook.next().json()["kind"], "new_failing_source");
    let alert = hook.next().json();
    assert_eq!(
        (&alert["kind"], &alert["policy_domain"], &alert["day"]),
        (
            &json!("failure_threshold"),
            &json!("example.org"),
            &json!("2023-11-16")
        )
    );

    assert_logged(&server, THRESHOLD, 3);
    assert_eq!(logged(&server, NEW_SOURCE), 2, "{}", server.log());
    assert!(hook.received().is_empty());
    assert_eq!(
        text(
            &server.db,
            "SELECT group_concat(policy_domain || ' ' || day, ', ') FROM
             (SELECT policy_domain, day FROM alerts WHERE kind = 'failure_threshold' ORDER BY id)"
        ),
        "example.com 2023-11-15, example.com 2023-11-16, example.org 2023-11-16"
    );
}

#[test]
fn a_webhook_that_hangs_or_refuses_never_holds_up_delivery() {
    let timeout = Duration::from_secs(2);
    for (url, cause) in [
        (silent_listener(), "no answer within 2 s"),
        (refused_url(), "refused"),
    ] {
        let server = TestServer::start(&alerts_config(&url, "webhook_timeout_secs = 2\n"));
        for (i, ip) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
            .into_iter()
            .enumerate()
        {
            let took = deliver(
                &server,
                &mail(
                    "example.com",
                    &format!("hang-{i}"),
                    DAY_1,
                    &[("192.0.2.1", 100, Dmarc::Pass), (ip, 1, Dmarc::Fail)],
                ),
            );
            assert!(took < timeout, "{url}: delivery {i} took {took:?}");
        }
        server.wait_for_log(NEW_SOURCE, 3);
        let failure = &server.wait_for_log(WEBHOOK_FAILED, 1)[0];
        assert!(
            failure.contains(" WARN ")
                && failure.contains("kind=\"new_failing_source\"")
                && failure.contains(cause),
            "{url}: {failure}"
        );
        assert_eq!(server.count("SELECT count(*) FROM alerts"), 3);
    }
}

#[test]
fn a_full_webhook_queue_drops_alerts_and_shutdown_waits_only_the_timeout() {
    let url = silent_listener();
    let mut server = TestServer::start(&alerts_config(&url, "webhook_timeout_secs = 3\n"));
    // More alerts than the queue holds while the webhook hangs on the first.
    let mut client = server.connect();
    assert_eq!(client.reply().0, 220);
    assert_eq!(client.command("EHLO mail-sor-f41.google.com").0, 250);
    for i in 0..80 {
        let ip = format!("198.51.100.{i}");
        let raw = mail(
            "example.com",
            &format!("full-{i}"),
            DAY_1,
            &[("192.0.2.1", 100, Dmarc::Pass), (&ip, 1, Dmarc::Fail)],
        );
        let (code, text) = client.deliver(
            "noreply-dmarc-support@google.com",
            "dmarc@reports.example.com",
            &raw,
        );
        assert_eq!(code, 250, "{text}");
    }
    assert_eq!(client.command("QUIT").0, 221);
    server.wait_for_log("alert not posted to the webhook: its queue is full", 1);
    assert_eq!(server.count("SELECT count(*) FROM alerts"), 80);

    server.signal("TERM");
    let stopping = Instant::now();
    let status = server.wait();
    let took = stopping.elapsed();
    assert!(status.success(), "{status:?}\n{}", server.log());
    // 64 queued POSTs of 3 s each would take minutes; shutdown gives them
    // the timeout in all.
    assert!(took < Duration::from_secs(15), "{took:?}");
    let abandoned = &server.wait_for_log("alerts not posted to the webhook before shutdown", 1)[0];
    assert!(abandoned.contains("abandoned="), "{abandoned}");
}

#[test]
fn import_learns_failing_sources_without_alerting() {
    let hook = Webhook::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    // Both over the default threshold, both with new failing sources.
    let reports = [("imp-1", "198.51.100.7"), ("imp-2", "203.0.113.9")];
    for (report_id, ip) in reports {
        let xml = dmarc_report_xml(
            "google.com",
            report_id,
            "example.com",
            DAY_1,
            &[(ip, 30, Dmarc::Fail)],
        );
        std::fs::write(
            inbox.join(format!("{report_id}.xml.gz")),
            gzip(xml.as_bytes()),
        )
        .unwrap();
    }
    import_without_alerting(dir.path(), &db, &inbox, &hook.url);
    assert_eq!(count(&db, "SELECT count(*) FROM reports"), 2);
    assert_eq!(count(&db, "SELECT count(*) FROM failing_sources"), 2);
    assert_eq!(count(&db, "SELECT count(*) FROM alerts"), 0);

    // serve over that store knows those sources already.
    let server = TestServer::start_in(dir, &alerts_config(&hook.url, ""));
    deliver(
        &server,
        &mail(
            "example.com",
            "after-import-1",
            DAY_2,
            &[
                ("192.0.2.1", 100, Dmarc::Pass),
                ("198.51.100.7", 2, Dmarc::Fail),
                ("203.0.113.9", 1, Dmarc::Fail),
            ],
        ),
    );
    deliver(
        &server,
        &mail(
            "example.com",
            "after-import-2",
            DAY_2,
            &[
                ("192.0.2.1", 100, Dmarc::Pass),
                ("192.0.2.99", 3, Dmarc::Fail),
            ],
        ),
    );
    let alert = hook.next().json();
    assert_eq!(alert["report_id"], "after-import-2");
    assert_eq!(
        alert["sources"],
        json!([{"source_ip": "192.0.2.99", "failing_messages": 3}])
    );
    assert_logged(&server, NEW_SOURCE, 1);
    assert!(hook.received().is_empty());
}

#[test]
fn a_version_1_store_is_migrated_and_its_failing_sources_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(include_str!("../src/store/schema.sql"))
            .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO messages (id, received_at, source, size, raw_encoding, outcome)
                 VALUES (1, 1700100000, 'import', 100, 'identity', 'stored');
             INSERT INTO reports (id, message, member, org_name, report_id, date_begin, date_end,
                                  policy_domain)
                 VALUES (1, 1, '0', 'google.com', 'v1-later', 1700092800, 1700179199, 'example.com'),
                        (2, 1, '1', 'google.com', 'v1-first', 1700006400, 1700092799, 'example.com'),
                        (3, 1, '2', 'google.com', 'v1-org', 1700006400, 1700092799, 'example.org');
             INSERT INTO records (report, source_ip, count, dkim, spf) VALUES
                 (1, '198.51.100.7', 5, 'fail', 'fail'),
                 (1, '192.0.2.1', 50, 'pass', 'fail'),
                 (2, '198.51.100.7', 3, 'fail', NULL),
                 (3, '198.51.100.7', 4, 'fail', 'pass');",
        )
        .unwrap();
    }
    let hook = Webhook::start();
    let server = TestServer::start_in(dir, &alerts_config(&hook.url, ""));
    assert_eq!(server.count("PRAGMA user_version"), 7);
    // Failing for example.com since its earliest report; never for
    // example.org, where SPF passed aligned.
    assert_eq!(server.count("SELECT count(*) FROM failing_sources"), 1);
    assert_eq!(
        server.count(
            "SELECT count(*) FROM failing_sources WHERE policy_domain = 'example.com'
             AND source_ip = '198.51.100.7' AND first_report = 2 AND first_seen = 1700006400"
        ),
        1
    );
    deliver(
        &server,
        &mail(
            "example.com",
            "v2-known",
            DAY_2,
            &[
                ("192.0.2.1", 100, Dmarc::Pass),
                ("198.51.100.7", 2, Dmarc::Fail),
            ],
        ),
    );
    deliver(
        &server,
        &mail(
            "example.org",
            "v2-new",
            DAY_2,
            &[
                ("192.0.2.1", 100, Dmarc::Pass),
                ("198.51.100.7", 2, Dmarc::Fail),
            ],
        ),
    );
    let alert = hook.next().json();
    assert_eq!(
        (&alert["report_id"], &alert["policy_domain"]),
        (&json!("v2-new"), &json!("example.org"))
    );
    assert_logged(&server, NEW_SOURCE, 1);
}

#[test]
fn a_new_tls_failure_type_alerts_once_per_domain() {
    let hook = Webhook::start();
    let server = TestServer::start(&alerts_config(&hook.url, ""));
    let before = now();
    deliver(
        &server,
        &tls_mail(
            "tls-1",
            vec![TlsPolicy::sts(
                "example.com",
                500,
                vec![
                    TlsFailure::new("certificate-expired", "mx2.example.com", 3),
                    TlsFailure::new("starttls-not-supported", "mx2.example.com", 2),
                    TlsFailure::new("certificate-expired", "mx1.example.com", 5),
                ],
            )],
        ),
    );
    let request = hook.next();
    assert_eq!(request.request_line, "POST /hooks/dmarc HTTP/1.1");
    assert_eq!(request.header("content-type"), Some("application/json"));
    let alert = request.json();
    assert_eq!(
        keys(&alert),
        [
            "created_at",
            "date_begin",
            "date_end",
            "failed_sessions",
            "failure_types",
            "failure_types_total",
            "kind",
            "org_name",
            "policy_domain",
            "report_id",
            "successful_sessions"
        ]
    );
    assert_eq!(alert["kind"], "new_tls_failure");
    assert_eq!(alert["policy_domain"], "example.com");
    assert_eq!(alert["org_name"], "google.com");
    assert_eq!(alert["report_id"], "tls-1");
    assert_eq!(alert["date_begin"], rfc3339(DAY_1));
    assert_eq!(alert["date_end"], rfc3339(DAY_1_END));
    assert_eq!(alert["successful_sessions"], 500);
    assert_eq!(alert["failed_sessions"], 10);
    // Most failed sessions first; each type's MX hosts once, sorted.
    assert_eq!(
        alert["failure_types"],
        json!([
            {
                "result_type": "certificate-expired",
                "failed_sessions": 8,
                "receiving_mx": ["mx1.example.com", "mx2.example.com"],
                "receiving_mx_total": 2
            },
            {
                "result_type": "starttls-not-supported",
                "failed_sessions": 2,
                "receiving_mx": ["mx2.example.com"],
                "receiving_mx_total": 1
            }
        ])
    );
    assert_eq!(alert["failure_types_total"], 2);
    assert_created_since(&alert, before);
    let line = &server.wait_for_log(NEW_TLS_FAILURE, 1)[0];
    assert_fields(
        line,
        &[
            " WARN ",
            "dmarc_sink::alert:",
            "kind=\"new_tls_failure\"",
            "policy_domain=\"example.com\"",
            "org_name=\"google.com\"",
            "report_id=\"tls-1\"",
            "result_types=certificate-expired,starttls-not-supported",
            "failed_sessions=10",
            "successful_sessions=500",
        ],
    );
    // Recorded against the TLS report: alerts.report only names aggregate
    // reports.
    assert_eq!(
        server.count(
            "SELECT count(*) FROM alerts a JOIN tls_reports t ON t.id = a.tls_report
             WHERE t.report_id = 'tls-1' AND a.kind = 'new_tls_failure'
               AND a.policy_domain = 'example.com' AND a.report IS NULL AND a.day IS NULL
               AND json_extract(a.details, '$.failure_types[1].result_type')
                   = 'starttls-not-supported'"
        ),
        1
    );

    // The same types again, in another report: nothing new.
    deliver(
        &server,
        &example_com_tls_mail(
            "tls-2",
            vec![
                TlsFailure::new("certificate-expired", "mx1.example.com", 40),
                TlsFailure::new("starttls-not-supported", "mx1.example.com", 1),
            ],
        ),
    );
    // A type never seen for the domain: an alert naming only it. Alerts go
    // out in order, so this being the next request shows tls-2 sent none.
    deliver(
        &server,
        &example_com_tls_mail(
            "tls-3",
            vec![
                TlsFailure::new("certificate-expired", "mx1.example.com", 4),
                TlsFailure::new("validation-failure", "mx2.example.com", 6),
            ],
        ),
    );
    let alert = hook.next().json();
    assert_eq!(alert["report_id"], "tls-3");
    assert_eq!(alert["failed_sessions"], 10);
    assert_eq!(
        alert["failure_types"],
        json!([{
            "result_type": "validation-failure",
            "failed_sessions": 6,
            "receiving_mx": ["mx2.example.com"],
            "receiving_mx_total": 1
        }])
    );
    assert_eq!(alert["failure_types_total"], 1);

    // One report about two domains: an alert for each domain with a new
    // type, none for the domain with only known ones.
    deliver(
        &server,
        &tls_mail(
            "tls-4",
            vec![
                policy(
                    "example.com",
                    vec![TlsFailure::new("certificate-expired", "mx1.example.com", 1)],
                ),
                policy(
                    "example.org",
                    vec![TlsFailure::new("certificate-expired", "mx1.example.org", 7)],
                ),
                policy(
                    "example.net",
                    vec![TlsFailure::new(
                        "sts-policy-fetch-error",
                        "mx1.example.net",
                        2,
                    )],
                ),
            ],
        ),
    );
    let first = hook.next().json();
    let second = hook.next().json();
    assert_eq!(
        [&first["policy_domain"], &second["policy_domain"]],
        [&json!("example.net"), &json!("example.org")]
    );
    assert_eq!(first["report_id"], "tls-4");
    assert_eq!(
        first["failure_types"][0]["result_type"],
        "sts-policy-fetch-error"
    );
    assert_eq!(second["report_id"], "tls-4");
    assert_eq!(
        second["failure_types"][0]["result_type"],
        "certificate-expired"
    );

    assert_logged(&server, NEW_TLS_FAILURE, 4);
    assert_eq!(logged(&server, NEW_SOURCE), 0, "{}", server.log());
    assert!(hook.received().is_empty());
    assert_eq!(
        server.count("SELECT count(*) FROM alerts WHERE kind = 'new_tls_failure'"),
        4
    );
    assert_eq!(server.count("SELECT count(*) FROM alerts"), 4);
    assert_eq!(server.count("SELECT count(*) FROM tls_failure_types"), 5);
}

#[test]
fn a_tls_report_of_only_successes_raises_no_alert() {
    let hook = Webhook::start();
    let server = TestServer::start(&alerts_config(&hook.url, ""));
    deliver(&server, &example_com_tls_mail("tls-clean", Vec::new()));
    // Being the next request shows the clean report sent none.
    deliver(
        &server,
        &example_com_tls_mail(
            "tls-failing",
            vec![TlsFailure::new(
                "starttls-not-supported",
                "mx1.example.com",
                1,
            )],
        ),
    );
    let alert = hook.next().json();
    assert_eq!(
        (&alert["kind"], &alert["report_id"]),
        (&json!("new_tls_failure"), &json!("tls-failing"))
    );
    assert_logged(&server, NEW_TLS_FAILURE, 1);
    assert!(hook.received().is_empty());
    assert_eq!(server.count("SELECT count(*) FROM tls_reports"), 2);
    assert_eq!(server.count("SELECT count(*) FROM alerts"), 1);
}

#[test]
fn a_tls_alert_lists_at_most_20_types_and_10_mx_hosts_of_each() {
    let hook = Webhook::start();
    let server = TestServer::start(&alerts_config(&hook.url, ""));
    // A reporter inventing its own result types, and naming many hosts.
    let types: Vec<String> = (0..25).map(|i| format!("x-custom-{i:02}")).collect();
    let hosts: Vec<String> = (0..12).map(|i| format!("mx{i:02}.example.com")).collect();
    let mut failures: Vec<TlsFailure<'_>> = types
        .iter()
        .map(|t| TlsFailure::new(t, "mx1.example.com", 1))
        .collect();
    failures.extend(
        hosts
            .iter()
            .map(|mx| TlsFailure::new("certificate-expired", mx, 2)),
    );
    deliver(&server, &example_com_tls_mail("tls-many", failures));
    let alert = hook.next().json();
    assert_eq!(alert["failure_types_total"], 26);
    let listed = alert["failure_types"].as_array().unwrap();
    assert_eq!(listed.len(), 20);
    assert_eq!(listed[0]["result_type"], "certificate-expired");
    assert_eq!(listed[0]["failed_sessions"], 24);
    assert_eq!(listed[0]["receiving_mx_total"], 12);
    let mx: Vec<&str> = listed[0]["receiving_mx"]
        .as_array()
        .unwrap()
        .iter()
        .map(|mx| mx.as_str().unwrap())
        .collect();
    assert_eq!(
        mx,
        &hosts.iter().map(String::as_str).collect::<Vec<_>>()[..10]
    );
    // Then by result type.
    assert_eq!(listed[1]["result_type"], "x-custom-00");
    assert_eq!(listed[19]["result_type"], "x-custom-18");
    let line = &server.wait_for_log(NEW_TLS_FAILURE, 1)[0];
    assert!(
        line.contains("result_types=certificate-expired,x-custom-00,"),
        "{line}"
    );
}

#[test]
fn import_learns_tls_failure_types_without_alerting() {
    let hook = Webhook::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    // A bare gzip report, as saved from a reporter's mail, and a whole mail.
    let report = TlsReport::new(
        "google.com",
        "imp-tls-1",
        DAY_1,
        vec![policy(
            "example.com",
            vec![TlsFailure::new("certificate-expired", "mx1.example.com", 3)],
        )],
    );
    std::fs::write(
        inbox.join(report.file_name()),
        gzip(report.json().as_bytes()),
    )
    .unwrap();
    std::fs::write(
        inbox.join("imp-tls-2.eml"),
        example_com_tls_mail(
            "imp-tls-2",
            vec![TlsFailure::new(
                "starttls-not-supported",
                "mx2.example.com",
                1,
            )],
        ),
    )
    .unwrap();
    import_without_alerting(dir.path(), &db, &inbox, &hook.url);
    assert_eq!(count(&db, "SELECT count(*) FROM tls_reports"), 2);
    assert_eq!(count(&db, "SELECT count(*) FROM tls_failure_types"), 2);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM tls_failure_types f JOIN tls_reports r ON r.id = f.first_report
             WHERE f.policy_domain = 'example.com' AND f.result_type = 'certificate-expired'
               AND r.report_id = 'imp-tls-1' AND f.first_seen = 1700006400"
        ),
        1
    );
    assert_eq!(count(&db, "SELECT count(*) FROM alerts"), 0);

    // serve over that store knows those types already.
    let server = TestServer::start_in(dir, &alerts_config(&hook.url, ""));
    deliver(
        &server,
        &example_com_tls_mail(
            "after-import-tls-1",
            vec![
                TlsFailure::new("certificate-expired", "mx1.example.com", 9),
                TlsFailure::new("starttls-not-supported", "mx2.example.com", 9),
            ],
        ),
    );
    deliver(
        &server,
        &example_com_tls_mail(
            "after-import-tls-2",
            vec![
                TlsFailure::new("certificate-expired", "mx1.example.com", 1),
                TlsFailure::new("validation-failure", "mx1.example.com", 2),
            ],
        ),
    );
    let alert = hook.next().json();
    assert_eq!(alert["report_id"], "after-import-tls-2");
    assert_eq!(
        alert["failure_types"],
        json!([{
            "result_type": "validation-failure",
            "failed_sessions": 2,
            "receiving_mx": ["mx1.example.com"],
            "receiving_mx_total": 1
        }])
    );
    assert_logged(&server, NEW_TLS_FAILURE, 1);
    assert!(hook.received().is_empty());
}

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

fn text(db: &Path, sql: &str) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}
