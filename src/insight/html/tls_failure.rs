//! A domain's SMTP TLS reports and DMARC failure reports as two cards: the
//! TLS sessions with a table of the failures per receiving MX host, and
//! the failure reports with a table of them per source IP.
//!
//! Every field comes from a report and may hold markup (an MX host name, a
//! result type, a source IP are the reporter's strings): all go through
//! [`escape`].

use super::domain::{first_day, last_day};
use super::source_table::more;
use super::text::escape;
use crate::i18n::{FluentValue, Messages};
use crate::insight::tls_failure::{FailureReports, FailureSource, MxFailures, TlsSessions};
use std::fmt::Write;

/// The TLS card: sessions, their failed share, and the first `shown`
/// receiving MX hosts of `mx` (one domain's, most failed sessions first).
pub fn tls_card(
    domain: &str,
    tls: &TlsSessions,
    mx: &[&MxFailures],
    shown: usize,
    messages: &Messages,
) -> String {
    let class = if tls.failed_sessions == 0 {
        "ok"
    } else {
        "bad"
    };
    let mut out = format!(
        "<div class=\"card tls\"><h3>{}</h3>",
        messages.text("html-tls-heading")
    );
    let reports = messages.format(
        "html-tls-reports",
        &[
            ("reports", FluentValue::from(tls.reports)),
            ("reporters", FluentValue::from(tls.reporters)),
        ],
    );
    let failed = messages.format(
        "html-tls-failed",
        &[
            ("failed", FluentValue::from(tls.failed_sessions)),
            (
                "sessions",
                FluentValue::from(tls.successful_sessions + tls.failed_sessions),
            ),
            (
                "share",
                FluentValue::from(messages.percent(tls.failed_share)),
            ),
        ],
    );
    let successful = messages.format(
        "html-tls-successful",
        &[("successful", FluentValue::from(tls.successful_sessions))],
    );
    let _ = write!(
        out,
        "<p class=\"muted\">{reports} · <span class=\"{class}\">{failed}</span> · {successful}</p>",
    );
    if mx.is_empty() {
        let _ = write!(
            out,
            "<p>{}</p></div>",
            messages.text("html-tls-all-succeeded")
        );
        return out;
    }
    let _ = write!(
        out,
        "<div class=\"scroll\"><table class=\"tls-failures\"><thead><tr>\
         <th>{}</th><th class=\"num\">{}</th><th>{}</th>\
         <th class=\"num\">{}</th><th class=\"num\">{}</th><th>{}</th>\
         </tr></thead><tbody>",
        messages.text("html-column-receiving-mx"),
        messages.text("html-column-failed-sessions"),
        messages.text("html-column-result-types"),
        messages.text("html-column-sending-mtas"),
        messages.text("html-column-reporters"),
        messages.text("html-column-last-seen"),
    );
    for m in mx.iter().take(shown) {
        let host = match &m.receiving_mx {
            Some(host) => format!("<span class=\"host\">{}</span>", escape(host)),
            None => format!(
                "<span class=\"muted\">{}</span>",
                messages.text("html-no-mx-named")
            ),
        };
        let types: Vec<String> = m
            .result_types
            .iter()
            .map(|r| {
                format!(
                    "<span class=\"code bad\">{}</span> {}",
                    escape(&r.result_type),
                    messages.count(r.failed_sessions)
                )
            })
            .collect();
        let _ = write!(
            out,
            "<tr><td>{host}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td></tr>",
            messages.count(m.failed_sessions),
            types.join("<br>"),
            messages.count(m.sending_mta_ips),
            messages.count(m.reporters),
            last_day(&m.last_seen, messages),
        );
    }
    out.push_str("</tbody></table></div>");
    if mx.len() > shown {
        let _ = write!(
            out,
            "<p class=\"more\">{}</p>",
            more("html-more-mx", mx.len() - shown, domain, messages)
        );
    }
    out.push_str("</div>");
    out
}

/// The failure-report card: the reports, their kinds, and the first
/// `shown` source IPs of `sources` (one domain's, most reports first).
/// The page's first such card (`first`) also says what else failure
/// reports are called, where the language has such a name.
pub fn failure_card(
    domain: &str,
    reports: &FailureReports,
    sources: &[&FailureSource],
    shown: usize,
    first: bool,
    messages: &Messages,
) -> String {
    let not_given = messages.text("html-not-given");
    let kinds: Vec<String> = reports
        .auth_failures
        .iter()
        .map(|k| match &k.auth_failure {
            Some(kind) => format!("{} {}", escape(kind), messages.count(k.reports)),
            None => format!("{not_given} {}", messages.count(k.reports)),
        })
        .collect();
    let mut out = format!(
        "<div class=\"card failures\"><h3>{}</h3>",
        messages.text("html-failures-heading")
    );
    let aka = messages.text("html-failures-aka");
    if first && !aka.is_empty() {
        let _ = write!(out, "<p class=\"aka\">{aka}</p>");
    }
    let _ = write!(
        out,
        "<p class=\"muted\">{}</p>",
        messages.format(
            "html-failures-summary",
            &[
                ("reports", FluentValue::from(reports.reports)),
                ("incidents", FluentValue::from(reports.incidents)),
                ("reporters", FluentValue::from(reports.reporters)),
                (
                    "latest",
                    FluentValue::from(first_day(&reports.last_arrival, messages))
                ),
                ("kinds", FluentValue::from(kinds.join(", "))),
            ],
        )
    );
    let _ = write!(
        out,
        "<div class=\"scroll\"><table class=\"failure-sources\"><thead><tr>\
         <th>{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th>\
         <th>{}</th><th>{}</th><th>{}</th>\
         </tr></thead><tbody>",
        messages.text("html-column-source-ip"),
        messages.text("html-column-reports"),
        messages.text("html-column-incidents"),
        messages.text("html-column-auth-failures"),
        messages.text("html-column-first-arrival"),
        messages.text("html-column-latest-arrival"),
    );
    for s in sources.iter().take(shown) {
        let ip = match &s.source_ip {
            Some(ip) => format!("<span class=\"ip\">{}</span>", escape(ip)),
            None => format!("<span class=\"muted\">{not_given}</span>"),
        };
        let kinds: Vec<String> = s
            .auth_failures
            .iter()
            .map(|k| format!("<span class=\"code warn\">{}</span>", escape(k)))
            .collect();
        let _ = write!(
            out,
            "<tr><td>{ip}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            messages.count(s.reports),
            messages.count(s.incidents),
            kinds.join(" "),
            first_day(&s.first_arrival, messages),
            first_day(&s.last_arrival, messages),
        );
    }
    out.push_str("</tbody></table></div>");
    if sources.len() > shown {
        let _ = write!(
            out,
            "<p class=\"more\">{}</p>",
            more(
                "html-more-source-ips",
                sources.len() - shown,
                domain,
                messages
            )
        );
    }
    out.push_str("</div>");
    out
}
