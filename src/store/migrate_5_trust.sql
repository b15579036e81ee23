-- dmarc-sink store, schema version 5: who sent each message, and reports
-- that a better-standing copy replaced.

-- The verdict on the message's sender: 'authenticated' (its From domain's
-- DMARC passed, or no record and an aligned DKIM signature verified),
-- 'unauthenticated', or 'unchecked' (imported, stored before this version,
-- or DNS failed). auth_results: the checks in RFC 8601 syntax.
ALTER TABLE messages ADD COLUMN auth TEXT NOT NULL DEFAULT 'unchecked';
ALTER TABLE messages ADD COLUMN auth_results TEXT;

-- A report that a report of the same identity from an authenticated
-- message replaced: kept, never counted. NULL for every other.
ALTER TABLE reports ADD COLUMN superseded_by INTEGER REFERENCES reports(id);
ALTER TABLE tls_reports ADD COLUMN superseded_by INTEGER REFERENCES tls_reports(id);
DROP INDEX reports_identity;
CREATE UNIQUE INDEX reports_identity ON reports (org_name, report_id, policy_domain)
    WHERE superseded_by IS NULL;
DROP INDEX tls_reports_identity;
CREATE UNIQUE INDEX tls_reports_identity ON tls_reports (org_name, report_id)
    WHERE superseded_by IS NULL;

-- The views count no superseded report, and their totals no report from an
-- unauthenticated message; report_records says which each record's was.
DROP VIEW source_totals;
DROP VIEW daily_totals;
DROP VIEW report_records;

CREATE VIEW report_records AS
SELECT rec.id          AS record,
       rep.id          AS report,
       rep.org_name,
       rep.report_id,
       rep.policy_domain,
       rep.date_begin,
       rep.date_end,
       rec.source_ip,
       rec.count,
       rec.disposition,
       rec.dkim,
       rec.spf,
       CASE WHEN rec.dkim = 'pass' OR rec.spf = 'pass' THEN 'pass' ELSE 'fail' END AS dmarc,
       rec.header_from,
       rec.envelope_from,
       rec.envelope_to,
       m.auth
FROM records rec
JOIN reports rep ON rep.id = rec.report
JOIN messages m ON m.id = rep.message
WHERE rep.superseded_by IS NULL;

CREATE VIEW daily_totals AS
SELECT policy_domain,
       date(date_begin, 'unixepoch')                                   AS day,
       count(DISTINCT report)                                          AS reports,
       sum(count)                                                      AS messages,
       sum(CASE WHEN dmarc = 'pass' THEN count ELSE 0 END)             AS dmarc_pass,
       sum(CASE WHEN dkim = 'pass' THEN count ELSE 0 END)              AS dkim_aligned_pass,
       sum(CASE WHEN spf = 'pass' THEN count ELSE 0 END)               AS spf_aligned_pass,
       sum(CASE WHEN disposition = 'quarantine' THEN count ELSE 0 END) AS quarantined,
       sum(CASE WHEN disposition = 'reject' THEN count ELSE 0 END)     AS rejected
FROM report_records
WHERE auth IS NOT 'unauthenticated'
GROUP BY policy_domain, day;

CREATE VIEW source_totals AS
SELECT policy_domain,
       source_ip,
       sum(count)                                          AS messages,
       sum(CASE WHEN dmarc = 'pass' THEN count ELSE 0 END) AS dmarc_pass,
       sum(CASE WHEN dkim = 'pass' THEN count ELSE 0 END)  AS dkim_aligned_pass,
       sum(CASE WHEN spf = 'pass' THEN count ELSE 0 END)   AS spf_aligned_pass,
       count(DISTINCT org_name)                            AS reporters,
       min(date_begin)                                     AS first_seen,
       max(date_end)                                       AS last_seen
FROM report_records
WHERE auth IS NOT 'unauthenticated'
GROUP BY policy_domain, source_ip;
