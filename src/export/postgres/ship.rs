//! The shipper: rows above each table's watermark, read from the store in
//! batches and written to PostgreSQL with COPY.
//!
//! A batch is written in one PostgreSQL transaction, and the store's
//! watermark moves once that transaction committed. A batch may be sent
//! again (a crash between the two): when PostgreSQL may hold some of its
//! rows already (the instance's highest id there is not below the batch's
//! first), it is COPYed into a temporary table of the session and moved
//! into `dmarc_sink` by `INSERT ... ON CONFLICT DO NOTHING`, which adds
//! only what is missing; otherwise, the usual case, it is COPYed straight
//! into its table, which writes every row once instead of twice. Either
//! way nothing is doubled or lost: PostgreSQL keeps rows by (instance, id).

use super::copy_text::Row;
use super::schema;
use crate::export::tables::{self, Kind, Table};
use crate::export::{ExportError, Shipped, Target};
use crate::store::Store;
use postgres::Client;
use rusqlite::types::ValueRef;
use std::io::Write;

/// Rows read and sent in one transaction, at most: big enough that a
/// transaction's cost is small beside its rows, small enough that a
/// batch never holds more than a few MiB.
const BATCH_ROWS: i64 = 10_000;
/// The watermark's name for the log of messages rewritten in place.
const REWRITES: &str = "export_rewrites";
/// Rewritten messages replaced in one transaction.
const REWRITES_PER_ROUND: i64 = 200;
/// COPY bytes that end a batch early: raw messages (up to 1 MiB a chunk)
/// and long failure-report headers must not make a batch large.
const BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Whether shipping goes on after a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop before the next batch (shutdown): what was shipped is kept.
    Stop,
}

/// A connection to the target, its schema up to date.
pub struct Shipper {
    client: Client,
    target: Target,
    watermark_key: String,
    /// The temporary tables created in this session.
    staged: Vec<&'static str>,
}

impl Shipper {
    /// Connects and migrates the target's schema.
    pub fn connect(target: &Target) -> Result<Shipper, ExportError> {
        let mut client = target
            .connection
            .connect(target.tls.clone())
            .map_err(|cause| ExportError::Connect {
                target: target.shown().to_owned(),
                cause,
            })?;
        let applied = schema::migrate(&mut client)?;
        if !applied.is_empty() {
            tracing::info!(target = target.shown(), versions = ?applied, "migrated the PostgreSQL schema dmarc_sink");
        }
        Ok(Shipper {
            client,
            target: target.clone(),
            watermark_key: target.watermark_key(),
            staged: Vec::new(),
        })
    }

    /// Ships every row above the watermarks, table by table, until none is
    /// left or `after_batch` says stop; returns the rows shipped.
    pub fn ship(
        &mut self,
        store: &Store,
        after_batch: &mut dyn FnMut(&'static str, u64) -> Flow,
    ) -> Result<Shipped, ExportError> {
        let mut shipped = Shipped::default();
        while self.replace_rewritten(store)? > 0 {}
        for table in tables::shipped(self.target.raw) {
            loop {
                let rows = self.ship_batch(store, table)?;
                if rows == 0 {
                    break;
                }
                shipped.add(table.name, rows);
                if after_batch(table.name, rows) == Flow::Stop {
                    return Ok(shipped);
                }
            }
        }
        Ok(shipped)
    }

    /// Replaces what PostgreSQL holds of the messages rewritten in place
    /// since the last time (`export_rewrites`, after `reparse`): their rows
    /// are deleted there, children first, and those already shipped are
    /// sent again as the store holds them now (the rest follow with the
    /// next batches). One transaction for up to [`REWRITES_PER_ROUND`]
    /// messages; returns how many.
    fn replace_rewritten(&mut self, store: &Store) -> Result<usize, ExportError> {
        let from = store.export_watermark(&self.watermark_key, REWRITES)?;
        // A message retention deleted since is left as the fleet holds it:
        // the fleet keeps its own history.
        let logged: Vec<(i64, Option<i64>)> = store
            .connection()
            .prepare_cached(
                "SELECT e.seq, m.id FROM export_rewrites e LEFT JOIN messages m ON m.id = e.message
                 WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2",
            )?
            .query_map((from, REWRITES_PER_ROUND), |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        let Some(&(last, _)) = logged.last() else {
            return Ok(0);
        };
        // A message not shipped yet has nothing to replace: the batches
        // ship it as it is now.
        let shipped_messages = store.export_watermark(&self.watermark_key, "messages")?;
        let mut messages: Vec<i64> = logged
            .iter()
            .filter_map(|&(_, message)| message)
            .filter(|&message| message <= shipped_messages)
            .collect();
        messages.sort_unstable();
        messages.dedup();
        let instance = self.target.instance.clone();
        let tables: Vec<&'static Table> = tables::shipped(self.target.raw).collect();
        let mut tx = self.client.transaction()?;
        for &message in &messages {
            for table in tables.iter().rev() {
                if let Some(of) = &table.of_message {
                    tx.execute(
                        &format!(
                            "DELETE FROM dmarc_sink.{} t WHERE t.instance = $1 AND {}",
                            table.name, of.postgres
                        ),
                        &[&instance, &message],
                    )?;
                }
            }
            for table in &tables {
                let Some(sql) = table.select_of_message_sql() else {
                    continue;
                };
                let shipped_up_to = store.export_watermark(&self.watermark_key, table.name)?;
                let mut select = store.connection().prepare_cached(&sql)?;
                let mut rows = select.query((message, shipped_up_to))?;
                let mut copy = tx.copy_in(&format!(
                    "COPY dmarc_sink.{} ({}) FROM STDIN",
                    table.name,
                    table.copy_columns()
                ))?;
                let mut line = Vec::with_capacity(4096);
                while let Some(row) = rows.next()? {
                    encode(table, row, &instance, &mut line)?;
                    copy.write_all(&line).map_err(ExportError::Copy)?;
                    line.clear();
                }
                copy.finish()?;
            }
        }
        tx.commit()?;
        store.set_export_watermark(&self.watermark_key, REWRITES, last)?;
        Ok(logged.len())
    }

    /// Ships the next batch of `table`; returns its rows (0: none left).
    fn ship_batch(&mut self, store: &Store, table: &'static Table) -> Result<u64, ExportError> {
        let from = store.export_watermark(&self.watermark_key, table.name)?;
        let mut select = store.connection().prepare_cached(&table.select_sql())?;
        let mut rows = select.query((from, BATCH_ROWS))?;
        let Some(first) = rows.next()? else {
            return Ok(0);
        };
        let mut last: i64 = first.get(0)?;
        let mut tx = self.client.transaction()?;
        let fresh = table.has_id && {
            let held: Option<i64> = tx
                .query_one(
                    &format!(
                        "SELECT max(id) FROM dmarc_sink.{} WHERE instance = $1",
                        table.name
                    ),
                    &[&self.target.instance],
                )?
                .get(0);
            held.is_none_or(|held| held < last)
        };
        if !fresh && !self.staged.contains(&table.name) {
            tx.batch_execute(&format!(
                "CREATE TEMPORARY TABLE IF NOT EXISTS ship_{0} (LIKE dmarc_sink.{0})
                 ON COMMIT DELETE ROWS",
                table.name
            ))?;
        }
        let into = if fresh {
            format!("dmarc_sink.{}", table.name)
        } else {
            format!("ship_{}", table.name)
        };
        let mut copy = tx.copy_in(&format!(
            "COPY {into} ({}) FROM STDIN",
            table.copy_columns()
        ))?;
        let mut line = Vec::with_capacity(4096);
        let mut count = 0u64;
        let mut bytes = 0usize;
        encode(table, first, &self.target.instance, &mut line)?;
        loop {
            bytes += line.len();
            copy.write_all(&line).map_err(ExportError::Copy)?;
            line.clear();
            count += 1;
            if bytes >= BATCH_BYTES {
                break;
            }
            let Some(row) = rows.next()? else { break };
            last = row.get(0)?;
            encode(table, row, &self.target.instance, &mut line)?;
        }
        copy.finish()?;
        if !fresh {
            tx.execute(
                &format!(
                    "INSERT INTO dmarc_sink.{0} SELECT * FROM ship_{0} ON CONFLICT DO NOTHING",
                    table.name
                ),
                &[],
            )?;
        }
        tx.commit()?;
        if !fresh && !self.staged.contains(&table.name) {
            self.staged.push(table.name);
        }
        store.set_export_watermark(&self.watermark_key, table.name, last)?;
        Ok(count)
    }
}

/// The rows `target` has not shipped yet, all tables together.
pub fn pending(store: &Store, target: &Target) -> Result<u64, ExportError> {
    let key = target.watermark_key();
    let mut total = 0u64;
    for table in tables::shipped(target.raw) {
        let from = store.export_watermark(&key, table.name)?;
        let rows: i64 = store.connection().query_row(
            &format!("SELECT count(*) FROM {} WHERE rowid > ?1", table.name),
            [from],
            |row| row.get(0),
        )?;
        total += rows as u64;
    }
    Ok(total)
}

/// One row of `table` as a COPY line: instance, id, then its columns.
fn encode(
    table: &Table,
    row: &rusqlite::Row<'_>,
    instance: &str,
    out: &mut Vec<u8>,
) -> rusqlite::Result<()> {
    let mut fields = Row::new(out);
    fields.text(instance.as_bytes());
    if table.has_id {
        fields.integer(row.get(0)?);
    }
    let mut index = 1;
    let mut previous = ValueRef::Null;
    for column in table.columns {
        if column.kind == Kind::AddrOfPrevious {
            fields.addr(match previous {
                ValueRef::Text(text) => Some(text),
                _ => None,
            });
            continue;
        }
        let value = row.get_ref(index)?;
        index += 1;
        match (column.kind, value) {
            (_, ValueRef::Null) => fields.null(),
            (Kind::Integer, ValueRef::Integer(n)) => fields.integer(n),
            (Kind::Time, ValueRef::Integer(n)) => fields.time(n),
            (Kind::Integer | Kind::Time, ValueRef::Real(n)) => fields.integer(n as i64),
            // SQLite stores in an INTEGER column only text that is no number.
            (Kind::Integer | Kind::Time, ValueRef::Text(_) | ValueRef::Blob(_)) => fields.null(),
            (Kind::Text, ValueRef::Text(bytes) | ValueRef::Blob(bytes)) => fields.text(bytes),
            (Kind::Text, ValueRef::Integer(n)) => fields.text(n.to_string().as_bytes()),
            (Kind::Text, ValueRef::Real(n)) => fields.text(n.to_string().as_bytes()),
            (Kind::Bytes, ValueRef::Blob(bytes) | ValueRef::Text(bytes)) => fields.bytes(bytes),
            (Kind::Bytes, ValueRef::Integer(_) | ValueRef::Real(_)) => fields.null(),
            (Kind::AlignedDomain, ValueRef::Integer(n)) => fields.boolean(n != 0),
            (Kind::AlignedDomain, _) => fields.null(),
            (Kind::AddrOfPrevious, _) => unreachable!("handled above"),
        }
        previous = value;
    }
    fields.end();
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::export::tables::TABLES;
    use crate::store::Store;

    /// Every table and column shipped exists in the store.
    #[test]
    fn every_shipped_column_is_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.sqlite")).unwrap();
        for table in TABLES {
            store
                .connection()
                .prepare(&table.select_sql())
                .unwrap_or_else(|e| panic!("{}: {e}", table.name));
        }
    }
}
