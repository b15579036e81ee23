# The weekly digest mail (src/insight/digest/): its subject, its text part
# and its HTML part. The HTML part puts these texts into the mail as they
# are: they must hold no markup. $since and $until are days; $first and
# $last are the period's ends as RFC 3339 timestamps, for commands.

## The subject (after digest.subject_prefix)

# $figures: digest-subject-figures, or digest-subject-quiet.
digest-subject = DMARC digest { $since } to { $until }: { $figures }
digest-subject-quiet = nothing arrived
# $messages: a count, not a plural: the subject stays short.
digest-subject-figures = { $messages } messages, { $share } DMARC pass
# Added when reporters or domains went silent; $figures: what comes before.
digest-subject-silent = { $figures }, { $silent } silent

## The head and foot of both parts

digest-title = DMARC digest for { $since } to { $until } (UTC)
# $domains: the domains asked for, joined by ", ".
digest-domains = Domains: { $domains }
# $version: dmarc-sink's version; $command: the `html` command for the
# period (in the HTML part as <code>).
digest-footer = Sent by dmarc-sink { $version } every week, quiet or not. Charts of the period: { $command }

# A line about one domain: $domain, then $text about it.
digest-domain-line = { $domain }: { $text }

## A quiet week

digest-quiet-heading = Nothing arrived
digest-quiet-text = No DMARC aggregate, SMTP TLS or failure report arrived between { $since } and { $until } (UTC). This mail comes every week all the same: its arrival shows that dmarc-sink, its store and its timer are alive.

## DMARC pass per domain

digest-pass-heading = DMARC pass per domain, against the period before
digest-no-aggregate = No DMARC aggregate report in the period.
# Column titles of the text part (capitals) and the HTML part.
digest-column-domain-text = DOMAIN
digest-column-messages-text = MESSAGES
digest-column-dmarc-text = DMARC
digest-column-before-text = BEFORE
digest-column-change-text = CHANGE
digest-column-domain = Domain
digest-column-messages = Messages
digest-column-dmarc-pass = DMARC pass
digest-column-before = Before
digest-column-change = Change
# The change of the DMARC pass share: new (no period before), no change,
# or $points such as +1.5 or -0.3.
digest-change-new = new
digest-change-none = no change
digest-change-points = { $points } pts

## New and failing sources

digest-new-heading = New sources (first seen in the period)
digest-failing-heading = Failing sources not approved (mail failing DMARC)
digest-none = None.
digest-column-source-text = SOURCE
digest-column-name-text = NAME
digest-column-failing-text = FAILING
digest-column-diagnosis-text = DIAGNOSIS
digest-column-source = Source
digest-column-name = Name
digest-column-failing = Failing
digest-column-diagnosis = Diagnosis
# $n: sources not shown; $command: `dmarc-sink sources …` for them.
digest-more-sources = … and { $n } more: { $command } lists them all.
# The HTML part's, with the domain named.
digest-more-sources-of = … and { $n } more for { $domain }: { $command } lists them all.

## Reports left out

digest-left-out-heading = Left out as unauthenticated
digest-left-out-none = None: every report came from report mail that authenticated.
# $flag: --include-unauthenticated (in the HTML part as <code>).
digest-left-out-text = Reports from senders whose report mail did not authenticate; they are not counted above ({ $flag } counts them):
digest-left-out-counts = { $reports ->
        [one] { $reports } report
       *[other] { $reports } reports
    } in { $messages ->
        [one] { $messages } message
       *[other] { $messages } messages
    }

## Silence

digest-silent-heading = Silent reporters and domains
digest-silent-none = None: every regular reporter is still reporting.
# $org: the reporter's name; $days: days it reported on; $last: a day.
digest-silent-reporter = { $domain }: { $org } reported on { $days } of the last 30 days and has sent nothing since its report up to { $last }
digest-silent-domain = { $domain }: no report at all since the one up to { $last }

## SMTP TLS

digest-tls-heading = TLS failures by receiving MX
digest-no-tls = No SMTP TLS report in the period.
digest-tls-failed = { $failed } of { $sessions } TLS sessions failed ({ $share })
digest-no-mx-named = (no MX named)
digest-column-receiving-mx-text = RECEIVING MX
digest-column-failed-text = FAILED
digest-column-result-types-text = RESULT TYPES
digest-column-receiving-mx = Receiving MX
digest-column-failed-sessions = Failed sessions
digest-column-result-types = Result types

## Policy readiness

# $days: how many days of reports the verdict reads; $until: the last.
digest-readiness-heading-text = Policy readiness (reports of the { $days } days to { $until })
digest-readiness-heading = Policy readiness
digest-readiness-days = Reports of the { $days } days to { $until }.
digest-readiness-none = No DMARC aggregate report in those days.
digest-readiness-at-end = at p=reject: the end of the road
digest-readiness-ready = ready for p={ $p }
digest-readiness-not-ready = not ready for p={ $p }
# $record: the record, as <code>.
digest-readiness-publish = Publish: { $record }
digest-readiness-next = Next, once ready: { $record }
