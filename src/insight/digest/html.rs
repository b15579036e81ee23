//! The digest as HTML for mail clients: the same sections as the text,
//! as tables. One small style sheet in the head (mail clients keep that,
//! not linked ones), no script, nothing loaded; it reads well unstyled too.
//!
//! Every string from the store is a reporter's choice and goes through
//! [`escape`] where it is written.

use super::text::{change, quiet_notice};
use super::{DAY, Digest, Period, READINESS_DAYS, SOURCES_SHOWN, per_domain};
use crate::insight::html::escape;
use crate::insight::period::{day, rfc3339};
use crate::insight::policy::Readiness;
use crate::insight::sources::Source;
use crate::insight::{count, percent, plural};
use std::fmt::Write;

/// Nothing may be fetched, should a client honour it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";
/// Mail clients keep a `<style>` in the head; kept small, as some clip
/// long mails.
const STYLE: &str = "body{margin:0;padding:16px;font:15px/1.45 -apple-system,'Segoe UI',\
                     Helvetica,Arial,sans-serif;color:#1f2328;background:#fff}\
                     h1{font-size:21px}h2{font-size:17px;margin:24px 0 8px;\
                     border-bottom:1px solid #d0d7de}table{border-collapse:collapse;\
                     font-size:14px}th{text-align:left;border-bottom:2px solid #d0d7de}\
                     th,td{padding:4px 10px}td{border-bottom:1px solid #eaeef2}\
                     .num{text-align:right}.ok{color:#1a7f37}.warn{color:#9a6700}\
                     .bad{color:#cf222e}.muted{color:#59636e;font-size:13px}";

/// The classes that colour a figure by what it calls for.
const OK: &str = "ok";
const WARN: &str = "warn";
const BAD: &str = "bad";

/// The HTML part of the digest's mail.
pub fn html(digest: &Digest) -> String {
    let period = digest.request.period;
    let title = format!(
        "DMARC digest for {} to {} (UTC)",
        day(period.since),
        day(period.until - 1)
    );
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><h1>{title}</h1>"
    );
    if !digest.request.domains.is_empty() {
        let names: Vec<String> = digest.request.domains.iter().map(|d| escape(d)).collect();
        let _ = write!(out, "<p>Domains: {}</p>", names.join(", "));
    }
    if digest.is_quiet() {
        let _ = write!(
            out,
            "<h2>Nothing arrived</h2><p id=\"quiet\">{}</p>",
            escape(&quiet_notice(period))
        );
    } else {
        pass_shares(&mut out, digest);
        sources(
            &mut out,
            "new-sources",
            "New sources (first seen in the period)",
            &digest.new_sources,
            period,
        );
        sources(
            &mut out,
            "failing-sources",
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
    let _ = write!(
        out,
        "<h2>Policy readiness</h2><p class=\"muted\">Reports of the {} \
         days to {}.</p>",
        READINESS_DAYS.max((period.until - period.since) / DAY),
        day(period.until - 1)
    );
    readiness(&mut out, &digest.readiness);
    let _ = writeln!(
        out,
        "<p class=\"muted\">Sent by dmarc-sink {} \
         every week, quiet or not. Charts of the period: <code>dmarc-sink html --since {} \
         --until {} --out digest.html</code></p></body></html>",
        env!("CARGO_PKG_VERSION"),
        rfc3339(period.since),
        rfc3339(period.until),
    );
    out
}

/// A table's head row from its column titles; a title starting with `#`
/// is a number column.
fn head(out: &mut String, id: &str, titles: &[&str]) {
    let _ = write!(out, "<table id=\"{id}\"><thead><tr>");
    for title in titles {
        match title.strip_prefix('#') {
            Some(title) => {
                let _ = write!(out, "<th class=\"num\">{title}</th>");
            }
            None => {
                let _ = write!(out, "<th>{title}</th>");
            }
        }
    }
    out.push_str("</tr></thead><tbody>");
}

fn cell(out: &mut String, text: &str) {
    let _ = write!(out, "<td>{}</td>", escape(text));
}

fn number(out: &mut String, text: &str) {
    let _ = write!(out, "<td class=\"num\">{}</td>", escape(text));
}

fn pass_shares(out: &mut String, digest: &Digest) {
    let _ = write!(
        out,
        "<h2>DMARC pass per domain, against the period before</h2>"
    );
    if digest.domains.is_empty() {
        out.push_str("<p>No DMARC aggregate report in the period.</p>");
        return;
    }
    head(
        out,
        "pass-shares",
        &["Domain", "#Messages", "#DMARC pass", "#Before", "#Change"],
    );
    for d in &digest.domains {
        out.push_str("<tr>");
        cell(out, &d.policy_domain);
        number(out, &count(d.figures.messages));
        number(out, &percent(d.figures.dmarc_pass_share));
        number(
            out,
            &d.before
                .map_or("–".to_owned(), |b| percent(b.dmarc_pass_share)),
        );
        let style = match d.change() {
            Some(c) if c < -0.0005 => BAD,
            Some(c) if c > 0.0005 => OK,
            _ => "",
        };
        let _ = write!(
            out,
            "<td class=\"num {style}\">{}</td></tr>",
            escape(&change(d))
        );
    }
    out.push_str("</tbody></table>");
}

fn sources(out: &mut String, id: &str, title: &str, all: &[Source], period: Period) {
    let _ = write!(out, "<h2>{title}</h2>");
    if all.is_empty() {
        out.push_str("<p>None.</p>");
        return;
    }
    head(
        out,
        id,
        &[
            "Domain",
            "Source",
            "Name",
            "#Messages",
            "#Failing",
            "#DMARC pass",
            "Diagnosis",
        ],
    );
    let mut more = Vec::new();
    for (domain, group) in per_domain(all) {
        for s in group.iter().take(SOURCES_SHOWN) {
            out.push_str("<tr>");
            cell(out, domain);
            cell(out, &s.source_ip);
            cell(out, s.name.as_deref().unwrap_or("–"));
            number(out, &count(s.figures.messages));
            number(out, &count(s.figures.messages - s.figures.dmarc_pass));
            number(out, &percent(s.figures.dmarc_pass_share));
            let style = if s.diagnosis.code.is_legitimate() {
                WARN
            } else {
                BAD
            };
            let _ = write!(
                out,
                "<td><b class=\"{style}\">{}</b> {}</td></tr>",
                s.diagnosis.code.as_str(),
                escape(&s.diagnosis.message)
            );
        }
        if group.len() > SOURCES_SHOWN {
            more.push((domain, group.len() - SOURCES_SHOWN));
        }
    }
    out.push_str("</tbody></table>");
    for (domain, hidden) in more {
        let _ = write!(
            out,
            "<p>… and {hidden} more for {}: <code>dmarc-sink sources --domain {} --since {} \
             --until {}</code> lists them all.</p>",
            escape(domain),
            escape(domain),
            rfc3339(period.since),
            rfc3339(period.until)
        );
    }
}

fn left_out(out: &mut String, digest: &Digest) {
    let _ = write!(out, "<h2>Left out as unauthenticated</h2>");
    if digest.left_out.is_empty() {
        out.push_str("<p>None: every report came from report mail that authenticated.</p>");
        return;
    }
    out.push_str(
        "<p>Reports from senders whose report mail did not authenticate; they are not \
         counted above (<code>--include-unauthenticated</code> counts them):</p><ul id=\"left-out\">",
    );
    for l in &digest.left_out {
        let _ = write!(
            out,
            "<li><b>{}</b>: {} in {}</li>",
            escape(&l.policy_domain),
            plural(l.reports, "report"),
            plural(l.messages, "message")
        );
    }
    out.push_str("</ul>");
}

fn silence(out: &mut String, digest: &Digest) {
    let _ = write!(out, "<h2>Silent reporters and domains</h2>");
    if digest.silent_reporters.is_empty() && digest.silent_domains.is_empty() {
        out.push_str("<p>None: every regular reporter is still reporting.</p>");
        return;
    }
    out.push_str("<ul id=\"silent\">");
    for s in &digest.silent_reporters {
        let _ = write!(
            out,
            "<li class=\"warn\"><b>{}</b>: {} reported on {} of the last 30 days and has \
             sent nothing since its report up to {}</li>",
            escape(&s.policy_domain),
            escape(&s.org_name),
            s.days_reported,
            day(s.last_report - 1)
        );
    }
    for s in &digest.silent_domains {
        let _ = write!(
            out,
            "<li class=\"bad\"><b>{}</b>: no report at all since the one up to {}</li>",
            escape(&s.policy_domain),
            day(s.last_report - 1)
        );
    }
    out.push_str("</ul>");
}

fn tls_failures(out: &mut String, digest: &Digest) {
    let _ = write!(out, "<h2>TLS failures by receiving MX</h2>");
    let with_tls: Vec<_> = digest
        .summary
        .iter()
        .filter_map(|d| d.tls.as_ref().map(|t| (&d.policy_domain, t)))
        .collect();
    if with_tls.is_empty() {
        out.push_str("<p>No SMTP TLS report in the period.</p>");
        return;
    }
    for (domain, tls) in with_tls {
        let style = if tls.failed_sessions == 0 { OK } else { BAD };
        let _ = write!(
            out,
            "<p><b>{}</b>: <span class=\"{style}\">{} of {} TLS sessions failed ({})</span></p>",
            escape(domain),
            count(tls.failed_sessions),
            count(tls.successful_sessions + tls.failed_sessions),
            percent(tls.failed_share)
        );
        let mx: Vec<_> = digest
            .tls_failures
            .iter()
            .filter(|m| &m.policy_domain == domain)
            .collect();
        if mx.is_empty() {
            continue;
        }
        head(
            out,
            "tls-failures",
            &["Receiving MX", "#Failed sessions", "Result types"],
        );
        for m in mx {
            out.push_str("<tr>");
            cell(out, m.receiving_mx.as_deref().unwrap_or("(no MX named)"));
            number(out, &count(m.failed_sessions));
            let types: Vec<String> = m
                .result_types
                .iter()
                .map(|r| format!("{} {}", r.result_type, count(r.failed_sessions)))
                .collect();
            cell(out, &types.join(", "));
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
    }
}

fn readiness(out: &mut String, all: &[Readiness]) {
    if all.is_empty() {
        out.push_str("<p>No DMARC aggregate report in those days.</p>");
        return;
    }
    for r in all {
        let (style, verdict) = match &r.next {
            None => (OK, "at p=reject: the end of the road".to_owned()),
            Some(step) if r.ready => (OK, format!("ready for p={}", step.p)),
            Some(step) => (WARN, format!("not ready for p={}", step.p)),
        };
        let _ = write!(
            out,
            "<div class=\"readiness\"><p><b>{}</b>: <b class=\"{style}\">{}</b></p>",
            escape(&r.policy_domain),
            escape(&verdict)
        );
        if let Some(step) = &r.next {
            let label = if r.ready {
                "Publish"
            } else {
                "Next, once ready"
            };
            let _ = write!(out, "<p>{label}: <code>{}</code></p>", escape(&step.record));
        }
        out.push_str("<ul>");
        for reason in &r.reasons {
            let _ = write!(out, "<li>{}</li>", escape(reason));
        }
        out.push_str("</ul></div>");
    }
}
