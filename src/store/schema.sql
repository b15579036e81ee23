-- dmarc-sink store, schema version 1.
-- Users query these tables directly: names here are part of the interface and
-- are documented in README.md. Change them only with a new migration.

-- Every message taken in, by SMTP or by `dmarc-sink import`, report or not.
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    received_at  INTEGER NOT NULL,          -- unix seconds
    source       TEXT    NOT NULL,          -- 'smtp' or 'import'
    origin       TEXT,                      -- imported file (and mbox position)
    remote_addr  TEXT,                      -- SMTP peer address
    helo         TEXT,
    mail_from    TEXT,                      -- envelope sender
    rcpt_to      TEXT,                      -- envelope recipients, one per line
    message_id   TEXT,                      -- Message-ID header, without <>
    subject      TEXT,
    from_header  TEXT,
    size         INTEGER NOT NULL,          -- bytes as received
    raw_encoding TEXT    NOT NULL,          -- 'gzip': message_raw holds it gzip-compressed;
                                            -- 'identity': as received (already gzip or zip)
    outcome      TEXT    NOT NULL DEFAULT 'pending'
                                            -- 'stored', 'duplicate', 'quarantined', 'partial',
                                            -- 'not_a_report'
);

-- The raw bytes of each message, in chunks of up to 1 MiB (concatenate by seq).
CREATE TABLE message_raw (
    message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    data    BLOB    NOT NULL,
    PRIMARY KEY (message, seq)
);

-- One aggregate report. (org_name, report_id, policy_domain) is the report's
-- identity: a reporter's retry is recognised and stored once.
CREATE TABLE reports (
    id                 INTEGER PRIMARY KEY,
    message            INTEGER NOT NULL REFERENCES messages(id),
    member             TEXT    NOT NULL,    -- where in the message: MIME part index / zip entry
    version            TEXT,
    org_name           TEXT    NOT NULL,
    email              TEXT,
    extra_contact_info TEXT,
    report_id          TEXT    NOT NULL,
    date_begin         INTEGER NOT NULL,    -- unix seconds
    date_end           INTEGER NOT NULL,    -- unix seconds
    errors             TEXT,                -- report_metadata/error elements, one per line
    generator          TEXT,
    policy_domain      TEXT    NOT NULL,
    adkim              TEXT,
    aspf               TEXT,
    p                  TEXT,
    sp                 TEXT,
    pct                INTEGER,
    fo                 TEXT,
    np                 TEXT,
    testing            TEXT,
    discovery_method   TEXT
);
CREATE UNIQUE INDEX reports_identity ON reports (org_name, report_id, policy_domain);
CREATE INDEX reports_domain_date ON reports (policy_domain, date_begin);
CREATE INDEX reports_message ON reports (message);

-- One row of a report: a sending IP and what became of its mail.
CREATE TABLE records (
    id            INTEGER PRIMARY KEY,
    report        INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    source_ip     TEXT    NOT NULL,
    count         INTEGER NOT NULL,
    disposition   TEXT,                     -- none, quarantine, reject
    dkim          TEXT,                     -- DKIM as evaluated by policy (aligned): pass, fail
    spf           TEXT,                     -- SPF as evaluated by policy (aligned): pass, fail
    header_from   TEXT,
    envelope_from TEXT,
    envelope_to   TEXT
);
CREATE INDEX records_report ON records (report);

-- policy_evaluated/reason: why the receiver overrode the published policy.
CREATE TABLE record_reasons (
    record  INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    type    TEXT,
    comment TEXT
);
CREATE INDEX record_reasons_record ON record_reasons (record);

-- auth_results/dkim: each DKIM signature checked, aligned or not.
CREATE TABLE dkim_results (
    record       INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    domain       TEXT,
    selector     TEXT,
    result       TEXT,
    human_result TEXT
);
CREATE INDEX dkim_results_record ON dkim_results (record);

-- auth_results/spf: the SPF check, aligned or not.
CREATE TABLE spf_results (
    record       INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    domain       TEXT,
    scope        TEXT,
    result       TEXT,
    human_result TEXT
);
CREATE INDEX spf_results_record ON spf_results (record);

-- What looked like a report but could not be read, and why. The message's raw
-- bytes stay in message_raw; `payload` holds the MIME part that carried the
-- report (gzip-compressed) when there was one. `dmarc-sink reparse` retries
-- these and deletes the rows it recovers.
CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY,
    message     INTEGER NOT NULL REFERENCES messages(id),
    member      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,           -- class of error: xml, missing_element, limit, ...
    error       TEXT    NOT NULL,
    payload     BLOB,
    created_at  INTEGER NOT NULL            -- unix seconds
);
CREATE UNIQUE INDEX quarantine_member ON quarantine (message, member);

-- Each record with the report it belongs to; dmarc is the DMARC verdict
-- (pass when DKIM or SPF passed aligned).
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
       rec.envelope_to
FROM records rec JOIN reports rep ON rep.id = rec.report;

-- Messages per policy domain and day (the day the report's range begins, UTC).
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
GROUP BY policy_domain, day;

-- Messages per policy domain and sending IP over all reports.
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
GROUP BY policy_domain, source_ip;
