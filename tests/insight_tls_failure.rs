//! `summary` and `sources` over SMTP TLS reports and DMARC failure reports,
//! as a user runs them: JSON reports and ARF mails written here, imported
//! by the binary into a real store, read back by the real commands.

use crate::util::report::{Report, Row};
use crate::util::tls_failure::{FailureReport, TlsFailure, TlsPolicy, TlsReport};
use crate::util::{dmarc_sink, insight_command, insight_json, rfc3339, text};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// 2026-11-01T00:00:00Z.
const NOV_1: i64 = 1_793_491_200;
const DAY: i64 = 86_400;
/// A receiving MX name too long for its table column.
const LONG_MX: &str = "a-receiving-mx-host-name-far-too-long-for-its-column.mx.tls-only.example";

fn failure(
    result_type: &'static str,
    sending_mta_ip: &'static str,
    receiving_mx: Option<&'static str>,
    failed_sessions: u32,
) -> TlsFailure<'static> {
    TlsFailure {
        result_type,
        sending_mta_ip,
        receiving_mx,
        receiving_ip: None,
        failed_sessions,
    }
}

fn failure_report(
    reporter: &'static str,
    n: u32,
    domain: &'static str,
    source_ip: &'static str,
    auth_failure: &'static str,
    incidents: Option<i64>,
    arrival: Option<i64>,
) -> FailureReport {
    FailureReport {
        reporter,
        message_id: format!("failure-{n}@{reporter}"),
        reported_domain: domain,
        source_ip,
        auth_failure,
        incidents,
        arrival,
    }
}

/// The store, and the unix seconds just before and after the import (the
/// failure report without an Arrival-Date arrived in between).
struct Fixture {
    _dir: TempDir,
    db: PathBuf,
    imported_from: i64,
    imported_to: i64,
}

/// - example.com: one aggregate report; three TLS reports from two
///   organisations (the third, on Nov 6, without failures) whose failures
///   name mx1.example.com (12 sessions in three details from 2 IPs, two
///   result types),
///   mx2.example.com (2) and no MX (1); three failure reports from two
///   reporters, two about 198.51.100.66 (dmarc with 3 incidents, spf
///   with none given: 1) and one about 203.0.113.9 (dkim, 2 incidents);
/// - tls-only.example: TLS reports only, 4 failed sessions towards an MX
///   whose name is too long for a column;
/// - failure-only.example: one failure report without an Arrival-Date.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let aggregate = Report {
        org: "google.com",
        id: "aggregate-1".into(),
        domain: "example.com",
        begin: NOV_1,
        p: "none",
        pct: 100,
        rows: vec![Row::aligned("192.0.2.10", 100, "example.com")],
    };
    std::fs::write(inputs.join("aggregate-1.xml"), aggregate.xml()).unwrap();
    let tls = [
        TlsReport::new(
            "google.com",
            "tls-1",
            NOV_1,
            vec![
                TlsPolicy::sts(
                    "example.com",
                    500,
                    vec![
                        failure(
                            "certificate-expired",
                            "198.51.100.1",
                            Some("mx1.example.com"),
                            8,
                        ),
                        failure(
                            "certificate-expired",
                            "198.51.100.2",
                            Some("mx1.example.com"),
                            2,
                        ),
                        failure(
                            "starttls-not-supported",
                            "198.51.100.1",
                            Some("mx2.example.com"),
                            2,
                        ),
                    ],
                ),
                TlsPolicy::sts("tls-only.example", 40, vec![]),
            ],
        ),
        TlsReport::new(
            "microsoft.com",
            "tls-2",
            NOV_1 + DAY,
            vec![
                TlsPolicy::sts(
                    "example.com",
                    100,
                    vec![
                        failure(
                            "validation-failure",
                            "198.51.100.1",
                            Some("MX1.example.com."),
                            2,
                        ),
                        failure("sts-policy-fetch-error", "203.0.113.5", None, 1),
                    ],
                ),
                TlsPolicy {
                    policy_type: "tlsa",
                    ..TlsPolicy::sts(
                        "tls-only.example",
                        10,
                        vec![failure("tlsa-invalid", "192.0.2.200", Some(LONG_MX), 4)],
                    )
                },
            ],
        ),
        TlsReport::new(
            "google.com",
            "tls-3",
            NOV_1 + 5 * DAY,
            vec![TlsPolicy::sts("example.com", 1000, vec![])],
        ),
    ];
    for report in &tls {
        std::fs::write(
            inputs.join(format!("{}.json", report.report_id)),
            report.json(),
        )
        .unwrap();
    }
    let failures = [
        failure_report(
            "receiver.example",
            1,
            "example.com",
            "198.51.100.66",
            "dmarc",
            Some(3),
            Some(NOV_1 + 3600),
        ),
        failure_report(
            "receiver.example",
            2,
            "example.com",
            "198.51.100.66",
            "spf",
            None,
            Some(NOV_1 + DAY + 7200),
        ),
        failure_report(
            "other.example",
            3,
            "example.com",
            "203.0.113.9",
            "dkim",
            Some(2),
            Some(NOV_1 + 2 * DAY),
        ),
        failure_report(
            "receiver.example",
            4,
            "failure-only.example",
            "192.0.2.99",
            "dmarc",
            None,
            None,
        ),
    ];
    for report in &failures {
        let name = format!("{}.eml", report.message_id);
        std::fs::write(inputs.join(name), report.eml()).unwrap();
    }
    let db = dir.path().join("store.sqlite");
    let imported_from = now();
    let out = dmarc_sink(&["--db", path(&db), "import", path(&inputs)]);
    let imported_to = now();
    assert!(
        out.status.success(),
        "import: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    Fixture {
        _dir: dir,
        db,
        imported_from,
        imported_to,
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn seconds(rfc3339: &Value) -> i64 {
    rfc3339
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_second()
}

fn names(items: &Value) -> Vec<&str> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["policy_domain"].as_str().unwrap())
        .collect()
}

/// The whitespace-separated cells of the first line of `table` that
/// starts (after its indent) with `first`.
fn row<'a>(table: &'a str, first: &str) -> Vec<&'a str> {
    table
        .lines()
        .find(|line| line.trim_start().starts_with(first))
        .unwrap_or_else(|| panic!("no row {first:?} in:\n{table}"))
        .split_whitespace()
        .collect()
}

fn assert_fits_80_columns(command: &str, table: &str) {
    for line in table.lines() {
        assert!(
            line.chars().count() <= 80,
            "{command}: {} columns:\n{line}",
            line.chars().count()
        );
    }
}

#[test]
fn summary_json_gives_tls_sessions_and_failure_reports_per_domain() {
    let f = fixture();
    let document = insight_json(&f.db, &["summary"]);
    let domains = &document["domains"];
    assert_eq!(
        names(domains),
        ["example.com", "failure-only.example", "tls-only.example"]
    );

    let example = &domains[0];
    assert_eq!(example["reports"], 1);
    assert_eq!(example["messages"], 100);
    assert_eq!(example["period"]["begin"], rfc3339(NOV_1));
    assert_eq!(
        example["tls"],
        json!({
            "reports": 3,
            "reporters": 2,
            "successful_sessions": 1600,
            "failed_sessions": 15,
            "failed_share": 0.0093,
            "period": {"begin": rfc3339(NOV_1), "end": rfc3339(NOV_1 + 6 * DAY - 1)},
        })
    );
    assert_eq!(
        example["failure_reports"],
        json!({
            "reports": 3,
            "incidents": 6,
            "reporters": 2,
            "auth_failures": [
                {"auth_failure": "dmarc", "reports": 1, "incidents": 3},
                {"auth_failure": "dkim", "reports": 1, "incidents": 2},
                {"auth_failure": "spf", "reports": 1, "incidents": 1},
            ],
            "first_arrival": rfc3339(NOV_1 + 3600),
            "last_arrival": rfc3339(NOV_1 + 2 * DAY),
        })
    );

    let failure_only = &domains[1];
    assert_eq!(failure_only["reports"], 0);
    assert_eq!(failure_only["messages"], 0);
    assert_eq!(failure_only["period"], Value::Null);
    assert_eq!(failure_only["policy"], Value::Null);
    assert_eq!(failure_only["tls"], Value::Null);
    let reports = &failure_only["failure_reports"];
    assert_eq!(reports["reports"], 1);
    assert_eq!(reports["incidents"], 1);
    assert_eq!(reports["reporters"], 1);
    assert_eq!(
        reports["auth_failures"],
        json!([{"auth_failure": "dmarc", "reports": 1, "incidents": 1}])
    );
    // No Arrival-Date: the report counts from when it was received.
    let arrival = seconds(&reports["last_arrival"]);
    assert!(
        (f.imported_from..=f.imported_to).contains(&arrival),
        "{arrival} not within the import"
    );
    assert_eq!(reports["first_arrival"], reports["last_arrival"]);

    let tls_only = &domains[2];
    assert_eq!(tls_only["reports"], 0);
    assert_eq!(tls_only["period"], Value::Null);
    assert_eq!(tls_only["failure_reports"], Value::Null);
    assert_eq!(tls_only["tls"]["reports"], 2);
    assert_eq!(tls_only["tls"]["reporters"], 2);
    assert_eq!(tls_only["tls"]["successful_sessions"], 50);
    assert_eq!(tls_only["tls"]["failed_sessions"], 4);
    assert_eq!(tls_only["tls"]["failed_share"], 0.0741);
}

#[test]
fn the_scope_reads_tls_reports_by_range_and_failure_reports_by_arrival() {
    let f = fixture();
    let first_day = insight_json(&f.db, &["summary", "--until", "2026-11-01"]);
    let domains = &first_day["domains"];
    assert_eq!(names(domains), ["example.com", "tls-only.example"]);
    let example = &domains[0];
    assert_eq!(example["tls"]["reports"], 1);
    assert_eq!(example["tls"]["reporters"], 1);
    assert_eq!(example["tls"]["successful_sessions"], 500);
    assert_eq!(example["tls"]["failed_sessions"], 12);
    assert_eq!(example["failure_reports"]["reports"], 1);
    assert_eq!(example["failure_reports"]["incidents"], 3);
    assert_eq!(domains[1]["tls"]["failed_sessions"], 0);
    assert_eq!(domains[1]["tls"]["failed_share"], 0.0);

    let sources = insight_json(&f.db, &["sources", "--until", "2026-11-01"]);
    let mx = &sources["tls_failures"];
    assert_eq!(mx.as_array().unwrap().len(), 2, "{mx}");
    assert_eq!(mx[0]["receiving_mx"], "mx1.example.com");
    assert_eq!(mx[0]["failed_sessions"], 10);
    assert_eq!(mx[0]["sending_mta_ips"], 2);

    // Only the failure report without an Arrival-Date arrived this hour.
    let recent = insight_json(&f.db, &["summary", "--since", "1h"]);
    assert_eq!(names(&recent["domains"]), ["failure-only.example"]);

    let one = insight_json(&f.db, &["summary", "--domain", "TLS-only.example"]);
    assert_eq!(names(&one["domains"]), ["tls-only.example"]);
}

#[test]
fn sources_json_lists_tls_failures_per_mx_and_failure_reports_per_ip() {
    let f = fixture();
    let document = insight_json(&f.db, &["sources"]);
    assert_eq!(names(&document["sources"]), ["example.com"]);
    let mx = &document["tls_failures"];
    assert_eq!(
        mx[0],
        json!({
            "policy_domain": "example.com",
            "receiving_mx": "mx1.example.com",
            "failed_sessions": 12,
            "result_types": [
                {"result_type": "certificate-expired", "failed_sessions": 10},
                {"result_type": "validation-failure", "failed_sessions": 2},
            ],
            "sending_mta_ips": 2,
            "reporters": 2,
            "first_seen": rfc3339(NOV_1),
            "last_seen": rfc3339(NOV_1 + 2 * DAY - 1),
        })
    );
    assert_eq!(mx[1]["receiving_mx"], "mx2.example.com");
    assert_eq!(mx[1]["failed_sessions"], 2);
    assert_eq!(
        mx[1]["result_types"],
        json!([{"result_type": "starttls-not-supported", "failed_sessions": 2}])
    );
    assert_eq!(mx[1]["sending_mta_ips"], 1);
    assert_eq!(mx[1]["reporters"], 1);
    assert_eq!(mx[2]["receiving_mx"], Value::Null);
    assert_eq!(mx[2]["failed_sessions"], 1);
    assert_eq!(
        mx[2]["result_types"][0]["result_type"],
        "sts-policy-fetch-error"
    );
    assert_eq!(mx[3]["policy_domain"], "tls-only.example");
    assert_eq!(mx[3]["receiving_mx"], LONG_MX);
    assert_eq!(mx[3]["failed_sessions"], 4);
    assert_eq!(mx.as_array().unwrap().len(), 4);

    let reported = &document["failure_sources"];
    assert_eq!(
        reported[0],
        json!({
            "policy_domain": "example.com",
            "source_ip": "198.51.100.66",
            "reports": 2,
            "incidents": 4,
            "auth_failures": ["dmarc", "spf"],
            "first_arrival": rfc3339(NOV_1 + 3600),
            "last_arrival": rfc3339(NOV_1 + DAY + 7200),
        })
    );
    assert_eq!(reported[1]["source_ip"], "203.0.113.9");
    assert_eq!(reported[1]["reports"], 1);
    assert_eq!(reported[1]["incidents"], 2);
    assert_eq!(reported[1]["auth_failures"], json!(["dkim"]));
    assert_eq!(reported[2]["policy_domain"], "failure-only.example");
    assert_eq!(reported[2]["source_ip"], "192.0.2.99");
    assert_eq!(reported.as_array().unwrap().len(), 3);

    // --limit caps each list per domain.
    let limited = insight_json(&f.db, &["sources", "--limit", "1"]);
    let mx: Vec<&Value> = limited["tls_failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["receiving_mx"])
        .collect();
    assert_eq!(mx, [&json!("mx1.example.com"), &json!(LONG_MX)]);
    let ips: Vec<&Value> = limited["failure_sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["source_ip"])
        .collect();
    assert_eq!(ips, [&json!("198.51.100.66"), &json!("192.0.2.99")]);
}

#[test]
fn summary_table_and_csv_show_tls_sessions_and_failure_reports() {
    let f = fixture();
    let table = insight_command(&f.db, &["summary"]);
    assert_fits_80_columns("summary", &table);
    let (aggregate, others) = table
        .split_once("SMTP TLS reports and DMARC failure reports\n")
        .unwrap_or_else(|| panic!("no TLS and failure table:\n{table}"));
    assert!(aggregate.contains("example.com: 1 reports"), "{aggregate}");
    assert!(!aggregate.contains("tls-only.example"), "{aggregate}");
    assert!(!aggregate.contains("failure-only.example"), "{aggregate}");
    assert_eq!(
        row(others, "DOMAIN"),
        [
            "DOMAIN",
            "TLS",
            "OK",
            "TLS",
            "FAILED",
            "FAILED%",
            "FAILURE",
            "RPTS",
            "INCIDENTS"
        ]
    );
    assert_eq!(
        row(others, "example.com "),
        ["example.com", "1,600", "15", "0.9%", "3", "6"]
    );
    assert_eq!(
        row(others, "tls-only.example "),
        ["tls-only.example", "50", "4", "7.4%", "-", "-"]
    );
    assert_eq!(
        row(others, "failure-only.example "),
        ["failure-only.example", "-", "-", "-", "1", "1"]
    );
    let prose = others.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        prose.contains(
            "example.com: 3 TLS reports from 2 organisations, 2026-11-01 to 2026-11-06; \
             3 failure reports (dmarc 1, dkim 1, spf 1), latest arrival 2026-11-03"
        ),
        "{others}"
    );

    let csv = insight_command(&f.db, &["summary", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    let cell = |domain: &str, name: &str| -> String {
        let column = headers.iter().position(|h| h == name).expect(name);
        let row = rows.iter().find(|r| &r[0] == domain).expect(domain);
        row[column].to_owned()
    };
    assert_eq!(cell("example.com", "tls_reports"), "3");
    assert_eq!(cell("example.com", "tls_successful_sessions"), "1600");
    assert_eq!(cell("example.com", "tls_failed_sessions"), "15");
    assert_eq!(cell("example.com", "tls_failed_share"), "0.0093");
    assert_eq!(cell("example.com", "failure_reports"), "3");
    assert_eq!(cell("example.com", "failure_incidents"), "6");
    assert_eq!(
        cell("example.com", "failure_last_arrival"),
        rfc3339(NOV_1 + 2 * DAY)
    );
    assert_eq!(cell("tls-only.example", "failure_reports"), "");
    assert_eq!(cell("tls-only.example", "period_begin"), "");
    assert_eq!(cell("tls-only.example", "tls_failed_sessions"), "4");
    assert_eq!(cell("failure-only.example", "tls_reports"), "");
    assert_eq!(cell("failure-only.example", "failure_reports"), "1");
}

#[test]
fn sources_table_shows_tls_failures_and_failure_reports_next_to_sources() {
    let f = fixture();
    let table = insight_command(&f.db, &["sources"]);
    assert_fits_80_columns("sources", &table);
    let blocks: Vec<&str> = table.split("\n\n").collect();
    assert_eq!(blocks.len(), 3, "{table}");

    let example = blocks[0];
    assert!(example.starts_with("example.com\n"), "{example}");
    assert_eq!(
        row(example, "192.0.2.10"),
        ["192.0.2.10", "-", "100", "100.0%", "100.0%", "100.0%"]
    );
    let tls = example
        .split_once("  TLS failures per receiving MX\n")
        .unwrap_or_else(|| panic!("no TLS section:\n{example}"))
        .1;
    assert_eq!(
        row(tls, "mx1.example.com"),
        ["mx1.example.com", "12", "2", "2", "2026-11-02"]
    );
    assert!(
        tls.contains("\n        certificate-expired 10, validation-failure 2\n"),
        "{tls}"
    );
    assert_eq!(
        row(tls, "mx2.example.com"),
        ["mx2.example.com", "2", "1", "1", "2026-11-01"]
    );
    assert_eq!(
        row(tls, "(no MX named)"),
        ["(no", "MX", "named)", "1", "1", "1", "2026-11-02"]
    );
    let reported = example
        .split_once("  failure reports per source IP\n")
        .unwrap_or_else(|| panic!("no failure report section:\n{example}"))
        .1;
    assert_eq!(
        row(reported, "198.51.100.66"),
        ["198.51.100.66", "2", "4", "2026-11-02", "dmarc,", "spf"]
    );
    assert_eq!(
        row(reported, "203.0.113.9"),
        ["203.0.113.9", "1", "2", "2026-11-03", "dkim"]
    );

    let (failure_only, tls_only) = (blocks[1], blocks[2]);
    assert!(
        failure_only.starts_with("failure-only.example\n  no aggregate reports\n"),
        "{failure_only}"
    );
    assert_eq!(row(failure_only, "192.0.2.99")[1..3], ["1", "1"]);
    assert!(!failure_only.contains("TLS failures"), "{failure_only}");
    assert!(
        tls_only.starts_with("tls-only.example\n  no aggregate reports\n"),
        "{tls_only}"
    );
    let long = row(tls_only, "a-receiving-mx");
    assert!(long[0].ends_with('…'), "{tls_only}");
    assert_eq!(long[1..4], ["4", "1", "1"]);
    assert!(
        tls_only.contains("\n        tlsa-invalid 4\n"),
        "{tls_only}"
    );
    assert!(!tls_only.contains("failure reports per"), "{tls_only}");

    let limited = insight_command(&f.db, &["sources", "--limit", "1"]);
    assert!(
        limited.contains("    … 2 more receiving MX hosts (--limit 0 shows all)\n"),
        "{limited}"
    );
    assert!(
        limited.contains("    … 1 more source IPs (--limit 0 shows all)\n"),
        "{limited}"
    );
}

/// A stranger's TLS report names a policy domain with an escape sequence:
/// the table shows it inert, never as one.
#[test]
fn control_characters_in_reports_do_not_reach_the_terminal() {
    use crate::util::tls_failure::{TlsPolicy, TlsReport};
    let dir = tempfile::tempdir().unwrap();
    let report = TlsReport::new(
        "reporter.example",
        "escape-1",
        1_700_006_400,
        vec![TlsPolicy::sts(
            "evil\u{1b}]0;pwned\u{7}.example",
            10,
            vec![],
        )],
    );
    let path = dir.path().join("escape.json");
    std::fs::write(&path, report.json()).unwrap();
    let db = dir.path().join("store.sqlite");
    let output = crate::util::dmarc_sink(&[
        "--db",
        db.to_str().unwrap(),
        "import",
        path.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        crate::util::text(&output.stderr)
    );
    let table = crate::util::insight_command(&db, &["summary"]);
    assert!(table.contains("evil"), "{table}");
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{7}'),
        "{table:?}"
    );
}
