# check-dns: what each check found and the fix (src/check/).
# The check ids (dmarc.record, ...) and the statuses (ok, warn, fail,
# error) are not translated. DNS names, records, tags and terms come in as
# variables and stay as they are; a $record or $value in quotes ("...") is
# one that is wrong, quoted as found. Counts come in as numbers.

## The text form and what every check shares

# The line under a check with its fix.
check-fix-line = fix: { $fix }
# Between the items of a list: tags, hosts, sources.
check-list-separator = { ", " }
# Between the notes of a message, or its fixes.
check-notes-separator = { "; " }
# $name: the name DNS did not answer; $reason: the resolver's, untranslated.
check-dns-error = no answer for { $name }: { $reason }
check-dns-error-fix = check [dns] nameservers and try again
check-keep-one = keep exactly one
# $name holds the one record $record.
check-record-at = { $name }: { $record }
check-no-store = no store: traffic not checked
# A source in a list: its address and the messages the reports counted.
check-source-messages = { $ip } ({ $messages })
# After the first few of a list.
check-more = { $count } more

## dmarc.record, dmarc.policy, dmarc.rua

check-dmarc-no-record = no DMARC record at _dmarc.{ $domain } or any parent
check-dmarc-no-record-fix = publish TXT _dmarc.{ $domain } "v=DMARC1; p=none; rua=mailto:dmarc@<your sink>"
check-dmarc-no-record-policy = no policy: no DMARC record
check-dmarc-no-record-rua = no rua: no DMARC record, so no reports
check-dmarc-several = _dmarc.{ $name } holds more than one v=DMARC1 record: none applies
check-dmarc-several-policy = no policy applies
check-dmarc-several-rua = no rua applies
# $location of the other dmarc.record messages when the record is a parent's.
check-dmarc-at-parent = _dmarc.{ $parent } (a parent: the tree walk found no record at _dmarc.{ $domain })
check-dmarc-not-tag-list = { $location }: not a tag list: { $value }
check-dmarc-not-tag-list-fix = write it as tag=value pairs separated by ';', v=DMARC1 first
check-dmarc-v-not-first = { $location }: v=DMARC1 is not the first tag
check-dmarc-v-not-first-fix = put v=DMARC1 first
# $value: the p= given.
check-dmarc-bad-p = { $location }: p={ $value } is no policy
check-dmarc-bad-p-fix = p=none, p=quarantine or p=reject
check-dmarc-record = { $location }: { $record }
# $notes: check-dmarc-no-p, -historic, -unknown-tags, separated.
check-dmarc-record-notes = { $location }: { $record } ({ $notes })
check-dmarc-no-p = no p= tag: read as p=none
check-dmarc-historic = { $tags } historic in DMARCbis (RFC 9989), and ignored by receivers that follow it
check-dmarc-unknown-tags = unknown tags: { $tags }
check-dmarc-record-fix-no-p = add p=none (or the policy you mean) explicitly; drop historic and unknown tags
check-dmarc-record-fix-tags = drop the historic and unknown tags
# $tag: p, or sp for a record found at a parent; $policy: its value;
# $np: what non-existent subdomains get.
check-dmarc-test-mode = { $tag }={ $policy } with t=y: test mode, receivers apply one step less; not enforcement
check-dmarc-test-mode-fix = drop t=y once `dmarc-sink policy` says the domain is ready
check-dmarc-none = { $tag }=none: monitoring only, nothing is enforced
check-dmarc-none-fix = see `dmarc-sink policy` for when p=quarantine is safe, and the record to publish
check-dmarc-np-none = { $tag }={ $policy }, but subdomains that do not exist fall to none
check-dmarc-np-none-fix = add np=reject: no mail comes from a name that does not exist
check-dmarc-enforced = { $tag }={ $policy }, np={ $np }
check-dmarc-rua-missing = no rua=: no aggregate reports are sent anywhere
# $domain: where the record was found.
check-dmarc-rua-missing-fix = add rua=mailto:dmarc@<your sink> to _dmarc.{ $domain }
check-dmarc-rua-not-mailto = { $uri } is not a mailto: address
check-dmarc-rua-not-mailto-fix = rua=mailto:dmarc@<your sink>
# $host: a destination outside $domain; $name: where it would consent.
check-dmarc-rua-no-consent = rua={ $rua }: { $host } has not consented to receive reports for { $domain }, so it receives none
check-dmarc-rua-no-consent-fix = on { $host }'s side, publish TXT { $name } "v=DMARC1"
check-dmarc-rua = rua={ $rua }
# $hosts: the destinations outside the domain that consented.
check-dmarc-rua-authorised = rua={ $rua } ({ $hosts } authorised by _report._dmarc)

## spf.record, spf.lookups

check-spf-no-record = no v=spf1 record at { $domain }
check-spf-no-record-fix = publish TXT { $domain } "v=spf1 <your senders> -all", or "v=spf1 -all" if it sends no mail
check-spf-no-record-lookups = no record: no lookups
check-spf-several = { $domain } has more than one v=spf1 record: SPF fails with a permanent error
check-spf-several-fix = merge them into one record
check-spf-several-lookups = not counted: no single record
check-spf-broken = { $domain }: { $record } does not parse as SPF (RFC 7208)
check-spf-broken-fix = correct its syntax
check-spf-broken-lookups = not counted: the record does not parse
check-spf-record = { $domain }: { $record }
# $lookups of $max DNS lookups; $void lookups found nothing.
check-spf-lookups = { $lookups } of { $max } DNS lookups, { $void } void
# $notes: what follows (check-spf-too-many-queries ... -too-many-void), separated.
check-spf-lookups-notes = { $lookups } of { $max } DNS lookups, { $void } void ({ $notes })
# $name: the name that did not answer while the record was walked.
check-spf-lookups-no-answer = no answer for { $name }: { $reason }: while counting lookups
check-spf-lookups-permanent-error = receivers stop there with a permanent error
check-spf-lookups-too-many-void = { $void } void lookups, more than the { $max } allowed
check-spf-lookups-fix-many = replace includes no reported source uses (see spf.traffic), or name the senders' ranges with ip4:/ip6: instead of include:
check-spf-lookups-fix-terms = fix or remove the terms named
# The notes of spf.lookups. $term: include:<name> or redirect=<name>;
# $max: the limit; $record: the broken record, quoted.
check-spf-too-many-queries = evaluation needs more than { $max } DNS queries; stopped there
check-spf-loop = { $term } loops back on itself
check-spf-too-deep = { $term } nests more than { $max } deep
check-spf-target-no-record = { $term } has no SPF record
check-spf-target-several = { $term } has more than one SPF record
check-spf-target-broken = { $term } has a broken SPF record: { $record }
# $term: the domain whose record uses ptr.
check-spf-ptr = { $term } uses ptr, which RFC 7208 says not to

## spf.traffic, spf.mail_from

check-spf-traffic-no-record = no record to hold against the reports
# $sources: addresses with their messages (check-source-messages), listed.
check-spf-traffic-no-record-missing = no record; sources passing DKIM but not SPF: { $sources }
check-spf-traffic-no-reports = no reports in the period to hold the record against
check-spf-traffic-reported = { $messages } messages reported from { $sources } { $sources ->
        [one] source
       *[other] sources
    }
check-spf-traffic-missing = passing DKIM but not SPF: { $sources }
check-spf-traffic-missing-fix = add those that are yours (their provider's include: or ranges)
# $terms: top-level ip4:, ip6: and include: terms, listed.
check-spf-traffic-unused = no reported source matched { $terms }
check-spf-traffic-unused-fix = consider removing { $terms } if no mail of yours goes through them
check-spf-mail-from-none = SPF passes for no other envelope domain in the reports
# An envelope domain SPF passed for, its messages and its sources.
check-spf-mail-from-envelope = { $envelope } ({ $messages } from { $sources } { $sources ->
        [one] source
       *[other] sources
    })
# $envelopes: check-spf-mail-from-envelope, listed.
check-spf-mail-from = SPF passes only for another domain's envelope: { $envelopes }; it cannot align with { $domain }
check-spf-mail-from-fix = give those senders a custom MAIL FROM domain under { $domain } (Amazon SES: a "custom MAIL FROM domain" such as bounce.{ $domain }, with its MX and SPF records)

## dkim.selectors

check-dkim-no-store = no store: selectors not checked
check-dkim-no-signature = no DKIM signature of { $domain } in the reports of the period
check-dkim-no-signature-fix = sign your mail with DKIM for your domain (Amazon SES: Easy DKIM)
# One selector: $state is one of the check-dkim-* states below; $passed and
# $failed count messages; $first and $last are days.
check-dkim-selector = { $selector } ({ $domain }): { $state }, passed { $passed } failed { $failed }, { $first } to { $last }
check-dkim-no-answer = { $selector } ({ $domain }): no answer: { $reason }
check-dkim-more-selectors = { $count } more selectors not looked up
check-dkim-invalid-selectors = { $count } selector names in reports that are no DNS names, not looked up
check-dkim-no-key = no key published
check-dkim-no-p = a TXT record but no key (p=) in it
# $error: check-tag-no-value or check-tag-repeated.
check-dkim-not-key-record = not a key record: { $error }
check-dkim-not-base64 = p= is not base64
check-dkim-not-rsa = p= is not an RSA public key
check-dkim-revoked-in-use = revoked (empty p=), still in reports
check-dkim-revoked = revoked (empty p=)
# $bits: the key's size (2048), not grouped.
check-dkim-rsa-too-short = { $bits }-bit RSA, too short to be trusted
check-dkim-rsa = { $bits }-bit RSA
# $kind: the k= of the key (ed25519).
check-dkim-other-key = { $kind } key
# The fixes; $name: the selector's key record.
check-dkim-publish-fix = publish the key of { $name }, or stop signing with it
check-dkim-revoked-fix = { $name } is revoked: move the senders still using it to a current key
check-dkim-too-short-fix = replace { $name } with a 2048-bit key
check-dkim-rotate-fix = rotate { $name } to a 2048-bit key
# Why a record is no tag list. $part: the part, quoted.
check-tag-no-value = { $part } is not a tag=value pair
check-tag-repeated = the tag { $tag } is given twice

## mx, tlsrpt.record

check-mx-none = { $domain } has no MX record: mail to it goes to its address, if any
check-mx-none-fix = publish its MX records, or a null MX ("MX 0 .", RFC 7505) if { $domain } takes no mail
check-mx-null = null MX: the domain takes no mail
check-tlsrpt-none = no v=TLSRPTv1 record at { $name }: no SMTP TLS reports come
check-tlsrpt-none-fix = publish TXT { $name } "v=TLSRPTv1; rua=mailto:tlsrpt@<your sink>"
check-tlsrpt-no-rua = { $name }: { $record } has no rua
check-tlsrpt-no-rua-fix = add rua=mailto:tlsrpt@<your sink>
check-tlsrpt-several = { $name } holds more than one v=TLSRPTv1 record

## mta_sts.record

check-mta-sts-none = no v=STSv1 record at { $name }: senders may deliver without TLS
check-mta-sts-none-fix = serve a policy at https://mta-sts.{ $domain }/.well-known/mta-sts.txt and publish TXT { $name } "v=STSv1; id=<a new id per change>"
check-mta-sts-bad-id = { $name }: { $record } has no valid id (1 to 32 letters and digits)
check-mta-sts-bad-id-fix = give it id=<letters and digits>, changed with every policy change
check-mta-sts-several = { $name } holds more than one v=STSv1 record
# $record: the message of the record (check-record-at); $reason: why the
# policy file could not be had (its URL, then ureq's words or check-mta-sts-policy-*).
check-mta-sts-fetch-failed = { $record }; its policy file: { $reason }
check-mta-sts-fetch-failed-fix = serve the policy at https://mta-sts.{ $domain }/.well-known/mta-sts.txt with a valid certificate
# $mode: enforce, testing or none; $mx: the policy's mx patterns, listed.
check-mta-sts-policy = { $record }; policy mode { $mode }, mx { $mx }
# $hosts: the MX hosts the policy does not list, listed.
check-mta-sts-unlisted = { $record }; policy mode { $mode }, mx { $mx }; MX hosts the policy does not list: { $hosts }
check-mta-sts-unlisted-fix = list every MX host in the policy's mx lines (and change the record's id)
# $hosts: receiving MX hosts TLS failures named that the policy does not list.
check-mta-sts-failing-unlisted = { $record }; policy mode { $mode }, mx { $mx }; TLS failures name receiving MX hosts it does not list: { $hosts }
check-mta-sts-failing-unlisted-fix = list those hosts in the policy, or stop publishing them as MX
check-mta-sts-not-a-domain = { $domain } is not a domain name
check-mta-sts-policy-no-version = no "version: STSv1" line
check-mta-sts-policy-no-mode = no mode line
check-mta-sts-policy-bad-mode = mode { $mode } is none of enforce, testing, none
check-mta-sts-policy-no-mx = no mx line
