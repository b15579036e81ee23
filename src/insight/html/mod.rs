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

use super::policy::{Readiness, readiness};
use super::sources::Source;
use super::summary::{DomainSummary, summary};
use super::tls_failure::reported_failures;
use crate::check::DomainChecks;
use crate::config::InsightConfig;
use crate::i18n::{FluentValue, Messages};
use crate::insight::period::rfc3339;
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
    let first_failure_card = domains.iter().position(|d| d.failure_reports.is_some());
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
            first_failure_card: first_failure_card == Some(index),
        })
        .collect();
    let period = period(&domains, messages);
    let title = messages.format(
        "html-title",
        &[(
            "period",
            FluentValue::from(
                period
                    .clone()
                    .unwrap_or_else(|| messages.text("html-period-none")),
            ),
        )],
    );
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"dmarc-sink {}\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>",
        messages.lang().as_str(),
        env!("CARGO_PKG_VERSION"),
    );
    header(&mut out, scope, period.as_deref(), now, messages);
    left_out_notice(&mut out, &store.left_out(scope)?, messages);
    if views.is_empty() {
        empty_card(&mut out, messages);
    } else {
        if views.len() > 1 {
            overview(&mut out, &views, messages);
        }
        for view in &views {
            out.push_str(&section(view, SOURCES_PER_DOMAIN, messages));
        }
    }
    dns::card(&mut out, dns_checks, messages);
    let _ = writeln!(
        out,
        "<footer>{}</footer></main></body></html>",
        messages.format(
            "html-footer",
            &[("version", FluentValue::from(env!("CARGO_PKG_VERSION")))]
        )
    );
    Ok(out)
}

/// What a page without reports says instead: where reports come from.
fn empty_card(out: &mut String, messages: &Messages) {
    let code = |text: &str| FluentValue::from(format!("<code>{text}</code>"));
    let _ = write!(
        out,
        "<div class=\"card empty\"><h2>{}</h2><p>{}</p></div>",
        messages.text("html-empty-heading"),
        messages.format(
            "html-empty-text",
            &[
                ("serve", code("dmarc-sink serve")),
                ("rua", code("rua")),
                ("import", code("dmarc-sink import")),
            ],
        )
    );
}

/// First day to last day of the reports shown, or `None` without any:
/// the aggregate and TLS reports' ranges and the failure reports' arrivals.
fn period(domains: &[DomainSummary], messages: &Messages) -> Option<String> {
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
    Some(messages.format(
        "html-period",
        &[
            ("first", FluentValue::from(messages.day(begin))),
            ("last", FluentValue::from(messages.day(end - 1))),
        ],
    ))
}

fn header(out: &mut String, scope: &Scope, period: Option<&str>, now: i64, messages: &Messages) {
    let _ = write!(
        out,
        "<header class=\"page-head\"><h1>{}</h1><p>",
        messages.text("html-heading")
    );
    if let Some(period) = period {
        let _ = write!(out, "<b>{period}</b> · ");
    }
    let time = format!(
        "<time datetime=\"{}\">{}</time>",
        rfc3339(now),
        readable(now)
    );
    out.push_str(&messages.format("html-generated", &[("time", FluentValue::from(time))]));
    let time = |id: &str, seconds: i64| {
        messages.format(id, &[("time", FluentValue::from(readable(seconds)))])
    };
    let mut asked = Vec::new();
    if !scope.domains.is_empty() {
        let names: Vec<String> = scope.domains.iter().map(|d| escape(d)).collect();
        asked.push(messages.format(
            "html-asked-domains",
            &[("names", FluentValue::from(names.join(", ")))],
        ));
    }
    if let Some(since) = scope.since {
        asked.push(time("html-asked-since", since));
    }
    if let Some(until) = scope.until {
        asked.push(time("html-asked-until", until));
    }
    if !asked.is_empty() {
        let what = asked.join(&messages.text("html-asked-separator"));
        let _ = write!(
            out,
            " · {}",
            messages.format("html-asked", &[("what", FluentValue::from(what))])
        );
    }
    out.push_str("</p></header>");
}

/// What the page does not count: reports from senders whose report mail
/// did not authenticate, per domain.
fn left_out_notice(out: &mut String, left_out: &[LeftOut], messages: &Messages) {
    if left_out.is_empty() {
        return;
    }
    let flag = FluentValue::from("<code>--include-unauthenticated</code>");
    let _ = write!(
        out,
        "<div class=\"card left-out\"><h2>{}</h2><p>{}</p><ul>",
        messages.text("html-left-out-heading"),
        messages.format("html-left-out-text", &[("flag", flag)])
    );
    for l in left_out {
        let _ = write!(
            out,
            "<li><b>{}</b>: {}</li>",
            escape(&l.policy_domain),
            messages.format(
                "html-left-out-counts",
                &[
                    ("reports", FluentValue::from(l.reports)),
                    ("messages", FluentValue::from(l.messages)),
                ],
            )
        );
    }
    out.push_str("</ul></div>");
}

/// Unix seconds for people: `2026-12-03 10:00:00 UTC`.
fn readable(seconds: i64) -> String {
    rfc3339(seconds).replace('T', " ").replace('Z', " UTC")
}

/// A table of every domain linking to its section, when there are several.
fn overview(out: &mut String, views: &[DomainView<'_>], messages: &Messages) {
    let _ = write!(
        out,
        "<div class=\"card\"><h2>{}</h2><div class=\"scroll\"><table class=\"overview\">\
         <thead><tr><th>{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th>\
         <th>{}</th><th>{}</th><th class=\"num\">{}</th>\
         <th class=\"num\">{}</th></tr></thead><tbody>",
        messages.text("html-overview-heading"),
        messages.text("html-column-domain"),
        messages.text("html-column-messages"),
        messages.text("html-column-dmarc-pass"),
        messages.text("html-column-policy"),
        messages.text("html-column-next-step"),
        messages.text("html-column-tls-failed"),
        messages.text("html-column-failure-reports"),
    );
    for view in views {
        let d = view.summary;
        let next = view
            .readiness
            .map_or_else(String::new, |r| next_label(r, messages));
        let tls = d.tls.as_ref().map_or("–".to_owned(), |t| {
            messages.format(
                "html-part-of",
                &[
                    ("part", FluentValue::from(messages.count(t.failed_sessions))),
                    (
                        "whole",
                        FluentValue::from(
                            messages.count(t.successful_sessions + t.failed_sessions),
                        ),
                    ),
                ],
            )
        });
        let (mail, dmarc_pass) = if d.has_aggregate() {
            (
                messages.count(d.figures.messages),
                messages.percent(d.figures.dmarc_pass_share),
            )
        } else {
            ("–".to_owned(), "–".to_owned())
        };
        let failure_reports = d
            .failure_reports
            .as_ref()
            .map_or("–".to_owned(), |f| messages.count(f.reports));
        let _ = write!(
            out,
            "<tr><td><a href=\"#{}\">{}</a></td><td class=\"num\">{mail}</td>\
             <td class=\"num\">{dmarc_pass}</td><td>{}</td><td>{next}</td><td class=\"num\">{tls}</td>\
             <td class=\"num\">{failure_reports}</td></tr>",
            view.anchor,
            escape(&d.policy_domain),
            policy_label(d, messages),
        );
    }
    out.push_str("</tbody></table></div></div>");
}

/// The overview's "next step" cell: the verdict on the next policy.
fn next_label(r: &Readiness, messages: &Messages) -> String {
    match &r.next {
        None => format!(
            "<span class=\"ok\">{}</span>",
            messages.text("html-next-at-end")
        ),
        Some(step) => {
            let (class, id) = if r.ready {
                ("ok", "html-next-ready")
            } else {
                ("warn", "html-next-not-ready")
            };
            let p = FluentValue::from(escape(&step.p));
            format!(
                "<span class=\"{class}\">{}</span>",
                messages.format(id, &[("p", p)])
            )
        }
    }
}
