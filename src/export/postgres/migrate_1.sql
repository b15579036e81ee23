-- dmarc-sink in PostgreSQL, schema version 1: every sink's rows, side by side.
--
-- Each table is the SQLite table of the same name (docs/store.md) with an
-- `instance` column (the sink that stored the row: `export.postgres.instance`)
-- and the key (instance, id), where id is the row's id in that sink's store
-- (its rowid, for the tables that have no id column of their own). Times are
-- timestamptz; an IP address is kept as the reporter wrote it (`*_ip` text)
-- and, when it is one, as inet (`*_addr`), so that nothing a reporter sent is
-- lost and the fleet can still group by network. `aligned` of a DKIM or SPF
-- result: whether its domain aligns with its report's policy domain, decided
-- by the sink when it ships the row (relaxed alignment by the public suffix
-- list, the one rule the sink's own queries use), so that the fleet's views
-- need no second copy of it. Rows are shipped in id
-- order and never rewritten, so no foreign keys: a child may arrive in the
-- same batch as its parent.

CREATE TABLE dmarc_sink.messages (
    instance     text        NOT NULL,
    id           bigint      NOT NULL,
    received_at  timestamptz NOT NULL,
    source       text        NOT NULL,
    origin       text,
    remote_addr  text,
    helo         text,
    mail_from    text,
    rcpt_to      text,
    message_id   text,
    subject      text,
    from_header  text,
    size         bigint      NOT NULL,
    raw_encoding text        NOT NULL,
    outcome      text        NOT NULL,
    reader       integer     NOT NULL,
    auth         text        NOT NULL,
    auth_results text,
    PRIMARY KEY (instance, id)
);
CREATE INDEX messages_received ON dmarc_sink.messages (received_at);

-- Only with export.postgres.raw = true.
CREATE TABLE dmarc_sink.message_raw (
    instance text   NOT NULL,
    message  bigint NOT NULL,
    seq      bigint NOT NULL,
    data     bytea  NOT NULL,
    PRIMARY KEY (instance, message, seq)
);

CREATE TABLE dmarc_sink.reports (
    instance           text        NOT NULL,
    id                 bigint      NOT NULL,
    message            bigint      NOT NULL,
    member             text        NOT NULL,
    version            text,
    org_name           text        NOT NULL,
    email              text,
    extra_contact_info text,
    report_id          text        NOT NULL,
    date_begin         timestamptz NOT NULL,
    date_end           timestamptz NOT NULL,
    errors             text,
    generator          text,
    policy_domain      text        NOT NULL,
    adkim              text,
    aspf               text,
    p                  text,
    sp                 text,
    pct                bigint,
    fo                 text,
    np                 text,
    testing            text,
    discovery_method   text,
    superseded_by      bigint,
    PRIMARY KEY (instance, id)
);
CREATE INDEX reports_identity ON dmarc_sink.reports (org_name, report_id, policy_domain);
CREATE INDEX reports_domain_begin ON dmarc_sink.reports (lower(policy_domain), date_begin);
CREATE INDEX reports_message ON dmarc_sink.reports (instance, message);

CREATE TABLE dmarc_sink.records (
    instance      text   NOT NULL,
    id            bigint NOT NULL,
    report        bigint NOT NULL,
    source_ip     text   NOT NULL,
    source_addr   inet,
    count         bigint NOT NULL,
    disposition   text,
    dkim          text,
    spf           text,
    header_from   text,
    envelope_from text,
    envelope_to   text,
    PRIMARY KEY (instance, id)
);
CREATE INDEX records_report ON dmarc_sink.records (instance, report);

CREATE TABLE dmarc_sink.record_reasons (
    instance text   NOT NULL,
    id       bigint NOT NULL,
    record   bigint NOT NULL,
    type     text,
    comment  text,
    PRIMARY KEY (instance, id)
);
CREATE INDEX record_reasons_record ON dmarc_sink.record_reasons (instance, record);

CREATE TABLE dmarc_sink.dkim_results (
    instance     text   NOT NULL,
    id           bigint NOT NULL,
    record       bigint NOT NULL,
    domain       text,
    selector     text,
    result       text,
    human_result text,
    aligned      boolean,
    PRIMARY KEY (instance, id)
);
CREATE INDEX dkim_results_record ON dmarc_sink.dkim_results (instance, record);

CREATE TABLE dmarc_sink.spf_results (
    instance     text   NOT NULL,
    id           bigint NOT NULL,
    record       bigint NOT NULL,
    domain       text,
    scope        text,
    result       text,
    human_result text,
    aligned      boolean,
    PRIMARY KEY (instance, id)
);
CREATE INDEX spf_results_record ON dmarc_sink.spf_results (instance, record);

CREATE TABLE dmarc_sink.quarantine (
    instance   text        NOT NULL,
    id         bigint      NOT NULL,
    message    bigint      NOT NULL,
    member     text        NOT NULL,
    kind       text        NOT NULL,
    error      text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (instance, id)
);

CREATE TABLE dmarc_sink.tls_reports (
    instance      text        NOT NULL,
    id            bigint      NOT NULL,
    message       bigint      NOT NULL,
    member        text        NOT NULL,
    org_name      text        NOT NULL,
    report_id     text        NOT NULL,
    date_begin    timestamptz NOT NULL,
    date_end      timestamptz NOT NULL,
    contact_info  text,
    superseded_by bigint,
    PRIMARY KEY (instance, id)
);
CREATE INDEX tls_reports_identity ON dmarc_sink.tls_reports (org_name, report_id);

CREATE TABLE dmarc_sink.tls_policies (
    instance            text   NOT NULL,
    id                  bigint NOT NULL,
    report              bigint NOT NULL,
    policy_type         text   NOT NULL,
    policy_domain       text   NOT NULL,
    policy_string       text,
    mx_host             text,
    successful_sessions bigint NOT NULL,
    failed_sessions     bigint NOT NULL,
    PRIMARY KEY (instance, id)
);
CREATE INDEX tls_policies_report ON dmarc_sink.tls_policies (instance, report);

CREATE TABLE dmarc_sink.tls_failures (
    instance               text   NOT NULL,
    id                     bigint NOT NULL,
    policy                 bigint NOT NULL,
    result_type            text   NOT NULL,
    sending_mta_ip         text,
    sending_mta_addr       inet,
    receiving_mx_hostname  text,
    receiving_mx_helo      text,
    receiving_ip           text,
    failed_sessions        bigint NOT NULL,
    additional_information text,
    failure_reason_code    text,
    PRIMARY KEY (instance, id)
);
CREATE INDEX tls_failures_policy ON dmarc_sink.tls_failures (instance, policy);

CREATE TABLE dmarc_sink.failure_reports (
    instance           text   NOT NULL,
    id                 bigint NOT NULL,
    message            bigint NOT NULL,
    member             text   NOT NULL,
    reporter           text,
    report_message_id  text,
    feedback_type      text   NOT NULL,
    auth_failure       text,
    source_ip          text,
    source_addr        inet,
    reported_domain    text   NOT NULL,
    original_mail_from text,
    original_rcpt_to   text,
    arrival_date       timestamptz,
    delivery_result    text,
    dkim_domain        text,
    dkim_selector      text,
    spf_dns            text,
    incidents          bigint NOT NULL,
    fields             text   NOT NULL,
    original_headers   text,
    PRIMARY KEY (instance, id)
);
CREATE INDEX failure_reports_domain ON dmarc_sink.failure_reports (lower(reported_domain), arrival_date);

CREATE TABLE dmarc_sink.alerts (
    instance      text        NOT NULL,
    id            bigint      NOT NULL,
    created_at    timestamptz NOT NULL,
    kind          text        NOT NULL,
    policy_domain text        NOT NULL,
    report        bigint,
    tls_report    bigint,
    day           text,
    subject       text,
    occasion      text,
    details       text        NOT NULL,
    PRIMARY KEY (instance, id)
);
CREATE INDEX alerts_created ON dmarc_sink.alerts (created_at);
