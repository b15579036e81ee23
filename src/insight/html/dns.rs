//! The page's "DNS checks" card (`html --check-dns`): each domain's checks
//! (see `crate::check`), a row each.

use super::text::escape;
use crate::check::{DomainChecks, Status};
use crate::i18n::Messages;
use std::fmt::Write;

/// The card; the checks' messages and fixes come in the page's language,
/// their statuses and ids stay as `check-dns` prints them.
pub fn card(out: &mut String, domains: &[DomainChecks], messages: &Messages) {
    if domains.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section class=\"card dns-checks\"><h2>{}</h2>",
        messages.text("html-dns-heading")
    );
    for domain in domains {
        let _ = write!(
            out,
            "<h3>{}</h3><table><thead><tr><th>{}</th><th>{}</th><th>{}</th>\
             <th>{}</th></tr></thead><tbody>",
            escape(&domain.domain),
            messages.text("html-dns-column-status"),
            messages.text("html-dns-column-check"),
            messages.text("html-dns-column-found"),
            messages.text("html-dns-column-fix"),
        );
        for check in &domain.checks {
            let class = match check.status {
                Status::Ok => "ok",
                Status::Warn => "warn",
                Status::Fail | Status::Error => "bad",
            };
            let _ = write!(
                out,
                "<tr><td class=\"share {class}\">{}</td><td><code>{}</code></td><td>{}</td>\
                 <td>{}</td></tr>",
                check.status.as_str(),
                check.id.as_str(),
                escape(&check.message),
                escape(check.fix.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
}
