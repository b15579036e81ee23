//! `summary`, `sources` and `policy` as CSV: one row per item, the
//! fields named as in the JSON.

use crate::insight::Figures;
use crate::insight::policy::Readiness;
use crate::insight::sources::Source;
use crate::insight::summary::DomainSummary;

/// The fields of a CSV output: names for the header and how to read each
/// from an item, written once so that the two cannot drift apart.
struct Fields<T> {
    fields: Vec<(&'static str, Cell<T>)>,
}

/// How one field's cell is read from an item.
type Cell<T> = Box<dyn Fn(&T) -> String>;

impl<T: 'static> Fields<T> {
    fn new() -> Self {
        Fields { fields: Vec::new() }
    }

    fn add(mut self, name: &'static str, value: impl Fn(&T) -> String + 'static) -> Self {
        self.fields.push((name, Box::new(value)));
        self
    }

    /// The fields of [`Figures`], named as in the JSON (dispositions as
    /// `disposition_none`, ...).
    fn figures(self, figures: fn(&T) -> &Figures) -> Self {
        self.add("messages", move |t| figures(t).messages.to_string())
            .add("dmarc_pass", move |t| figures(t).dmarc_pass.to_string())
            .add("dmarc_pass_share", move |t| {
                figures(t).dmarc_pass_share.to_string()
            })
            .add("dkim_aligned_pass", move |t| {
                figures(t).dkim_aligned_pass.to_string()
            })
            .add("dkim_aligned_share", move |t| {
                figures(t).dkim_aligned_share.to_string()
            })
            .add("spf_aligned_pass", move |t| {
                figures(t).spf_aligned_pass.to_string()
            })
            .add("spf_aligned_share", move |t| {
                figures(t).spf_aligned_share.to_string()
            })
            .add("disposition_none", move |t| {
                figures(t).dispositions.none.to_string()
            })
            .add("disposition_quarantine", move |t| {
                figures(t).dispositions.quarantine.to_string()
            })
            .add("disposition_reject", move |t| {
                figures(t).dispositions.reject.to_string()
            })
    }

    /// `items` as CSV, with a header line.
    fn csv(&self, items: &[T]) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record(self.fields.iter().map(|(name, _)| name))
            .expect("writing to memory");
        for item in items {
            writer
                .write_record(self.fields.iter().map(|(_, value)| inert(value(item))))
                .expect("writing to memory");
        }
        String::from_utf8(writer.into_inner().expect("writing to memory"))
            .expect("CSV of UTF-8 is UTF-8")
    }
}

/// A cell a spreadsheet will not run: one that begins with `=`, `+`, `-`,
/// `@`, a tab or a carriage return (a formula, to Excel and its kin) gets a
/// `'` before it, unless it is a number. Report strings are a stranger's.
fn inert(cell: String) -> String {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && cell.parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell
    }
}

/// An optional value as a CSV cell: empty when absent.
fn opt<T: ToString>(value: Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// `summary` as CSV, one row per domain; the `tls_*` and `failure_*`
/// cells are empty for a domain without such reports.
pub fn summary_csv(domains: &[DomainSummary]) -> String {
    Fields::<DomainSummary>::new()
        .add("policy_domain", |d| d.policy_domain.clone())
        .add("reports", |d| d.reports.to_string())
        .figures(|d| &d.figures)
        .add("reporters", |d| d.reporters.to_string())
        .add("period_begin", |d| opt(d.period.as_ref().map(|p| &p.begin)))
        .add("period_end", |d| opt(d.period.as_ref().map(|p| &p.end)))
        .add("policy_p", |d| {
            opt(d.policy.as_ref().and_then(|p| p.p.as_ref()))
        })
        .add("policy_pct", |d| opt(d.policy.as_ref().and_then(|p| p.pct)))
        .add("policy_record", |d| {
            opt(d.policy.as_ref().map(|p| &p.record))
        })
        .add("tls_reports", |d| opt(d.tls.as_ref().map(|t| t.reports)))
        .add("tls_successful_sessions", |d| {
            opt(d.tls.as_ref().map(|t| t.successful_sessions))
        })
        .add("tls_failed_sessions", |d| {
            opt(d.tls.as_ref().map(|t| t.failed_sessions))
        })
        .add("tls_failed_share", |d| {
            opt(d.tls.as_ref().map(|t| t.failed_share))
        })
        .add("failure_reports", |d| {
            opt(d.failure_reports.as_ref().map(|f| f.reports))
        })
        .add("failure_incidents", |d| {
            opt(d.failure_reports.as_ref().map(|f| f.incidents))
        })
        .add("failure_last_arrival", |d| {
            opt(d.failure_reports.as_ref().map(|f| &f.last_arrival))
        })
        .csv(domains)
}

/// `sources` as CSV, one row per aggregate source; lists joined with
/// ` | `. The TLS failures and failure reports have columns of their own
/// and are in the table and JSON forms only: one CSV holds one table.
pub fn sources_csv(sources: &[Source]) -> String {
    Fields::<Source>::new()
        .add("policy_domain", |s| s.policy_domain.clone())
        .add("source_ip", |s| s.source_ip.clone())
        .add("name", |s| opt(s.name.as_ref()))
        .add("provider", |s| opt(s.provider))
        .add("reverse_dns", |s| opt(s.reverse_dns.as_ref()))
        .figures(|s| &s.figures)
        .add("reporters", |s| s.reporters.to_string())
        .add("first_seen", |s| s.first_seen.clone())
        .add("last_seen", |s| s.last_seen.clone())
        .add("dkim_domains", |s| s.dkim_domains.join(" | "))
        .add("spf_domains", |s| s.spf_domains.join(" | "))
        .add("diagnosis", |s| s.diagnosis.code.as_str().to_owned())
        .add("diagnosis_message", |s| s.diagnosis.message.clone())
        .add("standing", |s| s.standing.as_str().to_owned())
        .add("approved_as", |s| opt(s.approved_as.as_ref()))
        .csv(sources)
}

/// `policy` as CSV, one row per domain; the affected sources as their
/// number, reasons joined with ` | `.
pub fn policy_csv(domains: &[Readiness]) -> String {
    Fields::<Readiness>::new()
        .add("policy_domain", |r| r.policy_domain.clone())
        .add("ready", |r| r.ready.to_string())
        .add("current_record", |r| {
            opt(r.current.as_ref().map(|c| &c.record))
        })
        .add("next_record", |r| opt(r.next.as_ref().map(|n| &n.record)))
        .add("messages", |r| r.messages.to_string())
        .add("days_covered", |r| r.days_covered.to_string())
        .add("failing_messages", |r| r.failing_messages.to_string())
        .add("legitimate_failing_messages", |r| {
            r.legitimate_failing_messages.to_string()
        })
        .add("legitimate_failure_share", |r| {
            r.legitimate_failure_share.to_string()
        })
        .add("unauthorised_messages", |r| {
            r.unauthorised_messages.to_string()
        })
        .add("affected_sources", |r| r.affected_sources.len().to_string())
        .add("reasons", |r| r.reasons.join(" | "))
        .csv(domains)
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn formulas_are_neutralised_numbers_kept() {
        assert_eq!(inert("=HYPERLINK(\"x\")".into()), "'=HYPERLINK(\"x\")");
        assert_eq!(inert("@SUM(A1)".into()), "'@SUM(A1)");
        assert_eq!(inert("+1+1".into()), "'+1+1");
        assert_eq!(inert("\tcmd".into()), "'\tcmd");
        assert_eq!(inert("-0.5".into()), "-0.5");
        assert_eq!(inert("example.com".into()), "example.com");
    }
}
