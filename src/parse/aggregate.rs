//! The streaming parser for DMARC aggregate reports (RFC 7489 appendix C and
//! RFC 9990).
//!
//! It walks quick-xml events keeping only a stack of element names, the text
//! of the current element and the record being filled. Namespaces (the
//! default `urn:ietf:params:xml:ns:dmarc-2.0`, prefixes, xsi attributes) are
//! ignored: elements are matched by local name. Unknown elements (extensions)
//! are skipped. Reporters' leniencies handled here: whitespace around values,
//! keywords in any case, the report wrapped in another element, text after
//! `</feedback>`.

use super::strings::{StringPool, Value};
use super::xml_input::{TokenLimit, utf8_stream};
use super::{MAX_COUNT, ParseError};
use crate::limits::{LimitExceeded, Limits};
use crate::report::{DkimResult, Feedback, PolicyOverrideReason, Record, SpfResult};
use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesText, Event};
use std::borrow::Cow;
use std::io::BufRead;

/// Where the records of a report go, one at a time.
///
/// `begin` is called once, before the first record (or at the end for a report
/// with no records), with the report's validated metadata and policy. A sink
/// may take a record's contents (`std::mem::take`) rather than copy them, or
/// swap in a record it is done with, whose strings the parser then reuses: the
/// parser starts the next record afresh either way.
pub trait AggregateSink {
    type Error;
    fn begin(&mut self, feedback: &Feedback) -> Result<(), Self::Error>;
    fn record(&mut self, record: &mut Record) -> Result<(), Self::Error>;
}

/// Parsing failed, either on the report or in the sink it fed.
#[derive(Debug)]
pub enum ParseFailure<E> {
    Report(ParseError),
    Sink(E),
}

impl<E> From<ParseError> for ParseFailure<E> {
    fn from(error: ParseError) -> Self {
        ParseFailure::Report(error)
    }
}

/// What a complete parse found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedReport {
    pub feedback: Feedback,
    /// Number of `<record>` elements.
    pub records: u64,
    /// Sum of the records' `count`: the messages the report speaks for.
    pub messages: i64,
}

/// Parses one aggregate report from `input`, feeding its records to `sink`.
///
/// ```
/// use dmarc_sink::limits::Limits;
/// use dmarc_sink::parse::{AggregateSink, parse_aggregate};
/// use dmarc_sink::report::{Feedback, Record};
///
/// /// Counts failing messages per source, keeping nothing else.
/// #[derive(Default)]
/// struct Failures(Vec<(String, i64)>);
///
/// impl AggregateSink for Failures {
///     type Error = std::convert::Infallible;
///     fn begin(&mut self, _: &Feedback) -> Result<(), Self::Error> {
///         Ok(())
///     }
///     fn record(&mut self, record: &mut Record) -> Result<(), Self::Error> {
///         if record.dkim.as_deref() != Some("pass") && record.spf.as_deref() != Some("pass") {
///             self.0.push((record.source_ip.clone(), record.count));
///         }
///         Ok(())
///     }
/// }
///
/// let xml = r#"<feedback>
///   <report_metadata><org_name>google.com</org_name><report_id>42</report_id>
///     <date_range><begin>1700006400</begin><end>1700092799</end></date_range></report_metadata>
///   <policy_published><domain>example.com</domain><p>none</p></policy_published>
///   <record><row><source_ip>192.0.2.1</source_ip><count>3</count>
///     <policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated>
///   </row></record>
/// </feedback>"#;
/// let mut failures = Failures::default();
/// let parsed = parse_aggregate(xml.as_bytes(), &Limits::default(), &mut failures).unwrap();
/// assert_eq!(parsed.feedback.policy.domain, "example.com");
/// assert_eq!((parsed.records, parsed.messages), (1, 3));
/// assert_eq!(failures.0, vec![("192.0.2.1".to_string(), 3)]);
/// ```
pub fn parse_aggregate<S: AggregateSink>(
    input: impl BufRead,
    limits: &Limits,
    sink: &mut S,
) -> Result<ParsedReport, ParseFailure<S::Error>> {
    parse_aggregate_labelled(input, None, limits, sink)
}

/// [`parse_aggregate`] for a document whose carrier named a charset (a MIME
/// `charset` parameter): the text encoding to assume when the document has
/// no BOM and its XML declaration names none. A document that names its
/// own encoding is decoded by that alone, never twice.
pub fn parse_aggregate_labelled<S: AggregateSink>(
    input: impl BufRead,
    charset: Option<&str>,
    limits: &Limits,
    sink: &mut S,
) -> Result<ParsedReport, ParseFailure<S::Error>> {
    let utf8 = utf8_stream(input, charset).map_err(ParseError::from_read)?;
    let mut reader = Reader::from_reader(TokenLimit::new(utf8, limits.max_xml_token_bytes));
    reader.config_mut().check_end_names = true;
    let mut state = State::new(limits);
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(quick_xml::Error::Io(error)) => {
                return Err(ParseError::from_read(clone_io(&error)).into());
            }
            Err(error) => {
                return Err(ParseError::Xml {
                    position: reader.error_position(),
                    message: error.to_string(),
                }
                .into());
            }
        };
        let position = reader.buffer_position();
        let at_tag = matches!(event, Event::Start(_) | Event::End(_) | Event::Empty(_));
        let done = state.event(event, position, sink)?;
        reader.get_mut().mark();
        // Right after a tag no text has been gathered yet (`open` and
        // `close` clear it), so whitespace there can only be leading
        // whitespace, which `trim` would drop: quick-xml may skip it
        // without an event. After a reference, CDATA, a comment or a PI,
        // whitespace may sit inside a value and is kept.
        reader.config_mut().trim_text_start = at_tag;
        if done {
            break;
        }
    }
    state.finish(sink)
}

/// quick-xml shares its I/O errors behind an `Arc`; the limit check needs the
/// original payload, so rebuild an owned error with the same kind and payload.
fn clone_io(error: &std::io::Error) -> std::io::Error {
    match LimitExceeded::from_io(error) {
        Some(limit) => limit.into_io(),
        None => std::io::Error::new(error.kind(), error.to_string()),
    }
}

/// The elements the parser knows, by local name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Feedback,
    Version,
    ReportMetadata,
    OrgName,
    Email,
    ExtraContactInfo,
    ReportId,
    DateRange,
    Begin,
    End,
    Error,
    Generator,
    PolicyPublished,
    Domain,
    Adkim,
    Aspf,
    P,
    Sp,
    Pct,
    Fo,
    Np,
    Testing,
    DiscoveryMethod,
    Record,
    Row,
    SourceIp,
    Count,
    PolicyEvaluated,
    Disposition,
    Dkim,
    Spf,
    Reason,
    Type,
    Comment,
    Identifiers,
    HeaderFrom,
    EnvelopeFrom,
    EnvelopeTo,
    AuthResults,
    Selector,
    Result,
    HumanResult,
    Scope,
    Other,
}

impl Tag {
    fn from_local_name(name: &str) -> Tag {
        match name {
            "feedback" => Tag::Feedback,
            "version" => Tag::Version,
            "report_metadata" => Tag::ReportMetadata,
            "org_name" => Tag::OrgName,
            "email" => Tag::Email,
            "extra_contact_info" => Tag::ExtraContactInfo,
            "report_id" => Tag::ReportId,
            "date_range" => Tag::DateRange,
            "begin" => Tag::Begin,
            "end" => Tag::End,
            "error" => Tag::Error,
            "generator" => Tag::Generator,
            "policy_published" => Tag::PolicyPublished,
            "domain" => Tag::Domain,
            "adkim" => Tag::Adkim,
            "aspf" => Tag::Aspf,
            "p" => Tag::P,
            "sp" => Tag::Sp,
            "pct" => Tag::Pct,
            "fo" => Tag::Fo,
            "np" => Tag::Np,
            "testing" => Tag::Testing,
            "discovery_method" => Tag::DiscoveryMethod,
            "record" => Tag::Record,
            "row" => Tag::Row,
            "source_ip" => Tag::SourceIp,
            "count" => Tag::Count,
            "policy_evaluated" => Tag::PolicyEvaluated,
            "disposition" => Tag::Disposition,
            "dkim" => Tag::Dkim,
            "spf" => Tag::Spf,
            "reason" => Tag::Reason,
            "type" => Tag::Type,
            "comment" => Tag::Comment,
            "identifiers" => Tag::Identifiers,
            "header_from" => Tag::HeaderFrom,
            "envelope_from" => Tag::EnvelopeFrom,
            "envelope_to" => Tag::EnvelopeTo,
            "auth_results" => Tag::AuthResults,
            "selector" => Tag::Selector,
            "result" => Tag::Result,
            "human_result" => Tag::HumanResult,
            "scope" => Tag::Scope,
            _ => Tag::Other,
        }
    }
}

struct State<'l> {
    limits: &'l Limits,
    /// Open elements from `<feedback>` down; empty before it.
    stack: Vec<Tag>,
    /// Elements open around `<feedback>` (a wrapper some reporters add).
    outer_depth: usize,
    /// The first element seen, named in the error when it is not a report.
    first_element: Option<String>,
    /// `</feedback>` was seen.
    finished: bool,
    text: String,
    feedback: Feedback,
    /// `<date_range>` was seen (to name the right element when it is missing).
    date_range_seen: bool,
    date_begin: Option<i64>,
    date_end: Option<i64>,
    /// `begin` was called on the sink.
    begun: bool,
    record: Record,
    /// Spare strings for the record's values.
    strings: StringPool,
    /// The current record has a non-empty `<count>`.
    count_seen: bool,
    /// What the current record holds, as `max_record_bytes` counts it.
    record_bytes: usize,
    /// What the report's metadata and policy hold, counted alike.
    metadata_bytes: usize,
    records: u64,
    messages: i64,
}

impl<'l> State<'l> {
    fn new(limits: &'l Limits) -> Self {
        State {
            limits,
            stack: Vec::with_capacity(16),
            outer_depth: 0,
            first_element: None,
            finished: false,
            text: String::new(),
            feedback: Feedback::default(),
            date_range_seen: false,
            date_begin: None,
            date_end: None,
            begun: false,
            record: Record::default(),
            strings: StringPool::default(),
            count_seen: false,
            record_bytes: 0,
            metadata_bytes: 0,
            records: 0,
            messages: 0,
        }
    }

    /// Handles one event; returns true once the report has ended.
    fn event<S: AggregateSink>(
        &mut self,
        event: Event<'_>,
        position: u64,
        sink: &mut S,
    ) -> Result<bool, ParseFailure<S::Error>> {
        match event {
            Event::Start(start) => {
                self.open(local_name(start.name().as_ref()), sink)?;
            }
            Event::Empty(start) => {
                let was_open = !self.stack.is_empty();
                self.open(local_name(start.name().as_ref()), sink)?;
                if was_open || !self.stack.is_empty() {
                    self.close(sink)?;
                } else {
                    self.outer_depth -= 1;
                }
            }
            Event::End(_) => {
                if self.stack.is_empty() {
                    self.outer_depth = self.outer_depth.saturating_sub(1);
                } else {
                    self.close(sink)?;
                }
            }
            Event::Text(text) => self.push_text(&xml10_text(&text))?,
            Event::CData(data) => self.push_text(&data.xml10_content())?,
            Event::GeneralRef(reference) => {
                let resolved = resolve_reference(&reference, position)?;
                self.push_text(resolved.encode_utf8(&mut [0; 4]))?;
            }
            Event::DocType(_) => return Err(ParseError::DocType.into()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {
                if !self.stack.is_empty() {
                    return Err(ParseError::Xml {
                        position,
                        message: "document ends before </feedback>".into(),
                    }
                    .into());
                }
                return Ok(true);
            }
        }
        Ok(self.finished)
    }

    fn open<S: AggregateSink>(
        &mut self,
        local_name: &str,
        sink: &mut S,
    ) -> Result<(), ParseFailure<S::Error>> {
        if self.first_element.is_none() {
            self.first_element = Some(local_name.to_owned());
        }
        let tag = Tag::from_local_name(local_name);
        if self.stack.is_empty() {
            if tag == Tag::Feedback {
                self.stack.push(Tag::Feedback);
            } else {
                self.outer_depth += 1;
                self.check_depth(self.outer_depth)?;
            }
            return Ok(());
        }
        self.check_depth(self.outer_depth + self.stack.len() + 1)?;
        self.text.clear();
        let parent = self.parent();
        match (parent, tag) {
            (Tag::Feedback, Tag::Record) => {
                if !self.begun {
                    self.begin(sink)?;
                }
                self.strings.reclaim(&mut self.record);
                self.count_seen = false;
                self.record_bytes = 0;
            }
            (Tag::PolicyEvaluated, Tag::Reason) => {
                hold(&mut self.record_bytes, ENTRY_BYTES, self.limits)?;
                self.record.reasons.push(PolicyOverrideReason::default());
            }
            (Tag::AuthResults, Tag::Dkim) => {
                hold(&mut self.record_bytes, ENTRY_BYTES, self.limits)?;
                self.record.dkim_results.push(DkimResult::default());
            }
            (Tag::AuthResults, Tag::Spf) => {
                hold(&mut self.record_bytes, ENTRY_BYTES, self.limits)?;
                self.record.spf_results.push(SpfResult::default());
            }
            (Tag::ReportMetadata, Tag::DateRange) => self.date_range_seen = true,
            _ => {}
        }
        self.stack.push(tag);
        Ok(())
    }

    fn check_depth(&self, depth: usize) -> Result<(), ParseError> {
        if depth > self.limits.max_xml_depth {
            return Err(ParseError::Limit(LimitExceeded {
                key: "max_xml_depth",
                limit: self.limits.max_xml_depth as u64,
            }));
        }
        Ok(())
    }

    /// Counts a value about to be stored against `max_record_bytes`: one
    /// of the current record's, or one of the report's metadata and policy
    /// (held, and copied for the store, for the whole report), each error
    /// the metadata lists as an entry of a list.
    fn count_held(&mut self, tag: Tag, bytes: usize) -> Result<(), ParseError> {
        let parent = self.parent();
        let held = match parent {
            Tag::Row | Tag::PolicyEvaluated | Tag::Reason | Tag::Identifiers => {
                &mut self.record_bytes
            }
            Tag::Dkim | Tag::Spf if self.grandparent() == Tag::AuthResults => {
                &mut self.record_bytes
            }
            Tag::ReportMetadata | Tag::DateRange | Tag::PolicyPublished => &mut self.metadata_bytes,
            Tag::Feedback if tag == Tag::Version => &mut self.metadata_bytes,
            _ => return Ok(()),
        };
        let entry = if (parent, tag) == (Tag::ReportMetadata, Tag::Error) {
            ENTRY_BYTES
        } else {
            0
        };
        hold(held, bytes + entry, self.limits)
    }

    fn parent(&self) -> Tag {
        self.stack.last().copied().unwrap_or(Tag::Other)
    }

    fn grandparent(&self) -> Tag {
        let n = self.stack.len();
        if n >= 2 {
            self.stack[n - 2]
        } else {
            Tag::Other
        }
    }

    fn push_text(&mut self, text: &str) -> Result<(), ParseError> {
        if self.stack.len() < 2 {
            return Ok(());
        }
        if self.text.len() + text.len() > self.limits.max_xml_token_bytes {
            return Err(ParseError::Limit(LimitExceeded {
                key: "max_xml_token_bytes",
                limit: self.limits.max_xml_token_bytes as u64,
            }));
        }
        self.text.push_str(text);
        Ok(())
    }

    /// Ends the innermost open element, storing its text where it belongs.
    fn close<S: AggregateSink>(&mut self, sink: &mut S) -> Result<(), ParseFailure<S::Error>> {
        let Some(tag) = self.stack.pop() else {
            return Ok(());
        };
        if self.stack.is_empty() {
            // The outermost `</feedback>`: the report is complete.
            self.finished = true;
            return Ok(());
        }
        let text = std::mem::take(&mut self.text);
        let value = trim(&text);
        self.count_held(tag, value.len())?;
        let result = self.assign(tag, value, sink);
        self.text = text;
        self.text.clear();
        result
    }

    fn assign<S: AggregateSink>(
        &mut self,
        tag: Tag,
        value: &str,
        sink: &mut S,
    ) -> Result<(), ParseFailure<S::Error>> {
        let parent = self.parent();
        let in_auth_results = self.grandparent() == Tag::AuthResults;
        let meta = &mut self.feedback.metadata;
        let policy = &mut self.feedback.policy;
        let record = &mut self.record;
        let strings = &mut self.strings;
        match (parent, tag) {
            (Tag::Feedback, Tag::Version) => self.feedback.version = text(value),
            (Tag::Feedback, Tag::Record) => return self.end_record(sink),
            (Tag::ReportMetadata, Tag::OrgName) => set(&mut meta.org_name, value),
            (Tag::ReportMetadata, Tag::Email) => meta.email = text(value),
            (Tag::ReportMetadata, Tag::ExtraContactInfo) => meta.extra_contact_info = text(value),
            (Tag::ReportMetadata, Tag::ReportId) => set(&mut meta.report_id, value),
            (Tag::ReportMetadata, Tag::Error) => meta.errors.extend(text(value)),
            (Tag::ReportMetadata, Tag::Generator) => meta.generator = text(value),
            (Tag::DateRange, Tag::Begin) => {
                self.date_begin = timestamp("date_range/begin", value)?;
            }
            (Tag::DateRange, Tag::End) => self.date_end = timestamp("date_range/end", value)?,
            (Tag::PolicyPublished, Tag::Domain) => set(&mut policy.domain, &domain(value)),
            (Tag::PolicyPublished, Tag::Adkim) => policy.adkim = keyword(value),
            (Tag::PolicyPublished, Tag::Aspf) => policy.aspf = keyword(value),
            (Tag::PolicyPublished, Tag::P) => policy.p = keyword(value),
            (Tag::PolicyPublished, Tag::Sp) => policy.sp = keyword(value),
            (Tag::PolicyPublished, Tag::Pct) => policy.pct = value.parse().ok(),
            (Tag::PolicyPublished, Tag::Fo) => policy.fo = keyword(value),
            (Tag::PolicyPublished, Tag::Np) => policy.np = keyword(value),
            (Tag::PolicyPublished, Tag::Testing) => policy.testing = keyword(value),
            (Tag::PolicyPublished, Tag::DiscoveryMethod) => {
                policy.discovery_method = keyword(value)
            }
            (Tag::Row, Tag::SourceIp) => set(&mut record.source_ip, value),
            (Tag::Row, Tag::Count) if !value.is_empty() => {
                record.count = value
                    .parse::<i64>()
                    .ok()
                    .filter(|count| (0..=MAX_COUNT).contains(count))
                    .ok_or_else(|| ParseError::Invalid {
                        element: "count",
                        value: value.to_owned(),
                        expected: "a whole number of messages, at most 4294967295",
                    })?;
                self.count_seen = true;
            }
            (Tag::PolicyEvaluated, Tag::Disposition) => {
                strings.fill(&mut record.disposition, value, Value::Keyword)
            }
            (Tag::PolicyEvaluated, Tag::Dkim) => {
                strings.fill(&mut record.dkim, value, Value::Keyword)
            }
            (Tag::PolicyEvaluated, Tag::Spf) => {
                strings.fill(&mut record.spf, value, Value::Keyword)
            }
            (Tag::Reason, Tag::Type) => {
                if let Some(reason) = record.reasons.last_mut() {
                    strings.fill(&mut reason.kind, value, Value::Keyword);
                }
            }
            (Tag::Reason, Tag::Comment) => {
                if let Some(reason) = record.reasons.last_mut() {
                    strings.fill(&mut reason.comment, value, Value::Text);
                }
            }
            (Tag::Identifiers, Tag::HeaderFrom) => {
                strings.fill(&mut record.header_from, value, Value::Domain)
            }
            (Tag::Identifiers, Tag::EnvelopeFrom) => {
                strings.fill(&mut record.envelope_from, value, Value::Domain)
            }
            (Tag::Identifiers, Tag::EnvelopeTo) => {
                strings.fill(&mut record.envelope_to, value, Value::Domain)
            }
            (Tag::Dkim, _) if in_auth_results => {
                if let Some(dkim) = record.dkim_results.last_mut() {
                    match tag {
                        Tag::Domain => strings.fill(&mut dkim.domain, value, Value::Domain),
                        Tag::Selector => strings.fill(&mut dkim.selector, value, Value::Text),
                        Tag::Result => strings.fill(&mut dkim.result, value, Value::Keyword),
                        Tag::HumanResult => {
                            strings.fill(&mut dkim.human_result, value, Value::Text)
                        }
                        _ => {}
                    }
                }
            }
            (Tag::Spf, _) if in_auth_results => {
                if let Some(spf) = record.spf_results.last_mut() {
                    match tag {
                        Tag::Domain => strings.fill(&mut spf.domain, value, Value::Domain),
                        Tag::Scope => strings.fill(&mut spf.scope, value, Value::Keyword),
                        Tag::Result => strings.fill(&mut spf.result, value, Value::Keyword),
                        Tag::HumanResult => strings.fill(&mut spf.human_result, value, Value::Text),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Checks the metadata and policy, then opens the report in the sink.
    fn begin<S: AggregateSink>(&mut self, sink: &mut S) -> Result<(), ParseFailure<S::Error>> {
        let meta = &mut self.feedback.metadata;
        let missing = |element: &'static str, within: &str| ParseError::Missing {
            element,
            within: within.to_owned(),
        };
        if meta.org_name.is_empty() {
            return Err(missing("org_name", "feedback/report_metadata").into());
        }
        if meta.report_id.is_empty() {
            return Err(missing("report_id", "feedback/report_metadata").into());
        }
        if !self.date_range_seen {
            return Err(missing("date_range", "feedback/report_metadata").into());
        }
        meta.date_begin = self
            .date_begin
            .ok_or_else(|| missing("begin", "feedback/report_metadata/date_range"))?;
        meta.date_end = self
            .date_end
            .ok_or_else(|| missing("end", "feedback/report_metadata/date_range"))?;
        if self.feedback.policy.domain.is_empty() {
            return Err(missing("domain", "feedback/policy_published").into());
        }
        self.begun = true;
        sink.begin(&self.feedback).map_err(ParseFailure::Sink)
    }

    fn end_record<S: AggregateSink>(&mut self, sink: &mut S) -> Result<(), ParseFailure<S::Error>> {
        let number = self.records + 1;
        let within = || format!("record {number} (feedback/record/row)");
        if self.record.source_ip.is_empty() {
            return Err(ParseError::Missing {
                element: "source_ip",
                within: within(),
            }
            .into());
        }
        if !self.count_seen {
            return Err(ParseError::Missing {
                element: "count",
                within: within(),
            }
            .into());
        }
        self.records = number;
        self.messages = self.messages.saturating_add(self.record.count);
        sink.record(&mut self.record).map_err(ParseFailure::Sink)
    }

    fn finish<S: AggregateSink>(
        mut self,
        sink: &mut S,
    ) -> Result<ParsedReport, ParseFailure<S::Error>> {
        if !self.finished {
            let root = self.first_element.take().unwrap_or_else(|| "none".into());
            return Err(ParseError::NotAggregate { root }.into());
        }
        if !self.begun {
            self.begin(sink)?;
        }
        Ok(ParsedReport {
            feedback: self.feedback,
            records: self.records,
            messages: self.messages,
        })
    }
}

/// What `max_record_bytes` counts for an entry of a list (a reason, a
/// DKIM or SPF result, a metadata error) besides its text: about what the
/// entry takes in memory, in the record and packed for the store. It
/// keeps a record of a million empty `<reason/>`s, which have no text, as
/// bounded as one of long comments.
const ENTRY_BYTES: usize = 128;

/// Adds `bytes` to `held`, failing past `max_record_bytes`.
fn hold(held: &mut usize, bytes: usize, limits: &Limits) -> Result<(), ParseError> {
    *held = held.saturating_add(bytes);
    if *held > limits.max_record_bytes {
        return Err(ParseError::Limit(LimitExceeded {
            key: "max_record_bytes",
            limit: limits.max_record_bytes as u64,
        }));
    }
    Ok(())
}

/// The name without its namespace prefix (`dmarc:record` → `record`).
/// quick-xml's own `local_name` finds the `:` with a general `str::find`,
/// whose set-up costs more than this loop over a name of a few bytes; it
/// ran for every element (about 3 % of the parse).
fn local_name(name: &str) -> &str {
    match name.bytes().position(|b| b == b':') {
        Some(colon) => &name[colon + 1..],
        None => name,
    }
}

/// `str::trim`, the same result, without decoding characters when the
/// value starts and ends in ASCII that is not whitespace (nearly every
/// value): the ASCII trim then stands. A vertical tab or a non-ASCII byte
/// at either end takes the full Unicode trim, which strips them where they
/// are whitespace.
fn trim(text: &str) -> &str {
    let ascii = text.trim_ascii();
    let needs_unicode = |b: &u8| !b.is_ascii() || *b == 0x0b;
    match (ascii.as_bytes().first(), ascii.as_bytes().last()) {
        (Some(first), Some(last)) if needs_unicode(first) || needs_unicode(last) => ascii.trim(),
        _ => ascii,
    }
}

/// Assigns `value` to a required string, reusing its allocation.
fn set(target: &mut String, value: &str) {
    target.clear();
    target.push_str(value);
}

/// An optional free-text value: empty means absent.
fn text(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

/// An optional keyword (pass, fail, none, reject, ...): lower-cased, since
/// reporters send `Pass` and `PASS` too.
fn keyword(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_ascii_lowercase())
}

/// A domain name (or an address holding one): lower-cased, DNS is case-blind.
fn domain(value: &str) -> String {
    value.to_ascii_lowercase()
}

/// Unix seconds; `1337270400.0` is accepted, as some reporters write it so.
fn timestamp(element: &'static str, value: &str) -> Result<Option<i64>, ParseError> {
    if value.is_empty() {
        return Ok(None);
    }
    let whole = match value.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|b| b.is_ascii_digit()) => whole,
        _ => value,
    };
    whole
        .parse::<i64>()
        .map(Some)
        .map_err(|_| ParseError::Invalid {
            element,
            value: value.to_owned(),
            expected: "unix seconds",
        })
}

/// Text content as XML 1.0 reads it: line ends normalised to `\n`.
/// Nearly all text (values, and the indentation between elements) has no
/// `\r` and is used as it is: the check is a loop over a few bytes, where
/// quick-xml's `xml10_content` searches with `memchr`, whose set-up alone
/// costs more than the rest of handling a short text.
fn xml10_text<'t>(text: &'t BytesText<'_>) -> Cow<'t, str> {
    if text.bytes().any(|b| b == b'\r') {
        text.xml10_content()
    } else {
        Cow::Borrowed(text)
    }
}

/// Resolves `&name;`: the five predefined entities and character references.
/// Anything else is an error, as no DTD is ever read to define it.
fn resolve_reference(reference: &BytesRef<'_>, position: u64) -> Result<char, ParseError> {
    let name = reference.xml10_content();
    let predefined = match name.as_ref() {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    };
    if let Some(c) = predefined {
        return Ok(c);
    }
    match reference.resolve_char_ref() {
        Ok(Some(c)) => Ok(c),
        _ => Err(ParseError::UndefinedEntity {
            name: name.chars().take(40).collect(),
            position,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_agrees_with_str_trim() {
        // Every string of up to four characters from an alphabet that
        // holds ASCII and Unicode whitespace, the vertical tab (which the
        // ASCII trim leaves) and non-ASCII letters.
        let alphabet = [
            ' ', '\t', '\n', '\r', '\x0b', '\x0c', 'a', 'é', '\u{a0}', '\u{3000}',
        ];
        let mut strings = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = strings
                .iter()
                .filter(|s| s.chars().count() == strings.last().unwrap().chars().count())
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(longer);
        }
        assert_eq!(strings.len(), 1 + 10 + 100 + 1_000 + 10_000);
        for s in &strings {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn local_name_drops_the_prefix_up_to_the_first_colon() {
        assert_eq!(local_name("record"), "record");
        assert_eq!(local_name("dmarc:record"), "record");
        assert_eq!(local_name(":record"), "record");
        assert_eq!(local_name("a:b:c"), "b:c");
        for name in ["record", "dmarc:record", "a:b:c", "x:"] {
            assert_eq!(
                local_name(name),
                quick_xml::name::QName(name).local_name().as_ref() as &str
            );
        }
    }
}
