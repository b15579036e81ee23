//! One policy domain's section of the page: its headline figures, whether
//! it is ready for the next policy step, the daily chart, the dispositions
//! and the top sources; then its TLS failures per receiving MX and its
//! failure reports. A domain with TLS or failure reports only has those.

use super::chart::daily_chart;
use super::source_table::sources_table;
use super::text::escape;
use super::tls_failure::{failure_card, tls_card};
use crate::i18n::{FluentValue, Messages};
use crate::insight::policy::Readiness;
use crate::insight::sources::Source;
use crate::insight::summary::{DomainSummary, Period};
use crate::insight::tls_failure::{FailureSource, MxFailures};
use crate::insight::{Dispositions, share};
use crate::store::DailyTotals;
use std::fmt::Write;

/// What the page shows of one domain, gathered from the insight queries.
pub struct DomainView<'a> {
    /// The section's anchor: `d-<index>`, not the domain, which may hold
    /// anything.
    pub anchor: String,
    pub summary: &'a DomainSummary,
    pub readiness: Option<&'a Readiness>,
    pub days: Vec<&'a DailyTotals>,
    pub sources: Vec<&'a Source>,
    /// TLS failures per receiving MX, most failed sessions first.
    pub tls_failures: Vec<&'a MxFailures>,
    /// Failure reports per source IP, most reports first.
    pub failure_sources: Vec<&'a FailureSource>,
    /// Whether this section's failure-report card is the page's first,
    /// which says what else failure reports are called
    /// (`html-failures-aka`).
    pub first_failure_card: bool,
}

/// The policy as a short label: `p=quarantine pct=50`.
pub fn policy_label(summary: &DomainSummary, messages: &Messages) -> String {
    match &summary.policy {
        Some(policy) => {
            let mut label = format!("p={}", policy.p.as_deref().unwrap_or("?"));
            if let Some(pct) = policy.pct.filter(|&pct| pct < 100) {
                let _ = write!(label, " pct={pct}");
            }
            escape(&label)
        }
        None => messages.text("html-no-policy"),
    }
}

/// The section, with at most `shown_sources` rows in each table.
pub fn section(view: &DomainView<'_>, shown_sources: usize, messages: &Messages) -> String {
    let d = view.summary;
    let domain = escape(&d.policy_domain);
    let mut out = String::new();
    let _ = write!(
        out,
        "<section class=\"domain\" id=\"{}\"><div class=\"domain-head\"><h2>{domain}</h2>\
         <span class=\"policy\">{}</span></div>",
        view.anchor,
        policy_label(d, messages)
    );
    if let Some(period) = &d.period {
        aggregate(&mut out, view, period, shown_sources, messages);
    } else {
        let _ = write!(
            out,
            "<p class=\"muted\">{}</p>",
            messages.text("html-no-aggregate")
        );
    }
    if let Some(tls) = &d.tls {
        out.push_str(&tls_card(
            &d.policy_domain,
            tls,
            &view.tls_failures,
            shown_sources,
            messages,
        ));
    }
    if let Some(reports) = &d.failure_reports {
        out.push_str(&failure_card(
            &d.policy_domain,
            reports,
            &view.failure_sources,
            shown_sources,
            view.first_failure_card,
            messages,
        ));
    }
    out.push_str("</section>");
    out
}

/// What the aggregate reports say: the headline figures, the readiness,
/// the daily chart, the dispositions and the top sources.
fn aggregate(
    out: &mut String,
    view: &DomainView<'_>,
    period: &Period,
    shown_sources: usize,
    messages: &Messages,
) {
    let d = view.summary;
    let _ = write!(
        out,
        "<p class=\"muted\">{}",
        messages.format(
            "html-aggregate-reports",
            &[
                ("reports", FluentValue::from(d.reports)),
                ("reporters", FluentValue::from(d.reporters)),
                (
                    "first",
                    FluentValue::from(first_day(&period.begin, messages))
                ),
                ("last", FluentValue::from(last_day(&period.end, messages))),
            ],
        )
    );
    if let Some(policy) = &d.policy {
        let record = format!("<code>{}</code>", escape(&policy.record));
        let _ = write!(
            out,
            " · {}",
            messages.format("html-published", &[("record", FluentValue::from(record))])
        );
    }
    out.push_str("</p>");
    figures(out, d, messages);
    if let Some(readiness) = view.readiness {
        next_step(out, readiness, messages);
    }
    let _ = write!(
        out,
        "<div class=\"card\"><h3>{}</h3>{}</div>",
        messages.text("html-chart-heading"),
        daily_chart(&d.policy_domain, &view.days, messages)
    );
    let _ = write!(
        out,
        "<div class=\"card\"><h3>{}</h3><p class=\"muted\">{}</p>{}</div>",
        messages.text("html-dispositions-heading"),
        messages.text("html-dispositions-text"),
        dispositions(&d.figures.dispositions, d.figures.messages, messages)
    );
    let _ = write!(
        out,
        "<div class=\"card\"><h3>{}</h3>{}</div>",
        messages.text("html-sources-heading"),
        sources_table(&d.policy_domain, &view.sources, shown_sources, messages)
    );
}

/// The day of an instant (a range's begin, an arrival).
pub fn first_day(rfc3339: &str, messages: &Messages) -> String {
    seconds(rfc3339).map_or_else(|| escape(rfc3339), |s| messages.day(s))
}

/// A range end is exclusive in spirit (`…T23:59:59` or the next midnight):
/// the last day is the one its last second falls on.
pub fn last_day(rfc3339: &str, messages: &Messages) -> String {
    seconds(rfc3339).map_or_else(|| escape(rfc3339), |s| messages.day(s - 1))
}

pub fn seconds(rfc3339: &str) -> Option<i64> {
    rfc3339
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_second())
}

/// The headline figures as tiles.
fn figures(out: &mut String, d: &DomainSummary, messages: &Messages) {
    out.push_str("<div class=\"figures\">");
    let _ = write!(
        out,
        "<div class=\"figure\"><b>{}</b><span>{}</span></div>",
        messages.count(d.figures.messages),
        messages.text("html-figure-messages")
    );
    let shares = [
        (
            "html-figure-dmarc",
            d.figures.dmarc_pass_share,
            d.figures.dmarc_pass,
            "dmarc",
        ),
        (
            "html-figure-dkim",
            d.figures.dkim_aligned_share,
            d.figures.dkim_aligned_pass,
            "dkim",
        ),
        (
            "html-figure-spf",
            d.figures.spf_aligned_share,
            d.figures.spf_aligned_pass,
            "spf",
        ),
    ];
    for (label, share, passed, class) in shares {
        let detail = messages.format(
            "html-figure-detail",
            &[
                ("label", FluentValue::from(messages.text(label))),
                ("passed", FluentValue::from(passed)),
                ("messages", FluentValue::from(d.figures.messages)),
            ],
        );
        let _ = write!(
            out,
            "<div class=\"figure {class}\"><b>{}</b><span>{detail}</span></div>",
            messages.percent(share),
        );
    }
    out.push_str("</div>");
}

/// The readiness verdict: the record to publish when ready, the reasons
/// when not.
fn next_step(out: &mut String, r: &Readiness, messages: &Messages) {
    let (class, verdict) = match &r.next {
        None => ("ok", messages.text("html-verdict-at-end")),
        Some(step) => {
            let name = match step.pct {
                Some(pct) => format!("p={} pct={pct}", step.p),
                None => format!("p={}", step.p),
            };
            let (class, id) = if r.ready {
                ("ok", "html-verdict-ready")
            } else {
                ("warn", "html-verdict-not-ready")
            };
            let step = FluentValue::from(escape(&name));
            (class, messages.format(id, &[("step", step)]))
        }
    };
    let _ = write!(out, "<div class=\"verdict {class}\"><b>{verdict}</b>");
    if let Some(step) = &r.next {
        let id = if r.ready {
            "html-verdict-publish"
        } else {
            "html-verdict-next"
        };
        let record = format!("<code>{}</code>", escape(&step.record));
        let _ = write!(
            out,
            " {}",
            messages.format(id, &[("record", FluentValue::from(record))])
        );
    }
    out.push_str("<ul>");
    for reason in &r.reasons {
        let _ = write!(out, "<li>{}</li>", escape(reason));
    }
    out.push_str("</ul></div>");
}

/// The dispositions as one stacked bar with a legend of counts.
fn dispositions(d: &Dispositions, total: i64, messages: &Messages) -> String {
    let parts = [
        ("none", "html-disposition-none", d.none),
        ("quarantine", "html-disposition-quarantine", d.quarantine),
        ("reject", "html-disposition-reject", d.reject),
    ];
    let mut bar = String::from("<div class=\"stack\">");
    let mut legend = String::from("<ul class=\"stack-legend\">");
    for (class, id, n) in parts {
        let label = messages.text(id);
        let part = messages.percent(share(n, total));
        let shown = messages.count(n);
        if n > 0 {
            let _ = write!(
                bar,
                "<span class=\"{class}\" style=\"width:{part}\" title=\"{label}: {shown} ({part})\"></span>",
            );
        }
        let _ = write!(
            legend,
            "<li><i class=\"{class}\"></i>{label} <b>{shown}</b> <span class=\"muted\">{part}</span></li>",
        );
    }
    bar.push_str("</div>");
    legend.push_str("</ul>");
    bar + &legend
}
