//! The one rule that turns authentication results into trust.

/// How far a message's sender is believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trust {
    /// DMARC passed for the From domain, or it publishes no DMARC record and
    /// a DKIM signature aligned with it verified.
    Authenticated,
    /// Neither.
    Unauthenticated,
    /// Not checked: read by `import`, stored before this version, or DNS
    /// failed where the answer could have changed the verdict.
    Unchecked,
}

impl Trust {
    /// Its name in `messages.auth` and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Trust::Authenticated => "authenticated",
            Trust::Unauthenticated => "unauthenticated",
            Trust::Unchecked => "unchecked",
        }
    }

    /// Whether a report from a message of this standing replaces a stored
    /// copy (the same identity) from a message of `stored`'s: only an
    /// authenticated one replaces one that is not. Between equals the first
    /// stays, so a forger can neither pre-empt a real report nor replace it.
    pub fn outranks(self, stored: Trust) -> bool {
        self == Trust::Authenticated && stored != Trust::Authenticated
    }

    /// The value of `messages.auth`, read back.
    pub fn from_stored(value: &str) -> Option<Trust> {
        match value {
            "authenticated" => Some(Trust::Authenticated),
            "unauthenticated" => Some(Trust::Unauthenticated),
            "unchecked" => Some(Trust::Unchecked),
            _ => None,
        }
    }
}

/// What the checks found that the verdict depends on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    /// DMARC passed (aligned SPF or aligned DKIM).
    pub dmarc_pass: bool,
    /// The From domain (or its organisational domain) publishes a record.
    pub dmarc_record: bool,
    /// The DMARC lookup, or the checks it rests on, failed temporarily.
    pub dmarc_temperror: bool,
    /// A DKIM signature aligned with the From domain verified.
    pub aligned_dkim_pass: bool,
    /// A DKIM signature aligned with the From domain could not be checked
    /// for a DNS failure.
    pub aligned_dkim_temperror: bool,
}

/// The verdict (see the module documentation of `auth`).
pub fn trust(facts: &Facts) -> Trust {
    if facts.dmarc_pass || (!facts.dmarc_record && facts.aligned_dkim_pass) {
        return Trust::Authenticated;
    }
    if facts.dmarc_temperror || facts.aligned_dkim_temperror {
        return Trust::Unchecked;
    }
    Trust::Unauthenticated
}

/// Relaxed alignment (RFC 7489 §3.1): both names have the same
/// organisational domain, by the public suffix list.
pub fn aligned(signing_domain: &str, from_domain: &str) -> bool {
    let (a, b) = (
        signing_domain.trim_end_matches('.').to_ascii_lowercase(),
        from_domain.trim_end_matches('.').to_ascii_lowercase(),
    );
    if a.is_empty() || b.is_empty() {
        return false;
    }
    match (psl::domain_str(&a), psl::domain_str(&b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict() {
        let pass = Facts {
            dmarc_pass: true,
            dmarc_record: true,
            ..Facts::default()
        };
        assert_eq!(trust(&pass), Trust::Authenticated);
        let no_record_aligned = Facts {
            aligned_dkim_pass: true,
            ..Facts::default()
        };
        assert_eq!(trust(&no_record_aligned), Trust::Authenticated);
        let record_fails = Facts {
            dmarc_record: true,
            aligned_dkim_pass: true,
            ..Facts::default()
        };
        assert_eq!(trust(&record_fails), Trust::Unauthenticated);
        let dns_failed = Facts {
            dmarc_temperror: true,
            ..Facts::default()
        };
        assert_eq!(trust(&dns_failed), Trust::Unchecked);
        assert_eq!(trust(&Facts::default()), Trust::Unauthenticated);
    }

    #[test]
    fn alignment_is_by_organisational_domain() {
        assert!(aligned("mail.google.com", "google.com"));
        assert!(aligned("Google.COM.", "google.com"));
        assert!(!aligned("amazonses.com", "example.com"));
        assert!(aligned("reports.example.co.uk", "example.co.uk"));
        assert!(!aligned("other.co.uk", "example.co.uk"));
        assert!(!aligned("", "example.com"));
    }
}
