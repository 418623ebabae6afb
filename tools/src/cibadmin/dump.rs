//! XML text exactly as Pacemaker 2.1.5's tools print it and write CIB files.
//!
//! `cib::xml` serializes with libxml2's escaping, which round-trips every
//! value. Pacemaker 2.1.5 uses its own dumper instead, and its output is
//! what users and scripts see, so cibadmin reproduces it byte for byte:
//!
//! - two spaces of indentation per level, one node per line, `/>` for
//!   childless elements, no XML declaration;
//! - attribute values escape `< > " ' &` as entities, a tab as four
//!   spaces, newline and carriage return as the two characters `\n` and
//!   `\r`, other control characters and DEL as a backslash and three octal
//!   digits; and once a byte at or above 0x80 (any non-ASCII character)
//!   has been seen, the rest of the value is written raw, as 2.1.5 does;
//! - comments and CDATA sections on their own lines; text nodes are never
//!   printed (Pacemaker strips them from a CIB).

use cib::{Element, Node};

/// Serializes `e` and its subtree in Pacemaker's formatted style.
pub fn formatted(e: &Element) -> String {
    let mut out = String::new();
    element(&mut out, e, 0);
    out
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn element(out: &mut String, e: &Element, depth: usize) {
    indent(out, depth);
    out.push('<');
    out.push_str(&e.name);
    for (k, v) in e.attrs() {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        escape_attr(out, v);
        out.push('"');
    }
    // Text nodes still count as children for the `/>` decision, as in
    // Pacemaker's dumper, even though they are not printed.
    if e.children.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    for c in &e.children {
        match c {
            Node::Element(c) => element(out, c, depth + 1),
            Node::Comment(t) => {
                indent(out, depth + 1);
                out.push_str("<!--");
                out.push_str(t);
                out.push_str("-->\n");
            }
            Node::CData(t) => {
                indent(out, depth + 1);
                out.push_str("<![CDATA[");
                out.push_str(t);
                out.push_str("]]>\n");
            }
            Node::Text(_) | Node::Pi(_) => {}
        }
    }
    indent(out, depth);
    out.push_str("</");
    out.push_str(&e.name);
    out.push_str(">\n");
}

/// Pacemaker 2.1.5's attribute escaping (see the module docs).
pub fn escape_attr(out: &mut String, v: &str) {
    for (i, c) in v.char_indices() {
        if !c.is_ascii() {
            out.push_str(&v[i..]);
            return;
        }
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '&' => out.push_str("&amp;"),
            '\t' => out.push_str("    "),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c < ' ' || c == '\x7f' => out.push_str(&format!("\\{:03o}", c as u32)),
            c => out.push(c),
        }
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
    fn layout() {
        let e = parse_element("<a x=\"1\"><!-- c --><b/><c><![CDATA[<raw>]]></c><d>gone</d></a>").unwrap();
        assert_eq!(
            formatted(&e),
            "<a x=\"1\">\n  <!-- c -->\n  <b/>\n  <c>\n    <![CDATA[<raw>]]>\n  </c>\n  <d>\n  </d>\n</a>\n"
        );
    }

    #[test]
    fn escaping_matches_pacemaker_2_1_5() {
        let esc = |v: &str| {
            let mut s = String::new();
            escape_attr(&mut s, v);
            s
        };
        assert_eq!(esc("a&b<>\"'"), "a&amp;b&lt;&gt;&quot;&apos;");
        assert_eq!(esc("a\tb\nc\rd\x7f\x01"), "a    b\\nc\\rd\\177\\001");
        assert_eq!(esc("x\né\n&"), "x\\né\n&");
    }

    #[test]
    fn numbered_listing() {
        assert_eq!(numbered("<a>\n</a>\n"), "   1 <a>\n   2 </a>\n   3 \n");
    }
}
