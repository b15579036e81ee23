//! A domain's top sources as an HTML table: who sends, how much, how it
//! fares, and the diagnosis with its fix. Rows are tinted by how much the
//! diagnosis calls for action, so the failing sources stand out.

use super::text::escape;
use crate::insight::diagnosis::Code;
use crate::insight::sources::Source;
use crate::insight::{count, percent};
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
fn meter(share: f64, class: &str) -> String {
    let text = percent(share);
    format!(
        "<span class=\"share {class}\">{text}</span>\
         <span class=\"meter\"><span class=\"{class}\" style=\"width:{text}\"></span></span>"
    )
}

/// The first `shown` of `sources` (one domain's, most messages first) as a
/// table, with a line naming how many more there are.
pub fn sources_table(domain: &str, sources: &[&Source], shown: usize) -> String {
    let mut out = String::from(
        "<div class=\"scroll\"><table class=\"sources\"><thead><tr>\
         <th>Source</th><th class=\"num\">Messages</th><th class=\"num\">DMARC</th>\
         <th class=\"num\">DKIM</th><th class=\"num\">SPF</th><th>Diagnosis</th>\
         </tr></thead><tbody>",
    );
    for s in sources.iter().take(shown) {
        let code = s.diagnosis.code;
        let name = match (&s.name, &s.reverse_dns) {
            (Some(name), Some(rdns)) if name != rdns => {
                format!("{}<br>{}", escape(name), escape(rdns))
            }
            (Some(name), _) => escape(name),
            (None, _) => "unnamed".to_owned(),
        };
        let _ = write!(
            out,
            "<tr class=\"{}\"><td><span class=\"ip\">{}</span><span class=\"name\">{name}</span></td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td><span class=\"code {}\">{}</span> {}</td></tr>",
            severity(code),
            escape(&s.source_ip),
            count(s.figures.messages),
            meter(
                s.figures.dmarc_pass_share,
                pass_class(s.figures.dmarc_pass_share)
            ),
            meter(s.figures.dkim_aligned_share, "plain"),
            meter(s.figures.spf_aligned_share, "plain"),
            severity(code),
            code.as_str(),
            escape(&s.diagnosis.message),
        );
    }
    out.push_str("</tbody></table></div>");
    if sources.len() > shown {
        let _ = write!(
            out,
            "<p class=\"more\">… and {} more sources: <code>dmarc-sink sources --domain {} \
             --limit 0</code> lists them all.</p>",
            count((sources.len() - shown) as i64),
            escape(domain)
        );
    }
    out
}
