//! Reading SMTP TLS reports and DMARC failure reports back: the queries
//! behind the TLS and failure-report parts of `summary`, `sources` and
//! `html`.
//!
//! As in [`super::read`], each query sums in SQL and returns plain rows;
//! `insight` decides what they mean. The [`Scope`] is read as for aggregate
//! reports: a TLS report is in it by its range's begin (`date_begin`) and
//! its policies' `policy_domain`; a failure report by its `Arrival-Date`
//! (the message's `received_at` when the report gave none or one that did
//! not parse) and its `Reported-Domain`. Domains are compared and grouped
//! lower-cased.

use super::read::ReportTable;
use super::{Scope, Store, StoreError};
use rusqlite::types::Value;
use std::collections::HashMap;
use std::hash::Hash;

/// TLS sessions towards one policy domain, summed over the policies of the
/// TLS reports in scope. A reporter that evaluated a session under two
/// policies (MTA-STS and DANE) counts it under each, as its report does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsDomainTotals {
    pub policy_domain: String,
    /// TLS reports with a policy for the domain.
    pub reports: i64,
    /// Distinct reporting organisations.
    pub reporters: i64,
    pub successful_sessions: i64,
    pub failed_sessions: i64,
    /// Earliest report range begin, unix seconds.
    pub first_seen: i64,
    /// Latest report range end, unix seconds.
    pub last_seen: i64,
}

/// The failure details of one policy domain's TLS reports that name one
/// receiving MX host, summed over the scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsMxFailures {
    pub policy_domain: String,
    /// `receiving-mx-hostname`; `None` for failures that name none (a
    /// policy that could not be fetched fails before any MX is tried).
    pub receiving_mx: Option<String>,
    /// `failed-session-count`, summed.
    pub failed_sessions: i64,
    /// The failed sessions per `result-type`, most first.
    pub result_types: Vec<TlsResultCount>,
    /// Distinct `sending-mta-ip`s that failed to reach it.
    pub sending_mta_ips: i64,
    /// Distinct reporting organisations.
    pub reporters: i64,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// Failed sessions of one TLS `result-type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsResultCount {
    pub result_type: String,
    pub failed_sessions: i64,
}

/// The failure reports of one reported domain, summed over the scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureDomainTotals {
    /// `Reported-Domain`: the domain whose DMARC check failed.
    pub reported_domain: String,
    pub reports: i64,
    /// `Incidents`, summed: the failed messages the reports stand for.
    pub incidents: i64,
    /// Distinct reporters (the report messages' From domains).
    pub reporters: i64,
    /// The reports per `Auth-Failure`, most first.
    pub auth_failures: Vec<AuthFailureCount>,
    /// Earliest and latest arrival (unix seconds): `Arrival-Date`, else
    /// when the report was received.
    pub first_arrival: i64,
    pub last_arrival: i64,
}

/// Failure reports of one `Auth-Failure` kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailureCount {
    /// `dmarc`, `dkim`, `spf`, ...; `None` when the report gave none.
    pub auth_failure: Option<String>,
    pub reports: i64,
    pub incidents: i64,
}

/// The failure reports of one reported domain about one `Source-IP`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureSourceTotals {
    pub reported_domain: String,
    /// `Source-IP`; `None` when the reports gave none.
    pub source_ip: Option<String>,
    pub reports: i64,
    pub incidents: i64,
    /// The `Auth-Failure` kinds reported, most reports first.
    pub auth_failures: Vec<String>,
    pub first_arrival: i64,
    pub last_arrival: i64,
}

/// When a failure report arrived: its `Arrival-Date`, else when its
/// message was received (`messages m`).
const ARRIVAL: &str = "coalesce(fr.arrival_date, m.received_at)";

/// The failure details of the TLS reports in `scope`, as `FROM` and `WHERE`
/// clauses over `tls_reports rep`, `tls_policies pol` and `tls_failures f`,
/// with their named parameters.
fn tls_failures_in(scope: &Scope) -> (String, Vec<(String, Value)>) {
    let (condition, params) = scope.condition_on(
        ReportTable::Superseded("rep"),
        "pol.policy_domain",
        "rep.date_begin",
    );
    let from = format!(
        "FROM tls_reports rep JOIN tls_policies pol ON pol.report = rep.id
              JOIN tls_failures f ON f.policy = pol.id
         WHERE {condition}"
    );
    (from, params)
}

/// The failure reports in `scope`, as `FROM` and `WHERE` clauses over
/// `failure_reports fr` and `messages m`, with their named parameters.
fn failure_reports_in(scope: &Scope) -> (String, Vec<(String, Value)>) {
    let (condition, params) =
        scope.condition_on(ReportTable::Plain("fr"), "fr.reported_domain", ARRIVAL);
    let from = format!(
        "FROM failure_reports fr JOIN messages m ON m.id = fr.message
         WHERE {condition}"
    );
    (from, params)
}

/// Adds each of `details` to the list (picked by `list`) of the row of
/// `rows` with the detail's key; `details` keep their order within a row.
fn attach<R, K: Eq + Hash, D>(
    rows: &mut [R],
    key: impl Fn(&R) -> K,
    list: impl Fn(&mut R) -> &mut Vec<D>,
    details: Vec<(K, D)>,
) {
    let index: HashMap<K, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| (key(row), i))
        .collect();
    for (detail_key, detail) in details {
        if let Some(&i) = index.get(&detail_key) {
            list(&mut rows[i]).push(detail);
        }
    }
}

impl Store {
    /// TLS sessions per policy domain, most sessions first.
    pub fn tls_domain_totals(&self, scope: &Scope) -> Result<Vec<TlsDomainTotals>, StoreError> {
        let (condition, params) = scope.condition_on(
            ReportTable::Superseded("rep"),
            "pol.policy_domain",
            "rep.date_begin",
        );
        let sql = format!(
            "SELECT lower(pol.policy_domain),
                    count(DISTINCT rep.id),
                    count(DISTINCT rep.org_name),
                    sum(pol.successful_sessions),
                    sum(pol.failed_sessions),
                    min(rep.date_begin),
                    max(rep.date_end)
             FROM tls_reports rep JOIN tls_policies pol ON pol.report = rep.id
             WHERE {condition}
             GROUP BY 1
             ORDER BY sum(pol.successful_sessions) + sum(pol.failed_sessions) DESC, 1"
        );
        self.query(&sql, &params, |row| {
            Ok(TlsDomainTotals {
                policy_domain: row.get(0)?,
                reports: row.get(1)?,
                reporters: row.get(2)?,
                successful_sessions: row.get(3)?,
                failed_sessions: row.get(4)?,
                first_seen: row.get(5)?,
                last_seen: row.get(6)?,
            })
        })
    }

    /// TLS failure details per policy domain and receiving MX host: by
    /// domain, then most failed sessions first, failures naming no MX last.
    pub fn tls_failures_by_mx(&self, scope: &Scope) -> Result<Vec<TlsMxFailures>, StoreError> {
        let (from, params) = tls_failures_in(scope);
        let mut by_mx = self.query(
            &format!(
                "SELECT lower(pol.policy_domain),
                        lower(f.receiving_mx_hostname) AS mx,
                        sum(f.failed_sessions),
                        count(DISTINCT f.sending_mta_ip),
                        count(DISTINCT rep.org_name),
                        min(rep.date_begin),
                        max(rep.date_end)
                 {from}
                 GROUP BY 1, 2
                 ORDER BY 1, mx IS NULL, 3 DESC, mx"
            ),
            &params,
            |row| {
                Ok(TlsMxFailures {
                    policy_domain: row.get(0)?,
                    receiving_mx: row.get(1)?,
                    failed_sessions: row.get(2)?,
                    result_types: Vec::new(),
                    sending_mta_ips: row.get(3)?,
                    reporters: row.get(4)?,
                    first_seen: row.get(5)?,
                    last_seen: row.get(6)?,
                })
            },
        )?;
        let types = self.query(
            &format!(
                "SELECT lower(pol.policy_domain), lower(f.receiving_mx_hostname), f.result_type,
                        sum(f.failed_sessions)
                 {from}
                 GROUP BY 1, 2, 3
                 ORDER BY 4 DESC, 3"
            ),
            &params,
            |row| {
                let key: (String, Option<String>) = (row.get(0)?, row.get(1)?);
                Ok((
                    key,
                    TlsResultCount {
                        result_type: row.get(2)?,
                        failed_sessions: row.get(3)?,
                    },
                ))
            },
        )?;
        attach(
            &mut by_mx,
            |mx| (mx.policy_domain.clone(), mx.receiving_mx.clone()),
            |mx| &mut mx.result_types,
            types,
        );
        Ok(by_mx)
    }

    /// Failure reports per reported domain, most reports first.
    pub fn failure_domain_totals(
        &self,
        scope: &Scope,
    ) -> Result<Vec<FailureDomainTotals>, StoreError> {
        let (from, params) = failure_reports_in(scope);
        let mut domains = self.query(
            &format!(
                "SELECT lower(fr.reported_domain), count(*), sum(fr.incidents),
                        count(DISTINCT lower(fr.reporter)), min({ARRIVAL}), max({ARRIVAL})
                 {from}
                 GROUP BY 1
                 ORDER BY 2 DESC, 1"
            ),
            &params,
            |row| {
                Ok(FailureDomainTotals {
                    reported_domain: row.get(0)?,
                    reports: row.get(1)?,
                    incidents: row.get(2)?,
                    reporters: row.get(3)?,
                    auth_failures: Vec::new(),
                    first_arrival: row.get(4)?,
                    last_arrival: row.get(5)?,
                })
            },
        )?;
        let kinds = self.query(
            &format!(
                "SELECT lower(fr.reported_domain), fr.auth_failure AS kind, count(*), sum(fr.incidents)
                 {from}
                 GROUP BY 1, 2
                 ORDER BY 3 DESC, 4 DESC, kind IS NULL, kind"
            ),
            &params,
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    AuthFailureCount {
                        auth_failure: row.get(1)?,
                        reports: row.get(2)?,
                        incidents: row.get(3)?,
                    },
                ))
            },
        )?;
        attach(
            &mut domains,
            |domain| domain.reported_domain.clone(),
            |domain| &mut domain.auth_failures,
            kinds,
        );
        Ok(domains)
    }

    /// Failure reports per reported domain and source IP: by domain, then
    /// most reports first, reports naming no source IP last.
    pub fn failure_source_totals(
        &self,
        scope: &Scope,
    ) -> Result<Vec<FailureSourceTotals>, StoreError> {
        let (from, params) = failure_reports_in(scope);
        let mut sources = self.query(
            &format!(
                "SELECT lower(fr.reported_domain), fr.source_ip AS ip, count(*), sum(fr.incidents),
                        min({ARRIVAL}), max({ARRIVAL})
                 {from}
                 GROUP BY 1, 2
                 ORDER BY 1, ip IS NULL, 3 DESC, 4 DESC, ip"
            ),
            &params,
            |row| {
                Ok(FailureSourceTotals {
                    reported_domain: row.get(0)?,
                    source_ip: row.get(1)?,
                    reports: row.get(2)?,
                    incidents: row.get(3)?,
                    auth_failures: Vec::new(),
                    first_arrival: row.get(4)?,
                    last_arrival: row.get(5)?,
                })
            },
        )?;
        let kinds = self.query(
            &format!(
                "SELECT lower(fr.reported_domain), fr.source_ip, fr.auth_failure
                 {from} AND fr.auth_failure IS NOT NULL
                 GROUP BY 1, 2, 3
                 ORDER BY count(*) DESC, 3"
            ),
            &params,
            |row| {
                let key: (String, Option<String>) = (row.get(0)?, row.get(1)?);
                Ok((key, row.get::<_, String>(2)?))
            },
        )?;
        attach(
            &mut sources,
            |source| (source.reported_domain.clone(), source.source_ip.clone()),
            |source| &mut source.auth_failures,
            kinds,
        );
        Ok(sources)
    }
}
