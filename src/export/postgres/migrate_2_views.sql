-- dmarc-sink in PostgreSQL, schema version 2: the fleet's views, which count
-- a report once however many sinks stored it.
--
-- The same report mailed to two MX hosts is stored by both sinks, and each
-- ships its copy. A report's identity is (org_name, report_id,
-- policy_domain) for an aggregate report and (org_name, report_id) for a TLS
-- report, compared exactly as each sink's store does (its unique index).
-- Of the copies of one identity that no sink superseded, the views keep one:
-- the copy from an 'authenticated' message, else from an 'unchecked' one,
-- else an 'unauthenticated' one; between equals the first received (then
-- the lower instance name and id), as a sink keeps the first of equals. As
-- in a sink's own views (store migrations 5 and 6), the totals leave out
-- the reports whose kept copy came in an unauthenticated message.
--
-- A report whose message has not arrived yet is not counted until it has.
-- Domains are grouped lower-cased; days are UTC days of the report range's
-- begin, as timestamptz at midnight UTC, which Grafana takes as time.

-- The copy kept of each aggregate report identity, with its message's auth.
CREATE VIEW dmarc_sink.fleet_reports AS
SELECT instance, id, message, org_name, report_id, policy_domain, date_begin, date_end,
       auth, adkim, aspf, p, sp, pct, np, testing
FROM (SELECT rep.instance, rep.id, rep.message, rep.org_name, rep.report_id,
             lower(rep.policy_domain) AS policy_domain,
             rep.date_begin, rep.date_end, m.auth,
             rep.adkim, rep.aspf, rep.p, rep.sp, rep.pct, rep.np, rep.testing,
             row_number() OVER (
                 PARTITION BY rep.org_name, rep.report_id, rep.policy_domain
                 ORDER BY CASE m.auth WHEN 'authenticated' THEN 0 WHEN 'unchecked' THEN 1 ELSE 2 END,
                          m.received_at, rep.instance, rep.id) AS copy
      FROM dmarc_sink.reports rep
      JOIN dmarc_sink.messages m ON m.instance = rep.instance AND m.id = rep.message
      WHERE rep.superseded_by IS NULL) ranked
WHERE copy = 1;

-- The records of the kept copies, with the DMARC verdict of each (pass when
-- the policy_evaluated DKIM or SPF passed, that is aligned and passed).
CREATE VIEW dmarc_sink.fleet_records AS
SELECT rec.instance,
       rec.id          AS record,
       rep.id          AS report,
       rep.org_name,
       rep.report_id,
       rep.policy_domain,
       rep.date_begin,
       rep.date_end,
       rep.auth,
       rec.source_ip,
       rec.source_addr,
       rec.count,
       rec.disposition,
       rec.dkim,
       rec.spf,
       CASE WHEN rec.dkim = 'pass' OR rec.spf = 'pass' THEN 'pass' ELSE 'fail' END AS dmarc,
       rec.header_from,
       rec.envelope_from,
       rec.envelope_to
FROM dmarc_sink.fleet_reports rep
JOIN dmarc_sink.records rec ON rec.instance = rep.instance AND rec.report = rep.id;

-- Every DKIM and SPF result of the fleet's records; `aligned` is the
-- sink's own verdict, shipped with the row (migrate_1.sql), so the fleet
-- and each sink cannot disagree on alignment.
CREATE VIEW dmarc_sink.fleet_auth_results AS
SELECT rec.instance, rec.record, rec.policy_domain, 'dkim' AS method,
       d.domain, d.selector, d.result, coalesce(d.aligned, false) AS aligned
FROM dmarc_sink.fleet_records rec
JOIN dmarc_sink.dkim_results d ON d.instance = rec.instance AND d.record = rec.record
UNION ALL
SELECT rec.instance, rec.record, rec.policy_domain, 'spf', s.domain, NULL, s.result,
       coalesce(s.aligned, false)
FROM dmarc_sink.fleet_records rec
JOIN dmarc_sink.spf_results s ON s.instance = rec.instance AND s.record = rec.record;

-- Totals per policy domain and UTC day, as a sink's daily_totals view; the
-- shares are fractions of messages (0 to 1).
CREATE VIEW dmarc_sink.daily_pass AS
SELECT policy_domain, day, reports, messages, dmarc_pass, dkim_aligned_pass, spf_aligned_pass,
       quarantined, rejected,
       dmarc_pass::float8 / nullif(messages, 0)        AS dmarc_pass_share,
       dkim_aligned_pass::float8 / nullif(messages, 0) AS dkim_aligned_pass_share,
       spf_aligned_pass::float8 / nullif(messages, 0)  AS spf_aligned_pass_share
FROM (SELECT policy_domain,
             date_trunc('day', date_begin, 'UTC')                              AS day,
             count(DISTINCT (instance, report))                                AS reports,
             sum(count)::bigint                                                        AS messages,
             coalesce(sum(count) FILTER (WHERE dmarc = 'pass'), 0)::bigint             AS dmarc_pass,
             coalesce(sum(count) FILTER (WHERE dkim = 'pass'), 0)::bigint              AS dkim_aligned_pass,
             coalesce(sum(count) FILTER (WHERE spf = 'pass'), 0)::bigint               AS spf_aligned_pass,
             coalesce(sum(count) FILTER (WHERE disposition = 'quarantine'), 0)::bigint AS quarantined,
             coalesce(sum(count) FILTER (WHERE disposition = 'reject'), 0)::bigint     AS rejected
      FROM dmarc_sink.fleet_records
      WHERE auth <> 'unauthenticated'
      GROUP BY 1, 2) totals;

-- Messages per policy domain, UTC day and disposition the receivers applied.
CREATE VIEW dmarc_sink.dispositions AS
SELECT policy_domain,
       date_trunc('day', date_begin, 'UTC')                              AS day,
       coalesce(sum(count) FILTER (WHERE disposition = 'none'), 0)::bigint       AS none,
       coalesce(sum(count) FILTER (WHERE disposition = 'quarantine'), 0)::bigint AS quarantine,
       coalesce(sum(count) FILTER (WHERE disposition = 'reject'), 0)::bigint     AS reject
FROM dmarc_sink.fleet_records
WHERE auth <> 'unauthenticated'
GROUP BY 1, 2;

-- Per policy domain and sending source, what `dmarc-sink sources` reads to
-- diagnose it: the messages and their passes; spf_pass_unaligned, the
-- messages whose aligned SPF did not pass though SPF passed for a domain
-- that does not align (the source's own envelope domain); likewise
-- dkim_pass_unaligned for DKIM; own_dkim_fail, the messages whose aligned
-- DKIM did not pass and that carried a failing signature of an aligned
-- domain (a key or signing problem); the reporting organisations, those
-- of them whose reports came authenticated, and the first range begin and
-- last range end.
CREATE VIEW dmarc_sink.sources AS
SELECT rec.policy_domain,
       rec.source_ip,
       rec.source_addr,
       sum(rec.count)::bigint                                   AS messages,
       coalesce(sum(rec.count) FILTER (WHERE rec.dmarc = 'pass'), 0)::bigint AS dmarc_pass,
       coalesce(sum(rec.count) FILTER (WHERE rec.dkim = 'pass'), 0)::bigint  AS dkim_aligned_pass,
       coalesce(sum(rec.count) FILTER (WHERE rec.spf = 'pass'), 0)::bigint   AS spf_aligned_pass,
       coalesce(sum(rec.count) FILTER (WHERE rec.disposition = 'quarantine'), 0)::bigint AS quarantined,
       coalesce(sum(rec.count) FILTER (WHERE rec.disposition = 'reject'), 0)::bigint     AS rejected,
       coalesce(sum(rec.count) FILTER (
           WHERE rec.spf IS DISTINCT FROM 'pass' AND EXISTS (
               SELECT 1 FROM dmarc_sink.fleet_auth_results a
               WHERE a.instance = rec.instance AND a.record = rec.record AND a.method = 'spf'
                 AND a.result = 'pass' AND a.domain IS NOT NULL AND NOT a.aligned)), 0)::bigint
                                                        AS spf_pass_unaligned,
       coalesce(sum(rec.count) FILTER (
           WHERE rec.dkim IS DISTINCT FROM 'pass' AND EXISTS (
               SELECT 1 FROM dmarc_sink.fleet_auth_results a
               WHERE a.instance = rec.instance AND a.record = rec.record AND a.method = 'dkim'
                 AND a.result = 'pass' AND a.domain IS NOT NULL AND NOT a.aligned)), 0)::bigint
                                                        AS dkim_pass_unaligned,
       coalesce(sum(rec.count) FILTER (
           WHERE rec.dkim IS DISTINCT FROM 'pass' AND EXISTS (
               SELECT 1 FROM dmarc_sink.fleet_auth_results a
               WHERE a.instance = rec.instance AND a.record = rec.record AND a.method = 'dkim'
                 AND a.result IS DISTINCT FROM 'pass' AND a.aligned)), 0)::bigint
                                                        AS own_dkim_fail,
       count(DISTINCT rec.org_name)                     AS reporters,
       count(DISTINCT rec.org_name) FILTER (WHERE rec.auth = 'authenticated')
                                                        AS authenticated_reporters,
       min(rec.date_begin)                              AS first_seen,
       max(rec.date_end)                                AS last_seen
FROM dmarc_sink.fleet_records rec
WHERE rec.auth <> 'unauthenticated'
GROUP BY rec.policy_domain, rec.source_ip, rec.source_addr;

-- The copy kept of each TLS report identity, chosen as for aggregate
-- reports.
CREATE VIEW dmarc_sink.fleet_tls_reports AS
SELECT instance, id, message, org_name, report_id, date_begin, date_end, auth
FROM (SELECT rep.instance, rep.id, rep.message, rep.org_name, rep.report_id,
             rep.date_begin, rep.date_end, m.auth,
             row_number() OVER (
                 PARTITION BY rep.org_name, rep.report_id
                 ORDER BY CASE m.auth WHEN 'authenticated' THEN 0 WHEN 'unchecked' THEN 1 ELSE 2 END,
                          m.received_at, rep.instance, rep.id) AS copy
      FROM dmarc_sink.tls_reports rep
      JOIN dmarc_sink.messages m ON m.instance = rep.instance AND m.id = rep.message
      WHERE rep.superseded_by IS NULL) ranked
WHERE copy = 1;

-- The failure details of the kept TLS reports, one row each, with their
-- policy's domain (lower-cased) and the receiving MX host (lower-cased,
-- without a trailing dot; NULL when the failure names none, as when the
-- policy could not be fetched).
CREATE VIEW dmarc_sink.fleet_tls_failures AS
SELECT f.instance,
       f.id                                    AS failure,
       rep.id                                  AS report,
       rep.org_name,
       rep.date_begin,
       rep.date_end,
       rep.auth,
       lower(pol.policy_domain)                AS policy_domain,
       pol.policy_type,
       lower(rtrim(f.receiving_mx_hostname, '.')) AS mx_host,
       f.result_type,
       f.sending_mta_ip,
       f.sending_mta_addr,
       f.failed_sessions
FROM dmarc_sink.fleet_tls_reports rep
JOIN dmarc_sink.tls_policies pol ON pol.instance = rep.instance AND pol.report = rep.id
JOIN dmarc_sink.tls_failures f ON f.instance = pol.instance AND f.policy = pol.id;

-- TLS failures per policy domain and receiving MX host: the failed
-- sessions, the result types seen (most failed sessions first), the
-- distinct sending MTAs and reporting organisations, and the first range
-- begin and last range end.
CREATE VIEW dmarc_sink.tls_failures_by_mx AS
SELECT policy_domain,
       mx_host,
       sum(failed_sessions)::bigint                AS failed_sessions,
       (SELECT string_agg(t.result_type, ', ' ORDER BY t.sessions DESC, t.result_type)
        FROM (SELECT g.result_type, sum(g.failed_sessions) AS sessions
              FROM dmarc_sink.fleet_tls_failures g
              WHERE g.auth <> 'unauthenticated'
                AND g.policy_domain = f.policy_domain
                AND g.mx_host IS NOT DISTINCT FROM f.mx_host
              GROUP BY g.result_type) t)   AS result_types,
       count(DISTINCT sending_mta_ip)      AS sending_mta_ips,
       count(DISTINCT org_name)            AS reporters,
       min(date_begin)                     AS first_seen,
       max(date_end)                       AS last_seen
FROM dmarc_sink.fleet_tls_failures f
WHERE auth <> 'unauthenticated'
GROUP BY policy_domain, mx_host;

-- Quarantine entries (messages a sink kept but could not read, or would not
-- trust) per UTC day of quarantining and kind, over the fleet. Each sink
-- quarantines its own copy: `entries` counts them all, `sinks` how many
-- sinks quarantined something of that kind that day.
CREATE VIEW dmarc_sink.quarantine_daily AS
SELECT date_trunc('day', created_at, 'UTC') AS day,
       kind,
       count(*)                             AS entries,
       count(DISTINCT instance)             AS sinks
FROM dmarc_sink.quarantine
GROUP BY 1, 2;

-- Alerts per UTC day, kind and policy domain (lower-cased). An alert with
-- an occasion (the hourly ones) is raised once per kind, domain, subject
-- and occasion by each sink, so `alerts` counts those once across the
-- fleet; one without (about a report) counts once per sink that raised it.
-- `raised` counts every row.
CREATE VIEW dmarc_sink.alerts_daily AS
SELECT date_trunc('day', created_at, 'UTC') AS day,
       kind,
       lower(policy_domain)                 AS policy_domain,
       count(DISTINCT CASE WHEN occasion IS NOT NULL
                           THEN ROW(''::text, coalesce(subject, ''), occasion, 0::bigint)
                           ELSE ROW(instance, ''::text, ''::text, id) END) AS alerts,
       count(*)                             AS raised
FROM dmarc_sink.alerts
GROUP BY 1, 2, 3;
