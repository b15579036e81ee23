//! Who a sending source is, told by the domains it authenticates with.
//!
//! Mail services sign with their own DKIM domain and use their own envelope
//! (MAIL FROM) domain until the customer sets up theirs, so those domains
//! name the service. Extend [`PROVIDERS`] with a line per service.

/// A mail service known by its domains.
#[derive(Debug, PartialEq, Eq)]
pub struct Provider {
    /// The name shown to people.
    pub name: &'static str,
    /// Domains (and their subdomains) the service signs or sends with.
    pub domains: &'static [&'static str],
    /// The message id (locales/*/providers.ftl) of how the service's
    /// customers make its DKIM signature align, when the service documents it.
    pub dkim_setup: Option<&'static str>,
    /// The message id of how they make its envelope domain (and so SPF) align.
    pub mail_from_setup: Option<&'static str>,
}

/// Known services, matched in order; the first whose domain matches wins.
pub const PROVIDERS: &[Provider] = &[
    Provider {
        name: "Amazon SES",
        domains: &["amazonses.com"],
        dkim_setup: Some("setup-dkim-amazon-ses"),
        mail_from_setup: Some("setup-mail-from-amazon-ses"),
    },
    Provider {
        name: "Google",
        domains: &["google.com", "googlemail.com", "gmail.com", "1e100.net"],
        dkim_setup: Some("setup-dkim-google"),
        mail_from_setup: None,
    },
    Provider {
        name: "Microsoft 365",
        domains: &[
            "protection.outlook.com",
            "outlook.com",
            "onmicrosoft.com",
            "hotmail.com",
        ],
        dkim_setup: Some("setup-dkim-microsoft-365"),
        mail_from_setup: None,
    },
    Provider {
        name: "SendGrid",
        domains: &["sendgrid.net", "sendgrid.com"],
        dkim_setup: Some("setup-dkim-sendgrid"),
        mail_from_setup: Some("setup-mail-from-sendgrid"),
    },
    Provider {
        name: "Mailchimp/Mandrill",
        domains: &[
            "mcsv.net",
            "mcdlv.net",
            "rsgsv.net",
            "mandrillapp.com",
            "mailchimpapp.net",
        ],
        dkim_setup: Some("setup-dkim-mailchimp"),
        mail_from_setup: None,
    },
    Provider {
        name: "Mailgun",
        domains: &["mailgun.org", "mailgun.net", "mailgun.info"],
        dkim_setup: Some("setup-dkim-mailgun"),
        mail_from_setup: Some("setup-mail-from-mailgun"),
    },
    Provider {
        name: "Postmark",
        domains: &["mtasv.net", "postmarkapp.com"],
        dkim_setup: Some("setup-dkim-postmark"),
        mail_from_setup: Some("setup-mail-from-postmark"),
    },
    Provider {
        name: "SparkPost",
        domains: &["sparkpostmail.com", "sparkpost.com"],
        dkim_setup: Some("setup-dkim-sparkpost"),
        mail_from_setup: Some("setup-mail-from-sparkpost"),
    },
    Provider {
        name: "Salesforce",
        domains: &["salesforce.com", "exacttarget.com", "force.com"],
        dkim_setup: Some("setup-dkim-salesforce"),
        mail_from_setup: None,
    },
    Provider {
        name: "Zendesk",
        domains: &["zendesk.com"],
        dkim_setup: Some("setup-dkim-zendesk"),
        mail_from_setup: None,
    },
    Provider {
        name: "HubSpot",
        domains: &["hubspotemail.net", "hubspot.com", "hs-analytics.net"],
        dkim_setup: Some("setup-dkim-hubspot"),
        mail_from_setup: None,
    },
    Provider {
        name: "Brevo",
        domains: &["sendinblue.com", "brevo.com"],
        dkim_setup: Some("setup-dkim-brevo"),
        mail_from_setup: None,
    },
    Provider {
        name: "Mailjet",
        domains: &["mailjet.com"],
        dkim_setup: Some("setup-dkim-mailjet"),
        mail_from_setup: None,
    },
    Provider {
        name: "Zoho",
        domains: &["zoho.com", "zohomail.com", "zoho.eu"],
        dkim_setup: Some("setup-dkim-zoho"),
        mail_from_setup: None,
    },
    Provider {
        name: "Yahoo",
        domains: &["yahoo.com", "yahoodns.net"],
        dkim_setup: None,
        mail_from_setup: None,
    },
];

/// The service that `domain` (a DKIM, envelope or host name) belongs to.
pub fn identify(domain: &str) -> Option<&'static Provider> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    PROVIDERS.iter().find(|provider| {
        provider
            .domains
            .iter()
            .any(|known| is_within(&domain, known))
    })
}

/// `name` is `parent` or one of its subdomains.
pub fn is_within(name: &str, parent: &str) -> bool {
    name == parent
        || name
            .strip_suffix(parent)
            .is_some_and(|head| head.ends_with('.'))
}

/// The domain part of an address or a bare domain (`bounce@x.example` →
/// `x.example`).
pub fn domain_of(address_or_domain: &str) -> &str {
    address_or_domain
        .rsplit_once('@')
        .map_or(address_or_domain, |(_, domain)| domain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, Messages};

    #[test]
    fn subdomains_of_a_provider_domain_match() {
        assert_eq!(
            identify("us-east-1.amazonses.com").unwrap().name,
            "Amazon SES"
        );
        assert_eq!(
            identify("EUR01-VE1-obe.outbound.protection.outlook.com")
                .unwrap()
                .name,
            "Microsoft 365"
        );
        assert_eq!(identify("mail-wr1-f54.google.com.").unwrap().name, "Google");
    }

    #[test]
    fn look_alike_domains_do_not_match() {
        assert!(identify("notamazonses.com").is_none());
        assert!(identify("amazonses.com.evil.example").is_none());
        assert!(identify("example.com").is_none());
    }

    #[test]
    fn domain_of_takes_the_part_after_the_last_at() {
        assert_eq!(domain_of("bounce@mail.example.com"), "mail.example.com");
        assert_eq!(domain_of("example.com"), "example.com");
    }

    #[test]
    fn every_setup_step_has_its_message() {
        let english = Messages::new(Lang::En);
        for provider in PROVIDERS {
            for id in [provider.dkim_setup, provider.mail_from_setup]
                .into_iter()
                .flatten()
            {
                assert_ne!(english.text(id), id, "{}", provider.name);
            }
        }
    }
}
