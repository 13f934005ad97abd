//! The published NCTS Phase 5 samples (`../shared/data/ncts-p5/samples`, or
//! `SMARTBORDER_NCTS_SAMPLES`): the valid ones are accepted and read into the movement model,
//! the invalid ones refused with the element named; every answer validates against the schema.
//! When the samples are absent, the tests say so and pass on the embedded ones below.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use smartborder_ncts::answers::{self, Envelope, RejectionCode};
use smartborder_ncts::messages::{DeclarationReference, FunctionalErrorCode};
use smartborder_ncts::{Message, MessageType, Refusal, XmlErrorCode, read, schema, xml};

fn samples_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SMARTBORDER_NCTS_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ncts-p5/samples")
        });
    dir.is_dir().then_some(dir)
}

fn sample(name: &str) -> Option<String> {
    let dir = samples_dir()?;
    Some(std::fs::read_to_string(dir.join(name)).expect("sample readable"))
}

/// Every sample of the five messages taken, as (file name, text).
fn all_samples() -> Vec<(String, String)> {
    let Some(dir) = samples_dir() else {
        eprintln!("NCTS samples not found: sample tests skipped");
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn envelope(answered: Option<&smartborder_ncts::messages::Header>) -> Envelope {
    Envelope {
        country: "GB".to_string(),
        zone: "Europe/London".parse().unwrap(),
        at: Utc.with_ymd_and_hms(2026, 11, 28, 9, 30, 0).unwrap(),
        identification: "SB-TEST-1".to_string(),
        answered: answered.cloned(),
    }
}

/// An answer is schema-valid, and is the message it says it is.
fn assert_valid_answer(xml_text: &str, root: &str) {
    let doc =
        xml::parse(xml_text).unwrap_or_else(|e| panic!("{root} not well-formed: {e}\n{xml_text}"));
    assert_eq!(doc.name, root);
    let violations = schema().validate(&doc);
    assert!(
        violations.is_empty(),
        "{root} answer is not schema-valid:\n{}\n{xml_text}",
        violations
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn every_valid_sample_is_accepted_and_answered_with_a_valid_message() {
    let mut seen = 0;
    for (name, text) in all_samples() {
        let taken = ["cc015c", "cc013c", "cc014c", "cc007c", "cc044c"];
        if !name.contains("-valid") || !taken.iter().any(|t| name.starts_with(t)) {
            continue;
        }
        seen += 1;
        let message = read(&text).unwrap_or_else(|e| panic!("{name} refused: {e}"));
        assert_eq!(
            message.message_type().name().to_lowercase(),
            name[..6],
            "{name}"
        );
        let env = envelope(Some(message.header()));
        let (answer, root) = match &message {
            Message::Declaration(d) => (
                answers::mrn_allocated(
                    &env,
                    &d.lrn,
                    "26GB000000000001J5",
                    d.route.departure.as_str(),
                    &d.holder,
                ),
                "CC028C",
            ),
            Message::Amendment(a) => (
                answers::amendment_accepted(
                    &env,
                    "26GB000000000001J5",
                    &a.header,
                    a.route.departure.as_str(),
                    &a.holder,
                ),
                "CC004C",
            ),
            Message::InvalidationRequest(i) => (
                answers::invalidation_decision(
                    &env,
                    "26GB000000000001J5",
                    i.initiated_by_customs,
                    i.justification.as_deref(),
                    i.departure.as_str(),
                    &i.holder,
                ),
                "CC009C",
            ),
            // Arrival and unloading remarks are answered later (CC043C, CC025C) by the office;
            // a rejection is what is answered at once, so check that one.
            Message::ArrivalNotification(_) | Message::UnloadingRemarks(_) => {
                let context = smartborder_ncts::messages::RejectionContext {
                    mrn: message.mrn().map(str::to_string),
                    office: Some("GB123456".to_string()),
                    trader: Some("ezv3Z".to_string()),
                    ..Default::default()
                };
                (
                    answers::rejection(
                        &env,
                        message.message_type(),
                        RejectionCode::InvalidState,
                        "the movement is not released for transit",
                        &context,
                        &[],
                    ),
                    "CC057C",
                )
            }
        };
        assert_valid_answer(&answer, root);
    }
    if samples_dir().is_some() {
        assert_eq!(
            seen, 8,
            "valid samples of CC015C, CC013C, CC014C, CC007C and CC044C"
        );
    }
}

#[test]
fn the_valid_samples_map_onto_the_movement_model() {
    let Some(text) = sample("cc015c-valid-2.xml") else {
        return;
    };
    let Message::Declaration(d) = read(&text).unwrap() else {
        panic!("a declaration")
    };
    assert_eq!(d.lrn, "MDTP-18");
    assert_eq!(d.route.departure.as_str(), "XI000081");
    let transit: Vec<&str> = d.route.transit.iter().map(|t| t.office.as_str()).collect();
    assert_eq!(transit, ["GB000060"]);
    assert_eq!(d.route.destination.as_str(), "GB000120");
    assert_eq!(
        d.holder.identification_number.as_deref(),
        Some("XI985524247819")
    );
    assert_eq!(d.header.recipient, "NTA.XI");

    // Local time at a UK office in summer is UTC+1.
    let Some(text) = sample("cc007c-valid.xml") else {
        return;
    };
    let Message::ArrivalNotification(a) = read(&text).unwrap() else {
        panic!("an arrival")
    };
    assert_eq!(a.mrn, "27WF9X1FQ9RCKN0TM3");
    assert_eq!(a.office.as_str(), "GB123456");
    assert_eq!(
        a.arrived_at,
        Utc.with_ymd_and_hms(2022, 7, 2, 2, 11, 4).unwrap()
    );
    assert_eq!(a.zone.name(), "Europe/London");
    assert!(a.simplified_procedure);
    assert!(a.incident);
    assert_eq!(a.trader, "ezv3Z");

    let Some(text) = sample("cc013c-valid-mrn.xml") else {
        return;
    };
    let Message::Amendment(m) = read(&text).unwrap() else {
        panic!("an amendment")
    };
    assert_eq!(
        m.reference,
        DeclarationReference::Mrn("24GB012345678901A0".into())
    );
    assert_eq!(m.route.departure.as_str(), "GB123456");
    assert_eq!(m.route.destination.as_str(), "AB123456");

    let Some(text) = sample("cc044c-valid.xml") else {
        return;
    };
    let Message::UnloadingRemarks(u) = read(&text).unwrap() else {
        panic!("unloading remarks")
    };
    assert!(!u.conform);
    assert_eq!(u.unloading_date.to_string(), "2018-11-01");

    let Some(text) = sample("cc014c-valid.xml") else {
        return;
    };
    let Message::InvalidationRequest(i) = read(&text).unwrap() else {
        panic!("an invalidation")
    };
    assert_eq!(
        i.reference, None,
        "the sample names the movement by the request path only"
    );
    assert!(i.initiated_by_customs);
    assert_eq!(i.departure.as_str(), "GB123456");
}

/// What each invalid sample must be refused for: (file, pointer, code).
const INVALID: &[(&str, &str, u8)] = &[
    // Schema: answered by CC917C with the XML error code.
    (
        "cc007c-invalid-message-sender.xml",
        "/CC007C/messageSender",
        51,
    ),
    ("cc007c-invalid.xml", "/CC007C/messageSender", 13),
    ("cc007c-tooManyNodes.xml", "/CC007C/messageType", 35),
    (
        "cc013c-invalid-message-sender.xml",
        "/CC013C/messageSender",
        51,
    ),
    ("cc013c-invalid.xml", "/CC013C/messageSender", 13),
    (
        "cc014c-invalid-message-sender.xml",
        "/CC014C/messageSender",
        51,
    ),
    ("cc014c-invalid.xml", "/CC014C/messageSender", 13),
    (
        "cc015c-invalid-message-sender.xml",
        "/CC015C/messageSender",
        51,
    ),
    ("cc015c-invalid.xml", "/CC015C/messageSender", 13),
    (
        "cc044c-invalid-message-sender.xml",
        "/CC044C/messageSender",
        51,
    ),
    ("cc044c-invalid.xml", "/CC044C/messageSender", 13),
    // Business rules: answered by CC056C / CC057C with the functional error code.
    (
        "cc007c-invalid-recipient.xml",
        "/CC007C/messageRecipient",
        14,
    ),
    (
        "cc007c-invalid-ref-office.xml",
        "/CC007C/CustomsOfficeOfDestinationActual/referenceNumber",
        14,
    ),
    (
        "cc007c-invalid-reference.xml",
        "/CC007C/messageRecipient",
        14,
    ),
    (
        "cc013c-invalid-both-mrn-and-lrn.xml",
        "/CC013C/TransitOperation/MRN",
        15,
    ),
    (
        "cc013c-invalid-no-mrn-lrn.xml",
        "/CC013C/TransitOperation/LRN",
        13,
    ),
    ("cc015c-invalid-lrn.xml", "/CC015C/TransitOperation/LRN", 14),
    (
        "cc015c-invalid-reference-departure.xml",
        "/CC015C/CustomsOfficeOfDeparture/referenceNumber",
        14,
    ),
];

#[test]
fn every_invalid_sample_is_refused_naming_the_element() {
    let samples = all_samples();
    for (name, pointer, code) in INVALID {
        let Some((_, text)) = samples.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let refusal = read(text).expect_err(name);
        let env = envelope(None);
        match &refusal {
            Refusal::Schema {
                violations, header, ..
            } => {
                assert!(
                    violations
                        .iter()
                        .any(|v| v.pointer == *pointer && v.code.code() == *code),
                    "{name}: expected {pointer} [{code}], found {refusal}"
                );
                let env = Envelope {
                    answered: header.as_deref().cloned(),
                    ..env
                };
                let nack = answers::xml_nack(&env, &refusal.xml_errors());
                assert_valid_answer(&nack, "CC917C");
                assert!(
                    nack.contains(&format!("<errorPointer>{pointer}</errorPointer>")),
                    "{nack}"
                );
            }
            Refusal::Rules {
                errors,
                message_type,
                context,
                header,
            } => {
                assert!(
                    errors
                        .iter()
                        .any(|e| e.pointer == *pointer && e.code.code() == *code),
                    "{name}: expected {pointer} [{code}], found {refusal}"
                );
                let env = Envelope {
                    answered: Some((**header).clone()),
                    ..env
                };
                let answer = answers::rejection(
                    &env,
                    *message_type,
                    RejectionCode::FunctionalErrors,
                    "the message breaks business rules",
                    context,
                    errors,
                );
                let root = if message_type.at_departure() {
                    "CC056C"
                } else {
                    "CC057C"
                };
                assert_valid_answer(&answer, root);
                assert!(
                    answer.contains(&format!("<errorPointer>{pointer}</errorPointer>")),
                    "{answer}"
                );
            }
            other => panic!("{name}: unexpected refusal {other:?}"),
        }
    }
    // Every invalid sample of the five messages is in the table.
    for (name, _) in &samples {
        let taken = ["cc015c", "cc013c", "cc014c", "cc007c", "cc044c"];
        if taken.iter().any(|t| name.starts_with(t)) && !name.contains("-valid") {
            assert!(
                INVALID.iter().any(|(n, _, _)| n == name),
                "{name} is not checked"
            );
        }
    }
}

#[test]
fn the_published_cc029c_sample_is_not_schema_valid() {
    // Its countryOfDispatch is "st" where the schema wants two capital letters; an independent
    // validator (Python xmlschema 4.3, XSD 1.1) reports the same three elements.
    let Some(text) = sample("cc029c-valid.xml") else {
        return;
    };
    let doc = xml::parse(&text).unwrap();
    let pointers: Vec<String> = schema()
        .validate(&doc)
        .into_iter()
        .map(|v| v.pointer)
        .collect();
    assert_eq!(
        pointers,
        [
            "/CC029C/Consignment/countryOfDispatch",
            "/CC029C/Consignment/HouseConsignment[1]/countryOfDispatch",
            "/CC029C/Consignment/HouseConsignment[1]/ConsignmentItem[1]/countryOfDispatch",
        ]
    );
}

/// A declaration of our corridor, written here so the tests run without the samples.
const KZ_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ncts:CC015C xmlns:ncts="http://ncts.dgtaxud.ec" PhaseID="NCTS5.1">
  <messageSender>KZ-TRADER-01</messageSender>
  <messageRecipient>NTA.KZ</messageRecipient>
  <preparationDateAndTime>2026-11-28T10:00:00</preparationDateAndTime>
  <messageIdentification>MSG-0001</messageIdentification>
  <messageType>CC015C</messageType>
  <TransitOperation>
    <LRN>KZ-2026-0001</LRN>
    <declarationType>T1</declarationType>
    <additionalDeclarationType>A</additionalDeclarationType>
    <security>0</security>
    <reducedDatasetIndicator>0</reducedDatasetIndicator>
    <bindingItinerary>1</bindingItinerary>
  </TransitOperation>
  <CustomsOfficeOfDeparture><referenceNumber>KZ551001</referenceNumber></CustomsOfficeOfDeparture>
  <CustomsOfficeOfDestinationDeclared><referenceNumber>GE100100</referenceNumber></CustomsOfficeOfDestinationDeclared>
  <CustomsOfficeOfTransitDeclared>
    <sequenceNumber>2</sequenceNumber>
    <referenceNumber>GE200200</referenceNumber>
  </CustomsOfficeOfTransitDeclared>
  <CustomsOfficeOfTransitDeclared>
    <sequenceNumber>1</sequenceNumber>
    <referenceNumber>AZ300300</referenceNumber>
    <arrivalDateAndTimeEstimated>2026-11-30T08:00:00</arrivalDateAndTimeEstimated>
  </CustomsOfficeOfTransitDeclared>
  <HolderOfTheTransitProcedure><identificationNumber>KZ123456789012</identificationNumber></HolderOfTheTransitProcedure>
  <Guarantee><sequenceNumber>1</sequenceNumber><guaranteeType>1</guaranteeType></Guarantee>
  <Consignment>
    <containerIndicator>1</containerIndicator>
    <grossMass>12000.5</grossMass>
    <HouseConsignment>
      <sequenceNumber>1</sequenceNumber>
      <grossMass>12000.5</grossMass>
      <ConsignmentItem>
        <goodsItemNumber>1</goodsItemNumber>
        <declarationGoodsItemNumber>1</declarationGoodsItemNumber>
        <Commodity><descriptionOfGoods>Cotton yarn</descriptionOfGoods></Commodity>
        <Packaging><sequenceNumber>1</sequenceNumber><typeOfPackages>PK</typeOfPackages></Packaging>
      </ConsignmentItem>
    </HouseConsignment>
  </Consignment>
</ncts:CC015C>"#;

#[test]
fn a_corridor_declaration_orders_transit_offices_and_places_local_times() {
    let Message::Declaration(d) = read(KZ_DECLARATION).unwrap_or_else(|e| panic!("{e}")) else {
        panic!("a declaration")
    };
    let transit: Vec<&str> = d.route.transit.iter().map(|t| t.office.as_str()).collect();
    assert_eq!(transit, ["AZ300300", "GE200200"], "in sequenceNumber order");
    // Baku is UTC+4.
    assert_eq!(
        d.route.transit[0].estimated_arrival,
        Some(Utc.with_ymd_and_hms(2026, 11, 30, 4, 0, 0).unwrap())
    );
    assert_eq!(d.route.transit[1].estimated_arrival, None);
}

#[test]
fn business_rules_report_every_failing_element() {
    let text = KZ_DECLARATION
        .replace("<LRN>KZ-2026-0001</LRN>", "<LRN>KZ 2026#1</LRN>")
        .replace(
            "<messageType>CC015C</messageType>",
            "<messageType>CC013C</messageType>",
        )
        .replace("NTA.KZ", "NTA.GE");
    let Err(Refusal::Rules {
        errors,
        message_type,
        ..
    }) = read(&text)
    else {
        panic!("refused by the rules")
    };
    assert_eq!(message_type, MessageType::CC015C);
    let found: Vec<(&str, &str, u8)> = errors
        .iter()
        .map(|e| (e.pointer.as_str(), e.reason, e.code.code()))
        .collect();
    assert_eq!(
        found,
        [
            ("/CC015C/messageType", "SBR001", 14),
            ("/CC015C/TransitOperation/LRN", "SBR003", 14),
            (
                "/CC015C/CustomsOfficeOfDeparture/referenceNumber",
                "SBR002",
                14
            ),
        ]
    );
    assert!(
        errors
            .iter()
            .all(|e| e.code != FunctionalErrorCode::UnknownMrn)
    );
}

#[test]
fn a_local_time_skipped_by_a_clock_change_is_refused() {
    // Tbilisi keeps no daylight saving time, but London does: 01:30 on 2026-03-29 never was.
    let text = KZ_DECLARATION
        .replace("AZ300300", "GB300300")
        .replace("2026-11-30T08:00:00", "2026-03-29T01:30:00");
    let Err(Refusal::Rules { errors, .. }) = read(&text) else {
        panic!("refused")
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].reason, "SBR005");
    assert_eq!(
        errors[0].pointer,
        "/CC015C/CustomsOfficeOfTransitDeclared[2]/arrivalDateAndTimeEstimated"
    );
}

#[test]
fn malformed_and_foreign_documents_are_answered_with_an_xml_nack() {
    for (text, code) in [
        (
            "<ncts:CC015C xmlns:ncts=\"http://ncts.dgtaxud.ec\">\n<messageSender>x</messageSender>",
            XmlErrorCode::InvalidXmlFormat,
        ),
        ("{\"lrn\": \"x\"}", XmlErrorCode::InvalidXmlFormat),
        ("<CC015C/>", XmlErrorCode::NotSupportedInThisPosition),
        (
            "<x:CC015C xmlns:x=\"urn:other\"/>",
            XmlErrorCode::NotSupportedInThisPosition,
        ),
    ] {
        let refusal = read(text).expect_err(text);
        let errors = refusal.xml_errors();
        assert_eq!(errors.len(), 1, "{text}: {refusal}");
        assert_eq!(errors[0].code, code, "{text}");
        assert_valid_answer(&answers::xml_nack(&envelope(None), &errors), "CC917C");
    }
    // A valid message this service does not take.
    let Some(text) = sample("cc170c-valid.xml") else {
        return;
    };
    assert!(matches!(read(&text), Err(Refusal::Unsupported { .. })));
}

#[test]
fn mangled_messages_never_panic() {
    // Truncations and byte flips of a real declaration: every one is read or refused.
    let base = KZ_DECLARATION.as_bytes();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for cut in (0..base.len()).step_by(7) {
        let _ = read(&String::from_utf8_lossy(&base[..cut]));
    }
    let alphabet = b"<>/&;\"'= \nAZaz09#-.:[]";
    for _ in 0..3000 {
        let mut bytes = base.to_vec();
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % bytes.len();
            bytes[at] = alphabet[(next() as usize) % alphabet.len()];
        }
        let _ = read(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn a_release_for_transit_repeats_the_declaration() {
    let mut declarations = vec![("corridor".to_string(), KZ_DECLARATION.to_string())];
    for name in ["cc015c-valid.xml", "cc015c-valid-2.xml"] {
        if let Some(text) = sample(name) {
            declarations.push((name.to_string(), text));
        }
    }
    let accepted = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let released = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    for (name, text) in declarations {
        let doc = xml::parse(&text).unwrap();
        let result = answers::release_for_transit(
            &envelope(None),
            &doc,
            doc.text_at(&["TransitOperation", "LRN"]).unwrap(),
            "26KZ000000000001J9",
            accepted,
            released,
        );
        if doc
            .text_at(&["Consignment", "containerIndicator"])
            .is_none()
        {
            // A release must say whether the goods travel in containers; a declaration that
            // did not cannot be released as a CC029C, and the reason names the element.
            let violations = result.expect_err(&name);
            let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
            assert_eq!(
                pointers,
                ["/CC029C/Consignment/containerIndicator"],
                "{name}"
            );
            continue;
        }
        let release = result.unwrap_or_else(|v| {
            panic!(
                "{name}: {}",
                v.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
        assert_valid_answer(&release, "CC029C");
        let out = xml::parse(&release).unwrap();
        assert_eq!(
            out.text_at(&["TransitOperation", "MRN"]),
            Some("26KZ000000000001J9")
        );
        assert_eq!(
            out.text_at(&["TransitOperation", "releaseDate"]),
            Some("2026-11-29")
        );
        assert_eq!(
            out.text_at(&["TransitOperation", "LRN"]),
            doc.text_at(&["TransitOperation", "LRN"])
        );
        // The declared route, holder and goods are repeated.
        for path in [
            &["CustomsOfficeOfDeparture", "referenceNumber"][..],
            &["CustomsOfficeOfDestinationDeclared", "referenceNumber"],
            &["HolderOfTheTransitProcedure", "identificationNumber"],
            &["Consignment", "grossMass"],
        ] {
            assert_eq!(out.text_at(path), doc.text_at(path), "{name}: {path:?}");
        }
        let items = |e: &xml::Element| {
            e.child("Consignment")
                .unwrap()
                .children_named("HouseConsignment")
                .map(|h| h.children_named("ConsignmentItem").count())
                .sum::<usize>()
        };
        assert_eq!(items(&out), items(&doc), "{name}");
    }
}
