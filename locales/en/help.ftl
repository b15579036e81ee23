# The --help of every command and option (src/i18n/help.rs attaches them).
#
# help-<command> is a command's summary; help-<command>--<option> an
# option's, and help-arg--<option> the same option's wherever no command
# says otherwise. Sub-commands join with `-`: help-sources-approve.

help-about = Receives DMARC aggregate, SMTP TLS and DMARC failure reports and stores them in SQLite

## Options of every command

help-arg--config = Configuration file (TOML). Without one, every key has its default
help-arg--db = SQLite store, overriding `store.path` (default ./dmarc-sink.sqlite)
help-arg--lang = Language of what people read (en, ja), overriding `insight.lang` and the locale (LC_ALL, LC_MESSAGES, LANG). Logs, JSON keys, CSV headers and ids stay English
help-arg--help = Print help
help-arg--version = Print version

## Options that several commands share

help-arg--domains = A policy domain to show (repeatable; default: all)
help-arg--since = Reports whose range begins at or after: a date (2026-11-01), a UTC timestamp, or a duration back from now (30d, 12h, 2w)
help-arg--until = Reports whose range begins before: a date (that whole day is in), a UTC timestamp, or a duration back from now
help-arg--include-unauthenticated = Count reports from senders that did not authenticate too (left out by default, and counted as left out)
help-arg--postgres = Read the fleet's PostgreSQL (every sink's shipped reports, each counted once) instead of the store: postgres://user[:password]@host/db
help-arg--format = How to print: a table for people, or csv or json for programs
help-arg--domain = The policy domain
help-arg--source = An IP address (192.0.2.10), a CIDR block (192.0.2.0/24), or a DKIM or SPF domain (amazonses.com, which covers its subdomains) that passed for the source's mail
help-arg--name = What to call it
help-arg--note = A note kept beside the entry

## Receiving and storing

help-serve = Run the SMTP listener
help-serve--listen = Address to listen on, overriding `smtp.listen`
help-import = Import report files, .eml messages, directories, Maildir folders and mbox files
help-import--paths = Files, directories, Maildir folders and mbox files to import
help-import--authenticate = Authenticate each e-mail message: DKIM, and DMARC by DKIM alone (a file has no SMTP client for SPF). Without it, imported messages are `unchecked` and counted
help-reparse = Read stored messages again with this version, recovering what an older one could not read
help-reparse--all = Every stored message, not only those with quarantined payloads
help-prune = Delete messages and reports older than a cut, keeping their daily sums for `summary`, `policy` and `html`, and give the space back
help-prune--older-than = The cut: a duration back from now (400d, 52w) or a date. Default: `store.retention_days`
help-prune--dry-run = Print what would be deleted, and delete nothing
help-export = Ship the store's rows to another database once, from where the last shipping to it stopped, and print the rows shipped per table
help-export-postgres = A fleet's PostgreSQL (docs/fleet.md): schema `dmarc_sink`, created or migrated first. The password: in the URL, or from `export.postgres.password_file`; `export.postgres.raw` ships the raw messages too
help-export-postgres--url = postgres://user@host:port/database
help-export-postgres--instance = This sink's name in the fleet. Default: `export.postgres.instance`
help-check-config = Check the configuration and print it with every default filled in
help-man = Print the manual page, dmarc-sink(1), in roff, made from these commands' own help: `dmarc-sink man > dmarc-sink.1`

## Reading the reports

help-summary = Per policy domain: messages, DMARC / aligned DKIM / aligned SPF pass shares, dispositions, reporters, period and the policy last seen
help-sources = Per sending source: its name, pass shares, and a diagnosis with the fix; and the list of approved sources (`sources approve ...`)
help-sources--limit = Sources per domain (0: all). Default: 25 in a table, all otherwise
help-sources-approve = Say SOURCE sends DOMAIN's own mail: `policy` counts it as the domain's, and its failures raise no `new_failing_source` alert
help-sources-deny = Say SOURCE is not DOMAIN's, whatever its diagnosis
help-sources-forget = Take SOURCE off DOMAIN's list
help-sources-forget--source = An IP address, a CIDR block, or a DKIM or SPF domain
help-sources-export = Print the list as TOML
help-sources-import = Read a list written by `export`: its entries are approved or denied as it says; others stay unless --replace
help-sources-import--file = The TOML file to read
help-sources-import--replace = Forget every entry the file does not hold
help-policy = Per domain: is it ready for the next policy step, with the evidence and the DMARC record to publish
help-check-dns = Check each domain's DNS records (DMARC, SPF, DKIM keys, MX, TLS-RPT, MTA-STS) against the traffic its reports show, with DMARCbis advice. Exit status: 0 nothing failed, 1 a check failed, 2 could not run
help-check-dns--format = How to print: text for people, or json for programs
help-check-dns--domains = Domains to check (default: every policy domain in the store)
help-check-dns--since = Reports whose range begins at or after, for the checks held against traffic: a date, a UTC timestamp or a duration (30d)
help-check-dns--fetch-mta-sts = Fetch each MTA-STS policy file over HTTPS, and hold its mx patterns against the MX records and the receiving MX hosts that TLS failures named
help-html = Write one self-contained HTML page: pass rates over time, top sources with their diagnoses, dispositions
help-html--out = The file to write
help-html--check-dns = Add each domain's DNS checks (see `check-dns`), resolved through `[dns]`
help-digest = Mail a digest of the period (a week by default) through `digest.relay`: DMARC pass shares and their change, new and failing sources, what was left out, silent reporters, TLS failures per MX, and each domain's policy readiness. A quiet week's says so
help-digest--since = Reports whose range begins at or after: a date, a UTC timestamp, or a duration back from --until (7d, 2w)
help-digest--until = The end of the period, and the time silence is reckoned from: a date (that whole day is in), a UTC timestamp, or a duration back from now. Default: now
help-digest--domains = A policy domain to cover (repeatable; default: all)
help-digest--to = A recipient, replacing `digest.to` (repeatable)
help-digest--stdout = Print the whole message (RFC 5322) instead of sending it
help-digest--include-unauthenticated = Count reports from senders that did not authenticate too (the silent reporters never do)
help-help = Print this message or the help of the given subcommand(s)
