//! Reading the aggregate data back: the queries behind `summary`, `sources`,
//! `policy` and `html`.
//!
//! Each query sums records in SQL and returns plain rows; what the numbers
//! mean (diagnoses, readiness) is decided in `insight`, which knows no SQL.
//! A record fails DMARC when neither its aligned DKIM nor its aligned SPF
//! verdict (`policy_evaluated`) is `pass`. Policy domains are compared and
//! grouped lower-cased.

use super::{Store, StoreError};
use crate::report::PolicyPublished;
use rusqlite::ToSql;
use rusqlite::types::Value;
use std::collections::HashMap;

/// Which reports a query reads: those for these policy domains (all when
/// empty) whose range begins in `[since, until)` (unix seconds). Never a
/// superseded report (see `reports.superseded_by`); a report from an
/// unauthenticated message only with `include_unauthenticated`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub domains: Vec<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub include_unauthenticated: bool,
}

/// Which reports a condition keeps by their message's trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TrustTerm {
    /// As the scope says.
    Scope,
    /// Only those from unauthenticated messages (what the scope left out).
    OnlyUnauthenticated,
}

/// The kind of report a condition is on, by its table's alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReportTable {
    /// `reports rep` or `tls_reports rep`, which may be superseded.
    Superseded(&'static str),
    /// `failure_reports fr`, never superseded.
    Plain(&'static str),
}

/// Reports from messages whose senders did not authenticate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LeftOut {
    pub policy_domain: String,
    /// Aggregate, TLS and failure reports together.
    pub reports: i64,
    pub messages: i64,
}

impl Scope {
    /// The same domains over all time.
    pub fn all_time(&self) -> Scope {
        Scope {
            domains: self.domains.clone(),
            since: None,
            until: None,
            include_unauthenticated: self.include_unauthenticated,
        }
    }

    /// A condition on `reports rep` with its named parameters.
    pub(super) fn condition(&self) -> (String, Vec<(String, Value)>) {
        self.condition_on(
            ReportTable::Superseded("rep"),
            "rep.policy_domain",
            "rep.date_begin",
        )
    }

    /// A condition on the reports of `table`, the SQL expressions `domain`
    /// (compared lower-cased) and `time` (unix seconds), with its named
    /// parameters.
    pub(super) fn condition_on(
        &self,
        table: ReportTable,
        domain: &str,
        time: &str,
    ) -> (String, Vec<(String, Value)>) {
        self.condition_with(table, domain, time, TrustTerm::Scope)
    }

    fn condition_with(
        &self,
        table: ReportTable,
        domain: &str,
        time: &str,
        trust: TrustTerm,
    ) -> (String, Vec<(String, Value)>) {
        let mut terms = vec!["1".to_owned()];
        let alias = match table {
            // What was left out counts superseded forgeries too: someone tried.
            ReportTable::Superseded(alias) if trust == TrustTerm::Scope => {
                terms.push(format!("{alias}.superseded_by IS NULL"));
                alias
            }
            ReportTable::Superseded(alias) | ReportTable::Plain(alias) => alias,
        };
        let unauthenticated = "SELECT id FROM messages WHERE auth = 'unauthenticated'";
        match trust {
            TrustTerm::Scope if self.include_unauthenticated => {}
            TrustTerm::Scope => terms.push(format!("{alias}.message NOT IN ({unauthenticated})")),
            TrustTerm::OnlyUnauthenticated => {
                terms.push(format!("{alias}.message IN ({unauthenticated})"))
            }
        }
        let mut params = Vec::new();
        if let Some(since) = self.since {
            terms.push(format!("{time} >= :since"));
            params.push((":since".into(), Value::Integer(since)));
        }
        if let Some(until) = self.until {
            terms.push(format!("{time} < :until"));
            params.push((":until".into(), Value::Integer(until)));
        }
        if !self.domains.is_empty() {
            let names: Vec<String> = (0..self.domains.len()).map(|i| format!(":d{i}")).collect();
            terms.push(format!("lower({domain}) IN ({})", names.join(", ")));
            for (name, wanted) in names.into_iter().zip(&self.domains) {
                params.push((name, Value::Text(wanted.to_ascii_lowercase())));
            }
        }
        (terms.join(" AND "), params)
    }
}

/// The sums every query gives: messages, how many passed, and what
/// receivers did with them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub messages: i64,
    /// Aligned DKIM or aligned SPF passed.
    pub dmarc_pass: i64,
    pub dkim_aligned_pass: i64,
    pub spf_aligned_pass: i64,
    pub quarantined: i64,
    pub rejected: i64,
}

impl Counts {
    /// Reads the six columns of [`COUNT_SUMS`] starting at column `first`.
    fn from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Counts> {
        Ok(Counts {
            messages: row.get(first)?,
            dmarc_pass: row.get(first + 1)?,
            dkim_aligned_pass: row.get(first + 2)?,
            spf_aligned_pass: row.get(first + 3)?,
            quarantined: row.get(first + 4)?,
            rejected: row.get(first + 5)?,
        })
    }

    pub fn dmarc_fail(&self) -> i64 {
        self.messages - self.dmarc_pass
    }

    /// Disposition `none` or absent: delivered as if no policy applied.
    pub fn delivered(&self) -> i64 {
        self.messages - self.quarantined - self.rejected
    }
}

/// Messages of one policy domain, summed over the scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainTotals {
    pub policy_domain: String,
    pub reports: i64,
    pub counts: Counts,
    /// Distinct reporting organisations.
    pub reporters: i64,
    /// Earliest report range begin, unix seconds.
    pub first_seen: i64,
    /// Latest report range end, unix seconds.
    pub last_seen: i64,
}

/// Messages from one sending IP for one policy domain, summed over the
/// scope, with the counts that tell why its mail fails.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceTotals {
    pub policy_domain: String,
    pub source_ip: String,
    pub counts: Counts,
    /// SPF passed, but for a domain that does not align (policy SPF fail).
    /// A pass for an aligned domain beside a policy fail (a reporter's
    /// contradiction, or an SPF check of the HELO name) does not count.
    pub spf_pass_unaligned: i64,
    /// A DKIM signature passed, but none aligned (policy DKIM fail).
    pub dkim_pass_unaligned: i64,
    /// Aligned DKIM failed and a signature of the policy domain (or one of
    /// its parents or subdomains) was there and did not verify.
    pub own_dkim_fail: i64,
    pub reporters: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    /// Reporting organisations among `reporters` whose report mail
    /// authenticated.
    pub authenticated_reporters: i64,
}

/// Where a domain seen for a source came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainSeen {
    /// `auth_results/dkim/domain`.
    Dkim,
    /// `auth_results/spf/domain`.
    Spf,
    /// `identifiers/envelope_from`.
    Envelope,
}

/// A domain that authenticated (or tried to) mail from a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDomain {
    pub policy_domain: String,
    pub source_ip: String,
    pub seen: DomainSeen,
    pub domain: String,
    /// The DKIM selector, for [`DomainSeen::Dkim`].
    pub selector: Option<String>,
    /// The check passed (always false for [`DomainSeen::Envelope`]).
    pub passed: bool,
    pub messages: i64,
}

/// One policy domain on one UTC day (the day its reports' ranges begin).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DailyTotals {
    pub policy_domain: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    pub counts: Counts,
}

/// `column` aligns with the policy domain: relaxed alignment by the public
/// suffix list (`dmarc_aligned`, the one rule; see `Store::open`).
fn aligned(column: &str) -> String {
    format!("dmarc_aligned({column}, rep.policy_domain)")
}

/// The six sums of [`Counts`], in its order, over `records rec`.
const COUNT_SUMS: &str = "sum(rec.count),
    sum(CASE WHEN rec.dkim = 'pass' OR rec.spf = 'pass' THEN rec.count ELSE 0 END),
    sum(CASE WHEN rec.dkim = 'pass' THEN rec.count ELSE 0 END),
    sum(CASE WHEN rec.spf = 'pass' THEN rec.count ELSE 0 END),
    sum(CASE WHEN rec.disposition = 'quarantine' THEN rec.count ELSE 0 END),
    sum(CASE WHEN rec.disposition = 'reject' THEN rec.count ELSE 0 END)";

impl Store {
    /// Totals per policy domain, largest first, pruned days included.
    pub fn domain_totals(&self, scope: &Scope) -> Result<Vec<DomainTotals>, StoreError> {
        let live = self.live_domain_totals(scope)?;
        self.with_rolled_up_domains(scope, live)
    }

    /// [`Store::domain_totals`] of the reports that remain only: what can
    /// be held against per-source figures, which retention does not keep.
    pub fn live_domain_totals(&self, scope: &Scope) -> Result<Vec<DomainTotals>, StoreError> {
        let (condition, params) = scope.condition();
        let sql = format!(
            "SELECT lower(rep.policy_domain),
                    count(DISTINCT rep.id),
                    {COUNT_SUMS},
                    count(DISTINCT rep.org_name),
                    min(rep.date_begin),
                    max(rep.date_end)
             FROM reports rep JOIN records rec ON rec.report = rep.id
             WHERE {condition}
             GROUP BY 1
             ORDER BY 3 DESC, 1"
        );
        self.query(&sql, &params, |row| {
            Ok(DomainTotals {
                policy_domain: row.get(0)?,
                reports: row.get(1)?,
                counts: Counts::from_row(row, 2)?,
                reporters: row.get(8)?,
                first_seen: row.get(9)?,
                last_seen: row.get(10)?,
            })
        })
    }

    /// Totals per policy domain and sending IP, most messages first.
    pub fn source_totals(&self, scope: &Scope) -> Result<Vec<SourceTotals>, StoreError> {
        let (condition, params) = scope.condition();
        let spf_aligned = aligned("s.domain");
        let dkim_aligned = aligned("d.domain");
        let sql = format!(
            "SELECT lower(rep.policy_domain),
                    rec.source_ip,
                    {COUNT_SUMS},
                    sum(CASE WHEN rec.spf IS NOT 'pass' AND EXISTS (
                            SELECT 1 FROM spf_results s WHERE s.record = rec.id AND s.result = 'pass'
                                AND s.domain IS NOT NULL AND NOT {spf_aligned})
                        THEN rec.count ELSE 0 END),
                    sum(CASE WHEN rec.dkim IS NOT 'pass' AND EXISTS (
                            SELECT 1 FROM dkim_results d WHERE d.record = rec.id AND d.result = 'pass'
                                AND d.domain IS NOT NULL AND NOT {dkim_aligned})
                        THEN rec.count ELSE 0 END),
                    sum(CASE WHEN rec.dkim IS NOT 'pass' AND EXISTS (
                            SELECT 1 FROM dkim_results d WHERE d.record = rec.id
                                AND d.result IS NOT 'pass' AND {dkim_aligned})
                        THEN rec.count ELSE 0 END),
                    count(DISTINCT rep.org_name),
                    min(rep.date_begin),
                    max(rep.date_end),
                    count(DISTINCT CASE WHEN rep.message IN
                            (SELECT id FROM messages WHERE auth = 'authenticated')
                        THEN rep.org_name END)
             FROM reports rep JOIN records rec ON rec.report = rep.id
             WHERE {condition}
             GROUP BY 1, 2
             ORDER BY 3 DESC, 1, 2"
        );
        self.query(&sql, &params, |row| {
            Ok(SourceTotals {
                policy_domain: row.get(0)?,
                source_ip: row.get(1)?,
                counts: Counts::from_row(row, 2)?,
                spf_pass_unaligned: row.get(8)?,
                dkim_pass_unaligned: row.get(9)?,
                own_dkim_fail: row.get(10)?,
                reporters: row.get(11)?,
                first_seen: row.get(12)?,
                last_seen: row.get(13)?,
                authenticated_reporters: row.get(14)?,
            })
        })
    }

    /// The DKIM, SPF and envelope domains seen per source, with the
    /// messages each covered.
    pub fn source_domains(&self, scope: &Scope) -> Result<Vec<SourceDomain>, StoreError> {
        let (condition, params) = scope.condition();
        let sql = format!(
            "SELECT lower(rep.policy_domain), rec.source_ip, 'dkim', lower(d.domain),
                    lower(d.selector), d.result = 'pass', sum(rec.count)
             FROM reports rep JOIN records rec ON rec.report = rep.id
                  JOIN dkim_results d ON d.record = rec.id
             WHERE {condition} AND d.domain IS NOT NULL
             GROUP BY 1, 2, 4, 5, 6
             UNION ALL
             SELECT lower(rep.policy_domain), rec.source_ip, 'spf', lower(s.domain),
                    NULL, s.result = 'pass', sum(rec.count)
             FROM reports rep JOIN records rec ON rec.report = rep.id
                  JOIN spf_results s ON s.record = rec.id
             WHERE {condition} AND s.domain IS NOT NULL
             GROUP BY 1, 2, 4, 6
             UNION ALL
             SELECT lower(rep.policy_domain), rec.source_ip, 'envelope', lower(rec.envelope_from),
                    NULL, 0, sum(rec.count)
             FROM reports rep JOIN records rec ON rec.report = rep.id
             WHERE {condition} AND rec.envelope_from IS NOT NULL
             GROUP BY 1, 2, 4"
        );
        self.query(&sql, &params, |row| {
            let seen: String = row.get(2)?;
            Ok(SourceDomain {
                policy_domain: row.get(0)?,
                source_ip: row.get(1)?,
                seen: match seen.as_str() {
                    "dkim" => DomainSeen::Dkim,
                    "spf" => DomainSeen::Spf,
                    _ => DomainSeen::Envelope,
                },
                domain: row.get(3)?,
                selector: row.get(4)?,
                passed: row.get(5)?,
                messages: row.get(6)?,
            })
        })
    }

    /// Totals per policy domain and day, in day order, pruned days included
    /// (`daily_rollups`).
    pub fn daily_totals(&self, scope: &Scope) -> Result<Vec<DailyTotals>, StoreError> {
        let live = self.live_daily_totals(scope)?;
        self.with_rolled_up_days(scope, live)
    }

    /// [`Store::daily_totals`] of the reports that remain only.
    pub fn live_daily_totals(&self, scope: &Scope) -> Result<Vec<DailyTotals>, StoreError> {
        let (condition, params) = scope.condition();
        let sql = format!(
            "SELECT lower(rep.policy_domain),
                    date(rep.date_begin, 'unixepoch'),
                    {COUNT_SUMS}
             FROM reports rep JOIN records rec ON rec.report = rep.id
             WHERE {condition}
             GROUP BY 1, 2
             ORDER BY 1, 2"
        );
        self.query(&sql, &params, |row| {
            Ok(DailyTotals {
                policy_domain: row.get(0)?,
                day: row.get(1)?,
                counts: Counts::from_row(row, 2)?,
            })
        })
    }

    /// The DMARC record of each policy domain as the latest report in
    /// scope (by range end) saw it, in one pass over the reports.
    pub fn latest_policies(
        &self,
        scope: &Scope,
    ) -> Result<HashMap<String, PolicyPublished>, StoreError> {
        let (condition, params) = scope.condition();
        let sql = format!(
            "SELECT domain, adkim, aspf, p, sp, pct, fo, np, testing, discovery_method
             FROM (SELECT lower(rep.policy_domain) AS domain, rep.adkim, rep.aspf, rep.p,
                          rep.sp, rep.pct, rep.fo, rep.np, rep.testing, rep.discovery_method,
                          row_number() OVER (PARTITION BY lower(rep.policy_domain)
                                             ORDER BY rep.date_end DESC, rep.id DESC) AS latest
                   FROM reports rep
                   WHERE {condition})
             WHERE latest = 1"
        );
        let policies = self.query(&sql, &params, |row| {
            Ok(PolicyPublished {
                domain: row.get(0)?,
                adkim: row.get(1)?,
                aspf: row.get(2)?,
                p: row.get(3)?,
                sp: row.get(4)?,
                pct: row.get(5)?,
                fo: row.get(6)?,
                np: row.get(7)?,
                testing: row.get(8)?,
                discovery_method: row.get(9)?,
            })
        })?;
        Ok(policies
            .into_iter()
            .map(|p| (p.domain.clone(), p))
            .collect())
    }

    /// The DMARC record of `policy_domain` as the latest report in scope saw it.
    pub fn latest_policy(
        &self,
        scope: &Scope,
        policy_domain: &str,
    ) -> Result<Option<PolicyPublished>, StoreError> {
        let one = Scope {
            domains: vec![policy_domain.to_owned()],
            ..scope.clone()
        };
        Ok(self
            .latest_policies(&one)?
            .remove(&policy_domain.to_ascii_lowercase()))
    }

    /// The address reporters last sent each policy domain's reports to
    /// (the first envelope recipient of the latest SMTP message carrying
    /// one): the `rua` of the domain's DMARC record. Domains whose reports
    /// were all imported from files have none.
    pub fn report_addresses(&self) -> Result<HashMap<String, String>, StoreError> {
        let rows = self.query(
            "SELECT domain, rcpt_to
             FROM (SELECT lower(rep.policy_domain) AS domain, m.rcpt_to,
                          row_number() OVER (PARTITION BY lower(rep.policy_domain)
                                             ORDER BY m.received_at DESC, m.id DESC) AS latest
                   FROM reports rep JOIN messages m ON m.id = rep.message
                   WHERE m.rcpt_to IS NOT NULL AND rep.superseded_by IS NULL
                     AND m.auth IS NOT 'unauthenticated')
             WHERE latest = 1",
            &[],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|(domain, recipients)| {
                let first = recipients.lines().next()?.to_owned();
                Some((domain, first))
            })
            .collect())
    }

    /// Per policy domain, the reports of every kind in scope that came from
    /// unauthenticated messages, and those messages: what the insight
    /// commands leave out unless asked to include them, so that a user sees
    /// that someone tried. Empty when the scope includes them.
    pub fn left_out(&self, scope: &Scope) -> Result<Vec<LeftOut>, StoreError> {
        if scope.include_unauthenticated {
            return Ok(Vec::new());
        }
        let only = TrustTerm::OnlyUnauthenticated;
        let (aggregate, params) = scope.condition_with(
            ReportTable::Superseded("rep"),
            "rep.policy_domain",
            "rep.date_begin",
            only,
        );
        let (tls, _) = scope.condition_with(
            ReportTable::Superseded("rep"),
            "pol.policy_domain",
            "rep.date_begin",
            only,
        );
        let (failure, _) = scope.condition_with(
            ReportTable::Plain("fr"),
            "fr.reported_domain",
            "coalesce(fr.arrival_date, m.received_at)",
            only,
        );
        // The three conditions share their parameters, names and values.
        let sql = format!(
            "SELECT domain, count(*), count(DISTINCT message)
             FROM (SELECT lower(rep.policy_domain) AS domain, 'a' || rep.id AS report,
                          rep.message AS message
                   FROM reports rep WHERE {aggregate}
                   UNION
                   SELECT lower(pol.policy_domain), 't' || rep.id, rep.message
                   FROM tls_reports rep JOIN tls_policies pol ON pol.report = rep.id
                   WHERE {tls}
                   UNION
                   SELECT lower(fr.reported_domain), 'f' || fr.id, fr.message
                   FROM failure_reports fr JOIN messages m ON m.id = fr.message
                   WHERE {failure})
             GROUP BY domain
             ORDER BY domain"
        );
        self.query(&sql, &params, |row| {
            Ok(LeftOut {
                policy_domain: row.get(0)?,
                reports: row.get(1)?,
                messages: row.get(2)?,
            })
        })
    }

    /// Runs `sql` with the named `params`, each row read by `map`.
    pub(super) fn query<T>(
        &self,
        sql: &str,
        params: &[(String, Value)],
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let named: Vec<(&str, &dyn ToSql)> = params
            .iter()
            .map(|(name, value)| (name.as_str(), value as &dyn ToSql))
            .collect();
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(named.as_slice(), map)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
