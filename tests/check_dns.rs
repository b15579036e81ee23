//! `dmarc-sink check-dns` against the tests' own DNS server, authoritative
//! for zones made to pass and to fail each check, and stores built here
//! whose reports name the selectors and sources the traffic checks find.

use crate::util::dns::{Behaviour, DnsServer};
use crate::util::{dmarc_sink, text};
use serde_json::{Value, json};
use std::path::PathBuf;

/// 2023-11-15 UTC: the reports' day. `--since` reaches back to it.
const DAY: i64 = 1_700_006_400;
pub(crate) const SINCE: &str = "2023-11-01";

/// One record of a report: the source, its messages, the aligned verdicts
/// and the DKIM signature and SPF check as evaluated.
pub(crate) struct Row<'a> {
    pub ip: &'a str,
    pub count: u32,
    pub dkim_aligned: bool,
    pub spf_aligned: bool,
    pub dkim: (&'a str, &'a str, &'a str),
    pub spf: (&'a str, &'a str),
}

pub(crate) fn report(domain: &str, report_id: &str, rows: &[Row<'_>]) -> String {
    let verdict = |pass: bool| if pass { "pass" } else { "fail" };
    let mut xml = format!(
        "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>google.com</org_name>\
         <email>noreply-dmarc-support@google.com</email><report_id>{report_id}</report_id>\
         <date_range><begin>{DAY}</begin><end>{}</end></date_range></report_metadata>\
         <policy_published><domain>{domain}</domain><p>none</p></policy_published>",
        DAY + 86_399
    );
    for row in rows {
        xml.push_str(&format!(
            "<record><row><source_ip>{}</source_ip><count>{}</count><policy_evaluated>\
             <disposition>none</disposition><dkim>{}</dkim><spf>{}</spf></policy_evaluated></row>\
             <identifiers><header_from>{domain}</header_from></identifiers><auth_results>\
             <dkim><domain>{}</domain><selector>{}</selector><result>{}</result></dkim>\
             <spf><domain>{}</domain><result>{}</result></spf></auth_results></record>",
            row.ip,
            row.count,
            verdict(row.dkim_aligned),
            verdict(row.spf_aligned),
            row.dkim.0,
            row.dkim.1,
            row.dkim.2,
            row.spf.0,
            row.spf.1,
        ));
    }
    xml.push_str("</feedback>");
    xml
}

/// An RSA public key record of `bits` bits (only its size is read).
fn rsa_key(bits: usize) -> String {
    use base64::Engine;
    let mut modulus = vec![0u8];
    modulus.extend(std::iter::repeat_n(0xc5, bits / 8));
    let mut der = vec![0x02, 0x82];
    der.extend_from_slice(&(modulus.len() as u16).to_be_bytes());
    der.extend_from_slice(&modulus);
    der.extend_from_slice(&[0x02, 0x03, 0x01, 0x00, 0x01]);
    let mut sequence = vec![0x30, 0x82];
    sequence.extend_from_slice(&(der.len() as u16).to_be_bytes());
    sequence.extend(der);
    format!(
        "v=DKIM1; k=rsa; p={}",
        base64::engine::general_purpose::STANDARD.encode(sequence)
    )
}

/// A store and a config pointing at `dns`, in a temporary folder.
pub(crate) struct Setup {
    _dir: tempfile::TempDir,
    pub config: PathBuf,
    pub db: PathBuf,
}

impl Setup {
    pub fn new(dns: &DnsServer, reports: &[String]) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, dns.config(300)).unwrap();
        let db = dir.path().join("store.sqlite");
        if !reports.is_empty() {
            let mut args = vec![
                "--db".to_owned(),
                db.display().to_string(),
                "import".to_owned(),
            ];
            for (n, xml) in reports.iter().enumerate() {
                let path = dir.path().join(format!("report-{n}.xml"));
                std::fs::write(&path, xml).unwrap();
                args.push(path.display().to_string());
            }
            let output = dmarc_sink(&args);
            assert!(output.status.success(), "{}", text(&output.stderr));
        }
        Setup {
            _dir: dir,
            config,
            db,
        }
    }

    /// Runs check-dns with `args`; its exit status and JSON.
    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        let (code, out) = self.run(&[args, &["--format", "json"]].concat());
        (
            code,
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}")),
        )
    }

    pub fn run(&self, args: &[&str]) -> (i32, String) {
        let mut all = vec![
            "--config",
            self.config.to_str().unwrap(),
            "--db",
            self.db.to_str().unwrap(),
            "check-dns",
            "--since",
            SINCE,
        ];
        all.extend_from_slice(args);
        let output = dmarc_sink(&all);
        assert!(output.status.code().is_some(), "{}", text(&output.stderr));
        (output.status.code().unwrap(), text(&output.stdout))
    }
}

/// The check `id` of the first domain of a JSON result.
pub(crate) fn check<'a>(result: &'a Value, id: &str) -> &'a Value {
    result[0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {result:#}"))
}

fn status(result: &Value, id: &str) -> String {
    check(result, id)["status"].as_str().unwrap().to_owned()
}

/// good.test: everything in order, and its reports.
pub(crate) fn good_zone(dns: &DnsServer) {
    dns.txt(
        "_dmarc.good.test",
        "v=DMARC1; p=reject; np=reject; rua=mailto:dmarc@good.test",
    )
    .txt(
        "good.test",
        "v=spf1 ip4:192.0.2.0/24 include:_spf.provider.test -all",
    )
    .txt("_spf.provider.test", "v=spf1 ip4:198.51.100.0/24 -all")
    .mx("good.test", 10, "mx.good.test")
    .txt(
        "_smtp._tls.good.test",
        "v=TLSRPTv1; rua=mailto:tlsrpt@good.test",
    )
    .txt("_mta-sts.good.test", "v=STSv1; id=20261204")
    .txt("s2048._domainkey.good.test", &rsa_key(2048));
}

fn good_reports() -> Vec<String> {
    vec![report(
        "good.test",
        "good-1",
        &[Row {
            ip: "192.0.2.10",
            count: 50,
            dkim_aligned: true,
            spf_aligned: true,
            dkim: ("good.test", "s2048", "pass"),
            spf: ("good.test", "pass"),
        }],
    )]
}

#[test]
fn a_domain_in_order_passes_every_check() {
    let dns = DnsServer::start();
    good_zone(&dns);
    let setup = Setup::new(&dns, &good_reports());
    let (code, result) = setup.json(&["good.test"]);
    let statuses: Vec<(String, String)> = result[0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().into(),
                c["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    let ids = [
        "dmarc.record",
        "dmarc.policy",
        "dmarc.rua",
        "spf.record",
        "spf.lookups",
        "spf.traffic",
        "spf.mail_from",
        "dkim.selectors",
        "mx",
        "tlsrpt.record",
        "mta_sts.record",
    ];
    let want: Vec<(String, String)> = ids
        .iter()
        .map(|id| {
            // The include no reported source used is a candidate to remove.
            let status = if *id == "spf.traffic" { "warn" } else { "ok" };
            ((*id).into(), status.into())
        })
        .collect();
    assert_eq!(statuses, want, "{result:#}");
    assert_eq!(code, 0);
    assert!(
        check(&result, "spf.traffic")["message"]
            .as_str()
            .unwrap()
            .contains("no reported source matched include:_spf.provider.test"),
        "{result:#}"
    );
    assert!(
        check(&result, "dkim.selectors")["message"]
            .as_str()
            .unwrap()
            .starts_with(
                "s2048 (good.test): 2048-bit RSA, passed 50 failed 0, 2023-11-15 to 2023-11-15"
            ),
        "{result:#}"
    );
    // The text form: one line per check, the fix beneath.
    let (code, out) = setup.run(&["good.test"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("good.test\n  ok    dmarc.record    _dmarc.good.test: v=DMARC1; p=reject"),
        "{out}"
    );
    // No domain: every policy domain in the store.
    let (_, all) = setup.json(&[]);
    assert_eq!(all[0]["domain"], "good.test");
}

#[test]
fn the_dmarc_record_is_found_by_the_tree_walk_and_read_as_dmarcbis() {
    let dns = DnsServer::start();
    dns.txt(
        "_dmarc.walk.test",
        "v=DMARC1; pct=50; rua=mailto:dmarc@walk.test; x=1",
    );
    let setup = Setup::new(&dns, &[]);
    let (code, result) = setup.json(&["mail.sub.walk.test"]);
    let record = check(&result, "dmarc.record");
    assert_eq!(record["status"], "warn", "{result:#}");
    let message = record["message"].as_str().unwrap();
    assert!(
        message.starts_with("_dmarc.walk.test (a parent"),
        "{message}"
    );
    assert!(message.contains("no p= tag: read as p=none"), "{message}");
    assert!(message.contains("pct historic in DMARCbis"), "{message}");
    assert!(message.contains("unknown tags: x"), "{message}");
    assert_eq!(status(&result, "dmarc.policy"), "warn");
    assert!(
        check(&result, "dmarc.policy")["fix"]
            .as_str()
            .unwrap()
            .contains("dmarc-sink policy")
    );
    // No SPF record: a failure, exit 1.
    assert_eq!(status(&result, "spf.record"), "fail");
    assert_eq!(code, 1);
}

#[test]
fn test_mode_and_np_are_reported() {
    let dns = DnsServer::start();
    dns.txt(
        "_dmarc.t.test",
        "v=DMARC1; p=reject; t=y; rua=mailto:d@t.test",
    )
    .txt(
        "_dmarc.np.test",
        "v=DMARC1; p=quarantine; sp=none; rua=mailto:d@np.test",
    )
    .txt(
        "_dmarc.fallback.test",
        "v=DMARC1; p=reject; rua=mailto:d@fallback.test",
    );
    let setup = Setup::new(&dns, &[]);
    let (_, result) = setup.json(&["t.test"]);
    assert_eq!(status(&result, "dmarc.policy"), "warn");
    assert!(
        check(&result, "dmarc.policy")["message"]
            .as_str()
            .unwrap()
            .contains("t=y: test mode"),
        "{result:#}"
    );
    // No np=: non-existent subdomains fall to sp=none.
    let (_, result) = setup.json(&["np.test"]);
    assert_eq!(status(&result, "dmarc.policy"), "warn");
    assert!(
        check(&result, "dmarc.policy")["fix"]
            .as_str()
            .unwrap()
            .contains("np=reject")
    );
    // No np= nor sp=: they fall to p=reject, which is enforcement.
    let (_, result) = setup.json(&["fallback.test"]);
    assert_eq!(
        check(&result, "dmarc.policy")["message"],
        "p=reject, np=reject"
    );
}

#[test]
fn a_subdomain_reads_the_parents_sp_and_consent() {
    let dns = DnsServer::start();
    dns.txt(
        "_dmarc.parent.test",
        "v=DMARC1; p=reject; sp=none; rua=mailto:dmarc@sink.example",
    )
    .txt("parent.test._report._dmarc.sink.example", "v=DMARC1");
    let setup = Setup::new(&dns, &[]);
    let (_, result) = setup.json(&["mail.parent.test"]);
    let policy = check(&result, "dmarc.policy");
    assert_eq!(policy["status"], "warn", "{result:#}");
    assert_eq!(
        policy["message"],
        "sp=none: monitoring only, nothing is enforced"
    );
    // Consent is the parent's, where the record is.
    assert_eq!(status(&result, "dmarc.rua"), "ok", "{result:#}");
}

#[test]
fn an_external_rua_needs_its_destinations_consent() {
    let dns = DnsServer::start();
    dns.txt(
        "_dmarc.ext.test",
        "v=DMARC1; p=none; rua=mailto:dmarc@sink.example",
    )
    .txt("ext.test._report._dmarc.sink.example", "v=DMARC1")
    .txt(
        "_dmarc.noauth.test",
        "v=DMARC1; p=none; rua=mailto:dmarc@sink.example",
    );
    let setup = Setup::new(&dns, &[]);
    let (_, result) = setup.json(&["ext.test"]);
    assert_eq!(status(&result, "dmarc.rua"), "ok", "{result:#}");
    let (_, result) = setup.json(&["noauth.test"]);
    let rua = check(&result, "dmarc.rua");
    assert_eq!(rua["status"], "fail");
    assert_eq!(
        rua["fix"],
        "on sink.example's side, publish TXT noauth.test._report._dmarc.sink.example \"v=DMARC1\""
    );
}

#[test]
fn spf_lookups_are_counted_through_includes_and_voids() {
    let dns = DnsServer::start();
    // 11 lookups: include chains of i1 → i2 → ... → i11.
    dns.txt("many.test", "v=spf1 include:i1.many.test -all");
    for n in 1..=11 {
        let next = if n < 11 {
            format!("v=spf1 include:i{}.many.test -all", n + 1)
        } else {
            "v=spf1 ip4:192.0.2.1 -all".to_owned()
        };
        dns.txt(&format!("i{n}.many.test"), &next);
    }
    // 9 lookups: near the limit.
    dns.txt("near.test", "v=spf1 include:j1.near.test -all");
    for n in 1..=9 {
        let next = if n < 9 {
            format!("v=spf1 include:j{}.near.test -all", n + 1)
        } else {
            "v=spf1 -all".to_owned()
        };
        dns.txt(&format!("j{n}.near.test"), &next);
    }
    // Three names that do not exist: three void lookups; one that does.
    dns.txt(
        "void.test",
        "v=spf1 a:host.void.test a:nx1.void.test a:nx2.void.test mx:nx3.void.test -all",
    )
    .a("host.void.test", std::net::Ipv4Addr::new(192, 0, 2, 9));
    // One record in two strings, joined first.
    dns.txt_strings("split.test", &["v=spf1 ip4:192.0.2.1", " -all"]);
    let setup = Setup::new(&dns, &[]);
    let (_, result) = setup.json(&["many.test"]);
    let lookups = check(&result, "spf.lookups");
    assert_eq!(lookups["status"], "fail", "{result:#}");
    assert!(
        lookups["message"]
            .as_str()
            .unwrap()
            .starts_with("11 of 10 DNS lookups")
    );
    let (_, result) = setup.json(&["near.test"]);
    assert_eq!(status(&result, "spf.lookups"), "warn", "{result:#}");
    let (_, result) = setup.json(&["void.test"]);
    let lookups = check(&result, "spf.lookups");
    assert_eq!(lookups["status"], "fail", "{result:#}");
    assert!(
        lookups["message"]
            .as_str()
            .unwrap()
            .starts_with("4 of 10 DNS lookups, 3 void")
    );
    let (_, result) = setup.json(&["split.test"]);
    assert_eq!(
        check(&result, "spf.record")["message"],
        "split.test: v=spf1 ip4:192.0.2.1 -all"
    );
}

#[test]
fn dkim_keys_are_held_against_the_selectors_reports_saw() {
    let dns = DnsServer::start();
    dns.txt(
        "_dmarc.keys.test",
        "v=DMARC1; p=none; rua=mailto:d@keys.test",
    )
    .txt("s512._domainkey.keys.test", &rsa_key(512))
    .txt("s1024._domainkey.keys.test", &rsa_key(1024))
    .txt("provider-key.example", &rsa_key(2048))
    .cname("cname._domainkey.keys.test", "provider-key.example")
    .txt("old._domainkey.keys.test", "v=DKIM1; p=");
    let rows = ["s512", "s1024", "cname", "old", "missing"].map(|selector| Row {
        ip: "192.0.2.20",
        count: 10,
        dkim_aligned: true,
        spf_aligned: false,
        dkim: ("keys.test", selector, "pass"),
        spf: ("keys.test", "fail"),
    });
    let setup = Setup::new(&dns, &[report("keys.test", "keys-1", &rows)]);
    let (_, result) = setup.json(&["keys.test"]);
    let selectors = check(&result, "dkim.selectors");
    assert_eq!(selectors["status"], "fail", "{result:#}");
    let message = selectors["message"].as_str().unwrap();
    for part in [
        "s512 (keys.test): 512-bit RSA, too short",
        "s1024 (keys.test): 1024-bit RSA",
        "cname (keys.test): 2048-bit RSA",
        "old (keys.test): revoked (empty p=), still in reports",
        "missing (keys.test): no key published",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }
}

#[test]
fn traffic_names_senders_to_add_and_mail_from_domains_to_replace() {
    let dns = DnsServer::start();
    good_zone(&dns);
    let rows = [
        Row {
            ip: "192.0.2.10",
            count: 50,
            dkim_aligned: true,
            spf_aligned: true,
            dkim: ("good.test", "s2048", "pass"),
            spf: ("good.test", "pass"),
        },
        // A provider sending for good.test, signing aligned, its own envelope.
        Row {
            ip: "203.0.113.5",
            count: 300,
            dkim_aligned: true,
            spf_aligned: false,
            dkim: ("good.test", "s2048", "pass"),
            spf: ("amazonses.com", "pass"),
        },
        Row {
            ip: "198.51.100.7",
            count: 20,
            dkim_aligned: true,
            spf_aligned: true,
            dkim: ("good.test", "s2048", "pass"),
            spf: ("good.test", "pass"),
        },
    ];
    let setup = Setup::new(&dns, &[report("good.test", "traffic-1", &rows)]);
    let (code, result) = setup.json(&["good.test"]);
    assert_eq!(code, 0, "warnings only: {result:#}");
    let traffic = check(&result, "spf.traffic");
    assert_eq!(traffic["status"], "warn");
    let message = traffic["message"].as_str().unwrap();
    assert!(
        message.contains("passing DKIM but not SPF: 203.0.113.5 (300)"),
        "{message}"
    );
    assert!(
        !message.contains("include:_spf.provider.test"),
        "a source uses it: {message}"
    );
    let mail_from = check(&result, "spf.mail_from");
    assert_eq!(mail_from["status"], "warn");
    assert!(
        mail_from["message"]
            .as_str()
            .unwrap()
            .contains("amazonses.com (300 from 1 source)"),
        "{result:#}"
    );
    assert!(
        mail_from["fix"]
            .as_str()
            .unwrap()
            .contains("custom MAIL FROM domain")
    );
}

#[test]
fn dns_failures_are_errors_within_the_timeout_not_hangs() {
    let dns = DnsServer::start();
    dns.behave("_dmarc.silent.test", Behaviour::Silent);
    let setup = Setup::new(&dns, &[]);
    let started = std::time::Instant::now();
    let (_, result) = setup.json(&["silent.test"]);
    assert_eq!(status(&result, "dmarc.record"), "error", "{result:#}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // NXDOMAIN is an answer: no record.
    let (code, result) = setup.json(&["nowhere.test"]);
    assert_eq!(status(&result, "dmarc.record"), "fail");
    assert_eq!(code, 1);
    // SERVFAIL for every name: every DNS check is an error, exit 2.
    let failing = DnsServer::failing();
    let setup = Setup::new(&failing, &[]);
    let (code, result) = setup.json(&["good.test"]);
    for id in [
        "dmarc.record",
        "dmarc.policy",
        "dmarc.rua",
        "spf.record",
        "spf.lookups",
        "mx",
        "tlsrpt.record",
        "mta_sts.record",
    ] {
        assert_eq!(status(&result, id), "error", "{id}: {result:#}");
    }
    assert_eq!(code, 2);
}

#[test]
fn the_json_of_one_domain_is_stable() {
    let dns = DnsServer::start();
    dns.txt(
        "_dmarc.golden.test",
        "v=DMARC1; p=none; rua=mailto:dmarc@golden.test",
    )
    .txt("golden.test", "v=spf1 -all")
    .mx("golden.test", 0, ".");
    let setup = Setup::new(&dns, &[]);
    let (code, result) = setup.json(&["golden.test"]);
    assert_eq!(code, 0);
    let expected = json!([{
        "domain": "golden.test",
        "checks": [
            {"id": "dmarc.record", "status": "ok",
             "message": "_dmarc.golden.test: v=DMARC1; p=none; rua=mailto:dmarc@golden.test",
             "fix": null},
            {"id": "dmarc.policy", "status": "warn",
             "message": "p=none: monitoring only, nothing is enforced",
             "fix": "see `dmarc-sink policy` for when p=quarantine is safe, and the record to publish"},
            {"id": "dmarc.rua", "status": "ok", "message": "rua=mailto:dmarc@golden.test", "fix": null},
            {"id": "spf.record", "status": "ok", "message": "golden.test: v=spf1 -all", "fix": null},
            {"id": "spf.lookups", "status": "ok", "message": "0 of 10 DNS lookups, 0 void", "fix": null},
            {"id": "spf.traffic", "status": "ok", "message": "no store: traffic not checked", "fix": null},
            {"id": "spf.mail_from", "status": "ok", "message": "no store: traffic not checked", "fix": null},
            {"id": "dkim.selectors", "status": "ok", "message": "no store: selectors not checked", "fix": null},
            {"id": "mx", "status": "ok", "message": "null MX: the domain takes no mail", "fix": null},
            {"id": "tlsrpt.record", "status": "warn",
             "message": "no v=TLSRPTv1 record at _smtp._tls.golden.test: no SMTP TLS reports come",
             "fix": "publish TXT _smtp._tls.golden.test \"v=TLSRPTv1; rua=mailto:tlsrpt@<your sink>\""},
            {"id": "mta_sts.record", "status": "warn",
             "message": "no v=STSv1 record at _mta-sts.golden.test: senders may deliver without TLS",
             "fix": "serve a policy at https://mta-sts.golden.test/.well-known/mta-sts.txt and publish TXT _mta-sts.golden.test \"v=STSv1; id=<a new id per change>\""}
        ]
    }]);
    assert_eq!(result, expected, "{result:#}");
}

#[test]
fn policy_keeps_the_published_rua_and_ruf_when_dns_is_configured() {
    let dns = DnsServer::start();
    dns.txt(
        "_dmarc.pol.test",
        "v=DMARC1; p=none; rua=mailto:a@pol.test,mailto:dmarc@sink.example; ruf=mailto:f@pol.test",
    );
    let rows = [Row {
        ip: "192.0.2.10",
        count: 10,
        dkim_aligned: true,
        spf_aligned: true,
        dkim: ("pol.test", "s1", "pass"),
        spf: ("pol.test", "pass"),
    }];
    let setup = Setup::new(&dns, &[report("pol.test", "pol-1", &rows)]);
    let output = dmarc_sink(&[
        "--config",
        setup.config.to_str().unwrap(),
        "--db",
        setup.db.to_str().unwrap(),
        "policy",
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        json["domains"][0]["next"]["record"],
        "v=DMARC1; p=quarantine; rua=mailto:a@pol.test,mailto:dmarc@sink.example; \
         ruf=mailto:f@pol.test"
    );
}

#[test]
fn the_page_shows_the_dns_checks_when_asked() {
    let dns = DnsServer::start();
    good_zone(&dns);
    // A TXT record with an escape sequence and markup must reach the page
    // as text.
    dns.txt("_dmarc.hostile.test", "v=DMARC1; p=none; x=<b>\u{1b}]0;x");
    let mut reports = good_reports();
    reports.push(report(
        "hostile.test",
        "hostile-1",
        &[Row {
            ip: "192.0.2.66",
            count: 1,
            dkim_aligned: false,
            spf_aligned: false,
            dkim: ("hostile.test", "s", "fail"),
            spf: ("hostile.test", "fail"),
        }],
    ));
    let setup = Setup::new(&dns, &reports);
    let page = setup._dir.path().join("page.html");
    let output = dmarc_sink(&[
        "--config",
        setup.config.to_str().unwrap(),
        "--db",
        setup.db.to_str().unwrap(),
        "html",
        "--check-dns",
        "--out",
        page.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let page = std::fs::read_to_string(page).unwrap();
    assert!(
        page.contains("<h2>DNS checks</h2><h3>good.test</h3>"),
        "{page}"
    );
    assert!(page.contains("<h3>hostile.test</h3>"), "{page}");
    assert!(page.contains("<code>spf.lookups</code>"));
    assert!(page.contains("x=&lt;b&gt;"), "markup from DNS is escaped");
    assert!(!page.contains("<b>\u{1b}"), "markup from DNS is escaped");
    // Without the flag, no DNS checks.
    let plain = setup._dir.path().join("plain.html");
    dmarc_sink(&[
        "--db",
        setup.db.to_str().unwrap(),
        "html",
        "--out",
        plain.to_str().unwrap(),
    ]);
    assert!(
        !std::fs::read_to_string(plain)
            .unwrap()
            .contains("DNS checks")
    );
}

#[test]
fn the_mta_sts_policy_is_fetched_and_held_against_mx_and_tls_failures() {
    let policy = "version: STSv1\r\nmode: enforce\r\nmx: mx1.sts.test\r\nmax_age: 86400\r\n";
    let Some(server) = crate::util::https::serve("mta-sts.sts.test", policy) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs the tests as root"
        );
        return;
    };
    let dns = DnsServer::start();
    dns.txt("_mta-sts.sts.test", "v=STSv1; id=2026120401")
        .a("mta-sts.sts.test", std::net::Ipv4Addr::LOCALHOST)
        .mx("sts.test", 10, "mx1.sts.test")
        .mx("sts.test", 20, "mx2.sts.test");
    let setup = Setup::new(&dns, &[]);
    let roots = setup._dir.path().join("roots.pem");
    std::fs::write(&roots, &server.certificate_pem).unwrap();
    let config = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(
        &setup.config,
        format!(
            "{config}\n[check_dns]\nhttps_roots = {:?}\n",
            roots.display().to_string()
        ),
    )
    .unwrap();
    let (_, result) = setup.json(&["sts.test", "--fetch-mta-sts"]);
    let sts = check(&result, "mta_sts.record");
    assert_eq!(sts["status"], "fail", "{result:#}");
    let message = sts["message"].as_str().unwrap();
    assert!(
        message.contains("policy mode enforce, mx mx1.sts.test"),
        "{message}"
    );
    assert!(
        message.contains("MX hosts the policy does not list: mx2.sts.test"),
        "{message}"
    );
    // Without the flag, only the record is read.
    let (_, result) = setup.json(&["sts.test"]);
    assert_eq!(status(&result, "mta_sts.record"), "ok");
    // A certificate the client does not trust: the fetch fails.
    std::fs::write(&setup.config, config).unwrap();
    let (_, result) = setup.json(&["sts.test", "--fetch-mta-sts"]);
    let sts = check(&result, "mta_sts.record");
    assert_eq!(sts["status"], "fail");
    assert!(
        sts["message"]
            .as_str()
            .unwrap()
            .contains("its policy file:"),
        "{result:#}"
    );
}

#[test]
fn the_json_of_a_domain_with_no_records_is_stable() {
    let dns = DnsServer::start();
    let setup = Setup::new(&dns, &[]);
    let (code, result) = setup.json(&["nothing.test"]);
    assert_eq!(code, 1);
    let expected = json!([{
        "domain": "nothing.test",
        "checks": [
            {"id": "dmarc.record", "status": "fail",
             "message": "no DMARC record at _dmarc.nothing.test or any parent",
             "fix": "publish TXT _dmarc.nothing.test \"v=DMARC1; p=none; rua=mailto:dmarc@<your sink>\""},
            {"id": "dmarc.policy", "status": "fail", "message": "no policy: no DMARC record", "fix": null},
            {"id": "dmarc.rua", "status": "fail", "message": "no rua: no DMARC record, so no reports", "fix": null},
            {"id": "spf.record", "status": "fail", "message": "no v=spf1 record at nothing.test",
             "fix": "publish TXT nothing.test \"v=spf1 <your senders> -all\", or \"v=spf1 -all\" if it sends no mail"},
            {"id": "spf.lookups", "status": "ok", "message": "no record: no lookups", "fix": null},
            {"id": "spf.traffic", "status": "ok", "message": "no store: traffic not checked", "fix": null},
            {"id": "spf.mail_from", "status": "ok", "message": "no store: traffic not checked", "fix": null},
            {"id": "dkim.selectors", "status": "ok", "message": "no store: selectors not checked", "fix": null},
            {"id": "mx", "status": "warn",
             "message": "nothing.test has no MX record: mail to it goes to its address, if any",
             "fix": "publish its MX records, or a null MX (\"MX 0 .\", RFC 7505) if nothing.test takes no mail"},
            {"id": "tlsrpt.record", "status": "warn",
             "message": "no v=TLSRPTv1 record at _smtp._tls.nothing.test: no SMTP TLS reports come",
             "fix": "publish TXT _smtp._tls.nothing.test \"v=TLSRPTv1; rua=mailto:tlsrpt@<your sink>\""},
            {"id": "mta_sts.record", "status": "warn",
             "message": "no v=STSv1 record at _mta-sts.nothing.test: senders may deliver without TLS",
             "fix": "serve a policy at https://mta-sts.nothing.test/.well-known/mta-sts.txt and publish TXT _mta-sts.nothing.test \"v=STSv1; id=<a new id per change>\""}
        ]
    }]);
    assert_eq!(result, expected, "{result:#}");
}
