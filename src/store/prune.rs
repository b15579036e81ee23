//! Retention: deleting what is older than a cut, keeping its daily sums.
//!
//! The unit of deletion is a message, with its raw bytes and everything
//! read from it, so that what stays can always be read again (`reparse`).
//! A message goes when everything in it is older than the cut: each
//! aggregate and TLS report's range ended before it, each failure report
//! arrived before it, each quarantined payload was quarantined before it;
//! a message with none of these, when it was received before it. Before an
//! aggregate report goes, its records are added to `daily_rollups`, which
//! the daily and per-domain totals read beside the reports that remain.
//!
//! Deleting is done in short transactions of whole messages, each ended
//! once it has held the writer for [`PruneBudget::per_transaction`], so
//! that deliveries waiting on the writer are never held for long.

use super::{Store, StoreError};
use rusqlite::{Connection, TransactionBehavior};
use std::time::{Duration, Instant};

/// What a prune deleted, or with `--dry-run` would delete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PruneCounts {
    pub messages: i64,
    /// Bytes of those messages as received.
    pub message_bytes: i64,
    pub reports: i64,
    pub records: i64,
    pub tls_reports: i64,
    pub failure_reports: i64,
    pub quarantined: i64,
}

impl PruneCounts {
    fn add(&mut self, other: PruneCounts) {
        self.messages += other.messages;
        self.message_bytes += other.message_bytes;
        self.reports += other.reports;
        self.records += other.records;
        self.tls_reports += other.tls_reports;
        self.failure_reports += other.failure_reports;
        self.quarantined += other.quarantined;
    }
}

/// How a prune paces itself, and when it stops early.
#[derive(Debug, Clone, Default)]
pub struct PruneControl {
    pub budget: PruneBudget,
    /// Set (by shutdown) to end the prune before its next transaction;
    /// what it did so far stays done, the rest waits for the next prune.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl PruneControl {
    fn stopped(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|stop| stop.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// How a prune paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneBudget {
    /// A transaction commits once it has run this long (after the message
    /// at hand).
    pub per_transaction: Duration,
    /// The least pause before the next. A writer waiting on the lock
    /// sleeps between tries, longer the longer it has waited (SQLite's
    /// busy handler: 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, then 100 ms),
    /// so the pause is this or as long as the transaction was, up to
    /// 100 ms: enough for it to wake and take the lock, so that a prune
    /// cannot starve deliveries.
    pub pause: Duration,
}

impl Default for PruneBudget {
    fn default() -> Self {
        PruneBudget {
            per_transaction: Duration::from_millis(50),
            pause: Duration::from_millis(30),
        }
    }
}

/// Records of one message above which they are deleted in transactions
/// of their own, this many at a time, after the message's reports have
/// been rolled up and left out of every count.
const RECORDS_PER_TRANSACTION: i64 = 5_000;

/// How a prune went, beyond what it deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneProgress {
    pub deleted: PruneCounts,
    pub transactions: u64,
    /// The longest any one transaction held the writer.
    pub longest_transaction: Duration,
    /// Pages given back to the file system by incremental vacuum.
    pub pages_freed: i64,
    /// It was told to stop before it was done.
    pub stopped: bool,
}

/// The messages to delete for a cut at `:cut` (unix seconds). A date the
/// reporter wrote counts up to a week past the message's arrival: a range
/// that ends in 2099 must not keep a message for ever.
const DOOMED: &str = "SELECT m.id FROM messages m
    WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.message = m.id
                      AND min(r.date_end, m.received_at + 604800) >= :cut)
      AND NOT EXISTS (SELECT 1 FROM tls_reports t WHERE t.message = m.id
                      AND min(t.date_end, m.received_at + 604800) >= :cut)
      AND NOT EXISTS (SELECT 1 FROM failure_reports f WHERE f.message = m.id
                      AND min(coalesce(f.arrival_date, m.received_at), m.received_at + 604800)
                          >= :cut)
      AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.message = m.id AND q.created_at >= :cut)
      AND (m.received_at < :cut
           OR EXISTS (SELECT 1 FROM reports r WHERE r.message = m.id)
           OR EXISTS (SELECT 1 FROM tls_reports t WHERE t.message = m.id)
           OR EXISTS (SELECT 1 FROM failure_reports f WHERE f.message = m.id)
           OR EXISTS (SELECT 1 FROM quarantine q WHERE q.message = m.id))";

/// The longest SQLite's busy handler sleeps between tries.
const MAX_BUSY_SLEEP: Duration = Duration::from_millis(100);

/// Pages handed back per `incremental_vacuum` step (4 MiB of 4 KiB pages).
const VACUUM_STEP_PAGES: i64 = 1024;

impl Store {
    /// What pruning at `cut` (unix seconds) would delete, without deleting.
    pub fn prune_preview(&self, cut: i64) -> Result<PruneCounts, StoreError> {
        let sql = format!(
            "WITH doomed(id) AS ({DOOMED})
             SELECT (SELECT count(*) FROM doomed),
                    (SELECT coalesce(sum(size), 0) FROM messages WHERE id IN doomed),
                    (SELECT count(*) FROM reports WHERE message IN doomed),
                    (SELECT count(*) FROM records WHERE report IN
                        (SELECT id FROM reports WHERE message IN doomed)),
                    (SELECT count(*) FROM tls_reports WHERE message IN doomed),
                    (SELECT count(*) FROM failure_reports WHERE message IN doomed),
                    (SELECT count(*) FROM quarantine WHERE message IN doomed)"
        );
        Ok(self
            .conn
            .query_row(&sql, rusqlite::named_params! {":cut": cut}, counts_row)?)
    }

    /// Deletes what is older than `cut` (see the module documentation),
    /// rolling aggregate reports up into `daily_rollups` first, then gives
    /// the freed pages back to the file system when the store is in
    /// incremental auto-vacuum mode.
    pub fn prune(&mut self, cut: i64, control: &PruneControl) -> Result<PruneProgress, StoreError> {
        let budget = control.budget;
        let doomed: Vec<i64> = {
            let mut stmt = self.conn.prepare(DOOMED)?;
            stmt.query_map(rusqlite::named_params! {":cut": cut}, |row| row.get(0))?
                .collect::<Result<_, _>>()?
        };
        let mut pacer = Pacer::new(budget);
        let mut deleted = PruneCounts::default();
        let mut pending = doomed.as_slice();
        while let Some(&first) = pending.first() {
            if control.stopped() {
                return Ok(PruneProgress {
                    deleted,
                    transactions: pacer.transactions,
                    longest_transaction: pacer.longest,
                    pages_freed: 0,
                    stopped: true,
                });
            }
            if message_counts(&self.conn, first)?.records > RECORDS_PER_TRANSACTION {
                if still_doomed(&self.conn, first, cut)? {
                    deleted.add(self.delete_large_message(first, &mut pacer)?);
                }
                pending = &pending[1..];
                continue;
            }
            pacer.transaction(&mut self.conn, |tx, started| {
                while let Some((&message, rest)) = pending.split_first() {
                    let counts = message_counts(tx, message)?;
                    if counts.records > RECORDS_PER_TRANSACTION {
                        break;
                    }
                    // A message may have changed since the list was read
                    // (reparse, a new quarantine row): asked again here.
                    if still_doomed(tx, message, cut)? {
                        delete_message(tx, message)?;
                        deleted.add(counts);
                    }
                    pending = rest;
                    if started.elapsed() >= budget.per_transaction {
                        break;
                    }
                }
                Ok(())
            })?;
        }
        let pages_freed = self.give_back_space(&mut pacer, control)?;
        Ok(PruneProgress {
            deleted,
            transactions: pacer.transactions,
            longest_transaction: pacer.longest,
            pages_freed,
            stopped: control.stopped(),
        })
    }

    /// A message of very many records: its reports rolled up and left out
    /// of every count (superseded by themselves) in one transaction, its
    /// records deleted [`RECORDS_PER_TRANSACTION`] at a time, then the
    /// rest. Stopped half-way, the next prune finishes it without counting
    /// it twice: a superseded report is never rolled up.
    fn delete_large_message(
        &mut self,
        message: i64,
        pacer: &mut Pacer,
    ) -> Result<PruneCounts, StoreError> {
        let counts = message_counts(&self.conn, message)?;
        pacer.transaction(&mut self.conn, |tx, _| {
            tx.prepare_cached(ROLL_UP)?.execute([message])?;
            tx.prepare_cached(REMEMBER_PRUNED)?.execute([message])?;
            tx.prepare_cached(
                "UPDATE reports SET superseded_by = id
                 WHERE message = ?1 AND superseded_by IS NULL",
            )?
            .execute([message])?;
            Ok(())
        })?;
        loop {
            let removed = pacer.transaction(&mut self.conn, |tx, _| {
                Ok(tx
                    .prepare_cached(
                        "DELETE FROM records WHERE id IN
                            (SELECT rec.id FROM records rec
                             JOIN reports rep ON rep.id = rec.report
                             WHERE rep.message = ?1 LIMIT ?2)",
                    )?
                    .execute((message, RECORDS_PER_TRANSACTION))?)
            })?;
            if removed == 0 {
                break;
            }
        }
        pacer.transaction(&mut self.conn, |tx, _| delete_message(tx, message))?;
        Ok(counts)
    }

    /// Whether the store gives freed pages back to the file system
    /// (`auto_vacuum = INCREMENTAL`, as every store created since schema 6).
    pub fn is_incremental_vacuum(&self) -> Result<bool, StoreError> {
        let mode: i64 = self
            .conn
            .pragma_query_value(None, "auto_vacuum", |row| row.get(0))?;
        Ok(mode == 2)
    }

    /// Converts a store created before schema 6 to incremental auto-vacuum:
    /// a full `VACUUM`, which rewrites the whole file, needs as much free
    /// disk again, and holds the writer until it is done. Once per store.
    pub fn convert_to_incremental_vacuum(&self) -> Result<(), StoreError> {
        self.conn
            .pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        self.conn.execute_batch("VACUUM")?;
        Ok(())
    }

    /// Hands the free pages back, a step at a time (each step a short write
    /// of its own, paced like the deletions). Nothing to do unless the
    /// store is incremental.
    fn give_back_space(
        &mut self,
        pacer: &mut Pacer,
        control: &PruneControl,
    ) -> Result<i64, StoreError> {
        if !self.is_incremental_vacuum()? {
            return Ok(0);
        }
        // The pages free now: writers go on freeing and reusing pages
        // meanwhile, and those are theirs, not this prune's.
        let to_free: i64 = self
            .conn
            .pragma_query_value(None, "freelist_count", |row| row.get(0))?;
        let mut freed = 0;
        loop {
            let free: i64 = self
                .conn
                .pragma_query_value(None, "freelist_count", |row| row.get(0))?;
            if free == 0 || freed >= to_free || control.stopped() {
                return Ok(freed);
            }
            let step = free.min(VACUUM_STEP_PAGES).min(to_free - freed);
            pacer.transaction(&mut self.conn, |tx, _| {
                // It frees one page per step of the statement: step it
                // to the end.
                let mut stmt = tx.prepare(&format!("PRAGMA incremental_vacuum({step})"))?;
                let mut rows = stmt.query([])?;
                while rows.next()?.is_some() {}
                Ok(())
            })?;
            freed += step;
        }
    }
}

/// Runs a prune's transactions one after another, each after a pause, and
/// keeps count of them.
struct Pacer {
    budget: PruneBudget,
    transactions: u64,
    longest: Duration,
    /// How long the last transaction took.
    last: Option<Duration>,
}

impl Pacer {
    fn new(budget: PruneBudget) -> Pacer {
        Pacer {
            budget,
            transactions: 0,
            longest: Duration::ZERO,
            last: None,
        }
    }

    /// Runs `work` in a write transaction of its own (given the instant it
    /// began), after the pause when one ran before.
    fn transaction<T>(
        &mut self,
        conn: &mut Connection,
        work: impl FnOnce(&rusqlite::Transaction<'_>, Instant) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if let Some(last) = self.last {
            let pause = last.clamp(self.budget.pause, MAX_BUSY_SLEEP.max(self.budget.pause));
            std::thread::sleep(pause);
        }
        let started = Instant::now();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let result = work(&tx, started)?;
        tx.commit()?;
        let took = started.elapsed();
        self.transactions += 1;
        self.longest = self.longest.max(took);
        self.last = Some(took);
        Ok(result)
    }
}

fn counts_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<PruneCounts> {
    Ok(PruneCounts {
        messages: row.get(0)?,
        message_bytes: row.get(1)?,
        reports: row.get(2)?,
        records: row.get(3)?,
        tls_reports: row.get(4)?,
        failure_reports: row.get(5)?,
        quarantined: row.get(6)?,
    })
}

/// Whether `message` is still to be deleted at `cut`.
fn still_doomed(conn: &Connection, message: i64, cut: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT EXISTS ({DOOMED} AND m.id = :id)"))?
        .query_row(
            rusqlite::named_params! {":cut": cut, ":id": message},
            |row| row.get(0),
        )?)
}

/// What deleting `message` deletes.
fn message_counts(conn: &Connection, message: i64) -> Result<PruneCounts, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1, size,
                    (SELECT count(*) FROM reports WHERE message = ?1),
                    (SELECT count(*) FROM records WHERE report IN
                        (SELECT id FROM reports WHERE message = ?1)),
                    (SELECT count(*) FROM tls_reports WHERE message = ?1),
                    (SELECT count(*) FROM failure_reports WHERE message = ?1),
                    (SELECT count(*) FROM quarantine WHERE message = ?1)
             FROM messages WHERE id = ?1",
        )?
        .query_row([message], counts_row)?)
}

/// Rolls up and deletes one message and everything read from it.
fn delete_message(conn: &Connection, message: i64) -> Result<(), StoreError> {
    conn.prepare_cached(ROLL_UP)?.execute([message])?;
    conn.prepare_cached(REMEMBER_PRUNED)?.execute([message])?;
    for sql in DELETE_MESSAGE {
        conn.prepare_cached(sql)?.execute([message])?;
    }
    Ok(())
}

/// Adds the records of message `?1`'s reports (those counted: not
/// superseded) to `daily_rollups`, summed as `daily_totals` sums them.
const ROLL_UP: &str =
    "INSERT INTO daily_rollups (policy_domain, day, auth, reports, messages, dmarc_pass,
                                dkim_aligned_pass, spf_aligned_pass, quarantined, rejected)
     SELECT lower(rep.policy_domain), date(rep.date_begin, 'unixepoch'), m.auth,
            count(DISTINCT rep.id),
            sum(rec.count),
            sum(CASE WHEN rec.dkim = 'pass' OR rec.spf = 'pass' THEN rec.count ELSE 0 END),
            sum(CASE WHEN rec.dkim = 'pass' THEN rec.count ELSE 0 END),
            sum(CASE WHEN rec.spf = 'pass' THEN rec.count ELSE 0 END),
            sum(CASE WHEN rec.disposition = 'quarantine' THEN rec.count ELSE 0 END),
            sum(CASE WHEN rec.disposition = 'reject' THEN rec.count ELSE 0 END)
     FROM reports rep JOIN records rec ON rec.report = rep.id
          JOIN messages m ON m.id = rep.message
     WHERE rep.message = ?1 AND rep.superseded_by IS NULL
     GROUP BY 1, 2, 3
     ON CONFLICT (policy_domain, day, auth) DO UPDATE SET
        reports = reports + excluded.reports,
        messages = messages + excluded.messages,
        dmarc_pass = dmarc_pass + excluded.dmarc_pass,
        dkim_aligned_pass = dkim_aligned_pass + excluded.dkim_aligned_pass,
        spf_aligned_pass = spf_aligned_pass + excluded.spf_aligned_pass,
        quarantined = quarantined + excluded.quarantined,
        rejected = rejected + excluded.rejected";

/// Remembers the identities of message `?1`'s counted reports, rolled up
/// with [`ROLL_UP`]: a copy that comes again is a duplicate.
const REMEMBER_PRUNED: &str =
    "INSERT OR IGNORE INTO pruned_reports (org_name, report_id, policy_domain)
     SELECT org_name, report_id, policy_domain FROM reports
     WHERE message = ?1 AND superseded_by IS NULL";

/// The statements that delete message `?1` once rolled up, in order.
const DELETE_MESSAGE: &[&str] = &[
    // What remembers these reports keeps what it learnt, not the reference.
    "UPDATE alerts SET report = NULL
     WHERE report IN (SELECT id FROM reports WHERE message = ?1)",
    "UPDATE alerts SET tls_report = NULL
     WHERE tls_report IN (SELECT id FROM tls_reports WHERE message = ?1)",
    "UPDATE failing_sources SET first_report = NULL
     WHERE first_report IN (SELECT id FROM reports WHERE message = ?1)",
    "UPDATE tls_failure_types SET first_report = NULL
     WHERE first_report IN (SELECT id FROM tls_reports WHERE message = ?1)",
    // A copy kept elsewhere stays superseded, by itself (docs/store.md).
    "UPDATE reports SET superseded_by = id
     WHERE message <> ?1 AND superseded_by IN (SELECT id FROM reports WHERE message = ?1)",
    "UPDATE tls_reports SET superseded_by = id
     WHERE message <> ?1 AND superseded_by IN (SELECT id FROM tls_reports WHERE message = ?1)",
    // Records, reasons, results, policies and failures go by cascade.
    "DELETE FROM reports WHERE message = ?1",
    "DELETE FROM tls_reports WHERE message = ?1",
    "DELETE FROM failure_reports WHERE message = ?1",
    "DELETE FROM quarantine WHERE message = ?1",
    // And message_raw with it.
    "DELETE FROM messages WHERE id = ?1",
];
