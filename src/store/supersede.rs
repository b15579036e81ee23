//! What a report meets when a copy with its identity is stored already: a
//! duplicate, or a copy it replaces. Which is decided by
//! [`Trust::outranks`]; this file only keeps the rows straight.

use super::StoreError;
use crate::auth::Trust;
use rusqlite::Connection;

/// The tables whose reports may be superseded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Superseding {
    Aggregate,
    Tls,
}

impl Superseding {
    fn table(self) -> &'static str {
        match self {
            Superseding::Aggregate => "reports",
            Superseding::Tls => "tls_reports",
        }
    }
}

/// A new report's standing against the stored copy of its identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Standing {
    /// No copy is stored: a new report.
    New,
    /// The stored copy stays; the new one is a duplicate of it.
    Duplicate(i64),
    /// The new one replaces the stored copy: write it, then call
    /// [`replaced`] with its id.
    Replaces(i64),
}

/// The standing of a report from a message of `trust` against `stored`
/// (its id, and its message's `auth`), if any. A copy it replaces leaves
/// the identity index at once, so that the new one can be written.
pub(super) fn standing(
    conn: &Connection,
    kind: Superseding,
    stored: Option<(i64, String)>,
    trust: Trust,
) -> Result<Standing, StoreError> {
    let Some((id, auth)) = stored else {
        return Ok(Standing::New);
    };
    let stored_trust = Trust::from_stored(&auth).unwrap_or(Trust::Unchecked);
    if !trust.outranks(stored_trust) {
        return Ok(Standing::Duplicate(id));
    }
    // Pointing at itself until its successor exists.
    conn.prepare_cached(&format!(
        "UPDATE {} SET superseded_by = id WHERE id = ?1",
        kind.table()
    ))?
    .execute([id])?;
    Ok(Standing::Replaces(id))
}

/// Marks `old` superseded by the report just written, `new`.
pub(super) fn replaced(
    conn: &Connection,
    kind: Superseding,
    standing: Standing,
    new: i64,
) -> Result<(), StoreError> {
    if let Standing::Replaces(old) = standing {
        conn.prepare_cached(&format!(
            "UPDATE {} SET superseded_by = ?1 WHERE id = ?2",
            kind.table()
        ))?
        .execute([new, old])?;
    }
    Ok(())
}
