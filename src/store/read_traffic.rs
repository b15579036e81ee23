//! What the reports say of one domain's senders, for `check-dns`: the DKIM
//! selectors seen, the sources that pass or fail SPF, and the envelope
//! domains SPF passed for. Reports from unauthenticated messages and
//! superseded ones are left out, as everywhere.

use super::read::Scope;
use super::{Store, StoreError};

/// A DKIM selector of the domain (or a subdomain) that reports saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorSeen {
    /// The signing domain (`d=`), lower-cased.
    pub domain: String,
    pub selector: String,
    /// Messages whose signature of it passed, and those whose did not.
    pub passed: i64,
    pub failed: i64,
    /// The first report range's begin and the last one's end (unix seconds).
    pub first_seen: i64,
    pub last_seen: i64,
}

/// A sending address and the messages reports counted from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSeen {
    pub source_ip: String,
    pub messages: i64,
}

/// An envelope (SPF) domain that is not the policy domain's, for which SPF
/// passed while aligned SPF failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignSpf {
    pub domain: String,
    pub sources: i64,
    pub messages: i64,
}

/// The scope of one domain since a time, as the insight commands read it.
fn scope_of(domain: &str, since: Option<i64>) -> Scope {
    Scope {
        domains: vec![domain.to_owned()],
        since,
        until: None,
        include_unauthenticated: false,
    }
}

impl Store {
    /// The selectors of `domain` and its subdomains the reports saw.
    pub fn dkim_selectors(
        &self,
        domain: &str,
        since: Option<i64>,
    ) -> Result<Vec<SelectorSeen>, StoreError> {
        let (condition, mut params) = scope_of(domain, since).condition();
        params.push((
            ":domain".into(),
            rusqlite::types::Value::Text(domain.to_ascii_lowercase()),
        ));
        let sql = format!(
            "SELECT lower(d.domain), d.selector,
                    sum(CASE WHEN d.result = 'pass' THEN rec.count ELSE 0 END),
                    sum(CASE WHEN d.result = 'pass' THEN 0 ELSE rec.count END),
                    min(rep.date_begin), max(rep.date_end)
             FROM reports rep JOIN records rec ON rec.report = rep.id
                  JOIN dkim_results d ON d.record = rec.id
             WHERE {condition} AND d.selector IS NOT NULL AND d.selector != ''
               AND dmarc_aligned(d.domain, :domain)
             GROUP BY 1, 2
             ORDER BY 1, 2"
        );
        self.query(&sql, &params, |row| {
            Ok(SelectorSeen {
                domain: row.get(0)?,
                selector: row.get(1)?,
                passed: row.get(2)?,
                failed: row.get(3)?,
                first_seen: row.get(4)?,
                last_seen: row.get(5)?,
            })
        })
    }

    /// Every source of `domain`, most messages first.
    pub fn domain_sources(
        &self,
        domain: &str,
        since: Option<i64>,
    ) -> Result<Vec<SourceSeen>, StoreError> {
        self.sources_where(domain, since, "1")
    }

    /// The sources of `domain` whose mail passes aligned DKIM but fails
    /// aligned SPF: senders of its own that its SPF record leaves out.
    pub fn dkim_only_sources(
        &self,
        domain: &str,
        since: Option<i64>,
    ) -> Result<Vec<SourceSeen>, StoreError> {
        self.sources_where(domain, since, "rec.dkim = 'pass' AND rec.spf IS NOT 'pass'")
    }

    fn sources_where(
        &self,
        domain: &str,
        since: Option<i64>,
        filter: &str,
    ) -> Result<Vec<SourceSeen>, StoreError> {
        let (condition, params) = scope_of(domain, since).condition();
        let sql = format!(
            "SELECT rec.source_ip, sum(rec.count)
             FROM reports rep JOIN records rec ON rec.report = rep.id
             WHERE {condition} AND {filter}
             GROUP BY 1
             ORDER BY 2 DESC, 1"
        );
        self.query(&sql, &params, |row| {
            Ok(SourceSeen {
                source_ip: row.get(0)?,
                messages: row.get(1)?,
            })
        })
    }

    /// The receiving MX hosts TLS failures named for `domain`.
    pub fn tls_failure_mx_hosts(
        &self,
        domain: &str,
        since: Option<i64>,
    ) -> Result<Vec<String>, StoreError> {
        let (condition, params) = scope_of(domain, since).condition_on(
            super::read::ReportTable::Superseded("rep"),
            "pol.policy_domain",
            "rep.date_begin",
        );
        let sql = format!(
            "SELECT DISTINCT lower(rtrim(f.receiving_mx_hostname, '.'))
             FROM tls_reports rep JOIN tls_policies pol ON pol.report = rep.id
                  JOIN tls_failures f ON f.policy = pol.id
             WHERE {condition} AND f.receiving_mx_hostname IS NOT NULL
             ORDER BY 1"
        );
        self.query(&sql, &params, |row| row.get(0))
    }

    /// The envelope domains outside `domain` for which SPF passed on mail
    /// whose aligned SPF failed: a provider's bounce domain (Amazon SES's
    /// `amazonses.com`) that a custom MAIL FROM domain would replace.
    pub fn foreign_spf_passes(
        &self,
        domain: &str,
        since: Option<i64>,
    ) -> Result<Vec<ForeignSpf>, StoreError> {
        let (condition, mut params) = scope_of(domain, since).condition();
        params.push((
            ":domain".into(),
            rusqlite::types::Value::Text(domain.to_ascii_lowercase()),
        ));
        let sql = format!(
            "SELECT lower(s.domain), count(DISTINCT rec.source_ip), sum(rec.count)
             FROM reports rep JOIN records rec ON rec.report = rep.id
                  JOIN spf_results s ON s.record = rec.id
             WHERE {condition} AND rec.spf IS NOT 'pass' AND s.result = 'pass'
               AND s.domain IS NOT NULL AND s.domain != ''
               AND NOT dmarc_aligned(s.domain, :domain)
             GROUP BY 1
             ORDER BY 3 DESC, 1"
        );
        self.query(&sql, &params, |row| {
            Ok(ForeignSpf {
                domain: row.get(0)?,
                sources: row.get(1)?,
                messages: row.get(2)?,
            })
        })
    }
}
