//! `--output-as json`: a mechanical, lossless mapping of a tool's XML
//! output (docs/TOOLS.md, "JSON output"), so there is one source of truth
//! (the XML, which follows Pacemaker's schemas) and JSON for scripts.
//!
//! ```text
//!  <status code="0" message="OK">        {"status": {"code": "0", "message": "OK",
//!    <errors>                               "#children": [
//!      <error>a &lt; b</error>                {"errors": {"#children": [
//!    </errors>                                  {"error": {"#children": ["a < b"]}}]}}]}}
//!  </status>
//! ```
//!
//! - An element is an object with one member, named after the element.
//! - Its value is an object: each attribute a member (name and value as
//!   in the XML, the value always a string, in document order), then, if
//!   it has content, `#children`: an array in document order of child
//!   elements (objects as above) and text (strings). `#` cannot start an
//!   XML attribute name, so the key never clashes with an attribute.
//! - CDATA sections are `{"#cdata": "..."}`, comments `{"#comment": "..."}`;
//!   the XML declaration and whitespace between elements are not kept
//!   (they carry no data).
//!
//! [`to_element`] is the exact inverse of [`from_element`].

use cib::xml::{Document, Element, Node};
use serde_json::{Map, Value};

/// The key of an element's content.
pub const CHILDREN: &str = "#children";
const CDATA: &str = "#cdata";
const COMMENT: &str = "#comment";

/// The JSON form of `e`.
pub fn from_element(e: &Element) -> Value {
    let mut body = Map::new();
    for (k, v) in e.attrs() {
        body.insert(k.to_string(), Value::String(v.to_string()));
    }
    if !e.children.is_empty() {
        let children = e
            .children
            .iter()
            .filter_map(|c| match c {
                Node::Element(child) => Some(from_element(child)),
                Node::Text(t) => Some(Value::String(t.clone())),
                Node::CData(t) => Some(single(CDATA, Value::String(t.clone()))),
                Node::Comment(t) => Some(single(COMMENT, Value::String(t.clone()))),
                Node::Pi(_) => None,
            })
            .collect();
        body.insert(CHILDREN.to_string(), Value::Array(children));
    }
    single(&e.name, Value::Object(body))
}

fn single(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_string(), value);
    Value::Object(m)
}

/// Why a JSON value is not the form [`from_element`] produces.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{path}: {why}")]
pub struct NotMapped {
    /// Where, as element names from the root (`pacemaker-result/status`).
    pub path: String,
    pub why: String,
}

/// The element a JSON value (as [`from_element`] writes it) stands for.
pub fn to_element(v: &Value) -> Result<Element, NotMapped> {
    to_element_at(v, "")
}

fn to_element_at(v: &Value, parent: &str) -> Result<Element, NotMapped> {
    let bad = |path: &str, why: &str| NotMapped { path: path.to_string(), why: why.to_string() };
    let Some((name, body)) = v.as_object().filter(|m| m.len() == 1).and_then(|m| m.iter().next()) else {
        return Err(bad(parent, "an element must be an object with exactly one member"));
    };
    let path = if parent.is_empty() { name.clone() } else { format!("{parent}/{name}") };
    let Some(body) = body.as_object() else { return Err(bad(&path, "an element's value must be an object")) };
    let mut e = Element::new(name.as_str());
    for (k, v) in body {
        if k == CHILDREN {
            let Some(items) = v.as_array() else { return Err(bad(&path, "#children must be an array")) };
            for item in items {
                e.children.push(child(item, &path)?);
            }
        } else {
            let Some(s) = v.as_str() else { return Err(bad(&path, &format!("attribute {k} must be a string"))) };
            e.set_attr(k, s);
        }
    }
    Ok(e)
}

fn child(item: &Value, path: &str) -> Result<Node, NotMapped> {
    if let Some(t) = item.as_str() {
        return Ok(Node::Text(t.to_string()));
    }
    let special = item.as_object().filter(|m| m.len() == 1).and_then(|m| m.iter().next());
    match special {
        Some((k, Value::String(t))) if k == CDATA => Ok(Node::CData(t.clone())),
        Some((k, Value::String(t))) if k == COMMENT => Ok(Node::Comment(t.clone())),
        _ => Ok(Node::Element(to_element_at(item, path)?)),
    }
}

/// A tool's XML output as JSON text (pretty, two-space indent, final
/// newline); `None` when `xml` is not a well-formed document (nothing, or
/// text a tool printed before it could produce its document), which the
/// caller leaves as it is.
pub fn xml_text_to_json(xml: &str) -> Option<String> {
    if xml.trim().is_empty() {
        return None;
    }
    let doc = Document::parse(xml).ok()?;
    let mut out = serde_json::to_string_pretty(&from_element(&doc.root)).ok()?;
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(xml: &str) -> Value {
        let e = Document::parse(xml).unwrap().root;
        let v = from_element(&e);
        let text = serde_json::to_string(&v).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(to_element(&back).unwrap(), e, "{text}");
        v
    }

    #[test]
    fn attributes_children_and_text_keep_their_order() {
        let v = round_trip(r#"<r z="1" a="2"><b/>text<a x="&quot;&lt;"/><b y=""/></r>"#);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r##"{"r":{"z":"1","a":"2","#children":[{"b":{}},"text",{"a":{"x":"\"<"}},{"b":{"y":""}}]}}"##
        );
    }

    #[test]
    fn special_characters_cdata_and_comments_survive() {
        round_trip("<r a=\"tab&#9;nl&#10;&amp;\">caf\u{e9} &lt;&amp;&gt; \u{1F600}<![CDATA[<raw>]]><!-- note --></r>");
    }

    #[test]
    fn a_pacemaker_result_maps_as_documented() {
        let xml = "<?xml version=\"1.0\"?>\n<pacemaker-result api-version=\"2.25\" request=\"crm_mon\">\n  <status code=\"0\" message=\"OK\"/>\n</pacemaker-result>\n";
        let json = xml_text_to_json(xml).unwrap();
        assert_eq!(
            json,
            "{\n  \"pacemaker-result\": {\n    \"api-version\": \"2.25\",\n    \"request\": \"crm_mon\",\n    \"#children\": [\n      {\n        \"status\": {\n          \"code\": \"0\",\n          \"message\": \"OK\"\n        }\n      }\n    ]\n  }\n}\n"
        );
        assert_eq!(xml_text_to_json("not xml"), None);
        assert_eq!(xml_text_to_json(""), None);
    }

    #[test]
    fn malformed_json_is_refused_with_its_place() {
        let v: Value = serde_json::from_str(r##"{"a":{"#children":[{"b":{"c":1}}]}}"##).unwrap();
        assert_eq!(to_element(&v), Err(NotMapped { path: "a/b".into(), why: "attribute c must be a string".into() }));
        let v: Value = serde_json::from_str(r#"{"a":{},"b":{}}"#).unwrap();
        assert!(to_element(&v).is_err());
    }
}
