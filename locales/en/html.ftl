# The HTML page of `html` (src/insight/html/).
# The text of these messages goes into the page as it is: it must hold no
# markup. Variables named $serve, $rua, $flag, $command, $record, $time,
# $domain and the like arrive as markup already made safe (<code>, <time>,
# escaped report strings).

## The page's head and foot

# $period: html-period, or html-period-none.
html-title = DMARC reports · { $period }
# The first and the last day of the reports shown.
html-period = { $first } – { $last }
html-period-none = nothing yet
html-heading = DMARC and SMTP TLS reports
# $time: the generation time, as a <time> element.
html-generated = generated { $time }
# $what: the parts of the scope asked for, joined by html-asked-separator.
html-asked = asked for: { $what }
html-asked-separator = { "; " }
# $names: the domains, joined by ", ".
html-asked-domains = domains { $names }
html-asked-since = reports from { $time }
html-asked-until = reports before { $time }
# $version: dmarc-sink's version.
html-footer = Written by dmarc-sink { $version }. This page is self-contained: it loads nothing and runs no script.

## An empty page

html-empty-heading = Nothing yet
# $serve, $rua, $import: <code>dmarc-sink serve</code>, <code>rua</code>, <code>dmarc-sink import</code>.
html-empty-text = No reports are stored for the period and domains asked for. Reports arrive once { $serve } receives mail at a domain's { $rua } address, or with { $import }; big reporters send one a day.

## What the page does not count

html-left-out-heading = Left out
# $flag: <code>--include-unauthenticated</code>.
html-left-out-text = Report mail that did not authenticate (its sender's DMARC did not pass) is not counted on this page; { $flag } counts it.
html-left-out-counts = { $reports ->
        [one] { $reports } report
       *[other] { $reports } reports
    } in { $messages ->
        [one] { $messages } message
       *[other] { $messages } messages
    }

## The overview of the domains

html-overview-heading = Domains
html-column-domain = Domain
html-column-messages = Messages
html-column-dmarc-pass = DMARC pass
html-column-policy = Policy
html-column-next-step = Next step
html-column-tls-failed = TLS sessions failed
html-column-failure-reports = Failure reports
html-next-at-end = at the end: p=reject
# $p: the next policy, such as quarantine.
html-next-ready = ready for p={ $p }
html-next-not-ready = not ready for p={ $p }
# $part of $whole, in a table cell: 7 of 907.
html-part-of = { $part } of { $whole }
html-no-policy = no policy seen

## A domain's section

html-no-aggregate = No DMARC aggregate reports for this domain in the period: it is listed for its SMTP TLS or failure reports.
# $first, $last: days.
html-aggregate-reports = { $reports ->
        [one] { $reports } report
       *[other] { $reports } reports
    } from { $reporters ->
        [one] { $reporters } reporting organisation
       *[other] { $reporters } reporting organisations
    } · { $first } to { $last }
# $record: the DMARC record, as <code>.
html-published = published: { $record }
html-figure-messages = messages
html-figure-dmarc = DMARC pass
html-figure-dkim = aligned DKIM
html-figure-spf = aligned SPF
# $label: one of html-figure-*.
html-figure-detail = { $label } · { $passed } of { $messages }
html-verdict-at-end = At p=reject for all mail: nothing further to publish.
# $step: p=quarantine pct=50 and the like.
html-verdict-ready = Ready for { $step }.
html-verdict-not-ready = Not ready for { $step } yet.
# $record: the record to publish, as <code>.
html-verdict-publish = Publish: { $record }
html-verdict-next = Next: { $record }
html-chart-heading = Pass rates and messages per day
html-dispositions-heading = Dispositions
html-dispositions-text = What receivers did with the mail, as they report it.
html-disposition-none = delivered (none)
html-disposition-quarantine = quarantined
html-disposition-reject = rejected
html-sources-heading = Top sources

## The chart

# $domain: escaped.
html-chart-title = Pass rates and messages per day for { $domain }
html-chart-delivered = delivered
html-chart-quarantined = quarantined
html-chart-rejected = rejected
html-chart-messages-per-day = messages per day
# A day's tooltip, first line; $day: a date.
html-chart-tip-day = { $day }: { $messages } messages
html-chart-tip-dispositions = quarantined { $quarantined }, rejected { $rejected }

## The top sources

html-column-source = Source
html-column-diagnosis = Diagnosis
html-unnamed = unnamed
# $command: the command that lists them all, as <code>.
html-more-sources = … and { $n } more sources: { $command } lists them all.

## The SMTP TLS card

html-tls-heading = TLS failures per receiving MX
html-tls-reports = { $reports ->
        [one] { $reports } SMTP TLS report
       *[other] { $reports } SMTP TLS reports
    } from { $reporters ->
        [one] { $reporters } organisation
       *[other] { $reporters } organisations
    }
html-tls-failed = { $failed } of { $sessions } sessions failed ({ $share })
html-tls-successful = { $successful } successful
html-tls-all-succeeded = No failure details: every reported TLS session succeeded.
html-column-receiving-mx = Receiving MX
html-column-failed-sessions = Failed sessions
html-column-result-types = Result types
html-column-sending-mtas = Sending MTAs
html-column-reporters = Reporters
html-column-last-seen = Last seen
html-no-mx-named = no MX named
html-more-mx = … and { $n } more receiving MX hosts: { $command } lists them all.

## The failure-report card

html-failures-heading = Failure reports
# Said once per page, with the first failure-report card: English has
# nothing to add.
html-failures-aka = { "" }
# $latest: a day; $kinds: "dmarc 2, spf 1".
html-failures-summary = { $reports ->
        [one] { $reports } failure report
       *[other] { $reports } failure reports
    } for { $incidents ->
        [one] { $incidents } failed message
       *[other] { $incidents } failed messages
    } from { $reporters ->
        [one] { $reporters } reporter
       *[other] { $reporters } reporters
    } · latest arrival { $latest } · by kind: { $kinds }
html-not-given = not given
html-column-source-ip = Source IP
html-column-reports = Reports
html-column-incidents = Incidents
html-column-auth-failures = Auth failures
html-column-first-arrival = First arrival
html-column-latest-arrival = Latest arrival
html-more-source-ips = … and { $n } more source IPs: { $command } lists them all.

## The DNS checks card (html --check-dns)

html-dns-heading = DNS checks
html-dns-column-status = status
html-dns-column-check = check
html-dns-column-found = found
html-dns-column-fix = fix
