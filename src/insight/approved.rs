//! The approved-sender list read against traffic: which sources the
//! operator said are the domain's own (`approved`), which are not
//! (`denied`), and the rest (`unknown`), left to the diagnoses.
//!
//! A source is matched by its IP address (an address or a CIDR block on the
//! list) or by a domain that authenticated its mail: a DKIM signature or an
//! SPF check that passed for the listed domain or one below it, so that
//! `amazonses.com` covers `us-east-1.amazonses.com`. A domain that only
//! appears (an envelope sender, a failed signature) matches nothing: anyone
//! can write it. When entries disagree, `denied` wins.

use crate::store::{ApprovedSource, Standing};
use ipnet::IpNet;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

/// A SOURCE as `sources approve` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourcePattern {
    Address(IpAddr),
    Network(IpNet),
    /// Lower-cased, without a trailing dot.
    Domain(String),
}

/// A SOURCE that is neither an address, a CIDR block nor a domain name.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0:?} is not an IP address, a CIDR block (192.0.2.0/24) or a registrable domain name \
     (amazonses.com; not a public suffix such as co.uk)"
)]
pub struct PatternError(pub String);

impl SourcePattern {
    pub fn parse(text: &str) -> Result<SourcePattern, PatternError> {
        let text = text.trim();
        let error = || PatternError(text.to_owned());
        if let Ok(address) = text.parse::<IpAddr>() {
            return Ok(SourcePattern::Address(address));
        }
        if text.contains('/') {
            let network: IpNet = text.parse().map_err(|_| error())?;
            // 192.0.2.7/24 means the block, 192.0.2.0/24.
            return Ok(SourcePattern::Network(network.trunc()));
        }
        let domain = text.trim_end_matches('.').to_ascii_lowercase();
        let valid_label = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if domain.len() > 253 || !domain.contains('.') || !domain.split('.').all(valid_label) {
            return Err(error());
        }
        // A public suffix (co.uk, github.io) would approve whoever
        // registers a name under it.
        if psl::domain_str(&domain).is_none() {
            return Err(error());
        }
        Ok(SourcePattern::Domain(domain))
    }

    /// Whether traffic from `ip`, whose mail these `passing` domains
    /// authenticated, is this source.
    fn matches<'a>(&self, ip: Option<IpAddr>, mut passing: impl Iterator<Item = &'a str>) -> bool {
        match self {
            SourcePattern::Address(address) => ip == Some(*address),
            SourcePattern::Network(network) => ip.is_some_and(|ip| network.contains(&ip)),
            SourcePattern::Domain(domain) => passing.any(|seen| {
                let seen = seen.trim_end_matches('.');
                seen.eq_ignore_ascii_case(domain)
                    || (seen.len() > domain.len()
                        && seen.as_bytes()[seen.len() - domain.len() - 1] == b'.'
                        && seen[seen.len() - domain.len()..].eq_ignore_ascii_case(domain))
            }),
        }
    }
}

impl fmt::Display for SourcePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourcePattern::Address(address) => write!(f, "{address}"),
            SourcePattern::Network(network) => write!(f, "{network}"),
            SourcePattern::Domain(domain) => f.write_str(domain),
        }
    }
}

/// A source's standing on the list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStanding {
    Approved,
    Denied,
    /// Not on the list: the diagnoses decide.
    #[default]
    Unknown,
}

impl SourceStanding {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceStanding::Approved => "approved",
            SourceStanding::Denied => "denied",
            SourceStanding::Unknown => "unknown",
        }
    }
}

/// What the list says of one source: its standing, and the name the
/// operator gave the entry that decided it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    pub standing: SourceStanding,
    pub name: Option<String>,
    /// The entry's source, as on the list.
    pub entry: Option<String>,
}

/// The list, by policy domain, ready to match traffic against.
#[derive(Debug, Clone, Default)]
pub struct ApprovedList {
    by_domain: HashMap<String, Vec<(SourcePattern, Standing, Option<String>)>>,
}

impl ApprovedList {
    /// Entries whose source does not parse (written by hand in the store)
    /// are skipped.
    pub fn new(entries: Vec<ApprovedSource>) -> ApprovedList {
        let mut by_domain: HashMap<String, Vec<_>> = HashMap::new();
        for entry in entries {
            if let Ok(pattern) = SourcePattern::parse(&entry.source) {
                by_domain
                    .entry(entry.policy_domain.to_ascii_lowercase())
                    .or_default()
                    .push((pattern, entry.standing, entry.name));
            }
        }
        ApprovedList { by_domain }
    }

    pub fn is_empty(&self) -> bool {
        self.by_domain.is_empty()
    }

    /// The standing of source `ip` of `policy_domain`, whose mail the
    /// `passing` domains authenticated (DKIM or SPF passed).
    pub fn verdict<'a>(
        &self,
        policy_domain: &str,
        ip: &str,
        passing: impl Iterator<Item = &'a str> + Clone,
    ) -> Verdict {
        let Some(entries) = self.by_domain.get(&policy_domain.to_ascii_lowercase()) else {
            return Verdict::default();
        };
        let ip: Option<IpAddr> = ip.parse().ok();
        let mut verdict = Verdict::default();
        for (pattern, standing, name) in entries {
            if !pattern.matches(ip, passing.clone()) {
                continue;
            }
            match standing {
                Standing::Denied => {
                    return Verdict {
                        standing: SourceStanding::Denied,
                        name: name.clone(),
                        entry: Some(pattern.to_string()),
                    };
                }
                Standing::Approved if verdict.standing == SourceStanding::Unknown => {
                    verdict = Verdict {
                        standing: SourceStanding::Approved,
                        name: name.clone(),
                        entry: Some(pattern.to_string()),
                    };
                }
                Standing::Approved => {}
            }
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[(&str, Standing)]) -> ApprovedList {
        ApprovedList::new(
            entries
                .iter()
                .map(|(source, standing)| ApprovedSource {
                    policy_domain: "example.com".into(),
                    source: SourcePattern::parse(source).unwrap().to_string(),
                    standing: *standing,
                    name: Some(format!("{source} name")),
                    note: None,
                })
                .collect(),
        )
    }

    #[test]
    fn patterns_parse_to_their_canonical_form() {
        assert_eq!(
            SourcePattern::parse("192.0.2.7/24").unwrap().to_string(),
            "192.0.2.0/24"
        );
        assert_eq!(
            SourcePattern::parse("2001:DB8::1").unwrap().to_string(),
            "2001:db8::1"
        );
        assert_eq!(
            SourcePattern::parse("AmazonSES.com.").unwrap().to_string(),
            "amazonses.com"
        );
        for bad in [
            "",
            "com",
            "co.uk",
            "github.io",
            "192.0.2.0/33",
            "exa mple.com",
            "a..b",
            "x/y",
        ] {
            assert!(SourcePattern::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn addresses_networks_and_passing_domains_match() {
        let list = list(&[
            ("192.0.2.0/24", Standing::Approved),
            ("amazonses.com", Standing::Approved),
            ("198.51.100.7", Standing::Denied),
        ]);
        let none = std::iter::empty::<&str>;
        assert_eq!(
            list.verdict("example.com", "192.0.2.9", none()).standing,
            SourceStanding::Approved
        );
        assert_eq!(
            list.verdict(
                "EXAMPLE.com",
                "203.0.113.1",
                ["us-east-1.amazonses.com"].into_iter()
            )
            .name,
            Some("amazonses.com name".into())
        );
        assert_eq!(
            list.verdict(
                "example.com",
                "203.0.113.1",
                ["notamazonses.com"].into_iter()
            )
            .standing,
            SourceStanding::Unknown
        );
        assert_eq!(
            list.verdict("other.example", "192.0.2.9", none()).standing,
            SourceStanding::Unknown
        );
        // Denied wins over a domain that approves.
        assert_eq!(
            list.verdict("example.com", "198.51.100.7", ["amazonses.com"].into_iter())
                .standing,
            SourceStanding::Denied
        );
    }
}

/// The list as a file (`sources export`, `sources import`): TOML, one
/// `[[source]]` table per entry, so that it can live in git.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListFile {
    #[serde(default)]
    pub source: Vec<ApprovedSource>,
}

/// A list file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ListFileError {
    #[error("not a list of sources: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("entry {index}: {error}")]
    Pattern { index: usize, error: PatternError },
    #[error("entry {index}: {domain:?} is not a domain name")]
    Domain { index: usize, domain: String },
}

impl ListFile {
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("the list serialises");
        format!(
            "# dmarc-sink approved sources: `dmarc-sink sources import FILE` reads it back.\n\
             # standing: \"approved\" (the domain's own) or \"denied\"; source: an IP\n\
             # address, a CIDR block, or a DKIM or SPF domain.\n\n{body}"
        )
    }

    /// Reads `text`, each entry's domain and source checked and put in
    /// canonical form.
    pub fn parse(text: &str) -> Result<ListFile, ListFileError> {
        let mut file: ListFile = toml::from_str(text)?;
        for (index, entry) in file.source.iter_mut().enumerate() {
            let index = index + 1;
            entry.source = SourcePattern::parse(&entry.source)
                .map_err(|error| ListFileError::Pattern { index, error })?
                .to_string();
            entry.policy_domain = match SourcePattern::parse(&entry.policy_domain) {
                Ok(SourcePattern::Domain(domain)) => domain,
                _ => {
                    return Err(ListFileError::Domain {
                        index,
                        domain: entry.policy_domain.clone(),
                    });
                }
            };
        }
        Ok(file)
    }
}
