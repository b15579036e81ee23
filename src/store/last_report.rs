//! When the last report of a kind arrived, for `serve`'s metrics: read once
//! at startup, so that a restart does not forget it.

use super::{Store, StoreError};
use crate::auth::Trust;
use crate::report::ReportKind;
use rusqlite::named_params;

impl Store {
    /// When the newest stored report of `kind` arrived (its message's
    /// `received_at`, unix seconds), for `policy_domain` (any case) or for
    /// any domain; `None` when there is none. Reports from unauthenticated
    /// messages do not count: a stranger's report says nothing of whether
    /// the real reporters still send.
    pub fn last_report_received(
        &self,
        kind: ReportKind,
        policy_domain: Option<&str>,
    ) -> Result<Option<i64>, StoreError> {
        let (table, domain) = match kind {
            ReportKind::Aggregate => ("reports r", "r.policy_domain"),
            ReportKind::Tls => (
                "tls_reports r JOIN tls_policies p ON p.report = r.id",
                "p.policy_domain",
            ),
            ReportKind::Failure => ("failure_reports r", "r.reported_domain"),
        };
        let sql = format!(
            "SELECT max(m.received_at)
             FROM {table} JOIN messages m ON m.id = r.message
             WHERE m.auth IS NOT :unauthenticated
               AND (:domain IS NULL OR lower({domain}) = :domain)"
        );
        let domain = policy_domain.map(str::to_ascii_lowercase);
        Ok(self.conn.query_row(
            &sql,
            named_params! {
                ":unauthenticated": Trust::Unauthenticated.as_str(),
                ":domain": domain,
            },
            |row| row.get(0),
        )?)
    }
}
