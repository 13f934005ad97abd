//! The conditions (C-codes) and rules (R-codes) of the NCTS Phase 5 functional specification
//! that apply to the messages this service takes, checked on the message alone. Each failure is
//! a [`FunctionalError`] whose `errorReason` is the code (e.g. `C0569`), whose pointer names the
//! element, and whose text says what was expected.
//!
//! A condition is written as in the specification: IF a test on the message THEN each named
//! element is R (required), N (not allowed) or O (optional) ... ELSE ... A condition has a
//! scope: the data group it is judged in, once per instance (`Consignment/Incident`: each
//! incident on its own). Paths are relative to the scope, or absolute from the root when they
//! start with `/`. A test on a path holds when at least one instance satisfies it. A demand on
//! `A/B/c` applies to every instance of `A/B` ("R": each must have a `c`; "N": none may).
//!
//! Conditions and rules that need what the message does not hold (reference data such as the
//! code lists of countries and guarantee types, the economic operator registry, the movement's
//! other messages) are not judged here; the README lists which are implemented.
//! [`against_declaration`] judges a CC044C against the declaration it answers (C0440, R0054).
//! Guidelines (G-codes) that the specification words as conditions on a single message are
//! judged as such: G0360 and G0205 (a conform CC044C reports no discrepancy and no remark),
//! G0017 (seals not in good state are a remark, so not conform).

use std::collections::HashSet;

use crate::messages::{FunctionalError, FunctionalErrorCode, MessageType};
use crate::xml::Element;

/// What a condition demands of an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Demand {
    /// Required in every instance of its parent.
    R,
    /// Not allowed.
    N,
    /// Required in at least one instance of its parent group (C0055: "at least one iteration").
    AtLeastOne,
}

/// A test on the message, judged within a scope instance.
#[derive(Debug, Clone)]
enum Test {
    Present(&'static str),
    Eq(&'static str, &'static str),
    In(&'static str, &'static [&'static str]),
    Greater(&'static str, f64),
    /// The root's element starts with this text (`messageRecipient` starts with `NTA`).
    StartsWith(&'static str, &'static str),
    /// The element occurs exactly this many times.
    Count(&'static str, usize),
    /// A date-time element is later than this one (both `YYYY-MM-DDThh:mm:ss`, as the schema
    /// writes them, so they compare as text).
    After(&'static str, &'static str),
    Not(Box<Test>),
    And(Vec<Test>),
    Or(Vec<Test>),
}

use Demand::{AtLeastOne, N, R};
use Test::{And, Eq, Greater, In, Not, Or, Present, StartsWith};

/// One branch of a condition: when the test holds (or always, for the final ELSE), these
/// demands apply.
type Branch = (Option<Test>, Vec<(&'static str, Demand)>);

struct Condition {
    code: &'static str,
    messages: &'static [MessageType],
    scope: &'static str,
    branches: Vec<Branch>,
}

const DEPARTURE: &[MessageType] = &[MessageType::CC015C, MessageType::CC013C];
const CC007C: &[MessageType] = &[MessageType::CC007C];
const CC014C: &[MessageType] = &[MessageType::CC014C];
const CC044C: &[MessageType] = &[MessageType::CC044C];
const SEALED: &[MessageType] = &[
    MessageType::CC015C,
    MessageType::CC013C,
    MessageType::CC007C,
];

/// The end of NCTS Phase 5's transitional period (TPendDate, 21 January 2025): messages
/// prepared after it follow the final state (B1016, B1091, B2400).
const TP_END: &str = "2025-01-21T00:00:00";

/// Packages in bulk (CL181, KindOfPackagesBulk) and unpacked (CL182, KindOfPackagesUnpacked).
const BULK: &[&str] = &["VG", "VL", "VO", "VQ", "VR", "VS", "VY"];
const UNPACKED: &[&str] = &["NE", "NF", "NG"];

fn when(test: Test, demands: Vec<(&'static str, Demand)>) -> Branch {
    (Some(test), demands)
}

fn otherwise(demands: Vec<(&'static str, Demand)>) -> Branch {
    (None, demands)
}

fn condition(
    code: &'static str,
    messages: &'static [MessageType],
    scope: &'static str,
    branches: Vec<Branch>,
) -> Condition {
    Condition {
        code,
        messages,
        scope,
        branches,
    }
}

/// The conditions implemented, as the specification writes them (O demands are left out:
/// they allow either).
fn conditions() -> Vec<Condition> {
    let security = "/TransitOperation/security";
    let mut table = vec![
        condition(
            "C0045",
            DEPARTURE,
            "",
            vec![
                when(
                    Eq("TransitOperation/declarationType", "T"),
                    vec![(
                        "Consignment/HouseConsignment/ConsignmentItem/declarationType",
                        R,
                    )],
                ),
                otherwise(vec![(
                    "Consignment/HouseConsignment/ConsignmentItem/declarationType",
                    N,
                )]),
            ],
        ),
        condition(
            "C0055",
            DEPARTURE,
            "Consignment",
            vec![
                when(
                    Eq("containerIndicator", "0"),
                    vec![("TransportEquipment/containerIdentificationNumber", N)],
                ),
                when(
                    Eq("containerIndicator", "1"),
                    vec![(
                        "TransportEquipment/containerIdentificationNumber",
                        AtLeastOne,
                    )],
                ),
            ],
        ),
        condition(
            "C0060",
            DEPARTURE,
            "Consignment/HouseConsignment/ConsignmentItem/Packaging",
            vec![
                when(In("typeOfPackages", BULK), vec![("numberOfPackages", N)]),
                when(
                    In("typeOfPackages", UNPACKED),
                    vec![("numberOfPackages", R)],
                ),
                otherwise(vec![("shippingMarks", R), ("numberOfPackages", R)]),
            ],
        ),
        condition(
            "C0101",
            DEPARTURE,
            "",
            vec![when(
                Eq("TransitOperation/reducedDatasetIndicator", "1"),
                vec![("Authorisation", R)],
            )],
        ),
        condition(
            "C0130",
            DEPARTURE,
            "Guarantee",
            vec![
                when(
                    Eq("guaranteeType", "8"),
                    vec![("otherGuaranteeReference", R)],
                ),
                when(Eq("guaranteeType", "3"), vec![]),
                otherwise(vec![("otherGuaranteeReference", N)]),
            ],
        ),
        condition(
            "C0186",
            DEPARTURE,
            "",
            vec![when(
                Eq(security, "0"),
                vec![
                    ("Consignment/TransportCharges", N),
                    ("Consignment/HouseConsignment/TransportCharges", N),
                ],
            )],
        ),
        condition(
            "C0191",
            DEPARTURE,
            "",
            vec![
                when(
                    In(security, &["1", "3"]),
                    vec![("Consignment/PlaceOfUnloading", R)],
                ),
                when(Eq(security, "0"), vec![("Consignment/PlaceOfUnloading", N)]),
            ],
        ),
        condition(
            "C0298",
            DEPARTURE,
            "Consignment/HouseConsignment/ConsignmentItem/PreviousDocument",
            vec![
                when(
                    Present("quantity"),
                    vec![("measurementUnitAndQualifier", R)],
                ),
                otherwise(vec![("measurementUnitAndQualifier", N)]),
            ],
        ),
        condition(
            "C0337",
            DEPARTURE,
            "",
            vec![when(
                Present("Consignment/TransportCharges"),
                vec![("Consignment/HouseConsignment/TransportCharges", N)],
            )],
        ),
        condition(
            "C0343",
            DEPARTURE,
            "",
            vec![when(
                Present("Consignment/countryOfDestination"),
                vec![
                    ("Consignment/HouseConsignment/countryOfDestination", N),
                    (
                        "Consignment/HouseConsignment/ConsignmentItem/countryOfDestination",
                        N,
                    ),
                ],
            )],
        ),
        condition(
            "C0343",
            DEPARTURE,
            "Consignment/HouseConsignment",
            vec![
                when(Present("/Consignment/countryOfDestination"), vec![]),
                when(
                    Present("countryOfDestination"),
                    vec![("ConsignmentItem/countryOfDestination", N)],
                ),
                otherwise(vec![("ConsignmentItem/countryOfDestination", R)]),
            ],
        ),
        location_of_goods("C0394", DEPARTURE, "Consignment/LocationOfGoods"),
        location_of_goods("C0394", CC007C, "Consignment/LocationOfGoods"),
        condition(
            "C0403",
            DEPARTURE,
            "",
            vec![
                when(
                    Eq("TransitOperation/additionalDeclarationType", "D"),
                    vec![],
                ),
                otherwise(vec![("Consignment/PlaceOfLoading", R)]),
            ],
        ),
        condition(
            "C0411",
            DEPARTURE,
            "",
            vec![
                when(
                    Eq("TransitOperation/declarationType", "TIR"),
                    vec![("TransitOperation/TIRCarnetNumber", R)],
                ),
                otherwise(vec![("TransitOperation/TIRCarnetNumber", N)]),
            ],
        ),
        condition(
            "C0502",
            DEPARTURE,
            "",
            vec![when(
                Present("Consignment/referenceNumberUCR"),
                vec![
                    ("Consignment/HouseConsignment/referenceNumberUCR", N),
                    (
                        "Consignment/HouseConsignment/ConsignmentItem/referenceNumberUCR",
                        N,
                    ),
                ],
            )],
        ),
        condition(
            "C0502",
            DEPARTURE,
            "Consignment/HouseConsignment",
            vec![
                when(Present("/Consignment/referenceNumberUCR"), vec![]),
                when(
                    Present("referenceNumberUCR"),
                    vec![("ConsignmentItem/referenceNumberUCR", N)],
                ),
                when(
                    Or(vec![
                        Present("/Consignment/TransportDocument"),
                        Present("TransportDocument"),
                    ]),
                    vec![],
                ),
                otherwise(vec![("ConsignmentItem/referenceNumberUCR", R)]),
            ],
        ),
        condition(
            "C0531",
            DEPARTURE,
            "",
            vec![when(
                And(vec![
                    In(security, &["1", "2", "3"]),
                    Eq("Consignment/modeOfTransportAtTheBorder", "4"),
                ]),
                vec![(
                    "Consignment/ActiveBorderTransportMeans/conveyanceReferenceNumber",
                    R,
                )],
            )],
        ),
        condition(
            "C0542",
            DEPARTURE,
            "",
            vec![
                when(
                    And(vec![
                        Eq(security, "0"),
                        Eq("TransitOperation/reducedDatasetIndicator", "1"),
                    ]),
                    vec![
                        ("Consignment/Consignor", N),
                        ("Consignment/HouseConsignment/Consignor", N),
                    ],
                ),
                when(
                    Present("Consignment/Consignor"),
                    vec![("Consignment/HouseConsignment/Consignor", N)],
                ),
            ],
        ),
        condition(
            "C0586",
            DEPARTURE,
            "",
            vec![when(
                Or(vec![
                    Eq("TransitOperation/bindingItinerary", "1"),
                    In(security, &["1", "2", "3"]),
                ]),
                vec![("Consignment/CountryOfRoutingOfConsignment", R)],
            )],
        ),
        condition(
            "C0599",
            DEPARTURE,
            "",
            vec![when(
                And(vec![
                    In(security, &["1", "2", "3"]),
                    Eq("TransitOperation/additionalDeclarationType", "A"),
                ]),
                vec![("Consignment/modeOfTransportAtTheBorder", R)],
            )],
        ),
        condition(
            "C0670",
            DEPARTURE,
            "",
            vec![
                when(
                    And(vec![
                        Test::Count("Consignment/TransportEquipment", 1),
                        Present("Consignment/TransportEquipment/containerIdentificationNumber"),
                    ]),
                    vec![],
                ),
                otherwise(vec![("Consignment/TransportEquipment/GoodsReference", R)]),
            ],
        ),
        condition(
            "C0671",
            &[
                MessageType::CC015C,
                MessageType::CC013C,
                MessageType::CC007C,
            ],
            "Consignment/LocationOfGoods",
            vec![
                when(
                    Or(vec![
                        Present("EconomicOperator/identificationNumber"),
                        Present("authorisationNumber"),
                    ]),
                    vec![],
                ),
                otherwise(vec![("additionalIdentifier", N)]),
            ],
        ),
        condition(
            "C0806",
            DEPARTURE,
            "",
            vec![
                when(
                    Eq("Consignment/modeOfTransportAtTheBorder", "5"),
                    vec![("Consignment/ActiveBorderTransportMeans", N)],
                ),
                when(
                    And(vec![
                        In(security, &["1", "2", "3"]),
                        Eq("TransitOperation/additionalDeclarationType", "A"),
                    ]),
                    vec![("Consignment/ActiveBorderTransportMeans", R)],
                ),
            ],
        ),
        condition(
            "C0822",
            DEPARTURE,
            "",
            vec![
                when(
                    Eq("TransitOperation/additionalDeclarationType", "D"),
                    vec![],
                ),
                otherwise(vec![("Consignment/containerIndicator", R)]),
            ],
        ),
        condition(
            "C0823",
            DEPARTURE,
            "",
            vec![
                when(
                    Eq("Consignment/containerIndicator", "1"),
                    vec![("Consignment/TransportEquipment", R)],
                ),
                when(Present("Consignment/containerIndicator"), vec![]),
                otherwise(vec![("Consignment/TransportEquipment", N)]),
            ],
        ),
        condition(
            "C0826",
            DEPARTURE,
            "",
            vec![
                when(
                    Eq("Consignment/inlandModeOfTransport", "5"),
                    vec![
                        ("Consignment/DepartureTransportMeans", N),
                        ("Consignment/HouseConsignment/DepartureTransportMeans", N),
                    ],
                ),
                when(
                    Present("Consignment/DepartureTransportMeans"),
                    vec![("Consignment/HouseConsignment/DepartureTransportMeans", N)],
                ),
            ],
        ),
        condition(
            "C0837",
            DEPARTURE,
            "Consignment/HouseConsignment",
            vec![
                when(
                    Eq("PreviousDocument/type", "N830"),
                    vec![("ConsignmentItem/Commodity/GoodsMeasure/netMass", R)],
                ),
                when(
                    Eq("/TransitOperation/reducedDatasetIndicator", "1"),
                    vec![("ConsignmentItem/Commodity/GoodsMeasure/netMass", N)],
                ),
            ],
        ),
        condition(
            "C0839",
            DEPARTURE,
            "",
            vec![
                when(
                    Not(Box::new(Eq("Authorisation/type", "C521"))),
                    vec![("TransitOperation/limitDate", N)],
                ),
                when(
                    Eq("TransitOperation/additionalDeclarationType", "D"),
                    vec![],
                ),
                otherwise(vec![("TransitOperation/limitDate", R)]),
            ],
        ),
        condition(
            "C0904",
            DEPARTURE,
            "",
            vec![
                when(
                    Eq("TransitOperation/declarationType", "TIR"),
                    vec![(
                        "HolderOfTheTransitProcedure/TIRHolderIdentificationNumber",
                        R,
                    )],
                ),
                when(
                    Present("TransitOperation/declarationType"),
                    vec![(
                        "HolderOfTheTransitProcedure/TIRHolderIdentificationNumber",
                        N,
                    )],
                ),
            ],
        ),
        // The final state, for messages prepared after the transitional period (B-codes).
        condition(
            "B2400",
            DEPARTURE,
            "Consignment/HouseConsignment/ConsignmentItem",
            vec![when(
                Test::After("/preparationDateAndTime", TP_END),
                vec![
                    ("Consignee", N),
                    ("TransportDocument", N),
                    ("TransportCharges", N),
                ],
            )],
        ),
        condition(
            "B2400",
            CC007C,
            "",
            vec![when(
                Test::After("preparationDateAndTime", TP_END),
                vec![("Consignment/Incident", N)],
            )],
        ),
        condition(
            "B1016",
            DEPARTURE,
            "Consignment/ActiveBorderTransportMeans",
            vec![when(
                Test::After("/preparationDateAndTime", TP_END),
                vec![("customsOfficeAtBorderReferenceNumber", R)],
            )],
        ),
        // CC014C, sent by a trader to the national transit application (recipient NTA.xx).
        condition(
            "C0128",
            CC014C,
            "",
            vec![
                when(
                    StartsWith("messageRecipient", "NTA"),
                    vec![("Invalidation/decision", N)],
                ),
                otherwise(vec![("Invalidation/decision", R)]),
            ],
        ),
        condition(
            "C0129",
            CC014C,
            "",
            vec![
                when(
                    Eq("Invalidation/initiatedByCustoms", "1"),
                    vec![("Invalidation/requestDateAndTime", N)],
                ),
                otherwise(vec![("Invalidation/requestDateAndTime", R)]),
            ],
        ),
        condition(
            "C0137",
            CC014C,
            "",
            vec![when(
                StartsWith("messageRecipient", "NTA"),
                vec![("Invalidation/justification", R)],
            )],
        ),
        condition(
            "C0870",
            CC014C,
            "",
            vec![
                when(
                    StartsWith("messageRecipient", "NTA"),
                    vec![("Invalidation/decisionDateAndTime", N)],
                ),
                otherwise(vec![("Invalidation/decisionDateAndTime", R)]),
            ],
        ),
        // CC007C: incidents en route.
        condition(
            "C0040",
            CC007C,
            "Consignment/Incident",
            vec![when(
                Eq("Transhipment/containerIndicator", "1"),
                vec![("TransportEquipment", R)],
            )],
        ),
        condition(
            "C0102",
            CC007C,
            "",
            vec![
                when(
                    Eq("TransitOperation/simplifiedProcedure", "1"),
                    vec![("Authorisation", R)],
                ),
                otherwise(vec![("Authorisation", N)]),
            ],
        ),
        condition(
            "C0240",
            CC007C,
            "Consignment/Incident",
            vec![
                when(
                    In("code", &["2", "4"]),
                    vec![("TransportEquipment", R), ("Transhipment", N)],
                ),
                when(In("code", &["3", "6"]), vec![("Transhipment", R)]),
                otherwise(vec![("TransportEquipment", N), ("Transhipment", N)]),
            ],
        ),
        condition(
            "C0396",
            CC007C,
            "Consignment/Incident",
            vec![when(
                Eq("code", "2"),
                vec![("TransportEquipment/numberOfSeals", R)],
            )],
        ),
        condition(
            "C0460",
            CC007C,
            "Consignment/Incident/Location",
            vec![
                when(
                    Eq("qualifierOfIdentification", "W"),
                    vec![("GNSS", R), ("UNLocode", N), ("Address", N)],
                ),
                when(
                    Eq("qualifierOfIdentification", "U"),
                    vec![("UNLocode", R), ("GNSS", N), ("Address", N)],
                ),
                when(
                    Eq("qualifierOfIdentification", "Z"),
                    vec![("Address", R), ("UNLocode", N), ("GNSS", N)],
                ),
            ],
        ),
        condition(
            "C0820",
            CC007C,
            "Consignment/Incident",
            vec![when(
                Eq("Transhipment/containerIndicator", "1"),
                vec![("TransportEquipment/containerIdentificationNumber", R)],
            )],
        ),
        // CC044C: the unloading remarks must agree with the conform flag (G0205, G0360).
        condition(
            "G0360",
            CC044C,
            "",
            vec![when(
                Eq("UnloadingRemark/conform", "1"),
                vec![("Consignment", N), ("UnloadingRemark/unloadingRemark", N)],
            )],
        ),
    ];
    // Conditions written once for several data groups.
    for scope in ["Consignment/PlaceOfLoading", "Consignment/PlaceOfUnloading"] {
        table.push(condition(
            "C0387",
            DEPARTURE,
            scope,
            vec![when(
                Not(Box::new(Present("UNLocode"))),
                vec![("country", R), ("location", R)],
            )],
        ));
    }
    for scope in [
        "Consignment/TransportEquipment",
        "Consignment/Incident/TransportEquipment",
    ] {
        table.push(condition(
            "C0569",
            SEALED,
            scope,
            vec![
                when(Greater("numberOfSeals", 0.0), vec![("Seal", R)]),
                otherwise(vec![("Seal", N)]),
            ],
        ));
    }
    table
}

/// C0394: what locates the goods follows the qualifier of identification.
fn location_of_goods(
    code: &'static str,
    messages: &'static [MessageType],
    scope: &'static str,
) -> Condition {
    const ALL: [&str; 7] = [
        "Address",
        "authorisationNumber",
        "UNLocode",
        "CustomsOffice",
        "GNSS",
        "EconomicOperator",
        "PostcodeAddress",
    ];
    let only = |required: &'static str| {
        let mut d: Vec<(&'static str, Demand)> = vec![(required, R)];
        d.extend(ALL.iter().filter(|e| **e != required).map(|e| (*e, N)));
        d
    };
    let mut v_demands = only("CustomsOffice");
    v_demands.push(("ContactPerson", N));
    condition(
        code,
        messages,
        scope,
        vec![
            when(Eq("qualifierOfIdentification", "Z"), only("Address")),
            when(
                Eq("qualifierOfIdentification", "X"),
                only("EconomicOperator"),
            ),
            when(
                Eq("qualifierOfIdentification", "Y"),
                only("authorisationNumber"),
            ),
            when(Eq("qualifierOfIdentification", "W"), only("GNSS")),
            when(Eq("qualifierOfIdentification", "V"), v_demands),
            when(Eq("qualifierOfIdentification", "U"), only("UNLocode")),
            when(
                Eq("qualifierOfIdentification", "T"),
                only("PostcodeAddress"),
            ),
        ],
    )
}

/// An element found by a path, with its XPath pointer.
struct Found<'a> {
    element: &'a Element,
    pointer: String,
}

/// The children of `e` named `name`, with pointers (an index when the name repeats).
fn children<'a>(e: &'a Element, name: &str, base: &str) -> Vec<Found<'a>> {
    let named: Vec<&Element> = e.children.iter().filter(|c| c.name == name).collect();
    let many = named.len() > 1;
    named
        .into_iter()
        .enumerate()
        .map(|(i, c)| Found {
            element: c,
            pointer: if many {
                format!("{base}/{name}[{}]", i + 1)
            } else {
                format!("{base}/{name}")
            },
        })
        .collect()
}

/// Every element at a relative path under `from`.
fn all<'a>(from: &Found<'a>, path: &str) -> Vec<Found<'a>> {
    let mut current = vec![Found {
        element: from.element,
        pointer: from.pointer.clone(),
    }];
    for name in path.split('/').filter(|s| !s.is_empty()) {
        current = current
            .iter()
            .flat_map(|f| children(f.element, name, &f.pointer))
            .collect();
    }
    current
}

/// Every element at a relative path under `from`, without pointers (tests need no pointer;
/// only errors do).
fn find<'a>(from: &'a Element, path: &str) -> Vec<&'a Element> {
    let mut current = vec![from];
    for name in path.split('/').filter(|s| !s.is_empty()) {
        current = current
            .iter()
            .flat_map(|e| e.children.iter().filter(move |c| c.name == name))
            .collect();
    }
    current
}

/// The elements a test path names: absolute (from the root) or relative to the scope.
fn resolve<'a>(root: &Found<'a>, scope: &Found<'a>, path: &str) -> Vec<&'a Element> {
    match path.strip_prefix('/') {
        Some(absolute) => find(root.element, absolute),
        None => find(scope.element, path),
    }
}

fn holds(test: &Test, root: &Found<'_>, scope: &Found<'_>) -> bool {
    let any = |path: &str, f: &dyn Fn(&str) -> bool| {
        resolve(root, scope, path).iter().any(|e| f(e.text.trim()))
    };
    match test {
        Test::Present(p) => !resolve(root, scope, p).is_empty(),
        Test::Eq(p, v) => any(p, &|t| t == *v),
        Test::In(p, set) => any(p, &|t| set.contains(&t)),
        Test::Greater(p, n) => any(p, &|t| t.parse::<f64>().is_ok_and(|x| x > *n)),
        Test::StartsWith(p, prefix) => any(p, &|t| t.starts_with(prefix)),
        Test::Count(p, n) => resolve(root, scope, p).len() == *n,
        Test::After(p, v) => any(p, &|t| t > *v),
        Test::Not(t) => !holds(t, root, scope),
        Test::And(ts) => ts.iter().all(|t| holds(t, root, scope)),
        Test::Or(ts) => ts.iter().any(|t| holds(t, root, scope)),
    }
}

fn rule_error(
    code: &'static str,
    pointer: String,
    kind: FunctionalErrorCode,
    description: String,
    value: Option<String>,
) -> FunctionalError {
    FunctionalError {
        pointer,
        code: kind,
        reason: code,
        description,
        value,
    }
}

/// Checks the conditions and rules of a message's type on its root element.
pub fn check(root: &Element, message_type: MessageType) -> Vec<FunctionalError> {
    let top = Found {
        element: root,
        pointer: format!("/{}", root.name),
    };
    let mut errors = Vec::new();
    for c in conditions()
        .iter()
        .filter(|c| c.messages.contains(&message_type))
    {
        let scopes = if c.scope.is_empty() {
            vec![Found {
                element: root,
                pointer: top.pointer.clone(),
            }]
        } else {
            all(&top, c.scope)
        };
        for scope in &scopes {
            let Some((_, demands)) = c
                .branches
                .iter()
                .find(|(test, _)| test.as_ref().is_none_or(|t| holds(t, &top, scope)))
            else {
                continue;
            };
            for (target, demand) in demands {
                let (parent_path, name) = target.rsplit_once('/').unwrap_or(("", target));
                let parents = if parent_path.is_empty() {
                    vec![Found {
                        element: scope.element,
                        pointer: scope.pointer.clone(),
                    }]
                } else {
                    all(scope, parent_path)
                };
                match demand {
                    R => {
                        for p in parents.iter().filter(|p| p.element.child(name).is_none()) {
                            errors.push(rule_error(
                                c.code,
                                format!("{}/{name}", p.pointer),
                                FunctionalErrorCode::Missing,
                                format!("{name} is required here ({})", c.code),
                                None,
                            ));
                        }
                    }
                    AtLeastOne => {
                        if !parents.is_empty()
                            && parents.iter().all(|p| p.element.child(name).is_none())
                        {
                            errors.push(rule_error(
                                c.code,
                                format!("{}/{name}", parents[0].pointer),
                                FunctionalErrorCode::Missing,
                                format!("at least one {name} is required ({})", c.code),
                                None,
                            ));
                        }
                    }
                    N => {
                        for p in &parents {
                            for found in children(p.element, name, &p.pointer) {
                                let text = found.element.text.trim();
                                errors.push(rule_error(
                                    c.code,
                                    found.pointer,
                                    FunctionalErrorCode::NotAllowed,
                                    format!("{name} is not allowed here ({})", c.code),
                                    (!text.is_empty()).then(|| text.to_string()),
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    errors.extend(rules(&top, message_type));
    errors
}

fn number(e: &Element) -> Option<f64> {
    e.text.trim().parse().ok()
}

/// The R-codes judged on the message alone.
fn rules(root: &Found<'_>, message_type: MessageType) -> Vec<FunctionalError> {
    let mut errors = Vec::new();
    let departure = DEPARTURE.contains(&message_type);
    let mut error = |code, pointer: String, description: String, value: Option<String>| {
        errors.push(rule_error(
            code,
            pointer,
            FunctionalErrorCode::RuleViolation,
            description,
            value,
        ));
    };
    // R0003: each office of transit is declared once.
    if departure {
        let transit_offices = all(root, "CustomsOfficeOfTransitDeclared/referenceNumber");
        let mut transit: HashSet<String> = HashSet::new();
        for f in transit_offices {
            let office = f.element.text.trim().to_string();
            if !transit.insert(office.clone()) {
                error(
                    "R0003",
                    f.pointer,
                    format!("office of transit {office} is declared twice"),
                    Some(office),
                );
            }
        }
        // R0103: the office of exit for transit is neither an office of transit nor the
        // office of destination.
        let destination: Vec<String> =
            all(root, "CustomsOfficeOfDestinationDeclared/referenceNumber")
                .iter()
                .map(|f| f.element.text.trim().to_string())
                .collect();
        for f in all(
            root,
            "CustomsOfficeOfExitForTransitDeclared/referenceNumber",
        ) {
            let office = f.element.text.trim().to_string();
            if transit.contains(&office) || destination.contains(&office) {
                error(
                    "R0103",
                    f.pointer,
                    format!("office {office} is also an office of transit or of destination"),
                    Some(office),
                );
            }
        }
        // R0849: a TIR operation does not use the reduced data set.
        let tir = all(root, "TransitOperation/declarationType")
            .iter()
            .any(|f| f.element.text.trim() == "TIR");
        for f in all(root, "TransitOperation/reducedDatasetIndicator") {
            if tir && f.element.text.trim() != "0" {
                error(
                    "R0849",
                    f.pointer,
                    "a TIR operation does not use the reduced data set".to_string(),
                    Some(f.element.text.trim().to_string()),
                );
            }
        }
        // R0859: the reduced data set needs the authorisation C524, and only it.
        let reduced = all(root, "TransitOperation/reducedDatasetIndicator")
            .iter()
            .any(|f| f.element.text.trim() == "1");
        let c524: Vec<Found<'_>> = all(root, "Authorisation/type")
            .into_iter()
            .filter(|f| f.element.text.trim() == "C524")
            .collect();
        if reduced && c524.is_empty() {
            error(
                "R0859",
                format!("{}/Authorisation", root.pointer),
                "the reduced data set needs an authorisation of type C524".to_string(),
                None,
            );
        }
        if !reduced {
            for f in c524 {
                error(
                    "R0859",
                    f.pointer,
                    "an authorisation C524 (reduced data set) needs reducedDatasetIndicator 1"
                        .to_string(),
                    Some("C524".to_string()),
                );
            }
        }
        // R0007: declaration goods item numbers are 1, 2, 3 ... throughout the declaration.
        let items = all(
            root,
            "Consignment/HouseConsignment/ConsignmentItem/declarationGoodsItemNumber",
        );
        for (i, f) in items.iter().enumerate() {
            let expected = (i + 1).to_string();
            if f.element.text.trim() != expected {
                error(
                    "R0007",
                    f.pointer.clone(),
                    format!(
                        "declaration goods item numbers run 1, 2, 3 ... through the declaration; expected {expected}"
                    ),
                    Some(f.element.text.trim().to_string()),
                );
            }
        }
        // R0223: net mass at most gross mass.
        for m in all(
            root,
            "Consignment/HouseConsignment/ConsignmentItem/Commodity/GoodsMeasure",
        ) {
            let gross = children(m.element, "grossMass", "")
                .first()
                .and_then(|f| number(f.element));
            let net = children(m.element, "netMass", &m.pointer)
                .into_iter()
                .next();
            if let (Some(gross), Some(net)) = (gross, net)
                && gross > 0.0
                && number(net.element).is_some_and(|n| n > gross)
            {
                error(
                    "R0223",
                    net.pointer,
                    format!("the net mass exceeds the gross mass ({gross})"),
                    Some(net.element.text.trim().to_string()),
                );
            }
        }
        // R0994: the consignment's gross mass is at least the sum of its house consignments'.
        if let Some(total) = all(root, "Consignment/grossMass").first() {
            let sum: f64 = all(root, "Consignment/HouseConsignment/grossMass")
                .iter()
                .filter_map(|f| number(f.element))
                .sum();
            if number(total.element).is_some_and(|t| t + 1e-6 < sum) {
                error(
                    "R0994",
                    total.pointer.clone(),
                    format!("less than the sum of the house consignments' gross masses ({sum})"),
                    Some(total.element.text.trim().to_string()),
                );
            }
        }
        // R0005: an estimated arrival at an office of transit is after the message was
        // prepared.
        if let Some(prepared) = all(root, "preparationDateAndTime")
            .first()
            .map(|f| f.element.text.trim().to_string())
        {
            for f in all(
                root,
                "CustomsOfficeOfTransitDeclared/arrivalDateAndTimeEstimated",
            ) {
                let at = f.element.text.trim().to_string();
                // Both are YYYY-MM-DDThh:mm:ss (the schema's pattern): they compare as text.
                if at <= prepared {
                    error(
                        "R0005",
                        f.pointer,
                        format!(
                            "the estimated arrival is not after the message's preparation ({prepared})"
                        ),
                        Some(at),
                    );
                }
            }
        }
        // R0076 and R0473: identification numbers of these kinds of means of transport are
        // written without lowercase letters.
        for (code, group, kinds) in [
            (
                "R0076",
                "Consignment/ActiveBorderTransportMeans",
                &["10", "21", "30", "40", "41", "80"][..],
            ),
            (
                "R0473",
                "Consignment/DepartureTransportMeans",
                &["10", "20", "21", "30", "31", "40", "41", "80"][..],
            ),
            (
                "R0473",
                "Consignment/HouseConsignment/DepartureTransportMeans",
                &["10", "20", "21", "30", "31", "40", "41", "80"][..],
            ),
        ] {
            for means in all(root, group) {
                let kind = children(means.element, "typeOfIdentification", "")
                    .first()
                    .map(|f| f.element.text.trim().to_string());
                if !kind.is_some_and(|k| kinds.contains(&k.as_str())) {
                    continue;
                }
                for id in children(means.element, "identificationNumber", &means.pointer) {
                    let value = id.element.text.trim().to_string();
                    if value.chars().any(char::is_lowercase) {
                        error(
                            code,
                            id.pointer,
                            "this kind of identification is written without lowercase letters"
                                .to_string(),
                            Some(value),
                        );
                    }
                }
            }
        }
        // B1091: after the transitional period, the type of identification '99' (only an
        // upgraded legacy message could carry it) is not used.
        let final_state = all(root, "preparationDateAndTime")
            .first()
            .is_some_and(|f| f.element.text.trim() > TP_END);
        if final_state {
            for group in [
                "Consignment/DepartureTransportMeans",
                "Consignment/HouseConsignment/DepartureTransportMeans",
                "Consignment/ActiveBorderTransportMeans",
            ] {
                for f in all(root, &format!("{group}/typeOfIdentification")) {
                    if f.element.text.trim() == "99" {
                        error(
                            "B1091",
                            f.pointer,
                            "type of identification 99 is not used after the transitional period"
                                .to_string(),
                            Some("99".to_string()),
                        );
                    }
                }
            }
        }
        // R0318: a GRN has 24 characters for guarantee type 4, 17 otherwise.
        for g in all(root, "Guarantee") {
            let individual = children(g.element, "guaranteeType", "")
                .first()
                .is_some_and(|f| f.element.text.trim() == "4");
            let expected = if individual { 24 } else { 17 };
            for grn in all(&g, "GuaranteeReference/GRN") {
                let value = grn.element.text.trim().to_string();
                if value.chars().count() != expected {
                    error(
                        "R0318",
                        grn.pointer,
                        format!("a GRN of this guarantee type has {expected} characters"),
                        Some(value),
                    );
                }
            }
        }
        // R0789 and R0855: how many means of transport a declaration may name.
        let transit_declared = !all(root, "CustomsOfficeOfTransitDeclared").is_empty();
        let active = all(root, "Consignment/ActiveBorderTransportMeans");
        if !transit_declared && active.len() > 1 {
            error(
                "R0789",
                active[1].pointer.clone(),
                "without offices of transit, one active border transport means at most".to_string(),
                None,
            );
        }
        let inland = all(root, "Consignment/inlandModeOfTransport")
            .first()
            .map(|f| f.element.text.trim().to_string());
        let most = match inland.as_deref() {
            Some("3") => Some(3),
            Some("2") => Some(999),
            Some(_) => Some(1),
            None => None,
        };
        if let Some(most) = most {
            for group in [
                "Consignment/DepartureTransportMeans",
                "Consignment/HouseConsignment",
            ] {
                let scopes = if group.ends_with("HouseConsignment") {
                    all(root, group)
                } else {
                    vec![Found {
                        element: root.element,
                        pointer: root.pointer.clone(),
                    }]
                };
                for scope in scopes {
                    let path = if group.ends_with("HouseConsignment") {
                        "DepartureTransportMeans"
                    } else {
                        group
                    };
                    let means = all(&scope, path);
                    if means.len() > most {
                        error(
                            "R0855",
                            means[most].pointer.clone(),
                            format!(
                                "inland mode of transport {}: at most {most} departure transport means",
                                inland.as_deref().unwrap_or_default()
                            ),
                            None,
                        );
                    }
                }
            }
        }
        // R0983: a house consignment weighs at least its items.
        for house in all(root, "Consignment/HouseConsignment") {
            let items: f64 = all(&house, "ConsignmentItem/Commodity/GoodsMeasure/grossMass")
                .iter()
                .filter_map(|f| number(f.element))
                .sum();
            if let Some(gross) = children(house.element, "grossMass", &house.pointer)
                .into_iter()
                .next()
                && number(gross.element).is_some_and(|g| g + 1e-6 < items)
            {
                error(
                    "R0983",
                    gross.pointer,
                    format!("less than the sum of its items' gross masses ({items})"),
                    Some(gross.element.text.trim().to_string()),
                );
            }
        }
        // R3061: the code 30600 is not given per consignment item.
        for f in all(
            root,
            "Consignment/HouseConsignment/ConsignmentItem/AdditionalInformation/code",
        ) {
            if f.element.text.trim() == "30600" {
                error(
                    "R3061",
                    f.pointer,
                    "additional information 30600 is not given per consignment item".to_string(),
                    Some("30600".to_string()),
                );
            }
        }
    }
    // R0987 and R0988: the sequence numbers of a data group's iterations (and the goods item
    // numbers of a house consignment's items) are unique and run 1 to n. The order of the
    // iterations in the document is not judged: offices of transit are put in route order by
    // their sequence numbers.
    // (A CC044C numbers its discrepancies as the declaration did: R0054.)
    if message_type != MessageType::CC044C {
        numbering(root, "sequenceNumber", "R0987", &mut error);
    }
    if departure {
        for house in all(root, "Consignment/HouseConsignment") {
            let numbers: Vec<Found<'_>> = all(&house, "ConsignmentItem/goodsItemNumber");
            check_numbering(&numbers, "R0988", &mut error);
        }
    }
    // R0106: the number of seals is the highest seal sequence number; R0107: each seal
    // identifier is unique in the whole message; R0448: no seals without a container is '0'.
    let mut identifiers = HashSet::new();
    for group in [
        "Consignment/TransportEquipment",
        "Consignment/Incident/TransportEquipment",
    ] {
        for te in all(root, group) {
            let seals = all(&te, "Seal");
            if let Some(declared) = children(te.element, "numberOfSeals", &te.pointer)
                .into_iter()
                .next()
            {
                let highest = seals
                    .iter()
                    .flat_map(|s| children(s.element, "sequenceNumber", ""))
                    .filter_map(|f| number(f.element))
                    .fold(0.0, f64::max);
                if !seals.is_empty() && number(declared.element) != Some(highest) {
                    error(
                        "R0106",
                        declared.pointer.clone(),
                        format!(
                            "the number of seals must be the highest seal sequence number ({highest})"
                        ),
                        Some(declared.element.text.trim().to_string()),
                    );
                }
                if message_type != MessageType::CC044C
                    && children(te.element, "containerIdentificationNumber", "").is_empty()
                    && declared.element.text.trim() == "0"
                {
                    error("R0448", declared.pointer, "without a container identification number, the number of seals cannot be 0".to_string(), Some("0".to_string()));
                }
            }
            for s in seals {
                for id in children(s.element, "identifier", &s.pointer) {
                    let value = id.element.text.trim().to_string();
                    if !identifiers.insert(value.clone()) {
                        error(
                            "R0107",
                            id.pointer,
                            format!("seal identifier {value} appears twice in the message"),
                            Some(value),
                        );
                    }
                }
            }
        }
    }
    // G0017: seals not in good state are an unloading remark, so the CC044C is not conform.
    if message_type == MessageType::CC044C {
        let text = |path: &str| {
            all(root, path)
                .first()
                .map(|f| f.element.text.trim().to_string())
        };
        let conform = text("UnloadingRemark/conform");
        let seals = text("UnloadingRemark/stateOfSeals");
        if conform.as_deref() == Some("1") && seals.as_deref() == Some("0") {
            error(
                "G0017",
                format!("{}/UnloadingRemark/conform", root.pointer),
                "seals not in good state (stateOfSeals 0) are an unloading remark: conform must be 0".to_string(),
                Some("1".to_string()),
            );
        }
    }
    // R0028: container identification numbers carry an ISO 6346 check digit.
    if message_type == MessageType::CC007C {
        for f in all(
            root,
            "Consignment/Incident/TransportEquipment/containerIdentificationNumber",
        )
        .into_iter()
        .chain(all(
            root,
            "Consignment/Incident/Transhipment/TransportMeans/containerIdentificationNumber",
        )) {
            let value = f.element.text.trim().to_string();
            if !iso6346_valid(&value) {
                error(
                    "R0028",
                    f.pointer,
                    "not a container number with a valid ISO 6346 check digit".to_string(),
                    Some(value),
                );
            }
        }
    }
    errors
}

/// R0987 over every data group under `e`: the iterations of each repeated group carry the
/// numbers 1 to n, once each.
fn numbering(
    e: &Found<'_>,
    field: &str,
    code: &'static str,
    error: &mut impl FnMut(&'static str, String, String, Option<String>),
) {
    let mut pointer = e.pointer.clone();
    number_groups(e.element, &mut pointer, field, code, error);
}

/// [`numbering`] over one element's children, then theirs; the pointer is one buffer, grown
/// and cut back on the way, and copied only for an error.
fn number_groups(
    e: &Element,
    pointer: &mut String,
    field: &str,
    code: &'static str,
    error: &mut impl FnMut(&'static str, String, String, Option<String>),
) {
    let mut names: Vec<&str> = e.children.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let group: Vec<&Element> = e.children.iter().filter(|c| c.name == name).collect();
        let many = group.len() > 1;
        let numbers: Vec<Option<&Element>> = group.iter().map(|g| g.child(field)).collect();
        let n = numbers.iter().flatten().count();
        let mut seen = HashSet::new();
        for (i, g) in group.iter().enumerate() {
            let len = pointer.len();
            pointer.push('/');
            pointer.push_str(name);
            if many {
                pointer.push_str(&format!("[{}]", i + 1));
            }
            if let Some(number) = numbers[i] {
                let text = number.text.trim();
                if !numbered(text, n, &mut seen) {
                    error(
                        code,
                        format!("{pointer}/{field}"),
                        format!("the {n} iterations are numbered 1 to {n}, each once"),
                        Some(text.to_string()),
                    );
                }
            }
            number_groups(g, pointer, field, code, error);
            pointer.truncate(len);
        }
    }
}

/// R0987 and R0988 for one number of n: 1 to n, and not seen before.
fn numbered(text: &str, n: usize, seen: &mut HashSet<usize>) -> bool {
    text.parse::<usize>()
        .is_ok_and(|k| (1..=n).contains(&k) && seen.insert(k))
}

fn check_numbering(
    numbers: &[Found<'_>],
    code: &'static str,
    error: &mut impl FnMut(&'static str, String, String, Option<String>),
) {
    let n = numbers.len();
    let mut seen = HashSet::new();
    for f in numbers {
        let text = f.element.text.trim().to_string();
        if !numbered(&text, n, &mut seen) {
            error(
                code,
                f.pointer.clone(),
                format!("the {n} iterations are numbered 1 to {n}, each once"),
                Some(text),
            );
        }
    }
}

/// ISO 6346: four letters (owner and category), six digits, a check digit.
pub fn iso6346_valid(id: &str) -> bool {
    let b = id.as_bytes();
    if b.len() != 11
        || !b[..4].iter().all(u8::is_ascii_uppercase)
        || !b[4..].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let value = |c: u8| -> u64 {
        if c.is_ascii_digit() {
            u64::from(c - b'0')
        } else {
            let mut v = 10;
            for _ in b'A'..c {
                v += 1;
                if v % 11 == 0 {
                    v += 1;
                }
            }
            v
        }
    };
    let sum: u64 = b[..10]
        .iter()
        .enumerate()
        .map(|(i, c)| value(*c) << i)
        .sum();
    u64::from(b[10] - b'0') == sum % 11 % 10
}

/// A CC044C judged against the declaration it answers (the CC015C, or the CC013C that last
/// amended it; a CC043C unloading permission repeats its seals):
/// - C0440: when the declaration's transport equipment is sealed (a number of seals not 0),
///   `stateOfSeals` is required; otherwise it is not allowed;
/// - R0054: a discrepancy in transport equipment or a seal is reported under the sequence
///   number the declaration gave it, and a new one under the next number after the
///   declaration's last; a seal reported conform-less under a declared number must carry a
///   different identifier from the declared one to be a discrepancy at all.
pub fn against_declaration(cc044c: &Element, declaration: &Element) -> Vec<FunctionalError> {
    let message = Found {
        element: cc044c,
        pointer: format!("/{}", cc044c.name),
    };
    let declared = Found {
        element: declaration,
        pointer: format!("/{}", declaration.name),
    };
    let mut errors = Vec::new();
    let sealed = all(&declared, "Consignment/TransportEquipment/numberOfSeals")
        .iter()
        .chain(
            all(
                &declared,
                "Consignment/Incident/TransportEquipment/numberOfSeals",
            )
            .iter(),
        )
        .any(|f| number(f.element).is_some_and(|n| n != 0.0));
    let state = all(&message, "UnloadingRemark/stateOfSeals");
    match (sealed, state.first()) {
        (true, None) => errors.push(rule_error(
            "C0440",
            format!("{}/UnloadingRemark/stateOfSeals", message.pointer),
            FunctionalErrorCode::Missing,
            "the declared transport equipment is sealed: say the state of the seals".to_string(),
            None,
        )),
        (false, Some(f)) => errors.push(rule_error(
            "C0440",
            f.pointer.clone(),
            FunctionalErrorCode::NotAllowed,
            "no seals were declared, so there is no state of seals to report".to_string(),
            Some(f.element.text.trim().to_string()),
        )),
        _ => {}
    }
    // R0054 on transport equipment and seals.
    let sequence = |e: &Element| -> Option<u64> {
        children(e, "sequenceNumber", "")
            .first()
            .and_then(|f| f.element.text.trim().parse().ok())
    };
    let declared_equipment: Vec<Found<'_>> = all(&declared, "Consignment/TransportEquipment");
    let last_equipment = declared_equipment
        .iter()
        .filter_map(|f| sequence(f.element))
        .max()
        .unwrap_or(0);
    let mut next_new = last_equipment + 1;
    let mut seen = HashSet::new();
    for te in all(&message, "Consignment/TransportEquipment") {
        let Some(n) = sequence(te.element) else {
            continue;
        };
        let pointer = format!("{}/sequenceNumber", te.pointer);
        if !seen.insert(n) {
            errors.push(rule_error(
                "R0054",
                pointer,
                FunctionalErrorCode::RuleViolation,
                format!("transport equipment {n} is reported twice"),
                Some(n.to_string()),
            ));
            continue;
        }
        let declared_te = declared_equipment
            .iter()
            .find(|d| sequence(d.element) == Some(n));
        match declared_te {
            Some(d) => {
                // Seals of declared equipment: a declared seal number, or the next new one.
                let declared_seals: Vec<(u64, String)> = all(d, "Seal")
                    .iter()
                    .filter_map(|s| {
                        let id = children(s.element, "identifier", "").first()?.element.text.trim().to_string();
                        Some((sequence(s.element)?, id))
                    })
                    .collect();
                let mut next_seal = declared_seals.iter().map(|(n, _)| *n).max().unwrap_or(0) + 1;
                for s in all(&te, "Seal") {
                    let Some(k) = sequence(s.element) else { continue };
                    let id = children(s.element, "identifier", "").first().map(|f| f.element.text.trim().to_string()).unwrap_or_default();
                    match declared_seals.iter().find(|(m, _)| *m == k) {
                        Some((_, declared_id)) if *declared_id == id => errors.push(rule_error(
                            "R0054",
                            format!("{}/identifier", s.pointer),
                            FunctionalErrorCode::RuleViolation,
                            format!("seal {k} is reported as a discrepancy but has the declared identifier {declared_id}"),
                            Some(id),
                        )),
                        Some(_) => {}
                        None if k == next_seal => next_seal += 1,
                        None => errors.push(rule_error(
                            "R0054",
                            format!("{}/sequenceNumber", s.pointer),
                            FunctionalErrorCode::RuleViolation,
                            format!("seal {k} was not declared; a new seal is numbered {next_seal}"),
                            Some(k.to_string()),
                        )),
                    }
                }
            }
            None if n == next_new => next_new += 1,
            None => errors.push(rule_error(
                "R0054",
                pointer,
                FunctionalErrorCode::RuleViolation,
                format!("transport equipment {n} was not declared (the declaration has {last_equipment}); new equipment is numbered {next_new}"),
                Some(n.to_string()),
            )),
        }
    }
    errors
}
