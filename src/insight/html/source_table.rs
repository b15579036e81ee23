//! A domain's top sources as an HTML table: who sends, how much, how it
//! fares, and the diagnosis with its fix. Rows are tinted by how much the
//! diagnosis calls for action, so the failing sources stand out.

use super::text::escape;
use crate::i18n::{FluentValue, Messages};
use crate::insight::diagnosis::Code;
use crate::insight::sources::Source;
use std::fmt::Write;

/// How urgently a diagnosis asks for action: the row's CSS class.
fn severity(code: Code) -> &'static str {
    match code {
        Code::Unauthorised | Code::OftenFails | Code::DkimFailing => "bad",
        Code::DkimNotAligned | Code::SpfNotAligned | Code::DkimMissing => "warn",
        Code::Aligned | Code::MostlyAligned | Code::Forwarded => "ok",
    }
}

/// The class of a DMARC pass share: the same thresholds a person reads
/// into it (all but forwarding passes, most passes, too much fails).
fn pass_class(share: f64) -> &'static str {
    if share >= 0.98 {
        "ok"
    } else if share >= 0.9 {
        "warn"
    } else {
        "bad"
    }
}

/// A share as text over a thin bar.
fn meter(share: f64, class: &str, messages: &Messages) -> String {
    let text = messages.percent(share);
    format!(
        "<span class=\"share {class}\">{text}</span>\
         <span class=\"meter\"><span class=\"{class}\" style=\"width:{text}\"></span></span>"
    )
}

/// The first `shown` of `sources` (one domain's, most messages first) as a
/// table, with a line naming how many more there are.
pub fn sources_table(
    domain: &str,
    sources: &[&Source],
    shown: usize,
    messages: &Messages,
) -> String {
    let mut out = format!(
        "<div class=\"scroll\"><table class=\"sources\"><thead><tr>\
         <th>{}</th><th class=\"num\">{}</th><th class=\"num\">DMARC</th>\
         <th class=\"num\">DKIM</th><th class=\"num\">SPF</th><th>{}</th>\
         </tr></thead><tbody>",
        messages.text("html-column-source"),
        messages.text("html-column-messages"),
        messages.text("html-column-diagnosis"),
    );
    for s in sources.iter().take(shown) {
        let code = s.diagnosis.code;
        let name = match (&s.name, &s.reverse_dns) {
            (Some(name), Some(rdns)) if name != rdns => {
                format!("{}<br>{}", escape(name), escape(rdns))
            }
            (Some(name), _) => escape(name),
            (None, _) => messages.text("html-unnamed"),
        };
        let _ = write!(
            out,
            "<tr class=\"{}\"><td><span class=\"ip\">{}</span><span class=\"name\">{name}</span></td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td><span class=\"code {}\">{}</span> {}</td></tr>",
            severity(code),
            escape(&s.source_ip),
            messages.count(s.figures.messages),
            meter(
                s.figures.dmarc_pass_share,
                pass_class(s.figures.dmarc_pass_share),
                messages
            ),
            meter(s.figures.dkim_aligned_share, "plain", messages),
            meter(s.figures.spf_aligned_share, "plain", messages),
            severity(code),
            code.as_str(),
            escape(&s.diagnosis.message),
        );
    }
    out.push_str("</tbody></table></div>");
    if sources.len() > shown {
        let _ = write!(
            out,
            "<p class=\"more\">{}</p>",
            more("html-more-sources", sources.len() - shown, domain, messages)
        );
    }
    out
}

/// The line under a table cut at its first rows: `id` (one of the
/// `html-more-*` messages) with how many rows are `hidden` and the command
/// that lists `domain`'s all.
pub fn more(id: &str, hidden: usize, domain: &str, messages: &Messages) -> String {
    let command = format!(
        "<code>dmarc-sink sources --domain {} --limit 0</code>",
        escape(domain)
    );
    messages.format(
        id,
        &[
            ("n", FluentValue::from(hidden as i64)),
            ("command", FluentValue::from(command)),
        ],
    )
}
