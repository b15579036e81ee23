//! The digest as plain text: sections of tables laid out like the other
//! commands' (80 columns), every control character but the line feed
//! replaced ([`printable`]), since reporters choose the strings.

use super::{DAY, Digest, DomainChange, Period, READINESS_DAYS, SOURCES_SHOWN, per_domain};
use crate::i18n::{FluentValue, Messages};
use crate::insight::period::rfc3339;
use crate::insight::render::{flexible, left, policy_table, printable, right, table, width, wrap};
use crate::insight::sources::Source;

/// The text part of the digest's mail, in `messages`' language.
pub fn text(digest: &Digest, messages: &Messages) -> String {
    let period = digest.request.period;
    let mut out = title(period, messages);
    out.push('\n');
    if !digest.request.domains.is_empty() {
        out.push_str(&wrap(&domains(&digest.request.domains, messages), 0));
    }
    if digest.is_quiet() {
        section(&mut out, &messages.text("digest-quiet-heading"));
        out.push_str(&wrap(&quiet_notice(period, messages), 0));
    } else {
        pass_shares(&mut out, &digest.domains, messages);
        sources(
            &mut out,
            &messages.text("digest-new-heading"),
            &digest.new_sources,
            period,
            messages,
        );
        sources(
            &mut out,
            &messages.text("digest-failing-heading"),
            &digest.failing_sources,
            period,
            messages,
        );
        left_out(&mut out, digest, messages);
    }
    silence(&mut out, digest, messages);
    if !digest.is_quiet() {
        tls_failures(&mut out, digest, messages);
    }
    section(
        &mut out,
        &messages.format(
            "digest-readiness-heading-text",
            &readiness_days(period, messages),
        ),
    );
    out.push_str(&policy_table(&digest.readiness, messages));
    out.push_str("\n-- \n");
    out.push_str(&footer(&html_command(period), messages));
    out.push('\n');
    printable(&out)
}

/// `DMARC digest for 2026-11-09 to 2026-11-15 (UTC)`: the text part's
/// first line and the HTML part's title.
pub(super) fn title(period: Period, messages: &Messages) -> String {
    messages.format("digest-title", &days(period, messages))
}

/// The first and the last day of `period` as the `since` and `until` of a
/// message.
pub(super) fn days(
    period: Period,
    messages: &Messages,
) -> [(&'static str, FluentValue<'static>); 2] {
    [
        ("since", FluentValue::from(messages.day(period.since))),
        ("until", FluentValue::from(messages.day(period.until - 1))),
    ]
}

/// The variables of the readiness headings: how many days the verdict
/// reads, to the period's last day.
pub(super) fn readiness_days(
    period: Period,
    messages: &Messages,
) -> [(&'static str, FluentValue<'static>); 2] {
    [
        (
            "days",
            FluentValue::from(READINESS_DAYS.max((period.until - period.since) / DAY)),
        ),
        ("until", FluentValue::from(messages.day(period.until - 1))),
    ]
}

/// `Domains: example.com, example.net`, the domains asked for.
pub(super) fn domains(names: &[String], messages: &Messages) -> String {
    messages.format(
        "digest-domains",
        &[("domains", FluentValue::from(names.join(", ")))],
    )
}

/// The `html` command that charts `period`.
pub(super) fn html_command(period: Period) -> String {
    format!(
        "dmarc-sink html --since {} --until {} --out digest.html",
        rfc3339(period.since),
        rfc3339(period.until),
    )
}

/// The closing line, `command` as the part writes it.
pub(super) fn footer(command: &str, messages: &Messages) -> String {
    messages.format(
        "digest-footer",
        &[
            ("version", FluentValue::from(env!("CARGO_PKG_VERSION"))),
            ("command", FluentValue::from(command.to_owned())),
        ],
    )
}

/// What a quiet week's digest says in place of the figures.
pub(super) fn quiet_notice(period: Period, messages: &Messages) -> String {
    messages.format("digest-quiet-text", &days(period, messages))
}

/// A title and its underline, as wide as the title shows in a terminal.
fn section(out: &mut String, title: &str) {
    out.push_str(&format!("\n{title}\n{}\n", "-".repeat(width(title))));
}

/// A column title in the digest's language.
fn column_title(messages: &Messages, id: &str) -> String {
    messages.text(id)
}

/// `+1.5 pts`, `-0.3 pts`, `no change`; `new` without a period before.
pub(super) fn change(domain: &DomainChange, messages: &Messages) -> String {
    match domain.change() {
        None => messages.text("digest-change-new"),
        Some(change) => {
            let points = (change * 1000.0).round() / 10.0;
            if points == 0.0 {
                messages.text("digest-change-none")
            } else {
                messages.format(
                    "digest-change-points",
                    &[("points", FluentValue::from(format!("{points:+.1}")))],
                )
            }
        }
    }
}

fn pass_shares(out: &mut String, domains: &[DomainChange], messages: &Messages) {
    section(out, &messages.text("digest-pass-heading"));
    if domains.is_empty() {
        out.push_str(&messages.text("digest-no-aggregate"));
        out.push('\n');
        return;
    }
    let title = |id| column_title(messages, id);
    let columns = [
        flexible(title("digest-column-domain-text"), 12),
        right(title("digest-column-messages-text")),
        right(title("digest-column-dmarc-text")),
        right(title("digest-column-before-text")),
        right(title("digest-column-change-text")),
    ];
    let rows: Vec<Vec<String>> = domains
        .iter()
        .map(|d| {
            vec![
                d.policy_domain.clone(),
                messages.count(d.figures.messages),
                messages.percent(d.figures.dmarc_pass_share),
                d.before
                    .map_or("-".to_owned(), |b| messages.percent(b.dmarc_pass_share)),
                change(d, messages),
            ]
        })
        .collect();
    out.push_str(&table(&columns, &rows, 0));
}

fn sources(out: &mut String, title: &str, all: &[Source], period: Period, messages: &Messages) {
    section(out, title);
    if all.is_empty() {
        out.push_str(&messages.text("digest-none"));
        out.push('\n');
        return;
    }
    let title = |id| column_title(messages, id);
    let columns = [
        flexible(title("digest-column-source-text"), 15),
        flexible(title("digest-column-name-text"), 8),
        right(title("digest-column-messages-text")),
        right(title("digest-column-failing-text")),
        right(title("digest-column-dmarc-text")),
        left(title("digest-column-diagnosis-text")),
    ];
    for (domain, group) in per_domain(all) {
        out.push_str(&format!("{domain}\n"));
        let rows: Vec<Vec<String>> = group
            .iter()
            .take(SOURCES_SHOWN)
            .map(|s| {
                vec![
                    s.source_ip.clone(),
                    s.name.clone().unwrap_or_else(|| "-".into()),
                    messages.count(s.figures.messages),
                    messages.count(s.figures.messages - s.figures.dmarc_pass),
                    messages.percent(s.figures.dmarc_pass_share),
                    s.diagnosis.code.as_str().to_owned(),
                ]
            })
            .collect();
        out.push_str(&table(&columns, &rows, 2));
        if group.len() > SOURCES_SHOWN {
            let more = messages.format(
                "digest-more-sources",
                &[
                    ("n", FluentValue::from((group.len() - SOURCES_SHOWN) as i64)),
                    (
                        "command",
                        FluentValue::from(sources_command(domain, period)),
                    ),
                ],
            );
            out.push_str(&wrap(&more, 2));
        }
    }
}

/// The `sources` command that lists all of `domain`'s sources of `period`.
pub(super) fn sources_command(domain: &str, period: Period) -> String {
    format!(
        "dmarc-sink sources --domain {domain} --since {} --until {}",
        rfc3339(period.since),
        rfc3339(period.until)
    )
}

/// `example.com: …`, a line about one domain; `domain` and `text` as the
/// part writes them.
pub(super) fn labelled(domain: &str, text: &str, messages: &Messages) -> String {
    messages.format(
        "digest-domain-line",
        &[
            ("domain", FluentValue::from(domain.to_owned())),
            ("text", FluentValue::from(text.to_owned())),
        ],
    )
}

/// `1 report in 1 message`: what was left out of one domain.
pub(super) fn left_out_counts(reports: i64, mail: i64, messages: &Messages) -> String {
    messages.format(
        "digest-left-out-counts",
        &[
            ("reports", FluentValue::from(reports)),
            ("messages", FluentValue::from(mail)),
        ],
    )
}

fn left_out(out: &mut String, digest: &Digest, messages: &Messages) {
    section(out, &messages.text("digest-left-out-heading"));
    if digest.left_out.is_empty() {
        out.push_str(&messages.text("digest-left-out-none"));
        out.push('\n');
        return;
    }
    out.push_str(&wrap(
        &messages.format(
            "digest-left-out-text",
            &[("flag", FluentValue::from("--include-unauthenticated"))],
        ),
        0,
    ));
    for l in &digest.left_out {
        let counts = left_out_counts(l.reports, l.messages, messages);
        out.push_str(&format!(
            "  {}\n",
            labelled(&l.policy_domain, &counts, messages)
        ));
    }
}

/// A silent reporter's line; `domain` and `org` as the part writes them.
pub(super) fn silent_reporter(
    domain: String,
    org: String,
    days: u32,
    last_report: i64,
    messages: &Messages,
) -> String {
    messages.format(
        "digest-silent-reporter",
        &[
            ("domain", FluentValue::from(domain)),
            ("org", FluentValue::from(org)),
            ("days", FluentValue::from(days)),
            ("last", FluentValue::from(messages.day(last_report - 1))),
        ],
    )
}

/// A silent domain's line; `domain` as the part writes it.
pub(super) fn silent_domain(domain: String, last_report: i64, messages: &Messages) -> String {
    messages.format(
        "digest-silent-domain",
        &[
            ("domain", FluentValue::from(domain)),
            ("last", FluentValue::from(messages.day(last_report - 1))),
        ],
    )
}

fn silence(out: &mut String, digest: &Digest, messages: &Messages) {
    section(out, &messages.text("digest-silent-heading"));
    if digest.silent_reporters.is_empty() && digest.silent_domains.is_empty() {
        out.push_str(&messages.text("digest-silent-none"));
        out.push('\n');
        return;
    }
    for s in &digest.silent_reporters {
        let line = silent_reporter(
            s.policy_domain.clone(),
            s.org_name.clone(),
            s.days_reported,
            s.last_report,
            messages,
        );
        out.push_str(&wrap(&line, 2));
    }
    for s in &digest.silent_domains {
        let line = silent_domain(s.policy_domain.clone(), s.last_report, messages);
        out.push_str(&wrap(&line, 2));
    }
}

/// `7 of 907 TLS sessions failed (0.8%)`.
pub(super) fn tls_failed(failed: i64, sessions: i64, share: f64, messages: &Messages) -> String {
    messages.format(
        "digest-tls-failed",
        &[
            ("failed", FluentValue::from(failed)),
            ("sessions", FluentValue::from(sessions)),
            ("share", FluentValue::from(messages.percent(share))),
        ],
    )
}

fn tls_failures(out: &mut String, digest: &Digest, messages: &Messages) {
    section(out, &messages.text("digest-tls-heading"));
    let with_tls: Vec<_> = digest
        .summary
        .iter()
        .filter_map(|d| d.tls.as_ref().map(|t| (&d.policy_domain, t)))
        .collect();
    if with_tls.is_empty() {
        out.push_str(&messages.text("digest-no-tls"));
        out.push('\n');
        return;
    }
    for (domain, tls) in with_tls {
        let failed = tls_failed(
            tls.failed_sessions,
            tls.successful_sessions + tls.failed_sessions,
            tls.failed_share,
            messages,
        );
        out.push_str(&labelled(domain, &failed, messages));
        out.push('\n');
        let rows: Vec<Vec<String>> = digest
            .tls_failures
            .iter()
            .filter(|m| &m.policy_domain == domain)
            .map(|m| {
                let types: Vec<String> = m
                    .result_types
                    .iter()
                    .map(|r| format!("{} {}", r.result_type, messages.count(r.failed_sessions)))
                    .collect();
                vec![
                    m.receiving_mx
                        .clone()
                        .unwrap_or_else(|| messages.text("digest-no-mx-named")),
                    messages.count(m.failed_sessions),
                    types.join(", "),
                ]
            })
            .collect();
        if !rows.is_empty() {
            let title = |id| column_title(messages, id);
            let columns = [
                flexible(title("digest-column-receiving-mx-text"), 16),
                right(title("digest-column-failed-text")),
                flexible(title("digest-column-result-types-text"), 12),
            ];
            out.push_str(&table(&columns, &rows, 2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_japanese_title_is_underlined_to_its_display_width() {
        let mut out = String::new();
        section(&mut out, "受信MXごとのTLSの失敗");
        assert_eq!(
            out,
            format!("\n受信MXごとのTLSの失敗\n{}\n", "-".repeat(2 * 8 + 5))
        );
    }
}
