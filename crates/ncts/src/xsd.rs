//! An XML Schema validator for the subset of XSD that the NCTS Phase 5 schemas use.
//!
//! The DG TAXUD schemas are regular: every complex type is one `xs:sequence` of elements (with
//! `minOccurs`/`maxOccurs`) and group references, plus attributes; every simple type is an
//! `xs:restriction` of a named type or a built-in (`xs:string`, `xs:normalizedString`,
//! `xs:token`, `xs:decimal`, `xs:integer`, `xs:date`, `xs:dateTime`) with the facets `pattern`,
//! `enumeration`, `length`, `minLength`, `maxLength`, `minInclusive`, `maxInclusive`,
//! `totalDigits` and `fractionDigits`. That subset is implemented in full, with the XSD rules
//! that matter for it: whitespace is normalised by the built-in ancestor before the facets are
//! checked, several patterns of one restriction are alternatives while patterns of successive
//! derivation steps must all match, patterns are anchored, and `.` matches neither CR nor LF.
//! Anything outside the subset (a `xs:choice`, an extension, ...) is refused when the schema is
//! loaded, so a schema is never half understood.
//!
//! Errors carry the NCTS XML error codes (code list `XmlErrorCodes`: 12 incorrect enumeration,
//! 13 missing, 15 not supported in this position, 35 too many repetitions, 39 too long, 40 too
//! short, 50 invalid value for the type, 51 pattern, 52 invalid XML format, 54 below minimum,
//! 55 above maximum), the
//! element's path as an XPath pointer, and its line and column.

use std::collections::HashMap;

use regex::Regex;

use crate::xml::{Element, Position};

const XS: &str = "http://www.w3.org/2001/XMLSchema";
const XSI: &str = "xsi:";

/// Why a schema could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct SchemaLoadError {
    pub file: String,
    pub message: String,
}

/// An error code of the NCTS code list `XmlErrorCodes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlErrorCode {
    IncorrectEnumeration = 12,
    Missing = 13,
    NotSupportedInThisPosition = 15,
    TooManyRepetitions = 35,
    TooLong = 39,
    TooShort = 40,
    InvalidValue = 50,
    InvalidPattern = 51,
    InvalidXmlFormat = 52,
    BelowMinimum = 54,
    AboveMaximum = 55,
}

impl XmlErrorCode {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// One violation of the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// XPath of the element or attribute, e.g. `/CC015C/TransitOperation/LRN`.
    pub pointer: String,
    pub position: Position,
    pub code: XmlErrorCode,
    pub message: String,
    /// The value found, when a value was wrong.
    pub value: Option<String>,
}

impl std::fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.pointer, self.position, self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeId {
    Complex(usize),
    Simple(usize),
}

#[derive(Debug)]
struct Particle {
    name: String,
    ty: TypeId,
    min: u32,
    max: u32,
}

#[derive(Debug)]
struct AttributeDecl {
    name: String,
    ty: usize,
    required: bool,
}

#[derive(Debug)]
struct ComplexType {
    particles: Vec<Particle>,
    attributes: Vec<AttributeDecl>,
}

/// The built-in type a simple type derives from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builtin {
    String,
    NormalizedString,
    Token,
    Decimal,
    Integer,
    Date,
    DateTime,
}

impl Builtin {
    const ALL: [(&'static str, Builtin); 7] = [
        ("string", Builtin::String),
        ("normalizedString", Builtin::NormalizedString),
        ("token", Builtin::Token),
        ("decimal", Builtin::Decimal),
        ("integer", Builtin::Integer),
        ("date", Builtin::Date),
        ("dateTime", Builtin::DateTime),
    ];
}

#[derive(Debug, Default)]
struct Facets {
    /// Alternatives: the value must match one of them.
    patterns: Vec<(String, Regex)>,
    enumeration: Vec<String>,
    length: Option<usize>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    min_inclusive: Option<String>,
    max_inclusive: Option<String>,
    total_digits: Option<usize>,
    fraction_digits: Option<usize>,
}

#[derive(Debug)]
struct SimpleType {
    name: String,
    /// A built-in type has no base.
    base: Option<usize>,
    builtin: Builtin,
    facets: Facets,
}

/// A loaded set of schema documents sharing one target namespace.
#[derive(Debug)]
pub struct Schema {
    namespace: String,
    elements: HashMap<String, TypeId>,
    complex: Vec<ComplexType>,
    simple: Vec<SimpleType>,
}

/// Top-level definitions found in the documents, before names are resolved.
#[derive(Default)]
struct Definitions<'a> {
    complex: HashMap<String, (&'a str, &'a Element)>,
    simple: HashMap<String, (&'a str, &'a Element)>,
    groups: HashMap<String, (&'a str, &'a Element)>,
    elements: Vec<(&'a str, &'a Element)>,
}

fn is_xs(e: &Element, name: &str) -> bool {
    e.name == name && e.namespace.as_deref() == Some(XS)
}

/// `xs:foo` children, skipping annotations.
fn xs_children(e: &Element) -> impl Iterator<Item = &Element> {
    e.children
        .iter()
        .filter(|c| c.namespace.as_deref() == Some(XS) && c.name != "annotation")
}

impl Schema {
    /// Loads schema documents given as (file name, text). Includes must name files of the set.
    pub fn load(files: &[(&str, &str)]) -> Result<Schema, SchemaLoadError> {
        let mut roots = Vec::new();
        for (file, text) in files {
            let root = crate::xml::parse(text).map_err(|e| SchemaLoadError {
                file: file.to_string(),
                message: e.to_string(),
            })?;
            roots.push((*file, root));
        }
        let mut namespace: Option<String> = None;
        let mut defs = Definitions::default();
        for (file, root) in &roots {
            let err = |message: String| SchemaLoadError {
                file: file.to_string(),
                message,
            };
            if !is_xs(root, "schema") {
                return Err(err("expected an xs:schema root".into()));
            }
            let target = root.attribute("targetNamespace").unwrap_or_default();
            match &namespace {
                None => namespace = Some(target.to_string()),
                Some(ns) if ns == target => {}
                Some(ns) => {
                    return Err(err(format!(
                        "target namespace {target}, expected {ns} like the other documents"
                    )));
                }
            }
            for def in xs_children(root) {
                let name = def.attribute("name").unwrap_or_default().to_string();
                let slot = match def.name.as_str() {
                    "include" => {
                        let location = def.attribute("schemaLocation").unwrap_or_default();
                        let resolved = resolve_location(file, location);
                        if !files.iter().any(|(f, _)| *f == resolved) {
                            return Err(err(format!("includes {location}, which is not loaded")));
                        }
                        continue;
                    }
                    "complexType" => &mut defs.complex,
                    "simpleType" => &mut defs.simple,
                    "group" => &mut defs.groups,
                    "element" => {
                        defs.elements.push((file, def));
                        continue;
                    }
                    other => return Err(err(format!("xs:{other} is not supported"))),
                };
                if slot.insert(name.clone(), (file, def)).is_some() {
                    return Err(err(format!("{name} is defined twice")));
                }
            }
        }
        let mut schema = Schema {
            namespace: namespace.unwrap_or_default(),
            elements: HashMap::new(),
            complex: Vec::new(),
            simple: Vec::new(),
        };
        schema.resolve(&defs)?;
        Ok(schema)
    }

    /// The children of `source` re-shaped for the global element `target`: for each element of
    /// the target's sequence not in `skip`, the source's children of that name (as many as the
    /// target allows), each re-shaped the same way for its type; elements the target does not
    /// know are dropped, and the target's order is kept. This is how one NCTS message repeats
    /// the data of another (a release for transit repeats the declaration) when the two use
    /// different, mostly overlapping types. `None` when `target` is not a global element.
    pub fn project_children(
        &self,
        source: &Element,
        target: &str,
        skip: &[&str],
    ) -> Option<Vec<Element>> {
        let TypeId::Complex(c) = *self.elements.get(target)? else {
            return None;
        };
        Some(self.project_content(source, c, skip))
    }

    fn project_content(&self, source: &Element, c: usize, skip: &[&str]) -> Vec<Element> {
        let mut out = Vec::new();
        for particle in &self.complex[c].particles {
            if skip.contains(&particle.name.as_str()) {
                continue;
            }
            for child in source
                .children_named(&particle.name)
                .take(particle.max as usize)
            {
                let (children, text) = match particle.ty {
                    TypeId::Simple(_) => (Vec::new(), child.text.clone()),
                    TypeId::Complex(cc) => (self.project_content(child, cc, &[]), String::new()),
                };
                out.push(Element {
                    name: child.name.clone(),
                    namespace: child.namespace.clone(),
                    attributes: child.attributes.clone(),
                    children,
                    text,
                    position: child.position,
                });
            }
        }
        out
    }

    fn resolve(&mut self, defs: &Definitions) -> Result<(), SchemaLoadError> {
        // Indices first, so that definitions can refer to each other in any order.
        let mut simple_index: HashMap<String, usize> = HashMap::new();
        for (name, builtin) in Builtin::ALL {
            simple_index.insert(format!("xs:{name}"), self.simple.len());
            self.simple.push(SimpleType {
                name: format!("xs:{name}"),
                base: None,
                builtin,
                facets: Facets::default(),
            });
        }
        let mut simple_names: Vec<&String> = defs.simple.keys().collect();
        simple_names.sort();
        for (i, name) in simple_names.iter().enumerate() {
            simple_index.insert((*name).clone(), Builtin::ALL.len() + i);
        }
        let mut complex_names: Vec<&String> = defs.complex.keys().collect();
        complex_names.sort();
        let complex_index: HashMap<&str, usize> = complex_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let lookup = |file: &str, name: &str| -> Result<TypeId, SchemaLoadError> {
            if let Some(&i) = complex_index.get(name) {
                Ok(TypeId::Complex(i))
            } else if let Some(&i) = simple_index.get(name) {
                Ok(TypeId::Simple(i))
            } else {
                Err(SchemaLoadError {
                    file: file.to_string(),
                    message: format!("type {name} is not defined"),
                })
            }
        };

        for name in &simple_names {
            let (file, def) = defs.simple[*name];
            let err = |message: String| SchemaLoadError {
                file: file.to_string(),
                message: format!("simple type {name}: {message}"),
            };
            let restriction = xs_children(def)
                .find(|c| c.name == "restriction")
                .ok_or_else(|| err("only xs:restriction is supported".into()))?;
            let base_name = restriction.attribute("base").unwrap_or_default();
            let base = match lookup(file, base_name)? {
                TypeId::Simple(i) => i,
                TypeId::Complex(_) => return Err(err(format!("base {base_name} is complex"))),
            };
            let mut facets = Facets::default();
            for facet in xs_children(restriction) {
                let value = facet.attribute("value").unwrap_or_default();
                let number = || {
                    value
                        .parse::<usize>()
                        .map_err(|_| err(format!("{}: {value} is not a count", facet.name)))
                };
                match facet.name.as_str() {
                    "pattern" => {
                        let regex = translate_pattern(value)
                            .map_err(|m| err(format!("pattern {value}: {m}")))?;
                        facets.patterns.push((value.to_string(), regex));
                    }
                    "enumeration" => facets.enumeration.push(value.to_string()),
                    "length" => facets.length = Some(number()?),
                    "minLength" => facets.min_length = Some(number()?),
                    "maxLength" => facets.max_length = Some(number()?),
                    "totalDigits" => facets.total_digits = Some(number()?),
                    "fractionDigits" => facets.fraction_digits = Some(number()?),
                    "minInclusive" | "maxInclusive" => {
                        if Decimal::parse(value).is_none() {
                            return Err(err(format!("{}: {value} is not a number", facet.name)));
                        }
                        if facet.name == "minInclusive" {
                            facets.min_inclusive = Some(value.to_string());
                        } else {
                            facets.max_inclusive = Some(value.to_string());
                        }
                    }
                    other => return Err(err(format!("facet xs:{other} is not supported"))),
                }
            }
            self.simple.push(SimpleType {
                name: (*name).clone(),
                base: Some(base),
                builtin: Builtin::String, // set below, once every base is known
                facets,
            });
        }
        for i in Builtin::ALL.len()..self.simple.len() {
            let mut at = i;
            let mut steps = 0;
            while let Some(base) = self.simple[at].base {
                at = base;
                steps += 1;
                if steps > self.simple.len() {
                    return Err(SchemaLoadError {
                        file: String::new(),
                        message: format!("simple type {} derives from itself", self.simple[i].name),
                    });
                }
            }
            self.simple[i].builtin = self.simple[at].builtin;
        }

        for name in &complex_names {
            let (file, def) = defs.complex[*name];
            let ct = self.complex_type(file, name, def, defs, &lookup)?;
            self.complex.push(ct);
        }

        for (file, def) in &defs.elements {
            let name = def.attribute("name").unwrap_or_default();
            let ty = match def.attribute("type") {
                Some(ty) => lookup(file, ty)?,
                None => {
                    // An anonymous complex type (the documentation elements of doc.xsd).
                    let inline = xs_children(def)
                        .find(|c| c.name == "complexType")
                        .ok_or_else(|| SchemaLoadError {
                            file: file.to_string(),
                            message: format!("element {name} has no type"),
                        })?;
                    let ct = self.complex_type(file, name, inline, defs, &lookup)?;
                    self.complex.push(ct);
                    TypeId::Complex(self.complex.len() - 1)
                }
            };
            self.elements.insert(name.to_string(), ty);
        }
        Ok(())
    }

    fn complex_type(
        &self,
        file: &str,
        name: &str,
        def: &Element,
        defs: &Definitions,
        lookup: &dyn Fn(&str, &str) -> Result<TypeId, SchemaLoadError>,
    ) -> Result<ComplexType, SchemaLoadError> {
        let err = |message: String| SchemaLoadError {
            file: file.to_string(),
            message: format!("complex type {name}: {message}"),
        };
        let mut particles = Vec::new();
        let mut attributes = Vec::new();
        for part in xs_children(def) {
            match part.name.as_str() {
                "sequence" => self.sequence(file, part, defs, lookup, &mut particles, 0)?,
                "attribute" => {
                    let ty_name = part.attribute("type").unwrap_or_default();
                    let ty = match lookup(file, ty_name)? {
                        TypeId::Simple(i) => i,
                        TypeId::Complex(_) => {
                            return Err(err(format!("attribute type {ty_name} is complex")));
                        }
                    };
                    attributes.push(AttributeDecl {
                        name: part.attribute("name").unwrap_or_default().to_string(),
                        ty,
                        required: part.attribute("use") == Some("required"),
                    });
                }
                other => return Err(err(format!("xs:{other} is not supported"))),
            }
        }
        Ok(ComplexType {
            particles,
            attributes,
        })
    }

    /// Flattens a sequence (and the groups it refers to) into particles.
    fn sequence(
        &self,
        file: &str,
        sequence: &Element,
        defs: &Definitions,
        lookup: &dyn Fn(&str, &str) -> Result<TypeId, SchemaLoadError>,
        out: &mut Vec<Particle>,
        depth: usize,
    ) -> Result<(), SchemaLoadError> {
        let err = |message: String| SchemaLoadError {
            file: file.to_string(),
            message,
        };
        if depth > 8 {
            return Err(err(
                "groups nest too deep (a group refers to itself?)".into()
            ));
        }
        if sequence.attribute("minOccurs").is_some() || sequence.attribute("maxOccurs").is_some() {
            return Err(err(
                "occurrence bounds on xs:sequence are not supported".into()
            ));
        }
        for item in xs_children(sequence) {
            match item.name.as_str() {
                "element" => {
                    let name = item.attribute("name").unwrap_or_default();
                    let ty = lookup(file, item.attribute("type").unwrap_or_default())?;
                    let min = match item.attribute("minOccurs") {
                        None => 1,
                        Some(v) => v
                            .parse()
                            .map_err(|_| err(format!("{name}: minOccurs {v}")))?,
                    };
                    let max = match item.attribute("maxOccurs") {
                        None => 1,
                        Some("unbounded") => u32::MAX,
                        Some(v) => v
                            .parse()
                            .map_err(|_| err(format!("{name}: maxOccurs {v}")))?,
                    };
                    if out.iter().any(|p| p.name == name) {
                        return Err(err(format!(
                            "element {name} appears twice in one sequence (not supported)"
                        )));
                    }
                    out.push(Particle {
                        name: name.to_string(),
                        ty,
                        min,
                        max,
                    });
                }
                "group" => {
                    let name = item.attribute("ref").unwrap_or_default();
                    let (gfile, group) = defs
                        .groups
                        .get(name)
                        .ok_or_else(|| err(format!("group {name} is not defined")))?;
                    let inner = xs_children(group)
                        .find(|c| c.name == "sequence")
                        .ok_or_else(|| err(format!("group {name}: expected a sequence")))?;
                    self.sequence(gfile, inner, defs, lookup, out, depth + 1)?;
                }
                other => return Err(err(format!("xs:{other} in a sequence is not supported"))),
            }
        }
        Ok(())
    }

    /// Validates a document against the global element of its root. Returns every violation
    /// found (empty when the document is valid), in document order.
    pub fn validate(&self, root: &Element) -> Vec<SchemaViolation> {
        let mut out = Vec::new();
        let mut pointer = format!("/{}", root.name);
        let ty = match self.elements.get(&root.name) {
            Some(ty) if root.namespace.as_deref() == Some(self.namespace.as_str()) => *ty,
            _ => {
                out.push(SchemaViolation {
                    pointer,
                    position: root.position,
                    code: XmlErrorCode::NotSupportedInThisPosition,
                    message: format!(
                        "root element {{{}}}{} is not a message of this schema (namespace {})",
                        root.namespace.as_deref().unwrap_or(""),
                        root.name,
                        self.namespace
                    ),
                    value: None,
                });
                return out;
            }
        };
        self.element(root, ty, &mut pointer, &mut out);
        out
    }

    /// Validates an element; `pointer` is its XPath, extended in place for the children (and
    /// restored), so a valid document costs no path allocations.
    fn element(
        &self,
        e: &Element,
        ty: TypeId,
        pointer: &mut String,
        out: &mut Vec<SchemaViolation>,
    ) {
        let violation = |code, message: String, value: Option<String>| SchemaViolation {
            pointer: pointer.to_string(),
            position: e.position,
            code,
            message,
            value,
        };
        match ty {
            TypeId::Simple(s) => {
                for (name, _) in &e.attributes {
                    if !name.starts_with(XSI) {
                        out.push(violation(
                            XmlErrorCode::NotSupportedInThisPosition,
                            format!("attribute {name} is not allowed here"),
                            None,
                        ));
                    }
                }
                if let Some(child) = e.children.first() {
                    out.push(SchemaViolation {
                        pointer: format!("{pointer}/{}", child.name),
                        position: child.position,
                        code: XmlErrorCode::NotSupportedInThisPosition,
                        message: format!("{} holds a value, not elements", e.name),
                        value: None,
                    });
                    return;
                }
                if let Err((code, message)) = self.check_value(s, &e.text) {
                    out.push(violation(code, message, Some(e.text.clone())));
                }
            }
            TypeId::Complex(c) => {
                let ct = &self.complex[c];
                for (name, value) in &e.attributes {
                    if name.starts_with(XSI) {
                        continue;
                    }
                    match ct.attributes.iter().find(|a| &a.name == name) {
                        None => out.push(violation(
                            XmlErrorCode::NotSupportedInThisPosition,
                            format!("attribute {name} is not allowed here"),
                            None,
                        )),
                        Some(a) => {
                            if let Err((code, message)) = self.check_value(a.ty, value) {
                                out.push(SchemaViolation {
                                    pointer: format!("{pointer}/@{name}"),
                                    position: e.position,
                                    code,
                                    message,
                                    value: Some(value.clone()),
                                });
                            }
                        }
                    }
                }
                for a in ct.attributes.iter().filter(|a| a.required) {
                    if e.attribute(&a.name).is_none() {
                        out.push(violation(
                            XmlErrorCode::Missing,
                            format!("attribute {} is required", a.name),
                            None,
                        ));
                    }
                }
                if !e.text.trim().is_empty() {
                    out.push(violation(
                        XmlErrorCode::NotSupportedInThisPosition,
                        format!("{} holds elements, not text", e.name),
                        Some(e.text.trim().to_string()),
                    ));
                }
                self.sequence_content(e, ct, pointer, out);
            }
        }
    }

    /// Matches the children against the sequence. The NCTS sequences name each element once,
    /// so a greedy match is exact (Unique Particle Attribution).
    fn sequence_content(
        &self,
        e: &Element,
        ct: &ComplexType,
        pointer: &mut String,
        out: &mut Vec<SchemaViolation>,
    ) {
        let mut p = 0;
        let mut count = 0u32;
        let missing =
            |pointer: &str, particle: &Particle, out: &mut Vec<SchemaViolation>, at: Position| {
                out.push(SchemaViolation {
                    pointer: format!("{pointer}/{}", particle.name),
                    position: at,
                    code: XmlErrorCode::Missing,
                    message: format!(
                        "{} is missing (expected {} at least {} time{} in {})",
                        particle.name,
                        particle.name,
                        particle.min,
                        if particle.min == 1 { "" } else { "s" },
                        e.name
                    ),
                    value: None,
                });
            };
        for child in &e.children {
            loop {
                let Some(particle) = ct.particles.get(p) else {
                    out.push(SchemaViolation {
                        pointer: format!("{pointer}/{}", child.name),
                        position: child.position,
                        code: XmlErrorCode::NotSupportedInThisPosition,
                        message: unexpected(child, ct),
                        value: None,
                    });
                    break;
                };
                if child.name == particle.name && count < particle.max {
                    count += 1;
                    let parent = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&child.name);
                    if particle.max > 1 {
                        use std::fmt::Write;
                        let _ = write!(pointer, "[{count}]");
                    }
                    if child.namespace.is_some() {
                        out.push(SchemaViolation {
                            pointer: pointer.clone(),
                            position: child.position,
                            code: XmlErrorCode::NotSupportedInThisPosition,
                            message: format!(
                                "{} must be unqualified (no namespace), found namespace {}",
                                child.name,
                                child.namespace.as_deref().unwrap_or_default()
                            ),
                            value: None,
                        });
                    }
                    self.element(child, particle.ty, pointer, out);
                    pointer.truncate(parent);
                    break;
                }
                if child.name == particle.name {
                    out.push(SchemaViolation {
                        pointer: format!("{pointer}/{}", child.name),
                        position: child.position,
                        code: XmlErrorCode::TooManyRepetitions,
                        message: format!(
                            "{} may appear at most {} time{} in {}",
                            child.name,
                            particle.max,
                            if particle.max == 1 { "" } else { "s" },
                            e.name
                        ),
                        value: None,
                    });
                    break;
                }
                // The child is not this particle: the particle is done. Is it complete?
                if count < particle.min {
                    // If the child belongs further on, report the gap and go on; if it belongs
                    // nowhere, it is the error, and the particle may still come after it.
                    if ct.particles[p + 1..].iter().any(|q| q.name == child.name) {
                        missing(pointer, particle, out, child.position);
                    } else {
                        out.push(SchemaViolation {
                            pointer: format!("{pointer}/{}", child.name),
                            position: child.position,
                            code: XmlErrorCode::NotSupportedInThisPosition,
                            message: unexpected(child, ct),
                            value: None,
                        });
                        break;
                    }
                }
                p += 1;
                count = 0;
            }
        }
        while let Some(particle) = ct.particles.get(p) {
            if count < particle.min {
                missing(pointer, particle, out, e.position);
            }
            p += 1;
            count = 0;
        }
    }

    /// Checks a value against a simple type and its ancestors.
    fn check_value(&self, ty: usize, raw: &str) -> Result<(), (XmlErrorCode, String)> {
        let builtin = self.simple[ty].builtin;
        let value = normalise_whitespace(raw, builtin);
        let mut at = Some(ty);
        while let Some(i) = at {
            let t = &self.simple[i];
            check_facets(&t.name, &t.facets, builtin, &value)?;
            at = t.base;
        }
        check_builtin(builtin, &value)
    }
}

fn unexpected(child: &Element, ct: &ComplexType) -> String {
    let allowed: Vec<&str> = ct.particles.iter().map(|p| p.name.as_str()).collect();
    if allowed.is_empty() {
        format!("{} is not allowed here (no elements are)", child.name)
    } else {
        format!(
            "{} is not allowed here; the sequence is {}",
            child.name,
            allowed.join(", ")
        )
    }
}

/// The include location relative to the including file, e.g. `include-files/../ctypes.xsd`
/// -> `ctypes.xsd`.
fn resolve_location(file: &str, location: &str) -> String {
    let mut parts: Vec<&str> = file.split('/').collect();
    parts.pop();
    for segment in location.split('/') {
        match segment {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// Translates an XSD regular expression into an anchored Rust one. XSD differs in that a
/// pattern matches the whole value, `.` excludes CR as well as LF, `^` and `$` are ordinary
/// characters, and Unicode blocks are named `\p{IsBlock}`.
fn translate_pattern(xsd: &str) -> Result<Regex, String> {
    let mut out = String::from("^(?:");
    let mut in_class = false;
    let mut chars = xsd.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    return Err("ends with a backslash".into());
                };
                match next {
                    'p' | 'P' if chars.peek() == Some(&'{') => {
                        let mut name = String::new();
                        chars.next();
                        for c in chars.by_ref() {
                            if c == '}' {
                                break;
                            }
                            name.push(c);
                        }
                        if name == "IsBasicLatin" {
                            let range = if next == 'p' {
                                r"\x00-\x7F"
                            } else {
                                r"\x80-\x{10FFFF}"
                            };
                            if in_class {
                                out.push_str(range);
                            } else {
                                out.push('[');
                                out.push_str(range);
                                out.push(']');
                            }
                        } else if name.starts_with("Is") {
                            return Err(format!("Unicode block {name} is not supported"));
                        } else {
                            out.push('\\');
                            out.push(next);
                            out.push('{');
                            out.push_str(&name);
                            out.push('}');
                        }
                    }
                    'i' | 'c' | 'I' | 'C' => {
                        return Err(format!("the XML name class \\{next} is not supported"));
                    }
                    _ => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' if in_class => return Err("class subtraction is not supported".into()),
            '[' => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '.' if !in_class => out.push_str(r"[^\n\r]"),
            '^' | '$' if !in_class => {
                out.push('\\');
                out.push(c);
            }
            '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    if in_class {
        return Err("unclosed character class".into());
    }
    out.push_str(")$");
    Regex::new(&out).map_err(|e| e.to_string())
}

fn normalise_whitespace(raw: &str, builtin: Builtin) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let other_space = |c: char| matches!(c, '\t' | '\n' | '\r');
    match builtin {
        Builtin::String => Cow::Borrowed(raw),
        Builtin::NormalizedString if !raw.contains(other_space) => Cow::Borrowed(raw),
        Builtin::NormalizedString => Cow::Owned(raw.replace(['\t', '\n', '\r'], " ")),
        // Most values are already collapsed: no tab or line break, no space at either end, no
        // two spaces in a row.
        _ if !raw.contains(other_space)
            && !raw.starts_with(' ')
            && !raw.ends_with(' ')
            && !raw.contains("  ") =>
        {
            Cow::Borrowed(raw)
        }
        _ => Cow::Owned(
            raw.split([' ', '\t', '\n', '\r'])
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        ),
    }
}

fn check_facets(
    name: &str,
    f: &Facets,
    builtin: Builtin,
    value: &str,
) -> Result<(), (XmlErrorCode, String)> {
    let chars = value.chars().count();
    if !f.enumeration.is_empty()
        && !f
            .enumeration
            .iter()
            .any(|v| normalise_whitespace(v, builtin) == value)
    {
        let shown: Vec<&str> = f.enumeration.iter().take(12).map(|s| s.trim()).collect();
        return Err((
            XmlErrorCode::IncorrectEnumeration,
            format!(
                "\"{value}\" is not a code of {name} (codes: {}{})",
                shown.join(", "),
                if f.enumeration.len() > shown.len() {
                    ", ..."
                } else {
                    ""
                }
            ),
        ));
    }
    if let Some(n) = f.length
        && chars != n
    {
        let code = if chars > n {
            XmlErrorCode::TooLong
        } else {
            XmlErrorCode::TooShort
        };
        return Err((
            code,
            format!("\"{value}\" has {chars} characters, {name} needs exactly {n}"),
        ));
    }
    if let Some(n) = f.max_length
        && chars > n
    {
        return Err((
            XmlErrorCode::TooLong,
            format!("\"{value}\" has {chars} characters, {name} allows at most {n}"),
        ));
    }
    if let Some(n) = f.min_length
        && chars < n
    {
        return Err((
            XmlErrorCode::TooShort,
            format!("\"{value}\" has {chars} characters, {name} needs at least {n}"),
        ));
    }
    if !f.patterns.is_empty() && !f.patterns.iter().any(|(_, r)| r.is_match(value)) {
        let patterns: Vec<&str> = f.patterns.iter().map(|(p, _)| p.as_str()).collect();
        return Err((
            XmlErrorCode::InvalidPattern,
            format!(
                "\"{value}\" does not match the pattern {} of {name}",
                patterns.join(" | ")
            ),
        ));
    }
    let numeric = f.min_inclusive.is_some()
        || f.max_inclusive.is_some()
        || f.total_digits.is_some()
        || f.fraction_digits.is_some();
    if numeric {
        let Some(d) = Decimal::parse(value) else {
            return Err((
                XmlErrorCode::InvalidValue,
                format!("\"{value}\" is not a number ({name})"),
            ));
        };
        if let Some(min) = f.min_inclusive.as_deref().and_then(Decimal::parse)
            && d.cmp(&min) == std::cmp::Ordering::Less
        {
            return Err((
                XmlErrorCode::BelowMinimum,
                format!("{value} is below the minimum {} of {name}", min.text),
            ));
        }
        if let Some(max) = f.max_inclusive.as_deref().and_then(Decimal::parse)
            && d.cmp(&max) == std::cmp::Ordering::Greater
        {
            return Err((
                XmlErrorCode::AboveMaximum,
                format!("{value} is above the maximum {} of {name}", max.text),
            ));
        }
        if let Some(n) = f.total_digits
            && d.total_digits() > n
        {
            return Err((
                XmlErrorCode::TooLong,
                format!(
                    "{value} has {} digits, {name} allows at most {n}",
                    d.total_digits()
                ),
            ));
        }
        if let Some(n) = f.fraction_digits
            && d.fraction.len() > n
        {
            return Err((
                XmlErrorCode::TooLong,
                format!(
                    "{value} has {} decimals, {name} allows at most {n}",
                    d.fraction.len()
                ),
            ));
        }
    }
    Ok(())
}

fn check_builtin(builtin: Builtin, value: &str) -> Result<(), (XmlErrorCode, String)> {
    // The lexical forms of numbers, dates and times use ASCII only (Unicode digits such as
    // U+0663 are not digits there).
    let ok = match builtin {
        Builtin::String | Builtin::NormalizedString | Builtin::Token => true,
        _ if !value.is_ascii() => false,
        Builtin::Decimal => Decimal::parse(value).is_some(),
        Builtin::Integer => Decimal::parse(value).is_some() && !value.contains('.'),
        Builtin::Date => parse_date(value),
        Builtin::DateTime => parse_date_time(value),
    };
    if ok {
        Ok(())
    } else {
        let expected = match builtin {
            Builtin::Decimal => "a decimal number",
            Builtin::Integer => "an integer",
            Builtin::Date => "a date YYYY-MM-DD",
            _ => "a date and time YYYY-MM-DDThh:mm:ss",
        };
        Err((
            XmlErrorCode::InvalidValue,
            format!("\"{value}\" is not {expected}"),
        ))
    }
}

/// Strips an XSD time zone (`Z` or `±hh:mm`) and checks it.
fn strip_zone(value: &str) -> Option<&str> {
    if let Some(v) = value.strip_suffix('Z') {
        return Some(v);
    }
    if value.len() > 6 && value.is_char_boundary(value.len() - 6) {
        let (head, zone) = value.split_at(value.len() - 6);
        let b = zone.as_bytes();
        if (b[0] == b'+' || b[0] == b'-') && b[3] == b':' {
            let h: u32 = zone[1..3].parse().ok()?;
            let m: u32 = zone[4..6].parse().ok()?;
            return (h < 14 && m < 60 || h == 14 && m == 0).then_some(head);
        }
    }
    Some(value)
}

fn parse_date(value: &str) -> bool {
    strip_zone(value)
        .is_some_and(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok() && v.len() >= 10)
}

fn parse_date_time(value: &str) -> bool {
    let Some(v) = strip_zone(value) else {
        return false;
    };
    // 24:00:00 is the end of the day in XSD.
    if let Some(day) = v.strip_suffix("T24:00:00") {
        return parse_date(day);
    }
    chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        && v.as_bytes().get(10) == Some(&b'T')
}

/// An exact decimal, for comparing bounds and counting digits without floating point.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    text: String,
    negative: bool,
    /// Integer digits without leading zeros.
    integer: String,
    /// Fraction digits without trailing zeros.
    fraction: String,
}

impl Decimal {
    fn parse(s: &str) -> Option<Decimal> {
        let (negative, digits) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let integer = int.trim_start_matches('0').to_string();
        let fraction = frac.trim_end_matches('0').to_string();
        let zero = integer.is_empty() && fraction.is_empty();
        Some(Decimal {
            text: s.to_string(),
            negative: negative && !zero,
            integer,
            fraction,
        })
    }

    fn total_digits(&self) -> usize {
        (self.integer.len() + self.fraction.len()).max(1)
    }

    fn cmp(&self, other: &Decimal) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let magnitude = self
            .integer
            .len()
            .cmp(&other.integer.len())
            .then_with(|| self.integer.cmp(&other.integer))
            .then_with(|| self.fraction.as_str().cmp(other.fraction.as_str()));
        match (self.negative, other.negative) {
            (false, false) => magnitude,
            (true, true) => magnitude.reverse(),
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        let xsd = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">
          <xs:element name="Msg" type="MsgType"/>
          <xs:group name="HEAD"><xs:sequence>
            <xs:element name="sender" type="Sender"/>
          </xs:sequence></xs:group>
          <xs:complexType name="MsgType">
            <xs:sequence>
              <xs:group ref="HEAD"/>
              <xs:element name="Item" type="ItemType" minOccurs="1" maxOccurs="3"/>
              <xs:element name="note" type="xs:string" minOccurs="0"/>
            </xs:sequence>
            <xs:attribute name="PhaseID" type="Phase"/>
          </xs:complexType>
          <xs:complexType name="ItemType">
            <xs:sequence>
              <xs:element name="code" type="Code"/>
              <xs:element name="mass" type="Mass" minOccurs="0"/>
              <xs:element name="date" type="xs:date" minOccurs="0"/>
            </xs:sequence>
          </xs:complexType>
          <xs:simpleType name="Sender"><xs:restriction base="xs:token"><xs:pattern value=".{1,5}"/></xs:restriction></xs:simpleType>
          <xs:simpleType name="Phase"><xs:restriction base="xs:token"><xs:enumeration value=" P5"/></xs:restriction></xs:simpleType>
          <xs:simpleType name="Code"><xs:restriction base="Alpha"><xs:length value="2"/></xs:restriction></xs:simpleType>
          <xs:simpleType name="Alpha"><xs:restriction base="xs:token"><xs:pattern value="[A-Z]+"/><xs:pattern value="[0-9]+"/></xs:restriction></xs:simpleType>
          <xs:simpleType name="Mass"><xs:restriction base="xs:decimal">
            <xs:totalDigits value="6"/><xs:fractionDigits value="2"/>
            <xs:minInclusive value="0.01"/><xs:maxInclusive value="9999.99"/>
          </xs:restriction></xs:simpleType>
        </xs:schema>"#;
        Schema::load(&[("t.xsd", xsd)]).unwrap()
    }

    fn check(body: &str) -> Vec<(String, u8)> {
        let doc = format!(r#"<t:Msg xmlns:t="urn:t">{body}</t:Msg>"#);
        let root = crate::xml::parse(&doc).unwrap();
        schema()
            .validate(&root)
            .into_iter()
            .map(|v| (v.pointer, v.code.code()))
            .collect()
    }

    #[test]
    fn accepts_a_valid_document() {
        assert_eq!(
            check(
                "<sender> ab  c </sender><Item><code>AB</code><mass>12.5</mass></Item><Item><code>12</code><date>2024-02-29</date></Item>"
            ),
            vec![]
        );
    }

    #[test]
    fn names_each_violation_with_its_code() {
        let cases: &[(&str, &[(&str, u8)])] = &[
            ("<Item><code>AB</code></Item>", &[("/Msg/sender", 13)]),
            (
                "<sender>abcdef</sender><Item><code>AB</code></Item>",
                &[("/Msg/sender", 51)],
            ),
            ("<sender>a</sender>", &[("/Msg/Item", 13)]),
            (
                "<sender>a</sender><Item><code>Ab</code></Item>",
                &[("/Msg/Item[1]/code", 51)],
            ),
            (
                "<sender>a</sender><Item><code>A1</code></Item>",
                &[("/Msg/Item[1]/code", 51)],
            ),
            (
                "<sender>a</sender><Item><code>ABC</code></Item>",
                &[("/Msg/Item[1]/code", 39)],
            ),
            (
                "<sender>a</sender><Item><code>AB</code><mass>0</mass></Item>",
                &[("/Msg/Item[1]/mass", 54)],
            ),
            (
                "<sender>a</sender><Item><code>AB</code><mass>10000</mass></Item>",
                &[("/Msg/Item[1]/mass", 55)],
            ),
            (
                "<sender>a</sender><Item><code>AB</code><mass>1.234</mass></Item>",
                &[("/Msg/Item[1]/mass", 39)],
            ),
            (
                "<sender>a</sender><Item><code>AB</code><mass>1e3</mass></Item>",
                &[("/Msg/Item[1]/mass", 50)],
            ),
            (
                "<sender>a</sender><Item><code>AB</code><date>2023-02-29</date></Item>",
                &[("/Msg/Item[1]/date", 50)],
            ),
            (
                "<sender>a</sender><Item><code>AB</code></Item><Item><code>AB</code></Item><Item><code>AB</code></Item><Item><code>AB</code></Item>",
                &[("/Msg/Item", 35)],
            ),
            (
                "<sender>a</sender><sender>b</sender><Item><code>AB</code></Item>",
                &[("/Msg/sender", 35)],
            ),
            (
                "<sender>a</sender><Other/><Item><code>AB</code></Item>",
                &[("/Msg/Other", 15)],
            ),
            (
                "<sender>a</sender><Item><mass>1</mass><code>AB</code></Item>",
                &[("/Msg/Item[1]/code", 13), ("/Msg/Item[1]/code", 15)],
            ),
            (
                "<sender>a</sender><Item><code>AB<x/></code></Item>",
                &[("/Msg/Item[1]/code/x", 15)],
            ),
            (
                "<sender>a</sender><Item>text<code>AB</code></Item>",
                &[("/Msg/Item[1]", 15)],
            ),
            (
                "<sender>a</sender><t:Item><code>AB</code></t:Item>",
                &[("/Msg/Item[1]", 15)],
            ),
        ];
        for (body, expected) in cases {
            let found = check(body);
            let expected: Vec<(String, u8)> =
                expected.iter().map(|(p, c)| (p.to_string(), *c)).collect();
            assert_eq!(found, expected, "{body}");
        }
    }

    #[test]
    fn checks_attributes_and_the_root() {
        let s = schema();
        let doc = |text: &str| crate::xml::parse(text).unwrap();
        assert!(s.validate(&doc(r#"<t:Msg xmlns:t="urn:t" PhaseID="P5"><sender>a</sender><Item><code>AB</code></Item></t:Msg>"#)).is_empty());
        let v = s.validate(&doc(r#"<t:Msg xmlns:t="urn:t" PhaseID="P6" other="1"><sender>a</sender><Item><code>AB</code></Item></t:Msg>"#));
        let found: Vec<(&str, u8)> = v
            .iter()
            .map(|v| (v.pointer.as_str(), v.code.code()))
            .collect();
        assert_eq!(found, vec![("/Msg/@PhaseID", 12), ("/Msg", 15)]);
        let v = s.validate(&doc(r#"<Msg><sender>a</sender></Msg>"#));
        assert_eq!(v.len(), 1);
        assert!(v[0].message.contains("namespace"), "{}", v[0].message);
    }

    #[test]
    fn translates_xsd_patterns() {
        let m = |p: &str, v: &str| translate_pattern(p).unwrap().is_match(v);
        assert!(m(".{1,3}", "abc"));
        assert!(!m(".{1,3}", "abcd"), "patterns are anchored");
        assert!(!m(".{1,3}", "a\rb"), "dot excludes CR");
        assert!(m("\\p{IsBasicLatin}+", "plain"));
        assert!(!m("\\p{IsBasicLatin}+", "Тбилиси"));
        assert!(m("a$b", "a$b"), "$ is literal in XSD");
        assert!(m("\\P{Z}(.*\\P{Z})?", "x y"));
        assert!(!m("\\P{Z}(.*\\P{Z})?", " x"));
        assert!(translate_pattern("[a-z-[aeiou]]").is_err());
        assert!(translate_pattern("\\i\\c*").is_err());
    }

    #[test]
    fn compares_decimals_exactly() {
        let d = |s| Decimal::parse(s).unwrap();
        use std::cmp::Ordering::*;
        assert_eq!(d("10").cmp(&d("9.999")), Greater);
        assert_eq!(d("-0.0").cmp(&d("0")), Equal);
        assert_eq!(d("-2").cmp(&d("-10")), Greater);
        assert_eq!(d("0.10").cmp(&d("0.1")), Equal);
        assert_eq!(d("000123.4500").total_digits(), 5);
        assert!(Decimal::parse(".").is_none());
        assert!(Decimal::parse("1.2.3").is_none());
    }

    #[test]
    fn resolves_relative_includes() {
        assert_eq!(
            resolve_location("include-files/custom.xsd", "../ctypes.xsd"),
            "ctypes.xsd"
        );
        assert_eq!(resolve_location("cc015c.xsd", "ctypes.xsd"), "ctypes.xsd");
    }
}
