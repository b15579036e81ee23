//! The fleet's reports as one store: `summary`, `sources`, `policy` and
//! `html` with `--postgres URL` read every sink's rows from PostgreSQL
//! into a fresh SQLite store, one copy of each report, and answer from it
//! with the very queries they run on a sink's own store. So the fleet's
//! answers are those of a single store that received all of its mail, by
//! construction, and there is no second dialect of those queries to keep
//! in step.
//!
//! Which copy of a report is read is the fleet's views' choice
//! (`fleet_reports`, `fleet_tls_reports`: an authenticated copy before an
//! unchecked one, then the first received), as a single store's would
//! be. Failure reports are matched as a store matches them: by the report
//! message's Message-ID, reported domain, source IP and arrival date.
//! Every row gets an id of the new store's; what referred to a row of an
//! instance refers to its new id.

use super::super::ExportError;
use crate::store::Store;
use postgres::types::Type;
use rusqlite::types::Value;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The tables whose rows others refer to: their rows get ids of the new
/// store's, kept per fleet key ((instance, id) there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Parent {
    Message,
    Report,
    Record,
    TlsReport,
    TlsPolicy,
}

/// One table read from the fleet into the store.
struct Copy {
    name: &'static str,
    /// Its first columns: the row's instance and its id there, then, when
    /// it has a parent, the parent's id there; then the rest, as integers
    /// (bigint, integer) or text.
    select: &'static str,
    /// Its parameters: the new id when the rows are a parent, the parent's
    /// new id when they have one, then the rest in the select's order.
    insert: &'static str,
    /// The table whose new ids its rows are given.
    is: Option<Parent>,
    /// The table its rows belong to; a row whose parent was not kept is
    /// not either.
    parent: Option<Parent>,
}

/// Every table, parents first.
const COPIES: &[Copy] = &[
    Copy {
        name: "messages",
        select: "SELECT m.instance, m.id, extract(epoch FROM m.received_at)::bigint, m.source,
                        m.origin, m.remote_addr, m.helo, m.mail_from, m.rcpt_to, m.message_id,
                        m.subject, m.from_header, m.size, m.raw_encoding, m.outcome,
                        m.reader::bigint, m.auth, m.auth_results
                 FROM dmarc_sink.messages m
                 JOIN (SELECT instance, message FROM dmarc_sink.fleet_reports
                       UNION SELECT instance, message FROM dmarc_sink.fleet_tls_reports
                       UNION SELECT instance, message FROM dmarc_sink.fleet_failure_reports) k
                   ON k.instance = m.instance AND k.message = m.id
                 ORDER BY m.received_at, m.instance, m.id",
        insert: "INSERT INTO messages (id, received_at, source, origin, remote_addr, helo,
                     mail_from, rcpt_to, message_id, subject, from_header, size, raw_encoding,
                     outcome, reader, auth, auth_results)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17)",
        is: Some(Parent::Message),
        parent: None,
    },
    Copy {
        name: "reports",
        select: "SELECT r.instance, r.id, r.message, r.member, r.version, r.org_name, r.email,
                        r.extra_contact_info, r.report_id,
                        extract(epoch FROM r.date_begin)::bigint,
                        extract(epoch FROM r.date_end)::bigint, r.errors, r.generator,
                        r.policy_domain, r.adkim, r.aspf, r.p, r.sp, r.pct, r.fo, r.np,
                        r.testing, r.discovery_method
                 FROM dmarc_sink.reports r
                 JOIN dmarc_sink.fleet_reports f ON f.instance = r.instance AND f.id = r.id
                 ORDER BY r.instance, r.id",
        insert: "INSERT INTO reports (id, message, member, version, org_name, email,
                     extra_contact_info, report_id, date_begin, date_end, errors, generator,
                     policy_domain, adkim, aspf, p, sp, pct, fo, np, testing, discovery_method)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19, ?20, ?21, ?22)",
        is: Some(Parent::Report),
        parent: Some(Parent::Message),
    },
    Copy {
        name: "records",
        select: "SELECT rec.instance, rec.id, rec.report, rec.source_ip, rec.count,
                        rec.disposition, rec.dkim, rec.spf, rec.header_from,
                        rec.envelope_from, rec.envelope_to
                 FROM dmarc_sink.records rec
                 JOIN dmarc_sink.fleet_reports f
                   ON f.instance = rec.instance AND f.id = rec.report
                 ORDER BY rec.instance, rec.id",
        insert: "INSERT INTO records (id, report, source_ip, count, disposition, dkim, spf,
                     header_from, envelope_from, envelope_to)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        is: Some(Parent::Record),
        parent: Some(Parent::Report),
    },
    Copy {
        name: "dkim_results",
        select: "SELECT c.instance, c.id, c.record, c.domain, c.selector, c.result,
                        c.human_result
                 FROM dmarc_sink.dkim_results c
                 JOIN dmarc_sink.fleet_records f
                   ON f.instance = c.instance AND f.record = c.record
                 ORDER BY c.instance, c.id",
        insert: "INSERT INTO dkim_results (record, domain, selector, result, human_result)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
        is: None,
        parent: Some(Parent::Record),
    },
    Copy {
        name: "spf_results",
        select: "SELECT c.instance, c.id, c.record, c.domain, c.scope, c.result,
                        c.human_result
                 FROM dmarc_sink.spf_results c
                 JOIN dmarc_sink.fleet_records f
                   ON f.instance = c.instance AND f.record = c.record
                 ORDER BY c.instance, c.id",
        insert: "INSERT INTO spf_results (record, domain, scope, result, human_result)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
        is: None,
        parent: Some(Parent::Record),
    },
    Copy {
        name: "record_reasons",
        select: "SELECT c.instance, c.id, c.record, c.type, c.comment
                 FROM dmarc_sink.record_reasons c
                 JOIN dmarc_sink.fleet_records f
                   ON f.instance = c.instance AND f.record = c.record
                 ORDER BY c.instance, c.id",
        insert: "INSERT INTO record_reasons (record, type, comment) VALUES (?1, ?2, ?3)",
        is: None,
        parent: Some(Parent::Record),
    },
    Copy {
        name: "tls_reports",
        select: "SELECT t.instance, t.id, t.message, t.member, t.org_name, t.report_id,
                        extract(epoch FROM t.date_begin)::bigint,
                        extract(epoch FROM t.date_end)::bigint, t.contact_info
                 FROM dmarc_sink.tls_reports t
                 JOIN dmarc_sink.fleet_tls_reports f ON f.instance = t.instance AND f.id = t.id
                 ORDER BY t.instance, t.id",
        insert: "INSERT INTO tls_reports (id, message, member, org_name, report_id, date_begin,
                     date_end, contact_info)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        is: Some(Parent::TlsReport),
        parent: Some(Parent::Message),
    },
    Copy {
        name: "tls_policies",
        select: "SELECT p.instance, p.id, p.report, p.policy_type, p.policy_domain,
                        p.policy_string, p.mx_host, p.successful_sessions, p.failed_sessions
                 FROM dmarc_sink.tls_policies p
                 JOIN dmarc_sink.fleet_tls_reports f ON f.instance = p.instance AND f.id = p.report
                 ORDER BY p.instance, p.id",
        insert: "INSERT INTO tls_policies (id, report, policy_type, policy_domain,
                     policy_string, mx_host, successful_sessions, failed_sessions)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        is: Some(Parent::TlsPolicy),
        parent: Some(Parent::TlsReport),
    },
    Copy {
        name: "tls_failures",
        select: "SELECT x.instance, x.id, x.policy, x.result_type, x.sending_mta_ip,
                        x.receiving_mx_hostname, x.receiving_mx_helo, x.receiving_ip,
                        x.failed_sessions, x.additional_information, x.failure_reason_code
                 FROM dmarc_sink.tls_failures x
                 ORDER BY x.instance, x.id",
        insert: "INSERT INTO tls_failures (policy, result_type, sending_mta_ip,
                     receiving_mx_hostname, receiving_mx_helo, receiving_ip, failed_sessions,
                     additional_information, failure_reason_code)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        is: None,
        parent: Some(Parent::TlsPolicy),
    },
    Copy {
        name: "failure_reports",
        select: "SELECT instance, id, message, member, reporter, report_message_id,
                        feedback_type, auth_failure, source_ip, reported_domain,
                        original_mail_from, original_rcpt_to,
                        extract(epoch FROM arrival_date)::bigint, delivery_result,
                        dkim_domain, dkim_selector, spf_dns, incidents, fields, original_headers
                 FROM dmarc_sink.fleet_failure_reports
                 ORDER BY instance, id",
        insert: "INSERT INTO failure_reports (message, member, reporter, report_message_id,
                     feedback_type, auth_failure, source_ip, reported_domain,
                     original_mail_from, original_rcpt_to, arrival_date, delivery_result,
                     dkim_domain, dkim_selector, spf_dns, incidents, fields, original_headers)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18)",
        is: None,
        parent: Some(Parent::Message),
    },
];

/// A row's key in the fleet: its sink and its id there.
type FleetKey = (String, i64);

/// What was read, for the command to say.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FleetCounts {
    pub instances: u64,
    pub reports: u64,
    pub records: u64,
    pub tls_reports: u64,
    pub failure_reports: u64,
}

/// Reads the fleet of `connection` (over `tls`, as its `sslmode` says) into
/// a new store at `path`, which must not exist yet.
pub fn fleet_store(
    connection: &postgres::Config,
    tls: MakeRustlsConnect,
    path: &Path,
) -> Result<(Store, FleetCounts), ExportError> {
    let mut client = connection
        .connect(tls)
        .map_err(|cause| ExportError::Connect {
            target: "the fleet's PostgreSQL".into(),
            cause,
        })?;
    let store = Store::open(path)?;
    let conn = store.connection();
    // One transaction: a fresh file, written once.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut ids: HashMap<Parent, HashMap<FleetKey, i64>> = HashMap::new();
    let mut copied: HashMap<&str, u64> = HashMap::new();
    let mut instances = HashSet::new();
    for copy in COPIES {
        let mut insert = conn.prepare(copy.insert)?;
        for row in client.query(copy.select, &[])? {
            let (Ok(instance), Ok(id)) = (row.try_get::<_, String>(0), row.try_get::<_, i64>(1))
            else {
                continue;
            };
            let mut values: Vec<Value> = Vec::with_capacity(row.len());
            if let Some(is) = copy.is {
                let own = ids.entry(is).or_default();
                let next = own.len() as i64 + 1;
                values.push(Value::Integer(
                    *own.entry((instance.clone(), id)).or_insert(next),
                ));
            }
            let mut rest = 2;
            if let Some(parent) = copy.parent {
                let Ok(parent_id) = row.try_get::<_, i64>(2) else {
                    continue;
                };
                let key = (instance.clone(), parent_id);
                let Some(&new) = ids.get(&parent).and_then(|map| map.get(&key)) else {
                    continue;
                };
                values.push(Value::Integer(new));
                rest = 3;
            }
            values.extend((rest..row.len()).map(|column| value(&row, column)));
            insert.execute(rusqlite::params_from_iter(values))?;
            *copied.entry(copy.name).or_default() += 1;
            if copy.parent.is_none() {
                instances.insert(instance);
            }
        }
    }
    conn.execute_batch("COMMIT")?;
    let count = |name| copied.get(name).copied().unwrap_or(0);
    let counts = FleetCounts {
        instances: instances.len() as u64,
        reports: count("reports"),
        records: count("records"),
        tls_reports: count("tls_reports"),
        failure_reports: count("failure_reports"),
    };
    Ok((store, counts))
}

/// Column `column` of `row` as SQLite takes it: the queries above give
/// only bigints and text (a column of another type would read as NULL
/// rather than stop the command).
fn value(row: &postgres::Row, column: usize) -> Value {
    let ty = row.columns()[column].type_();
    if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(column)
            .ok()
            .flatten()
            .map_or(Value::Null, Value::Integer)
    } else {
        row.try_get::<_, Option<String>>(column)
            .ok()
            .flatten()
            .map_or(Value::Null, Value::Text)
    }
}
