//! The page's "DNS checks" card (`html --check-dns`): each domain's checks
//! (see `crate::check`), a row each.

use super::text::escape;
use crate::check::{DomainChecks, Status};
use std::fmt::Write;

pub fn card(out: &mut String, domains: &[DomainChecks]) {
    if domains.is_empty() {
        return;
    }
    out.push_str("<section class=\"card dns-checks\"><h2>DNS checks</h2>");
    for domain in domains {
        let _ = write!(
            out,
            "<h3>{}</h3><table><thead><tr><th>status</th><th>check</th><th>found</th>\
             <th>fix</th></tr></thead><tbody>",
            escape(&domain.domain)
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
