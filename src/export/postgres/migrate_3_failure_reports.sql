-- dmarc-sink in PostgreSQL, schema version 3: failure reports counted once
-- across the fleet. The same failure report mailed to two MX hosts is
-- stored by both sinks; one is kept per (report message's Message-ID,
-- reported domain, source IP, arrival date), as a sink keeps one, the
-- first by instance and id. A report without a Message-ID is its own.
CREATE VIEW dmarc_sink.fleet_failure_reports AS
SELECT *
FROM (SELECT f.*, row_number() OVER (
          PARTITION BY coalesce(f.report_message_id, f.instance || ':' || f.id),
                       f.reported_domain, f.source_ip, f.arrival_date
          ORDER BY f.instance, f.id) AS copy
      FROM dmarc_sink.failure_reports f) ranked
WHERE copy = 1;
