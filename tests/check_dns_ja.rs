//! `dmarc-sink check-dns` in Japanese: the same checks against the tests'
//! own DNS server, their messages and fixes from `locales/ja/check.ftl`,
//! the ids, statuses and JSON keys untouched, and English as before.

use crate::check_dns::{Row, SINCE, Setup, check, good_zone, report};
use crate::util::dns::DnsServer;
use crate::util::{dmarc_sink_in_locale, text};
use serde_json::Value;

/// ja.test: no DMARC record, and an SPF record that takes 11 lookups
/// through a chain of includes. none.test: p=none.
fn japanese_zone(dns: &DnsServer) {
    dns.txt("ja.test", "v=spf1 include:i1.ja.test -all");
    for n in 1..=11 {
        let next = if n < 11 {
            format!("v=spf1 include:i{}.ja.test -all", n + 1)
        } else {
            "v=spf1 ip4:192.0.2.1 -all".to_owned()
        };
        dns.txt(&format!("i{n}.ja.test"), &next);
    }
    dns.txt(
        "_dmarc.none.test",
        "v=DMARC1; p=none; rua=mailto:dmarc@none.test",
    )
    .txt("none.test", "v=spf1 -all");
}

/// The check `id` of the domain `domain` of a JSON result.
fn check_of<'a>(result: &'a Value, domain: &str, id: &str) -> &'a Value {
    let domain = result
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == domain)
        .unwrap_or_else(|| panic!("no domain {domain} in {result:#}"));
    domain["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {domain:#}"))
}

/// Every check's id and status, and the keys of its object, in order.
fn shape(result: &Value) -> Vec<(String, String, Vec<String>)> {
    result
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["checks"].as_array().unwrap())
        .map(|c| {
            let keys = c.as_object().unwrap().keys().cloned().collect();
            (
                c["id"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
                keys,
            )
        })
        .collect()
}

#[test]
fn messages_and_fixes_are_japanese_while_ids_and_statuses_stay_ascii() {
    let dns = DnsServer::start();
    japanese_zone(&dns);
    let setup = Setup::new(&dns, &[]);
    let domains = ["ja.test", "none.test"];
    let (ja_code, ja) = setup.json(&[&domains[..], &["--lang", "ja"]].concat());
    let (en_code, en) = setup.json(&domains);

    // A missing DMARC record: what was found, and the record to publish.
    let record = check_of(&ja, "ja.test", "dmarc.record");
    assert_eq!(
        record["message"],
        "_dmarc.ja.testにも親ドメインにもDMARCレコードがありません。"
    );
    assert_eq!(
        record["fix"],
        "_dmarc.ja.testにTXTレコード「v=DMARC1; p=none; rua=mailto:dmarc@<dmarc-sinkのドメイン>」を公開してください。"
    );
    // p=none: monitoring only, and where to look before enforcing.
    let policy = check_of(&ja, "none.test", "dmarc.policy");
    assert_eq!(
        policy["message"],
        "p=none（監視のみ）のため、何も適用されていません。"
    );
    assert_eq!(
        policy["fix"],
        "p=quarantine（隔離）に移行してよい時期と、公開するレコードは`dmarc-sink policy`で確認してください。"
    );
    // Too many SPF lookups: the count against the limit, and the fix.
    let lookups = check_of(&ja, "ja.test", "spf.lookups");
    let message = lookups["message"].as_str().unwrap();
    assert!(
        message.starts_with("DNSルックアップは11回（上限10回）、voidルックアップは0回です。"),
        "{message}"
    );
    assert!(message.contains("恒久的エラー（permerror）"), "{message}");
    assert!(
        lookups["fix"]
            .as_str()
            .unwrap()
            .contains("include:の代わりにip4:/ip6:で"),
        "{lookups:#}"
    );

    // The same ids, statuses, keys and exit status as in English; ids and
    // statuses in ASCII.
    assert_eq!(shape(&ja), shape(&en));
    assert!(
        shape(&ja)
            .iter()
            .all(|(id, status, _)| id.is_ascii() && status.is_ascii())
    );
    assert_eq!(
        shape(&ja)[0].2,
        ["fix", "id", "message", "status"],
        "the JSON keys"
    );
    assert_eq!(ja_code, en_code);
    assert_eq!(ja_code, 1);

    // English as it was.
    assert_eq!(
        check_of(&en, "ja.test", "dmarc.record")["message"],
        "no DMARC record at _dmarc.ja.test or any parent"
    );
    assert_eq!(
        check_of(&en, "none.test", "dmarc.policy")["fix"],
        "see `dmarc-sink policy` for when p=quarantine is safe, and the record to publish"
    );
    assert!(
        check_of(&en, "ja.test", "spf.lookups")["message"]
            .as_str()
            .unwrap()
            .starts_with("11 of 10 DNS lookups, 0 void (")
    );
    let (_, en_flag) = setup.json(&[&domains[..], &["--lang", "en"]].concat());
    assert_eq!(en_flag, en, "--lang en is the C locale's English");
}

#[test]
fn the_text_form_keeps_its_columns_and_translates_the_fix_label() {
    let dns = DnsServer::start();
    japanese_zone(&dns);
    let setup = Setup::new(&dns, &[]);
    let (_, ja) = setup.run(&["ja.test", "--lang", "ja"]);
    let (_, en) = setup.run(&["ja.test"]);
    let lines: Vec<&str> = ja.lines().collect();
    assert_eq!(lines[0], "ja.test");
    assert_eq!(
        lines[1],
        "  fail  dmarc.record    _dmarc.ja.testにも親ドメインにもDMARCレコードがありません。"
    );
    // The fix beneath, under what was found, after its label.
    let indent = " ".repeat(24);
    assert_eq!(
        lines[2],
        format!(
            "{indent}対処：_dmarc.ja.testにTXTレコード「v=DMARC1; p=none; rua=mailto:dmarc@<dmarc-sinkのドメイン>」を公開してください。"
        )
    );
    assert!(!ja.contains("fix:"), "{ja}");
    // Line for line the same statuses and ids as in English.
    let columns = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| !l.starts_with(&indent))
            .map(|l| l.chars().take(24).collect())
            .collect()
    };
    assert_eq!(columns(&ja), columns(&en));
    assert_eq!(ja.lines().count(), en.lines().count());
    assert!(
        en.contains(&format!("\n{indent}fix: publish TXT _dmarc.ja.test \"v=DMARC1; p=none; rua=mailto:dmarc@<your sink>\"\n")),
        "{en}"
    );
}

#[test]
fn a_japanese_locale_chooses_japanese() {
    let dns = DnsServer::start();
    japanese_zone(&dns);
    let setup = Setup::new(&dns, &[]);
    let args = |lang: Option<&str>| {
        let mut all = vec![
            "--config".to_owned(),
            setup.config.display().to_string(),
            "--db".to_owned(),
            setup.db.display().to_string(),
            "check-dns".to_owned(),
            "--since".to_owned(),
            SINCE.to_owned(),
            "none.test".to_owned(),
        ];
        if let Some(lang) = lang {
            all.extend(["--lang".to_owned(), lang.to_owned()]);
        }
        all
    };
    let in_japanese = dmarc_sink_in_locale(&args(None), "ja_JP.UTF-8");
    let out = text(&in_japanese.stdout);
    assert!(
        out.contains(
            "  warn  dmarc.policy    p=none（監視のみ）のため、何も適用されていません。\n"
        ),
        "{out}\n{}",
        text(&in_japanese.stderr)
    );
    let (_, flagged) = setup.run(&["none.test", "--lang", "ja"]);
    assert_eq!(out, flagged, "the locale and --lang ja agree");
    // --lang wins over the locale.
    let english = dmarc_sink_in_locale(&args(Some("en")), "ja_JP.UTF-8");
    let (_, c_locale) = setup.run(&["none.test"]);
    assert_eq!(text(&english.stdout), c_locale);
    assert!(c_locale.contains("p=none: monitoring only, nothing is enforced"));
}

#[test]
fn traffic_counts_and_days_are_written_for_japanese_readers() {
    let dns = DnsServer::start();
    good_zone(&dns);
    let rows = [
        Row {
            ip: "192.0.2.10",
            count: 1200,
            dkim_aligned: true,
            spf_aligned: true,
            dkim: ("good.test", "s2048", "pass"),
            spf: ("good.test", "pass"),
        },
        Row {
            ip: "203.0.113.5",
            count: 3000,
            dkim_aligned: true,
            spf_aligned: false,
            dkim: ("good.test", "s2048", "pass"),
            spf: ("amazonses.com", "pass"),
        },
    ];
    let setup = Setup::new(&dns, &[report("good.test", "ja-1", &rows)]);
    let (_, ja) = setup.json(&["good.test", "--lang", "ja"]);
    let traffic = check(&ja, "spf.traffic");
    assert_eq!(
        traffic["message"],
        "送信元2件から4,200通が報告されています。\
         DKIMは成功していますが、SPFが成功していない送信元があります：203.0.113.5（3,000通）。\
         include:_spf.provider.testに一致する送信元はレポートにありません。"
    );
    assert_eq!(
        check(&ja, "spf.mail_from")["message"],
        "SPFはほかのドメインのエンベロープでのみ成功しています：amazonses.com（送信元1件から3,000通）。\
         これではgood.testと整合しません。"
    );
    // A key size is a name, not a count: 2048, not 2,048.
    assert_eq!(
        check(&ja, "dkim.selectors")["message"],
        "セレクターs2048（good.test）：2048ビットのRSA鍵。成功4,200通、失敗0通\
         （2023年11月15日〜2023年11月15日）。"
    );
    let (_, en) = setup.json(&["good.test"]);
    assert_eq!(
        check(&en, "spf.traffic")["message"],
        "4,200 messages reported from 2 sources; passing DKIM but not SPF: 203.0.113.5 (3,000); \
         no reported source matched include:_spf.provider.test"
    );
    assert_eq!(
        check(&en, "spf.mail_from")["message"],
        "SPF passes only for another domain's envelope: amazonses.com (3,000 from 1 source); \
         it cannot align with good.test"
    );
}
