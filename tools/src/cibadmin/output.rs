//! What cibadmin prints besides messages: XML results (in the project's
//! one serializer, `cib::xml::write`, with lossless escaping), `-e` paths,
//! and the numbered listing of a CIB that failed validation.

use cib::Element;

/// Pacemaker's `print_xml_output`: the XML, or with `-e` the ids (paths)
/// of what was found.
pub fn xml_or_paths(out: &Element, node_path: bool) -> String {
    let mut text = String::new();
    push_xml_or_paths(&mut text, out, node_path);
    text
}

fn push_xml_or_paths(text: &mut String, out: &Element, node_path: bool) {
    if !node_path {
        text.push_str(&out.to_xml());
    } else if out.name == "xpath-query" {
        for c in out.elements() {
            push_xml_or_paths(text, c, true);
        }
    } else if let Some(id) = out.id() {
        text.push_str(id);
        text.push('\n');
    }
}

/// Pacemaker's `validate_xml_verbose` listing: the document with every
/// line numbered (`%4d `), ending with an empty numbered line.
pub fn numbered(text: &str) -> String {
    let mut out = String::from("   1 ");
    let mut line = 1;
    for c in text.chars() {
        if c == '\n' {
            line += 1;
            out.push_str(&format!("\n{line:4} "));
        } else {
            out.push(c);
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::xml::parse_element;

    #[test]
    fn numbered_listing() {
        assert_eq!(numbered("<a>\n</a>\n"), "   1 <a>\n   2 </a>\n   3 \n");
    }

    #[test]
    fn paths_or_xml() {
        let q = parse_element("<xpath-query><p id=\"/cib/a\"/><p id=\"/cib/b\"/></xpath-query>").unwrap();
        assert_eq!(xml_or_paths(&q, true), "/cib/a\n/cib/b\n");
        assert_eq!(xml_or_paths(&q, false), "<xpath-query>\n  <p id=\"/cib/a\"/>\n  <p id=\"/cib/b\"/>\n</xpath-query>\n");
    }
}
