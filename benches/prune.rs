//! Retention: how long `prune` takes, how long it holds the writer, and how
//! long a delivery written meanwhile waits.
//!
//! Run: `cargo bench --bench prune` (the default shapes) or
//! `cargo bench --bench prune -- 2000x500 1x100000` (reports × records).
//!
//! For each shape it fills a fresh store with that many reports, each in
//! a message of its own, whose ranges ended a year ago, and 50 reports of
//! the last week; then prunes at 365 days (as `serve` does daily, with the
//! same pacing) while another connection stores a one-record report every
//! 10 ms, as deliveries would, timing each. It prints one Markdown row.

#[path = "common/report_mail.rs"]
mod report_mail;

use dmarc_sink::store::{PruneControl, Store};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const DAY: i64 = 86_400;
const DEFAULT_SHAPES: [(u64, u64); 2] = [(2_000, 500), (1, 100_000)];

fn main() {
    let shapes: Vec<(u64, u64)> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .filter_map(|a| {
            let (reports, records) = a.split_once('x')?;
            Some((reports.parse().ok()?, records.parse().ok()?))
        })
        .collect();
    let shapes = if shapes.is_empty() {
        DEFAULT_SHAPES.to_vec()
    } else {
        shapes
    };
    println!(
        "| old reports × records | prune | transactions | longest transaction | deliveries during it | slowest delivery | pages given back | file before → after |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (reports, records) in shapes {
        run(reports, records);
    }
}

fn run(reports: u64, records: u64) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("store.sqlite");
    let now = jiff::Timestamp::now().as_second();
    {
        let mut store = Store::open(&path).expect("open the store");
        for i in 0..reports {
            report_mail::store_report(&mut store, &format!("old-{i}"), now - 400 * DAY, records);
        }
        for i in 0..50 {
            report_mail::store_report(&mut store, &format!("young-{i}"), now - 3 * DAY, 10);
        }
    }
    let before = std::fs::metadata(&path).unwrap().len();

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let path = path.clone();
        std::thread::spawn(move || deliveries(&path, &stop, now))
    };
    let mut store = Store::open(&path).expect("open the store");
    let started = Instant::now();
    let progress = store
        .prune(now - 365 * DAY, &PruneControl::default())
        .expect("prune");
    let took = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let (count, slowest) = writer.join().expect("the delivery thread");
    drop(store);
    let after = std::fs::metadata(&path).unwrap().len();
    assert_eq!(progress.deleted.reports as u64, reports);
    println!(
        "| {reports} × {records} | {:.2} s | {} | {} ms | {count} | {} ms | {} | {} → {} |",
        took.as_secs_f64(),
        progress.transactions,
        progress.longest_transaction.as_millis(),
        slowest.as_millis(),
        progress.pages_freed,
        mib(before),
        mib(after),
    );
}

/// Stores a one-record report every 10 ms until told to stop; returns how
/// many and the slowest.
fn deliveries(path: &Path, stop: &AtomicBool, now: i64) -> (u64, Duration) {
    let mut store = Store::open(path).expect("open the store");
    let mut count = 0;
    let mut slowest = Duration::ZERO;
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        report_mail::store_report(&mut store, &format!("during-{count}"), now - DAY, 1);
        slowest = slowest.max(started.elapsed());
        count += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
    (count, slowest)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
