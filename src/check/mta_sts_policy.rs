//! The MTA-STS policy file (RFC 8461 §3.2), fetched over HTTPS for
//! `check-dns --fetch-mta-sts`, its host resolved through `[dns]` like
//! every other name the checks look up.

use super::arg;
use crate::dns::{Answer, Resolver};
use crate::i18n::Messages;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver as UreqResolver};
use ureq::unversioned::transport::NextTimeout;

/// Why a policy file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    NoVersion,
    NoMode,
    /// A mode other than `enforce`, `testing` and `none`.
    BadMode(String),
    NoMx,
}

impl PolicyError {
    /// The problem in words, in the language of `messages`.
    pub fn describe(&self, messages: &Messages) -> String {
        match self {
            PolicyError::NoVersion => messages.text("check-mta-sts-policy-no-version"),
            PolicyError::NoMode => messages.text("check-mta-sts-policy-no-mode"),
            PolicyError::BadMode(mode) => {
                let mode = format!("{mode:?}");
                messages.format("check-mta-sts-policy-bad-mode", &[("mode", arg(&mode))])
            }
            PolicyError::NoMx => messages.text("check-mta-sts-policy-no-mx"),
        }
    }
}

/// A policy file, as far as the checks read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `enforce`, `testing` or `none`.
    pub mode: String,
    /// The `mx` patterns: host names, or `*.` and a domain (one label).
    pub mx: Vec<String>,
}

impl Policy {
    /// Reads a policy file: `key: value` lines, `version: STSv1` among them.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let mut version = None;
        let mut mode = None;
        let mut mx = Vec::new();
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim().to_owned();
            match key.trim() {
                "version" => version = Some(value),
                "mode" => mode = Some(value),
                "mx" => mx.push(value.to_ascii_lowercase()),
                _ => {}
            }
        }
        if version.as_deref() != Some("STSv1") {
            return Err(PolicyError::NoVersion);
        }
        let mode = mode.ok_or(PolicyError::NoMode)?;
        if !matches!(mode.as_str(), "enforce" | "testing" | "none") {
            return Err(PolicyError::BadMode(mode));
        }
        if mx.is_empty() && mode != "none" {
            return Err(PolicyError::NoMx);
        }
        Ok(Policy { mode, mx })
    }

    /// Whether `host` is one of the policy's MX patterns (RFC 8461 §4.1:
    /// a wildcard stands for exactly one label).
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.mx
            .iter()
            .any(|pattern| match pattern.strip_prefix("*.") {
                Some(domain) => host
                    .split_once('.')
                    .is_some_and(|(label, rest)| !label.is_empty() && rest == domain),
                None => *pattern == host,
            })
    }
}

/// Fetches policy files over HTTPS.
pub struct Fetcher {
    agent: ureq::Agent,
}

impl Fetcher {
    /// `roots`: PEM certificates to trust instead of the public roots (a
    /// private PKI, or a test's own CA).
    pub fn new(
        resolver: Arc<Resolver>,
        roots: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Fetcher, String> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(pem) = roots {
            let certificates: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(cert)) => Some(cert),
                    _ => None,
                })
                .collect();
            if certificates.is_empty() {
                return Err("no certificate in check_dns.https_roots".into());
            }
            tls = tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(certificates)));
        }
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .tls_config(tls.build())
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::default(),
            ThroughDns(resolver),
        );
        Ok(Fetcher { agent })
    }

    /// The policy of `domain`, from `https://mta-sts.<domain>/.well-known/mta-sts.txt`;
    /// why not, in the language of `messages` (the HTTP and TLS errors are
    /// ureq's own words).
    pub fn fetch(&self, domain: &str, messages: &Messages) -> Result<Policy, String> {
        // The name goes into a URL: nothing but a host name may.
        if !super::is_host_name(domain) {
            let domain = format!("{domain:?}");
            return Err(messages.format("check-mta-sts-not-a-domain", &[("domain", arg(&domain))]));
        }
        let url = format!("https://mta-sts.{domain}/.well-known/mta-sts.txt");
        let mut response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| format!("{url}: {e}"))?;
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .map_err(|e| format!("{url}: {e}"))?;
        Policy::parse(&text).map_err(|e| format!("{url}: {}", e.describe(messages)))
    }
}

/// ureq's name resolution, through `[dns]`.
struct ThroughDns(Arc<Resolver>);

impl fmt::Debug for ThroughDns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ThroughDns")
    }
}

impl UreqResolver for ThroughDns {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
        let port = uri.port_u16().unwrap_or(443);
        let Answer::Found(ips) = self.0.addresses(host) else {
            return Err(ureq::Error::HostNotFound);
        };
        let mut result = self.empty();
        for ip in ips.into_iter().take(16) {
            result.push(std::net::SocketAddr::new(ip, port));
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_policy_and_matches_its_patterns() {
        let policy = Policy::parse(
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n",
        )
        .unwrap();
        assert_eq!(policy.mode, "enforce");
        assert!(policy.allows("mail.example.com"));
        assert!(policy.allows("MX1.example.net."));
        assert!(!policy.allows("a.b.example.net"), "one label only");
        assert!(!policy.allows("example.net"));
        assert_eq!(
            Policy::parse("mode: enforce\nmx: a"),
            Err(PolicyError::NoVersion)
        );
        let strict = Policy::parse("version: STSv1\nmode: strict\nmx: a").unwrap_err();
        assert_eq!(
            strict.describe(&Messages::new(crate::i18n::Lang::En)),
            "mode \"strict\" is none of enforce, testing, none"
        );
        let japanese = strict.describe(&Messages::new(crate::i18n::Lang::Ja));
        assert!(japanese.contains("\"strict\""), "{japanese}");
    }
}
