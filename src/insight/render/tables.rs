//! `summary`, `sources` and `policy` as tables and blocks for people, in
//! the language of `messages` (locales/*/tables.ftl): titles, labels,
//! notes, counts and dates. Report data, codes and records stay as they
//! are.

use super::layout::{Column, flexible, left, record, right, table, wrap, wrap_hanging};
use super::printable;
use crate::i18n::{FluentValue, Messages};
use crate::insight::approved::SourceStanding;
use crate::insight::policy::{Readiness, Step};
use crate::insight::sources::Source;
use crate::insight::summary::DomainSummary;
use crate::insight::tls_failure::{FailureSource, MxFailures, ReportedFailures};
use crate::store::LeftOut;

fn nothing(out: &mut String, messages: &Messages) {
    out.push_str(&messages.text("tables-nothing"));
    out.push('\n');
}

/// A number as the English tables have always printed it, ungrouped
/// (`1234`), where they did not group it: given as text, so that Fluent
/// neither groups it nor picks a plural by it.
fn as_printed(n: impl ToString) -> FluentValue<'static> {
    FluentValue::from(n.to_string())
}

/// A column title of tables.ftl: `tables-column-<id>`.
fn title(messages: &Messages, id: &str) -> String {
    messages.text(&format!("tables-column-{id}"))
}

/// `summary` as a table: one of the aggregate figures for the domains
/// with aggregate reports, each domain's period and policy below it, then
/// one of TLS sessions and failure reports for the domains that have any.
pub fn summary_table(domains: &[DomainSummary], messages: &Messages) -> String {
    let mut out = String::new();
    if domains.is_empty() {
        nothing(&mut out, messages);
        return out;
    }
    let aggregate: Vec<&DomainSummary> = domains.iter().filter(|d| d.has_aggregate()).collect();
    if !aggregate.is_empty() {
        aggregate_table(&mut out, &aggregate, messages);
    }
    let others: Vec<&DomainSummary> = domains
        .iter()
        .filter(|d| d.tls.is_some() || d.failure_reports.is_some())
        .collect();
    if !others.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        tls_failure_table(&mut out, &others, messages);
    }
    out
}

fn aggregate_table(out: &mut String, domains: &[&DomainSummary], messages: &Messages) {
    let t = |id| title(messages, id);
    let columns = [
        flexible(t("domain"), 12),
        right(t("messages")),
        right(t("dmarc")),
        right(t("dkim")),
        right(t("spf")),
        right(t("quarantine")),
        right(t("reject")),
        right(t("orgs")),
        left(t("policy")),
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
                messages.count(d.figures.messages),
                messages.percent(d.figures.dmarc_pass_share),
                messages.percent(d.figures.dkim_aligned_share),
                messages.percent(d.figures.spf_aligned_share),
                messages.count(d.figures.dispositions.quarantine),
                messages.count(d.figures.dispositions.reject),
                d.reporters.to_string(),
                policy,
            ]
        })
        .collect();
    out.push_str(&table(&columns, &rows, 0));
    out.push('\n');
    for d in domains {
        let policy = d.policy.as_ref().map_or_else(
            || messages.text("tables-no-policy-seen"),
            |p| p.record.clone(),
        );
        let mut args = vec![
            ("domain", FluentValue::from(d.policy_domain.as_str())),
            ("reports", as_printed(d.reports)),
            ("policy", FluentValue::from(policy)),
        ];
        let line = match &d.period {
            Some(p) => {
                args.push(("from", messages.day(parse_seconds(&p.begin)).into()));
                args.push(("to", messages.day(parse_seconds(&p.end) - 1).into()));
                messages.format("tables-summary-domain-period", &args)
            }
            None => messages.format("tables-summary-domain", &args),
        };
        out.push_str(&wrap(&line, 0));
    }
}

/// TLS sessions (successful, failed, the failed share) and failure
/// reports (reports, the failed messages they stand for) per domain; `-`
/// where no report of that kind came.
fn tls_failure_table(out: &mut String, domains: &[&DomainSummary], messages: &Messages) {
    out.push_str(&messages.text("tables-tls-failure-title"));
    out.push('\n');
    let t = |id| title(messages, id);
    let columns = [
        flexible(t("domain"), 12),
        right(t("tls-ok")),
        right(t("tls-failed")),
        right(t("failed-share")),
        right(t("failure-reports")),
        right(t("incidents")),
    ];
    let none = || "-".to_owned();
    let rows: Vec<Vec<String>> = domains
        .iter()
        .map(|d| {
            let (ok, failed, share) = d.tls.as_ref().map_or((none(), none(), none()), |t| {
                (
                    messages.count(t.successful_sessions),
                    messages.count(t.failed_sessions),
                    messages.percent(t.failed_share),
                )
            });
            let (reports, incidents) = d.failure_reports.as_ref().map_or((none(), none()), |f| {
                (messages.count(f.reports), messages.count(f.incidents))
            });
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
            parts.push(messages.format(
                "tables-summary-tls",
                &[
                    ("reports", t.reports.into()),
                    ("reporters", t.reporters.into()),
                    ("from", messages.day(parse_seconds(&t.period.begin)).into()),
                    ("to", messages.day(parse_seconds(&t.period.end) - 1).into()),
                ],
            ));
        }
        if let Some(f) = &d.failure_reports {
            let kinds: Vec<String> = f
                .auth_failures
                .iter()
                .map(|k| {
                    let kind = k
                        .auth_failure
                        .clone()
                        .unwrap_or_else(|| messages.text("tables-auth-failure-not-given"));
                    messages.format(
                        "tables-auth-failure-kind",
                        &[("kind", kind.into()), ("reports", k.reports.into())],
                    )
                })
                .collect();
            parts.push(messages.format(
                "tables-summary-failures",
                &[
                    ("reports", f.reports.into()),
                    (
                        "kinds",
                        kinds.join(&messages.text("tables-list-separator")).into(),
                    ),
                    ("day", messages.day(parse_seconds(&f.last_arrival)).into()),
                ],
            ));
        }
        let line = messages.format(
            "tables-domain-line",
            &[
                ("domain", d.policy_domain.as_str().into()),
                (
                    "parts",
                    parts.join(&messages.text("tables-parts-separator")).into(),
                ),
            ],
        );
        out.push_str(&wrap(&line, 0));
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
    messages: &Messages,
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
        nothing(&mut out, messages);
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
            out.push_str(&format!(
                "  {}\n",
                messages.text("tables-no-aggregate-reports")
            ));
        } else {
            aggregate_sources(&mut out, &all, limit, messages);
        }
        let mx: Vec<&MxFailures> = failures.tls_failures_of(domain).collect();
        if !mx.is_empty() {
            tls_failures(&mut out, &mx, limit, messages);
        }
        let reported: Vec<&FailureSource> = failures.failure_sources_of(domain).collect();
        if !reported.is_empty() {
            failure_sources(&mut out, &reported, limit, messages);
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

/// A line that counts the rows not shown, if any: the message `id` of
/// tables.ftl, which names what they are.
fn more(out: &mut String, indent: usize, all: usize, shown: usize, id: &str, messages: &Messages) {
    if shown < all {
        out.push_str(&" ".repeat(indent));
        out.push_str(&messages.format(id, &[("n", as_printed(all - shown))]));
        out.push('\n');
    }
}

/// `table`'s lines under `columns`: the title line, and each row's line
/// followed by what `after` says of its item.
fn table_with_notes<T>(
    out: &mut String,
    columns: &[Column],
    rows: &[Vec<String>],
    indent: usize,
    items: &[T],
    mut after: impl FnMut(&mut String, &T),
) {
    let text = table(columns, rows, indent);
    let mut lines = text.lines();
    if let Some(header) = lines.next() {
        out.push_str(header);
        out.push('\n');
    }
    for (line, item) in lines.zip(items) {
        out.push_str(line);
        out.push('\n');
        after(out, item);
    }
}

fn aggregate_sources(out: &mut String, all: &[&Source], limit: usize, messages: &Messages) {
    let t = |id| title(messages, id);
    let columns = [
        flexible(t("source"), 15),
        flexible(t("name"), 8),
        right(t("messages")),
        right(t("dmarc")),
        right(t("dkim")),
        right(t("spf")),
    ];
    let shown = shown(all, limit);
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|s| {
            vec![
                s.source_ip.clone(),
                s.name.clone().unwrap_or_else(|| "-".into()),
                messages.count(s.figures.messages),
                messages.percent(s.figures.dmarc_pass_share),
                messages.percent(s.figures.dkim_aligned_share),
                messages.percent(s.figures.spf_aligned_share),
            ]
        })
        .collect();
    table_with_notes(out, &columns, &rows, 2, shown, |out, source| {
        source_notes(out, source, messages)
    });
    more(
        out,
        2,
        all.len(),
        shown.len(),
        "tables-more-sources",
        messages,
    );
}

/// The lines under a source's row: its diagnosis, what the operator's
/// list says of it, and who reported it.
fn source_notes(out: &mut String, source: &Source, messages: &Messages) {
    let diagnosis = messages.format(
        "tables-diagnosis",
        &[
            ("code", source.diagnosis.code.as_str().into()),
            ("message", source.diagnosis.message.as_str().into()),
        ],
    );
    out.push_str(&wrap(&diagnosis, 6));
    let standing = match (source.standing, source.approved_as.as_deref()) {
        (SourceStanding::Unknown, _) => None,
        (SourceStanding::Approved, None) => Some(messages.text("tables-approved-by-you")),
        (SourceStanding::Denied, None) => Some(messages.text("tables-denied-by-you")),
        (SourceStanding::Approved, Some(name)) => Some(messages.format(
            "tables-approved-by-you-as",
            &[("name", printable(name).into())],
        )),
        (SourceStanding::Denied, Some(name)) => Some(messages.format(
            "tables-denied-by-you-as",
            &[("name", printable(name).into())],
        )),
    };
    if let Some(standing) = standing {
        out.push_str(&format!("      {standing}\n"));
    }
    let reported = messages.format(
        "tables-reported-by",
        &[
            ("reporters", source.reporters.into()),
            ("authenticated", as_printed(source.authenticated_reporters)),
        ],
    );
    out.push_str(&format!("      {reported}\n"));
}

/// The TLS failures per receiving MX, each followed by its result types.
fn tls_failures(out: &mut String, all: &[&MxFailures], limit: usize, messages: &Messages) {
    out.push_str(&format!(
        "  {}\n",
        messages.text("tables-tls-failures-title")
    ));
    let t = |id| title(messages, id);
    let columns = [
        flexible(t("receiving-mx"), 16),
        right(t("failed")),
        right(t("sending-ips")),
        right(t("orgs")),
        left(t("last-seen")),
    ];
    let shown = shown(all, limit);
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|m| {
            vec![
                m.receiving_mx
                    .clone()
                    .unwrap_or_else(|| messages.text("tables-no-mx-named")),
                messages.count(m.failed_sessions),
                messages.count(m.sending_mta_ips),
                messages.count(m.reporters),
                messages.day(parse_seconds(&m.last_seen) - 1),
            ]
        })
        .collect();
    table_with_notes(out, &columns, &rows, 4, shown, |out, mx| {
        let types: Vec<String> = mx
            .result_types
            .iter()
            .map(|r| {
                messages.format(
                    "tables-result-type",
                    &[
                        ("type", r.result_type.as_str().into()),
                        ("sessions", r.failed_sessions.into()),
                    ],
                )
            })
            .collect();
        out.push_str(&wrap(
            &types.join(&messages.text("tables-list-separator")),
            8,
        ));
    });
    more(
        out,
        4,
        all.len(),
        shown.len(),
        "tables-more-receiving-mx",
        messages,
    );
}

/// The failure reports per source IP.
fn failure_sources(out: &mut String, all: &[&FailureSource], limit: usize, messages: &Messages) {
    out.push_str(&format!(
        "  {}\n",
        messages.text("tables-failure-sources-title")
    ));
    let t = |id| title(messages, id);
    let columns = [
        flexible(t("source"), 15),
        right(t("reports")),
        right(t("incidents")),
        left(t("latest")),
        flexible(t("auth-failure"), 12),
    ];
    let shown = shown(all, limit);
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|s| {
            vec![
                s.source_ip.clone().unwrap_or_else(|| "-".into()),
                messages.count(s.reports),
                messages.count(s.incidents),
                messages.day(parse_seconds(&s.last_arrival)),
                if s.auth_failures.is_empty() {
                    "-".into()
                } else {
                    s.auth_failures.join(", ")
                },
            ]
        })
        .collect();
    out.push_str(&table(&columns, &rows, 4));
    more(
        out,
        4,
        all.len(),
        shown.len(),
        "tables-more-source-ips",
        messages,
    );
}

/// `policy` as a block per domain.
pub fn policy_table(domains: &[Readiness], messages: &Messages) -> String {
    let mut out = String::new();
    if domains.is_empty() {
        nothing(&mut out, messages);
        return out;
    }
    for (n, r) in domains.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        policy_block(&mut out, r, messages);
    }
    out
}

/// One domain's readiness: the verdict, the records, the evidence and the
/// reasons, and the domain's own sources the next step would catch.
fn policy_block(out: &mut String, r: &Readiness, messages: &Messages) {
    let domain = || ("domain", FluentValue::from(r.policy_domain.as_str()));
    let verdict = match (&r.next, r.ready) {
        (None, _) => messages.format("tables-policy-at-reject", &[domain()]),
        (Some(step), ready) => messages.format(
            if ready {
                "tables-policy-ready"
            } else {
                "tables-policy-not-ready"
            },
            &[domain(), ("step", step_name(step).into())],
        ),
    };
    out.push_str(&verdict);
    out.push('\n');
    if let Some(current) = &r.current {
        out.push_str(&record(
            &messages.text("tables-published-now"),
            &current.record,
        ));
    }
    if let Some(step) = &r.next {
        let label = if r.ready {
            messages.format("tables-publish-next", &[domain()])
        } else {
            messages.text("tables-next-step")
        };
        out.push_str(&record(&label, &step.record));
        out.push_str(&record(
            &messages.text("tables-as-a-test"),
            &step.testing_record,
        ));
    }
    let evidence = messages.format(
        "tables-evidence",
        &[
            ("messages", r.messages.into()),
            ("days", r.days_covered.into()),
            ("failing", r.failing_messages.into()),
            ("legitimate", r.legitimate_failing_messages.into()),
            ("share", messages.percent(r.legitimate_failure_share).into()),
            ("unauthorised", r.unauthorised_messages.into()),
        ],
    );
    out.push_str(&wrap_hanging(&evidence, 2, 4));
    for reason in &r.reasons {
        out.push_str(&wrap_hanging(&format!("- {reason}"), 2, 4));
    }
    if !r.affected_sources.is_empty() {
        out.push_str(&format!("  {}\n", messages.text("tables-affected-title")));
        let t = |id| title(messages, id);
        let columns = [
            flexible(t("source"), 15),
            flexible(t("name"), 8),
            right(t("failing")),
            left(t("diagnosis")),
        ];
        let rows: Vec<Vec<String>> = r
            .affected_sources
            .iter()
            .map(|a| {
                vec![
                    a.source_ip.clone(),
                    a.name.clone().unwrap_or_else(|| "-".into()),
                    messages.count(a.failing_messages),
                    a.diagnosis.as_str().to_owned(),
                ]
            })
            .collect();
        out.push_str(&table(&columns, &rows, 4));
    }
}

fn step_name(step: &Step) -> String {
    match step.pct {
        Some(pct) => format!("{} pct={pct}", step.p),
        None => step.p.clone(),
    }
}

/// The closing lines of a table: what it left out, per domain, and how to
/// count it; nothing when nothing was.
pub fn left_out_note(left_out: &[LeftOut], messages: &Messages) -> String {
    if left_out.is_empty() {
        return String::new();
    }
    let mut out = format!("\n{}\n", messages.text("tables-left-out-title"));
    for l in left_out {
        let line = messages.format(
            "tables-left-out",
            &[
                ("domain", l.policy_domain.as_str().into()),
                ("reports", l.reports.into()),
                ("messages", l.messages.into()),
            ],
        );
        out.push_str(&format!("  {line}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::insight::render::layout::width;

    fn left_out() -> Vec<LeftOut> {
        vec![
            LeftOut {
                policy_domain: "example.com".into(),
                reports: 3,
                messages: 2,
            },
            LeftOut {
                policy_domain: "example.net".into(),
                reports: 1,
                messages: 1,
            },
        ]
    }

    #[test]
    fn the_left_out_note_in_english_is_as_it_was() {
        let note = left_out_note(&left_out(), &Messages::new(Lang::En));
        assert_eq!(
            note,
            "\nLeft out, from senders whose report mail did not authenticate \
             (--include-unauthenticated counts them):\n  \
             example.com: 3 reports in 2 messages\n  \
             example.net: 1 report in 1 message\n"
        );
        assert_eq!(left_out_note(&[], &Messages::new(Lang::En)), "");
    }

    #[test]
    fn the_left_out_note_in_japanese_fits_80_columns() {
        let note = left_out_note(&left_out(), &Messages::new(Lang::Ja));
        assert!(
            note.contains("  example.com：レポート3件（レポートメール2通）\n"),
            "{note}"
        );
        assert!(note.contains("--include-unauthenticated"), "{note}");
        assert!(note.lines().all(|l| width(l) <= 80), "{note}");
    }

    #[test]
    fn nothing_to_show_is_said_in_the_language() {
        let english = policy_table(&[], &Messages::new(Lang::En));
        assert_eq!(english, "No reports in the period asked for.\n");
        let japanese = summary_table(&[], &Messages::new(Lang::Ja));
        assert_eq!(japanese, "指定された期間のレポートはありません。\n");
    }
}
