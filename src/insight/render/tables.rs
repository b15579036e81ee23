//! `summary`, `sources` and `policy` as tables and blocks for people.

use super::layout::{flexible, left, record, right, table, wrap, wrap_hanging};
use crate::insight::period::day;
use crate::insight::policy::{Readiness, Step};
use crate::insight::sources::Source;
use crate::insight::summary::DomainSummary;
use crate::insight::{count, percent, plural};

fn nothing(out: &mut String) {
    out.push_str("No reports in the period asked for.\n");
}

/// `summary` as a table.
pub fn summary_table(domains: &[DomainSummary]) -> String {
    let mut out = String::new();
    if domains.is_empty() {
        nothing(&mut out);
        return out;
    }
    let columns = [
        flexible("DOMAIN", 12),
        right("MESSAGES"),
        right("DMARC"),
        right("DKIM"),
        right("SPF"),
        right("QUAR"),
        right("REJECT"),
        right("ORGS"),
        left("POLICY"),
    ];
    let rows: Vec<Vec<String>> = domains
        .iter()
        .map(|d| {
            // The whole record, pct included, is in the line under the table.
            let policy = d
                .policy
                .as_ref()
                .and_then(|p| p.p.clone())
                .unwrap_or_else(|| "?".into());
            vec![
                d.policy_domain.clone(),
                count(d.figures.messages),
                percent(d.figures.dmarc_pass_share),
                percent(d.figures.dkim_aligned_share),
                percent(d.figures.spf_aligned_share),
                count(d.figures.dispositions.quarantine),
                count(d.figures.dispositions.reject),
                d.reporters.to_string(),
                policy,
            ]
        })
        .collect();
    out.push_str(&table(&columns, &rows, 0));
    out.push('\n');
    for d in domains {
        let policy = d
            .policy
            .as_ref()
            .map_or("no policy seen".to_owned(), |p| p.record.clone());
        out.push_str(&wrap(
            &format!(
                "{}: {} reports, {} to {}; published: {policy}",
                d.policy_domain,
                d.reports,
                day(parse_seconds(&d.period.begin)),
                day(parse_seconds(&d.period.end) - 1),
            ),
            0,
        ));
    }
    out
}

/// Unix seconds back from the RFC 3339 form the summaries carry.
fn parse_seconds(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .unwrap_or(0)
}

/// `sources` as a table per domain, each source followed by its diagnosis.
/// `limit`: sources shown per domain (0: all).
pub fn sources_table(sources: &[Source], limit: usize) -> String {
    let mut out = String::new();
    if sources.is_empty() {
        nothing(&mut out);
        return out;
    }
    let columns = [
        flexible("SOURCE", 15),
        flexible("NAME", 8),
        right("MESSAGES"),
        right("DMARC"),
        right("DKIM"),
        right("SPF"),
    ];
    let mut domains: Vec<&str> = Vec::new();
    for s in sources {
        if !domains.contains(&s.policy_domain.as_str()) {
            domains.push(&s.policy_domain);
        }
    }
    for (n, domain) in domains.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let all: Vec<&Source> = sources
            .iter()
            .filter(|s| s.policy_domain == *domain)
            .collect();
        let shown = if limit == 0 {
            &all[..]
        } else {
            &all[..all.len().min(limit)]
        };
        out.push_str(&format!("{domain}\n"));
        let rows: Vec<Vec<String>> = shown
            .iter()
            .map(|s| {
                vec![
                    s.source_ip.clone(),
                    s.name.clone().unwrap_or_else(|| "-".into()),
                    count(s.figures.messages),
                    percent(s.figures.dmarc_pass_share),
                    percent(s.figures.dkim_aligned_share),
                    percent(s.figures.spf_aligned_share),
                ]
            })
            .collect();
        let text = table(&columns, &rows, 2);
        let mut lines = text.lines();
        if let Some(header) = lines.next() {
            out.push_str(header);
            out.push('\n');
        }
        for (line, source) in lines.zip(shown) {
            out.push_str(line);
            out.push('\n');
            out.push_str(&wrap(
                &format!(
                    "{}: {}",
                    source.diagnosis.code.as_str(),
                    source.diagnosis.message
                ),
                6,
            ));
        }
        if shown.len() < all.len() {
            out.push_str(&format!(
                "  … {} more sources (--limit 0 shows all)\n",
                all.len() - shown.len()
            ));
        }
    }
    out
}

/// `policy` as a block per domain.
pub fn policy_table(domains: &[Readiness]) -> String {
    let mut out = String::new();
    if domains.is_empty() {
        nothing(&mut out);
        return out;
    }
    for (n, r) in domains.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let verdict = match (&r.next, r.ready) {
            (None, _) => "at p=reject: the end of the road".to_owned(),
            (Some(step), true) => format!("ready for p={}", step_name(step)),
            (Some(step), false) => format!("not ready for p={}", step_name(step)),
        };
        out.push_str(&format!("{}: {verdict}\n", r.policy_domain));
        if let Some(current) = &r.current {
            out.push_str(&record("published now:", &current.record));
        }
        if let Some(step) = &r.next {
            let label = if r.ready {
                "publish next at _dmarc.".to_owned() + &r.policy_domain + ":"
            } else {
                "the next step, once ready:".to_owned()
            };
            out.push_str(&record(&label, &step.record));
        }
        out.push_str(&wrap_hanging(
            &format!(
                "evidence: {} over {}; {} fail DMARC, {} of them from your own sources \
                 ({}), {} from unauthorised ones",
                plural(r.messages, "message"),
                plural(r.days_covered, "day"),
                count(r.failing_messages),
                count(r.legitimate_failing_messages),
                percent(r.legitimate_failure_share),
                count(r.unauthorised_messages),
            ),
            2,
            4,
        ));
        for reason in &r.reasons {
            out.push_str(&wrap_hanging(&format!("- {reason}"), 2, 4));
        }
        if !r.affected_sources.is_empty() {
            out.push_str("  your sources the next step would catch today:\n");
            let columns = [
                flexible("SOURCE", 15),
                flexible("NAME", 8),
                right("FAILING"),
                left("DIAGNOSIS"),
            ];
            let rows: Vec<Vec<String>> = r
                .affected_sources
                .iter()
                .map(|a| {
                    vec![
                        a.source_ip.clone(),
                        a.name.clone().unwrap_or_else(|| "-".into()),
                        count(a.failing_messages),
                        a.diagnosis.as_str().to_owned(),
                    ]
                })
                .collect();
            out.push_str(&table(&columns, &rows, 4));
        }
    }
    out
}

fn step_name(step: &Step) -> String {
    match step.pct {
        Some(pct) => format!("{} pct={pct}", step.p),
        None => step.p.clone(),
    }
}
