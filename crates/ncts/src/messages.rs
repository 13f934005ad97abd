//! The NCTS Phase 5 messages a transit single window receives, read into typed values after the
//! schema check and the business rules.
//!
//! | message | meaning                                   | maps onto                         |
//! |---------|-------------------------------------------|-----------------------------------|
//! | CC015C  | declaration data (lodge)                  | a new movement with its route     |
//! | CC013C  | declaration amendment                     | `amended`, with the new route     |
//! | CC014C  | declaration invalidation request          | `invalidated`                     |
//! | CC007C  | arrival notification at destination       | `arrival_at_destination`          |
//! | CC044C  | unloading remarks                         | `unloading_remarks`               |
//!
//! The business rules checked here are the ones a message can be judged on alone (rules that
//! need the movement, such as its status, are the lifecycle's). Each has an identifier that is
//! sent back as the `errorReason` of the rejection:
//!
//! | rule   | checks                                                                            |
//! |--------|-----------------------------------------------------------------------------------|
//! | SBR001 | `messageType` names the root element's message                                    |
//! | SBR002 | CC015C, CC013C and CC007C are addressed to the national transit application of the office they open or change a movement at: `messageRecipient` is `NTA.` + that office's country |
//! | SBR003 | the LRN is 1 to 22 letters, digits or `- _ . /` (no placeholders such as `{{LRN}}`) |
//! | SBR004 | a CC013C names the declaration it amends by exactly one of LRN and MRN              |
//! | SBR005 | the office an event happens at has a known time zone (to show the event's local time) |
//!
//! After these, the conditions and rules of the functional specification (C-, R- and G-codes)
//! are checked by [`crate::conditions`], and their failures join the same refusal.
//!
//! Date-times in NCTS Phase 5 messages (`DateTimeType`) carry no zone and are UTC: the schema
//! documents them as "time zone although not included UTC is implied", and NCTS runs on UTC.
//! They are read as UTC; the office's IANA zone is kept beside them for display. An XSD
//! end-of-day `T24:00:00` is 00:00 of the next day.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use smartborder_transit::text::check_lrn;
use smartborder_transit::{Consignment, OfficeRef, Route, TransitOffice, country_zone};

use crate::xml::{self, Element, XmlError};
use crate::xsd::SchemaViolation;

/// The messages a single window accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    CC015C,
    CC013C,
    CC014C,
    CC007C,
    CC044C,
}

impl MessageType {
    pub fn name(self) -> &'static str {
        match self {
            MessageType::CC015C => "CC015C",
            MessageType::CC013C => "CC013C",
            MessageType::CC014C => "CC014C",
            MessageType::CC007C => "CC007C",
            MessageType::CC044C => "CC044C",
        }
    }

    fn from_name(name: &str) -> Option<MessageType> {
        [
            MessageType::CC015C,
            MessageType::CC013C,
            MessageType::CC014C,
            MessageType::CC007C,
            MessageType::CC044C,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }

    /// Is the message answered by the office of departure (CC056C on rejection) rather than
    /// the office of destination (CC057C)?
    pub fn at_departure(self) -> bool {
        matches!(
            self,
            MessageType::CC015C | MessageType::CC013C | MessageType::CC014C
        )
    }

    /// The business rejection type (code lists CL560 and CL570): the message's number.
    pub fn business_rejection_type(self) -> &'static str {
        &self.name()[2..5]
    }
}

/// The message header (group MESSAGE of the schemas).
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub sender: String,
    pub recipient: String,
    pub prepared: NaiveDateTime,
    pub identification: String,
    pub correlation: Option<String>,
}

/// The holder of the transit procedure, as identified in the message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Holder {
    pub identification_number: Option<String>,
    pub tir_holder_identification_number: Option<String>,
}

/// How a CC013C or CC014C names its declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclarationReference {
    Lrn(String),
    Mrn(String),
}

/// CC015C: a transit declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    pub header: Header,
    pub lrn: String,
    pub route: Route,
    pub holder: Holder,
    /// The goods, for risk assessment along the route.
    pub consignment: Consignment,
}

/// CC013C: an amendment of a declaration not yet released.
#[derive(Debug, Clone, PartialEq)]
pub struct Amendment {
    pub header: Header,
    pub reference: DeclarationReference,
    /// The route as amended.
    pub route: Route,
    pub holder: Holder,
    /// The goods as amended.
    pub consignment: Consignment,
}

/// CC014C: a request to invalidate a declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidationRequest {
    pub header: Header,
    pub reference: Option<DeclarationReference>,
    pub departure: OfficeRef,
    pub holder: Holder,
    pub initiated_by_customs: bool,
    pub justification: Option<String>,
}

/// CC007C: the goods arrived at an office of destination.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrivalNotification {
    pub header: Header,
    pub mrn: String,
    pub office: OfficeRef,
    pub zone: Tz,
    pub arrived_at: DateTime<Utc>,
    pub simplified_procedure: bool,
    pub incident: bool,
    pub trader: String,
}

/// CC044C: the unloading remarks of the trader at destination.
#[derive(Debug, Clone, PartialEq)]
pub struct UnloadingRemarks {
    pub header: Header,
    pub mrn: String,
    pub office: OfficeRef,
    pub zone: Tz,
    /// When the trader made the remarks: the message's preparation time at the office.
    pub remarks_at: DateTime<Utc>,
    pub trader: String,
    pub conform: bool,
    pub unloading_completed: bool,
    pub unloading_date: NaiveDate,
}

/// A message that passed the schema and the business rules.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Declaration(Declaration),
    Amendment(Amendment),
    InvalidationRequest(InvalidationRequest),
    ArrivalNotification(ArrivalNotification),
    UnloadingRemarks(UnloadingRemarks),
}

impl Message {
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Declaration(_) => MessageType::CC015C,
            Message::Amendment(_) => MessageType::CC013C,
            Message::InvalidationRequest(_) => MessageType::CC014C,
            Message::ArrivalNotification(_) => MessageType::CC007C,
            Message::UnloadingRemarks(_) => MessageType::CC044C,
        }
    }

    pub fn header(&self) -> &Header {
        match self {
            Message::Declaration(m) => &m.header,
            Message::Amendment(m) => &m.header,
            Message::InvalidationRequest(m) => &m.header,
            Message::ArrivalNotification(m) => &m.header,
            Message::UnloadingRemarks(m) => &m.header,
        }
    }

    /// The LRN a CC013C or CC014C names its declaration by, if it does so.
    pub fn lrn(&self) -> Option<&str> {
        match self {
            Message::Amendment(Amendment {
                reference: DeclarationReference::Lrn(lrn),
                ..
            })
            | Message::InvalidationRequest(InvalidationRequest {
                reference: Some(DeclarationReference::Lrn(lrn)),
                ..
            }) => Some(lrn),
            _ => None,
        }
    }

    /// The MRN the message names, if any.
    pub fn mrn(&self) -> Option<&str> {
        match self {
            Message::Declaration(_) => None,
            Message::Amendment(m) => match &m.reference {
                DeclarationReference::Mrn(mrn) => Some(mrn),
                DeclarationReference::Lrn(_) => None,
            },
            Message::InvalidationRequest(m) => match &m.reference {
                Some(DeclarationReference::Mrn(mrn)) => Some(mrn),
                _ => None,
            },
            Message::ArrivalNotification(m) => Some(&m.mrn),
            Message::UnloadingRemarks(m) => Some(&m.mrn),
        }
    }
}

/// An NCTS functional error code (code list `AesNctsP5FunctionalErrorCodes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionalErrorCode {
    CodelistViolation = 12,
    Missing = 13,
    RuleViolation = 14,
    NotAllowed = 15,
    UnknownMrn = 90,
    OutOfSequence = 92,
    InvalidMrn = 93,
}

impl FunctionalErrorCode {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A business rule the message breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionalError {
    /// XPath of the element, e.g. `/CC015C/TransitOperation/LRN`.
    pub pointer: String,
    pub code: FunctionalErrorCode,
    /// The rule identifier (at most 7 characters, as `errorReason` allows).
    pub reason: &'static str,
    /// What is wrong, for people.
    pub description: String,
    pub value: Option<String>,
}

impl std::fmt::Display for FunctionalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} [{}]: {}",
            self.pointer, self.reason, self.description
        )
    }
}

/// Why a message was not taken, in the three ways NCTS answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Not well-formed XML (answered by CC917C, XML error code 52).
    Malformed(XmlError),
    /// Well-formed but not valid against the schema (answered by CC917C).
    Schema {
        root: String,
        header: Option<Box<Header>>,
        violations: Vec<SchemaViolation>,
    },
    /// Valid, but not a message this service takes here.
    Unsupported { root: String, expected: String },
    /// Valid, but it breaks business rules (answered by CC056C or CC057C).
    Rules {
        message_type: MessageType,
        header: Box<Header>,
        /// What the rejection must name: the LRN or MRN, the office and the holder or trader.
        context: Box<RejectionContext>,
        errors: Vec<FunctionalError>,
    },
}

/// What a rejection repeats from the rejected message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RejectionContext {
    pub lrn: Option<String>,
    pub mrn: Option<String>,
    /// Office of departure (CC056C) or of destination (CC057C), when it is a valid reference.
    pub office: Option<String>,
    pub holder: Holder,
    /// Trader at destination (CC057C).
    pub trader: Option<String>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Malformed(e) => write!(f, "not well-formed XML: {e}"),
            Refusal::Schema {
                root, violations, ..
            } => {
                write!(f, "{root} is not valid against the NCTS schema:")?;
                for v in violations.iter().take(crate::answers::MAX_LISTED_ERRORS) {
                    write!(f, "\n  {v}")?;
                }
                if violations.len() > crate::answers::MAX_LISTED_ERRORS {
                    write!(
                        f,
                        "\n  ... and {} more",
                        violations.len() - crate::answers::MAX_LISTED_ERRORS
                    )?;
                }
                Ok(())
            }
            Refusal::Unsupported { root, expected } => {
                write!(f, "{root}: expected {expected}")
            }
            Refusal::Rules {
                message_type,
                errors,
                ..
            } => {
                write!(f, "{} breaks business rules:", message_type.name())?;
                for e in errors {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl Refusal {
    /// The XML errors a CC917C reports: the schema violations, or the one well-formedness
    /// error. Empty for refusals answered otherwise.
    pub fn xml_errors(&self) -> Vec<SchemaViolation> {
        match self {
            Refusal::Malformed(e) => vec![SchemaViolation {
                pointer: "/".to_string(),
                position: e.position,
                code: crate::XmlErrorCode::InvalidXmlFormat,
                message: e.message.clone(),
                value: None,
            }],
            Refusal::Schema { violations, .. } => violations.clone(),
            Refusal::Unsupported { .. } | Refusal::Rules { .. } => Vec::new(),
        }
    }
}

/// Reads a message from its bytes: UTF-8 (anything else is refused as not well-formed, with
/// the line and column of the first bad byte), then as [`read`].
pub fn read_bytes(bytes: &[u8]) -> Result<Message, Refusal> {
    read(xml::decode(bytes).map_err(Refusal::Malformed)?)
}

/// Reads a message: well-formedness, the schema, then the business rules.
pub fn read(text: &str) -> Result<Message, Refusal> {
    let root = xml::parse(text).map_err(Refusal::Malformed)?;
    let violations = crate::schema().validate(&root);
    if !violations.is_empty() {
        return Err(Refusal::Schema {
            header: header_of(&root).map(Box::new),
            root: root.name,
            violations,
        });
    }
    let Some(message_type) = MessageType::from_name(&root.name) else {
        return Err(Refusal::Unsupported {
            root: root.name,
            expected: "CC015C, CC013C, CC014C, CC007C or CC044C".to_string(),
        });
    };
    let mut rules = Rules {
        root: &root,
        errors: Vec::new(),
    };
    // The schema requires the header; its date-time is read by the rules of `header_of`.
    let Some(header) = header_of(&root) else {
        rules.error(
            &["preparationDateAndTime"],
            FunctionalErrorCode::RuleViolation,
            "SBR001",
            "the message header (sender, recipient, preparation date and time, identification) is not readable".to_string(),
            root.text_at(&["preparationDateAndTime"]).map(str::to_string),
        );
        return Err(Refusal::Rules {
            message_type,
            header: Box::new(Header {
                sender: header_text(&root, "messageSender"),
                recipient: header_text(&root, "messageRecipient"),
                prepared: NaiveDateTime::default(),
                identification: header_text(&root, "messageIdentification"),
                correlation: root.text_at(&["correlationIdentifier"]).map(str::to_string),
            }),
            context: Box::new(rules.context(message_type)),
            errors: rules.errors,
        });
    };
    if header_type(&root) != message_type.name() {
        rules.error(
            &["messageType"],
            FunctionalErrorCode::RuleViolation,
            "SBR001",
            format!(
                "a {} message must say so in messageType",
                message_type.name()
            ),
            Some(header_type(&root).to_string()),
        );
    }
    let context = rules.context(message_type);
    // The conditions and rules of the functional specification (C-, R- and G-codes).
    rules
        .errors
        .extend(crate::conditions::check(&root, message_type));
    let message = match message_type {
        MessageType::CC015C => rules.declaration(&header).map(Message::Declaration),
        MessageType::CC013C => rules.amendment(&header).map(Message::Amendment),
        MessageType::CC014C => rules
            .invalidation(&header)
            .map(Message::InvalidationRequest),
        MessageType::CC007C => rules.arrival(&header).map(Message::ArrivalNotification),
        MessageType::CC044C => rules.unloading(&header).map(Message::UnloadingRemarks),
    };
    match message {
        Some(m) if rules.errors.is_empty() => Ok(m),
        _ => Err(Refusal::Rules {
            message_type,
            header: Box::new(header),
            context: Box::new(context),
            errors: rules.errors,
        }),
    }
}

fn header_type(root: &Element) -> &str {
    root.text_at(&["messageType"]).unwrap_or_default()
}

fn header_text(root: &Element, name: &str) -> String {
    root.text_at(&[name]).unwrap_or_default().to_string()
}

/// The header of a message, when its elements are there and readable.
pub fn header_of(root: &Element) -> Option<Header> {
    let text = |name: &str| root.text_at(&[name]).map(str::to_string);
    Some(Header {
        sender: text("messageSender")?,
        recipient: text("messageRecipient")?,
        prepared: parse_date_time(&text("preparationDateAndTime")?)?,
        identification: text("messageIdentification")?,
        correlation: text("correlationIdentifier"),
    })
}

/// An NCTS date-time (`xs:dateTime`, UTC): `YYYY-MM-DDThh:mm:ss` with an optional fraction
/// and an optional zone (`Z` or `±hh:mm`, turned into UTC); `T24:00:00` is 00:00 of the next
/// day. ASCII digits only. `None` when it is not one.
pub fn parse_date_time(value: &str) -> Option<NaiveDateTime> {
    let value = value.trim();
    if !value.is_ascii() {
        return None;
    }
    let (local, offset_seconds) = if let Some(v) = value.strip_suffix('Z') {
        (v, 0)
    } else if value.len() > 19 && matches!(value.as_bytes()[value.len() - 6], b'+' | b'-') {
        let (v, zone) = value.split_at(value.len() - 6);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let hours: i64 = zone.get(1..3)?.parse().ok()?;
        let minutes: i64 = zone.get(4..6)?.parse().ok()?;
        if zone.as_bytes()[3] != b':' {
            return None;
        }
        (v, sign * (hours * 3600 + minutes * 60))
    } else {
        (value, 0)
    };
    let end_of_day = local
        .split_once('T')
        .filter(|(_, time)| {
            time.strip_prefix("24:00:00").is_some_and(|rest| {
                rest.is_empty() || (rest.starts_with('.') && rest[1..].bytes().all(|b| b == b'0'))
            })
        })
        .map(|(day, _)| day);
    let naive = match end_of_day {
        Some(day) => NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .ok()?
            .succ_opt()?
            .and_hms_opt(0, 0, 0)?,
        None => NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S%.f").ok()?,
    };
    naive.checked_sub_signed(chrono::Duration::seconds(offset_seconds))
}

/// The business-rule pass over a schema-valid message. Values the schema guarantees are read
/// with `expect`; everything else becomes a [`FunctionalError`].
struct Rules<'a> {
    root: &'a Element,
    errors: Vec<FunctionalError>,
}

impl Rules<'_> {
    fn pointer(&self, path: &[&str]) -> String {
        format!("/{}/{}", self.root.name, path.join("/"))
    }

    fn error(
        &mut self,
        path: &[&str],
        code: FunctionalErrorCode,
        reason: &'static str,
        description: String,
        value: Option<String>,
    ) {
        self.errors.push(FunctionalError {
            pointer: self.pointer(path),
            code,
            reason,
            description,
            value,
        });
    }

    fn text(&self, path: &[&str]) -> Option<String> {
        self.root.text_at(path).map(str::to_string)
    }

    /// An element the schema requires: its absence is still a refusal, never a panic.
    fn required(&mut self, path: &[&str]) -> Option<String> {
        let value = self.text(path);
        if value.is_none() {
            self.error(
                path,
                FunctionalErrorCode::Missing,
                "SBR001",
                "this element is required".to_string(),
                None,
            );
        }
        value
    }

    fn flag(&self, path: &[&str]) -> bool {
        self.text(path).as_deref() == Some("1")
    }

    fn holder(&self) -> Holder {
        Holder {
            identification_number: self
                .text(&["HolderOfTheTransitProcedure", "identificationNumber"]),
            tir_holder_identification_number: self.text(&[
                "HolderOfTheTransitProcedure",
                "TIRHolderIdentificationNumber",
            ]),
        }
    }

    fn context(&self, t: MessageType) -> RejectionContext {
        let office_path: &[&str] = if t.at_departure() {
            &["CustomsOfficeOfDeparture", "referenceNumber"]
        } else {
            &["CustomsOfficeOfDestinationActual", "referenceNumber"]
        };
        RejectionContext {
            lrn: self.text(&["TransitOperation", "LRN"]),
            mrn: self.text(&["TransitOperation", "MRN"]),
            office: self
                .text(office_path)
                .filter(|o| OfficeRef::parse(o).is_ok()),
            holder: self.holder(),
            trader: self.text(&["TraderAtDestination", "identificationNumber"]),
        }
    }

    /// An office reference the schema has checked (2 letters + 6 characters).
    fn office(&mut self, path: &[&str]) -> Option<OfficeRef> {
        let value = self.required(path)?;
        match OfficeRef::parse(&value) {
            Ok(o) => Some(o),
            Err(e) => {
                self.error(
                    path,
                    FunctionalErrorCode::RuleViolation,
                    "SBR002",
                    e.to_string(),
                    Some(value),
                );
                None
            }
        }
    }

    /// SBR002: the message is addressed to the NTA of the office's country.
    fn addressed_to(&mut self, header: &Header, office_path: &[&str], office: &OfficeRef) {
        match header.recipient.strip_prefix("NTA.") {
            Some(country) if country == office.country() => {}
            Some(country)
                if country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()) =>
            {
                self.error(
                    office_path,
                    FunctionalErrorCode::RuleViolation,
                    "SBR002",
                    format!(
                        "office {office} is not an office of {country}, the country this message is addressed to (messageRecipient NTA.{country})"
                    ),
                    Some(office.to_string()),
                );
            }
            _ => self.error(
                &["messageRecipient"],
                FunctionalErrorCode::RuleViolation,
                "SBR002",
                format!(
                    "expected NTA.{} (the national transit application of office {office})",
                    office.country()
                ),
                Some(header.recipient.clone()),
            ),
        }
    }

    /// SBR003: the LRN follows the identifier rule of every lodging, JSON or XML.
    fn lrn(&mut self, path: &[&str], lrn: &str) {
        if let Err(e) = check_lrn(lrn) {
            self.error(
                path,
                FunctionalErrorCode::RuleViolation,
                "SBR003",
                e.to_string(),
                Some(lrn.to_string()),
            );
        }
    }

    /// A date-time of the message (UTC) at an office, with the office's zone (SBR005: it must
    /// be known, to show the local time).
    fn utc_time(
        &mut self,
        path: &[&str],
        value: &str,
        office: &OfficeRef,
    ) -> Option<(DateTime<Utc>, Tz)> {
        let Some(instant) = parse_date_time(value) else {
            self.error(
                path,
                FunctionalErrorCode::RuleViolation,
                "SBR001",
                "expected a date and time YYYY-MM-DDThh:mm:ss (UTC)".to_string(),
                Some(value.to_string()),
            );
            return None;
        };
        Some((instant.and_utc(), self.office_zone(path, value, office)?))
    }

    /// SBR005: the zone of the office an event happens at.
    fn office_zone(&mut self, path: &[&str], value: &str, office: &OfficeRef) -> Option<Tz> {
        let zone = country_zone(office.country());
        if zone.is_none() {
            self.error(
                path,
                FunctionalErrorCode::RuleViolation,
                "SBR005",
                format!(
                    "no time zone is known for offices of {}, so the event's local time cannot be shown; record it through the JSON API with its zone",
                    office.country()
                ),
                Some(value.to_string()),
            );
        }
        zone
    }

    /// The route of a CC015C or CC013C: departure, offices of transit in sequence order,
    /// destination; the estimated arrival at each office of transit in its local time.
    fn route(&mut self, header: &Header) -> Option<Route> {
        let departure_path = ["CustomsOfficeOfDeparture", "referenceNumber"];
        let departure = self.office(&departure_path);
        if let Some(d) = &departure {
            self.addressed_to(header, &departure_path, d);
        }
        let destination = self.office(&["CustomsOfficeOfDestinationDeclared", "referenceNumber"]);
        let root = self.root;
        let mut declared: Vec<(u64, usize, &Element)> = root
            .children_named("CustomsOfficeOfTransitDeclared")
            .enumerate()
            .map(|(i, e)| {
                let seq = e.text_at(&["sequenceNumber"]).and_then(|s| s.parse().ok());
                (seq.unwrap_or(u64::MAX), i, e)
            })
            .collect();
        declared.sort_by_key(|(seq, i, _)| (*seq, *i));
        let mut transit = Vec::new();
        for (_, i, e) in declared {
            let base = format!("CustomsOfficeOfTransitDeclared[{}]", i + 1);
            let reference = e.text_at(&["referenceNumber"]).unwrap_or_default();
            let office = match OfficeRef::parse(reference) {
                Ok(o) => o,
                Err(err) => {
                    self.error(
                        &[&base, "referenceNumber"],
                        FunctionalErrorCode::RuleViolation,
                        "SBR002",
                        err.to_string(),
                        Some(reference.to_string()),
                    );
                    continue;
                }
            };
            let estimated_arrival = match e.text_at(&["arrivalDateAndTimeEstimated"]) {
                None => None,
                Some(value) => self
                    .utc_time(&[&base, "arrivalDateAndTimeEstimated"], value, &office)
                    .map(|(t, _)| t),
            };
            transit.push(TransitOffice {
                office,
                estimated_arrival,
            });
        }
        Some(Route {
            departure: departure?,
            transit,
            destination: destination?,
        })
    }

    fn declaration(&mut self, header: &Header) -> Option<Declaration> {
        let lrn = self.required(&["TransitOperation", "LRN"])?;
        self.lrn(&["TransitOperation", "LRN"], &lrn);
        let route = self.route(header)?;
        Some(Declaration {
            header: header.clone(),
            lrn,
            route,
            holder: self.holder(),
            consignment: crate::goods::consignment(self.root),
        })
    }

    fn amendment(&mut self, header: &Header) -> Option<Amendment> {
        let lrn = self.text(&["TransitOperation", "LRN"]);
        let mrn = self.text(&["TransitOperation", "MRN"]);
        let reference = match (lrn, mrn) {
            (Some(lrn), None) => {
                self.lrn(&["TransitOperation", "LRN"], &lrn);
                Some(DeclarationReference::Lrn(lrn))
            }
            (None, Some(mrn)) => Some(DeclarationReference::Mrn(mrn)),
            (Some(_), Some(mrn)) => {
                self.error(
                    &["TransitOperation", "MRN"],
                    FunctionalErrorCode::NotAllowed,
                    "SBR004",
                    "name the declaration by its LRN or its MRN, not both".to_string(),
                    Some(mrn),
                );
                None
            }
            (None, None) => {
                self.error(
                    &["TransitOperation", "LRN"],
                    FunctionalErrorCode::Missing,
                    "SBR004",
                    "an amendment names the declaration it amends by its LRN or its MRN"
                        .to_string(),
                    None,
                );
                None
            }
        };
        let route = self.route(header);
        Some(Amendment {
            header: header.clone(),
            reference: reference?,
            route: route?,
            holder: self.holder(),
            consignment: crate::goods::consignment(self.root),
        })
    }

    fn invalidation(&mut self, header: &Header) -> Option<InvalidationRequest> {
        let reference = match (
            self.text(&["TransitOperation", "LRN"]),
            self.text(&["TransitOperation", "MRN"]),
        ) {
            (_, Some(mrn)) => Some(DeclarationReference::Mrn(mrn)),
            (Some(lrn), None) => Some(DeclarationReference::Lrn(lrn)),
            (None, None) => None,
        };
        let departure = self.office(&["CustomsOfficeOfDeparture", "referenceNumber"])?;
        Some(InvalidationRequest {
            header: header.clone(),
            reference,
            departure,
            holder: self.holder(),
            initiated_by_customs: self.flag(&["Invalidation", "initiatedByCustoms"]),
            justification: self.text(&["Invalidation", "justification"]),
        })
    }

    fn arrival(&mut self, header: &Header) -> Option<ArrivalNotification> {
        let office_path = ["CustomsOfficeOfDestinationActual", "referenceNumber"];
        let office = self.office(&office_path)?;
        self.addressed_to(header, &office_path, &office);
        let path = ["TransitOperation", "arrivalNotificationDateAndTime"];
        let value = self.required(&path)?;
        let (arrived_at, zone) = self.utc_time(&path, &value, &office)?;
        let mrn = self.required(&["TransitOperation", "MRN"]);
        let trader = self.required(&["TraderAtDestination", "identificationNumber"]);
        Some(ArrivalNotification {
            header: header.clone(),
            mrn: mrn?,
            office,
            zone,
            arrived_at,
            simplified_procedure: self.flag(&["TransitOperation", "simplifiedProcedure"]),
            incident: self.flag(&["TransitOperation", "incidentFlag"]),
            trader: trader?,
        })
    }

    fn unloading(&mut self, header: &Header) -> Option<UnloadingRemarks> {
        let office = self.office(&["CustomsOfficeOfDestinationActual", "referenceNumber"])?;
        let date_path = ["UnloadingRemark", "unloadingDate"];
        let date = self.required(&date_path)?;
        let unloading_date = match NaiveDate::parse_from_str(&date, "%Y-%m-%d") {
            Ok(d) if date.is_ascii() => d,
            _ => {
                self.error(
                    &date_path,
                    FunctionalErrorCode::RuleViolation,
                    "SBR001",
                    "expected a date YYYY-MM-DD".to_string(),
                    Some(date),
                );
                return None;
            }
        };
        // The remarks are made when the message is prepared (UTC, as every NCTS date-time).
        let prepared = header.prepared.format("%Y-%m-%dT%H:%M:%S").to_string();
        let zone = self.office_zone(&["preparationDateAndTime"], &prepared, &office)?;
        let remarks_at = header.prepared.and_utc();
        let mrn = self.required(&["TransitOperation", "MRN"]);
        let trader = self.required(&["TraderAtDestination", "identificationNumber"]);
        Some(UnloadingRemarks {
            header: header.clone(),
            mrn: mrn?,
            office,
            zone,
            remarks_at,
            trader: trader?,
            conform: self.flag(&["UnloadingRemark", "conform"]),
            unloading_completed: self.flag(&["UnloadingRemark", "unloadingCompletion"]),
            unloading_date,
        })
    }
}
