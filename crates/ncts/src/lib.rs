//! NCTS Phase 5 messages: the DG TAXUD XML schemas (version 51.8.6, as published with the HMRC
//! CTC Traders API under the Apache License 2.0, see `xsd/LICENSE`), a validator for them, the
//! reading of the messages a transit single window receives, and the writing of its answers.
//!
//! The schemas are compiled into the binary, so a server validates without any file beside it.

pub mod answers;
pub mod conditions;
pub mod events;
pub mod goods;
pub mod messages;
pub mod xml;
pub mod xsd;

use std::sync::OnceLock;

pub use messages::{Message, MessageType, Refusal, read};
pub use xsd::{Schema, SchemaViolation, XmlErrorCode};

/// The NCTS namespace of message roots (children are unqualified).
pub const NAMESPACE: &str = "http://ncts.dgtaxud.ec";

/// The schema documents, by path relative to `xsd/`.
const SCHEMA_FILES: &[(&str, &str)] = &[
    ("cc004c.xsd", include_str!("../xsd/cc004c.xsd")),
    ("cc007c.xsd", include_str!("../xsd/cc007c.xsd")),
    ("cc009c.xsd", include_str!("../xsd/cc009c.xsd")),
    ("cc013c.xsd", include_str!("../xsd/cc013c.xsd")),
    ("cc014c.xsd", include_str!("../xsd/cc014c.xsd")),
    ("cc015c.xsd", include_str!("../xsd/cc015c.xsd")),
    ("cc017c.xsd", include_str!("../xsd/cc017c.xsd")),
    ("cc019c.xsd", include_str!("../xsd/cc019c.xsd")),
    ("cc022c.xsd", include_str!("../xsd/cc022c.xsd")),
    ("cc023c.xsd", include_str!("../xsd/cc023c.xsd")),
    ("cc025c.xsd", include_str!("../xsd/cc025c.xsd")),
    ("cc028c.xsd", include_str!("../xsd/cc028c.xsd")),
    ("cc029c.xsd", include_str!("../xsd/cc029c.xsd")),
    ("cc035c.xsd", include_str!("../xsd/cc035c.xsd")),
    ("cc040c.xsd", include_str!("../xsd/cc040c.xsd")),
    ("cc042c.xsd", include_str!("../xsd/cc042c.xsd")),
    ("cc043c.xsd", include_str!("../xsd/cc043c.xsd")),
    ("cc044c.xsd", include_str!("../xsd/cc044c.xsd")),
    ("cc045c.xsd", include_str!("../xsd/cc045c.xsd")),
    ("cc048c.xsd", include_str!("../xsd/cc048c.xsd")),
    ("cc051c.xsd", include_str!("../xsd/cc051c.xsd")),
    ("cc055c.xsd", include_str!("../xsd/cc055c.xsd")),
    ("cc056c.xsd", include_str!("../xsd/cc056c.xsd")),
    ("cc057c.xsd", include_str!("../xsd/cc057c.xsd")),
    ("cc060c.xsd", include_str!("../xsd/cc060c.xsd")),
    ("cc170c.xsd", include_str!("../xsd/cc170c.xsd")),
    ("cc182c.xsd", include_str!("../xsd/cc182c.xsd")),
    ("cc190c.xsd", include_str!("../xsd/cc190c.xsd")),
    ("cc191c.xsd", include_str!("../xsd/cc191c.xsd")),
    ("cc228c.xsd", include_str!("../xsd/cc228c.xsd")),
    ("cc906c.xsd", include_str!("../xsd/cc906c.xsd")),
    ("cc917c.xsd", include_str!("../xsd/cc917c.xsd")),
    ("cc928c.xsd", include_str!("../xsd/cc928c.xsd")),
    ("ctypes.xsd", include_str!("../xsd/ctypes.xsd")),
    ("doc.xsd", include_str!("../xsd/doc.xsd")),
    ("htypes.xsd", include_str!("../xsd/htypes.xsd")),
    (
        "include-files/custom_ctypes.xsd",
        include_str!("../xsd/include-files/custom_ctypes.xsd"),
    ),
    ("stypes.xsd", include_str!("../xsd/stypes.xsd")),
    ("tcl.xsd", include_str!("../xsd/tcl.xsd")),
];

/// The NCTS Phase 5 schemas, loaded once.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        Schema::load(SCHEMA_FILES).expect("the embedded NCTS schemas load (tested)")
    })
}
