# How a sending service's customers make its DKIM signature (setup-dkim-*)
# or its envelope domain, and so SPF (setup-mail-from-*), align with their
# own domain, in the service's own words where it has them. Shown in
# parentheses after a diagnosis's fix; the ids are named in
# src/insight/providers.rs.

setup-dkim-amazon-ses = Easy DKIM on SES: verify the domain and publish its three CNAME records
setup-mail-from-amazon-ses = on SES: set a custom MAIL FROM domain and publish its MX and SPF records
setup-dkim-google = in the Google Admin console: generate a DKIM key, publish its TXT record and start authentication
setup-dkim-microsoft-365 = in Microsoft Defender: publish the two selector CNAME records and enable DKIM signing for the domain
setup-dkim-sendgrid = SendGrid domain authentication: publish its CNAME records
setup-mail-from-sendgrid = SendGrid domain authentication sets a custom return path
setup-dkim-mailchimp = authenticate the domain in Mailchimp: publish its CNAME records
setup-dkim-mailgun = verify the sending domain in Mailgun and publish its DKIM TXT record
setup-mail-from-mailgun = Mailgun's sending domain setup: publish its CNAME for the return path
setup-dkim-postmark = Postmark sender signature: publish its DKIM TXT record
setup-mail-from-postmark = Postmark: publish the Return-Path CNAME
setup-dkim-sparkpost = verify the sending domain in SparkPost and publish its DKIM record
setup-mail-from-sparkpost = SparkPost: add a bounce domain with its CNAME
setup-dkim-salesforce = create a DKIM key in Salesforce setup and publish its CNAME records
setup-dkim-zendesk = enable digital signatures in Zendesk and publish its CNAME records
setup-dkim-hubspot = connect the email sending domain in HubSpot and publish its records
setup-dkim-brevo = authenticate the domain in Brevo and publish its DKIM record
setup-dkim-mailjet = authenticate the domain in Mailjet and publish its DKIM record
setup-dkim-zoho = add a DKIM selector in the Zoho admin console and publish its TXT record
