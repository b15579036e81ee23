//! The hourly check's alerts (`reporter_silent`, `domain_silent`,
//! `pass_rate_drop`, `policy_changed`) over a real store, at instants the
//! test chooses; and under `serve`, sent like the others.

use crate::util::mail::{Part, gzip, report_mail};
use crate::util::report::{Report, Row};
use crate::util::server::TestServer;
use crate::util::webhook::Webhook;
use dmarc_sink::alert::{Alert, check};
use dmarc_sink::config::AlertsConfig;
use dmarc_sink::ingest::{Envelope, ingest_message};
use dmarc_sink::limits::Limits;
use dmarc_sink::store::{ApprovedSource, ChangedBy, Source, Standing, Store};
use serde_json::Value;
use std::path::Path;

const DAY: i64 = 86_400;
const HOUR: i64 = 3600;
/// 2026-11-30T00:00:00Z: "now" for the checks.
const NOW: i64 = 1_796_083_200;

fn deliver(
    store: &mut Store,
    org: &'static str,
    domain: &'static str,
    begin: i64,
    p: &'static str,
    rows: Vec<Row>,
) {
    let id = format!("{org}-{domain}-{begin}-{p}");
    let report = Report {
        org,
        id: id.clone(),
        domain,
        begin,
        p,
        pct: 100,
        rows,
    };
    let mail = report_mail(
        "Report",
        &format!("{id}@test"),
        vec![Part::attachment(
            "application/gzip",
            "report.xml.gz",
            &gzip(report.xml().as_bytes()),
        )],
    );
    let outcome = ingest_message(
        store,
        &mail,
        Source::Import,
        None,
        &Envelope::default(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(outcome.stored().count(), 1, "{outcome:?}");
}

/// Puts `source` on `domain`'s approved list, as `sources approve` does.
fn approve(store: &mut Store, domain: &str, source: &str, name: Option<&str>) {
    let entry = ApprovedSource {
        policy_domain: domain.into(),
        source: source.into(),
        standing: Standing::Approved,
        name: name.map(Into::into),
        note: None,
    };
    let by = ChangedBy {
        user: "test",
        at: NOW,
    };
    store.set_source_standing(&entry, by).unwrap();
}

fn clean(domain: &'static str) -> Vec<Row> {
    vec![Row::aligned("192.0.2.10", 10, domain)]
}

/// The kinds and documents of `alerts`.
fn documents(alerts: &[Alert]) -> Vec<(String, Value)> {
    alerts
        .iter()
        .map(|a| {
            (
                a.kind().as_str().to_owned(),
                serde_json::from_str(&a.document()).unwrap(),
            )
        })
        .collect()
}

fn of_kind<'a>(documents: &'a [(String, Value)], kind: &str) -> Vec<&'a Value> {
    documents
        .iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, d)| d)
        .collect()
}

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.sqlite")).unwrap();
    (dir, store)
}

/// google.com reported example.com daily for 10 days, the last range
/// ending 3 days and 1 second before NOW; yahoo.com twice.
fn silent_fixture(store: &mut Store) {
    for k in 0..10 {
        deliver(
            store,
            "google.com",
            "example.com",
            NOW - (k + 4) * DAY,
            "none",
            clean("example.com"),
        );
    }
    for k in 0..2 {
        deliver(
            store,
            "yahoo.com",
            "example.com",
            NOW - (k + 5) * DAY,
            "none",
            clean("example.com"),
        );
    }
}

#[test]
fn a_regular_reporter_and_its_domain_going_silent_alert_once_per_silence() {
    let (_dir, mut store) = temp_store();
    silent_fixture(&mut store);
    let config = AlertsConfig::default();

    // 71 hours after the last report ended nothing is silent yet.
    let last_end = NOW - 3 * DAY - 1;
    assert!(
        check(&store, &config, last_end + 71 * HOUR)
            .unwrap()
            .is_empty()
    );

    let raised = documents(&check(&store, &config, NOW).unwrap());
    let reporters = of_kind(&raised, "reporter_silent");
    assert_eq!(reporters.len(), 1, "{raised:?}");
    let r = reporters[0];
    assert_eq!(r["policy_domain"], "example.com");
    assert_eq!(
        r["org_name"], "google.com",
        "yahoo.com reported on 2 days only"
    );
    assert_eq!(r["days_reported"], 10);
    assert_eq!(r["silent_hours"], 72);
    let domains = of_kind(&raised, "domain_silent");
    assert_eq!(domains.len(), 1);
    assert_eq!(domains[0]["policy_domain"], "example.com");
    assert_eq!(raised.len(), 2);

    // Each check after that, the same silence: nothing new.
    assert!(check(&store, &config, NOW + HOUR).unwrap().is_empty());
    assert!(check(&store, &config, NOW + 2 * DAY).unwrap().is_empty());

    // google.com reports again, then falls silent again: a new silence.
    deliver(
        &mut store,
        "google.com",
        "example.com",
        NOW,
        "none",
        clean("example.com"),
    );
    assert!(check(&store, &config, NOW + DAY + HOUR).unwrap().is_empty());
    let again = documents(&check(&store, &config, NOW + 5 * DAY).unwrap());
    assert_eq!(of_kind(&again, "reporter_silent").len(), 1, "{again:?}");
    assert_eq!(of_kind(&again, "domain_silent").len(), 1, "{again:?}");
    let recorded: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM alerts WHERE kind IN ('reporter_silent', 'domain_silent')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(recorded, 4);
}

#[test]
fn a_policy_change_alerts_once() {
    let (_dir, mut store) = temp_store();
    for k in 0..3 {
        deliver(
            &mut store,
            "google.com",
            "policy.example",
            NOW - (10 - k) * DAY,
            "none",
            clean("policy.example"),
        );
    }
    let config = AlertsConfig::default();
    let before = documents(&check(&store, &config, NOW).unwrap());
    assert!(of_kind(&before, "policy_changed").is_empty(), "{before:?}");

    for k in 0..2 {
        deliver(
            &mut store,
            "google.com",
            "policy.example",
            NOW - (5 - k) * DAY,
            "quarantine",
            clean("policy.example"),
        );
    }
    let raised = documents(&check(&store, &config, NOW).unwrap());
    let changed = of_kind(&raised, "policy_changed");
    assert_eq!(changed.len(), 1, "{raised:?}");
    assert_eq!(
        changed[0]["before"],
        "v=DMARC1; p=none; sp=none; np=none; adkim=r; aspf=r; t=n"
    );
    assert_eq!(
        changed[0]["after"],
        "v=DMARC1; p=quarantine; sp=quarantine; np=quarantine; adkim=r; aspf=r; t=n"
    );
    assert!(check(&store, &config, NOW + HOUR).unwrap().is_empty());
}

#[test]
fn an_approved_source_whose_pass_share_drops_alerts_and_an_unknown_one_does_not() {
    let (_dir, mut store) = temp_store();
    let mixed = |domain: &'static str, failing: u32| {
        let mut rows = vec![Row::aligned("192.0.2.10", 100 - failing, domain)];
        if failing > 0 {
            rows.push(Row::failing("192.0.2.10", failing, domain));
        }
        rows
    };
    for domain in ["drop.example", "other.example"] {
        // 14 days passing, then 2 days with 30 of 100 failing.
        for k in 3..16 {
            deliver(
                &mut store,
                "google.com",
                domain,
                NOW - k * DAY,
                "none",
                mixed(domain, 0),
            );
        }
        for k in 1..3 {
            deliver(
                &mut store,
                "google.com",
                domain,
                NOW - k * DAY + HOUR,
                "none",
                mixed(domain, 30),
            );
        }
    }
    let config = AlertsConfig::default();
    assert!(
        of_kind(
            &documents(&check(&store, &config, NOW).unwrap()),
            "pass_rate_drop"
        )
        .is_empty(),
        "no list, no alert"
    );

    approve(&mut store, "drop.example", "192.0.2.0/24", Some("Office"));
    let raised = documents(&check(&store, &config, NOW).unwrap());
    let drops = of_kind(&raised, "pass_rate_drop");
    assert_eq!(drops.len(), 1, "{raised:?}");
    let d = drops[0];
    assert_eq!(d["policy_domain"], "drop.example");
    assert_eq!(d["source"], "192.0.2.0/24");
    assert_eq!(d["name"], "Office");
    assert_eq!(d["before_share"], 1.0);
    assert_eq!(d["recent_share"], 0.7);
    assert_eq!(d["recent_failing"], 60);
    assert!(check(&store, &config, NOW + HOUR).unwrap().is_empty());

    // A smaller drop than alerts.pass_rate_drop asks for says nothing.
    let (_dir2, mut quiet) = temp_store();
    for k in 3..16 {
        deliver(
            &mut quiet,
            "google.com",
            "drop.example",
            NOW - k * DAY,
            "none",
            mixed("drop.example", 0),
        );
    }
    for k in 1..3 {
        deliver(
            &mut quiet,
            "google.com",
            "drop.example",
            NOW - k * DAY + HOUR,
            "none",
            mixed("drop.example", 30),
        );
    }
    approve(&mut quiet, "drop.example", "192.0.2.10", None);
    let strict = AlertsConfig {
        pass_rate_drop: 0.5,
        ..AlertsConfig::default()
    };
    assert!(
        of_kind(
            &documents(&check(&quiet, &strict, NOW).unwrap()),
            "pass_rate_drop"
        )
        .is_empty()
    );
}

#[test]
fn serve_runs_the_check_and_sends_its_alerts_like_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    {
        let mut store = Store::open(&db).unwrap();
        // Regular until a week ago, by the real clock.
        let now = jiff::Timestamp::now().as_second();
        for k in 0..10 {
            deliver(
                &mut store,
                "google.com",
                "example.com",
                now - (k + 7) * DAY,
                "none",
                clean("example.com"),
            );
        }
    }
    silent_db_check(&db);
    let hook = Webhook::start();
    let server = TestServer::start_in(dir, &format!("[alerts]\nwebhook = {:?}\n", hook.url));
    let mut kinds: Vec<String> = (0..2)
        .map(|_| hook.next().json()["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["domain_silent", "reporter_silent"]);
    let lines = server.wait_for_log("alert: a regular reporter went silent", 1);
    assert!(lines[0].contains("org_name=google.com"), "{lines:?}");
    assert_eq!(
        server.count("SELECT count(*) FROM alerts WHERE occasion IS NOT NULL"),
        2
    );
}

/// The store is there and holds the reports (the server opens it next).
fn silent_db_check(db: &Path) {
    let store = Store::open(db).unwrap();
    let reports: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM reports", [], |r| r.get(0))
        .unwrap();
    assert_eq!(reports, 10);
}

#[test]
fn a_policy_change_needs_a_second_reporter_and_a_value_a_record_can_have() {
    let (_dir, mut store) = temp_store();
    let domain = "two.example";
    for k in 0..4 {
        deliver(
            &mut store,
            "google.com",
            domain,
            NOW - (20 - k) * DAY,
            "none",
            clean(domain),
        );
        deliver(
            &mut store,
            "yahoo.com",
            domain,
            NOW - (20 - k) * DAY,
            "none",
            clean(domain),
        );
    }
    // One reporter alone says the policy changed, and one says nonsense.
    deliver(
        &mut store,
        "google.com",
        domain,
        NOW - 10 * DAY,
        "quarantine",
        clean(domain),
    );
    deliver(
        &mut store,
        "yahoo.com",
        domain,
        NOW - 10 * DAY,
        "x1",
        clean(domain),
    );
    deliver(
        &mut store,
        "yahoo.com",
        domain,
        NOW - 9 * DAY,
        "x2",
        clean(domain),
    );
    let config = AlertsConfig::default();
    let raised = documents(&check(&store, &config, NOW).unwrap());
    assert!(of_kind(&raised, "policy_changed").is_empty(), "{raised:?}");

    // The second reporter sees it too: now it is news.
    deliver(
        &mut store,
        "yahoo.com",
        domain,
        NOW - 8 * DAY,
        "quarantine",
        clean(domain),
    );
    let raised = documents(&check(&store, &config, NOW).unwrap());
    let changed = of_kind(&raised, "policy_changed");
    assert_eq!(changed.len(), 1, "{raised:?}");
    assert_eq!(changed[0]["reporters"], 2);
    assert_eq!(
        changed[0]["first_seen"],
        crate::util::rfc3339(NOW - 10 * DAY)
    );
}

#[test]
fn an_approved_source_that_stops_authenticating_altogether_alerts() {
    let (_dir, mut store) = temp_store();
    let domain = "signed.example";
    for k in 3..16 {
        deliver(
            &mut store,
            "google.com",
            domain,
            NOW - k * DAY,
            "none",
            clean(domain),
        );
    }
    for k in 1..3 {
        // The key was rotated wrong: nothing passes, nothing names the domain.
        deliver(
            &mut store,
            "google.com",
            domain,
            NOW - k * DAY + HOUR,
            "none",
            vec![Row::failing("192.0.2.10", 40, "other.example")],
        );
    }
    approve(&mut store, domain, domain, Some("Our own DKIM"));
    let raised = documents(&check(&store, &AlertsConfig::default(), NOW).unwrap());
    let drops = of_kind(&raised, "pass_rate_drop");
    assert_eq!(drops.len(), 1, "{raised:?}");
    assert_eq!(drops[0]["source"], domain);
    assert_eq!(drops[0]["recent_share"], 0.0);
    assert_eq!(drops[0]["recent_failing"], 80);
}
