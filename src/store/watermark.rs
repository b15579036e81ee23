//! `export_watermarks`: how far each export target has shipped each table.
//! The store keeps the number; what it means belongs to `crate::export`.

use super::{Store, StoreError};
use rusqlite::OptionalExtension;

impl Store {
    /// The highest rowid of `table` that `target` holds; 0 before its
    /// first batch.
    pub fn export_watermark(&self, target: &str, table: &str) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT last_id FROM export_watermarks WHERE target = ?1 AND table_name = ?2",
                (target, table),
                |row| row.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// Records that `target` holds every row of `table` up to `last_id`.
    pub fn set_export_watermark(
        &self,
        target: &str,
        table: &str,
        last_id: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO export_watermarks (target, table_name, last_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (target, table_name) DO UPDATE SET last_id = excluded.last_id",
            (target, table, last_id),
        )?;
        Ok(())
    }
}
