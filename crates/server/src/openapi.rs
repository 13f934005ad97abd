//! The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.

use serde_json::{Value, json};

pub fn document() -> Value {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let errors = |codes: &[(&str, &str)]| {
        let mut m = serde_json::Map::new();
        for (code, what) in codes {
            m.insert(
                code.to_string(),
                json!({"description": what, "content": {"application/json": {"schema": error}}}),
            );
        }
        m
    };
    let movement_response = |what: &str| {
        json!({"description": what, "content": {"application/json": {"schema": {
        "type": "object", "required": ["movement"], "properties": {"movement": {"$ref": "#/components/schemas/Movement"}}}}}})
    };
    let page_params = json!([
        {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}, "description": "Cursor: the next_after of the previous page."},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
    ]);
    let board_params = json!([
        {"name": "after", "in": "query", "schema": {"type": "integer"}, "description": "Cursor: the next_after of the previous page."},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
        {"name": "status", "in": "query", "schema": {"type": "string"}, "description": "A movement status, e.g. released_for_transit"},
        {"name": "office", "in": "query", "schema": {"$ref": "#/components/schemas/Office"}, "description": "An office on the route"},
        {"name": "country", "in": "query", "schema": {"type": "string", "pattern": "^[A-Z]{2}$"}, "description": "A country on the route"},
        {"name": "lodged_from", "in": "query", "schema": {"type": "string"}, "description": "YYYY-MM-DD or RFC 3339; inclusive"},
        {"name": "lodged_to", "in": "query", "schema": {"type": "string"}, "description": "YYYY-MM-DD or RFC 3339; exclusive"},
        {"name": "order", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc"], "default": "asc"}}
    ]);
    let idempotency = json!({"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 128},
        "description": "Repeating a write with the same key returns the first answer and writes nothing new."});
    let mrn_param = json!({"name": "mrn", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{2}[A-Z]{2}[A-Z0-9]{12}[J-M][0-9]$"}});

    let mut assess_responses = errors(&[
        ("400", "Malformed body"),
        ("401", "Missing, unknown or revoked API key"),
        ("403", "The coordinator (no risk configuration of its own)"),
        ("413", "Body over 8 MiB"),
        ("422", "No declarations, or more than 10,000"),
        (
            "503",
            "The administration's risk configuration in force does not compile, or the store is unavailable",
        ),
    ]);
    assess_responses.insert(
        "200".into(),
        json!({"description": "The assessments, in the order of the batch", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "country": {"type": "string"},
            "versions": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "Version of each file of the configuration in force"},
            "assessments": {"type": "array", "items": {"type": "object", "properties": {"index": {"type": "integer"}, "assessment": {"$ref": "#/components/schemas/Assessment"}}}},
            "problems": {"type": "array", "items": {"type": "object", "properties": {"index": {"type": "integer"}, "field": {"type": "string"}, "found": {"type": "string"}, "expected": {"type": "string"}}}}}}}}}),
    );
    let mut put_file_responses = errors(&[
        (
            "400",
            "A file name outside the pattern, or a body that is not UTF-8",
        ),
        ("401", "Missing, unknown or revoked API key"),
        ("403", "The coordinator"),
        ("413", "Body over 64 MiB"),
        (
            "422",
            "The configuration would not compile with this file: the message names the file, line and column",
        ),
    ]);
    put_file_responses.insert(
        "201".into(),
        json!({"description": "Published", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "country": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "integer"}}}}}}),
    );
    let mut lodge_responses = errors(&[
        ("400", "Malformed body or office reference"),
        ("401", "Missing, unknown or revoked API key"),
        ("403", "The office of departure is not the caller's"),
        ("409", "The LRN was already lodged"),
        ("413", "Body larger than 256 KiB"),
        ("415", "Neither application/json nor application/xml"),
        (
            "422",
            "Invalid route (more than 9 offices of transit, no known zone)",
        ),
        ("503", "The store could not commit; nothing was written"),
    ]);
    let ncts = |what: &str| json!({"description": what, "content": {"application/xml": {"schema": {"type": "string"}}}});
    lodge_responses.insert(
        "201".into(),
        json!({"description": "Accepted, MRN allocated; durable. JSON: the movement. XML: CC028C",
            "content": {
                "application/json": {"schema": {"type": "object", "required": ["movement"], "properties": {"movement": {"$ref": "#/components/schemas/Movement"}}}},
                "application/xml": {"schema": {"type": "string", "description": "CC028C"}}}}),
    );
    let mut message_responses = errors(&[
        ("401", "Missing, unknown or revoked API key"),
        ("403", "The caller is the coordinator"),
        ("413", "Body larger than 256 KiB"),
        ("415", "Not application/xml"),
        ("503", "The store could not commit; nothing was written"),
    ]);
    for (code, what) in [
        (
            "200",
            "CC013C accepted: CC004C; CC014C before release: CC009C (granted)",
        ),
        (
            "400",
            "Not well-formed or not schema-valid: CC917C (line, column, XPath, XML error code), or a CC015C posted here (JSON error)",
        ),
        ("403", "The office is not the caller's: CC056C / CC057C"),
        ("404", "Unknown MRN: CC056C / CC057C with error code 90"),
        (
            "409",
            "Out of sequence for the movement: CC056C / CC057C with error code 92",
        ),
        (
            "422",
            "A business rule is broken: CC056C / CC057C naming the elements",
        ),
    ] {
        message_responses.insert(code.into(), ncts(what));
    }
    message_responses.insert(
        "202".into(),
        json!({"description": "CC007C or CC044C recorded; durable. The office of destination answers later (unloading permission, goods release). CC014C after release: recorded; the office of departure decides, and the CC009C is then at /invalidation"}),
    );
    let mut event_responses = errors(&[
        ("400", "Malformed body, office reference or zone"),
        ("401", "Missing, unknown or revoked API key"),
        (
            "403",
            "The office is not the caller's, or the caller is the coordinator",
        ),
        ("404", "No movement with this MRN on the caller's routes"),
        (
            "409",
            "The lifecycle does not allow this event now (also: an enquiry before the limit date has passed)",
        ),
        ("413", "Body larger than 256 KiB"),
        ("415", "Not application/json"),
        (
            "422",
            "A text breaks the text rule, the time is ahead of the service's clock, or the Idempotency-Key was used for another request",
        ),
        (
            "500",
            "The stored movement is not readable (only this movement is affected)",
        ),
        ("503", "The store could not commit; nothing was written"),
    ]);
    event_responses.insert("200".into(), movement_response("Recorded; durable"));
    let mut get_responses = errors(&[
        ("401", "Missing, unknown or revoked API key"),
        ("404", "No movement with this MRN on the caller's routes"),
    ]);
    get_responses.insert(
        "200".into(),
        json!({"description": "The movement with the first 100 events of its history", "content": {"application/json": {"schema": {
        "type": "object", "required": ["movement"], "properties": {"movement": {"$ref": "#/components/schemas/Movement"},
        "events_next_after": {"type": ["integer", "null"], "description": "Cursor of the rest of the history (GET .../events?after=)"}}}}}}),
    );
    let history_params = json!([
        mrn_param,
        {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": -1, "default": -1}, "description": "Sequence number of the last event seen (-1: from the start)"},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
    ]);

    let consignment_schema = json!({"type": "object", "additionalProperties": false, "description": "The goods of a declaration, for risk assessment by every administration on the route (README: Risk on the route)", "properties": {
                    "holder": {"type": "string"}, "consignor": {"type": "string"}, "consignee": {"type": "string"},
                    "country_of_dispatch": {"type": "string", "pattern": "^[A-Z]{2}$"}, "country_of_destination": {"type": "string", "pattern": "^[A-Z]{2}$"},
                    "transport_mode": {"type": "string", "description": "Mode of transport at the border (NCTS code)"},
                    "transport_nationality": {"type": "string", "pattern": "^[A-Z]{2}$"}, "transport_identification": {"type": "string"},
                    "seals": {"type": "integer", "minimum": 0}, "guarantee_type": {"type": "string"}, "previous_document": {"type": "string"},
                    "items": {"type": "array", "maxItems": 999, "items": {"type": "object", "required": ["description"], "additionalProperties": false, "properties": {
                        "commodity_code": {"type": "string", "pattern": "^[0-9]{2,10}$"}, "description": {"type": "string", "maxLength": 512},
                        "gross_mass_kg": {"type": "number", "minimum": 0}, "net_mass_kg": {"type": "number", "minimum": 0},
                        "supplementary_units": {"type": "number", "minimum": 0}, "value": {"type": "number", "minimum": 0},
                        "country_of_origin": {"type": "string", "pattern": "^[A-Z]{2}$"}, "country_of_dispatch": {"type": "string", "pattern": "^[A-Z]{2}$"},
                        "country_of_destination": {"type": "string", "pattern": "^[A-Z]{2}$"}, "consignee": {"type": "string"}, "consignor": {"type": "string"},
                        "previous_document": {"type": "string"}}}}}});
    let route_assessment_schema = json!({"type": "object", "description": "One administration's assessment of a movement before arrival", "properties": {
                    "id": {"type": "integer"}, "mrn": {"type": "string"}, "country": {"type": "string"}, "office": {"$ref": "#/components/schemas/Office"},
                    "trigger": {"type": "string", "enum": ["lodgement", "amendment", "anticipated_transit_record"]},
                    "assessed_at": {"type": "string", "format": "date-time"},
                    "versions": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "lane": {"type": "string", "enum": ["green", "yellow", "red", "blue"], "description": "The most severe of the items' lanes"},
                    "score": {"type": ["number", "null"], "description": "The highest item score"},
                    "hits": {"type": "array", "items": {"type": "string"}},
                    "exploration_share": {"type": "number"}, "explored": {"type": "boolean"},
                    "propensity": {"type": "number", "description": "1 - product of (1 - item propensity)"},
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Assessment"}},
                    "error": {"type": "string", "description": "Why the movement could not be assessed (lane unassessed)"}}});
    let control_result_schema = json!({"type": "object", "properties": {
                    "office": {"$ref": "#/components/schemas/Office"}, "at": {"type": "string", "format": "date-time"},
                    "lane_applied": {"type": "string"}, "inspected": {"type": "boolean"}, "finding": {"type": "string", "enum": ["none", "minor", "major"]},
                    "finding_code": {"type": "string"}, "revenue_recovered": {"type": "number"}, "seizure": {"type": "boolean"}, "remarks": {"type": "string"},
                    "propensity": {"type": "number", "description": "Of the assessment it followed"}, "assessment": {"type": "integer"}}});
    let movement_risk_path = json!({"get": {
        "summary": "The caller's administration's risk view of a movement: its goods, its own assessments before arrival (at lodgement, amendment, anticipated transit record) and its own control results. Confidential: never another administration's.",
        "parameters": [mrn_param],
        "responses": {
            "200": {"description": "The view", "content": {"application/json": {"schema": {"type": "object", "properties": {
                "mrn": {"type": "string"}, "country": {"type": "string"},
                "consignment": {"oneOf": [{"$ref": "#/components/schemas/Consignment"}, {"type": "null"}]},
                "assessments": {"type": "array", "items": {"$ref": "#/components/schemas/RouteAssessment"}},
                "control_results": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "recorded_by": {"type": "string"}, "recorded_at": {"type": "string", "format": "date-time"},
                    "result": {"$ref": "#/components/schemas/ControlResult"}}}}}}}}},
            "401": {"description": "Missing, unknown or revoked API key", "content": {"application/json": {"schema": error}}},
            "403": {"description": "The coordinator (risk results belong to administrations)", "content": {"application/json": {"schema": error}}},
            "404": {"description": "No movement with this MRN on the caller's routes", "content": {"application/json": {"schema": error}}}
        }
    }});
    let controls_path = json!({"post": {
        "summary": "Record what a control at one of the caller's offices on the route found; confidential to the caller's administration. The service adds the propensity of its latest assessment.",
        "parameters": [mrn_param, idempotency],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["office", "lane_applied", "inspected", "finding"], "additionalProperties": false, "properties": {
            "office": {"$ref": "#/components/schemas/Office"}, "at": {"type": "string", "format": "date-time", "description": "default: now"},
            "lane_applied": {"type": "string", "enum": ["green", "yellow", "red", "blue"]}, "inspected": {"type": "boolean"},
            "finding": {"type": "string", "enum": ["none", "minor", "major"]}, "finding_code": {"type": "string", "maxLength": 512},
            "revenue_recovered": {"type": "number", "minimum": 0}, "seizure": {"type": "boolean", "default": false}, "remarks": {"type": "string", "maxLength": 512}}}}}},
        "responses": {
            "201": {"description": "Recorded; durable", "content": {"application/json": {"schema": {"type": "object", "properties": {"control_result": {"type": "object", "properties": {
                "id": {"type": "integer"}, "result": {"$ref": "#/components/schemas/ControlResult"}}}}}}}},
            "400": {"description": "Malformed body or office reference", "content": {"application/json": {"schema": error}}},
            "403": {"description": "Not the caller's office, or the coordinator", "content": {"application/json": {"schema": error}}},
            "404": {"description": "No movement with this MRN on the caller's routes", "content": {"application/json": {"schema": error}}},
            "422": {"description": "A finding or seizure without an inspection, an office off the route, a negative amount, a refused character, a time ahead of the service's clock", "content": {"application/json": {"schema": error}}}
        }
    }});

    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "SmartBorder transit single window",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Lodge a transit declaration once; every administration on the route sees it, records its own offices' events, and receives pre-arrival information. Lifecycle and messages after NCTS Phase 5."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI document"}}}},
            "/api/v1/movements": {
                "post": {
                    "summary": "Lodge a transit declaration (IE015) as JSON or as an NCTS CC015C; answered with the accepted movement and its MRN (IE028), or with CC028C, CC056C or CC917C for XML",
                    "parameters": [idempotency],
                    "requestBody": {"required": true, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Lodgement"}},
                        "application/xml": {"schema": {"type": "string", "description": "An NCTS Phase 5 CC015C (schema version 51.8.6)"}}}},
                    "responses": lodge_responses
                },
                "get": {
                    "summary": "The movements board: movements on the caller's routes (all for the coordinator), in lodging order, filtered",
                    "parameters": board_params,
                    "responses": {"200": {"description": "A page", "content": {"application/json": {"schema": {"type": "object", "properties": {
                        "movements": {"type": "array", "items": {"$ref": "#/components/schemas/Movement"}},
                        "next_after": {"type": ["integer", "null"]}}}}}}, "401": {"description": "Missing, unknown or revoked API key"}}
                }
            },
            "/api/v1/movements/{mrn}": {"get": {"summary": "One movement", "parameters": [mrn_param], "responses": get_responses}},
            "/api/v1/movements/{mrn}/events": {
                "post": {
                    "summary": "Record an event at one of the caller's offices",
                    "parameters": [mrn_param, idempotency],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventRequest"}}}},
                    "responses": event_responses
                },
                "get": {
                    "summary": "A page of the movement's history, oldest first, each event with its seq",
                    "parameters": history_params,
                    "responses": {"200": {"description": "A page", "content": {"application/json": {"schema": {"type": "object", "properties": {
                        "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                        "next_after": {"type": ["integer", "null"]}}}}}},
                        "401": {"description": "Missing, unknown or revoked API key", "content": {"application/json": {"schema": error}}},
                        "404": {"description": "No movement with this MRN on the caller's routes", "content": {"application/json": {"schema": error}}}}
                }
            },
            "/api/v1/movements/{mrn}/invalidation": {"get": {
                "summary": "The invalidation decision (CC009C) on the latest CC014C made after release, once the office of departure has decided",
                "parameters": [mrn_param],
                "responses": {
                    "200": ncts("CC009C"),
                    "401": {"description": "Missing, unknown or revoked API key", "content": {"application/json": {"schema": error}}},
                    "404": {"description": "No movement with this MRN on the caller's routes", "content": {"application/json": {"schema": error}}},
                    "409": {"description": "Not decided yet, never requested after release, or requested as JSON", "content": {"application/json": {"schema": error}}}
                }
            }},
            "/api/v1/movements/{mrn}/messages": {"post": {
                "summary": "Send an NCTS Phase 5 message about a movement: CC013C (amendment), CC014C (invalidation request), CC007C (arrival notification), CC044C (unloading remarks)",
                "parameters": [mrn_param, idempotency],
                "requestBody": {"required": true, "content": {"application/xml": {"schema": {"type": "string"}}}},
                "responses": message_responses
            }},
            "/api/v1/movements/{mrn}/release": {"get": {
                "summary": "The release for transit (CC029C) of a movement lodged as a CC015C and released by its office of departure: the declaration repeated with the MRN and the dates of acceptance and release",
                "parameters": [mrn_param],
                "responses": {
                    "200": ncts("CC029C"),
                    "401": {"description": "Missing, unknown or revoked API key", "content": {"application/json": {"schema": error}}},
                    "404": {"description": "No movement with this MRN on the caller's routes", "content": {"application/json": {"schema": error}}},
                    "409": {"description": "Not released yet, lodged as JSON, or the declaration lacks what a release must state (named)", "content": {"application/json": {"schema": error}}}
                }
            }},
            "/api/v1/notifications": {"get": {
                "summary": "The caller's notification feed (pre-arrival information and events along its routes), at least once, in order per movement",
                "parameters": page_params,
                "responses": {"200": {"description": "A page", "content": {"application/json": {"schema": {"type": "object", "properties": {
                    "notifications": {"type": "array", "items": {"$ref": "#/components/schemas/Notification"}},
                    "next_after": {"type": "integer"}}}}}}, "401": {"description": "Missing, unknown or revoked API key"}}
            }},
            "/api/v1/risk/assess": {"post": {
                "summary": "Assess a batch of declarations (1 to 10,000; body at most 8 MiB) with the caller's own administration's risk configuration in force: profiles hit, model score, lane of its selectivity plan (each declaration decided on its own), selection reasons, the features that moved the score, the propensity of a control. Declarations that cannot be read are listed in problems by index and field; the others are assessed. Every answer names the versions of the files that produced it.",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["declarations"], "additionalProperties": false, "properties": {
                    "declarations": {"type": "array", "minItems": 1, "maxItems": 10000, "items": {"$ref": "#/components/schemas/Declaration"}}}}}}},
                "responses": assess_responses
            }},
            "/api/v1/risk/files": {"get": {
                "summary": "The files of the caller's administration's risk configuration in force, with their versions",
                "responses": {"200": {"description": "Versions by file name", "content": {"application/json": {"schema": {"type": "object", "properties": {
                    "country": {"type": "string"}, "versions": {"type": "object", "additionalProperties": {"type": "integer"}}}}}}},
                    "401": {"description": "Missing, unknown or revoked API key"}, "403": {"description": "The coordinator"}}
            }},
            "/api/v1/risk/files/{name}": {"put": {
                "summary": "Publish a new version of one file of the caller's risk configuration (profiles.risk, a bands or list file it names, selectivity.toml, model.json, anomaly.json, model-card.json), audited; refused unless the configuration still compiles with it. The live API swaps it in within seconds.",
                "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$"}}],
                "requestBody": {"required": true, "content": {"text/plain": {"schema": {"type": "string", "maxLength": 67108864}}}},
                "responses": put_file_responses
            }}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "API key of an administration (smartborder keys create)"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["status", "code", "message"], "properties": {
                    "status": {"type": "integer"}, "code": {"type": "string"}, "message": {"type": "string"}}}}},
                "Office": {"type": "string", "pattern": "^[A-Z]{2}[A-Z0-9]{6}$", "description": "Customs office reference number"},
                "Declaration": {"type": "object", "required": ["declaration_id", "date", "office", "hs_code"], "additionalProperties": false,
                    "description": "A declaration, with the field names of a declaration mapping's roles; amounts are numbers at or above 0",
                    "properties": {
                        "declaration_id": {"type": "string", "maxLength": 128}, "date": {"type": "string", "description": "YYYY-MM-DD (or an instant starting with it)"},
                        "office": {"type": "string"}, "hs_code": {"type": "string", "description": "2 to 14 digits; dots and spaces are dropped"},
                        "regime": {"type": "string"}, "declarant": {"type": "string"}, "importer": {"type": "string"}, "seller": {"type": "string"},
                        "origin": {"type": "string"}, "departure": {"type": "string"},
                        "quantity": {"type": "number", "minimum": 0}, "mass_kg": {"type": "number", "minimum": 0}, "value": {"type": "number", "minimum": 0},
                        "fob_value": {"type": "number", "minimum": 0}, "taxes": {"type": "number", "minimum": 0}, "tax_rate_percent": {"type": "number", "minimum": 0},
                        "attributes": {"type": "object", "additionalProperties": {"type": "string"}, "description": "By the attribute names of the declaration mapping"}}},
                "Assessment": {"type": "object", "properties": {
                    "declaration_id": {"type": "string"}, "lane": {"type": "string", "enum": ["green", "yellow", "red", "blue"]}, "review": {"type": "boolean"},
                    "score": {"type": ["number", "null"], "description": "The model's probability of non-compliance"},
                    "hits": {"type": "array", "items": {"type": "string"}, "description": "Profiles that hit"},
                    "selection": {"type": "array", "items": {"type": "object"}, "description": "What put the declaration in its lane: profile, random, exploration, top_up (score at or above the plan's threshold)"},
                    "reasons": {"type": "array", "items": {"type": "object", "properties": {"feature": {"type": "string"}, "log_odds": {"type": "number"}}}},
                    "propensity": {"type": "number", "description": "Probability of a control under the plan"}}},
                "Lodgement": {"type": "object", "required": ["lrn", "route"], "additionalProperties": false, "properties": {
                    "lrn": {"type": "string", "pattern": "^[A-Za-z0-9._/-]{1,22}$"},
                    "consignment": {"$ref": "#/components/schemas/Consignment"},
                    "route": {"type": "object", "required": ["departure", "destination"], "additionalProperties": false, "properties": {
                        "departure": {"$ref": "#/components/schemas/Office"},
                        "transit": {"type": "array", "maxItems": 9, "items": {"type": "object", "required": ["office"], "additionalProperties": false, "properties": {
                            "office": {"$ref": "#/components/schemas/Office"}, "estimated_arrival": {"type": "string", "format": "date-time"}}}},
                        "destination": {"$ref": "#/components/schemas/Office"}}}}},
                "EventRequest": {"type": "object", "required": ["type", "office"], "properties": {
                    "type": {"type": "string", "enum": ["amended", "rejected", "not_released", "released_for_transit", "invalidated", "anticipated_transit_record",
                        "arrival_at_transit", "frontier_crossed", "incident", "arrival_at_destination", "unloading_remarks", "goods_released", "written_off",
                        "enquiry_opened", "recovery_started", "invalidation_requested", "invalidation_decided"]},
                    "office": {"$ref": "#/components/schemas/Office"},
                    "at": {"type": "string", "format": "date-time", "description": "Instant of the event (default: now)"},
                    "zone": {"type": "string", "description": "IANA zone of the office (default: the country's zone)"},
                    "reason": {"type": "string", "maxLength": 512, "description": "rejected, not_released, invalidated, invalidation_requested, invalidation_decided"},
                    "accepted": {"type": "boolean", "description": "invalidation_decided"},
                    "initiated_by_customs": {"type": "boolean", "description": "invalidation_requested"},
                    "limit_date": {"type": "string", "format": "date-time", "description": "released_for_transit"},
                    "description": {"type": "string", "maxLength": 512, "description": "incident"},
                    "conform": {"type": "boolean", "description": "unloading_remarks"},
                    "consignment": {"$ref": "#/components/schemas/Consignment", "description": "amended: the goods as amended"}}},
                "Event": {"type": "object", "required": ["type", "office", "at", "zone"], "properties": {
                    "type": {"type": "string"}, "office": {"$ref": "#/components/schemas/Office"},
                    "at": {"type": "string", "format": "date-time"}, "zone": {"type": "string"}}},
                "Movement": {"type": "object", "required": ["lrn", "route", "status", "events"], "properties": {
                    "lrn": {"type": "string"}, "mrn": {"type": ["string", "null"]},
                    "route": {"type": "object"},
                    "status": {"type": "string", "enum": ["lodged", "rejected", "accepted", "not_released", "released_for_transit", "invalidated",
                        "arrived_at_destination", "unloading_remarks", "goods_released", "written_off", "under_enquiry", "recovery"]},
                    "limit_date": {"type": ["string", "null"], "format": "date-time"},
                    "transit_progress": {"type": "array"},
                    "actual_destination": {"type": ["string", "null"]},
                    "pending_invalidation": {"type": "object", "description": "An invalidation requested after release, until the office of departure decides"},
                    "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}},
    "Notification": {"type": "object", "required": ["id", "country"], "description": "Either an event of a movement on the administration's routes (mrn, event, status), or a signed checkpoint of the audit log (audit_checkpoint)", "properties": {
                    "id": {"type": "integer"}, "country": {"type": "string"}, "mrn": {"type": "string"},
                    "event": {"$ref": "#/components/schemas/Event"}, "status": {"type": "string"},
                    "anticipated_transit_record": {"type": "object", "description": "On release: route and limit date, for the offices ahead"},
                    "audit_checkpoint": {"type": "object", "required": ["seq", "hash", "at", "public_key", "signature"], "description": "The head of the audit log signed with the audit key (Ed25519): keep the latest, and give it to smartborder audit verify --checkpoint", "properties": {
                        "seq": {"type": "integer"}, "hash": {"type": "string"}, "at": {"type": "integer", "description": "microseconds since the Unix epoch"},
                        "public_key": {"type": "string"}, "signature": {"type": "string"}}}}}
            }
        }
    });
    // Risk on the route (added apart: one json! of the whole document would pass the macro's
    // recursion limit).
    doc["paths"]["/api/v1/movements/{mrn}/risk"] = movement_risk_path;
    doc["paths"]["/api/v1/movements/{mrn}/controls"] = controls_path;
    doc["paths"]["/api/v1/risk/monitoring"] = json!({"get": {
        "summary": "The caller's administration's risk monitoring from the movements it assessed and its control results, by month (the month of the event that asked for each movement's latest assessment): assessed, inspected, non-compliant, Pre@n among the inspected with a score beside their base rate, PSI of the scores against the reference month (warnings above 0.25), exploration shares; and each profile's hits, hit rate, inspected hits and detection rate per month",
        "responses": {
            "200": {"description": "The monitoring", "content": {"application/json": {"schema": {"type": "object", "properties": {
                "country": {"type": "string"},
                "monitoring": {"type": "object", "properties": {
                    "months": {"type": "array", "items": {"type": "object"}},
                    "profiles": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "object"}}},
                    "psi_reference": {"type": ["string", "null"]}, "psi_warning_above": {"type": "number"},
                    "warnings": {"type": "array", "items": {"type": "string"}}}}}}}}},
            "401": {"description": "Missing, unknown or revoked API key"},
            "403": {"description": "The coordinator"}
        }
    }});
    let schemas = &mut doc["components"]["schemas"];
    schemas["Consignment"] = consignment_schema;
    schemas["RouteAssessment"] = route_assessment_schema;
    schemas["ControlResult"] = control_result_schema;
    doc
}
