//! A small owned XML tree over quick-xml, with the position of every element, for schema
//! validation and for reading NCTS messages.
//!
//! Only what NCTS messages use is kept: elements, their namespace, attributes and text. Comments
//! and processing instructions are skipped. A document type declaration is refused: NCTS
//! messages never carry one, and refusing it rules out entity tricks.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// The deepest nesting accepted (NCTS messages nest about eight levels).
pub const MAX_DEPTH: usize = 64;

/// The most attributes (namespace declarations included) one element may have: NCTS roots
/// carry a few namespace declarations and `PhaseID`, other elements none.
pub const MAX_ATTRIBUTES: usize = 32;

/// An element with its children and text.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// Local name.
    pub name: String,
    /// Namespace URI, `None` for an unqualified element.
    pub namespace: Option<String>,
    /// Attributes other than namespace declarations: (qualified name, value).
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// Character data directly inside the element (entities resolved).
    pub text: String,
    /// Where the start tag is.
    pub position: Position,
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a text is not a well-formed XML document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {message}")]
pub struct XmlError {
    pub position: Position,
    pub message: String,
}

impl Element {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the child at this path of local names, if present.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        let mut e = self;
        for name in path {
            e = e.child(name)?;
        }
        Some(e.text.trim())
    }

    /// The value of an attribute by qualified name.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Byte offsets of line starts, to turn offsets into lines and columns.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines { text, starts }
    }

    fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        Position { line, column }
    }
}

/// The text of a message: NCTS messages are UTF-8. Bytes that are not UTF-8 are not replaced
/// but refused, with the line and column where they start.
pub fn decode(bytes: &[u8]) -> Result<&str, XmlError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = e.valid_up_to();
        // The prefix is valid UTF-8, so positions are counted in it.
        let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let lines = Lines::new(prefix);
        XmlError {
            position: lines.position(valid),
            message: format!(
                "byte 0x{:02X} is not UTF-8 (NCTS messages are encoded in UTF-8)",
                bytes[valid]
            ),
        }
    })
}

/// Characters XML 1.0 does not allow in a document (its `Char` production): C0 controls other
/// than tab, line feed and carriage return, and U+FFFE and U+FFFF.
pub(crate) fn forbidden_in_xml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Parses a document and returns its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let lines = Lines::new(text);
    if let Some(offset) = text
        .char_indices()
        .find(|(_, c)| forbidden_in_xml(*c))
        .map(|(i, _)| i)
    {
        let c = text[offset..].chars().next().unwrap_or_default();
        return Err(XmlError {
            position: lines.position(offset),
            message: format!("character U+{:04X} is not allowed in XML 1.0", u32::from(c)),
        });
    }
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let fail = |offset: u64, message: String| XmlError {
        position: lines.position(usize::try_from(offset).unwrap_or(usize::MAX)),
        message,
    };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let start = reader.buffer_position();
        let read = reader.read_resolved_event().map(|(ns, event)| {
            let ns = match ns {
                ResolveResult::Bound(ns) => {
                    Ok(Some(String::from_utf8_lossy(ns.as_ref()).into_owned()))
                }
                ResolveResult::Unbound => Ok(None),
                ResolveResult::Unknown(prefix) => Err(format!(
                    "namespace prefix \"{}\" is not declared",
                    String::from_utf8_lossy(&prefix)
                )),
            };
            (ns, event)
        });
        let (namespace, event) = match read {
            Ok(r) => r,
            Err(e) => return Err(fail(reader.error_position(), e.to_string())),
        };
        let namespace = namespace.map_err(|m| fail(start, m))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(fail(start, "content after the root element".to_string()));
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(fail(
                        start,
                        format!("elements nest deeper than {MAX_DEPTH} levels"),
                    ));
                }
                let mut attributes = Vec::new();
                // quick-xml's duplicate check compares each attribute with every earlier one
                // (quadratic); attributes are counted and checked here in linear time instead.
                let mut seen = std::collections::HashSet::new();
                for a in e.attributes().with_checks(false) {
                    let a = a.map_err(|err| fail(start, err.to_string()))?;
                    if seen.len() >= MAX_ATTRIBUTES {
                        return Err(fail(
                            start,
                            format!("an element has more than {MAX_ATTRIBUTES} attributes"),
                        ));
                    }
                    if !seen.insert(a.key.as_ref().to_vec()) {
                        return Err(fail(
                            start,
                            format!(
                                "attribute {} is repeated",
                                String::from_utf8_lossy(a.key.as_ref())
                            ),
                        ));
                    }
                    let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                    if key == "xmlns" || key.starts_with("xmlns:") {
                        continue;
                    }
                    let value = a
                        .decode_and_unescape_value(reader.decoder())
                        .map_err(|err| fail(start, format!("attribute {key}: {err}")))?
                        .into_owned();
                    attributes.push((key, value));
                }
                let element = Element {
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    namespace,
                    attributes,
                    children: Vec::new(),
                    text: String::new(),
                    position: lines.position(usize::try_from(start).unwrap_or(usize::MAX)),
                };
                if matches!(event, Event::Start(_)) {
                    stack.push(element);
                } else {
                    close(&mut stack, &mut root, element);
                }
            }
            Event::End(_) => {
                let element = stack.pop().expect("quick-xml checks end tags");
                close(&mut stack, &mut root, element);
            }
            Event::Text(t) => {
                let s = t
                    .xml10_content()
                    .map_err(|err| fail(start, err.to_string()))?;
                match stack.last_mut() {
                    // Indentation between child elements is not content (NCTS has no mixed
                    // content); text before the first child is kept so that text in an element
                    // with children is still seen.
                    Some(e) if !e.children.is_empty() && s.trim().is_empty() => {}
                    Some(e) => e.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(fail(start, "text outside the root element".to_string())),
                }
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|err| fail(start, err.to_string()))?;
                match stack.last_mut() {
                    Some(e) => e.text.push_str(&s),
                    None => return Err(fail(start, "text outside the root element".to_string())),
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => {
                        let name = r.decode().map_err(|err| fail(start, err.to_string()))?;
                        match name.as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => {
                                return Err(fail(start, format!("unknown entity &{other};")));
                            }
                        }
                    }
                    Err(err) => return Err(fail(start, err.to_string())),
                };
                match stack.last_mut() {
                    Some(e) => e.text.push(c),
                    None => return Err(fail(start, "text outside the root element".to_string())),
                }
            }
            Event::DocType(_) => {
                return Err(fail(
                    start,
                    "a document type declaration is not accepted".to_string(),
                ));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError {
            position: lines.position(text.len()),
            message: format!("element {} is not closed", open.name),
        });
    }
    root.ok_or_else(|| XmlError {
        position: lines.position(text.len()),
        message: "no root element".to_string(),
    })
}

fn close(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_namespaces_text_and_positions() {
        let doc = "<?xml version=\"1.0\"?>\n<n:A xmlns:n=\"urn:x\" id=\"1\">\n  <b>x &amp; y&#33;</b>\n  <c/><!-- note -->\n</n:A>";
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "A");
        assert_eq!(root.namespace.as_deref(), Some("urn:x"));
        assert_eq!(root.attribute("id"), Some("1"));
        assert_eq!(root.children.len(), 2);
        assert_eq!(root.children[0].text, "x & y!");
        assert_eq!(root.children[0].namespace, None);
        assert_eq!(root.children[0].position, Position { line: 3, column: 3 });
        assert_eq!(root.children[1].name, "c");
        assert_eq!(root.text_at(&["b"]), Some("x & y!"));
    }

    #[test]
    fn refuses_malformed_documents_with_a_position() {
        for (doc, expected) in [
            ("<a><b></a>", "line 1"),
            ("<a>", "not closed"),
            ("", "no root element"),
            ("<a/><b/>", "after the root"),
            ("<p:a/>", "not declared"),
            (
                "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
                "document type",
            ),
            ("<a>&e;</a>", "unknown entity"),
            ("<a>\n<b x=\"1\" x=\"2\"/></a>", "line 2"),
        ] {
            let err = parse(doc).unwrap_err();
            assert!(
                err.to_string().contains(expected),
                "{doc}: {err} should mention {expected}"
            );
        }
    }

    #[test]
    fn refuses_deep_nesting() {
        let doc = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&doc).unwrap_err().message.contains("deeper"));
    }
}
