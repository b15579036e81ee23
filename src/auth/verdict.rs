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
    /// copy (the same identity) from a message of `stored`'s: only one of a
    /// strictly higher rank, authenticated over unchecked over
    /// unauthenticated. Between equals the first stays. So a forger can
    /// neither pre-empt a real report (authenticated, or unchecked when it
    /// is imported or DNS failed) nor replace it.
    pub fn outranks(self, stored: Trust) -> bool {
        self.rank() > stored.rank()
    }

    fn rank(self) -> u8 {
        match self {
            Trust::Unauthenticated => 0,
            Trust::Unchecked => 1,
            Trust::Authenticated => 2,
        }
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

/// The standing of a report carried by a message of `trust` whose From
/// domain is `sender`: an authenticated sender vouches only for reports it
/// is the reporter of, those that name an address or organisation of its
/// organisational domain (`reporter`: the report's contact address's
/// domain, its organisation name). A report an authenticated stranger
/// carries for someone else is that stranger's claim: unauthenticated.
pub fn of_report(trust: Trust, sender: Option<&str>, reporter: &[&str]) -> Trust {
    if trust != Trust::Authenticated {
        return trust;
    }
    match sender {
        Some(sender) if reporter.iter().any(|named| aligned(named, sender)) => Trust::Authenticated,
        _ => Trust::Unauthenticated,
    }
}

/// The domain a report's contact names: that of an address
/// (`noreply-dmarc-support@google.com`, `mailto:tlsrpt@example.net`), of a
/// URL's host, or the name itself when it looks like a domain.
pub fn reporter_domain(named: &str) -> Option<&str> {
    let named = named.trim();
    let named = named.strip_prefix("mailto:").unwrap_or(named);
    let host = match named.rsplit_once('@') {
        Some((_, domain)) => domain,
        None => named
            .split_once("://")
            .map_or(named, |(_, rest)| rest)
            .split(['/', ':'])
            .next()
            .unwrap_or_default(),
    };
    let host = host.trim_end_matches(['>', '.']);
    (host.contains('.') && !host.contains(char::is_whitespace)).then_some(host)
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
    fn only_a_higher_standing_replaces() {
        use Trust::*;
        assert!(Authenticated.outranks(Unchecked));
        assert!(Authenticated.outranks(Unauthenticated));
        assert!(Unchecked.outranks(Unauthenticated));
        assert!(!Unauthenticated.outranks(Unchecked));
        assert!(!Authenticated.outranks(Authenticated));
        assert!(!Unchecked.outranks(Authenticated));
    }

    #[test]
    fn a_sender_vouches_only_for_its_own_reports() {
        use Trust::*;
        let google = Some("google.com");
        assert_eq!(
            of_report(Authenticated, google, &["google.com"]),
            Authenticated
        );
        assert_eq!(
            of_report(Authenticated, Some("attacker.example"), &["google.com"]),
            Unauthenticated
        );
        assert_eq!(
            of_report(Authenticated, None, &["google.com"]),
            Unauthenticated
        );
        assert_eq!(of_report(Unchecked, None, &[]), Unchecked);
        assert_eq!(
            reporter_domain("noreply-dmarc-support@google.com"),
            Some("google.com")
        );
        assert_eq!(
            reporter_domain("mailto:tls@mail.example.net"),
            Some("mail.example.net")
        );
        assert_eq!(
            reporter_domain("https://tls.example.org/report"),
            Some("tls.example.org")
        );
        assert_eq!(reporter_domain("Enterprise Outlook"), None);
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
