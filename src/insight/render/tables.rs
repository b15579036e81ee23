//! `summary`, `sources` and `policy` as tables and blocks for people.

use super::layout::{flexible, left, record, right, table, wrap, wrap_hanging};
use super::printable;
use crate::i18n::Messages;
use crate::insight::approved::SourceStanding;
use crate::insight::period::day;
use crate::insight::policy::{Readiness, Step};
use crate::insight::sources::Source;
use crate::insight::summary::DomainSummary;
use crate::insight::tls_failure::{FailureSource, MxFailures, ReportedFailures};
use crate::insight::{count, percent, plural};
use crate::store::LeftOut;

fn nothing(out: &mut String) {
    out.push_str("No reports in the period asked for.\n");
}

/// `summary` as a table: one of the aggregate figures for the domains
/// with aggregate reports, each domain's period and policy below it, then
/// one of TLS sessions and failure reports for the domains that have any.
pub fn summary_table(domains: &[DomainSummary], _messages: &Messages) -> String {
    let mut out = String::new();
    if domains.is_empty() {
        nothing(&mut out);
        return out;
    }
    let aggregate: Vec<&DomainSummary> = domains.iter().filter(|d| d.has_aggregate()).collect();
    if !aggregate.is_empty() {
        aggregate_table(&mut out, &aggregate);
    }
    let others: Vec<&DomainSummary> = domains
        .iter()
        .filter(|d| d.tls.is_some() || d.failure_reports.is_some())
        .collect();
    if !others.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        tls_failure_table(&mut out, &others);
    }
    out
}

fn aggregate_table(out: &mut String, domains: &[&DomainSummary]) {
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
        let period = d.period.as_ref().map_or(String::new(), |p| {
            format!(
                ", {} to {}",
                day(parse_seconds(&p.begin)),
                day(parse_seconds(&p.end) - 1)
            )
        });
        out.push_str(&wrap(
            &format!(
                "{}: {} reports{period}; published: {policy}",
                d.policy_domain, d.reports,
            ),
            0,
        ));
    }
}

/// TLS sessions (successful, failed, the failed share) and failure
/// reports (reports, the failed messages they stand for) per domain; `-`
/// where no report of that kind came.
fn tls_failure_table(out: &mut String, domains: &[&DomainSummary]) {
    out.push_str("SMTP TLS reports and DMARC failure reports\n");
    let columns = [
        flexible("DOMAIN", 12),
        right("TLS OK"),
        right("TLS FAILED"),
        right("FAILED%"),
        right("FAILURE RPTS"),
        right("INCIDENTS"),
    ];
    let none = || "-".to_owned();
    let rows: Vec<Vec<String>> = domains
        .iter()
        .map(|d| {
            let (ok, failed, share) = d.tls.as_ref().map_or((none(), none(), none()), |t| {
                (
                    count(t.successful_sessions),
                    count(t.failed_sessions),
                    percent(t.failed_share),
                )
            });
            let (reports, incidents) = d
                .failure_reports
                .as_ref()
                .map_or((none(), none()), |f| (count(f.reports), count(f.incidents)));
            vec![
                d.policy_domain.clone(),
                ok,
                failed,
                share,
                reports,
                incidents,
            ]
        })
        .collect();
    out.push_str(&table(&columns, &rows, 0));
    out.push('\n');
    for d in domains {
        let mut parts = Vec::new();
        if let Some(t) = &d.tls {
            parts.push(format!(
                "{} from {}, {} to {}",
                plural(t.reports, "TLS report"),
                plural(t.reporters, "organisation"),
                day(parse_seconds(&t.period.begin)),
                day(parse_seconds(&t.period.end) - 1),
            ));
        }
        if let Some(f) = &d.failure_reports {
            let kinds: Vec<String> = f
                .auth_failures
                .iter()
                .map(|k| {
                    let kind = k.auth_failure.as_deref().unwrap_or("not given");
                    format!("{kind} {}", count(k.reports))
                })
                .collect();
            parts.push(format!(
                "{} ({}), latest arrival {}",
                plural(f.reports, "failure report"),
                kinds.join(", "),
                day(parse_seconds(&f.last_arrival)),
            ));
        }
        out.push_str(&wrap(
            &format!("{}: {}", d.policy_domain, parts.join("; ")),
            0,
        ));
    }
}

/// Unix seconds back from the RFC 3339 form the summaries carry.
fn parse_seconds(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .unwrap_or(0)
}

/// `sources` as a block per domain: its aggregate sources, each followed
/// by its diagnosis, then the TLS failures per receiving MX and the failure
/// reports per source IP. `limit`: rows shown per domain and list (0: all).
pub fn sources_table(
    sources: &[Source],
    failures: &ReportedFailures,
    limit: usize,
    _messages: &Messages,
) -> String {
    let mut out = String::new();
    let mut domains: Vec<&str> = Vec::new();
    for s in sources {
        if !domains.contains(&s.policy_domain.as_str()) {
            domains.push(&s.policy_domain);
        }
    }
    for domain in failures.domains() {
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.is_empty() {
        nothing(&mut out);
        return out;
    }
    for (n, domain) in domains.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&format!("{domain}\n"));
        let all: Vec<&Source> = sources
            .iter()
            .filter(|s| s.policy_domain == *domain)
            .collect();
        if all.is_empty() {
            out.push_str("  no aggregate reports\n");
        } else {
            aggregate_sources(&mut out, &all, limit);
        }
        let mx: Vec<&MxFailures> = failures.tls_failures_of(domain).collect();
        if !mx.is_empty() {
            tls_failures(&mut out, &mx, limit);
        }
        let reported: Vec<&FailureSource> = failures.failure_sources_of(domain).collect();
        if !reported.is_empty() {
            failure_sources(&mut out, &reported, limit);
        }
    }
    out
}

/// The first `limit` of `all` (0: all of them).
fn shown<T>(all: &[T], limit: usize) -> &[T] {
    if limit == 0 {
        all
    } else {
        &all[..all.len().min(limit)]
    }
}

/// A line that counts the rows not shown, if any.
fn more(out: &mut String, indent: usize, all: usize, shown: usize, what: &str) {
    if shown < all {
        out.push_str(&format!(
            "{}… {} more {what} (--limit 0 shows all)\n",
            " ".repeat(indent),
            all - shown
        ));
    }
}

fn aggregate_sources(out: &mut String, all: &[&Source], limit: usize) {
    let columns = [
        flexible("SOURCE", 15),
        flexible("NAME", 8),
        right("MESSAGES"),
        right("DMARC"),
        right("DKIM"),
        right("SPF"),
    ];
    let shown = shown(all, limit);
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
        if source.standing != SourceStanding::Unknown {
            let named = source
                .approved_as
                .as_deref()
                .map(|name| format!(" as {}", printable(name)))
                .unwrap_or_default();
            out.push_str(&format!(
                "      {} by you{named}\n",
                source.standing.as_str()
            ));
        }
        out.push_str(&format!(
            "      reported by {}, {} authenticated\n",
            plural(source.reporters, "organisation"),
            source.authenticated_reporters
        ));
    }
    more(out, 2, all.len(), shown.len(), "sources");
}

/// The TLS failures per receiving MX, each followed by its result types.
fn tls_failures(out: &mut String, all: &[&MxFailures], limit: usize) {
    out.push_str("  TLS failures per receiving MX\n");
    let columns = [
        flexible("RECEIVING MX", 16),
        right("FAILED"),
        right("SENDING IPS"),
        right("ORGS"),
        left("LAST SEEN"),
    ];
    let shown = shown(all, limit);
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|m| {
            vec![
                m.receiving_mx
                    .clone()
                    .unwrap_or_else(|| "(no MX named)".into()),
                count(m.failed_sessions),
                count(m.sending_mta_ips),
                count(m.reporters),
                day(parse_seconds(&m.last_seen) - 1),
            ]
        })
        .collect();
    let text = table(&columns, &rows, 4);
    let mut lines = text.lines();
    if let Some(header) = lines.next() {
        out.push_str(header);
        out.push('\n');
    }
    for (line, mx) in lines.zip(shown) {
        out.push_str(line);
        out.push('\n');
        let types: Vec<String> = mx
            .result_types
            .iter()
            .map(|r| format!("{} {}", r.result_type, count(r.failed_sessions)))
            .collect();
        out.push_str(&wrap(&types.join(", "), 8));
    }
    more(out, 4, all.len(), shown.len(), "receiving MX hosts");
}

/// The failure reports per source IP.
fn failure_sources(out: &mut String, all: &[&FailureSource], limit: usize) {
    out.push_str("  failure reports per source IP\n");
    let columns = [
        flexible("SOURCE", 15),
        right("REPORTS"),
        right("INCIDENTS"),
        left("LATEST"),
        flexible("AUTH FAILURE", 12),
    ];
    let shown = shown(all, limit);
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|s| {
            vec![
                s.source_ip.clone().unwrap_or_else(|| "-".into()),
                count(s.reports),
                count(s.incidents),
                day(parse_seconds(&s.last_arrival)),
                if s.auth_failures.is_empty() {
                    "-".into()
                } else {
                    s.auth_failures.join(", ")
                },
            ]
        })
        .collect();
    out.push_str(&table(&columns, &rows, 4));
    more(out, 4, all.len(), shown.len(), "source IPs");
}

/// `policy` as a block per domain.
pub fn policy_table(domains: &[Readiness], _messages: &Messages) -> String {
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
            out.push_str(&record(
                "or first, as a test (t=y: receivers apply one step less):",
                &step.testing_record,
            ));
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

/// The closing lines of a table: what it left out, per domain, and how to
/// count it; nothing when nothing was.
pub fn left_out_note(left_out: &[LeftOut], _messages: &Messages) -> String {
    if left_out.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\nLeft out, from senders whose report mail did not authenticate \
         (--include-unauthenticated counts them):\n",
    );
    for l in left_out {
        out.push_str(&format!(
            "  {}: {} in {}\n",
            l.policy_domain,
            plural(l.reports, "report"),
            plural(l.messages, "message")
        ));
    }
    out
}
