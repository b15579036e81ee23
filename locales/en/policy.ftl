# Policy readiness: reasons and evidence (src/insight/policy.rs).
# The reasons are shown in the policy table, its JSON, the HTML page and the
# digest. $share and $allowed are percentages already formatted.

policy-too-few-messages = only { $messages } messages reported; at least { $min } are needed (insight.ready_min_messages)
policy-too-few-days = reports cover { $days } day(s); at least { $min } are needed (insight.ready_min_days)
# $failing messages from $sources of the domain's own sources.
policy-own-sources-fail = { $share } of mail from your own sources fails DMARC ({ $failing } messages from { $sources } source(s)); at most { $allowed } may (insight.ready_max_failure_share): fix the sources listed first
policy-within-allowed = { $share } of mail from your own sources fails DMARC, within the { $allowed } allowed, over { $days } days and { $messages } messages
policy-at-reject = p=reject applies to all mail: nothing further to publish
policy-pct-historic = the published pct is historic: DMARCbis (RFC 9989) receivers apply the policy to all mail; t=y is the testing flag now
