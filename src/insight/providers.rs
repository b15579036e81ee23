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
    /// How the service's customers make its DKIM signature align, when the
    /// service documents it in its own words.
    pub dkim_setup: Option<&'static str>,
    /// How they make its envelope domain (and so SPF) align.
    pub mail_from_setup: Option<&'static str>,
}

/// Known services, matched in order; the first whose domain matches wins.
pub const PROVIDERS: &[Provider] = &[
    Provider {
        name: "Amazon SES",
        domains: &["amazonses.com"],
        dkim_setup: Some("Easy DKIM on SES: verify the domain and publish its three CNAME records"),
        mail_from_setup: Some(
            "on SES: set a custom MAIL FROM domain and publish its MX and SPF records",
        ),
    },
    Provider {
        name: "Google",
        domains: &["google.com", "googlemail.com", "gmail.com", "1e100.net"],
        dkim_setup: Some(
            "in the Google Admin console: generate a DKIM key, publish its TXT record and start authentication",
        ),
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
        dkim_setup: Some(
            "in Microsoft Defender: publish the two selector CNAME records and enable DKIM signing for the domain",
        ),
        mail_from_setup: None,
    },
    Provider {
        name: "SendGrid",
        domains: &["sendgrid.net", "sendgrid.com"],
        dkim_setup: Some("SendGrid domain authentication: publish its CNAME records"),
        mail_from_setup: Some("SendGrid domain authentication sets a custom return path"),
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
        dkim_setup: Some("authenticate the domain in Mailchimp: publish its CNAME records"),
        mail_from_setup: None,
    },
    Provider {
        name: "Mailgun",
        domains: &["mailgun.org", "mailgun.net", "mailgun.info"],
        dkim_setup: Some("verify the sending domain in Mailgun and publish its DKIM TXT record"),
        mail_from_setup: Some(
            "Mailgun's sending domain setup: publish its CNAME for the return path",
        ),
    },
    Provider {
        name: "Postmark",
        domains: &["mtasv.net", "postmarkapp.com"],
        dkim_setup: Some("Postmark sender signature: publish its DKIM TXT record"),
        mail_from_setup: Some("Postmark: publish the Return-Path CNAME"),
    },
    Provider {
        name: "SparkPost",
        domains: &["sparkpostmail.com", "sparkpost.com"],
        dkim_setup: Some("verify the sending domain in SparkPost and publish its DKIM record"),
        mail_from_setup: Some("SparkPost: add a bounce domain with its CNAME"),
    },
    Provider {
        name: "Salesforce",
        domains: &["salesforce.com", "exacttarget.com", "force.com"],
        dkim_setup: Some("create a DKIM key in Salesforce setup and publish its CNAME records"),
        mail_from_setup: None,
    },
    Provider {
        name: "Zendesk",
        domains: &["zendesk.com"],
        dkim_setup: Some("enable digital signatures in Zendesk and publish its CNAME records"),
        mail_from_setup: None,
    },
    Provider {
        name: "HubSpot",
        domains: &["hubspotemail.net", "hubspot.com", "hs-analytics.net"],
        dkim_setup: Some("connect the email sending domain in HubSpot and publish its records"),
        mail_from_setup: None,
    },
    Provider {
        name: "Brevo",
        domains: &["sendinblue.com", "brevo.com"],
        dkim_setup: Some("authenticate the domain in Brevo and publish its DKIM record"),
        mail_from_setup: None,
    },
    Provider {
        name: "Mailjet",
        domains: &["mailjet.com"],
        dkim_setup: Some("authenticate the domain in Mailjet and publish its DKIM record"),
        mail_from_setup: None,
    },
    Provider {
        name: "Zoho",
        domains: &["zoho.com", "zohomail.com", "zoho.eu"],
        dkim_setup: Some(
            "add a DKIM selector in the Zoho admin console and publish its TXT record",
        ),
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
}
