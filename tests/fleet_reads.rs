//! `summary`, `sources` and `policy --postgres URL`: the fleet's reports,
//! read from PostgreSQL, give the answers of a single store that received
//! all of the mail.

use crate::export_postgres::{deliver, dmarc_mail, export_config, tls_mail, wait_until_shipped};
use crate::util::insight_json;
use crate::util::postgres::Postgres;
use crate::util::server::TestServer;

#[test]
fn the_fleet_answers_as_one_store_that_received_all_the_mail() {
    let Some(server) = Postgres::start() else {
        return;
    };
    let url = server.create_database("fleet");
    let mx1 = TestServer::start(&export_config(&url, "mx1"));
    let mx2 = TestServer::start(&export_config(&url, "mx2"));
    let single = TestServer::start("");
    let shared = dmarc_mail(
        "google.com",
        "shared-1",
        &[("192.0.2.10", 40), ("198.51.100.7", 3)],
    );
    let only_mx1 = dmarc_mail("yahoo.com", "mx1-only", &[("192.0.2.10", 12)]);
    let only_mx2 = dmarc_mail(
        "microsoft.com",
        "mx2-only",
        &[("192.0.2.11", 7), ("2001:db8::25", 2)],
    );
    let tls = tls_mail("tls-shared");
    for (mail, sinks) in [
        (&shared, vec![&mx1, &mx2]),
        (&only_mx1, vec![&mx1]),
        (&only_mx2, vec![&mx2]),
        (&tls, vec![&mx1, &mx2]),
    ] {
        for sink in sinks.into_iter().chain([&single]) {
            deliver(sink, mail);
        }
    }
    wait_until_shipped(&url, &mx1.db, "mx1");
    wait_until_shipped(&url, &mx2.db, "mx2");

    for command in ["summary", "sources", "policy"] {
        let fleet = insight_json(&single.db, &[command, "--postgres", &url]);
        let one = insight_json(&single.db, &[command]);
        assert_eq!(fleet, one, "{command}");
    }
    let summary = insight_json(&single.db, &["summary", "--postgres", &url]);
    let domain = &summary["domains"][0];
    assert_eq!(domain["policy_domain"], "example.com");
    assert_eq!(domain["reports"], 3, "the shared report once");
    assert_eq!(domain["messages"], 40 + 3 + 12 + 7 + 2);
}
