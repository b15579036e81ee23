//! The aggregate parser on fixtures written for each quirk (tests/data/).

use dmarc_sink::limits::Limits;
use dmarc_sink::parse::{AggregateSink, ParseError, ParseFailure, ParsedReport, parse_aggregate};
use dmarc_sink::report::{DkimResult, Feedback, PolicyOverrideReason, Record, SpfResult};
use std::convert::Infallible;
use std::path::Path;

/// Keeps what the parser hands over.
#[derive(Default)]
struct Collect {
    begun: Vec<Feedback>,
    records: Vec<Record>,
}

impl AggregateSink for Collect {
    type Error = Infallible;
    fn begin(&mut self, feedback: &Feedback) -> Result<(), Infallible> {
        self.begun.push(feedback.clone());
        Ok(())
    }
    fn record(&mut self, record: &mut Record) -> Result<(), Infallible> {
        self.records.push(std::mem::take(record));
        Ok(())
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse_bytes(bytes: &[u8], limits: &Limits) -> Result<(ParsedReport, Collect), ParseError> {
    let mut sink = Collect::default();
    match parse_aggregate(bytes, limits, &mut sink) {
        Ok(parsed) => {
            assert_eq!(sink.begun.len(), 1, "begin is called exactly once");
            assert_eq!(sink.begun[0], parsed.feedback);
            assert_eq!(sink.records.len() as u64, parsed.records);
            Ok((parsed, sink))
        }
        Err(ParseFailure::Report(error)) => Err(error),
        Err(ParseFailure::Sink(never)) => match never {},
    }
}

fn parse(name: &str) -> (ParsedReport, Collect) {
    parse_bytes(&fixture(name), &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn parse_error(name: &str) -> ParseError {
    match parse_bytes(&fixture(name), &Limits::default()) {
        Ok(_) => panic!("{name} parsed, expected an error"),
        Err(error) => error,
    }
}

fn some(value: &str) -> Option<String> {
    Some(value.to_owned())
}

#[test]
fn every_rfc7489_field() {
    let (parsed, sink) = parse("rfc7489-every-field.xml");
    let feedback = &parsed.feedback;
    assert_eq!(feedback.version, some("1.0"));
    let meta = &feedback.metadata;
    assert_eq!(meta.org_name, "mail.example.net");
    assert_eq!(meta.email, some("dmarc-reports@mail.example.net"));
    assert_eq!(
        meta.extra_contact_info,
        some("https://mail.example.net/postmaster")
    );
    assert_eq!(meta.report_id, "rfc7489-every-field-1");
    assert_eq!(
        (meta.date_begin, meta.date_end),
        (1_700_006_400, 1_700_092_799)
    );
    assert_eq!(
        meta.errors,
        vec!["one DNS lookup timed out", "one record truncated"]
    );
    assert_eq!(meta.generator, None);
    let policy = &feedback.policy;
    assert_eq!(policy.domain, "example.com");
    assert_eq!(policy.adkim, some("r"));
    assert_eq!(policy.aspf, some("s"));
    assert_eq!(policy.p, some("quarantine"));
    assert_eq!(policy.sp, some("reject"));
    assert_eq!(policy.pct, Some(50));
    assert_eq!(policy.fo, some("1"));
    assert_eq!(policy.np, None);

    assert_eq!(parsed.records, 2);
    assert_eq!(parsed.messages, 15);
    let first = &sink.records[0];
    assert_eq!(first.source_ip, "192.0.2.10");
    assert_eq!(first.count, 12);
    assert_eq!(first.disposition, some("none"));
    assert_eq!(first.dkim, some("pass"));
    assert_eq!(first.spf, some("fail"));
    assert_eq!(
        first.reasons,
        vec![
            PolicyOverrideReason {
                kind: some("forwarded"),
                comment: some("arrived through a mailing list"),
            },
            PolicyOverrideReason {
                kind: some("local_policy"),
                comment: None,
            },
        ]
    );
    assert_eq!(first.envelope_to, some("example.org"));
    assert_eq!(first.envelope_from, some("lists.example.org"));
    assert_eq!(first.header_from, some("example.com"));
    assert_eq!(
        first.dkim_results,
        vec![
            DkimResult {
                domain: some("example.com"),
                selector: some("s2024"),
                result: some("pass"),
                human_result: some("good signature"),
            },
            DkimResult {
                domain: some("lists.example.org"),
                selector: some("list"),
                result: some("fail"),
                human_result: None,
            },
        ]
    );
    assert_eq!(
        first.spf_results,
        vec![SpfResult {
            domain: some("lists.example.org"),
            scope: some("mfrom"),
            result: some("softfail"),
            human_result: some("not in the list's record"),
        }]
    );
    let second = &sink.records[1];
    assert_eq!(second.source_ip, "2001:db8::25");
    assert_eq!(second.disposition, some("quarantine"));
    assert!(second.reasons.is_empty() && second.dkim_results.is_empty());
    assert_eq!(second.spf_results.len(), 1);
}

#[test]
fn rfc9990_with_default_namespace_and_extension() {
    let (parsed, sink) = parse("rfc9990-default-namespace.xml");
    let policy = &parsed.feedback.policy;
    assert_eq!(policy.domain, "example.test");
    assert_eq!(policy.np, some("reject"));
    assert_eq!(policy.testing, some("n"));
    assert_eq!(policy.discovery_method, some("treewalk"));
    assert_eq!(policy.pct, None);
    assert_eq!(
        parsed.feedback.metadata.generator,
        some("receiver-reporter 3.1")
    );
    assert_eq!(parsed.feedback.version, some("1.0"));
    assert_eq!(parsed.records, 1);
    assert_eq!(sink.records[0].disposition, some("pass"));
    assert_eq!(sink.records[0].envelope_from, some("bounce.example.test"));
    assert_eq!(sink.records[0].dkim_results[0].selector, some("k1"));
}

#[test]
fn prefixed_namespace() {
    let (parsed, sink) = parse("prefixed-namespace.xml");
    assert_eq!(parsed.feedback.metadata.org_name, "prefix.example");
    assert_eq!(parsed.messages, 2);
    assert_eq!(sink.records[0].spf_results[0].result, some("pass"));
}

#[test]
fn whitespace_trimmed_and_keywords_lower_cased() {
    let (parsed, sink) = parse("whitespace-and-case.xml");
    assert_eq!(parsed.feedback.metadata.org_name, "Loose Reporter Inc.");
    assert_eq!(parsed.feedback.metadata.report_id, "spaced-1");
    assert_eq!(parsed.feedback.metadata.date_end, 1_700_086_399);
    assert_eq!(parsed.feedback.policy.domain, "example.com");
    assert_eq!(parsed.feedback.policy.p, some("none"));
    assert_eq!(parsed.feedback.policy.adkim, some("r"));
    let record = &sink.records[0];
    assert_eq!(record.source_ip, "192.0.2.1");
    assert_eq!(record.count, 7);
    assert_eq!(record.disposition, some("none"));
    assert_eq!(record.dkim, some("pass"));
    assert_eq!(record.spf, some("fail"));
    assert_eq!(record.header_from, some("example.com"));
    assert_eq!(record.dkim_results[0].result, some("pass"));
    assert_eq!(record.spf_results[0].scope, some("mfrom"));
    assert_eq!(record.spf_results[0].result, some("hardfail"));
}

#[test]
fn wrapper_element_trailing_text_and_decimal_dates() {
    let (parsed, _) = parse("wrapped-with-trailing-text.xml");
    assert_eq!(parsed.feedback.metadata.report_id, "wrapped-1");
    assert_eq!(parsed.feedback.metadata.date_begin, 1_338_422_400);
    assert_eq!(parsed.records, 1);
}

#[test]
fn report_without_records() {
    let (parsed, sink) = parse("no-records.xml");
    assert_eq!(parsed.records, 0);
    assert_eq!(parsed.messages, 0);
    assert_eq!(parsed.feedback.metadata.email, None);
    assert!(sink.records.is_empty());
}

#[test]
fn entities_character_references_and_cdata() {
    let (parsed, _) = parse("escaped-text.xml");
    assert_eq!(parsed.feedback.metadata.org_name, "AT&T Mail M");
    assert_eq!(parsed.feedback.metadata.report_id, "cdata<id>");
}

#[test]
fn utf8_byte_order_mark() {
    let (parsed, _) = parse("utf8-bom.xml");
    assert_eq!(parsed.feedback.metadata.org_name, "bom.example");
    assert_eq!(parsed.messages, 4);
}

#[test]
fn latin1_declared_encoding() {
    let (parsed, _) = parse("latin1-declared.xml");
    assert_eq!(parsed.feedback.metadata.org_name, "Réseau Éxemple");
}

#[test]
fn line_ends_in_text_are_normalised() {
    let text = String::from_utf8(fixture("rfc7489-every-field.xml")).unwrap();
    let crlf = text.replace('\n', "\r\n").replace(
        "<org_name>mail.example.net</org_name>",
        "<org_name>mail.example.net\r\nline two\rline three</org_name>",
    );
    let (parsed, sink) = parse_bytes(crlf.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(
        parsed.feedback.metadata.org_name,
        "mail.example.net\nline two\nline three"
    );
    let (_, lf) = parse("rfc7489-every-field.xml");
    assert_eq!(sink.records, lf.records);
}

#[test]
fn utf16_with_byte_order_mark() {
    let text = String::from_utf8(fixture("rfc7489-every-field.xml"))
        .unwrap()
        .replace("encoding=\"UTF-8\"", "encoding=\"UTF-16\"");
    for big_endian in [false, true] {
        let mut bytes = if big_endian {
            vec![0xfe, 0xff]
        } else {
            vec![0xff, 0xfe]
        };
        for unit in text.encode_utf16() {
            let pair = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            bytes.extend_from_slice(&pair);
        }
        let (parsed, _) = parse_bytes(&bytes, &Limits::default()).unwrap();
        assert_eq!(parsed.feedback.metadata.org_name, "mail.example.net");
        assert_eq!(parsed.messages, 15);
    }
}

#[test]
fn missing_org_name_is_named() {
    let error = parse_error("missing-org-name.xml");
    assert!(
        matches!(
            error,
            ParseError::Missing {
                element: "org_name",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "required element <org_name> missing or empty in feedback/report_metadata"
    );
}

#[test]
fn missing_count_names_the_record() {
    let error = parse_error("missing-count.xml");
    assert_eq!(
        error.to_string(),
        "required element <count> missing or empty in record 2 (feedback/record/row)"
    );
}

#[test]
fn non_numeric_count() {
    let error = parse_error("non-numeric-count.xml");
    assert!(
        matches!(
            error,
            ParseError::Invalid {
                element: "count",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("\"many\""), "{error}");
}

/// A count past `MAX_COUNT` would let a few reports overflow the sums
/// over the store; the largest allowed is read.
#[test]
fn count_above_the_largest_is_invalid() {
    let report = String::from_utf8(fixture("non-numeric-count.xml")).unwrap();
    let largest = report.replace("many", "4294967295");
    let (parsed, _) = parse_bytes(largest.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(parsed.messages, 4_294_967_295);
    let above = report.replace("many", "4294967296");
    let Err(error) = parse_bytes(above.as_bytes(), &Limits::default()) else {
        panic!("a count of 4294967296 was read");
    };
    assert!(
        matches!(
            error,
            ParseError::Invalid {
                element: "count",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn entity_bomb_is_refused_at_the_doctype() {
    let error = parse_error("entity-bomb.xml");
    assert!(matches!(error, ParseError::DocType), "{error:?}");
}

#[test]
fn undefined_entity_is_an_error() {
    let error = parse_error("undefined-entity.xml");
    assert!(
        matches!(error, ParseError::UndefinedEntity { ref name, .. } if name == "vendor"),
        "{error:?}"
    );
}

#[test]
fn mismatched_tag_is_an_xml_error() {
    let error = parse_error("mismatched-tag.xml");
    assert_eq!(error.kind().as_str(), "xml");
    assert!(error.to_string().contains("policy_published"), "{error}");
}

#[test]
fn other_xml_is_not_a_report() {
    let error = parse_error("not-a-report.xml");
    assert!(
        matches!(error, ParseError::NotAggregate { ref root } if root == "invoice"),
        "{error:?}"
    );
}

#[test]
fn truncated_document() {
    let bytes = fixture("rfc7489-every-field.xml");
    let cut = &bytes[..bytes.len() / 2];
    let error = parse_bytes(cut, &Limits::default())
        .err()
        .expect("an error");
    assert_eq!(error.kind().as_str(), "xml");
}

/// Asserts that `doc` is refused by a `max_xml_token_bytes` of 4096.
fn refused_at_a_token_limit_of_4096(doc: &str) {
    let limits = Limits {
        max_xml_token_bytes: 4096,
        ..Limits::default()
    };
    let error = parse_bytes(doc.as_bytes(), &limits)
        .err()
        .expect("an error");
    assert!(
        matches!(error, ParseError::Limit(l) if l.key == "max_xml_token_bytes"),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("limits.max_xml_token_bytes"),
        "{error}"
    );
}

#[test]
fn long_text_node_hits_the_token_limit() {
    let long = "x".repeat(100_000);
    refused_at_a_token_limit_of_4096(&format!(
        "<feedback><report_metadata><org_name>{long}</org_name></report_metadata></feedback>"
    ));
}

#[test]
fn long_comment_hits_the_token_limit() {
    let limits = Limits {
        max_xml_token_bytes: 4096,
        ..Limits::default()
    };
    let doc = format!("<feedback><!-- {} --></feedback>", "<>".repeat(50_000));
    let error = parse_bytes(doc.as_bytes(), &limits)
        .err()
        .expect("an error");
    assert!(
        matches!(error, ParseError::Limit(l) if l.key == "max_xml_token_bytes"),
        "{error:?}"
    );
}

#[test]
fn deep_nesting_hits_the_depth_limit() {
    let depth = 100_000;
    let doc = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    let error = parse_bytes(doc.as_bytes(), &Limits::default())
        .err()
        .expect("an error");
    assert!(
        matches!(error, ParseError::Limit(l) if l.key == "max_xml_depth"),
        "{error:?}"
    );
}

#[test]
fn nested_feedback_element_in_an_extension_does_not_end_the_report() {
    let doc = String::from_utf8(fixture("rfc7489-every-field.xml"))
        .unwrap()
        .replace(
            "</policy_published>",
            "</policy_published><extension><feedback/><feedback>x</feedback></extension>",
        );
    let (parsed, _) = parse_bytes(doc.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(parsed.records, 2);
    assert_eq!(parsed.messages, 15);
}

/// Whitespace between elements is skipped unread (quick-xml's
/// `trim_text_start`, switched on only right after a tag), so this pins
/// down that whitespace inside a value, after a reference, CDATA, a
/// comment or a processing instruction, is kept as sent.
#[test]
fn whitespace_inside_values_is_kept_around_references_cdata_and_comments() {
    let comments = [
        ("  a &amp; b  ", Some("a & b")),
        ("x<!-- note --> y", Some("x y")),
        ("<![CDATA[c]]> d", Some("c d")),
        ("e<?pi x?> f", Some("e f")),
        ("g&#32; h", Some("g  h")),
        ("&lt;i&gt;\n\tj", Some("<i>\n\tj")),
        ("\n  &#x20;  \n", None),
    ];
    let reasons: String = comments
        .iter()
        .map(|(comment, _)| {
            format!("<reason>\n  <type>other</type>\n  <comment>{comment}</comment>\n</reason>\n")
        })
        .collect();
    let doc = format!(
        "<feedback>\n <report_metadata> <org_name> Spaced &amp; Co </org_name>\n\
         <report_id>ws-1</report_id> <date_range><begin>1</begin><end>2</end></date_range>\n\
         </report_metadata>\n <policy_published> <domain>example.com</domain> </policy_published>\n\
         <record>\n <row> <source_ip> 192.0.2.1 </source_ip> <count> 3 </count>\n\
         <policy_evaluated> <disposition>none</disposition>\n{reasons}</policy_evaluated>\n\
         </row>\n <identifiers> <header_from>example.com</header_from> </identifiers>\n\
         </record>\n</feedback>\n"
    );
    let (parsed, sink) = parse_bytes(doc.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(parsed.feedback.metadata.org_name, "Spaced & Co");
    let record = &sink.records[0];
    assert_eq!((record.source_ip.as_str(), record.count), ("192.0.2.1", 3));
    let stored: Vec<Option<&str>> = record
        .reasons
        .iter()
        .map(|reason| reason.comment.as_deref())
        .collect();
    let sent: Vec<Option<&str>> = comments.iter().map(|(_, value)| *value).collect();
    assert_eq!(stored, sent);
}

#[test]
fn a_long_run_of_whitespace_between_elements_hits_the_token_limit() {
    let blank = " \n\t".repeat(40_000);
    refused_at_a_token_limit_of_4096(&format!(
        "<feedback><report_metadata>{blank}<org_name>x</org_name></report_metadata></feedback>"
    ));
}

/// A report whose one record holds `reasons` reasons, each with a comment
/// of `comment_bytes`, and whose metadata lists `errors` errors of 100
/// bytes; `records` such records.
fn report_with_lists(
    records: usize,
    reasons: usize,
    comment_bytes: usize,
    errors: usize,
) -> String {
    let comment = "c".repeat(comment_bytes);
    let error = "e".repeat(100);
    let errors: String = (0..errors)
        .map(|_| format!("<error>{error}</error>"))
        .collect();
    let reasons: String = (0..reasons)
        .map(|_| format!("<reason><type>other</type><comment>{comment}</comment></reason>"))
        .collect();
    let record = format!(
        "<record><row><source_ip>192.0.2.1</source_ip><count>1</count>\
         <policy_evaluated><disposition>none</disposition>{reasons}</policy_evaluated></row>\
         <identifiers><header_from>example.com</header_from></identifiers></record>"
    );
    format!(
        "<feedback><report_metadata><org_name>o</org_name><report_id>r</report_id>\
         <date_range><begin>1</begin><end>2</end></date_range>{errors}</report_metadata>\
         <policy_published><domain>example.com</domain></policy_published>{}</feedback>",
        record.repeat(records)
    )
}

fn record_limit(bytes: usize) -> Limits {
    Limits {
        max_record_bytes: bytes,
        ..Limits::default()
    }
}

fn is_record_limit(result: Result<(ParsedReport, Collect), ParseError>) -> bool {
    matches!(result, Err(ParseError::Limit(l)) if l.key == "max_record_bytes" && l.limit == 4096)
}

#[test]
fn a_record_holding_more_than_max_record_bytes_is_refused() {
    // Ten comments of 500 bytes: 10 × (5 + 500 + 128) and a few bytes more.
    let doc = report_with_lists(1, 10, 500, 0);
    let refused = parse_bytes(doc.as_bytes(), &record_limit(4096));
    if let Err(error) = &refused {
        assert!(
            error.to_string().contains("limits.max_record_bytes"),
            "{error}"
        );
    }
    assert!(is_record_limit(refused));
    let (parsed, sink) = parse_bytes(doc.as_bytes(), &record_limit(8192)).unwrap();
    assert_eq!(parsed.records, 1);
    assert_eq!(sink.records[0].reasons.len(), 10);
    // The count starts again with each record: forty such records of 3 KiB.
    let doc = report_with_lists(40, 5, 500, 0);
    let (parsed, _) = parse_bytes(doc.as_bytes(), &record_limit(4096)).unwrap();
    assert_eq!(parsed.records, 40);
}

#[test]
fn empty_reasons_and_results_count_towards_max_record_bytes() {
    // 100 empty entries carry no text, but each takes memory.
    let reasons = report_with_lists(1, 0, 0, 0).replace(
        "<disposition>none</disposition>",
        &format!("<disposition>none</disposition>{}", "<reason/>".repeat(100)),
    );
    assert!(is_record_limit(parse_bytes(
        reasons.as_bytes(),
        &record_limit(4096)
    )));
    let results = report_with_lists(1, 0, 0, 0).replace(
        "</identifiers>",
        &format!(
            "</identifiers><auth_results>{}{}</auth_results>",
            "<dkim/>".repeat(20),
            "<spf/>".repeat(20)
        ),
    );
    assert!(is_record_limit(parse_bytes(
        results.as_bytes(),
        &record_limit(4096)
    )));
    let (_, sink) = parse_bytes(results.as_bytes(), &record_limit(8192)).unwrap();
    assert_eq!(sink.records[0].dkim_results.len(), 20);
}

#[test]
fn the_metadata_and_policy_count_towards_max_record_bytes() {
    let doc = report_with_lists(1, 0, 0, 20);
    assert!(is_record_limit(parse_bytes(
        doc.as_bytes(),
        &record_limit(4096)
    )));
    let (parsed, _) = parse_bytes(doc.as_bytes(), &record_limit(8192)).unwrap();
    assert_eq!(parsed.feedback.metadata.errors.len(), 20);
    // Single values count too: they are held for the whole report.
    let long = "g".repeat(2_500);
    let doc = report_with_lists(1, 0, 0, 0).replace(
        "</report_metadata>",
        &format!("<generator>{long}</generator></report_metadata>"),
    );
    let doc = doc.replace(
        "</policy_published>",
        &format!("<fo>{long}</fo></policy_published>"),
    );
    assert!(is_record_limit(parse_bytes(
        doc.as_bytes(),
        &record_limit(4096)
    )));
    let (parsed, _) = parse_bytes(doc.as_bytes(), &record_limit(8192)).unwrap();
    assert_eq!(
        parsed.feedback.metadata.generator.as_deref(),
        Some(&long[..])
    );
}
