//! What the hourly check (`crate::alert::watch`) reads and writes: the
//! policies reports showed, and the alerts raised once per occasion.

use super::{Scope, Store, StoreError};
use crate::report::PolicyPublished;

/// The policy one aggregate report showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySeen {
    /// Lower-cased.
    pub policy_domain: String,
    pub org_name: String,
    pub date_begin: i64,
    pub date_end: i64,
    pub published: PolicyPublished,
}

/// An alert of the hourly check, raised once per kind, domain, subject and
/// occasion (`alerts_once`).
#[derive(Debug, Clone, Copy)]
pub struct OnceAlert<'a> {
    pub created_at: i64,
    pub kind: &'a str,
    pub policy_domain: &'a str,
    /// A reporter, a source; None when the alert is about the domain.
    pub subject: Option<&'a str>,
    /// What tells this occurrence from the next: the silence's start, the
    /// window, the change.
    pub occasion: &'a str,
    pub details: &'a str,
}

impl Store {
    /// The policy each report in `scope` showed, per domain and reporter
    /// in the order of their ranges.
    pub fn policies_seen(&self, scope: &Scope) -> Result<Vec<PolicySeen>, StoreError> {
        let (condition, params) = scope.condition();
        let sql = format!(
            "SELECT lower(rep.policy_domain), rep.org_name, rep.date_begin, rep.date_end,
                    rep.adkim, rep.aspf, rep.p, rep.sp, rep.pct, rep.fo, rep.np, rep.testing,
                    rep.discovery_method
             FROM reports rep
             WHERE {condition}
             ORDER BY 1, 2, rep.date_begin, rep.id"
        );
        self.query(&sql, &params, |row| {
            let policy_domain: String = row.get(0)?;
            Ok(PolicySeen {
                org_name: row.get(1)?,
                date_begin: row.get(2)?,
                date_end: row.get(3)?,
                published: PolicyPublished {
                    domain: policy_domain.clone(),
                    adkim: row.get(4)?,
                    aspf: row.get(5)?,
                    p: row.get(6)?,
                    sp: row.get(7)?,
                    pct: row.get(8)?,
                    fo: row.get(9)?,
                    np: row.get(10)?,
                    testing: row.get(11)?,
                    discovery_method: row.get(12)?,
                },
                policy_domain,
            })
        })
    }

    /// Whether an alert of `kind` was raised for `policy_domain` at or
    /// after `since` (unix seconds).
    pub fn alerted_since(
        &self,
        kind: &str,
        policy_domain: &str,
        since: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM alerts
                                WHERE kind = ?1 AND policy_domain = ?2 AND created_at >= ?3)",
            )?
            .query_row((kind, policy_domain, since), |row| row.get(0))?)
    }

    /// Records `alert` unless it was raised already; true when recorded.
    pub fn record_once(&self, alert: &OnceAlert<'_>) -> Result<bool, StoreError> {
        let added = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO alerts
                     (created_at, kind, policy_domain, subject, occasion, details)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute((
                alert.created_at,
                alert.kind,
                alert.policy_domain,
                alert.subject,
                alert.occasion,
                alert.details,
            ))?;
        Ok(added == 1)
    }
}
