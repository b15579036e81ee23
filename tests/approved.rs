//! The approved-sender list: `sources approve|deny|forget|export|import`,
//! and what it changes in `sources`, `policy` and the alerts.

use crate::util::mail::{Part, gzip, report_mail};
use crate::util::report::{Report, Row};
use crate::util::server::TestServer;
use crate::util::webhook::Webhook;
use crate::util::{insight_json, text};
use dmarc_sink::ingest::{Envelope, ingest_message};
use dmarc_sink::limits::Limits;
use dmarc_sink::store::{Source, Store};
use rusqlite::Connection;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

const DAY: i64 = 86_400;
/// 2026-11-01T00:00:00Z.
const NOV_1: i64 = 1_793_491_200;

/// A source whose SPF passes for SendGrid but aligns nowhere.
fn sendgrid(ip: &'static str, count: u32) -> Row {
    Row {
        dkim: "fail",
        spf: "fail",
        envelope_from: Some("em123.sendgrid.net"),
        dkim_auth: vec![],
        spf_auth: vec![("em123.sendgrid.net", "pass")],
        ..Row::aligned(ip, count, "example.com")
    }
}

fn report_mail_of(report: &Report) -> Vec<u8> {
    report_mail(
        "Report",
        &format!("{}@test", report.id),
        vec![Part::attachment(
            "application/gzip",
            "report.xml.gz",
            &gzip(report.xml().as_bytes()),
        )],
    )
}

/// example.com over 20 days: its own mail (192.0.2.10), a SendGrid
/// account that does not align (198.51.100.20) and a spoofer (203.0.113.9).
fn fill(db: &Path) {
    let mut store = Store::open(db).unwrap();
    for day in 0..20 {
        let report = Report {
            org: "google.com",
            id: format!("r-{day}"),
            domain: "example.com",
            begin: NOV_1 + day * DAY,
            p: "none",
            pct: 100,
            rows: vec![
                Row::aligned("192.0.2.10", 100, "example.com"),
                sendgrid("198.51.100.20", 5),
                Row::failing("203.0.113.9", 3, "spoof.example"),
            ],
        };
        ingest_message(
            &mut store,
            &report_mail_of(&report),
            Source::Import,
            None,
            &Envelope::default(),
            &Limits::default(),
        )
        .unwrap();
    }
}

/// Runs `dmarc-sink --db DB ARGS` as user `user`; returns (success, stdout + stderr).
fn run_as(db: &Path, user: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dmarc-sink"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("USER", user)
        .env_remove("DMARC_SINK_CONFIG")
        .output()
        .unwrap();
    (
        output.status.success(),
        format!("{}{}", text(&output.stdout), text(&output.stderr)),
    )
}

fn ok(db: &Path, args: &[&str]) -> String {
    let (success, out) = run_as(db, "alice", args);
    assert!(success, "{args:?}: {out}");
    out
}

fn standing(sources: &Value, ip: &str) -> (String, Value) {
    let source = sources["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source_ip"] == ip)
        .unwrap_or_else(|| panic!("no source {ip}"));
    (
        source["standing"].as_str().unwrap().to_owned(),
        source["approved_as"].clone(),
    )
}

fn own_failing(db: &Path) -> i64 {
    insight_json(db, &["policy"])["domains"][0]["legitimate_failing_messages"]
        .as_i64()
        .unwrap()
}

#[test]
fn approve_deny_and_forget_change_sources_and_policy() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    fill(&db);
    let sources = insight_json(&db, &["sources"]);
    assert_eq!(standing(&sources, "198.51.100.20").0, "unknown");
    // By the diagnoses alone SendGrid's mail is the domain's own, failing.
    assert_eq!(own_failing(&db), 20 * 5);

    ok(
        &db,
        &[
            "sources",
            "approve",
            "example.com",
            "sendgrid.net",
            "--name",
            "SendGrid",
            "--note",
            "newsletters",
        ],
    );
    ok(&db, &["sources", "deny", "Example.COM", "198.51.100.20/32"]);
    ok(
        &db,
        &[
            "sources",
            "approve",
            "example.com",
            "203.0.113.0/24",
            "--name",
            "Office",
        ],
    );
    let sources = insight_json(&db, &["sources"]);
    // Denied wins over the domain that approves it.
    assert_eq!(
        standing(&sources, "198.51.100.20"),
        ("denied".into(), Value::Null)
    );
    assert_eq!(
        standing(&sources, "203.0.113.9"),
        ("approved".into(), json!("Office"))
    );
    assert_eq!(standing(&sources, "192.0.2.10").0, "unknown");
    // Now the spoofer's failures are the domain's own and SendGrid's not.
    assert_eq!(own_failing(&db), 20 * 3);
    let policy = insight_json(&db, &["policy"]);
    let affected = &policy["domains"][0]["affected_sources"];
    assert_eq!(affected[0]["source_ip"], "203.0.113.9");
    assert_eq!(affected[0]["standing"], "approved");

    ok(
        &db,
        &["sources", "forget", "example.com", "198.51.100.20/32"],
    );
    ok(&db, &["sources", "forget", "example.com", "203.0.113.0/24"]);
    let sources = insight_json(&db, &["sources"]);
    assert_eq!(
        standing(&sources, "198.51.100.20"),
        ("approved".into(), json!("SendGrid"))
    );
    assert_eq!(own_failing(&db), 20 * 5);
    let table = ok(&db, &["sources"]);
    assert!(table.contains("approved by you as SendGrid"), "{table}");

    // Each change is recorded with who made it and when.
    let conn = Connection::open(&db).unwrap();
    let changes: Vec<(String, String, String)> = conn
        .prepare("SELECT action, source, changed_by FROM approved_source_changes ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let actions: Vec<&str> = changes.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(actions, ["approve", "deny", "approve", "forget", "forget"]);
    assert_eq!(changes[1].1, "198.51.100.20/32");
    assert!(changes.iter().all(|c| c.2 == "alice"));
    let at: i64 = conn
        .query_row(
            "SELECT max(changed_at) FROM approved_source_changes",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!((jiff::Timestamp::now().as_second() - at).abs() < 600);
}

#[test]
fn a_source_that_is_no_source_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    for args in [
        ["sources", "approve", "example.com", "192.0.2.0/33"],
        ["sources", "approve", "example.com", "not a domain"],
        ["sources", "deny", "com", "192.0.2.1"],
    ] {
        let (success, out) = run_as(&db, "alice", &args);
        assert!(!success, "{args:?}");
        assert!(out.contains("is not"), "{out}");
    }
    let (success, out) = run_as(
        &db,
        "alice",
        &["sources", "forget", "example.com", "192.0.2.1"],
    );
    assert!(!success);
    assert!(out.contains("not on the list"), "{out}");
}

#[test]
fn the_list_round_trips_through_toml() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.sqlite");
    let second = dir.path().join("second.sqlite");
    ok(
        &first,
        &[
            "sources",
            "approve",
            "example.com",
            "amazonses.com",
            "--name",
            "Amazon SES",
            "--note",
            "transactional, \"quoted\"",
        ],
    );
    ok(&first, &["sources", "deny", "example.com", "2001:DB8::/32"]);
    ok(&first, &["sources", "approve", "example.org", "192.0.2.7"]);
    let exported = ok(&first, &["sources", "export"]);
    let parsed: toml::Value = toml::from_str(&exported).unwrap();
    assert_eq!(parsed["source"].as_array().unwrap().len(), 3);
    assert_eq!(
        parsed["source"][0]["source"].as_str(),
        Some("2001:db8::/32")
    );
    let file = dir.path().join("sources.toml");
    std::fs::write(&file, &exported).unwrap();

    ok(
        &second,
        &["sources", "approve", "example.net", "192.0.2.99"],
    );
    let out = ok(
        &second,
        &["sources", "import", file.to_str().unwrap(), "--replace"],
    );
    assert!(out.contains("forgot 192.0.2.99 for example.net"), "{out}");
    assert_eq!(ok(&second, &["sources", "export"]), exported);
    // Reading it again changes nothing.
    let again = ok(&second, &["sources", "import", file.to_str().unwrap()]);
    assert_eq!(again.lines().count(), 1, "{again}");

    std::fs::write(
        &file,
        "[[source]]\npolicy_domain = \"example.com\"\nsource = \"x/y\"\nstanding = \"approved\"\n",
    )
    .unwrap();
    let (success, out) = run_as(
        &second,
        "alice",
        &["sources", "import", file.to_str().unwrap()],
    );
    assert!(!success);
    assert!(out.contains("entry 1"), "{out}");
}

#[test]
fn approved_sources_raise_no_new_failing_source_alert() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    ok(&db, &["sources", "approve", "example.com", "192.0.2.0/24"]);
    ok(&db, &["sources", "approve", "example.com", "sendgrid.net"]);
    ok(&db, &["sources", "deny", "example.com", "203.0.113.0/24"]);
    let hook = Webhook::start();
    let server = TestServer::start_in(dir, &format!("[alerts]\nwebhook = {:?}\n", hook.url));
    let deliver = |id: &str, rows: Vec<Row>| {
        let report = Report {
            org: "google.com",
            id: id.to_owned(),
            domain: "example.com",
            begin: NOV_1,
            p: "none",
            pct: 100,
            rows,
        };
        let mut client = server.connect();
        assert_eq!(client.reply().0, 220);
        assert_eq!(client.command("EHLO mx.google.com").0, 250);
        let (code, reply) = client.deliver(
            "noreply@google.com",
            "dmarc@reports.example.com",
            &report_mail_of(&report),
        );
        assert_eq!(code, 250, "{reply}");
    };
    deliver(
        "a",
        vec![
            Row::failing("192.0.2.5", 4, "example.com"),
            sendgrid("198.51.100.20", 5),
            Row::failing("203.0.113.9", 3, "spoof.example"),
            Row::failing("198.51.100.99", 2, "spoof.example"),
        ],
    );
    let alert = hook.next().json();
    assert_eq!(alert["kind"], "new_failing_source");
    // Approved ones are left out; the denied one alerts like any stranger.
    assert_eq!(
        alert["sources"],
        json!([
            {"source_ip": "203.0.113.9", "failing_messages": 3},
            {"source_ip": "198.51.100.99", "failing_messages": 2}
        ])
    );
    assert_eq!(alert["sources_total"], 2);
    // A report whose only new failing source is approved raises nothing:
    // the next alert is the third report's.
    deliver("b", vec![Row::failing("192.0.2.6", 4, "example.com")]);
    deliver(
        "c",
        vec![Row::failing("198.51.100.100", 1, "spoof.example")],
    );
    let alert = hook.next().json();
    assert_eq!(alert["report_id"], "c");
    assert_eq!(
        server.count("SELECT count(*) FROM alerts WHERE kind = 'new_failing_source'"),
        2
    );
}
