//! Who really sent a report mail: SPF, DKIM and DMARC of the message, over
//! DNS, before anything in it is believed.
//!
//! The sink's address is published (`rua=mailto:`), so anyone can mail it a
//! report. RFC 7489 §7.2.1.1 (RFC 9990 for DMARCbis) has reporters send mail
//! that passes DMARC, and the big ones do: they sign with DKIM aligned to
//! their From domain. A message is [`Trust::Authenticated`] when its From
//! domain's DMARC passes, or when that domain publishes no DMARC record and
//! a DKIM signature aligned with it verifies; [`Trust::Unchecked`] when DNS
//! failed in a way that could have changed that; [`Trust::Unauthenticated`]
//! otherwise. The rule is [`verdict::trust`], and nowhere else.
//!
//! The checks are mail-auth's (0.13: 0.14 on need mail-parser 1.0 and a
//! newer rustc). Its DMARC already discovers the record by the RFC 9989
//! tree walk; where it may differ from DMARCbis elsewhere (the policy it
//! would apply, reporting), nothing here depends on it: only whether the
//! From domain's identifiers pass aligned. Its resolver is hickory's, which
//! caches answers for their TTL, on a small tokio runtime of its own; the
//! SMTP sessions, which are threads, wait on it.
//!
//! This module reads no report and writes no SQL.

mod resolver;
mod results;
mod verdict;

pub use verdict::{Trust, aligned, of_report, reporter_domain};

use crate::config::DnsConfig;
use mail_auth::{
    AuthenticatedMessage, DkimResult, DmarcResult, MessageAuthenticator, SpfOutput, SpfResult,
    dmarc::verify::DmarcParameters, spf::verify::SpfParameters,
};
use std::net::IpAddr;
use std::time::Duration;

/// DKIM signatures checked at most: a report carries one or two; each
/// more may cost a DNS query, which a stranger's server can make slow.
const MAX_SIGNATURES: usize = 8;
/// The checks of one message get this many `[dns] timeout_ms` together
/// (20 s by default); past it the message is `unchecked`.
const CHECK_BUDGET_QUERIES: u64 = 10;

/// What was found out about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    pub trust: Trust,
    /// The results in RFC 8601 `Authentication-Results` syntax, without the
    /// field name and authserv-id: `spf=pass smtp.mailfrom=...; dkim=pass
    /// header.d=... header.s=...; dmarc=pass header.from=...`.
    pub results: String,
    /// The `d=` domains whose DKIM signatures verified, in order.
    pub dkim_domains: Vec<String>,
}

/// The SMTP client, as the session saw it.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub ip: IpAddr,
    /// The EHLO or HELO name.
    pub helo: &'a str,
    /// The envelope sender (MAIL FROM), empty for the null sender.
    pub mail_from: &'a str,
}

/// Why no authenticator could be made.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot start the DNS resolver: {0}")]
    Resolver(String),
}

/// Checks messages; one for the daemon, shared by every session.
pub struct Authenticator {
    checks: MessageAuthenticator,
    /// The longest all the checks of one message may take together.
    deadline: Duration,
    /// Drives the resolver's I/O; sessions block on it.
    runtime: tokio::runtime::Runtime,
    /// Our own name, as SPF's `%{r}` macro wants it.
    hostname: String,
}

impl Authenticator {
    /// An authenticator that resolves through `dns`.
    pub fn new(dns: &DnsConfig, hostname: &str) -> Result<Authenticator, AuthError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("dns")
            .enable_all()
            .build()
            .map_err(|e| AuthError::Resolver(e.to_string()))?;
        // hickory's resolver must be built inside a runtime.
        let checks = {
            let _entered = runtime.enter();
            resolver::build(dns)?
        };
        Ok(Authenticator {
            checks,
            deadline: Duration::from_millis(dns.timeout_ms.saturating_mul(CHECK_BUDGET_QUERIES)),
            runtime,
            hostname: hostname.to_owned(),
        })
    }

    /// Authenticates a message received from `client`: SPF for its address,
    /// HELO and MAIL FROM, every DKIM signature, DMARC for the From domain.
    /// Without a client (`import --authenticate`), DKIM alone: DMARC can
    /// then pass only by an aligned signature.
    pub fn authenticate(&self, raw: &[u8], client: Option<Client<'_>>) -> Authentication {
        let refused = |why: &str| Authentication {
            trust: Trust::Unauthenticated,
            results: format!("dmarc=permerror ({why})"),
            dkim_domains: Vec::new(),
        };
        let Some(mut message) = AuthenticatedMessage::parse(raw) else {
            return refused("not a message");
        };
        // One author, read alike by the checks and by what is stored.
        if message.from.len() != 1 {
            return refused("From must hold exactly one address");
        }
        // The checks and the walker must read one header section: where
        // they would differ (a whitespace-only line, which one ends the
        // section at and the other folds), signed headers could front a
        // body the walker reads another way.
        if message.body_offset as usize != crate::extract::body_offset(raw) {
            return refused("the header section reads two ways");
        }
        message.dkim_headers.truncate(MAX_SIGNATURES);
        let body_len = raw.len().saturating_sub(message.body_offset as usize);
        let checks = self.checks(&message, client, body_len);
        let timed = self
            .runtime
            .block_on(async { tokio::time::timeout(self.deadline, checks).await });
        timed.unwrap_or_else(|_| Authentication {
            trust: Trust::Unchecked,
            results: format!(
                "dmarc=temperror (the checks took over {} ms)",
                self.deadline.as_millis()
            ),
            dkim_domains: Vec::new(),
        })
    }

    async fn checks(
        &self,
        message: &AuthenticatedMessage<'_>,
        client: Option<Client<'_>>,
        body_len: usize,
    ) -> Authentication {
        let dkim = self.checks.verify_dkim(message).await;
        let (helo_spf, mail_from_spf) = match client {
            Some(client) => {
                let helo = self
                    .checks
                    .verify_spf(SpfParameters::verify_ehlo(
                        client.ip,
                        client.helo,
                        &self.hostname,
                    ))
                    .await;
                let mail_from = if client.mail_from.is_empty() {
                    None
                } else {
                    let params = SpfParameters::verify_mail_from(
                        client.ip,
                        client.helo,
                        &self.hostname,
                        client.mail_from,
                    );
                    Some(self.checks.verify_spf(params).await)
                };
                (Some(helo), mail_from)
            }
            None => (None, None),
        };
        // DMARC's SPF identifier: MAIL FROM, or HELO for the null sender.
        let no_spf = SpfOutput::new(String::new()).with_result(SpfResult::None);
        let (spf_for_dmarc, spf_domain) = match (&mail_from_spf, &helo_spf, client) {
            (Some(spf), _, Some(client)) => (spf, domain_of(client.mail_from)),
            (None, Some(spf), Some(client)) => (spf, client.helo),
            _ => (&no_spf, ""),
        };
        let dmarc = self
            .checks
            .verify_dmarc(DmarcParameters::new(
                message,
                &dkim,
                spf_domain,
                spf_for_dmarc,
            ))
            .await;
        let from_domain = message
            .from
            .first()
            .map(|from| domain_of(from).to_ascii_lowercase())
            .unwrap_or_default();
        let verified: Vec<&str> = dkim
            .iter()
            .filter(|output| *output.result() == DkimResult::Pass)
            .filter_map(|output| output.signature().map(|s| s.d.as_str()))
            .collect();
        let aligned_dkim_temperror = dkim.iter().any(|output| {
            matches!(output.result(), DkimResult::TempError(_))
                && output
                    .signature()
                    .is_some_and(|s| verdict::aligned(&s.d, &from_domain))
        });
        // A signature with l= covering less than the body signs what a
        // stranger could have appended to: it does not count.
        let whole_aligned_pass = dkim.iter().any(|output| {
            *output.result() == DkimResult::Pass
                && output.signature().is_some_and(|s| {
                    verdict::aligned(&s.d, &from_domain) && (s.l == 0 || s.l as usize >= body_len)
                })
        });
        let facts = verdict::Facts {
            dmarc_pass: (*dmarc.dkim_result() == DmarcResult::Pass && whole_aligned_pass)
                || *dmarc.spf_result() == DmarcResult::Pass,
            dmarc_record: dmarc.dmarc_record().is_some(),
            dmarc_temperror: matches!(dmarc.dkim_result(), DmarcResult::TempError(_))
                || matches!(dmarc.spf_result(), DmarcResult::TempError(_)),
            aligned_dkim_pass: whole_aligned_pass,
            aligned_dkim_temperror,
        };
        let results = results::render(results::Outputs {
            client,
            helo_spf: helo_spf.as_ref(),
            mail_from_spf: mail_from_spf.as_ref(),
            dkim: &dkim,
            dmarc: &dmarc,
            from_domain: &from_domain,
        });
        Authentication {
            trust: verdict::trust(&facts),
            results,
            dkim_domains: verified.iter().map(|d| d.to_ascii_lowercase()).collect(),
        }
    }
}

/// The domain of an address (what follows its last `@`), or the whole.
fn domain_of(address: &str) -> &str {
    address
        .rsplit_once('@')
        .map_or(address, |(_, domain)| domain)
        .trim_end_matches('>')
}
