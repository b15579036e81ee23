//! The operator's word on sending sources (`approved_sources`), and the
//! record of every change to it (`approved_source_changes`). What a source
//! pattern means, and which traffic it covers, is `insight::approved`'s
//! business; here they are canonical strings.

use super::{Batch, Store, StoreError};
use rusqlite::OptionalExtension;

/// What the operator said of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Mail from it is the domain's own.
    Approved,
    /// It is not the domain's, whatever it looks like.
    Denied,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Approved => "approved",
            Standing::Denied => "denied",
        }
    }

    fn from_stored(text: &str) -> Option<Standing> {
        match text {
            "approved" => Some(Standing::Approved),
            "denied" => Some(Standing::Denied),
            _ => None,
        }
    }
}

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApprovedSource {
    /// Lower-cased.
    pub policy_domain: String,
    /// An IP address, a CIDR block or a domain, canonical.
    pub source: String,
    pub standing: Standing,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Who changed the list, and when (unix seconds).
#[derive(Debug, Clone, Copy)]
pub struct ChangedBy<'a> {
    pub user: &'a str,
    pub at: i64,
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListChange {
    Added,
    Changed,
    Unchanged,
}

impl Store {
    /// Sets the standing of `entry.source` for `entry.policy_domain`, with
    /// its name and note, and records the change. A call that changes
    /// nothing records nothing.
    pub fn set_source_standing(
        &mut self,
        entry: &ApprovedSource,
        by: ChangedBy<'_>,
    ) -> Result<ListChange, StoreError> {
        let tx = self.conn.transaction()?;
        let before = tx
            .query_row(
                "SELECT standing, name, note FROM approved_sources
                 WHERE policy_domain = ?1 AND source = ?2",
                (&entry.policy_domain, &entry.source),
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, Option<String>>(1)?,
                        row.get::<_, Option<String>>(2)?,
                    ))
                },
            )
            .optional()?;
        let now = (
            entry.standing.as_str().to_owned(),
            entry.name.clone(),
            entry.note.clone(),
        );
        let change = match &before {
            None => ListChange::Added,
            Some(before) if *before == now => return Ok(ListChange::Unchanged),
            Some(_) => ListChange::Changed,
        };
        tx.execute(
            "INSERT INTO approved_sources
                 (policy_domain, source, standing, name, note, changed_by, changed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (policy_domain, source) DO UPDATE SET
                 standing = excluded.standing, name = excluded.name, note = excluded.note,
                 changed_by = excluded.changed_by, changed_at = excluded.changed_at",
            (
                &entry.policy_domain,
                &entry.source,
                entry.standing.as_str(),
                &entry.name,
                &entry.note,
                by.user,
                by.at,
            ),
        )?;
        let action = match entry.standing {
            Standing::Approved => Action::Approve,
            Standing::Denied => Action::Deny,
        };
        record_change(&tx, entry, action, by)?;
        tx.commit()?;
        Ok(change)
    }

    /// Removes `source` from the list of `policy_domain`, recording the
    /// change; false when it was not on it.
    pub fn forget_source(
        &mut self,
        policy_domain: &str,
        source: &str,
        by: ChangedBy<'_>,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let removed = tx.execute(
            "DELETE FROM approved_sources WHERE policy_domain = ?1 AND source = ?2",
            (policy_domain, source),
        )?;
        if removed > 0 {
            let entry = ApprovedSource {
                policy_domain: policy_domain.to_owned(),
                source: source.to_owned(),
                standing: Standing::Denied,
                name: None,
                note: None,
            };
            record_change(&tx, &entry, Action::Forget, by)?;
        }
        tx.commit()?;
        Ok(removed > 0)
    }

    /// The whole list, by domain and source.
    pub fn approved_sources(&self) -> Result<Vec<ApprovedSource>, StoreError> {
        read_list(&self.conn)
    }
}

impl Batch<'_> {
    /// [`Store::approved_sources`], inside the batch.
    pub fn approved_sources(&self) -> Result<Vec<ApprovedSource>, StoreError> {
        read_list(&self.tx)
    }

    /// The sources stored report `report` was the first to show failing
    /// (see [`Batch::report_failures`]), each with the DKIM and SPF domains
    /// that passed for its mail in the report: what the list matches.
    pub fn new_failing_sources_passing(
        &self,
        report: i64,
    ) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT rec.source_ip, d.domain FROM records rec
             JOIN reports rep ON rep.id = rec.report
             JOIN failing_sources fs ON fs.policy_domain = rep.policy_domain
                                    AND fs.source_ip = rec.source_ip
             LEFT JOIN (SELECT record, domain FROM dkim_results WHERE result = 'pass'
                        UNION ALL
                        SELECT record, domain FROM spf_results WHERE result = 'pass') d
                    ON d.record = rec.id
             WHERE rep.id = ?1 AND fs.first_report = ?1
             ORDER BY rec.source_ip",
        )?;
        let rows = stmt.query_map([report], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
        })?;
        let mut sources: Vec<(String, Vec<String>)> = Vec::new();
        for row in rows {
            let (ip, domain) = row?;
            if sources.last().is_none_or(|(last, _)| *last != ip) {
                sources.push((ip, Vec::new()));
            }
            if let (Some(domain), Some((_, domains))) = (domain, sources.last_mut()) {
                domains.push(domain);
            }
        }
        Ok(sources)
    }
}

fn read_list(conn: &rusqlite::Connection) -> Result<Vec<ApprovedSource>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT policy_domain, source, standing, name, note FROM approved_sources
         ORDER BY policy_domain, source",
    )?;
    let rows = stmt.query_map([], |row| {
        let standing: String = row.get(2)?;
        Ok(ApprovedSource {
            policy_domain: row.get(0)?,
            source: row.get(1)?,
            // Only this file writes the column, from the enum.
            standing: Standing::from_stored(&standing).unwrap_or(Standing::Denied),
            name: row.get(3)?,
            note: row.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What a row of `approved_source_changes` did.
#[derive(Debug, Clone, Copy)]
enum Action {
    Approve,
    Deny,
    Forget,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Deny => "deny",
            Action::Forget => "forget",
        }
    }
}

fn record_change(
    tx: &rusqlite::Transaction<'_>,
    entry: &ApprovedSource,
    action: Action,
    by: ChangedBy<'_>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO approved_source_changes
             (policy_domain, source, action, name, note, changed_by, changed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            &entry.policy_domain,
            &entry.source,
            action.as_str(),
            &entry.name,
            &entry.note,
            by.user,
            by.at,
        ),
    )?;
    Ok(())
}
