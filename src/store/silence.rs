//! Who stopped reporting: reporters that used to send a domain's reports
//! and have gone quiet, and domains no report reaches any more. The
//! digest lists them; `serve`'s hourly check alerts on them.
//!
//! Both read only what the insight commands count (see [`Scope`]): never a
//! superseded report, never one from an unauthenticated message, so a
//! stranger can neither keep a reporter looking alive nor, by a forged
//! report that supersedes nothing, make one look regular. Both take `now`
//! from the caller, so that a test (or a digest of a past week) sets the
//! clock; reports whose range begins at or after `now` are not read.

use super::read::ReportTable;
use super::{Scope, Store, StoreError};
use crate::config::SILENCE_WINDOW_DAYS;
use rusqlite::types::Value;

const DAY: i64 = 86_400;
const HOUR: i64 = 3600;

/// A reporter that sent a policy domain's aggregate reports regularly and
/// has sent none for a while.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SilentReporter {
    pub policy_domain: String,
    /// The reporting organisation (`org_name`).
    pub org_name: String,
    /// The latest range end of its reports for the domain, unix seconds.
    pub last_report: i64,
    /// UTC days, among the last 30, on which a report of its range began.
    pub days_reported: u32,
}

/// A policy domain whose aggregate and TLS reports have stopped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SilentDomain {
    pub policy_domain: String,
    /// The latest range end of any of its reports, unix seconds.
    pub last_report: i64,
}

impl Store {
    /// Per policy domain and reporting organisation: those that reported
    /// on at least `min_days` of the 30 days before `now` and whose latest
    /// report's range ended more than `after_hours` before `now`. By
    /// domain, then organisation.
    pub fn silent_reporters(
        &self,
        now: i64,
        min_days: u32,
        after_hours: u32,
    ) -> Result<Vec<SilentReporter>, StoreError> {
        let window = Scope {
            since: Some(now - i64::from(SILENCE_WINDOW_DAYS) * DAY),
            until: Some(now),
            ..Scope::default()
        };
        let (condition, mut params) = window.condition();
        params.push((":min_days".into(), Value::Integer(min_days.into())));
        params.push((":quiet_since".into(), quiet_since(now, after_hours)));
        let sql = format!(
            "SELECT lower(rep.policy_domain), rep.org_name,
                    count(DISTINCT date(rep.date_begin, 'unixepoch')) AS days,
                    max(rep.date_end) AS last
             FROM reports rep
             WHERE {condition}
             GROUP BY 1, 2
             HAVING days >= :min_days AND last < :quiet_since
             ORDER BY 1, 2"
        );
        self.query(&sql, &params, |row| {
            Ok(SilentReporter {
                policy_domain: row.get(0)?,
                org_name: row.get(1)?,
                days_reported: row.get(2)?,
                last_report: row.get(3)?,
            })
        })
    }

    /// The policy domains that had aggregate or TLS reports before `now`
    /// and none whose range ended within the `after_hours` before it. By
    /// domain. Failure reports do not count: they come only when mail
    /// fails, so their absence says nothing.
    pub fn silent_domains(
        &self,
        now: i64,
        after_hours: u32,
    ) -> Result<Vec<SilentDomain>, StoreError> {
        let before = Scope {
            until: Some(now),
            ..Scope::default()
        };
        let (aggregate, mut params) = before.condition();
        let (tls, _) = before.condition_on(
            ReportTable::Superseded("rep"),
            "pol.policy_domain",
            "rep.date_begin",
        );
        // Both conditions share their parameters, names and values.
        params.push((":quiet_since".into(), quiet_since(now, after_hours)));
        let sql = format!(
            "SELECT domain, max(last) AS last
             FROM (SELECT lower(rep.policy_domain) AS domain, max(rep.date_end) AS last
                   FROM reports rep WHERE {aggregate} GROUP BY 1
                   UNION ALL
                   SELECT lower(pol.policy_domain), max(rep.date_end)
                   FROM tls_reports rep JOIN tls_policies pol ON pol.report = rep.id
                   WHERE {tls} GROUP BY 1)
             GROUP BY domain
             HAVING last < :quiet_since
             ORDER BY domain"
        );
        self.query(&sql, &params, |row| {
            Ok(SilentDomain {
                policy_domain: row.get(0)?,
                last_report: row.get(1)?,
            })
        })
    }
}

/// The instant before which the latest report must have ended for silence.
fn quiet_since(now: i64, after_hours: u32) -> Value {
    Value::Integer(now - i64::from(after_hours) * HOUR)
}
