//! Shipping to PostgreSQL: records per second and the shipper's peak
//! memory, for a store of 1,000,000 records (or the count given:
//! `cargo bench --bench export_postgres -- 100000`).
//!
//! It fills a fresh store with reports of 10,000 records each, every record
//! with a DKIM and an SPF result (three rows shipped per record), starts a
//! PostgreSQL of its own as the tests do (tests/util/postgres.rs, fsync
//! off), and ships the store in a child process, as `export postgres`
//! does, so that the peak resident memory is the shipper's alone. Then it
//! prints one Markdown row, and the size PostgreSQL gives each table.

#[path = "../tests/util/postgres.rs"]
#[allow(dead_code)]
mod postgres_server;

#[path = "common/report_mail.rs"]
mod report_mail;

use dmarc_sink::export::Target;
use dmarc_sink::export::postgres::Shipper;
use dmarc_sink::export::postgres::ship::Flow;
use dmarc_sink::store::Store;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const DEFAULT_RECORDS: u64 = 1_000_000;
const RECORDS_PER_REPORT: u64 = 10_000;
const DAY: i64 = 86_400;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("child-ship") {
        child_ship(&args[1], Path::new(&args[2]));
        return;
    }
    let records = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(DEFAULT_RECORDS);
    let Some(server) = postgres_server::Postgres::start() else {
        return;
    };
    let url = server.create_database("bench");
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = dir.path().join("store.sqlite");
    let started = Instant::now();
    {
        let mut store = Store::open(&db).expect("open the store");
        for report in 0..records.div_ceil(RECORDS_PER_REPORT) {
            let count = RECORDS_PER_REPORT.min(records - report * RECORDS_PER_REPORT);
            report_mail::store_report(
                &mut store,
                &format!("bench-{report}"),
                1_700_006_400 + (report as i64 % 30) * DAY,
                count,
            );
        }
    }
    eprintln!(
        "stored {records} records in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["child-ship", &url, db.to_str().unwrap()])
        .output()
        .expect("run the shipper");
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8_lossy(&output.stdout);
    let mut fields = printed.split_whitespace();
    let rows: u64 = fields.next().unwrap().parse().unwrap();
    let peak_kib: u64 = fields.next().unwrap().parse().unwrap();

    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let shipped_records: i64 = client
        .query_one("SELECT count(*) FROM dmarc_sink.records", &[])
        .unwrap()
        .get(0);
    assert_eq!(shipped_records as u64, records);
    let sizes = client
        .query(
            "SELECT c.relname::text, pg_total_relation_size(c.oid)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'dmarc_sink' AND c.relkind = 'r'
             ORDER BY 2 DESC",
            &[],
        )
        .unwrap();
    let total: i64 = sizes.iter().map(|row| row.get::<_, i64>(1)).sum();
    println!(
        "| records | rows shipped | time | records/s | rows/s | shipper's peak RSS | PostgreSQL size |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {records} | {rows} | {:.2} s | {:.0} | {:.0} | {:.1} MiB | {} |",
        elapsed.as_secs_f64(),
        records as f64 / elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64(),
        peak_kib as f64 / 1024.0,
        mib(total),
    );
    println!();
    println!("| table | size | per million records |");
    println!("|---|---:|---:|");
    for row in &sizes {
        let bytes: i64 = row.get(1);
        if bytes > 64 * 1024 {
            println!(
                "| {} | {} | {} |",
                row.get::<_, String>(0),
                mib(bytes),
                mib((bytes as f64 * 1e6 / records as f64) as i64)
            );
        }
    }
}

/// Ships the store at `db` to `url`; prints the rows shipped and VmHWM.
fn child_ship(url: &str, db: &Path) {
    let target = Target::new(url, None, None, "bench", false).expect("the target");
    let store = Store::open(db).expect("open the store");
    let mut shipper = Shipper::connect(&target).expect("connect");
    let shipped = shipper
        .ship(&store, &mut |_, _| Flow::Continue)
        .expect("ship");
    println!("{} {}", shipped.total(), peak_rss_kib());
}

/// VmHWM: the peak resident set of this process.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(bytes: i64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
