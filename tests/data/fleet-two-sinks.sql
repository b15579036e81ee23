-- Two sinks, mx1 and mx2, as their shippers would leave them in PostgreSQL
-- (tests/fleet_views.rs reads the views over it; the figures it expects are
-- worked out there).
--
-- Aggregate reports:
--   A  google.com A-1 example.com, 1 March: in both, authenticated in mx1,
--      unchecked in mx2 (received earlier there, so the first received
--      would be the wrong choice);
--   B  Yahoo B-1 Example.COM, 1 March: mx1 only, unchecked;
--   C  google.com C-1 example.org, 2 March: mx2 only, unchecked;
--   S  outlook.com S-1 example.com, 2 March: in mx1 twice, an unchecked copy
--      superseded by an authenticated one (the superseded one's count is
--      large, so that counting it shows);
--   U  forger.example U-1 example.com, 1 March: mx1 only, unauthenticated.
-- TLS reports:
--   T1 google.com T-1, 1 March: in both, authenticated in mx1, unchecked in
--      mx2 (received earlier);
--   T2 Microsoft T-2, 2 March: mx2 only, an unauthenticated copy superseded
--      by an unchecked one.

INSERT INTO dmarc_sink.messages
    (instance, id, received_at, source, size, raw_encoding, outcome, reader, auth)
VALUES
    ('mx1', 1, '2025-03-02 08:00:00+00', 'smtp', 2100, 'gzip', 'stored', 1, 'authenticated'),
    ('mx1', 2, '2025-03-02 09:00:00+00', 'smtp', 1900, 'gzip', 'stored', 1, 'unchecked'),
    ('mx1', 3, '2025-03-02 10:00:00+00', 'smtp', 1800, 'gzip', 'stored', 1, 'unauthenticated'),
    ('mx1', 4, '2025-03-02 11:00:00+00', 'smtp', 1500, 'gzip', 'stored', 1, 'authenticated'),
    ('mx1', 5, '2025-03-02 09:30:00+00', 'smtp', 1200, 'gzip', 'quarantined', 1, 'unchecked'),
    ('mx1', 6, '2025-03-03 01:00:00+00', 'import', 2000, 'gzip', 'stored', 1, 'unchecked'),
    ('mx1', 7, '2025-03-03 02:00:00+00', 'smtp', 2000, 'gzip', 'stored', 1, 'authenticated'),
    ('mx2', 1, '2025-03-02 07:00:00+00', 'smtp', 2100, 'gzip', 'stored', 1, 'unchecked'),
    ('mx2', 2, '2025-03-02 06:00:00+00', 'smtp', 1500, 'gzip', 'stored', 1, 'unchecked'),
    ('mx2', 3, '2025-03-03 07:00:00+00', 'smtp', 1700, 'gzip', 'stored', 1, 'unchecked'),
    ('mx2', 4, '2025-03-02 10:00:00+00', 'smtp', 1600, 'gzip', 'quarantined', 1, 'unauthenticated'),
    ('mx2', 5, '2025-03-03 09:00:00+00', 'smtp', 1500, 'gzip', 'stored', 1, 'unchecked'),
    ('mx2', 6, '2025-03-03 08:00:00+00', 'smtp', 1500, 'gzip', 'stored', 1, 'unauthenticated'),
    ('mx2', 7, '2025-03-02 09:31:00+00', 'smtp', 1200, 'gzip', 'quarantined', 1, 'unchecked');

INSERT INTO dmarc_sink.reports
    (instance, id, message, member, org_name, report_id, date_begin, date_end,
     policy_domain, adkim, aspf, p, sp, pct, superseded_by)
VALUES
    ('mx1', 1, 1, 'report.xml.gz', 'google.com', 'A-1',
     '2025-03-01 00:00:00+00', '2025-03-01 23:59:59+00', 'example.com', 'r', 'r', 'quarantine', NULL, 100, NULL),
    ('mx1', 2, 2, 'report.xml.gz', 'Yahoo', 'B-1',
     '2025-03-01 00:00:00+00', '2025-03-01 23:59:59+00', 'Example.COM', 'r', 'r', 'quarantine', NULL, 100, NULL),
    ('mx1', 3, 3, 'report.xml.gz', 'forger.example', 'U-1',
     '2025-03-01 00:00:00+00', '2025-03-01 23:59:59+00', 'example.com', 'r', 'r', 'none', NULL, 100, NULL),
    ('mx1', 4, 6, 'report.xml.gz', 'outlook.com', 'S-1',
     '2025-03-02 00:00:00+00', '2025-03-02 23:59:59+00', 'example.com', 'r', 'r', 'quarantine', NULL, 100, 5),
    ('mx1', 5, 7, 'report.xml.gz', 'outlook.com', 'S-1',
     '2025-03-02 00:00:00+00', '2025-03-02 23:59:59+00', 'example.com', 'r', 'r', 'quarantine', NULL, 100, NULL),
    ('mx2', 1, 1, 'report.xml.gz', 'google.com', 'A-1',
     '2025-03-01 00:00:00+00', '2025-03-01 23:59:59+00', 'example.com', 'r', 'r', 'quarantine', NULL, 100, NULL),
    ('mx2', 2, 3, 'report.xml.gz', 'google.com', 'C-1',
     '2025-03-02 00:00:00+00', '2025-03-02 23:59:59+00', 'example.org', 'r', 'r', 'reject', NULL, 100, NULL);

-- Each copy of A holds the same three records: one that passes, one from a
-- mailer that signs and bounces with its own domain (unaligned passes), one
-- whose aligned signature fails (a subdomain of the policy domain's).
INSERT INTO dmarc_sink.records
    (instance, id, report, source_ip, source_addr, count, disposition, dkim, spf, header_from, envelope_from)
VALUES
    ('mx1', 1, 1, '192.0.2.10', '192.0.2.10', 100, 'none', 'pass', 'pass', 'example.com', 'example.com'),
    ('mx1', 2, 1, '198.51.100.7', '198.51.100.7', 20, 'quarantine', 'fail', 'fail', 'example.com', 'bounces.mailer.net'),
    ('mx1', 3, 1, '203.0.113.5', '203.0.113.5', 5, 'reject', 'fail', 'fail', 'example.com', 'example.com'),
    ('mx1', 4, 2, '192.0.2.10', '192.0.2.10', 30, 'none', 'pass', 'fail', 'example.com', 'example.com'),
    ('mx1', 5, 3, '192.0.2.99', '192.0.2.99', 500, 'reject', 'fail', 'fail', 'example.com', 'example.com'),
    ('mx1', 6, 4, '192.0.2.10', '192.0.2.10', 1000, 'none', 'pass', 'pass', 'example.com', 'example.com'),
    ('mx1', 7, 5, '192.0.2.10', '192.0.2.10', 40, 'none', 'pass', 'pass', 'example.com', 'example.com'),
    ('mx2', 1, 1, '192.0.2.10', '192.0.2.10', 100, 'none', 'pass', 'pass', 'example.com', 'example.com'),
    ('mx2', 2, 1, '198.51.100.7', '198.51.100.7', 20, 'quarantine', 'fail', 'fail', 'example.com', 'bounces.mailer.net'),
    ('mx2', 3, 1, '203.0.113.5', '203.0.113.5', 5, 'reject', 'fail', 'fail', 'example.com', 'example.com'),
    ('mx2', 4, 2, '2001:db8::25', '2001:db8::25', 8, 'none', 'pass', 'pass', 'example.org', 'example.org');

INSERT INTO dmarc_sink.dkim_results (instance, id, record, domain, selector, result, aligned)
VALUES
    ('mx1', 1, 1, 'example.com', 's1', 'pass', true),
    ('mx1', 2, 2, 'mailer.net', 'm1', 'pass', false),
    ('mx1', 3, 3, 'mail.example.com', 's2', 'fail', true),
    ('mx1', 4, 4, 'example.com', 's1', 'pass', true),
    ('mx1', 5, 6, 'example.com', 's1', 'pass', true),
    ('mx1', 6, 7, 'example.com', 's1', 'pass', true),
    ('mx2', 1, 1, 'example.com', 's1', 'pass', true),
    ('mx2', 2, 2, 'mailer.net', 'm1', 'pass', false),
    ('mx2', 3, 3, 'mail.example.com', 's2', 'fail', true),
    ('mx2', 4, 4, 'example.org', 's1', 'pass', true);

INSERT INTO dmarc_sink.spf_results (instance, id, record, domain, scope, result, aligned)
VALUES
    ('mx1', 1, 1, 'example.com', 'mfrom', 'pass', true),
    ('mx1', 2, 2, 'bounces.mailer.net', 'mfrom', 'pass', false),
    ('mx1', 3, 3, 'example.com', 'mfrom', 'fail', true),
    ('mx1', 4, 4, 'example.com', 'mfrom', 'softfail', true),
    ('mx1', 5, 5, 'example.com', 'mfrom', 'fail', true),
    ('mx1', 6, 6, 'example.com', 'mfrom', 'pass', true),
    ('mx1', 7, 7, 'example.com', 'mfrom', 'pass', true),
    ('mx2', 1, 1, 'example.com', 'mfrom', 'pass', true),
    ('mx2', 2, 2, 'bounces.mailer.net', 'mfrom', 'pass', false),
    ('mx2', 3, 3, 'example.com', 'mfrom', 'fail', true),
    ('mx2', 4, 4, 'example.org', 'mfrom', 'pass', true);

INSERT INTO dmarc_sink.tls_reports
    (instance, id, message, member, org_name, report_id, date_begin, date_end, superseded_by)
VALUES
    ('mx1', 1, 4, 'report.json.gz', 'google.com', 'T-1',
     '2025-03-01 00:00:00+00', '2025-03-01 23:59:59+00', NULL),
    ('mx2', 1, 2, 'report.json.gz', 'google.com', 'T-1',
     '2025-03-01 00:00:00+00', '2025-03-01 23:59:59+00', NULL),
    ('mx2', 2, 6, 'report.json.gz', 'Microsoft', 'T-2',
     '2025-03-02 00:00:00+00', '2025-03-02 23:59:59+00', 3),
    ('mx2', 3, 5, 'report.json.gz', 'Microsoft', 'T-2',
     '2025-03-02 00:00:00+00', '2025-03-02 23:59:59+00', NULL);

INSERT INTO dmarc_sink.tls_policies
    (instance, id, report, policy_type, policy_domain, mx_host, successful_sessions, failed_sessions)
VALUES
    ('mx1', 1, 1, 'sts', 'example.com', '*.example.com', 900, 12),
    ('mx2', 1, 1, 'sts', 'example.com', '*.example.com', 900, 12),
    ('mx2', 2, 2, 'sts', 'Example.com', '*.example.com', 50, 1000),
    ('mx2', 3, 3, 'sts', 'Example.com', '*.example.com', 50, 3);

INSERT INTO dmarc_sink.tls_failures
    (instance, id, policy, result_type, sending_mta_ip, sending_mta_addr,
     receiving_mx_hostname, failed_sessions)
VALUES
    ('mx1', 1, 1, 'certificate-expired', '209.85.1.1', '209.85.1.1', 'mx1.example.com.', 10),
    ('mx1', 2, 1, 'starttls-not-supported', '209.85.1.2', '209.85.1.2', 'MX2.example.com', 2),
    ('mx2', 1, 1, 'certificate-expired', '209.85.1.1', '209.85.1.1', 'mx1.example.com.', 10),
    ('mx2', 2, 1, 'starttls-not-supported', '209.85.1.2', '209.85.1.2', 'MX2.example.com', 2),
    ('mx2', 3, 2, 'certificate-expired', '209.85.1.3', '209.85.1.3', 'mx1.example.com', 1000),
    ('mx2', 4, 3, 'certificate-expired', '209.85.1.3', '209.85.1.3', 'mx1.example.com', 3);

-- The same unreadable report reached both sinks; mx2 kept an unauthenticated
-- message whole.
INSERT INTO dmarc_sink.quarantine (instance, id, message, member, kind, error, created_at)
VALUES
    ('mx1', 1, 5, 'report.xml', 'xml', 'mismatched tag at line 3', '2025-03-02 09:30:01+00'),
    ('mx2', 1, 7, 'report.xml', 'xml', 'mismatched tag at line 3', '2025-03-02 09:31:01+00'),
    ('mx2', 2, 4, '', 'unauthenticated', 'DMARC of forger.example failed', '2025-03-02 10:00:01+00');

-- A failing source seen by mx1, and a silent reporter that both sinks
-- noticed in the same hour.
INSERT INTO dmarc_sink.alerts
    (instance, id, created_at, kind, policy_domain, report, subject, occasion, details)
VALUES
    ('mx1', 1, '2025-03-02 12:00:00+00', 'new_failing_source', 'example.com', 1, NULL, NULL,
     '203.0.113.5 failed DMARC for 5 messages'),
    ('mx1', 2, '2025-03-02 13:00:00+00', 'reporter_silent', 'example.com', NULL, 'yahoo.com', '2025-03-02',
     'Yahoo sent no report for 3 days'),
    ('mx2', 1, '2025-03-02 13:05:00+00', 'reporter_silent', 'Example.com', NULL, 'yahoo.com', '2025-03-02',
     'Yahoo sent no report for 3 days');
