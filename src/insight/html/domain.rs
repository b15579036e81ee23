//! One policy domain's section of the page: its headline figures, whether
//! it is ready for the next policy step, the daily chart, the dispositions
//! and the top sources; then its TLS failures per receiving MX and its
//! failure reports. A domain with TLS or failure reports only has those.

use super::chart::daily_chart;
use super::source_table::sources_table;
use super::text::escape;
use super::tls_failure::{failure_card, tls_card};
use crate::insight::period::day;
use crate::insight::policy::Readiness;
use crate::insight::sources::Source;
use crate::insight::summary::{DomainSummary, Period};
use crate::insight::tls_failure::{FailureSource, MxFailures};
use crate::insight::{Dispositions, count, percent, plural, share};
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
}

/// The policy as a short label: `p=quarantine pct=50`.
pub fn policy_label(summary: &DomainSummary) -> String {
    match &summary.policy {
        Some(policy) => {
            let mut label = format!("p={}", policy.p.as_deref().unwrap_or("?"));
            if let Some(pct) = policy.pct.filter(|&pct| pct < 100) {
                let _ = write!(label, " pct={pct}");
            }
            escape(&label)
        }
        None => "no policy seen".to_owned(),
    }
}

/// The section, with at most `shown_sources` rows in each table.
pub fn section(view: &DomainView<'_>, shown_sources: usize) -> String {
    let d = view.summary;
    let domain = escape(&d.policy_domain);
    let mut out = String::new();
    let _ = write!(
        out,
        "<section class=\"domain\" id=\"{}\"><div class=\"domain-head\"><h2>{domain}</h2>\
         <span class=\"policy\">{}</span></div>",
        view.anchor,
        policy_label(d)
    );
    if let Some(period) = &d.period {
        aggregate(&mut out, view, period, shown_sources);
    } else {
        out.push_str(
            "<p class=\"muted\">No DMARC aggregate reports for this domain in the period: \
             it is listed for its SMTP TLS or failure reports.</p>",
        );
    }
    if let Some(tls) = &d.tls {
        out.push_str(&tls_card(
            &d.policy_domain,
            tls,
            &view.tls_failures,
            shown_sources,
        ));
    }
    if let Some(reports) = &d.failure_reports {
        out.push_str(&failure_card(
            &d.policy_domain,
            reports,
            &view.failure_sources,
            shown_sources,
        ));
    }
    out.push_str("</section>");
    out
}

/// What the aggregate reports say: the headline figures, the readiness,
/// the daily chart, the dispositions and the top sources.
fn aggregate(out: &mut String, view: &DomainView<'_>, period: &Period, shown_sources: usize) {
    let d = view.summary;
    let _ = write!(
        out,
        "<p class=\"muted\">{} from {} · {} to {}",
        plural(d.reports, "report"),
        plural(d.reporters, "reporting organisation"),
        first_day(&period.begin),
        last_day(&period.end),
    );
    if let Some(policy) = &d.policy {
        let _ = write!(out, " · published: <code>{}</code>", escape(&policy.record));
    }
    out.push_str("</p>");
    figures(out, d);
    if let Some(readiness) = view.readiness {
        next_step(out, readiness);
    }
    let _ = write!(
        out,
        "<div class=\"card\"><h3>Pass rates and messages per day</h3>{}</div>",
        daily_chart(&d.policy_domain, &view.days)
    );
    let _ = write!(
        out,
        "<div class=\"card\"><h3>Dispositions</h3>\
         <p class=\"muted\">What receivers did with the mail, as they report it.</p>{}</div>",
        dispositions(&d.figures.dispositions, d.figures.messages)
    );
    let _ = write!(
        out,
        "<div class=\"card\"><h3>Top sources</h3>{}</div>",
        sources_table(&d.policy_domain, &view.sources, shown_sources)
    );
}

/// The day of an instant (a range's begin, an arrival).
pub fn first_day(rfc3339: &str) -> String {
    seconds(rfc3339).map_or_else(|| escape(rfc3339), day)
}

/// A range end is exclusive in spirit (`…T23:59:59` or the next midnight):
/// the last day is the one its last second falls on.
pub fn last_day(rfc3339: &str) -> String {
    seconds(rfc3339).map_or_else(|| escape(rfc3339), |s| day(s - 1))
}

pub fn seconds(rfc3339: &str) -> Option<i64> {
    rfc3339
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_second())
}

/// The headline figures as tiles.
fn figures(out: &mut String, d: &DomainSummary) {
    out.push_str("<div class=\"figures\">");
    let _ = write!(
        out,
        "<div class=\"figure\"><b>{}</b><span>messages</span></div>",
        count(d.figures.messages)
    );
    let shares = [
        (
            "DMARC pass",
            d.figures.dmarc_pass_share,
            d.figures.dmarc_pass,
            "dmarc",
        ),
        (
            "aligned DKIM",
            d.figures.dkim_aligned_share,
            d.figures.dkim_aligned_pass,
            "dkim",
        ),
        (
            "aligned SPF",
            d.figures.spf_aligned_share,
            d.figures.spf_aligned_pass,
            "spf",
        ),
    ];
    for (label, share, passed, class) in shares {
        let _ = write!(
            out,
            "<div class=\"figure {class}\"><b>{}</b><span>{label} · {} of {}</span></div>",
            percent(share),
            count(passed),
            count(d.figures.messages)
        );
    }
    out.push_str("</div>");
}

/// The readiness verdict: the record to publish when ready, the reasons
/// when not.
fn next_step(out: &mut String, r: &Readiness) {
    let (class, verdict) = match &r.next {
        None => (
            "ok",
            "At p=reject for all mail: nothing further to publish.".to_owned(),
        ),
        Some(step) => {
            let name = match step.pct {
                Some(pct) => format!("p={} pct={pct}", step.p),
                None => format!("p={}", step.p),
            };
            if r.ready {
                ("ok", format!("Ready for {}.", escape(&name)))
            } else {
                ("warn", format!("Not ready for {} yet.", escape(&name)))
            }
        }
    };
    let _ = write!(out, "<div class=\"verdict {class}\"><b>{verdict}</b>");
    if let Some(step) = &r.next {
        let label = if r.ready { "Publish" } else { "Next" };
        let _ = write!(out, " {label}: <code>{}</code>", escape(&step.record));
    }
    out.push_str("<ul>");
    for reason in &r.reasons {
        let _ = write!(out, "<li>{}</li>", escape(reason));
    }
    out.push_str("</ul></div>");
}

/// The dispositions as one stacked bar with a legend of counts.
fn dispositions(d: &Dispositions, messages: i64) -> String {
    let parts = [
        ("none", "delivered (none)", d.none),
        ("quarantine", "quarantined", d.quarantine),
        ("reject", "rejected", d.reject),
    ];
    let mut bar = String::from("<div class=\"stack\">");
    let mut legend = String::from("<ul class=\"stack-legend\">");
    for (class, label, n) in parts {
        let part = percent(share(n, messages));
        if n > 0 {
            let _ = write!(
                bar,
                "<span class=\"{class}\" style=\"width:{part}\" title=\"{label}: {} ({part})\"></span>",
                count(n)
            );
        }
        let _ = write!(
            legend,
            "<li><i class=\"{class}\"></i>{label} <b>{}</b> <span class=\"muted\">{part}</span></li>",
            count(n)
        );
    }
    bar.push_str("</div>");
    legend.push_str("</ul>");
    bar + &legend
}
