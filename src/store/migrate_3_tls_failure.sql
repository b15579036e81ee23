-- dmarc-sink store, schema version 3: SMTP TLS reports (RFC 8460) and DMARC
-- failure reports (RFC 6591).
-- Users query these tables directly: names here are part of the interface and
-- are documented in README.md. Change them only with a new migration.
-- Keyword values (policy_type, result_type, feedback_type, auth_failure,
-- delivery_result) and domains are stored lower-cased.

-- One SMTP TLS report. (org_name, report_id) is the report's identity
-- (RFC 8460 makes report-id unique per reporter): a reporter's retry is
-- recognised by it and not stored twice.
CREATE TABLE tls_reports (
    id           INTEGER PRIMARY KEY,
    message      INTEGER NOT NULL REFERENCES messages(id),  -- the message it came in
    member       TEXT    NOT NULL,         -- where in that message (see quarantine.member)
    org_name     TEXT    NOT NULL,         -- organization-name
    report_id    TEXT    NOT NULL,         -- report-id
    date_begin   INTEGER NOT NULL,         -- date-range, unix seconds
    date_end     INTEGER NOT NULL,
    contact_info TEXT
);
CREATE UNIQUE INDEX tls_reports_identity ON tls_reports (org_name, report_id);
CREATE INDEX tls_reports_message ON tls_reports (message);

-- Each entry of a TLS report's `policies`: the policy the sender applied to
-- a domain and how many TLS sessions succeeded and failed under it.
CREATE TABLE tls_policies (
    id                  INTEGER PRIMARY KEY,
    report              INTEGER NOT NULL REFERENCES tls_reports(id) ON DELETE CASCADE,
    policy_type         TEXT    NOT NULL,  -- sts, tlsa, no-policy-found
    policy_domain       TEXT    NOT NULL,
    policy_string       TEXT,              -- the policy's lines, joined with newlines
    mx_host             TEXT,              -- the MTA-STS MX patterns, joined with newlines
    successful_sessions INTEGER NOT NULL,  -- total-successful-session-count
    failed_sessions     INTEGER NOT NULL   -- total-failure-session-count
);
CREATE INDEX tls_policies_report ON tls_policies (report);
CREATE INDEX tls_policies_domain ON tls_policies (policy_domain);

-- Each entry of a policy's `failure-details`.
CREATE TABLE tls_failures (
    policy                 INTEGER NOT NULL REFERENCES tls_policies(id) ON DELETE CASCADE,
    result_type            TEXT    NOT NULL,  -- starttls-not-supported, certificate-expired,
                                              -- validation-failure, sts-policy-fetch-error, ...
    sending_mta_ip         TEXT,
    receiving_mx_hostname  TEXT,
    receiving_mx_helo      TEXT,
    receiving_ip           TEXT,
    failed_sessions        INTEGER NOT NULL,  -- failed-session-count
    additional_information TEXT,
    failure_reason_code    TEXT
);
CREATE INDEX tls_failures_policy ON tls_failures (policy);

-- The TLS failure types seen for each policy domain. A type seen for the
-- first time raises a `new_tls_failure` alert under `serve`.
CREATE TABLE tls_failure_types (
    policy_domain TEXT    NOT NULL,
    result_type   TEXT    NOT NULL,
    first_report  INTEGER REFERENCES tls_reports(id),  -- the report that first showed it
    first_seen    INTEGER NOT NULL,                    -- that report's date_begin
    PRIMARY KEY (policy_domain, result_type)
);

-- One DMARC failure report: the feedback fields of an ARF report (RFC 5965
-- with the RFC 6591 fields) and the failed message's headers.
CREATE TABLE failure_reports (
    id                 INTEGER PRIMARY KEY,
    message            INTEGER NOT NULL REFERENCES messages(id),  -- the message it came in
    member             TEXT    NOT NULL,  -- its message/feedback-report part (see quarantine.member)
    reporter           TEXT,              -- the domain of the report message's From address
    report_message_id  TEXT,              -- the report message's Message-ID, without <>
    feedback_type      TEXT    NOT NULL,  -- Feedback-Type: auth-failure (or abuse, fraud, ...)
    auth_failure       TEXT,              -- Auth-Failure: dmarc, dkim, spf, adsp, bodyhash, ...
    source_ip          TEXT,              -- Source-IP
    reported_domain    TEXT    NOT NULL,  -- the first Reported-Domain
    original_mail_from TEXT,              -- Original-Mail-From, without <>
    original_rcpt_to   TEXT,              -- Original-Rcpt-To, one per line
    arrival_date       INTEGER,           -- Arrival-Date, unix seconds
    delivery_result    TEXT,              -- Delivery-Result: delivered, spam, policy, reject, other
    dkim_domain        TEXT,              -- DKIM-Domain
    dkim_selector      TEXT,              -- DKIM-Selector
    spf_dns            TEXT,              -- SPF-DNS
    incidents          INTEGER NOT NULL,  -- Incidents (1 when absent)
    fields             TEXT    NOT NULL,  -- every feedback field as sent: JSON [[name, value], ...]
    original_headers   TEXT,              -- the failed message's header section
    original_body      BLOB               -- its body: only with store.keep_failure_bodies
);
CREATE UNIQUE INDEX failure_reports_member ON failure_reports (message, member);
CREATE INDEX failure_reports_domain ON failure_reports (reported_domain, arrival_date);
-- A reporter's retry is the same report message again (see the store).
CREATE INDEX failure_reports_report_message ON failure_reports (report_message_id);

-- Alerts about TLS reports name the TLS report that raised them.
ALTER TABLE alerts ADD COLUMN tls_report INTEGER REFERENCES tls_reports(id);
