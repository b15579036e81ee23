//! The digest as HTML for mail clients: the same sections as the text,
//! as tables. One small style sheet in the head (mail clients keep that,
//! not linked ones), no script, nothing loaded; it reads well unstyled too.
//!
//! Every string from the store is a reporter's choice and goes through
//! [`escape`] where it is written.

use super::text::{
    change, domains, footer, html_command, labelled, left_out_counts, quiet_notice, readiness_days,
    silent_domain, silent_reporter, sources_command, title, tls_failed,
};
use super::{Digest, Period, SOURCES_SHOWN, per_domain};
use crate::i18n::{FluentValue, Messages};
use crate::insight::html::escape;
use crate::insight::policy::Readiness;
use crate::insight::sources::Source;
use std::fmt::Write;

/// Nothing may be fetched, should a client honour it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";
/// Mail clients keep a `<style>` in the head; kept small, as some clip
/// long mails. The Japanese fonts come after the Latin ones, so English
/// looks as before and Japanese finds a font on every system; Japanese
/// may break between any two characters, so its column titles are kept
/// on one line rather than stacked a character a line.
const STYLE: &str = "body{margin:0;padding:16px;font:15px/1.45 -apple-system,'Segoe UI',\
                     Helvetica,Arial,'Hiragino Sans','Yu Gothic',Meiryo,'Noto Sans CJK JP',\
                     sans-serif;color:#1f2328;background:#fff}\
                     h1{font-size:21px}h2{font-size:17px;margin:24px 0 8px;\
                     border-bottom:1px solid #d0d7de}table{border-collapse:collapse;\
                     font-size:14px}th{text-align:left;border-bottom:2px solid #d0d7de}\
                     th,td{padding:4px 10px}td{border-bottom:1px solid #eaeef2}\
                     .num{text-align:right}.ok{color:#1a7f37}.warn{color:#9a6700}\
                     .bad{color:#cf222e}.muted{color:#59636e;font-size:13px}\
                     html[lang=ja] th{white-space:nowrap}";

/// The classes that colour a figure by what it calls for.
const OK: &str = "ok";
const WARN: &str = "warn";
const BAD: &str = "bad";

/// The HTML part of the digest's mail, in `messages`' language.
pub fn html(digest: &Digest, messages: &Messages) -> String {
    let period = digest.request.period;
    let title = title(period, messages);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><h1>{title}</h1>",
        messages.lang().as_str()
    );
    if !digest.request.domains.is_empty() {
        let names: Vec<String> = digest.request.domains.iter().map(|d| escape(d)).collect();
        let _ = write!(out, "<p>{}</p>", domains(&names, messages));
    }
    if digest.is_quiet() {
        let _ = write!(
            out,
            "<h2>{}</h2><p id=\"quiet\">{}</p>",
            messages.text("digest-quiet-heading"),
            escape(&quiet_notice(period, messages))
        );
    } else {
        pass_shares(&mut out, digest, messages);
        sources(
            &mut out,
            "new-sources",
            &messages.text("digest-new-heading"),
            &digest.new_sources,
            period,
            messages,
        );
        sources(
            &mut out,
            "failing-sources",
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
    let _ = write!(
        out,
        "<h2>{}</h2><p class=\"muted\">{}</p>",
        messages.text("digest-readiness-heading"),
        messages.format("digest-readiness-days", &readiness_days(period, messages))
    );
    readiness(&mut out, &digest.readiness, messages);
    let command = format!("<code>{}</code>", html_command(period));
    let _ = writeln!(
        out,
        "<p class=\"muted\">{}</p></body></html>",
        footer(&command, messages)
    );
    out
}

/// The column titles of `ids` in the digest's language, each keeping the
/// `#` that marks a number column.
fn titles(messages: &Messages, ids: &[&str]) -> Vec<String> {
    ids.iter()
        .map(|id| match id.strip_prefix('#') {
            Some(id) => format!("#{}", messages.text(id)),
            None => messages.text(id),
        })
        .collect()
}

/// A table's head row from its column titles; a title starting with `#`
/// is a number column.
fn head(out: &mut String, id: &str, titles: &[String]) {
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

fn pass_shares(out: &mut String, digest: &Digest, messages: &Messages) {
    let _ = write!(out, "<h2>{}</h2>", messages.text("digest-pass-heading"));
    if digest.domains.is_empty() {
        let _ = write!(out, "<p>{}</p>", messages.text("digest-no-aggregate"));
        return;
    }
    head(
        out,
        "pass-shares",
        &titles(
            messages,
            &[
                "digest-column-domain",
                "#digest-column-messages",
                "#digest-column-dmarc-pass",
                "#digest-column-before",
                "#digest-column-change",
            ],
        ),
    );
    for d in &digest.domains {
        out.push_str("<tr>");
        cell(out, &d.policy_domain);
        number(out, &messages.count(d.figures.messages));
        number(out, &messages.percent(d.figures.dmarc_pass_share));
        number(
            out,
            &d.before
                .map_or("–".to_owned(), |b| messages.percent(b.dmarc_pass_share)),
        );
        let style = match d.change() {
            Some(c) if c < -0.0005 => BAD,
            Some(c) if c > 0.0005 => OK,
            _ => "",
        };
        let _ = write!(
            out,
            "<td class=\"num {style}\">{}</td></tr>",
            escape(&change(d, messages))
        );
    }
    out.push_str("</tbody></table>");
}

fn sources(
    out: &mut String,
    id: &str,
    title: &str,
    all: &[Source],
    period: Period,
    messages: &Messages,
) {
    let _ = write!(out, "<h2>{title}</h2>");
    if all.is_empty() {
        let _ = write!(out, "<p>{}</p>", messages.text("digest-none"));
        return;
    }
    head(
        out,
        id,
        &titles(
            messages,
            &[
                "digest-column-domain",
                "digest-column-source",
                "digest-column-name",
                "#digest-column-messages",
                "#digest-column-failing",
                "#digest-column-dmarc-pass",
                "digest-column-diagnosis",
            ],
        ),
    );
    let mut more = Vec::new();
    for (domain, group) in per_domain(all) {
        for s in group.iter().take(SOURCES_SHOWN) {
            out.push_str("<tr>");
            cell(out, domain);
            cell(out, &s.source_ip);
            cell(out, s.name.as_deref().unwrap_or("–"));
            number(out, &messages.count(s.figures.messages));
            number(
                out,
                &messages.count(s.figures.messages - s.figures.dmarc_pass),
            );
            number(out, &messages.percent(s.figures.dmarc_pass_share));
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
        let command = format!("<code>{}</code>", escape(&sources_command(domain, period)));
        let _ = write!(
            out,
            "<p>{}</p>",
            messages.format(
                "digest-more-sources-of",
                &[
                    ("n", FluentValue::from(hidden as i64)),
                    ("domain", FluentValue::from(escape(domain))),
                    ("command", FluentValue::from(command)),
                ],
            )
        );
    }
}

fn left_out(out: &mut String, digest: &Digest, messages: &Messages) {
    let _ = write!(out, "<h2>{}</h2>", messages.text("digest-left-out-heading"));
    if digest.left_out.is_empty() {
        let _ = write!(out, "<p>{}</p>", messages.text("digest-left-out-none"));
        return;
    }
    let flag = FluentValue::from("<code>--include-unauthenticated</code>");
    let _ = write!(
        out,
        "<p>{}</p><ul id=\"left-out\">",
        messages.format("digest-left-out-text", &[("flag", flag)])
    );
    for l in &digest.left_out {
        let domain = format!("<b>{}</b>", escape(&l.policy_domain));
        let counts = left_out_counts(l.reports, l.messages, messages);
        let _ = write!(out, "<li>{}</li>", labelled(&domain, &counts, messages));
    }
    out.push_str("</ul>");
}

fn silence(out: &mut String, digest: &Digest, messages: &Messages) {
    let _ = write!(out, "<h2>{}</h2>", messages.text("digest-silent-heading"));
    if digest.silent_reporters.is_empty() && digest.silent_domains.is_empty() {
        let _ = write!(out, "<p>{}</p>", messages.text("digest-silent-none"));
        return;
    }
    out.push_str("<ul id=\"silent\">");
    let bold = |domain: &str| format!("<b>{}</b>", escape(domain));
    for s in &digest.silent_reporters {
        let _ = write!(
            out,
            "<li class=\"warn\">{}</li>",
            silent_reporter(
                bold(&s.policy_domain),
                escape(&s.org_name),
                s.days_reported,
                s.last_report,
                messages
            )
        );
    }
    for s in &digest.silent_domains {
        let _ = write!(
            out,
            "<li class=\"bad\">{}</li>",
            silent_domain(bold(&s.policy_domain), s.last_report, messages)
        );
    }
    out.push_str("</ul>");
}

fn tls_failures(out: &mut String, digest: &Digest, messages: &Messages) {
    let _ = write!(out, "<h2>{}</h2>", messages.text("digest-tls-heading"));
    let with_tls: Vec<_> = digest
        .summary
        .iter()
        .filter_map(|d| d.tls.as_ref().map(|t| (&d.policy_domain, t)))
        .collect();
    if with_tls.is_empty() {
        let _ = write!(out, "<p>{}</p>", messages.text("digest-no-tls"));
        return;
    }
    for (domain, tls) in with_tls {
        let style = if tls.failed_sessions == 0 { OK } else { BAD };
        let failed = format!(
            "<span class=\"{style}\">{}</span>",
            tls_failed(
                tls.failed_sessions,
                tls.successful_sessions + tls.failed_sessions,
                tls.failed_share,
                messages
            )
        );
        let domain_name = format!("<b>{}</b>", escape(domain));
        let _ = write!(out, "<p>{}</p>", labelled(&domain_name, &failed, messages));
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
            &titles(
                messages,
                &[
                    "digest-column-receiving-mx",
                    "#digest-column-failed-sessions",
                    "digest-column-result-types",
                ],
            ),
        );
        let no_mx = messages.text("digest-no-mx-named");
        for m in mx {
            out.push_str("<tr>");
            cell(out, m.receiving_mx.as_deref().unwrap_or(&no_mx));
            number(out, &messages.count(m.failed_sessions));
            let types: Vec<String> = m
                .result_types
                .iter()
                .map(|r| format!("{} {}", r.result_type, messages.count(r.failed_sessions)))
                .collect();
            cell(out, &types.join(", "));
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
    }
}

fn readiness(out: &mut String, all: &[Readiness], messages: &Messages) {
    if all.is_empty() {
        let _ = write!(out, "<p>{}</p>", messages.text("digest-readiness-none"));
        return;
    }
    for r in all {
        let p = |step: &crate::insight::policy::Step| [("p", FluentValue::from(step.p.clone()))];
        let (style, verdict) = match &r.next {
            None => (OK, messages.text("digest-readiness-at-end")),
            Some(step) if r.ready => (OK, messages.format("digest-readiness-ready", &p(step))),
            Some(step) => (
                WARN,
                messages.format("digest-readiness-not-ready", &p(step)),
            ),
        };
        let domain = format!("<b>{}</b>", escape(&r.policy_domain));
        let verdict = format!("<b class=\"{style}\">{}</b>", escape(&verdict));
        let _ = write!(
            out,
            "<div class=\"readiness\"><p>{}</p>",
            labelled(&domain, &verdict, messages)
        );
        if let Some(step) = &r.next {
            let id = if r.ready {
                "digest-readiness-publish"
            } else {
                "digest-readiness-next"
            };
            let record = format!("<code>{}</code>", escape(&step.record));
            let _ = write!(
                out,
                "<p>{}</p>",
                messages.format(id, &[("record", FluentValue::from(record))])
            );
        }
        out.push_str("<ul>");
        for reason in &r.reasons {
            let _ = write!(out, "<li>{}</li>", escape(reason));
        }
        out.push_str("</ul></div>");
    }
}
