//! A domain's SMTP TLS reports and DMARC failure reports as two cards: the
//! TLS sessions with a table of the failures per receiving MX host, and
//! the failure reports with a table of them per source IP.
//!
//! Every field comes from a report and may hold markup (an MX host name, a
//! result type, a source IP are the reporter's strings): all go through
//! [`escape`].

use super::domain::{first_day, last_day};
use super::text::escape;
use crate::insight::tls_failure::{FailureReports, FailureSource, MxFailures, TlsSessions};
use crate::insight::{count, percent, plural};
use std::fmt::Write;

/// The TLS card: sessions, their failed share, and the first `shown`
/// receiving MX hosts of `mx` (one domain's, most failed sessions first).
pub fn tls_card(domain: &str, tls: &TlsSessions, mx: &[&MxFailures], shown: usize) -> String {
    let class = if tls.failed_sessions == 0 {
        "ok"
    } else {
        "bad"
    };
    let mut out = String::from("<div class=\"card tls\"><h3>TLS failures per receiving MX</h3>");
    let _ = write!(
        out,
        "<p class=\"muted\">{} from {} · <span class=\"{class}\">{} of {} sessions failed \
         ({})</span> · {} successful</p>",
        plural(tls.reports, "SMTP TLS report"),
        plural(tls.reporters, "organisation"),
        count(tls.failed_sessions),
        count(tls.successful_sessions + tls.failed_sessions),
        percent(tls.failed_share),
        count(tls.successful_sessions),
    );
    if mx.is_empty() {
        out.push_str("<p>No failure details: every reported TLS session succeeded.</p></div>");
        return out;
    }
    out.push_str(
        "<div class=\"scroll\"><table class=\"tls-failures\"><thead><tr>\
         <th>Receiving MX</th><th class=\"num\">Failed sessions</th><th>Result types</th>\
         <th class=\"num\">Sending MTAs</th><th class=\"num\">Reporters</th><th>Last seen</th>\
         </tr></thead><tbody>",
    );
    for m in mx.iter().take(shown) {
        let host = match &m.receiving_mx {
            Some(host) => format!("<span class=\"host\">{}</span>", escape(host)),
            None => "<span class=\"muted\">no MX named</span>".to_owned(),
        };
        let types: Vec<String> = m
            .result_types
            .iter()
            .map(|r| {
                format!(
                    "<span class=\"code bad\">{}</span> {}",
                    escape(&r.result_type),
                    count(r.failed_sessions)
                )
            })
            .collect();
        let _ = write!(
            out,
            "<tr><td>{host}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td></tr>",
            count(m.failed_sessions),
            types.join("<br>"),
            count(m.sending_mta_ips),
            count(m.reporters),
            last_day(&m.last_seen),
        );
    }
    out.push_str("</tbody></table></div>");
    if mx.len() > shown {
        let _ = write!(
            out,
            "<p class=\"more\">… and {} more receiving MX hosts: <code>dmarc-sink sources \
             --domain {} --limit 0</code> lists them all.</p>",
            count((mx.len() - shown) as i64),
            escape(domain)
        );
    }
    out.push_str("</div>");
    out
}

/// The failure-report card: the reports, their kinds, and the first
/// `shown` source IPs of `sources` (one domain's, most reports first).
pub fn failure_card(
    domain: &str,
    reports: &FailureReports,
    sources: &[&FailureSource],
    shown: usize,
) -> String {
    let kinds: Vec<String> = reports
        .auth_failures
        .iter()
        .map(|k| {
            let kind = k.auth_failure.as_deref().unwrap_or("not given");
            format!("{} {}", escape(kind), count(k.reports))
        })
        .collect();
    let mut out = String::from("<div class=\"card failures\"><h3>Failure reports</h3>");
    let _ = write!(
        out,
        "<p class=\"muted\">{} for {} from {} · latest arrival {} · by kind: {}</p>",
        plural(reports.reports, "failure report"),
        plural(reports.incidents, "failed message"),
        plural(reports.reporters, "reporter"),
        first_day(&reports.last_arrival),
        kinds.join(", "),
    );
    out.push_str(
        "<div class=\"scroll\"><table class=\"failure-sources\"><thead><tr>\
         <th>Source IP</th><th class=\"num\">Reports</th><th class=\"num\">Incidents</th>\
         <th>Auth failures</th><th>First arrival</th><th>Latest arrival</th>\
         </tr></thead><tbody>",
    );
    for s in sources.iter().take(shown) {
        let ip = match &s.source_ip {
            Some(ip) => format!("<span class=\"ip\">{}</span>", escape(ip)),
            None => "<span class=\"muted\">not given</span>".to_owned(),
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
            count(s.reports),
            count(s.incidents),
            kinds.join(" "),
            first_day(&s.first_arrival),
            first_day(&s.last_arrival),
        );
    }
    out.push_str("</tbody></table></div>");
    if sources.len() > shown {
        let _ = write!(
            out,
            "<p class=\"more\">… and {} more source IPs: <code>dmarc-sink sources --domain {} \
             --limit 0</code> lists them all.</p>",
            count((sources.len() - shown) as i64),
            escape(domain)
        );
    }
    out.push_str("</div>");
    out
}
