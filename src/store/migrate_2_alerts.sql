-- dmarc-sink store, schema version 2: what alerts need to remember.
-- Users query these tables directly: names here are part of the interface and
-- are documented in README.md. Change them only with a new migration.

-- The sources seen failing DMARC for a domain (a record fails DMARC when
-- neither its aligned DKIM nor its aligned SPF passed). A source failing for
-- the first time raises a `new_failing_source` alert under `serve`; `import`
-- and `reparse` add to this table without alerting.
CREATE TABLE failing_sources (
    policy_domain TEXT    NOT NULL,
    source_ip     TEXT    NOT NULL,
    first_report  INTEGER REFERENCES reports(id),  -- the report that first showed it failing
    first_seen    INTEGER NOT NULL,                -- unix seconds: that report's date_begin
    PRIMARY KEY (policy_domain, source_ip)
);

-- Sources that failed before this version are known already: an upgrade must
-- not alert on history. Each takes the earliest report that showed it failing
-- (SQLite fills the bare column rep.id from the row that holds min()).
INSERT INTO failing_sources (policy_domain, source_ip, first_report, first_seen)
SELECT rep.policy_domain, rec.source_ip, rep.id, min(rep.date_begin)
FROM records rec JOIN reports rep ON rep.id = rec.report
WHERE rec.dkim IS NOT 'pass' AND rec.spf IS NOT 'pass'
GROUP BY rep.policy_domain, rec.source_ip;

-- Every alert raised by `serve`, written in the same transaction as the
-- report that raised it, so a crash or a retry cannot raise it twice.
CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    created_at    INTEGER NOT NULL,                -- unix seconds
    kind          TEXT    NOT NULL,                -- 'new_failing_source' or 'failure_threshold'
    policy_domain TEXT    NOT NULL,
    report        INTEGER REFERENCES reports(id),  -- the report that raised it
    day           TEXT,                            -- failure_threshold: UTC day (YYYY-MM-DD)
                                                   -- of the report's date_begin
    details       TEXT    NOT NULL                 -- the JSON document (alerts.webhook)
);
-- The failure threshold alerts once per policy domain and day.
CREATE UNIQUE INDEX alerts_threshold_once ON alerts (policy_domain, day)
    WHERE kind = 'failure_threshold';
