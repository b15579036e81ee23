# Table titles, labels and notes of summary, sources and policy (src/insight/render/).
# Column titles are padded to the widest cell, so they may be any width.
# Counts passed as numbers come grouped (12,345); $day, $from, $to, $share
# and the like are already formatted for the language.

tables-nothing = No reports in the period asked for.

## Column titles.

tables-column-domain = DOMAIN
tables-column-messages = MESSAGES
tables-column-dmarc = DMARC
tables-column-dkim = DKIM
tables-column-spf = SPF
tables-column-quarantine = QUAR
tables-column-reject = REJECT
tables-column-orgs = ORGS
tables-column-policy = POLICY
tables-column-tls-ok = TLS OK
tables-column-tls-failed = TLS FAILED
tables-column-failed-share = FAILED%
tables-column-failure-reports = FAILURE RPTS
tables-column-incidents = INCIDENTS
tables-column-source = SOURCE
tables-column-name = NAME
tables-column-receiving-mx = RECEIVING MX
tables-column-failed = FAILED
tables-column-sending-ips = SENDING IPS
tables-column-last-seen = LAST SEEN
tables-column-reports = REPORTS
tables-column-latest = LATEST
tables-column-auth-failure = AUTH FAILURE
tables-column-failing = FAILING
tables-column-diagnosis = DIAGNOSIS

## summary

# A domain's line under the aggregate table. $reports: its aggregate
# reports; $from, $to: the first and last day they cover; $policy: the
# DMARC record they saw, or tables-no-policy-seen.
tables-summary-domain-period = { $domain }: { $reports } reports, { $from } to { $to }; published: { $policy }
tables-summary-domain = { $domain }: { $reports } reports; published: { $policy }
tables-no-policy-seen = no policy seen

tables-tls-failure-title = SMTP TLS reports and DMARC failure reports

# A domain's line under the TLS and failure table: its parts
# (tables-summary-tls, tables-summary-failures) joined by
# tables-parts-separator.
tables-domain-line = { $domain }: { $parts }
tables-parts-separator = { "; " }
tables-summary-tls =
    { $reports ->
        [one] { $reports } TLS report
       *[other] { $reports } TLS reports
    } from { $reporters ->
        [one] { $reporters } organisation
       *[other] { $reporters } organisations
    }, { $from } to { $to }
# $kinds: tables-auth-failure-kind joined by tables-list-separator.
tables-summary-failures =
    { $reports ->
        [one] { $reports } failure report
       *[other] { $reports } failure reports
    } ({ $kinds }), latest arrival { $day }
tables-auth-failure-kind = { $kind } { $reports }
# The kind of a failure report that gives no Auth-Failure.
tables-auth-failure-not-given = not given
tables-list-separator = { ", " }

## sources

tables-no-aggregate-reports = no aggregate reports
# $code: the diagnosis code (not translated); $message: the diagnosis.
tables-diagnosis = { $code }: { $message }
tables-approved-by-you = approved by you
tables-approved-by-you-as = approved by you as { $name }
tables-denied-by-you = denied by you
tables-denied-by-you-as = denied by you as { $name }
# $authenticated: of the $reporters, those whose report mail authenticated.
tables-reported-by =
    reported by { $reporters ->
        [one] { $reporters } organisation
       *[other] { $reporters } organisations
    }, { $authenticated } authenticated
tables-more-sources = … { $n } more sources (--limit 0 shows all)
tables-more-receiving-mx = … { $n } more receiving MX hosts (--limit 0 shows all)
tables-more-source-ips = … { $n } more source IPs (--limit 0 shows all)
tables-tls-failures-title = TLS failures per receiving MX
tables-no-mx-named = (no MX named)
# A TLS result type (not translated) and its failed sessions.
tables-result-type = { $type } { $sessions }
tables-failure-sources-title = failure reports per source IP

## policy

# $step: the policy of the next step, such as quarantine.
tables-policy-at-reject = { $domain }: at p=reject: the end of the road
tables-policy-ready = { $domain }: ready for p={ $step }
tables-policy-not-ready = { $domain }: not ready for p={ $step }
tables-published-now = published now:
tables-publish-next = publish next at _dmarc.{ $domain }:
tables-next-step = the next step, once ready:
tables-as-a-test = or first, as a test (t=y: receivers apply one step less):
# $share: $legitimate of all $messages, as a percentage.
tables-evidence =
    evidence: { $messages ->
        [one] { $messages } message
       *[other] { $messages } messages
    } over { $days ->
        [one] { $days } day
       *[other] { $days } days
    }; { $failing } fail DMARC, { $legitimate } of them from your own sources ({ $share }), { $unauthorised } from unauthorised ones
tables-affected-title = your sources the next step would catch today:

## The note under every table.

tables-left-out-title = Left out, from senders whose report mail did not authenticate (--include-unauthenticated counts them):
tables-left-out =
    { $domain }: { $reports ->
        [one] { $reports } report
       *[other] { $reports } reports
    } in { $messages ->
        [one] { $messages } message
       *[other] { $messages } messages
    }
