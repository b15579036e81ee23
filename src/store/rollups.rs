//! Reading `daily_rollups`: what retention deleted, as daily sums, added to
//! the totals of the reports that remain (see `prune.rs`).

use super::read::{Counts, DailyTotals, DomainTotals, Scope};
use super::{Store, StoreError};
use rusqlite::types::Value;
use std::collections::BTreeMap;

impl Scope {
    /// A condition on `daily_rollups` with its named parameters: the same
    /// domains and trust, the range compared by the day's start.
    fn rollup_condition(&self) -> (String, Vec<(String, Value)>) {
        let mut terms = vec!["1".to_owned()];
        let mut params = Vec::new();
        if !self.include_unauthenticated {
            terms.push("auth IS NOT 'unauthenticated'".to_owned());
        }
        if let Some(since) = self.since {
            terms.push("unixepoch(day) >= :since".to_owned());
            params.push((":since".into(), Value::Integer(since)));
        }
        if let Some(until) = self.until {
            terms.push("unixepoch(day) < :until".to_owned());
            params.push((":until".into(), Value::Integer(until)));
        }
        if !self.domains.is_empty() {
            let names: Vec<String> = (0..self.domains.len()).map(|i| format!(":d{i}")).collect();
            terms.push(format!("policy_domain IN ({})", names.join(", ")));
            for (name, wanted) in names.into_iter().zip(&self.domains) {
                params.push((name, Value::Text(wanted.to_ascii_lowercase())));
            }
        }
        (terms.join(" AND "), params)
    }
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.messages += other.messages;
        self.dmarc_pass += other.dmarc_pass;
        self.dkim_aligned_pass += other.dkim_aligned_pass;
        self.spf_aligned_pass += other.spf_aligned_pass;
        self.quarantined += other.quarantined;
        self.rejected += other.rejected;
    }
}

/// One row of `daily_rollups` summed over trust.
struct RolledUpDay {
    totals: DailyTotals,
    reports: i64,
}

impl Store {
    fn rolled_up_days(&self, scope: &Scope) -> Result<Vec<RolledUpDay>, StoreError> {
        let (condition, params) = scope.rollup_condition();
        let sql = format!(
            "SELECT policy_domain, day, sum(reports), sum(messages), sum(dmarc_pass),
                    sum(dkim_aligned_pass), sum(spf_aligned_pass), sum(quarantined),
                    sum(rejected)
             FROM daily_rollups WHERE {condition}
             GROUP BY 1, 2"
        );
        self.query(&sql, &params, |row| {
            Ok(RolledUpDay {
                reports: row.get(2)?,
                totals: DailyTotals {
                    policy_domain: row.get(0)?,
                    day: row.get(1)?,
                    counts: Counts {
                        messages: row.get(3)?,
                        dmarc_pass: row.get(4)?,
                        dkim_aligned_pass: row.get(5)?,
                        spf_aligned_pass: row.get(6)?,
                        quarantined: row.get(7)?,
                        rejected: row.get(8)?,
                    },
                },
            })
        })
    }

    /// `live` (per domain and day) with the rolled-up days added, in
    /// domain and day order.
    pub(super) fn with_rolled_up_days(
        &self,
        scope: &Scope,
        live: Vec<DailyTotals>,
    ) -> Result<Vec<DailyTotals>, StoreError> {
        let mut days: BTreeMap<(String, String), DailyTotals> = live
            .into_iter()
            .map(|t| ((t.policy_domain.clone(), t.day.clone()), t))
            .collect();
        for rolled in self.rolled_up_days(scope)? {
            let key = (
                rolled.totals.policy_domain.clone(),
                rolled.totals.day.clone(),
            );
            days.entry(key)
                .and_modify(|t| t.counts.add(&rolled.totals.counts))
                .or_insert(rolled.totals);
        }
        Ok(days.into_values().collect())
    }

    /// `live` (per domain) with the rolled-up days added: their reports and
    /// counts, and their range (a day's start to its end). Reporters stay
    /// those of the reports that remain. Largest first, as `domain_totals`.
    pub(super) fn with_rolled_up_domains(
        &self,
        scope: &Scope,
        live: Vec<DomainTotals>,
    ) -> Result<Vec<DomainTotals>, StoreError> {
        let mut domains: BTreeMap<String, DomainTotals> = live
            .into_iter()
            .map(|t| (t.policy_domain.clone(), t))
            .collect();
        for rolled in self.rolled_up_days(scope)? {
            let Some(start) = day_start(&rolled.totals.day) else {
                continue;
            };
            let end = start + 86_400;
            let domain = rolled.totals.policy_domain.clone();
            let totals = domains.entry(domain.clone()).or_insert(DomainTotals {
                policy_domain: domain,
                first_seen: start,
                last_seen: end,
                ..DomainTotals::default()
            });
            totals.reports += rolled.reports;
            totals.counts.add(&rolled.totals.counts);
            totals.first_seen = totals.first_seen.min(start);
            totals.last_seen = totals.last_seen.max(end);
        }
        let mut merged: Vec<DomainTotals> = domains.into_values().collect();
        merged.sort_by(|a, b| {
            b.counts
                .messages
                .cmp(&a.counts.messages)
                .then_with(|| a.policy_domain.cmp(&b.policy_domain))
        });
        Ok(merged)
    }
}

/// Unix seconds at the start of the UTC day `YYYY-MM-DD`.
fn day_start(day: &str) -> Option<i64> {
    let midnight: jiff::Timestamp = format!("{day}T00:00:00Z").parse().ok()?;
    Some(midnight.as_second())
}
