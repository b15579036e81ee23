//! SMTP TLS reports (RFC 8460) and DMARC failure reports (RFC 6591), end to
//! end: mails built here as reporters send them, delivered to a real
//! `dmarc-sink serve` with a real SMTP client (lettre) or imported, and read
//! back from the SQLite file.

use crate::util::mail::{Part, gzip, report_mail, report_xml};
use crate::util::server::TestServer;
use crate::util::tls_failure::{
    FailedMessage, TlsFailure, TlsPolicy, TlsReport, failure_report_mail, tls_report_mail,
};
use crate::util::{TempStore, dmarc_sink, text};
use dmarc_sink::ingest::{Envelope, MessageOutcome, PayloadOutcome, ingest_message, reparse};
use dmarc_sink::limits::Limits;
use dmarc_sink::report::ReportKind;
use dmarc_sink::store::Source;
use lettre::address::Envelope as SmtpEnvelope;
use lettre::transport::smtp::extension::ClientId;
use lettre::{SmtpTransport, Transport};

/// 9 January 2024, the day Google's reports here cover.
const JAN_9: i64 = 1_704_758_400;

/// A TLS report as Google sends it over `JAN_9`: one STS policy for
/// `domain` with 40 successful sessions and the given failures.
fn google_tls_report<'a>(
    report_id: &'a str,
    domain: &'a str,
    failures: Vec<TlsFailure<'a>>,
) -> TlsReport<'a> {
    TlsReport {
        org_name: "Google Inc.",
        ..TlsReport::new(
            "google.com",
            report_id,
            JAN_9,
            vec![TlsPolicy::sts(domain, 40, failures)],
        )
    }
}

/// A TLS report mail from google.com about example.com over `JAN_9`,
/// carrying `json` whatever it holds.
fn tls_mail(report_id: &str, json: &str) -> Vec<u8> {
    tls_report_mail("google.com", "example.com", report_id, JAN_9, json)
}

/// The message a failure report is about: headers that name its sender and
/// a body that is somebody's mail.
const FAILED_MESSAGE: &str = "From: ceo@example.com\r\nTo: someone@example.net\r\n\
Subject: Quarterly figures\r\nMessage-ID: <q3@example.com>\r\n\r\n\
Dear Sam, the private figures are attached.\r\n";

/// A DMARC failure report from receiver.example about example.com with the
/// given feedback fields and the failed message whole.
fn failure_mail(message_id: &str, fields: &str) -> Vec<u8> {
    failure_report_mail(
        "receiver.example",
        message_id,
        "example.com",
        fields,
        FailedMessage::Whole(FAILED_MESSAGE),
    )
}

const FIELDS: &str = "Feedback-Type: auth-failure\r\nUser-Agent: Receiver/2.1\r\nVersion: 1\r\n\
Original-Mail-From: <bounce@mailer.example.org>\r\nOriginal-Rcpt-To: <someone@example.net>\r\n\
Arrival-Date: Tue, 09 Jan 2024 10:11:12 +0000\r\nSource-IP: 198.51.100.9\r\n\
Reported-Domain: Example.com\r\nAuth-Failure: DMARC\r\nDelivery-Result: Reject\r\n\
DKIM-Domain: example.com\r\nDKIM-Selector: s2024\r\nIncidents: 3";

fn mailer(server: &TestServer) -> SmtpTransport {
    SmtpTransport::builder_dangerous("127.0.0.1")
        .port(server.addr.port())
        .hello_name(ClientId::Domain("mail.receiver.example".into()))
        .build()
}

/// Delivers raw bytes to one address, returning the reply's code.
fn deliver(server: &TestServer, to: &str, raw: &[u8]) -> String {
    let envelope = SmtpEnvelope::new(
        Some("reporter@receiver.example".parse().unwrap()),
        vec![to.parse().unwrap()],
    )
    .unwrap();
    match mailer(server).send_raw(&envelope, raw) {
        Ok(response) => response.code().to_string(),
        Err(error) => error
            .status()
            .map(|code| code.to_string())
            .unwrap_or_else(|| error.to_string()),
    }
}

fn ingest(temp: &mut TempStore, raw: &[u8], limits: &Limits) -> MessageOutcome {
    ingest_message(
        &mut temp.store,
        raw,
        Source::Smtp,
        None,
        &Envelope::default(),
        limits,
    )
    .expect("ingest")
}

fn count(temp: &TempStore, sql: &str) -> i64 {
    temp.store
        .connection()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

#[test]
fn one_address_takes_all_three_kinds_by_content() {
    let server = TestServer::start("");
    let address = "reports@reports.example.com";
    let failure = TlsFailure {
        receiving_ip: Some("192.0.2.25"),
        ..TlsFailure::new("certificate-expired", "mx1.example.com", 5)
    };
    let json = google_tls_report(
        "2024-01-09T00:00:00Z_example.com",
        "example.com",
        vec![failure],
    )
    .json();
    let aggregate = report_mail(
        "Report domain: example.com Submitter: google.com Report-ID: agg-1",
        "agg-1@google.com",
        vec![Part::attachment(
            "application/gzip",
            "google.com!example.com!1704758400!1704844799.xml.gz",
            &gzip(report_xml("google.com", "agg-1", "example.com", &[("192.0.2.1", 4)]).as_bytes()),
        )],
    );
    assert_eq!(deliver(&server, address, &tls_mail("t1", &json)), "250");
    assert_eq!(
        deliver(
            &server,
            address,
            &failure_mail("f1@receiver.example", FIELDS)
        ),
        "250"
    );
    assert_eq!(deliver(&server, address, &aggregate), "250");

    // 250 comes after the commit: every row is there now.
    assert_eq!(server.count("SELECT count(*) FROM reports"), 1);
    assert_eq!(
        server.count(
            "SELECT count(*) FROM tls_reports WHERE org_name = 'Google Inc.'
             AND report_id = '2024-01-09T00:00:00Z_example.com' AND date_begin = 1704758400
             AND date_end = 1704844799 AND contact_info = 'smtp-tls-reporting@google.com'
             AND message = (SELECT id FROM messages WHERE message_id = 'tls-t1@google.com')"
        ),
        1
    );
    assert_eq!(
        server.count(
            "SELECT count(*) FROM tls_policies WHERE policy_type = 'sts'
             AND policy_domain = 'example.com' AND mx_host = 'mx1.example.com'
             AND policy_string LIKE 'version: STSv1' || char(10) || 'mode: enforce%'
             AND successful_sessions = 40 AND failed_sessions = 5"
        ),
        1
    );
    assert_eq!(
        server.count(
            "SELECT count(*) FROM tls_failures WHERE result_type = 'certificate-expired'
             AND sending_mta_ip = '209.85.220.41' AND receiving_mx_hostname = 'mx1.example.com'
             AND receiving_ip = '192.0.2.25' AND failed_sessions = 5"
        ),
        1
    );
    assert_eq!(
        server.count(
            "SELECT count(*) FROM failure_reports WHERE feedback_type = 'auth-failure'
             AND auth_failure = 'dmarc' AND source_ip = '198.51.100.9'
             AND reported_domain = 'example.com'
             AND original_mail_from = 'bounce@mailer.example.org'
             AND original_rcpt_to = 'someone@example.net' AND arrival_date = 1704795072
             AND delivery_result = 'reject' AND dkim_domain = 'example.com'
             AND dkim_selector = 's2024' AND incidents = 3 AND reporter = 'receiver.example'
             AND original_headers LIKE '%Subject: Quarterly figures%'
             AND original_body IS NULL
             AND json_extract(fields, '$[1]') = json('[\"User-Agent\",\"Receiver/2.1\"]')"
        ),
        1
    );
    assert_eq!(
        server.count("SELECT count(*) FROM messages WHERE outcome = 'stored'"),
        3
    );
    let lines = server.wait_for_log("outcome=\"stored\"", 3);
    let log = lines.join("\n");
    assert!(
        log.contains(
            "tlsrpt Google Inc. 2024-01-09T00:00:00Z_example.com example.com records=1 messages=45"
        ) && log.contains(
            "failure receiver.example f1@receiver.example example.com records=1 messages=3"
        ) && log.contains("aggregate google.com agg-1 example.com records=1 messages=4"),
        "{log}"
    );
}

#[test]
fn failure_bodies_are_kept_only_when_configured() {
    let server = TestServer::start("[store]\nkeep_failure_bodies = true\n");
    let raw = failure_mail("f2@receiver.example", FIELDS);
    assert_eq!(deliver(&server, "ruf@reports.example.com", &raw), "250");
    assert_eq!(
        server.count(
            "SELECT count(*) FROM failure_reports
             WHERE CAST(original_body AS TEXT) LIKE 'Dear Sam, the private figures%'"
        ),
        1
    );
    // Without the setting (the default), the headers alone: see the test above.
}

#[test]
fn retries_are_recognised_and_stored_once() {
    let mut temp = TempStore::new();
    let limits = Limits::default();
    let json = google_tls_report(
        "r-1",
        "example.com",
        vec![TlsFailure::new(
            "starttls-not-supported",
            "mx2.example.com",
            2,
        )],
    )
    .json();
    let first = ingest(&mut temp, &tls_mail("r-1", &json), &limits);
    let again = ingest(&mut temp, &tls_mail("r-1", &json), &limits);
    assert_eq!(
        (first.verdict().as_str(), again.verdict().as_str()),
        ("stored", "duplicate")
    );
    let PayloadOutcome::Duplicate { report, .. } = &again.payloads[0].outcome else {
        panic!("{again:?}");
    };
    assert_eq!(report.kind, ReportKind::Tls);
    assert_eq!(count(&temp, "SELECT count(*) FROM tls_policies"), 1);
    assert_eq!(count(&temp, "SELECT count(*) FROM tls_failures"), 1);

    let ruf = failure_mail("f3@receiver.example", FIELDS);
    let first = ingest(&mut temp, &ruf, &limits);
    let again = ingest(&mut temp, &ruf, &limits);
    assert_eq!(
        (first.verdict().as_str(), again.verdict().as_str()),
        ("stored", "duplicate")
    );
    assert_eq!(first.payloads[0].member, "2");
    assert_eq!(count(&temp, "SELECT count(*) FROM failure_reports"), 1);
    // Another report from the same reporter is another report.
    let other = ingest(
        &mut temp,
        &failure_mail("f4@receiver.example", FIELDS),
        &limits,
    );
    assert_eq!(other.verdict().as_str(), "stored");
    assert_eq!(count(&temp, "SELECT count(*) FROM failure_reports"), 2);
    // A stranger's message that takes a report's Message-ID in advance
    // does not make the real report a duplicate: its fields differ.
    let spoof = FIELDS.replace("198.51.100.9", "203.0.113.66");
    let first = ingest(
        &mut temp,
        &failure_mail("f5@receiver.example", &spoof),
        &limits,
    );
    let real = ingest(
        &mut temp,
        &failure_mail("f5@receiver.example", FIELDS),
        &limits,
    );
    assert_eq!(
        (first.verdict().as_str(), real.verdict().as_str()),
        ("stored", "stored")
    );
    assert_eq!(
        count(
            &temp,
            "SELECT count(*) FROM failure_reports
             WHERE report_message_id = 'f5@receiver.example' AND source_ip = '198.51.100.9'"
        ),
        1
    );
}

#[test]
fn unreadable_reports_are_quarantined_with_the_reason() {
    let mut temp = TempStore::new();
    let limits = Limits::default();
    let cases: [(&str, Vec<u8>, &str, &str); 4] = [
        (
            "broken JSON",
            tls_mail(
                "bad-1",
                "{\"organization-name\": \"Google Inc.\", \"policies\": [",
            ),
            "json",
            "malformed JSON",
        ),
        (
            "no policy-domain",
            tls_mail(
                "bad-2",
                &google_tls_report("bad-2", "example.com", Vec::new())
                    .json()
                    .replace("\"policy-domain\": \"example.com\",", ""),
            ),
            "missing_element",
            "required element <policy-domain> missing or empty in policies[0]",
        ),
        (
            "a date that is not one",
            tls_mail(
                "bad-3",
                &google_tls_report("bad-3", "example.com", Vec::new())
                    .json()
                    .replace("2024-01-09T00:00:00Z", "9 Jan"),
            ),
            "invalid_value",
            "<start-datetime> is \"9 Jan\", expected an RFC 3339 date-time",
        ),
        (
            "no Reported-Domain",
            failure_mail(
                "bad-4@receiver.example",
                &FIELDS.replace("Reported-Domain: Example.com\r\n", ""),
            ),
            "missing_element",
            "required element <Reported-Domain> missing or empty in the message/feedback-report part",
        ),
    ];
    for (what, raw, kind, error) in cases {
        let outcome = ingest(&mut temp, &raw, &limits);
        assert_eq!(
            outcome.verdict().as_str(),
            "quarantined",
            "{what}: {outcome:?}"
        );
        let stored: (String, String) = temp
            .store
            .connection()
            .query_row(
                "SELECT kind, error FROM quarantine WHERE message = ?1",
                [outcome.message],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(stored.0, kind, "{what}");
        assert!(stored.1.starts_with(error), "{what}: {}", stored.1);
    }
    assert_eq!(count(&temp, "SELECT count(*) FROM tls_reports"), 0);
    assert_eq!(count(&temp, "SELECT count(*) FROM failure_reports"), 0);
}

#[test]
fn a_report_over_the_json_limit_is_quarantined_and_recovered_by_reparse() {
    let mut temp = TempStore::new();
    let json = google_tls_report(
        "big-1",
        "example.com",
        vec![TlsFailure::new("validation-failure", "mx1.example.com", 1)],
    )
    .json();
    let tight = Limits {
        max_json_bytes: 100,
        ..Limits::default()
    };
    let outcome = ingest(&mut temp, &tls_mail("big-1", &json), &tight);
    let PayloadOutcome::Quarantined { kind, error } = &outcome.payloads[0].outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(kind.as_str(), "limit");
    assert!(error.contains("limits.max_json_bytes"), "{error}");

    let summary = reparse(&mut temp.store, false, &Limits::default()).unwrap();
    assert_eq!((summary.recovered, summary.still_quarantined), (1, 0));
    assert_eq!(count(&temp, "SELECT count(*) FROM quarantine"), 0);
    assert_eq!(count(&temp, "SELECT count(*) FROM tls_failures"), 1);
    // Reading everything again adds nothing.
    reparse(&mut temp.store, true, &Limits::default()).unwrap();
    assert_eq!(count(&temp, "SELECT count(*) FROM tls_reports"), 1);
    assert_eq!(count(&temp, "SELECT count(*) FROM tls_failures"), 1);
}

#[test]
fn a_forwarded_failure_report_is_read_inside_the_forward() {
    let mut temp = TempStore::new();
    let forward = report_mail(
        "Fwd: DMARC failure report",
        "fwd-1@example.com",
        vec![Part::message(&failure_mail("f5@receiver.example", FIELDS))],
    );
    let outcome = ingest(&mut temp, &forward, &Limits::default());
    assert_eq!(outcome.verdict().as_str(), "stored", "{outcome:?}");
    // Parts: 0 the forward, 1 its text, 2 the attached report message,
    // 3 that message itself, 4 its text, 5 its feedback part.
    assert_eq!(outcome.payloads[0].member, "5");
    assert_eq!(
        count(
            &temp,
            "SELECT count(*) FROM failure_reports WHERE incidents = 3"
        ),
        1
    );
}

#[test]
fn import_reads_bare_tls_json_and_gzip_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    let plain = dir
        .path()
        .join("google.com!example.com!1704758400!1704844799!a.json");
    let packed = dir
        .path()
        .join("google.com!example.org!1704758400!1704844799!b.json.gz");
    std::fs::write(
        &plain,
        google_tls_report(
            "a",
            "example.com",
            vec![TlsFailure::new("certificate-expired", "mx1.example.com", 5)],
        )
        .json(),
    )
    .unwrap();
    std::fs::write(
        &packed,
        gzip(
            google_tls_report("b", "example.org", Vec::new())
                .json()
                .as_bytes(),
        ),
    )
    .unwrap();
    let output = dmarc_sink(&[
        "--db",
        db.to_str().unwrap(),
        "import",
        plain.to_str().unwrap(),
        packed.to_str().unwrap(),
    ]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(
        stdout.contains(
            "2 messages, 0 reports (0 records), 2 TLS reports, 0 failure reports, 0 duplicates"
        ),
        "{stdout}"
    );
}

/// A store written by a version that kept TLS and failure reports in
/// quarantine as `unsupported` (schema version 2) is upgraded on open, and
/// `reparse` reads them.
#[test]
fn reparse_reads_what_an_earlier_version_kept_as_unsupported() {
    let mut temp = TempStore::new();
    let limits = Limits::default();
    let tls = google_tls_report(
        "old-1",
        "example.com",
        vec![TlsFailure::new("certificate-expired", "mx1.example.com", 5)],
    );
    let tls = ingest(&mut temp, &tls_mail("old-1", &tls.json()), &limits);
    let ruf = ingest(
        &mut temp,
        &failure_mail("old-2@receiver.example", FIELDS),
        &limits,
    );
    // What that version left: the messages and their raw bytes, each
    // report payload in quarantine, nothing in the report tables.
    let connection = temp.store.connection();
    for outcome in [&tls, &ruf] {
        connection
            .execute(
                "INSERT INTO quarantine (message, member, kind, error, created_at)
                 VALUES (?1, ?2, 'unsupported', 'not read by this version, kept for reparse', 0)",
                (outcome.message, &outcome.payloads[0].member),
            )
            .unwrap();
    }
    connection
        .execute_batch(
            "DELETE FROM tls_failure_types; DELETE FROM tls_failures; DELETE FROM tls_policies;
             DELETE FROM tls_reports; DELETE FROM failure_reports;
             UPDATE messages SET outcome = 'quarantined';",
        )
        .unwrap();

    let summary = reparse(&mut temp.store, false, &limits).unwrap();
    assert_eq!(
        (
            summary.messages,
            summary.recovered,
            summary.still_quarantined
        ),
        (2, 2, 0)
    );
    assert_eq!(count(&temp, "SELECT count(*) FROM quarantine"), 0);
    assert_eq!(
        count(
            &temp,
            "SELECT count(*) FROM tls_failures WHERE failed_sessions = 5"
        ),
        1
    );
    assert_eq!(
        count(
            &temp,
            "SELECT count(*) FROM failure_reports WHERE incidents = 3"
        ),
        1
    );
    assert_eq!(
        count(
            &temp,
            "SELECT count(*) FROM messages WHERE outcome = 'stored'"
        ),
        2
    );
}
