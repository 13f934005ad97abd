//! The messages the single window answers with, written as NCTS Phase 5 XML:
//!
//! | answer | when                                                            |
//! |--------|-----------------------------------------------------------------|
//! | CC028C | a CC015C is accepted: the MRN allocated                         |
//! | CC004C | a CC013C is accepted: the amendment acceptance                  |
//! | CC009C | a CC014C is accepted: the invalidation decision                 |
//! | CC029C | the office of departure has released the goods: the declaration repeated |
//! | CC056C | a CC015C, CC013C or CC014C is rejected by the office of departure, with its functional errors |
//! | CC057C | a CC007C or CC044C is rejected by the office of destination     |
//! | CC917C | a message is not well-formed or not valid against the schema (XML NACK), with line, column and XPath of each error |
//!
//! The answers are written to validate against the same schemas (tested). The header's sender
//! is the national transit application of the answering office (`NTA.` + country), its
//! recipient the sender of the message answered, and its correlation identifier the answered
//! message's identification.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use quick_xml::escape::escape;

use crate::NAMESPACE;
use crate::messages::{FunctionalError, Header, Holder, MessageType, RejectionContext};
use crate::xml::{Element, forbidden_in_xml};
use crate::xsd::SchemaViolation;

/// The longest text the schemas allow in error texts and original values.
const MAX_TEXT: usize = 512;

/// The most errors an answer lists (the schemas allow 9,999; a hostile message can produce
/// far more, and nobody reads past the first few).
pub const MAX_LISTED_ERRORS: usize = 100;

/// Text as XML character data: escaped, and with every character XML 1.0 cannot carry
/// (controls other than tab and line breaks, U+FFFE, U+FFFF) replaced by U+FFFD, so that an
/// answer is well-formed whatever text it repeats.
fn xml_text(value: &str) -> String {
    let clean: std::borrow::Cow<'_, str> = if value.chars().any(forbidden_in_xml) {
        value
            .chars()
            .map(|c| if forbidden_in_xml(c) { '\u{FFFD}' } else { c })
            .collect::<String>()
            .into()
    } else {
        value.into()
    };
    escape(clean.as_ref()).into_owned()
}

/// An XML document being written, element by element, indented.
struct Document {
    out: String,
    open: Vec<&'static str>,
}

impl Document {
    fn new(root: &'static str) -> Document {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<ncts:{root} xmlns:ncts=\"{NAMESPACE}\" PhaseID=\"NCTS5.1\">\n"
        ));
        Document {
            out,
            open: vec![root],
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, name: &'static str) -> &mut Document {
        self.indent();
        self.out.push_str(&format!("<{name}>\n"));
        self.open.push(name);
        self
    }

    fn close(&mut self) -> &mut Document {
        let name = self.open.pop().expect("an element is open");
        self.indent();
        self.out.push_str(&format!("</{name}>\n"));
        self
    }

    fn leaf(&mut self, name: &'static str, value: &str) -> &mut Document {
        self.indent();
        self.out
            .push_str(&format!("<{name}>{}</{name}>\n", xml_text(value)));
        self
    }

    fn optional(&mut self, name: &'static str, value: Option<&str>) -> &mut Document {
        if let Some(v) = value {
            self.leaf(name, v);
        }
        self
    }

    /// Writes an element read from another message, with its children.
    fn element(&mut self, e: &Element) -> &mut Document {
        self.indent();
        if e.children.is_empty() {
            let text = e.text.trim();
            self.out
                .push_str(&format!("<{0}>{1}</{0}>\n", e.name, xml_text(text)));
        } else {
            self.out.push_str(&format!("<{}>\n", e.name));
            self.open.push("");
            for c in &e.children {
                self.element(c);
            }
            self.open.pop();
            self.indent();
            self.out.push_str(&format!("</{}>\n", e.name));
        }
        self
    }

    fn finish(mut self) -> String {
        let root = self.open.remove(0);
        assert!(self.open.is_empty(), "every element is closed");
        self.out.push_str(&format!("</ncts:{root}>\n"));
        self.out
    }
}

/// Who answers, when, and to which message.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The answering office's country (the sender is its NTA).
    pub country: String,
    /// The answering office's zone: dates (`xs:date`, such as the acceptance date) are the
    /// office's local dates; date-times are UTC, as everywhere in NCTS Phase 5.
    pub zone: Tz,
    pub at: DateTime<Utc>,
    /// A unique identification for the answer (at most 35 characters).
    pub identification: String,
    /// The message answered, when its header could be read.
    pub answered: Option<Header>,
}

impl Envelope {
    fn local(&self) -> chrono::NaiveDateTime {
        self.at.with_timezone(&self.zone).naive_local()
    }

    /// The answer's date-time: UTC, written without a zone (NCTS `DateTimeType`).
    fn date_time(&self) -> String {
        self.at.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string()
    }

    fn header(&self, doc: &mut Document, message_type: &str) {
        let sender = format!("NTA.{}", self.country);
        // The answered header may itself be invalid (an XML NACK answers such messages): only
        // values the schema allows are repeated.
        let fits = |s: &&str| (1..=35).contains(&s.chars().count());
        let answered = self.answered.as_ref();
        let recipient = answered
            .map(|h| h.sender.as_str())
            .filter(fits)
            .unwrap_or("UNKNOWN");
        let correlation = answered.map(|h| h.identification.as_str()).filter(fits);
        doc.leaf("messageSender", &sender)
            .leaf("messageRecipient", recipient)
            .leaf("preparationDateAndTime", &self.date_time())
            .leaf("messageIdentification", &self.identification)
            .leaf("messageType", message_type)
            .optional("correlationIdentifier", correlation);
    }
}

/// The office of departure and the holder, as every answer of the office of departure ends.
fn departure_and_holder(doc: &mut Document, office: &str, holder: &Holder) {
    doc.open("CustomsOfficeOfDeparture")
        .leaf("referenceNumber", office)
        .close();
    doc.open("HolderOfTheTransitProcedure")
        .optional(
            "identificationNumber",
            holder.identification_number.as_deref(),
        )
        .optional(
            "TIRHolderIdentificationNumber",
            holder.tir_holder_identification_number.as_deref(),
        )
        .close();
}

fn clip(text: &str) -> String {
    let t: String = text.chars().take(MAX_TEXT).collect();
    if t.trim().is_empty() {
        "-".to_string()
    } else {
        t
    }
}

/// CC028C: the declaration is accepted and its MRN allocated.
pub fn mrn_allocated(
    env: &Envelope,
    lrn: &str,
    mrn: &str,
    departure: &str,
    holder_: &Holder,
) -> String {
    let mut doc = Document::new("CC028C");
    env.header(&mut doc, "CC028C");
    doc.open("TransitOperation")
        .leaf("LRN", lrn)
        .leaf("MRN", mrn)
        .leaf(
            "declarationAcceptanceDate",
            &env.local().format("%Y-%m-%d").to_string(),
        )
        .close();
    departure_and_holder(&mut doc, departure, holder_);
    doc.finish()
}

/// The header elements of every message: a message repeating another's data writes its own.
const HEADER: [&str; 6] = [
    "messageSender",
    "messageRecipient",
    "preparationDateAndTime",
    "messageIdentification",
    "messageType",
    "correlationIdentifier",
];

/// CC029C: the goods are released for transit. It repeats the declaration (the CC015C as
/// lodged, or the CC013C that last amended it, read back with [`crate::xml::parse`]) re-shaped
/// for the release's types, with the LRN, the MRN and the dates of acceptance and release. `Err` with the schema violations when the
/// declaration lacks what a release must state (it is then not sent).
pub fn release_for_transit(
    env: &Envelope,
    declaration: &Element,
    lrn: &str,
    mrn: &str,
    accepted: chrono::NaiveDate,
    released: chrono::NaiveDate,
) -> Result<String, Vec<SchemaViolation>> {
    let schema = crate::schema();
    let mut skip: Vec<&str> = HEADER.to_vec();
    skip.push("TransitOperation");
    let rest = schema
        .project_children(declaration, "CC029C", &skip)
        .expect("CC029C is a message of the schema");
    let operation = |name: &str| declaration.text_at(&["TransitOperation", name]);
    let mut doc = Document::new("CC029C");
    env.header(&mut doc, "CC029C");
    doc.open("TransitOperation")
        .leaf("LRN", lrn)
        .leaf("MRN", mrn)
        .leaf(
            "declarationType",
            operation("declarationType").unwrap_or_default(),
        )
        .leaf(
            "additionalDeclarationType",
            operation("additionalDeclarationType").unwrap_or_default(),
        )
        .optional("TIRCarnetNumber", operation("TIRCarnetNumber"))
        .leaf(
            "declarationAcceptanceDate",
            &accepted.format("%Y-%m-%d").to_string(),
        )
        .leaf("releaseDate", &released.format("%Y-%m-%d").to_string())
        .leaf("security", operation("security").unwrap_or_default())
        .leaf(
            "reducedDatasetIndicator",
            operation("reducedDatasetIndicator").unwrap_or_default(),
        )
        .optional(
            "specificCircumstanceIndicator",
            operation("specificCircumstanceIndicator"),
        )
        .optional(
            "communicationLanguageAtDeparture",
            operation("communicationLanguageAtDeparture"),
        )
        .leaf(
            "bindingItinerary",
            operation("bindingItinerary").unwrap_or_default(),
        )
        .close();
    for e in &rest {
        doc.element(e);
    }
    let text = doc.finish();
    // Written by us, escaped and cleaned of characters XML forbids, so it reads; should it
    // not, the release is refused rather than sent.
    let parsed = crate::xml::parse(&text).map_err(|e| {
        vec![SchemaViolation {
            pointer: "/CC029C".to_string(),
            position: e.position,
            code: crate::XmlErrorCode::InvalidXmlFormat,
            message: format!("the release written is not well-formed: {}", e.message),
            value: None,
        }]
    })?;
    let violations = schema.validate(&parsed);
    if violations.is_empty() {
        Ok(text)
    } else {
        Err(violations)
    }
}

/// CC004C: the amendment is accepted.
pub fn amendment_accepted(
    env: &Envelope,
    mrn: &str,
    submitted: &Header,
    departure: &str,
    holder_: &Holder,
) -> String {
    let mut doc = Document::new("CC004C");
    env.header(&mut doc, "CC004C");
    doc.open("TransitOperation")
        .leaf("MRN", mrn)
        .leaf(
            "amendmentSubmissionDateAndTime",
            &submitted.prepared.format("%Y-%m-%dT%H:%M:%S").to_string(),
        )
        .leaf("amendmentAcceptanceDateAndTime", &env.date_time())
        .close();
    departure_and_holder(&mut doc, departure, holder_);
    doc.finish()
}

/// CC009C: the declaration is invalidated at the holder's request (or the office's).
pub fn invalidation_decision(
    env: &Envelope,
    mrn: &str,
    accepted: bool,
    initiated_by_customs: bool,
    justification: Option<&str>,
    departure: &str,
    holder_: &Holder,
) -> String {
    let mut doc = Document::new("CC009C");
    env.header(&mut doc, "CC009C");
    doc.open("TransitOperation").leaf("MRN", mrn).close();
    doc.open("Invalidation")
        .optional(
            "requestDateAndTime",
            env.answered
                .as_ref()
                .map(|h| h.prepared.format("%Y-%m-%dT%H:%M:%S").to_string())
                .as_deref(),
        )
        .leaf("decisionDateAndTime", &env.date_time())
        .leaf("decision", if accepted { "1" } else { "0" })
        .leaf(
            "initiatedByCustoms",
            if initiated_by_customs { "1" } else { "0" },
        )
        .optional("justification", justification.map(clip).as_deref())
        .close();
    departure_and_holder(&mut doc, departure, holder_);
    doc.finish()
}

/// Rejection codes (code list CL226) used in CC056C and CC057C.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionCode {
    /// The LRN was already used by this holder at this office.
    DuplicateLrn = 4,
    /// The message breaks business rules (its functional errors say which).
    FunctionalErrors = 12,
    /// The message is not possible in the movement's present state.
    InvalidState = 13,
}

/// CC056C (at departure) or CC057C (at destination): the message is rejected, with the
/// functional errors that name the failing elements.
pub fn rejection(
    env: &Envelope,
    rejected: MessageType,
    code: RejectionCode,
    reason: &str,
    context: &RejectionContext,
    errors: &[FunctionalError],
) -> String {
    let root = if rejected.at_departure() {
        "CC056C"
    } else {
        "CC057C"
    };
    let reason_text = if errors.len() > MAX_LISTED_ERRORS {
        format!(
            "{reason} (the first {MAX_LISTED_ERRORS} of {} errors are listed)",
            errors.len()
        )
    } else {
        reason.to_string()
    };
    let mut doc = Document::new(root);
    env.header(&mut doc, root);
    doc.open("TransitOperation");
    if rejected.at_departure() {
        // LRN and MRN are exclusive in a rejection, like in the request.
        match (&context.mrn, &context.lrn) {
            (Some(mrn), _) => doc.leaf("MRN", mrn),
            (None, Some(lrn)) => doc.leaf("LRN", &lrn.chars().take(22).collect::<String>()),
            (None, None) => &mut doc,
        };
    } else {
        doc.leaf("MRN", context.mrn.as_deref().unwrap_or_default());
    }
    doc.leaf("businessRejectionType", rejected.business_rejection_type())
        .leaf("rejectionDateAndTime", &env.date_time())
        .leaf("rejectionCode", &(code as u8).to_string())
        .leaf("rejectionReason", &clip(&reason_text))
        .close();
    let office = context.office.as_deref().unwrap_or_default();
    if rejected.at_departure() {
        departure_and_holder(&mut doc, office, &context.holder);
    } else {
        doc.open("CustomsOfficeOfDestinationActual")
            .leaf("referenceNumber", office)
            .close();
        doc.open("TraderAtDestination")
            .leaf(
                "identificationNumber",
                context.trader.as_deref().unwrap_or_default(),
            )
            .close();
    }
    // At most MAX_LISTED_ERRORS; the rejection reason says how many there were.
    let listed = &errors[..errors.len().min(MAX_LISTED_ERRORS)];
    for e in listed {
        doc.open("FunctionalError")
            .leaf("errorPointer", &clip(&e.pointer))
            .leaf("errorCode", &e.code.code().to_string())
            .leaf("errorReason", e.reason)
            .optional(
                "originalAttributeValue",
                e.value.as_deref().map(clip).as_deref(),
            )
            .close();
    }
    doc.finish()
}

/// CC917C (XML NACK): the message is not well-formed or not schema-valid. Each error gives the
/// line, the column, the XPath of the element, the NCTS XML error code and the reason.
pub fn xml_nack(env: &Envelope, violations: &[SchemaViolation]) -> String {
    let mut doc = Document::new("CC917C");
    env.header(&mut doc, "CC917C");
    let summary;
    let listed: Vec<&SchemaViolation> = if violations.len() > MAX_LISTED_ERRORS {
        // The first errors, then one that says how many more there were.
        let omitted = &violations[MAX_LISTED_ERRORS - 1..];
        summary = SchemaViolation {
            pointer: omitted[0].pointer.clone(),
            position: omitted[0].position,
            code: omitted[0].code,
            message: format!(
                "{} more errors, from this one on, are not listed (an answer lists at most {MAX_LISTED_ERRORS})",
                omitted.len()
            ),
            value: None,
        };
        violations[..MAX_LISTED_ERRORS - 1]
            .iter()
            .chain(std::iter::once(&summary))
            .collect()
    } else {
        violations.iter().collect()
    };
    for v in listed {
        doc.open("XMLError")
            .leaf(
                "errorLineNumber",
                &v.position.line.min(999_999_999).to_string(),
            )
            .leaf(
                "errorColumnNumber",
                &v.position.column.min(999_999_999).to_string(),
            )
            .leaf("errorPointer", &clip(&v.pointer))
            .leaf("errorCode", &v.code.code().to_string())
            .leaf("errorText", &clip(&v.message))
            .optional(
                "originalAttributeValue",
                v.value
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .map(clip)
                    .as_deref(),
            )
            .close();
    }
    doc.finish()
}
