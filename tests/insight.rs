//! `summary`, `sources` and `policy` as a user runs them, over a store
//! filled with reports written so that each source earns one diagnosis.

use crate::util::mail::{Part, gzip, report_mail};
use crate::util::report::{Report, Row};
use crate::util::{dmarc_sink, insight_command, insight_json, rfc3339, text};
use dmarc_sink::ingest::{Envelope, ingest_message};
use dmarc_sink::limits::Limits;
use dmarc_sink::store::{Source, Store};
use serde_json::Value;
use std::path::PathBuf;
use tempfile::TempDir;

/// 2026-11-01T00:00:00Z.
const NOV_1: i64 = 1_793_491_200;
const DAY: i64 = 86_400;
/// Where the reports of the fixture were delivered: the domains' `rua`.
const RUA: &str = "dmarc@reports.example.net";

/// example.com: one source per diagnosis over two days from two
/// reporters. ready.example: 14 days of clean mail and one spoofer.
fn fixture() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    let mut store = Store::open(&db).unwrap();
    let ses_spf = Row {
        dkim: "fail",
        spf: "fail",
        envelope_from: Some("us-east-1.amazonses.com"),
        dkim_auth: vec![],
        spf_auth: vec![("us-east-1.amazonses.com", "pass")],
        ..Row::aligned("192.0.2.20", 40, "example.com")
    };
    let ses_dkim = Row {
        dkim: "fail",
        spf: "fail",
        envelope_from: Some("amazonses.com"),
        dkim_auth: vec![("amazonses.com", "ug7nbtf4gccmlpwj322ax3p6ow6yfsug", "pass")],
        spf_auth: vec![("amazonses.com", "pass")],
        ..Row::aligned("192.0.2.30", 30, "example.com")
    };
    let forwarded = Row {
        spf: "fail",
        envelope_from: Some("example.com"),
        spf_auth: vec![("example.com", "fail")],
        ..Row::aligned("192.0.2.40", 25, "example.com")
    };
    let spf_only = Row {
        dkim: "fail",
        dkim_auth: vec![],
        ..Row::aligned("192.0.2.70", 50, "example.com")
    };
    let google = Report {
        org: "google.com",
        id: "g-1".into(),
        domain: "example.com",
        begin: NOV_1,
        p: "none",
        pct: 100,
        rows: vec![
            Row::aligned("192.0.2.10", 500, "example.com"),
            ses_spf,
            ses_dkim,
            forwarded,
            Row::failing("198.51.100.66", 20, "example.com"),
            Row::aligned("192.0.2.50", 100, "example.com"),
            Row::aligned("192.0.2.60", 60, "example.com"),
            Row::failing("192.0.2.60", 40, "example.com"),
            spf_only,
            Row::aligned("192.0.2.80", 97, "example.com"),
            Row::failing("192.0.2.80", 3, "example.com"),
        ],
    };
    let rotated_key = Row {
        dkim: "fail",
        dkim_auth: vec![("example.com", "s1", "fail")],
        ..Row::aligned("192.0.2.50", 10, "example.com")
    };
    let yahoo = Report {
        org: "Yahoo",
        id: "y-1".into(),
        domain: "example.com",
        begin: NOV_1 + DAY,
        p: "none",
        pct: 100,
        rows: vec![
            rotated_key,
            Row {
                disposition: "quarantine",
                ..Row::failing("198.51.100.66", 5, "example.com")
            },
            Row {
                disposition: "reject",
                ..Row::failing("203.0.113.9", 2, "example.com")
            },
        ],
    };
    deliver(&mut store, &google, true);
    deliver(&mut store, &yahoo, false);
    for day in 0..14 {
        let mut rows = vec![Row::aligned("192.0.2.10", 10, "ready.example")];
        if day == 3 {
            rows.push(Row::failing("203.0.113.50", 5, "ready.example"));
        }
        let report = Report {
            org: "google.com",
            id: format!("r-{day}"),
            domain: "ready.example",
            begin: NOV_1 + day * DAY,
            p: "quarantine",
            pct: 50,
            rows,
        };
        deliver(&mut store, &report, day % 2 == 0);
    }
    (dir, db)
}

/// Takes a report in as a mail to [`RUA`], gzip-compressed or plain.
fn deliver(store: &mut Store, report: &Report, compressed: bool) {
    let xml = report.xml();
    let part = if compressed {
        Part::attachment("application/gzip", "report.xml.gz", &gzip(xml.as_bytes()))
    } else {
        Part::attachment("text/xml", "report.xml", xml.as_bytes())
    };
    let mail = report_mail("Report", &format!("{}@test", report.id), vec![part]);
    let envelope = Envelope {
        remote_addr: Some("127.0.0.1".into()),
        rcpt_to: vec![RUA.into()],
        ..Envelope::default()
    };
    let outcome = ingest_message(
        store,
        &mail,
        Source::Smtp,
        None,
        &envelope,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(outcome.stored().count(), 1, "{outcome:?}");
}

fn source<'a>(sources: &'a Value, ip: &str) -> &'a Value {
    sources
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["policy_domain"] == "example.com" && s["source_ip"] == ip)
        .unwrap_or_else(|| panic!("no source {ip}"))
}

#[test]
fn summary_json_sums_each_domain() {
    let (_dir, db) = fixture();
    let document = insight_json(&db, &["summary"]);
    assert_eq!(document["scope"]["domains"], serde_json::json!([]));
    assert_eq!(document["scope"]["since"], Value::Null);
    let domains = document["domains"].as_array().unwrap();
    assert_eq!(domains.len(), 2);
    let d = &domains[0];
    assert_eq!(d["policy_domain"], "example.com");
    assert_eq!(d["reports"], 2);
    assert_eq!(d["messages"], 982);
    assert_eq!(d["dmarc_pass"], 842);
    assert_eq!(d["dmarc_pass_share"], 0.8574);
    assert_eq!(d["dkim_aligned_pass"], 782);
    assert_eq!(d["dkim_aligned_share"], 0.7963);
    assert_eq!(d["spf_aligned_pass"], 817);
    assert_eq!(d["spf_aligned_share"], 0.832);
    assert_eq!(
        d["dispositions"],
        serde_json::json!({"none": 975, "quarantine": 5, "reject": 2})
    );
    assert_eq!(d["reporters"], 2);
    assert_eq!(d["period"]["begin"], rfc3339(NOV_1));
    assert_eq!(d["period"]["end"], rfc3339(NOV_1 + 2 * DAY - 1));
    assert_eq!(d["policy"]["p"], "none");
    assert_eq!(d["policy"]["pct"], 100);
    assert_eq!(d["policy"]["sp"], Value::Null);
    assert_eq!(
        d["policy"]["record"],
        "v=DMARC1; p=none; adkim=r; aspf=r; pct=100"
    );
    let ready = &domains[1];
    assert_eq!(ready["policy_domain"], "ready.example");
    assert_eq!(ready["messages"], 145);
    assert_eq!(ready["reporters"], 1);
    assert_eq!(ready["policy"]["p"], "quarantine");
    assert_eq!(ready["policy"]["pct"], 50);
}

#[test]
fn each_source_gets_its_diagnosis() {
    let (_dir, db) = fixture();
    let document = insight_json(&db, &["sources", "--domain", "example.com"]);
    let sources = &document["sources"];
    assert_eq!(sources.as_array().unwrap().len(), 10);
    let expected = [
        ("192.0.2.10", "aligned"),
        ("192.0.2.20", "spf_not_aligned"),
        ("192.0.2.30", "dkim_not_aligned"),
        ("192.0.2.40", "forwarded"),
        ("198.51.100.66", "unauthorised"),
        ("203.0.113.9", "unauthorised"),
        ("192.0.2.50", "dkim_failing"),
        ("192.0.2.60", "often_fails"),
        ("192.0.2.70", "dkim_missing"),
        ("192.0.2.80", "mostly_aligned"),
    ];
    for (ip, code) in expected {
        assert_eq!(source(sources, ip)["diagnosis"]["code"], code, "{ip}");
    }

    let ses = source(sources, "192.0.2.20");
    assert_eq!(ses["name"], "Amazon SES");
    assert_eq!(ses["provider"], "Amazon SES");
    assert_eq!(ses["reverse_dns"], Value::Null);
    assert_eq!(ses["messages"], 40);
    assert_eq!(ses["dmarc_pass"], 0);
    assert_eq!(ses["dmarc_pass_share"], 0.0);
    assert_eq!(ses["dkim_aligned_share"], 0.0);
    assert_eq!(ses["spf_aligned_share"], 0.0);
    assert_eq!(
        ses["spf_domains"],
        serde_json::json!(["us-east-1.amazonses.com"])
    );
    assert_eq!(ses["dkim_domains"], serde_json::json!([]));
    assert_eq!(ses["reporters"], 1);
    assert_eq!(ses["first_seen"], rfc3339(NOV_1));
    let message = ses["diagnosis"]["message"].as_str().unwrap();
    assert!(message.contains("us-east-1.amazonses.com"), "{message}");
    assert!(message.contains("custom MAIL FROM"), "{message}");

    let ses_dkim = source(sources, "192.0.2.30");
    assert_eq!(ses_dkim["name"], "Amazon SES");
    assert_eq!(
        ses_dkim["dkim_domains"],
        serde_json::json!(["amazonses.com"])
    );
    let message = ses_dkim["diagnosis"]["message"].as_str().unwrap();
    assert!(message.contains("Easy DKIM"), "{message}");

    let rotated = source(sources, "192.0.2.50");
    assert_eq!(rotated["messages"], 110);
    assert_eq!(rotated["dmarc_pass"], 110);
    assert_eq!(rotated["dkim_aligned_pass"], 100);
    assert_eq!(rotated["dkim_aligned_share"], 0.9091);
    assert_eq!(rotated["spf_aligned_share"], 1.0);
    assert_eq!(rotated["reporters"], 2);
    let message = rotated["diagnosis"]["message"].as_str().unwrap();
    assert!(message.contains("s1._domainkey.example.com"), "{message}");

    let spoofer = source(sources, "198.51.100.66");
    assert_eq!(spoofer["name"], Value::Null);
    assert_eq!(spoofer["messages"], 25);
    assert_eq!(
        spoofer["dispositions"],
        serde_json::json!({"none": 20, "quarantine": 5, "reject": 0})
    );
    assert_eq!(spoofer["last_seen"], rfc3339(NOV_1 + 2 * DAY - 1));

    let mixed = source(sources, "192.0.2.60");
    assert_eq!(mixed["messages"], 100);
    assert_eq!(mixed["dmarc_pass_share"], 0.6);
}

#[test]
fn scope_options_narrow_what_is_read() {
    let (_dir, db) = fixture();
    let day_two = insight_json(
        &db,
        &[
            "summary",
            "--domain",
            "EXAMPLE.com",
            "--since",
            "2026-11-02",
            "--until",
            "2026-11-02",
        ],
    );
    assert_eq!(
        day_two["scope"]["domains"],
        serde_json::json!(["example.com"])
    );
    assert_eq!(day_two["scope"]["since"], rfc3339(NOV_1 + DAY));
    assert_eq!(day_two["scope"]["until"], rfc3339(NOV_1 + 2 * DAY));
    let domains = day_two["domains"].as_array().unwrap();
    assert_eq!(domains.len(), 1);
    assert_eq!(domains[0]["messages"], 17);
    assert_eq!(domains[0]["reporters"], 1);

    let future = insight_json(&db, &["summary", "--since", "1h"]);
    assert_eq!(future["domains"], serde_json::json!([]));

    let db = db.to_str().unwrap();
    let output = dmarc_sink(&["--db", db, "summary", "--since", "yesterday"]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("\"yesterday\""), "{stderr}");
}

#[test]
fn policy_says_what_blocks_the_next_step_and_what_to_publish() {
    let (_dir, db) = fixture();
    let document = insight_json(&db, &["policy"]);
    let domains = document["domains"].as_array().unwrap();
    let example = &domains[0];
    assert_eq!(example["policy_domain"], "example.com");
    assert_eq!(example["ready"], false);
    assert_eq!(example["messages"], 982);
    assert_eq!(example["days_covered"], 2);
    assert_eq!(example["failing_messages"], 140);
    assert_eq!(example["legitimate_failing_messages"], 113);
    assert_eq!(example["legitimate_failure_share"], 0.1151);
    assert_eq!(example["unauthorised_messages"], 27);
    assert_eq!(example["current"]["p"], "none");
    assert_eq!(example["next"]["p"], "quarantine");
    assert_eq!(example["next"]["pct"], Value::Null);
    assert_eq!(
        example["next"]["record"],
        format!("v=DMARC1; p=quarantine; rua=mailto:{RUA}")
    );
    let affected: Vec<(String, i64, String)> = example["affected_sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["source_ip"].as_str().unwrap().to_owned(),
                a["failing_messages"].as_i64().unwrap(),
                a["diagnosis"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("192.0.2.20", 40, "spf_not_aligned"),
        ("192.0.2.60", 40, "often_fails"),
        ("192.0.2.30", 30, "dkim_not_aligned"),
        ("192.0.2.80", 3, "mostly_aligned"),
    ]
    .map(|(ip, n, code)| (ip.to_owned(), n, code.to_owned()));
    assert_eq!(affected, expected);
    let reasons = example["reasons"].to_string();
    assert!(reasons.contains("reports cover 2 day(s)"), "{reasons}");
    assert!(reasons.contains("11.5%"), "{reasons}");

    let ready = &domains[1];
    assert_eq!(ready["policy_domain"], "ready.example");
    assert_eq!(ready["ready"], true, "{ready}");
    assert_eq!(ready["days_covered"], 14);
    assert_eq!(ready["legitimate_failing_messages"], 0);
    assert_eq!(ready["unauthorised_messages"], 5);
    assert_eq!(ready["current"]["pct"], 50);
    // DMARCbis: pct is historic; quarantine at any pct steps to reject.
    assert_eq!(ready["next"]["p"], "reject");
    assert_eq!(ready["next"]["pct"], Value::Null);
    let record = ready["next"]["record"].as_str().unwrap();
    assert!(
        record.contains("np=reject") && !record.contains("pct"),
        "{record}"
    );
    assert!(
        ready["reasons"].to_string().contains("pct is historic"),
        "{ready}"
    );
    assert_eq!(ready["affected_sources"], serde_json::json!([]));
}

#[test]
fn policy_thresholds_come_from_the_config() {
    let (dir, db) = fixture();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[insight]\nready_min_days = 2\nready_max_failure_share = 0.2\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let document = insight_json(
        &db,
        &["--config", config, "policy", "--domain", "example.com"],
    );
    assert_eq!(document["domains"][0]["ready"], true);
}

#[test]
fn tables_fit_80_columns_and_csv_has_a_row_per_item() {
    let (_dir, db) = fixture();
    for command in ["summary", "sources", "policy"] {
        let table = insight_command(&db, &[command]);
        assert!(table.contains("example.com"), "{command}:\n{table}");
        for line in table.lines() {
            assert!(
                line.chars().count() <= 80,
                "{command}: {} columns:\n{line}",
                line.chars().count()
            );
        }
    }
    let sources = insight_command(&db, &["sources"]);
    assert!(sources.contains("spf_not_aligned: SPF passes for us-east-1.amazonses.com"));
    let policy = insight_command(&db, &["policy"]);
    assert!(
        policy.contains("ready.example: ready for p=reject"),
        "{policy}"
    );
    assert!(
        policy.contains("example.com: not ready for p=quarantine"),
        "{policy}"
    );

    let csv = insight_command(&db, &["sources", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "policy_domain");
    assert_eq!(&headers[20], "diagnosis");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 12);
    let ses = rows.iter().find(|r| &r[1] == "192.0.2.20").unwrap();
    assert_eq!(&ses[2], "Amazon SES");
    assert_eq!(&ses[20], "spf_not_aligned");
    let summary = insight_command(&db, &["summary", "--format", "csv"]);
    assert_eq!(summary.lines().count(), 3, "{summary}");
}

#[test]
fn sources_limit_applies_per_domain() {
    let (_dir, db) = fixture();
    let document = insight_json(&db, &["sources", "--limit", "2"]);
    let sources = document["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 4);
    assert_eq!(sources[0]["source_ip"], "192.0.2.10");
    let table = insight_command(&db, &["sources", "--domain", "example.com", "--limit", "3"]);
    assert!(table.contains("… 7 more sources"), "{table}");
}

#[test]
fn reverse_dns_names_sources_when_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    let mut store = Store::open(&db).unwrap();
    let report = Report {
        org: "google.com",
        id: "loopback".into(),
        domain: "example.com",
        begin: NOV_1,
        p: "none",
        pct: 100,
        rows: vec![Row::failing("127.0.0.1", 3, "example.com")],
    };
    deliver(&mut store, &report, true);
    drop(store);
    let off = insight_json(&db, &["sources"]);
    assert_eq!(off["sources"][0]["reverse_dns"], Value::Null);
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[insight]\nreverse_dns = true\n").unwrap();
    let on = insight_json(&db, &["--config", config.to_str().unwrap(), "sources"]);
    let name = on["sources"][0]["reverse_dns"]
        .as_str()
        .expect("a PTR name for 127.0.0.1");
    assert!(!name.is_empty());
    assert_eq!(on["sources"][0]["name"], name);
}

#[test]
fn a_missing_store_is_an_error_not_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("absent.sqlite");
    let output = dmarc_sink(&["--db", db.to_str().unwrap(), "summary"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("no store at"));
    assert!(!db.exists());
}

/// Alignment is the public suffix list's: a signature of a bare public
/// suffix (`com`) does not align with `example.com`, though `example.com`
/// ends in `.com`.
#[test]
fn a_bare_public_suffix_does_not_align() {
    let dir = tempfile::tempdir().unwrap();
    let xml = "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>google.com</org_name>\
        <email>noreply-dmarc-support@google.com</email><report_id>psl-1</report_id>\
        <date_range><begin>1700006400</begin><end>1700092799</end></date_range></report_metadata>\
        <policy_published><domain>example.com</domain><p>none</p></policy_published>\
        <record><row><source_ip>192.0.2.5</source_ip><count>7</count><policy_evaluated>\
        <disposition>none</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>\
        <identifiers><header_from>example.com</header_from></identifiers><auth_results>\
        <dkim><domain>com</domain><selector>s</selector><result>pass</result></dkim>\
        <spf><domain>com</domain><result>pass</result></spf></auth_results></record></feedback>";
    let path = dir.path().join("psl.xml");
    std::fs::write(&path, xml).unwrap();
    let db = dir.path().join("store.sqlite");
    let output = dmarc_sink(&[
        "--db",
        db.to_str().unwrap(),
        "import",
        path.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let store = Store::open(&db).unwrap();
    let totals = store
        .source_totals(&dmarc_sink::store::Scope::default())
        .unwrap();
    assert_eq!(totals.len(), 1);
    // Passing, but for a domain that does not align: both counted so.
    assert_eq!(
        (totals[0].dkim_pass_unaligned, totals[0].spf_pass_unaligned),
        (7, 7),
        "{totals:?}"
    );
}
