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
use rusqlite::ToSql;
use std::collections::HashMap;
use std::path::Path;
use tokio_postgres_rustls::MakeRustlsConnect;

/// A row's key in the fleet: its sink and its id there.
type FleetKey = (String, i64);

/// New ids of the fleet's rows of one table.
#[derive(Default)]
struct Ids {
    map: HashMap<FleetKey, i64>,
}

impl Ids {
    fn new_id(&mut self, key: FleetKey) -> i64 {
        let next = self.map.len() as i64 + 1;
        *self.map.entry(key).or_insert(next)
    }

    fn get(&self, instance: &str, id: i64) -> Option<i64> {
        self.map.get(&(instance.to_owned(), id)).copied()
    }
}

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
    let mut counts = FleetCounts::default();
    {
        // One transaction: a fresh file, written once.
        let tx = store.connection();
        tx.execute_batch("BEGIN IMMEDIATE")?;
        let mut messages = Ids::default();
        let mut reports = Ids::default();
        let mut tls_reports = Ids::default();

        // The messages that carried a kept report of any kind.
        let kept_messages = "SELECT instance, message FROM dmarc_sink.fleet_reports
             UNION SELECT instance, message FROM dmarc_sink.fleet_tls_reports
             UNION SELECT instance, message FROM (
                 SELECT instance, message, row_number() OVER (
                     PARTITION BY coalesce(report_message_id, instance || ':' || id),
                                  reported_domain, source_ip, arrival_date
                     ORDER BY instance, id) AS copy
                 FROM dmarc_sink.failure_reports) f WHERE copy = 1";
        let rows = client.query(
            &format!(
                "SELECT m.instance, m.id, extract(epoch FROM m.received_at)::bigint, m.source,
                        m.origin, m.remote_addr, m.helo, m.mail_from, m.rcpt_to, m.message_id,
                        m.subject, m.from_header, m.size, m.raw_encoding, m.outcome, m.reader,
                        m.auth, m.auth_results
                 FROM dmarc_sink.messages m
                 JOIN ({kept_messages}) k ON k.instance = m.instance AND k.message = m.id
                 ORDER BY m.received_at, m.instance, m.id"
            ),
            &[],
        )?;
        let mut instances = std::collections::HashSet::new();
        {
            let mut insert = tx.prepare(
                "INSERT INTO messages (id, received_at, source, origin, remote_addr, helo,
                     mail_from, rcpt_to, message_id, subject, from_header, size, raw_encoding,
                     outcome, reader, auth, auth_results)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            )?;
            for row in &rows {
                let instance: String = row.get(0);
                instances.insert(instance.clone());
                let id = messages.new_id((instance, row.get(1)));
                let reader: i32 = row.get(15);
                insert.execute(rusqlite::params![
                    id,
                    row.get::<_, i64>(2),
                    row.get::<_, String>(3),
                    row.get::<_, Option<String>>(4),
                    row.get::<_, Option<String>>(5),
                    row.get::<_, Option<String>>(6),
                    row.get::<_, Option<String>>(7),
                    row.get::<_, Option<String>>(8),
                    row.get::<_, Option<String>>(9),
                    row.get::<_, Option<String>>(10),
                    row.get::<_, Option<String>>(11),
                    row.get::<_, i64>(12),
                    row.get::<_, String>(13),
                    row.get::<_, String>(14),
                    i64::from(reader),
                    row.get::<_, String>(16),
                    row.get::<_, Option<String>>(17),
                ])?;
            }
        }
        counts.instances = instances.len() as u64;

        // Aggregate reports, their records, and the records' results.
        let rows = client.query(
            "SELECT r.instance, r.id, r.message, r.member, r.version, r.org_name, r.email,
                    r.extra_contact_info, r.report_id,
                    extract(epoch FROM r.date_begin)::bigint, extract(epoch FROM r.date_end)::bigint,
                    r.errors, r.generator, r.policy_domain, r.adkim, r.aspf, r.p, r.sp, r.pct,
                    r.fo, r.np, r.testing, r.discovery_method
             FROM dmarc_sink.reports r
             JOIN dmarc_sink.fleet_reports f ON f.instance = r.instance AND f.id = r.id
             ORDER BY r.instance, r.id",
            &[],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO reports (id, message, member, version, org_name, email,
                     extra_contact_info, report_id, date_begin, date_end, errors, generator,
                     policy_domain, adkim, aspf, p, sp, pct, fo, np, testing, discovery_method)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19, ?20, ?21, ?22)",
            )?;
            for row in &rows {
                let instance: String = row.get(0);
                let Some(message) = messages.get(&instance, row.get(2)) else {
                    continue;
                };
                let id = reports.new_id((instance, row.get(1)));
                let mut values: Vec<Box<dyn ToSql>> = vec![Box::new(id), Box::new(message)];
                for column in 3..9 {
                    values.push(Box::new(row.get::<_, Option<String>>(column)));
                }
                values.push(Box::new(row.get::<_, i64>(9)));
                values.push(Box::new(row.get::<_, i64>(10)));
                for column in 11..18 {
                    values.push(Box::new(row.get::<_, Option<String>>(column)));
                }
                values.push(Box::new(row.get::<_, Option<i64>>(18)));
                for column in 19..23 {
                    values.push(Box::new(row.get::<_, Option<String>>(column)));
                }
                insert.execute(rusqlite::params_from_iter(values.iter()))?;
                counts.reports += 1;
            }
        }
        let mut records = Ids::default();
        let rows = client.query(
            "SELECT rec.instance, rec.id, rec.report, rec.source_ip, rec.count,
                    rec.disposition, rec.dkim, rec.spf, rec.header_from, rec.envelope_from,
                    rec.envelope_to
             FROM dmarc_sink.records rec
             JOIN dmarc_sink.fleet_reports f ON f.instance = rec.instance AND f.id = rec.report
             ORDER BY rec.instance, rec.id",
            &[],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO records (id, report, source_ip, count, disposition, dkim, spf,
                     header_from, envelope_from, envelope_to)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for row in &rows {
                let instance: String = row.get(0);
                let Some(report) = reports.get(&instance, row.get(2)) else {
                    continue;
                };
                let id = records.new_id((instance, row.get(1)));
                insert.execute(rusqlite::params![
                    id,
                    report,
                    row.get::<_, String>(3),
                    row.get::<_, i64>(4),
                    row.get::<_, Option<String>>(5),
                    row.get::<_, Option<String>>(6),
                    row.get::<_, Option<String>>(7),
                    row.get::<_, Option<String>>(8),
                    row.get::<_, Option<String>>(9),
                    row.get::<_, Option<String>>(10),
                ])?;
                counts.records += 1;
            }
        }
        for (table, columns) in [
            ("dkim_results", "domain, selector, result, human_result"),
            ("spf_results", "domain, scope, result, human_result"),
            ("record_reasons", "type, comment"),
        ] {
            let names: Vec<&str> = columns.split(", ").collect();
            let rows = client.query(
                &format!(
                    "SELECT c.instance, c.record, {}
                     FROM dmarc_sink.{table} c
                     JOIN dmarc_sink.fleet_records f ON f.instance = c.instance AND f.record = c.record
                     ORDER BY c.instance, c.id",
                    names.iter().map(|n| format!("c.{n}")).collect::<Vec<_>>().join(", ")
                ),
                &[],
            )?;
            let placeholders: Vec<String> = (2..names.len() + 2).map(|i| format!("?{i}")).collect();
            let mut insert = tx.prepare(&format!(
                "INSERT INTO {table} (record, {columns}) VALUES (?1, {})",
                placeholders.join(", ")
            ))?;
            for row in &rows {
                let instance: String = row.get(0);
                let Some(record) = records.get(&instance, row.get(1)) else {
                    continue;
                };
                let mut values: Vec<Option<String>> = Vec::new();
                for column in 0..names.len() {
                    values.push(row.get(column + 2));
                }
                let mut params: Vec<&dyn ToSql> = vec![&record];
                params.extend(values.iter().map(|v| v as &dyn ToSql));
                insert.execute(params.as_slice())?;
            }
        }

        // TLS reports, their policies and failures.
        let rows = client.query(
            "SELECT t.instance, t.id, t.message, t.member, t.org_name, t.report_id,
                    extract(epoch FROM t.date_begin)::bigint, extract(epoch FROM t.date_end)::bigint,
                    t.contact_info
             FROM dmarc_sink.tls_reports t
             JOIN dmarc_sink.fleet_tls_reports f ON f.instance = t.instance AND f.id = t.id
             ORDER BY t.instance, t.id",
            &[],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO tls_reports (id, message, member, org_name, report_id, date_begin,
                     date_end, contact_info)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for row in &rows {
                let instance: String = row.get(0);
                let Some(message) = messages.get(&instance, row.get(2)) else {
                    continue;
                };
                let id = tls_reports.new_id((instance, row.get(1)));
                insert.execute(rusqlite::params![
                    id,
                    message,
                    row.get::<_, String>(3),
                    row.get::<_, String>(4),
                    row.get::<_, String>(5),
                    row.get::<_, i64>(6),
                    row.get::<_, i64>(7),
                    row.get::<_, Option<String>>(8),
                ])?;
                counts.tls_reports += 1;
            }
        }
        let mut policies = Ids::default();
        let rows = client.query(
            "SELECT p.instance, p.id, p.report, p.policy_type, p.policy_domain, p.policy_string,
                    p.mx_host, p.successful_sessions, p.failed_sessions
             FROM dmarc_sink.tls_policies p
             JOIN dmarc_sink.fleet_tls_reports f ON f.instance = p.instance AND f.id = p.report
             ORDER BY p.instance, p.id",
            &[],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO tls_policies (id, report, policy_type, policy_domain, policy_string,
                     mx_host, successful_sessions, failed_sessions)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for row in &rows {
                let instance: String = row.get(0);
                let Some(report) = tls_reports.get(&instance, row.get(2)) else {
                    continue;
                };
                let id = policies.new_id((instance, row.get(1)));
                insert.execute(rusqlite::params![
                    id,
                    report,
                    row.get::<_, String>(3),
                    row.get::<_, String>(4),
                    row.get::<_, Option<String>>(5),
                    row.get::<_, Option<String>>(6),
                    row.get::<_, i64>(7),
                    row.get::<_, i64>(8),
                ])?;
            }
        }
        let rows = client.query(
            "SELECT x.instance, x.policy, x.result_type, x.sending_mta_ip, x.receiving_mx_hostname,
                    x.receiving_mx_helo, x.receiving_ip, x.failed_sessions,
                    x.additional_information, x.failure_reason_code
             FROM dmarc_sink.tls_failures x
             ORDER BY x.instance, x.id",
            &[],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO tls_failures (policy, result_type, sending_mta_ip,
                     receiving_mx_hostname, receiving_mx_helo, receiving_ip, failed_sessions,
                     additional_information, failure_reason_code)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for row in &rows {
                let instance: String = row.get(0);
                let Some(policy) = policies.get(&instance, row.get(1)) else {
                    continue;
                };
                insert.execute(rusqlite::params![
                    policy,
                    row.get::<_, String>(2),
                    row.get::<_, Option<String>>(3),
                    row.get::<_, Option<String>>(4),
                    row.get::<_, Option<String>>(5),
                    row.get::<_, Option<String>>(6),
                    row.get::<_, i64>(7),
                    row.get::<_, Option<String>>(8),
                    row.get::<_, Option<String>>(9),
                ])?;
            }
        }

        // Failure reports, one of each as a store keeps one.
        let rows = client.query(
            "SELECT instance, id, message, member, reporter, report_message_id, feedback_type,
                    auth_failure, source_ip, reported_domain, original_mail_from,
                    original_rcpt_to, extract(epoch FROM arrival_date)::bigint, delivery_result,
                    dkim_domain, dkim_selector, spf_dns, incidents, fields, original_headers
             FROM (SELECT *, row_number() OVER (
                       PARTITION BY coalesce(report_message_id, instance || ':' || id),
                                    reported_domain, source_ip, arrival_date
                       ORDER BY instance, id) AS copy
                   FROM dmarc_sink.failure_reports) f
             WHERE copy = 1
             ORDER BY instance, id",
            &[],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO failure_reports (message, member, reporter, report_message_id,
                     feedback_type, auth_failure, source_ip, reported_domain, original_mail_from,
                     original_rcpt_to, arrival_date, delivery_result, dkim_domain, dkim_selector,
                     spf_dns, incidents, fields, original_headers)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18)",
            )?;
            for row in &rows {
                let instance: String = row.get(0);
                let Some(message) = messages.get(&instance, row.get(2)) else {
                    continue;
                };
                insert.execute(rusqlite::params![
                    message,
                    row.get::<_, String>(3),
                    row.get::<_, Option<String>>(4),
                    row.get::<_, Option<String>>(5),
                    row.get::<_, String>(6),
                    row.get::<_, Option<String>>(7),
                    row.get::<_, Option<String>>(8),
                    row.get::<_, String>(9),
                    row.get::<_, Option<String>>(10),
                    row.get::<_, Option<String>>(11),
                    row.get::<_, Option<i64>>(12),
                    row.get::<_, Option<String>>(13),
                    row.get::<_, Option<String>>(14),
                    row.get::<_, Option<String>>(15),
                    row.get::<_, Option<String>>(16),
                    row.get::<_, i64>(17),
                    row.get::<_, String>(18),
                    row.get::<_, Option<String>>(19),
                ])?;
                counts.failure_reports += 1;
            }
        }
        tx.execute_batch("COMMIT")?;
    }
    Ok((store, counts))
}
