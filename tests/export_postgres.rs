//! Shipping to a fleet's PostgreSQL: real sinks over SMTP, a real
//! PostgreSQL started by the tests (`util::postgres`), every row of each
//! store looked for in PostgreSQL by its id.

use crate::util::mail::{Dmarc, Part, dmarc_report_xml, gzip, report_mail, report_xml};
use crate::util::postgres::Postgres;
use crate::util::server::TestServer;
use crate::util::tls_failure::{TlsFailure, TlsPolicy, TlsReport};
use crate::util::{dmarc_sink, text};
use postgres::{Client, NoTls};
use std::path::Path;
use std::time::{Duration, Instant};

/// The tables every sink ships (all but message_raw, without `raw`).
const TABLES: &[&str] = &[
    "messages",
    "reports",
    "records",
    "record_reasons",
    "dkim_results",
    "spf_results",
    "quarantine",
    "tls_reports",
    "tls_policies",
    "tls_failures",
    "failure_reports",
    "alerts",
];

/// How long shipping may take to catch up in a test.
const CATCH_UP: Duration = Duration::from_secs(90);

pub(crate) fn export_config(url: &str, instance: &str) -> String {
    format!("[export.postgres]\nurl = {url:?}\ninstance = {instance:?}\ninterval_secs = 1\n")
}

pub(crate) fn dmarc_mail(org: &str, report_id: &str, records: &[(&str, u32)]) -> Vec<u8> {
    let xml = report_xml(org, report_id, "example.com", records);
    report_mail(
        &format!("Report Domain: example.com Submitter: {org} Report-ID: {report_id}"),
        &format!("<{report_id}@{org}>"),
        vec![Part::attachment(
            "application/gzip",
            &format!("{org}!example.com!1700006400!1700092799.xml.gz"),
            &gzip(xml.as_bytes()),
        )],
    )
}

pub(crate) fn deliver(server: &TestServer, mail: &[u8]) {
    let mut client = server.connect();
    assert_eq!(client.reply().0, 220);
    assert_eq!(client.command("EHLO mail-sor-f41.google.com").0, 250);
    let (code, reply) = client.deliver(
        "noreply-dmarc-support@google.com",
        "dmarc@reports.example.com",
        mail,
    );
    assert_eq!(code, 250, "{reply}");
}

/// The rowids of `table` in the store at `db`.
fn store_ids(db: &Path, table: &str) -> Vec<i64> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(&format!("SELECT rowid FROM {table} ORDER BY rowid"))
        .unwrap();
    stmt.query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The ids of `instance`'s rows of `table` in PostgreSQL, counting a
/// doubled id twice.
fn pg_ids(pg: &mut Client, table: &str, instance: &str) -> Vec<i64> {
    pg.query(
        &format!("SELECT id FROM dmarc_sink.{table} WHERE instance = $1 ORDER BY id"),
        &[&instance],
    )
    .unwrap()
    .iter()
    .map(|row| row.get(0))
    .collect()
}

/// Waits until PostgreSQL holds exactly the rows of the store at `db` for
/// `instance`, table by table; panics with the difference at the deadline.
pub(crate) fn wait_until_shipped(url: &str, db: &Path, instance: &str) {
    let deadline = Instant::now() + CATCH_UP;
    loop {
        let mut pg = Client::connect(url, NoTls).unwrap();
        let schema_ready = pg
            .query_opt(
                "SELECT 1 FROM information_schema.tables
                 WHERE table_schema = 'dmarc_sink' AND table_name = 'alerts'",
                &[],
            )
            .unwrap()
            .is_some();
        let differing: Vec<&str> = if schema_ready {
            TABLES
                .iter()
                .copied()
                .filter(|table| store_ids(db, table) != pg_ids(&mut pg, table, instance))
                .collect()
        } else {
            TABLES.to_vec()
        };
        if differing.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            let detail: Vec<String> = differing
                .iter()
                .map(|table| {
                    format!(
                        "{table}: store {:?}, PostgreSQL {:?}",
                        store_ids(db, table),
                        pg_ids(&mut pg, table, instance)
                    )
                })
                .collect();
            panic!("{instance}: not shipped yet: {detail:#?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `dmarc-sink --db DB export postgres URL --instance INSTANCE`, run once.
fn export_once(db: &str, url: &str, instance: &str) -> std::process::Output {
    dmarc_sink(&[
        "--db",
        db,
        "export",
        "postgres",
        url,
        "--instance",
        instance,
    ])
}

pub(crate) fn tls_mail(report_id: &str) -> Vec<u8> {
    TlsReport::new(
        "google.com",
        report_id,
        1_700_006_400,
        vec![TlsPolicy::sts(
            "example.com",
            100,
            vec![TlsFailure::new("certificate-expired", "mx1.example.com", 3)],
        )],
    )
    .mail()
}

#[test]
fn two_sinks_ship_their_rows_to_one_database_once_each() {
    let Some(postgres) = Postgres::start() else {
        return;
    };
    let url = postgres.create_database("fleet");
    let mx1 = TestServer::start(&export_config(&url, "mx1"));
    let mx2 = TestServer::start(&export_config(&url, "mx2"));
    let shared = dmarc_mail(
        "google.com",
        "shared-1",
        &[("192.0.2.10", 5), ("2001:db8::1", 2)],
    );
    deliver(&mx1, &shared);
    deliver(&mx2, &shared);
    deliver(
        &mx1,
        &dmarc_mail("yahoo.com", "only-mx1", &[("198.51.100.7", 9)]),
    );
    deliver(
        &mx2,
        &dmarc_mail("outlook.com", "only-mx2", &[("203.0.113.5", 1)]),
    );
    deliver(&mx2, &tls_mail("tls-mx2"));

    wait_until_shipped(&url, &mx1.db, "mx1");
    wait_until_shipped(&url, &mx2.db, "mx2");

    let mut pg = Client::connect(&url, NoTls).unwrap();
    let copies: i64 = pg
        .query_one(
            "SELECT count(*) FROM dmarc_sink.reports WHERE report_id = 'shared-1'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(copies, 2, "one copy per sink; the views count it once");
    // Times and addresses typed, as the store holds them.
    let rows = pg
        .query(
            "SELECT extract(epoch FROM r.date_begin)::bigint, extract(epoch FROM r.date_end)::bigint,
                    rec.source_ip, host(rec.source_addr), family(rec.source_addr)
             FROM dmarc_sink.records rec
             JOIN dmarc_sink.reports r ON r.instance = rec.instance AND r.id = rec.report
             WHERE rec.instance = 'mx1' AND r.report_id = 'shared-1' ORDER BY rec.id",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 2);
    for (row, (ip, family)) in rows.iter().zip([("192.0.2.10", 4), ("2001:db8::1", 6)]) {
        assert_eq!(row.get::<_, i64>(0), 1_700_006_400);
        assert_eq!(row.get::<_, i64>(1), 1_700_006_400 + 86_399);
        assert_eq!(row.get::<_, String>(2), ip);
        assert_eq!(row.get::<_, String>(3), ip);
        assert_eq!(row.get::<_, i32>(4), family);
    }
    let received: i64 = pg
        .query_one(
            "SELECT extract(epoch FROM received_at)::bigint FROM dmarc_sink.messages
             WHERE instance = 'mx2' ORDER BY id LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        received,
        mx2.count("SELECT received_at FROM messages ORDER BY id LIMIT 1")
    );
    let sending: String = pg
        .query_one(
            "SELECT host(sending_mta_addr) FROM dmarc_sink.tls_failures WHERE instance = 'mx2'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(sending, "209.85.220.41");
    let version: i32 = pg
        .query_one("SELECT max(version) FROM dmarc_sink.schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, 3, "the tables, then the fleet's views");
    // Alignment as the sink decided it: DKIM of example.com aligns with
    // example.com, SPF of amazonses.com does not.
    for (table, expected) in [("dkim_results", true), ("spf_results", false)] {
        let verdicts: Vec<Option<bool>> = pg
            .query(
                &format!("SELECT aligned FROM dmarc_sink.{table} WHERE instance = 'mx1'"),
                &[],
            )
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert!(!verdicts.is_empty());
        assert!(
            verdicts.iter().all(|v| *v == Some(expected)),
            "{table}: {verdicts:?}"
        );
    }
    let shared: i64 = pg
        .query_one(
            "SELECT count(*) FROM dmarc_sink.fleet_reports WHERE report_id = 'shared-1'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(shared, 1, "the fleet's views count the shared report once");
}

#[test]
fn an_outage_is_ridden_out_and_caught_up_once() {
    let Some(postgres) = Postgres::start() else {
        return;
    };
    let url = postgres.create_database("fleet");
    let server = TestServer::start(&export_config(&url, "mx1"));
    deliver(
        &server,
        &dmarc_mail("google.com", "before", &[("192.0.2.1", 1)]),
    );
    wait_until_shipped(&url, &server.db, "mx1");

    postgres.stop();
    for n in 0..5 {
        let id = format!("during-{n}");
        deliver(
            &server,
            &dmarc_mail("google.com", &id, &[("192.0.2.2", n + 1)]),
        );
    }
    server.wait_for_log("cannot ship to PostgreSQL", 1);
    postgres.restart();
    server.wait_for_log("PostgreSQL is reachable again", 1);
    if std::env::var_os("SHOW_LOG").is_some() {
        eprintln!("{}", server.log());
    }
    wait_until_shipped(&url, &server.db, "mx1");

    let log = server.log();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("cannot ship to PostgreSQL"))
        .collect();
    assert_eq!(warnings.len(), 1, "one WARN per outage:\n{log}");
    let recovery: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("INFO") && l.contains("PostgreSQL is reachable again"))
        .collect();
    assert_eq!(recovery.len(), 1, "{log}");
    assert!(
        recovery[0].contains("rows="),
        "how many rows caught up: {}",
        recovery[0]
    );
}

#[test]
fn a_sink_killed_while_shipping_resumes_without_gaps_or_doubles() {
    let Some(postgres) = Postgres::start() else {
        return;
    };
    let url = postgres.create_database("fleet");
    // A backlog of many batches, stored before shipping is configured.
    let server = TestServer::start("");
    let ips: Vec<String> = (0..4000)
        .map(|n| format!("10.{}.{}.{}", n / 65536, (n / 256) % 256, n % 256))
        .collect();
    for report in 0..10 {
        let records: Vec<(&str, u32, Dmarc)> =
            ips.iter().map(|ip| (ip.as_str(), 1, Dmarc::Pass)).collect();
        let id = format!("big-{report}");
        let xml = dmarc_report_xml("google.com", &id, "example.com", 1_700_006_400, &records);
        let mail = report_mail(
            "Report Domain: example.com Submitter: google.com",
            &format!("<{id}@google.com>"),
            vec![Part::attachment(
                "application/gzip",
                "google.com!example.com!1700006400!1700092799.xml.gz",
                &gzip(xml.as_bytes()),
            )],
        );
        deliver(&server, &mail);
    }
    assert_eq!(server.count("SELECT count(*) FROM records"), 40_000);
    let dir = server.kill();

    let shipping = TestServer::start_in(dir, &export_config(&url, "mx1"));
    // Kill it once some batch of records is in, before all are.
    let mut pg = Client::connect(&url, NoTls).unwrap();
    let deadline = Instant::now() + CATCH_UP;
    loop {
        let exists = pg
            .query_opt("SELECT to_regclass('dmarc_sink.records')::text", &[])
            .unwrap()
            .and_then(|row| row.get::<_, Option<String>>(0))
            .is_some();
        if exists
            && pg
                .query_one("SELECT count(*) FROM dmarc_sink.records", &[])
                .unwrap()
                .get::<_, i64>(0)
                > 0
        {
            break;
        }
        assert!(Instant::now() < deadline, "{}", shipping.log());
        std::thread::sleep(Duration::from_millis(5));
    }
    let dir = shipping.kill();
    let at_kill: i64 = pg
        .query_one("SELECT count(*) FROM dmarc_sink.records", &[])
        .unwrap()
        .get(0);
    eprintln!("killed with {at_kill} of 40000 records in PostgreSQL");

    let resumed = TestServer::start_in(dir, &export_config(&url, "mx1"));
    wait_until_shipped(&url, &resumed.db, "mx1");
    let records: i64 = pg
        .query_one("SELECT count(*) FROM dmarc_sink.records", &[])
        .unwrap()
        .get(0);
    assert_eq!(records, 40_000);
}

#[test]
fn export_postgres_ships_an_imported_store_once() {
    let Some(postgres) = Postgres::start() else {
        return;
    };
    let url = postgres.create_database("fleet");
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("reports");
    std::fs::create_dir(&inputs).unwrap();
    for (n, org) in ["google.com", "yahoo.com", "outlook.com"]
        .iter()
        .enumerate()
    {
        let xml = report_xml(org, &format!("cli-{n}"), "example.com", &[("192.0.2.9", 3)]);
        std::fs::write(inputs.join(format!("{org}.xml")), xml).unwrap();
    }
    let db = dir.path().join("store.sqlite");
    let db_arg = db.to_str().unwrap();
    let import = dmarc_sink(&["--db", db_arg, "import", inputs.to_str().unwrap()]);
    assert!(import.status.success(), "{}", text(&import.stderr));

    let first = export_once(db_arg, &url, "archive");
    assert!(first.status.success(), "{}", text(&first.stderr));
    let printed = text(&first.stdout);
    assert!(printed.contains("reports: 3"), "{printed}");
    assert!(printed.contains("records: 3"), "{printed}");
    wait_until_shipped(&url, &db, "archive");

    let second = export_once(db_arg, &url, "archive");
    assert!(second.status.success(), "{}", text(&second.stderr));
    let printed = text(&second.stdout);
    assert!(printed.contains("shipped 0 rows"), "{printed}");
    wait_until_shipped(&url, &db, "archive");
}

#[test]
fn tls_to_postgresql_checks_the_server_against_the_ca_file() {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let certificate = certified.cert.pem();
    let Some(postgres) =
        Postgres::start_with_tls(&certificate, &certified.signing_key.serialize_pem())
    else {
        return;
    };
    let url = format!("{}?sslmode=require", postgres.create_database("fleet"));
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("report.xml");
    std::fs::write(
        &inputs,
        report_xml("google.com", "tls-1", "example.com", &[("192.0.2.9", 3)]),
    )
    .unwrap();
    let db = dir.path().join("store.sqlite");
    let db_arg = db.to_str().unwrap();
    let import = dmarc_sink(&["--db", db_arg, "import", inputs.to_str().unwrap()]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    let export = |config: &str| {
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config).unwrap();
        dmarc_sink(&[
            "--config",
            path.to_str().unwrap(),
            "--db",
            db_arg,
            "export",
            "postgres",
            &url,
        ])
    };

    // The public roots do not vouch for a self-signed server.
    let refused = export("");
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");

    // Its own certificate as the CA: shipped, over TLS (the server refuses
    // TCP without it).
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &certificate).unwrap();
    let shipped = export(&format!("[export.postgres]\nca_file = {:?}\n", ca));
    assert!(shipped.status.success(), "{}", text(&shipped.stderr));
    assert!(
        text(&shipped.stdout).contains("reports: 1"),
        "{}",
        text(&shipped.stdout)
    );
}

#[test]
fn what_reparse_rewrites_is_replaced_not_doubled() {
    let Some(postgres) = Postgres::start() else {
        return;
    };
    let url = postgres.create_database("fleet");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    // A store an older reader wrote: reparse rewrites its reports in place
    // and writes their records again, under new ids.
    std::fs::copy("tests/data/store-before-mime-walker.sqlite", &db).unwrap();
    let db_arg = db.to_str().unwrap();
    let export = || {
        let out = export_once(db_arg, &url, "old");
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    export();
    wait_until_shipped(&url, &db, "old");
    let records_before = store_ids(&db, "records");

    let reparse = dmarc_sink(&["--db", db_arg, "reparse"]);
    assert!(reparse.status.success(), "{}", text(&reparse.stderr));
    assert_ne!(
        store_ids(&db, "records"),
        records_before,
        "reparse wrote records again"
    );
    export();
    // Every table holds exactly the store's rows: the old records are gone.
    wait_until_shipped(&url, &db, "old");
    let mut pg = Client::connect(&url, NoTls).unwrap();
    let readers: Vec<i32> = pg
        .query(
            "SELECT DISTINCT reader FROM dmarc_sink.messages WHERE instance = 'old'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(readers, [2], "the messages as the store holds them now");
    // And nothing is left to do.
    let again = export_once(db_arg, &url, "old");
    assert!(
        text(&again.stdout).contains("0 rows"),
        "{}",
        text(&again.stdout)
    );
}
