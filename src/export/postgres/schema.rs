//! Schema `dmarc_sink` in the target database: created if missing, then
//! brought up to date by versioned migrations, each applied once, in its
//! own transaction, and recorded in `dmarc_sink.schema_version`.
//!
//! Sinks of a fleet start in any order against one database: the whole
//! check-and-apply runs under a transaction-scoped advisory lock, so two of
//! them never apply the same migration at once.

use postgres::Client;

/// A migration: the version it brings the schema to, and its SQL.
pub struct Migration {
    pub version: i32,
    pub sql: &'static str,
}

/// Every migration, in order. A new one is appended here with the next
/// version; an applied one is never edited (sinks already ran it).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("migrate_1.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("migrate_2_views.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("migrate_3_failure_reports.sql"),
    },
];

/// The key of the advisory lock held while migrating: "dmarc-sink" in
/// ASCII, so that it names its owner to anyone reading pg_locks.
const MIGRATION_LOCK: i64 = 0x646d_6172_6373_696e;

/// Creates the schema if need be and applies the migrations it lacks;
/// returns the versions applied now.
pub fn migrate(client: &mut Client) -> Result<Vec<i32>, postgres::Error> {
    let mut applied = Vec::new();
    for migration in MIGRATIONS {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute(
            "CREATE SCHEMA IF NOT EXISTS dmarc_sink;
             CREATE TABLE IF NOT EXISTS dmarc_sink.schema_version (
                 version    integer     PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );",
        )?;
        let done = tx
            .query_opt(
                "SELECT 1 FROM dmarc_sink.schema_version WHERE version = $1",
                &[&migration.version],
            )?
            .is_some();
        if done {
            tx.commit()?;
            continue;
        }
        tx.batch_execute(migration.sql)?;
        tx.execute(
            "INSERT INTO dmarc_sink.schema_version (version) VALUES ($1)",
            &[&migration.version],
        )?;
        tx.commit()?;
        applied.push(migration.version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    #[test]
    fn versions_count_up_from_one() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i32 + 1);
        }
    }
}
