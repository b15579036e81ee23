//! A report mail of many records stored as a delivery would store it, for
//! the benchmarks that need a store to work on (`prune`, `export_postgres`).

use dmarc_sink::ingest::{Envelope, ingest_message};
use dmarc_sink::limits::Limits;
use dmarc_sink::store::{Source, Store};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;

const DAY: i64 = 86_400;

/// Stores report `id` over the day from `begin` (unix seconds) with
/// `records` records, each from its own source with a DKIM and an SPF
/// result, gzip-compressed in a mail as a reporter sends it.
pub fn store_report(store: &mut Store, id: &str, begin: i64, records: u64) {
    let mut xml = format!(
        "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>bench.example</org_name>\
         <email>r@bench.example</email><report_id>{id}</report_id><date_range>\
         <begin>{begin}</begin><end>{}</end></date_range></report_metadata><policy_published>\
         <domain>example.com</domain><p>none</p></policy_published>",
        begin + DAY - 1
    );
    for i in 0..records {
        xml.push_str(&format!(
            "<record><row><source_ip>10.{}.{}.{}</source_ip><count>3</count><policy_evaluated>\
             <disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>\
             <identifiers><header_from>example.com</header_from></identifiers><auth_results>\
             <dkim><domain>example.com</domain><selector>s1</selector><result>pass</result></dkim>\
             <spf><domain>bounce.example.net</domain><result>pass</result></spf></auth_results></record>",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        ));
    }
    xml.push_str("</feedback>");
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(xml.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let mail = format!(
        "From: r@bench.example\r\nTo: dmarc@example.com\r\nSubject: Report {id}\r\n\
         Message-ID: <{id}@bench.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: application/gzip; name=\"r.xml.gz\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        base64(&gz)
    );
    ingest_message(
        store,
        mail.as_bytes(),
        Source::Smtp,
        None,
        &Envelope::default(),
        &Limits::default(),
    )
    .expect("store the report");
}

fn base64(data: &[u8]) -> String {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(data);
    text.as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n")
}
