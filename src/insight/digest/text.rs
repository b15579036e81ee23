//! The digest as plain text: sections of tables laid out like the other
//! commands' (80 columns), every control character but the line feed
//! replaced ([`printable`]), since reporters choose the strings.

use super::{DAY, Digest, DomainChange, Period, READINESS_DAYS, SOURCES_SHOWN, per_domain};
use crate::insight::period::{day, rfc3339};
use crate::insight::render::{flexible, left, policy_table, printable, right, table, wrap};
use crate::insight::sources::Source;
use crate::insight::{count, percent, plural};

/// The text part of the digest's mail.
pub fn text(digest: &Digest) -> String {
    let period = digest.request.period;
    let mut out = format!(
        "DMARC digest for {} to {} (UTC)\n",
        day(period.since),
        day(period.until - 1)
    );
    if !digest.request.domains.is_empty() {
        out.push_str(&wrap(
            &format!("Domains: {}", digest.request.domains.join(", ")),
            0,
        ));
    }
    if digest.is_quiet() {
        section(&mut out, "Nothing arrived");
        out.push_str(&wrap(&quiet_notice(period), 0));
    } else {
        pass_shares(&mut out, &digest.domains);
        sources(
            &mut out,
            "New sources (first seen in the period)",
            &digest.new_sources,
            period,
        );
        sources(
            &mut out,
            "Failing sources not approved (mail failing DMARC)",
            &digest.failing_sources,
            period,
        );
        left_out(&mut out, digest);
    }
    silence(&mut out, digest);
    if !digest.is_quiet() {
        tls_failures(&mut out, digest);
    }
    section(
        &mut out,
        &format!(
            "Policy readiness (reports of the {} days to {})",
            READINESS_DAYS.max((period.until - period.since) / DAY),
            day(period.until - 1)
        ),
    );
    out.push_str(&policy_table(
        &digest.readiness,
        &crate::i18n::Messages::new(digest.request.lang),
    ));
    out.push_str(&format!(
        "\n-- \nSent by dmarc-sink {} every week, quiet or not. Charts of the period: \
         dmarc-sink html --since {} --until {} --out digest.html\n",
        env!("CARGO_PKG_VERSION"),
        rfc3339(period.since),
        rfc3339(period.until),
    ));
    printable(&out)
}

/// What a quiet week's digest says in place of the figures.
pub(super) fn quiet_notice(period: Period) -> String {
    format!(
        "No DMARC aggregate, SMTP TLS or failure report arrived between {} and {} \
         (UTC). This mail comes every week all the same: its arrival shows that \
         dmarc-sink, its store and its timer are alive.",
        day(period.since),
        day(period.until - 1)
    )
}

fn section(out: &mut String, title: &str) {
    out.push_str(&format!(
        "\n{title}\n{}\n",
        "-".repeat(title.chars().count())
    ));
}

/// `+1.5 pts`, `-0.3 pts`, `no change`; `new` without a period before.
pub(super) fn change(domain: &DomainChange) -> String {
    match domain.change() {
        None => "new".to_owned(),
        Some(change) => {
            let points = (change * 1000.0).round() / 10.0;
            if points == 0.0 {
                "no change".to_owned()
            } else {
                format!("{points:+.1} pts")
            }
        }
    }
}

fn pass_shares(out: &mut String, domains: &[DomainChange]) {
    section(out, "DMARC pass per domain, against the period before");
    if domains.is_empty() {
        out.push_str("No DMARC aggregate report in the period.\n");
        return;
    }
    let columns = [
        flexible("DOMAIN", 12),
        right("MESSAGES"),
        right("DMARC"),
        right("BEFORE"),
        right("CHANGE"),
    ];
    let rows: Vec<Vec<String>> = domains
        .iter()
        .map(|d| {
            vec![
                d.policy_domain.clone(),
                count(d.figures.messages),
                percent(d.figures.dmarc_pass_share),
                d.before
                    .map_or("-".to_owned(), |b| percent(b.dmarc_pass_share)),
                change(d),
            ]
        })
        .collect();
    out.push_str(&table(&columns, &rows, 0));
}

fn sources(out: &mut String, title: &str, all: &[Source], period: Period) {
    section(out, title);
    if all.is_empty() {
        out.push_str("None.\n");
        return;
    }
    let columns = [
        flexible("SOURCE", 15),
        flexible("NAME", 8),
        right("MESSAGES"),
        right("FAILING"),
        right("DMARC"),
        left("DIAGNOSIS"),
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
                    count(s.figures.messages),
                    count(s.figures.messages - s.figures.dmarc_pass),
                    percent(s.figures.dmarc_pass_share),
                    s.diagnosis.code.as_str().to_owned(),
                ]
            })
            .collect();
        out.push_str(&table(&columns, &rows, 2));
        if group.len() > SOURCES_SHOWN {
            out.push_str(&wrap(
                &format!(
                    "… and {} more: dmarc-sink sources --domain {domain} --since {} --until {} \
                     lists them all.",
                    group.len() - SOURCES_SHOWN,
                    rfc3339(period.since),
                    rfc3339(period.until)
                ),
                2,
            ));
        }
    }
}

fn left_out(out: &mut String, digest: &Digest) {
    section(out, "Left out as unauthenticated");
    if digest.left_out.is_empty() {
        out.push_str("None: every report came from report mail that authenticated.\n");
        return;
    }
    out.push_str(&wrap(
        "Reports from senders whose report mail did not authenticate; they are not \
         counted above (--include-unauthenticated counts them):",
        0,
    ));
    for l in &digest.left_out {
        out.push_str(&format!(
            "  {}: {} in {}\n",
            l.policy_domain,
            plural(l.reports, "report"),
            plural(l.messages, "message")
        ));
    }
}

fn silence(out: &mut String, digest: &Digest) {
    section(out, "Silent reporters and domains");
    if digest.silent_reporters.is_empty() && digest.silent_domains.is_empty() {
        out.push_str("None: every regular reporter is still reporting.\n");
        return;
    }
    for s in &digest.silent_reporters {
        out.push_str(&wrap(
            &format!(
                "{}: {} reported on {} of the last 30 days and has sent nothing since its \
                 report up to {}",
                s.policy_domain,
                s.org_name,
                s.days_reported,
                day(s.last_report - 1)
            ),
            2,
        ));
    }
    for s in &digest.silent_domains {
        out.push_str(&wrap(
            &format!(
                "{}: no report at all since the one up to {}",
                s.policy_domain,
                day(s.last_report - 1)
            ),
            2,
        ));
    }
}

fn tls_failures(out: &mut String, digest: &Digest) {
    section(out, "TLS failures by receiving MX");
    let with_tls: Vec<_> = digest
        .summary
        .iter()
        .filter_map(|d| d.tls.as_ref().map(|t| (&d.policy_domain, t)))
        .collect();
    if with_tls.is_empty() {
        out.push_str("No SMTP TLS report in the period.\n");
        return;
    }
    for (domain, tls) in with_tls {
        out.push_str(&format!(
            "{domain}: {} of {} TLS sessions failed ({})\n",
            count(tls.failed_sessions),
            count(tls.successful_sessions + tls.failed_sessions),
            percent(tls.failed_share)
        ));
        let rows: Vec<Vec<String>> = digest
            .tls_failures
            .iter()
            .filter(|m| &m.policy_domain == domain)
            .map(|m| {
                let types: Vec<String> = m
                    .result_types
                    .iter()
                    .map(|r| format!("{} {}", r.result_type, count(r.failed_sessions)))
                    .collect();
                vec![
                    m.receiving_mx
                        .clone()
                        .unwrap_or_else(|| "(no MX named)".into()),
                    count(m.failed_sessions),
                    types.join(", "),
                ]
            })
            .collect();
        if !rows.is_empty() {
            let columns = [
                flexible("RECEIVING MX", 16),
                right("FAILED"),
                flexible("RESULT TYPES", 12),
            ];
            out.push_str(&table(&columns, &rows, 2));
        }
    }
}
