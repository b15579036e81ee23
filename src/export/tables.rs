//! What is shipped: each table of the store, in an order where a parent
//! comes before its children, and each column with the type it takes in
//! PostgreSQL (`src/export/postgres/migrate_1.sql`).
//!
//! Left out on purpose:
//! - `failure_reports.original_body`: the failed message's body is personal
//!   data, kept only where `store.keep_failure_bodies` asked for it; the
//!   fleet gets the headers, which tell what failed.
//! - `quarantine.payload`: the unreadable part itself; the raw message
//!   holds it (shipped with `export.postgres.raw`), and `reparse` reads it
//!   on the sink that has it.
//! - the store's derived tables (`failing_sources`, `tls_failure_types`,
//!   `daily_rollups`, the approved list): each sink's own view of its rows.

/// How a column's SQLite value becomes its PostgreSQL value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An integer (bigint, integer).
    Integer,
    /// Text as stored.
    Text,
    /// Unix seconds → timestamptz.
    Time,
    /// Not read from SQLite: the column before it (an IP address as the
    /// reporter wrote it) as inet when it is an address, else NULL.
    AddrOfPrevious,
    /// A blob → bytea.
    Bytes,
    /// Not stored: whether the row's `domain` aligns with the policy
    /// domain of its record's report, by `dmarc_aligned` (the sink's one
    /// alignment rule) → boolean.
    AlignedDomain,
}

/// A column as PostgreSQL names it.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
}

/// A table shipped.
#[derive(Debug)]
pub struct Table {
    /// Its name, the same in SQLite and in schema `dmarc_sink`.
    pub name: &'static str,
    /// Whether the PostgreSQL table has an `id` column, filled with the
    /// SQLite rowid (which is `id` where SQLite has one); only
    /// `message_raw` has none, being keyed by (message, seq).
    pub has_id: bool,
    /// The columns after `instance` and `id`, in order.
    pub columns: &'static [Column],
    /// Shipped only with `export.postgres.raw`.
    pub raw_only: bool,
    /// Its rows that belong to one message, for replacing what was
    /// rewritten in place (`reparse`); None when a rewrite never changes
    /// them.
    pub of_message: Option<OfMessage>,
}

/// The rows of a table that belong to message `?1` (in the store) or to
/// instance `$1`'s message `$2` (in PostgreSQL, the table aliased `t`).
#[derive(Debug)]
pub struct OfMessage {
    pub store: &'static str,
    pub postgres: &'static str,
}

const fn int(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Integer,
    }
}
const fn text(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Text,
    }
}
const fn time(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Time,
    }
}
const fn aligned(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::AlignedDomain,
    }
}
const fn addr(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::AddrOfPrevious,
    }
}

/// Every table shipped, parents first.
pub const TABLES: &[Table] = &[
    Table {
        name: "messages",
        has_id: true,
        of_message: Some(OfMessage {
            store: "rowid = ?1",
            postgres: "t.id = $2",
        }),
        raw_only: false,
        columns: &[
            time("received_at"),
            text("source"),
            text("origin"),
            text("remote_addr"),
            text("helo"),
            text("mail_from"),
            text("rcpt_to"),
            text("message_id"),
            text("subject"),
            text("from_header"),
            int("size"),
            text("raw_encoding"),
            text("outcome"),
            int("reader"),
            text("auth"),
            text("auth_results"),
        ],
    },
    Table {
        name: "message_raw",
        has_id: false,
        of_message: None,
        raw_only: true,
        columns: &[
            int("message"),
            int("seq"),
            Column {
                name: "data",
                kind: Kind::Bytes,
            },
        ],
    },
    Table {
        name: "reports",
        has_id: true,
        of_message: Some(OfMessage {
            store: "message = ?1",
            postgres: "t.message = $2",
        }),
        raw_only: false,
        columns: &[
            int("message"),
            text("member"),
            text("version"),
            text("org_name"),
            text("email"),
            text("extra_contact_info"),
            text("report_id"),
            time("date_begin"),
            time("date_end"),
            text("errors"),
            text("generator"),
            text("policy_domain"),
            text("adkim"),
            text("aspf"),
            text("p"),
            text("sp"),
            int("pct"),
            text("fo"),
            text("np"),
            text("testing"),
            text("discovery_method"),
            int("superseded_by"),
        ],
    },
    Table {
        name: "records",
        has_id: true,
        of_message: Some(OfMessage {
            store: "report IN (SELECT id FROM reports WHERE message = ?1)",
            postgres: "t.report IN (SELECT id FROM dmarc_sink.reports WHERE instance = $1 AND message = $2)",
        }),
        raw_only: false,
        columns: &[
            int("report"),
            text("source_ip"),
            addr("source_addr"),
            int("count"),
            text("disposition"),
            text("dkim"),
            text("spf"),
            text("header_from"),
            text("envelope_from"),
            text("envelope_to"),
        ],
    },
    Table {
        name: "record_reasons",
        has_id: true,
        of_message: Some(OfMessage {
            store: "record IN (SELECT r.id FROM records r JOIN reports p ON p.id = r.report WHERE p.message = ?1)",
            postgres: "t.record IN (SELECT r.id FROM dmarc_sink.records r JOIN dmarc_sink.reports p ON p.instance = r.instance AND p.id = r.report WHERE p.instance = $1 AND p.message = $2)",
        }),
        raw_only: false,
        columns: &[int("record"), text("type"), text("comment")],
    },
    Table {
        name: "dkim_results",
        has_id: true,
        of_message: Some(OfMessage {
            store: "record IN (SELECT r.id FROM records r JOIN reports p ON p.id = r.report WHERE p.message = ?1)",
            postgres: "t.record IN (SELECT r.id FROM dmarc_sink.records r JOIN dmarc_sink.reports p ON p.instance = r.instance AND p.id = r.report WHERE p.instance = $1 AND p.message = $2)",
        }),
        raw_only: false,
        columns: &[
            int("record"),
            text("domain"),
            text("selector"),
            text("result"),
            text("human_result"),
            aligned("aligned"),
        ],
    },
    Table {
        name: "spf_results",
        has_id: true,
        of_message: Some(OfMessage {
            store: "record IN (SELECT r.id FROM records r JOIN reports p ON p.id = r.report WHERE p.message = ?1)",
            postgres: "t.record IN (SELECT r.id FROM dmarc_sink.records r JOIN dmarc_sink.reports p ON p.instance = r.instance AND p.id = r.report WHERE p.instance = $1 AND p.message = $2)",
        }),
        raw_only: false,
        columns: &[
            int("record"),
            text("domain"),
            text("scope"),
            text("result"),
            text("human_result"),
            aligned("aligned"),
        ],
    },
    Table {
        name: "quarantine",
        has_id: true,
        of_message: Some(OfMessage {
            store: "message = ?1",
            postgres: "t.message = $2",
        }),
        raw_only: false,
        columns: &[
            int("message"),
            text("member"),
            text("kind"),
            text("error"),
            time("created_at"),
        ],
    },
    Table {
        name: "tls_reports",
        has_id: true,
        of_message: Some(OfMessage {
            store: "message = ?1",
            postgres: "t.message = $2",
        }),
        raw_only: false,
        columns: &[
            int("message"),
            text("member"),
            text("org_name"),
            text("report_id"),
            time("date_begin"),
            time("date_end"),
            text("contact_info"),
            int("superseded_by"),
        ],
    },
    Table {
        name: "tls_policies",
        has_id: true,
        of_message: Some(OfMessage {
            store: "report IN (SELECT id FROM tls_reports WHERE message = ?1)",
            postgres: "t.report IN (SELECT id FROM dmarc_sink.tls_reports WHERE instance = $1 AND message = $2)",
        }),
        raw_only: false,
        columns: &[
            int("report"),
            text("policy_type"),
            text("policy_domain"),
            text("policy_string"),
            text("mx_host"),
            int("successful_sessions"),
            int("failed_sessions"),
        ],
    },
    Table {
        name: "tls_failures",
        has_id: true,
        of_message: Some(OfMessage {
            store: "policy IN (SELECT p.id FROM tls_policies p JOIN tls_reports r ON r.id = p.report WHERE r.message = ?1)",
            postgres: "t.policy IN (SELECT p.id FROM dmarc_sink.tls_policies p JOIN dmarc_sink.tls_reports r ON r.instance = p.instance AND r.id = p.report WHERE r.instance = $1 AND r.message = $2)",
        }),
        raw_only: false,
        columns: &[
            int("policy"),
            text("result_type"),
            text("sending_mta_ip"),
            addr("sending_mta_addr"),
            text("receiving_mx_hostname"),
            text("receiving_mx_helo"),
            text("receiving_ip"),
            int("failed_sessions"),
            text("additional_information"),
            text("failure_reason_code"),
        ],
    },
    Table {
        name: "failure_reports",
        has_id: true,
        of_message: Some(OfMessage {
            store: "message = ?1",
            postgres: "t.message = $2",
        }),
        raw_only: false,
        columns: &[
            int("message"),
            text("member"),
            text("reporter"),
            text("report_message_id"),
            text("feedback_type"),
            text("auth_failure"),
            text("source_ip"),
            addr("source_addr"),
            text("reported_domain"),
            text("original_mail_from"),
            text("original_rcpt_to"),
            time("arrival_date"),
            text("delivery_result"),
            text("dkim_domain"),
            text("dkim_selector"),
            text("spf_dns"),
            int("incidents"),
            text("fields"),
            text("original_headers"),
        ],
    },
    Table {
        name: "alerts",
        has_id: true,
        of_message: None,
        raw_only: false,
        columns: &[
            time("created_at"),
            text("kind"),
            text("policy_domain"),
            int("report"),
            int("tls_report"),
            text("day"),
            text("subject"),
            text("occasion"),
            text("details"),
        ],
    },
];

/// The tables a target ships: all, `message_raw` only with `raw`.
pub fn shipped(raw: bool) -> impl Iterator<Item = &'static Table> {
    TABLES.iter().filter(move |table| raw || !table.raw_only)
}

impl Table {
    /// The SQLite query for the rows above a rowid (?1), at most ?2 of
    /// them, in rowid order: the rowid, then each column read from SQLite.
    pub fn select_sql(&self) -> String {
        format!(
            "SELECT rowid, {} FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            self.select_columns(),
            self.name
        )
    }

    /// The SQLite query for the rows of message ?1 at or below a rowid
    /// (?2), as [`Table::select_sql`] reads them; None when a rewrite never
    /// changes the table.
    pub fn select_of_message_sql(&self) -> Option<String> {
        let of = self.of_message.as_ref()?;
        Some(format!(
            "SELECT rowid, {} FROM {} WHERE ({}) AND rowid <= ?2 ORDER BY rowid",
            self.select_columns(),
            self.name,
            of.store
        ))
    }

    /// What [`Table::select_sql`] reads after the rowid.
    fn select_columns(&self) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .filter(|c| c.kind != Kind::AddrOfPrevious)
            .map(|c| match c.kind {
                Kind::AlignedDomain => format!(
                    "dmarc_aligned(domain, (SELECT rep.policy_domain FROM records rec \
                     JOIN reports rep ON rep.id = rec.report WHERE rec.id = {}.record))",
                    self.name
                ),
                _ => c.name.to_owned(),
            })
            .collect();
        columns.join(", ")
    }

    /// PostgreSQL's column list, in the order rows are sent.
    pub fn copy_columns(&self) -> String {
        let mut names = vec!["instance"];
        if self.has_id {
            names.push("id");
        }
        names.extend(self.columns.iter().map(|c| c.name));
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An inet column follows the text column it is read from, and the
    /// two share a name but for `_ip` and `_addr`.
    #[test]
    fn each_address_follows_its_text() {
        for table in TABLES {
            for pair in table.columns.windows(2) {
                if pair[1].kind == Kind::AddrOfPrevious {
                    assert_eq!(
                        pair[0].name.strip_suffix("_ip"),
                        pair[1].name.strip_suffix("_addr"),
                        "{}",
                        table.name
                    );
                }
            }
        }
    }
}
