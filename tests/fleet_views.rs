//! The fleet's views in PostgreSQL (src/export/postgres/migrate_*.sql)
//! over the rows two sinks shipped (tests/data/fleet-two-sinks.sql): each
//! report is counted once, the authenticated copy is the one kept, and
//! every SQL query of the Grafana dashboard runs on them and finds rows.

use crate::util::postgres::Postgres;
use postgres::{Client, NoTls};
use std::path::Path;

const TWO_SINKS: &str = include_str!("data/fleet-two-sinks.sql");

/// The time range the dashboard's queries are given: the days of the data.
const FROM: &str = "2025-03-01T00:00:00Z";
const TO: &str = "2025-03-04T00:00:00Z";

/// A database with the schema as the shipper creates it (every migration,
/// in order) and the two sinks' rows; None when PostgreSQL is not
/// installed.
fn fleet() -> Option<(Postgres, Client)> {
    let server = Postgres::start()?;
    let url = server.create_database("fleet");
    let mut client = Client::connect(&url, NoTls).expect("connect to the tests' PostgreSQL");
    if let Err(e) = dmarc_sink::export::postgres::schema::migrate(&mut client) {
        panic!("the migrations: {e:?}\n{}", server.log());
    }
    if let Err(e) = client.batch_execute(TWO_SINKS) {
        panic!("fleet-two-sinks.sql: {e:?}\n{}", server.log());
    }
    Some((server, client))
}

#[test]
fn each_report_is_counted_once_and_the_authenticated_copy_is_kept() {
    let Some((_server, mut client)) = fleet() else {
        return;
    };

    // A: both sinks, authenticated in mx1 although mx2 received it first;
    // S: mx1's authenticated copy, not the one it superseded; U: kept, as
    // the only copy, but never in the totals.
    let kept: Vec<(String, String, String, i64, String)> = client
        .query(
            "SELECT report_id, policy_domain, instance, id, auth
             FROM dmarc_sink.fleet_reports ORDER BY report_id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    let expected = [
        ("A-1", "example.com", "mx1", 1, "authenticated"),
        ("B-1", "example.com", "mx1", 2, "unchecked"),
        ("C-1", "example.org", "mx2", 2, "unchecked"),
        ("S-1", "example.com", "mx1", 5, "authenticated"),
        ("U-1", "example.com", "mx1", 3, "unauthenticated"),
    ];
    assert_eq!(kept, owned(&expected));

    let records: i64 = client
        .query_one("SELECT count(*) FROM dmarc_sink.fleet_records", &[])
        .unwrap()
        .get(0);
    assert_eq!(records, 3 + 1 + 1 + 1 + 1, "the records of the kept copies");

    // policy_domain, day, reports, messages, dmarc_pass, dkim_aligned_pass,
    // spf_aligned_pass, quarantined, rejected; then the DMARC pass share.
    let daily: Vec<(String, String, [i64; 7], f64)> = client
        .query(
            "SELECT policy_domain, to_char(day AT TIME ZONE 'UTC', 'YYYY-MM-DD'), reports,
                    messages, dmarc_pass, dkim_aligned_pass, spf_aligned_pass, quarantined,
                    rejected, dmarc_pass_share
             FROM dmarc_sink.daily_pass ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                std::array::from_fn(|i| r.get(i + 2)),
                r.get(9),
            )
        })
        .collect();
    assert_eq!(
        daily
            .iter()
            .map(|d| (d.0.as_str(), d.1.as_str(), d.2))
            .collect::<Vec<_>>(),
        [
            // A (100 + 20 + 5) and B (30, Example.COM lower-cased); not U.
            ("example.com", "2025-03-01", [2, 155, 130, 130, 100, 20, 5]),
            // S's authenticated copy (40), not the superseded one (1000).
            ("example.com", "2025-03-02", [1, 40, 40, 40, 40, 0, 0]),
            ("example.org", "2025-03-02", [1, 8, 8, 8, 8, 0, 0]),
        ]
    );
    assert!((daily[0].3 - 130.0 / 155.0).abs() < 1e-12, "{}", daily[0].3);

    let dispositions: Vec<(String, String, i64, i64, i64)> = client
        .query(
            "SELECT policy_domain, to_char(day AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                    none, quarantine, reject
             FROM dmarc_sink.dispositions ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(
        dispositions,
        owned(&[
            ("example.com", "2025-03-01", 130, 20, 5),
            ("example.com", "2025-03-02", 40, 0, 0),
            ("example.org", "2025-03-02", 8, 0, 0),
        ])
    );
}

#[test]
fn sources_carry_the_diagnosis_inputs_and_tls_failures_are_counted_once_per_mx() {
    let Some((_server, mut client)) = fleet() else {
        return;
    };

    // policy_domain, source_ip; messages, dmarc_pass, spf_aligned_pass,
    // spf_pass_unaligned, dkim_pass_unaligned, own_dkim_fail, reporters,
    // authenticated_reporters; first_seen, last_seen.
    let sources: Vec<(String, String, [i64; 8], String, String)> = client
        .query(
            "SELECT policy_domain, host(source_addr), messages, dmarc_pass, spf_aligned_pass,
                    spf_pass_unaligned, dkim_pass_unaligned, own_dkim_fail, reporters,
                    authenticated_reporters,
                    to_char(first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
                    to_char(last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
             FROM dmarc_sink.sources ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                std::array::from_fn(|i| r.get(i + 2)),
                r.get(10),
                r.get(11),
            )
        })
        .collect();
    let expected = [
        // A, B and S: three reporters, two of them authenticated.
        (
            "example.com",
            "192.0.2.10",
            [170, 170, 140, 0, 0, 0, 3, 2],
            "2025-03-01 00:00:00",
            "2025-03-02 23:59:59",
        ),
        // Signs and bounces as mailer.net.
        (
            "example.com",
            "198.51.100.7",
            [20, 0, 0, 20, 20, 0, 1, 1],
            "2025-03-01 00:00:00",
            "2025-03-01 23:59:59",
        ),
        // A failing signature of mail.example.com: a subdomain aligns.
        (
            "example.com",
            "203.0.113.5",
            [5, 0, 0, 0, 0, 5, 1, 1],
            "2025-03-01 00:00:00",
            "2025-03-01 23:59:59",
        ),
        (
            "example.org",
            "2001:db8::25",
            [8, 8, 8, 0, 0, 0, 1, 0],
            "2025-03-02 00:00:00",
            "2025-03-02 23:59:59",
        ),
    ];
    assert_eq!(
        sources,
        expected
            .iter()
            .map(|(d, ip, n, first, last)| (
                d.to_string(),
                ip.to_string(),
                *n,
                first.to_string(),
                last.to_string()
            ))
            .collect::<Vec<_>>()
    );

    // T1 once (authenticated in mx1, unchecked in mx2) and T2's unchecked
    // copy, not the unauthenticated one it superseded (1000 sessions).
    let kept: Vec<(String, String, i64)> = client
        .query(
            "SELECT report_id, instance, id FROM dmarc_sink.fleet_tls_reports ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(kept, owned(&[("T-1", "mx1", 1), ("T-2", "mx2", 3)]));

    let by_mx: Vec<(String, String, i64, String, i64, i64)> = client
        .query(
            "SELECT policy_domain, mx_host, failed_sessions, result_types, sending_mta_ips,
                    reporters
             FROM dmarc_sink.tls_failures_by_mx ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect();
    assert_eq!(
        by_mx,
        owned(&[
            // 10 from T1 ("mx1.example.com." as reported), 3 from T2.
            (
                "example.com",
                "mx1.example.com",
                13,
                "certificate-expired",
                2,
                2
            ),
            (
                "example.com",
                "mx2.example.com",
                2,
                "starttls-not-supported",
                1,
                1
            ),
        ])
    );
}

#[test]
fn quarantine_and_alerts_per_kind_and_day() {
    let Some((_server, mut client)) = fleet() else {
        return;
    };
    let quarantine: Vec<(String, String, i64, i64)> = client
        .query(
            "SELECT to_char(day AT TIME ZONE 'UTC', 'YYYY-MM-DD'), kind, entries, sinks
             FROM dmarc_sink.quarantine_daily ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        quarantine,
        owned(&[
            ("2025-03-02", "unauthenticated", 1, 1),
            ("2025-03-02", "xml", 2, 2),
        ])
    );

    // The silent reporter both sinks noticed is one alert, raised twice.
    let alerts: Vec<(String, String, String, i64, i64)> = client
        .query(
            "SELECT to_char(day AT TIME ZONE 'UTC', 'YYYY-MM-DD'), kind, policy_domain, alerts,
                    raised
             FROM dmarc_sink.alerts_daily ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(
        alerts,
        owned(&[
            ("2025-03-02", "new_failing_source", "example.com", 1, 1),
            ("2025-03-02", "reporter_silent", "example.com", 1, 2),
        ])
    );
}

#[test]
fn every_query_of_the_grafana_dashboard_runs_and_finds_rows() {
    let queries = dashboard_queries();
    assert!(queries.len() >= 12, "{} queries found", queries.len());
    let Some((server, mut client)) = fleet() else {
        return;
    };
    for (title, sql) in &queries {
        let expanded = expand_macros(sql);
        assert!(
            !expanded.contains('$'),
            "{title}: a macro or variable the test does not expand:\n{expanded}"
        );
        let rows = client.query(expanded.as_str(), &[]).unwrap_or_else(|e| {
            panic!("{title}: {e:?}\n{expanded}\n{}", server.log());
        });
        assert!(!rows.is_empty(), "{title} finds no row:\n{expanded}");
    }
}

/// Every SQL query of the dashboard, with the title of the panel or the
/// name of the variable it belongs to: the targets' `rawSql` and the
/// query variables' `query`.
fn dashboard_queries() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("grafana/dashboards/dmarc-sink.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut queries = Vec::new();
    for variable in dashboard["templating"]["list"].as_array().unwrap() {
        if variable["type"] == "query" {
            let name = variable["name"].as_str().unwrap();
            let query = variable["query"].as_str().expect("a query variable's SQL");
            queries.push((format!("${name}"), query.to_owned()));
        }
    }
    let mut panels: Vec<&serde_json::Value> =
        dashboard["panels"].as_array().unwrap().iter().collect();
    while let Some(panel) = panels.pop() {
        if let Some(inner) = panel["panels"].as_array() {
            panels.extend(inner);
        }
        for target in panel["targets"].as_array().into_iter().flatten() {
            let title = panel["title"].as_str().unwrap_or("untitled panel");
            let sql = target["rawSql"]
                .as_str()
                .unwrap_or_else(|| panic!("{title}: a target without rawSql"));
            queries.push((title.to_owned(), sql.to_owned()));
        }
    }
    queries
}

/// Grafana's macros and the dashboard's variables, as Grafana's PostgreSQL
/// data source expands them, for the range [`FROM`, `TO`] and the domain
/// example.com (a multi-value variable: quoted).
fn expand_macros(sql: &str) -> String {
    let mut out = sql
        .replace("${domain}", "'example.com'")
        .replace("$domain", "'example.com'");
    while let Some(start) = out.find("$__") {
        let open = start + out[start..].find('(').expect("a macro with arguments");
        let close = open + out[open..].find(')').expect("a closed macro");
        let name = &out[start + 3..open];
        let args: Vec<&str> = out[open + 1..close].split(',').map(str::trim).collect();
        let expansion = match (name, args.as_slice()) {
            ("timeFilter", [column]) => format!("{column} BETWEEN '{FROM}' AND '{TO}'"),
            ("timeGroupAlias", [column, "1d"]) => {
                format!("to_timestamp(floor(extract(epoch from {column})/86400)*86400) AS \"time\"")
            }
            _ => panic!("a macro the test does not expand: {}", &out[start..=close]),
        };
        out.replace_range(start..=close, &expansion);
    }
    out
}

/// Rows of string slices and numbers as the owned rows a query returns.
fn owned<T: ToOwnedRow>(rows: &[T]) -> Vec<T::Owned> {
    rows.iter().map(ToOwnedRow::to_owned_row).collect()
}

trait ToOwnedRow {
    type Owned;
    fn to_owned_row(&self) -> Self::Owned;
}

impl ToOwnedRow for (&str, &str, &str, i64, &str) {
    type Owned = (String, String, String, i64, String);
    fn to_owned_row(&self) -> Self::Owned {
        (
            self.0.into(),
            self.1.into(),
            self.2.into(),
            self.3,
            self.4.into(),
        )
    }
}

impl ToOwnedRow for (&str, &str, i64, i64, i64) {
    type Owned = (String, String, i64, i64, i64);
    fn to_owned_row(&self) -> Self::Owned {
        (self.0.into(), self.1.into(), self.2, self.3, self.4)
    }
}

impl ToOwnedRow for (&str, &str, i64) {
    type Owned = (String, String, i64);
    fn to_owned_row(&self) -> Self::Owned {
        (self.0.into(), self.1.into(), self.2)
    }
}

impl ToOwnedRow for (&str, &str, i64, &str, i64, i64) {
    type Owned = (String, String, i64, String, i64, i64);
    fn to_owned_row(&self) -> Self::Owned {
        (
            self.0.into(),
            self.1.into(),
            self.2,
            self.3.into(),
            self.4,
            self.5,
        )
    }
}

impl ToOwnedRow for (&str, &str, i64, i64) {
    type Owned = (String, String, i64, i64);
    fn to_owned_row(&self) -> Self::Owned {
        (self.0.into(), self.1.into(), self.2, self.3)
    }
}

impl ToOwnedRow for (&str, &str, &str, i64, i64) {
    type Owned = (String, String, String, i64, i64);
    fn to_owned_row(&self) -> Self::Owned {
        (self.0.into(), self.1.into(), self.2.into(), self.3, self.4)
    }
}

#[test]
fn a_failure_report_mailed_to_two_sinks_is_kept_once() {
    let Some((_server, mut client)) = fleet() else {
        return;
    };
    client
        .batch_execute(
            "INSERT INTO dmarc_sink.failure_reports
                 (instance, id, message, member, report_message_id, feedback_type, source_ip,
                  reported_domain, arrival_date, incidents, fields)
             VALUES
                 ('mx1', 1, 1, '1', 'ruf-1@mx.example', 'auth-failure', '192.0.2.66',
                  'example.com', '2025-03-01 10:00:00+00', 1, '[]'),
                 ('mx2', 7, 2, '1', 'ruf-1@mx.example', 'auth-failure', '192.0.2.66',
                  'example.com', '2025-03-01 10:00:00+00', 1, '[]'),
                 ('mx2', 8, 3, '1', 'ruf-2@mx.example', 'auth-failure', '192.0.2.66',
                  'example.com', '2025-03-01 11:00:00+00', 1, '[]')",
        )
        .unwrap();
    let kept: Vec<(String, i64)> = client
        .query(
            "SELECT instance, id FROM dmarc_sink.fleet_failure_reports ORDER BY instance, id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(kept, [("mx1".to_owned(), 1), ("mx2".to_owned(), 8)]);
}
