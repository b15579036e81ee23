//! `dmarc-sink html`: one self-contained HTML page over the scope, for
//! people who would rather look at a chart than read a table: per policy
//! domain, the pass rates over time, the dispositions, the top sources with
//! their diagnoses and whether the next policy step is safe; then the TLS
//! failures per receiving MX host and the failure reports per source IP
//! ([`tls_failure`]).
//!
//! The page must work as a file opened anywhere, mailed or archived, and
//! must never reach the network: style inline, charts as inline SVG
//! ([`chart`]), no script at all, and a Content-Security-Policy that
//! forbids loading anything but `data:` images. Reports are hostile input:
//! every string from the store is escaped ([`text::escape`]) where it is
//! written into the page.
//!
//! This module reads only through the insight functions ([`summary`],
//! [`readiness`], [`reported_failures`]) and [`Store::daily_totals`]; it
//! decides nothing about what the figures mean.

mod chart;
mod dns;
mod domain;
mod source_table;
mod text;
mod tls_failure;

use super::policy::readiness;
use super::sources::Source;
use super::summary::{DomainSummary, summary};
use super::tls_failure::reported_failures;
use crate::check::DomainChecks;
use crate::config::InsightConfig;
use crate::i18n::Messages;
use crate::insight::period::{day, rfc3339};
use crate::insight::plural;
use crate::insight::{count, percent};
use crate::store::{LeftOut, Scope, Store, StoreError};
use domain::{DomainView, policy_label, seconds, section};
use std::fmt::Write;
pub(crate) use text::escape;

/// Rows shown per domain in each table (sources, receiving MX hosts,
/// failure-report source IPs); `dmarc-sink sources` lists the rest.
pub const SOURCES_PER_DOMAIN: usize = 20;

/// The page's style sheet, inlined into its `<head>`.
const STYLE: &str = include_str!("style.css");

/// Nothing may be fetched: no script, no font, no frame, no connection;
/// only inline style and `data:` images.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// The page for `scope`; `sources` are the scope's (named and diagnosed),
/// `now` the generation time in unix seconds. A scope without reports
/// gives a page that says so.
pub fn page(
    store: &Store,
    scope: &Scope,
    sources: &[Source],
    config: &InsightConfig,
    now: i64,
    messages: &Messages,
) -> Result<String, StoreError> {
    page_with_checks(store, scope, sources, config, now, &[], messages)
}

/// [`page`] with each domain's DNS checks (`html --check-dns`).
pub fn page_with_checks(
    store: &Store,
    scope: &Scope,
    sources: &[Source],
    config: &InsightConfig,
    now: i64,
    dns_checks: &[DomainChecks],
    messages: &Messages,
) -> Result<String, StoreError> {
    let domains = summary(store, scope)?;
    let daily = store.daily_totals(scope)?;
    let readiness = readiness(store, scope, sources, config, messages)?;
    let failures = reported_failures(store, scope)?;
    let views: Vec<DomainView<'_>> = domains
        .iter()
        .enumerate()
        .map(|(index, d)| DomainView {
            anchor: format!("d-{index}"),
            summary: d,
            readiness: readiness
                .iter()
                .find(|r| r.policy_domain == d.policy_domain),
            days: daily
                .iter()
                .filter(|t| t.policy_domain == d.policy_domain)
                .collect(),
            sources: sources
                .iter()
                .filter(|s| s.policy_domain == d.policy_domain)
                .collect(),
            tls_failures: failures.tls_failures_of(&d.policy_domain).collect(),
            failure_sources: failures.failure_sources_of(&d.policy_domain).collect(),
        })
        .collect();
    let period = period(&domains);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"dmarc-sink {}\">\
         <title>DMARC reports · {}</title><style>{STYLE}</style></head><body><main>",
        env!("CARGO_PKG_VERSION"),
        period.as_deref().unwrap_or("nothing yet"),
    );
    header(&mut out, scope, period.as_deref(), now);
    left_out_notice(&mut out, &store.left_out(scope)?);
    if views.is_empty() {
        out.push_str(
            "<div class=\"card empty\"><h2>Nothing yet</h2><p>No reports are stored for \
             the period and domains asked for. Reports arrive once <code>dmarc-sink serve</code> \
             receives mail at a domain's <code>rua</code> address, or with \
             <code>dmarc-sink import</code>; big reporters send one a day.</p></div>",
        );
    } else {
        if views.len() > 1 {
            overview(&mut out, &views);
        }
        for view in &views {
            out.push_str(&section(view, SOURCES_PER_DOMAIN));
        }
    }
    dns::card(&mut out, dns_checks);
    let _ = writeln!(
        out,
        "<footer>Written by dmarc-sink {}. This page is self-contained: it loads \
         nothing and runs no script.</footer></main></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    Ok(out)
}

/// First day to last day of the reports shown, or `None` without any:
/// the aggregate and TLS reports' ranges and the failure reports' arrivals.
fn period(domains: &[DomainSummary]) -> Option<String> {
    let mut begins = Vec::new();
    let mut ends = Vec::new();
    for d in domains {
        if let Some(period) = &d.period {
            begins.extend(seconds(&period.begin));
            ends.extend(seconds(&period.end));
        }
        if let Some(tls) = &d.tls {
            begins.extend(seconds(&tls.period.begin));
            ends.extend(seconds(&tls.period.end));
        }
        if let Some(failures) = &d.failure_reports {
            begins.extend(seconds(&failures.first_arrival));
            // An arrival is an instant; a range end is exclusive.
            ends.extend(seconds(&failures.last_arrival).map(|s| s + 1));
        }
    }
    let begin = begins.into_iter().min()?;
    let end = ends.into_iter().max()?;
    Some(format!("{} – {}", day(begin), day(end - 1)))
}

fn header(out: &mut String, scope: &Scope, period: Option<&str>, now: i64) {
    let generated = rfc3339(now);
    out.push_str("<header class=\"page-head\"><h1>DMARC and SMTP TLS reports</h1><p>");
    if let Some(period) = period {
        let _ = write!(out, "<b>{period}</b> · ");
    }
    let _ = write!(
        out,
        "generated <time datetime=\"{generated}\">{}</time>",
        readable(now)
    );
    let mut asked = Vec::new();
    if !scope.domains.is_empty() {
        let names: Vec<String> = scope.domains.iter().map(|d| escape(d)).collect();
        asked.push(format!("domains {}", names.join(", ")));
    }
    if let Some(since) = scope.since {
        asked.push(format!("reports from {}", readable(since)));
    }
    if let Some(until) = scope.until {
        asked.push(format!("reports before {}", readable(until)));
    }
    if !asked.is_empty() {
        let _ = write!(out, " · asked for: {}", asked.join("; "));
    }
    out.push_str("</p></header>");
}

/// What the page does not count: reports from senders whose report mail
/// did not authenticate, per domain.
fn left_out_notice(out: &mut String, left_out: &[LeftOut]) {
    if left_out.is_empty() {
        return;
    }
    out.push_str(
        "<div class=\"card left-out\"><h2>Left out</h2><p>Report mail that did not \
         authenticate (its sender's DMARC did not pass) is not counted on this page; \
         <code>--include-unauthenticated</code> counts it.</p><ul>",
    );
    for l in left_out {
        let _ = write!(
            out,
            "<li><b>{}</b>: {} in {}</li>",
            escape(&l.policy_domain),
            plural(l.reports, "report"),
            plural(l.messages, "message")
        );
    }
    out.push_str("</ul></div>");
}

/// Unix seconds for people: `2026-12-03 10:00:00 UTC`.
fn readable(seconds: i64) -> String {
    rfc3339(seconds).replace('T', " ").replace('Z', " UTC")
}

/// A table of every domain linking to its section, when there are several.
fn overview(out: &mut String, views: &[DomainView<'_>]) {
    out.push_str(
        "<div class=\"card\"><h2>Domains</h2><div class=\"scroll\"><table class=\"overview\">\
         <thead><tr><th>Domain</th><th class=\"num\">Messages</th><th class=\"num\">DMARC pass</th>\
         <th>Policy</th><th>Next step</th><th class=\"num\">TLS sessions failed</th>\
         <th class=\"num\">Failure reports</th></tr></thead><tbody>",
    );
    for view in views {
        let d = view.summary;
        let next = match view.readiness {
            Some(r) => match (&r.next, r.ready) {
                (None, _) => "<span class=\"ok\">at the end: p=reject</span>".to_owned(),
                (Some(step), true) => {
                    format!("<span class=\"ok\">ready for p={}</span>", escape(&step.p))
                }
                (Some(step), false) => {
                    format!(
                        "<span class=\"warn\">not ready for p={}</span>",
                        escape(&step.p)
                    )
                }
            },
            None => String::new(),
        };
        let tls = d.tls.as_ref().map_or("–".to_owned(), |t| {
            format!(
                "{} of {}",
                count(t.failed_sessions),
                count(t.successful_sessions + t.failed_sessions)
            )
        });
        let (messages, dmarc_pass) = if d.has_aggregate() {
            (
                count(d.figures.messages),
                percent(d.figures.dmarc_pass_share),
            )
        } else {
            ("–".to_owned(), "–".to_owned())
        };
        let failure_reports = d
            .failure_reports
            .as_ref()
            .map_or("–".to_owned(), |f| count(f.reports));
        let _ = write!(
            out,
            "<tr><td><a href=\"#{}\">{}</a></td><td class=\"num\">{messages}</td>\
             <td class=\"num\">{dmarc_pass}</td><td>{}</td><td>{next}</td><td class=\"num\">{tls}</td>\
             <td class=\"num\">{failure_reports}</td></tr>",
            view.anchor,
            escape(&d.policy_domain),
            policy_label(d),
        );
    }
    out.push_str("</tbody></table></div></div>");
}
