-- dmarc-sink store, schema version 6: what running for years needs.

-- What retention deleted, summed per policy domain, UTC day (of the reports'
-- range begin) and the trust of the messages they came in, so that
-- `summary`, `policy` and `html` still show the long trend once the reports
-- themselves are gone. Superseded reports are never counted, so never
-- rolled up. policy_domain is lower-cased.
CREATE TABLE daily_rollups (
    policy_domain     TEXT    NOT NULL,
    day               TEXT    NOT NULL,       -- YYYY-MM-DD
    auth              TEXT    NOT NULL,       -- messages.auth of the reports' messages
    reports           INTEGER NOT NULL,
    messages          INTEGER NOT NULL,
    dmarc_pass        INTEGER NOT NULL,
    dkim_aligned_pass INTEGER NOT NULL,
    spf_aligned_pass  INTEGER NOT NULL,
    quarantined       INTEGER NOT NULL,
    rejected          INTEGER NOT NULL,
    PRIMARY KEY (policy_domain, day, auth)
);

-- The identity of each aggregate report retention deleted (and rolled up):
-- a copy that comes again (an old archive imported, a late retry) is a
-- duplicate, not counted a second time.
CREATE TABLE pruned_reports (
    org_name      TEXT NOT NULL,
    report_id     TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    PRIMARY KEY (org_name, report_id, policy_domain)
) WITHOUT ROWID;

-- The operator's word on a sending source for a policy domain (lower-cased):
-- `dmarc-sink sources approve|deny|forget`. source is an IP address, a
-- CIDR block, or a DKIM or SPF domain, in its canonical form.
CREATE TABLE approved_sources (
    policy_domain TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    standing      TEXT    NOT NULL,           -- 'approved' or 'denied'
    name          TEXT,                       -- what the operator calls it
    note          TEXT,
    changed_by    TEXT    NOT NULL,           -- $USER of the last change
    changed_at    INTEGER NOT NULL,           -- unix seconds
    PRIMARY KEY (policy_domain, source)
);

-- Every change to approved_sources, never deleted: who said what, when.
CREATE TABLE approved_source_changes (
    id            INTEGER PRIMARY KEY,
    policy_domain TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    action        TEXT    NOT NULL,           -- 'approve', 'deny' or 'forget'
    name          TEXT,
    note          TEXT,
    changed_by    TEXT    NOT NULL,
    changed_at    INTEGER NOT NULL
);

-- The alerts the hourly check raises are about a subject (a reporter, a
-- source) and an occasion (the silence, the day, the policy) rather than a
-- report; each is raised once.
ALTER TABLE alerts ADD COLUMN subject TEXT;
ALTER TABLE alerts ADD COLUMN occasion TEXT;
CREATE UNIQUE INDEX alerts_once ON alerts (kind, policy_domain, coalesce(subject, ''), occasion)
    WHERE occasion IS NOT NULL;

-- daily_totals goes on showing the days retention deleted; its domains are
-- lower-cased, as the rolled-up ones are.
DROP VIEW daily_totals;
CREATE VIEW daily_totals AS
SELECT policy_domain, day,
       sum(reports) AS reports, sum(messages) AS messages, sum(dmarc_pass) AS dmarc_pass,
       sum(dkim_aligned_pass) AS dkim_aligned_pass, sum(spf_aligned_pass) AS spf_aligned_pass,
       sum(quarantined) AS quarantined, sum(rejected) AS rejected
FROM (SELECT lower(policy_domain)                                     AS policy_domain,
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
      GROUP BY lower(policy_domain), day
      UNION ALL
      SELECT policy_domain, day, reports, messages, dmarc_pass, dkim_aligned_pass,
             spf_aligned_pass, quarantined, rejected
      FROM daily_rollups
      WHERE auth IS NOT 'unauthenticated')
GROUP BY policy_domain, day;
