//! The writer: tree to text, in Pacemaker's layout, with one of two
//! escapings. This is the only XML serializer in the project; what
//! differs between its users is a [`Style`], not a copy of the code.
//!
//! # Layout
//!
//! [`Layout::Formatted`] is what Pacemaker's tools print and write: two
//! spaces of indentation per level, one node per line, `/>` for an
//! element without children, no XML declaration. [`Layout::Compact`] is
//! the same on one line with no added white space (what Pacemaker hashes).
//! An element holding text is written on one line whatever the layout:
//! indentation around text would change the text.
//!
//! # Escaping
//!
//! - [`Escaping::Lossless`] (the default) is for everything a user sees
//!   and every file we write. In attribute values `& < > " '` become
//!   `&amp; &lt; &gt; &quot; &apos;` (`'` as Pacemaker writes it), and
//!   newline, carriage return and tab become `&#10; &#13; &#9;`, so they
//!   survive a re-read instead of being normalized to spaces; everything
//!   else is written as is. Text and CDATA are written too.
//! - [`Escaping::Pacemaker215`] reproduces the bytes of Pacemaker 2.1.5's
//!   own serializer, and exists only so that we compute the same digests
//!   (`cib.xml.sig`, patchset digests). It is lossy, so nothing a user
//!   reads or we store is ever written with it. Attribute values follow
//!   `crm_xml_escape`: the same five entities, a tab as four spaces, a
//!   newline as the two characters `\n`, a carriage return as `\r`, other
//!   control characters and DEL as a backslash and three octal digits, and
//!   from the first non-ASCII character on, the rest of the value raw. And
//!   the tree is the one Pacemaker holds: text nodes (which it strips on
//!   parse) are neither written nor count as content; processing
//!   instructions are not written but still make their parent
//!   `<e></e>` rather than `<e/>`; comments and CDATA are written raw.
//!
//! For every ordinary value (ASCII without control characters) the two
//! escapings give identical bytes, so our output matches Pacemaker's
//! wherever Pacemaker loses nothing.

use super::{Document, Element, Node};

/// Where line breaks and indentation go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Two spaces per level, one node per line, each line ending in `\n`.
    #[default]
    Formatted,
    /// One line, no added white space, no final newline.
    Compact,
}

/// How values are escaped, and which nodes are written (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Escaping {
    /// Everything survives a re-read; the default.
    #[default]
    Lossless,
    /// Pacemaker 2.1.5's serializer, byte for byte; for digests only.
    Pacemaker215,
}

/// A way of writing XML: layout, escaping, and attributes to leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub layout: Layout,
    pub escaping: Escaping,
    /// Attributes not written, by name. Pacemaker's v2 patchset digest
    /// leaves out the ones that change on every write.
    pub omit_attrs: &'static [&'static str],
}

impl Style {
    /// Pacemaker's tools' layout with lossless escaping: what we print and store.
    pub const FORMATTED: Style =
        Style { layout: Layout::Formatted, escaping: Escaping::Lossless, omit_attrs: &[] };
    /// One line, lossless escaping.
    pub const COMPACT: Style = Style { layout: Layout::Compact, escaping: Escaping::Lossless, omit_attrs: &[] };
    /// Pacemaker 2.1.5's compact serialization, which its digests hash.
    pub const PACEMAKER_COMPACT: Style =
        Style { layout: Layout::Compact, escaping: Escaping::Pacemaker215, omit_attrs: &[] };

    /// This style with `names` left out of every element's attributes.
    pub const fn omitting(self, names: &'static [&'static str]) -> Style {
        Style { omit_attrs: names, ..self }
    }

    /// `e` and its subtree as text.
    pub fn element(&self, e: &Element) -> String {
        let mut out = String::new();
        self.write_element(&mut out, e);
        out
    }

    /// Appends `e` and its subtree to `out`.
    pub fn write_element(&self, out: &mut String, e: &Element) {
        Writer { style: self, out }.element(e, 0);
    }

    /// A whole document without an XML declaration: the nodes before the
    /// root, the root, the nodes after it.
    pub fn document(&self, doc: &Document) -> String {
        let mut out = String::new();
        self.write_document(&mut out, doc);
        out
    }

    /// Appends a whole document (no declaration) to `out`.
    pub fn write_document(&self, out: &mut String, doc: &Document) {
        let mut w = Writer { style: self, out };
        for n in &doc.prolog {
            w.node(n, 0);
        }
        w.element(&doc.root, 0);
        for n in &doc.epilog {
            w.node(n, 0);
        }
    }

    fn formatted(&self) -> bool {
        self.layout == Layout::Formatted
    }

    fn lossless(&self) -> bool {
        self.escaping == Escaping::Lossless
    }

    /// Whether `n` appears in the output. Pacemaker 2.1.5 holds no text
    /// nodes and does not write processing instructions.
    fn writes(&self, n: &Node) -> bool {
        self.lossless() || !matches!(n, Node::Text(_) | Node::Pi(_))
    }

    /// Whether `n` makes its parent `<e></e>` rather than `<e/>`.
    fn counts(&self, n: &Node) -> bool {
        self.lossless() || !matches!(n, Node::Text(_))
    }
}

/// One serialization in progress.
struct Writer<'a> {
    style: &'a Style,
    out: &'a mut String,
}

impl Writer<'_> {
    fn indent(&mut self, depth: usize) {
        if self.style.formatted() {
            for _ in 0..depth {
                self.out.push_str("  ");
            }
        }
    }

    fn newline(&mut self) {
        if self.style.formatted() {
            self.out.push('\n');
        }
    }

    fn element(&mut self, e: &Element, depth: usize) {
        self.indent(depth);
        self.out.push('<');
        self.out.push_str(&e.name);
        for (name, value) in e.attrs() {
            if self.style.omit_attrs.contains(&name) {
                continue;
            }
            self.out.push(' ');
            self.out.push_str(name);
            self.out.push_str("=\"");
            escape_attr(self.out, value, self.style.escaping);
            self.out.push('"');
        }
        if !e.children.iter().any(|c| self.style.counts(c)) {
            self.out.push_str("/>");
            self.newline();
            return;
        }
        self.out.push('>');
        // Text is content: indentation around it would change it, so an
        // element holding text is written on one line.
        let holds_text = e.children.iter().any(|c| matches!(c, Node::Text(_)) && self.style.writes(c));
        if holds_text && self.style.formatted() {
            let inline = Style { layout: Layout::Compact, ..*self.style };
            let mut w = Writer { style: &inline, out: self.out };
            for c in &e.children {
                w.node(c, 0);
            }
        } else {
            self.newline();
            for c in &e.children {
                self.node(c, depth + 1);
            }
            self.indent(depth);
        }
        self.out.push_str("</");
        self.out.push_str(&e.name);
        self.out.push('>');
        self.newline();
    }

    fn node(&mut self, n: &Node, depth: usize) {
        if let Node::Element(e) = n {
            return self.element(e, depth);
        }
        if !self.style.writes(n) {
            return;
        }
        self.indent(depth);
        match n {
            Node::Element(_) => unreachable!("handled above"),
            Node::Text(t) => escape_text(self.out, t),
            Node::CData(t) => {
                self.out.push_str("<![CDATA[");
                if self.style.lossless() {
                    // "]]>" cannot appear inside one section: split it across two.
                    self.out.push_str(&t.replace("]]>", "]]]]><![CDATA[>"));
                } else {
                    self.out.push_str(t);
                }
                self.out.push_str("]]>");
            }
            Node::Comment(c) => {
                self.out.push_str("<!--");
                self.out.push_str(c);
                self.out.push_str("-->");
            }
            Node::Pi(p) => {
                self.out.push_str("<?");
                self.out.push_str(p);
                self.out.push_str("?>");
            }
        }
        self.newline();
    }
}

/// Appends `value` escaped for use inside a double-quoted attribute.
/// Public for writers of other XML dialects (graphs, messages) that build
/// their text directly rather than through an [`Element`].
pub fn escape_attr(out: &mut String, value: &str, escaping: Escaping) {
    for (i, c) in value.char_indices() {
        if let Some(entity) = markup_entity(c) {
            out.push_str(entity);
            continue;
        }
        match (escaping, c) {
            (Escaping::Lossless, '\n') => out.push_str("&#10;"),
            (Escaping::Lossless, '\r') => out.push_str("&#13;"),
            (Escaping::Lossless, '\t') => out.push_str("&#9;"),
            (Escaping::Lossless, c) => out.push(c),
            // Pacemaker 2.1.5's `crm_xml_escape` (module docs).
            (Escaping::Pacemaker215, '\t') => out.push_str("    "),
            (Escaping::Pacemaker215, '\n') => out.push_str("\\n"),
            (Escaping::Pacemaker215, '\r') => out.push_str("\\r"),
            // It stops at the first multi-byte UTF-8 sequence.
            (Escaping::Pacemaker215, c) if !c.is_ascii() => {
                out.push_str(&value[i..]);
                return;
            }
            (Escaping::Pacemaker215, c) if c < ' ' || c == '\x7f' => {
                out.push_str(&format!("\\{:03o}", c as u32))
            }
            (Escaping::Pacemaker215, c) => out.push(c),
        }
    }
}

/// The entity both escapings use for a character that is markup in an
/// attribute value (`'` as `&apos;`, as Pacemaker writes it).
fn markup_entity(c: char) -> Option<&'static str> {
    Some(match c {
        '&' => "&amp;",
        '<' => "&lt;",
        '>' => "&gt;",
        '"' => "&quot;",
        '\'' => "&apos;",
        _ => return None,
    })
}

/// Text content: `& < >` as entities (quotes need none), and a carriage
/// return as a reference (a raw one would be read back as a line feed).
fn escape_text(out: &mut String, t: &str) {
    for c in t.chars() {
        match c {
            '\r' => out.push_str("&#13;"),
            '"' | '\'' => out.push(c),
            c => match markup_entity(c) {
                Some(entity) => out.push_str(entity),
                None => out.push(c),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_element;

    const PACEMAKER_FORMATTED: Style =
        Style { layout: Layout::Formatted, escaping: Escaping::Pacemaker215, omit_attrs: &[] };

    fn attr_in(style: Style, value: &str) -> String {
        let out = style.element(&Element::new("a").with_attr("v", value));
        out.trim_end().strip_prefix("<a v=\"").unwrap().strip_suffix("\"/>").unwrap().to_string()
    }

    #[test]
    fn lossless_escaping_round_trips() {
        let value = "a&b<c>d\"e'f\ng\rh\ti\u{7f}é<&";
        assert_eq!(attr_in(Style::FORMATTED, value), "a&amp;b&lt;c&gt;d&quot;e&apos;f&#10;g&#13;h&#9;i\u{7f}é&lt;&amp;");
        let e = Element::new("a").with_attr("v", value);
        assert_eq!(parse_element(&e.to_xml()).unwrap(), e);
    }

    #[test]
    fn pacemaker_215_escaping() {
        let p = |v: &str| attr_in(Style::PACEMAKER_COMPACT, v);
        assert_eq!(p("a&b<>\"'"), "a&amp;b&lt;&gt;&quot;&apos;");
        assert_eq!(p("a\tb\nc\rd\x7f\x01"), "a    b\\nc\\rd\\177\\001");
        assert_eq!(p("x\né\n&"), "x\\né\n&");
    }

    #[test]
    fn ordinary_values_are_the_same_in_both_escapings() {
        let value = "ordinary value: <ip> & \"quotes\" 'too' ~!@#$%^*()_+=[]{}|;:,./?`";
        assert_eq!(attr_in(Style::FORMATTED, value), attr_in(Style::PACEMAKER_COMPACT, value));
    }

    #[test]
    fn formatted_layout() {
        let e = parse_element("<a x=\"1\"><!-- c --><b/><c><![CDATA[<raw>]]></c><d>kept &amp; <e/></d><f><?pi x?></f></a>")
            .unwrap();
        assert_eq!(
            Style::FORMATTED.element(&e),
            "<a x=\"1\">\n  <!-- c -->\n  <b/>\n  <c>\n    <![CDATA[<raw>]]>\n  </c>\n  <d>kept &amp; <e/></d>\n  <f>\n    <?pi x?>\n  </f>\n</a>\n"
        );
        // Pacemaker holds no text and writes no processing instructions.
        assert_eq!(
            PACEMAKER_FORMATTED.element(&e),
            "<a x=\"1\">\n  <!-- c -->\n  <b/>\n  <c>\n    <![CDATA[<raw>]]>\n  </c>\n  <d>\n    <e/>\n  </d>\n  <f>\n  </f>\n</a>\n"
        );
    }

    #[test]
    fn compact_layout() {
        let e = parse_element("<a x=\"1\">\n  <b/>\n  <t>txt</t>\n  <p><?pi?></p>\n</a>").unwrap();
        assert_eq!(Style::COMPACT.element(&e), "<a x=\"1\"><b/><t>txt</t><p><?pi?></p></a>");
        assert_eq!(Style::PACEMAKER_COMPACT.element(&e), "<a x=\"1\"><b/><t/><p></p></a>");
        let filtered = Style::PACEMAKER_COMPACT.omitting(&["x"]);
        assert_eq!(filtered.element(&e), "<a><b/><t/><p></p></a>");
    }

    #[test]
    fn documents_keep_what_surrounds_the_root() {
        let doc = Document::parse("<!-- a --><r/><?b c?>").unwrap();
        assert_eq!(Style::FORMATTED.document(&doc), "<!-- a -->\n<r/>\n<?b c?>\n");
        assert_eq!(Style::COMPACT.document(&doc), "<!-- a --><r/><?b c?>");
    }

    /// The fuzzer's property (parse, write, parse: same tree; writing is
    /// stable) on the layouts this module decides: CDATA on its own line,
    /// text forcing one line, nodes around the root, every escaped character.
    #[test]
    fn layout_choices_keep_the_parse_property() {
        let inputs = [
            "<a><![CDATA[x]]><!--c--><?p q?><b/></a>",
            "<a><![CDATA[  ]]></a>",
            "<a>t<![CDATA[x]]><b>u</b> v </a>",
            "<?p?><!--c--><a x='&#9;&#10;&#13;&apos;&quot;&lt;&gt;&amp;é&#127;'>\r\n&#13;<b/>\n</a><!--d-->",
            "<a><b><c>deep &amp; <d/></c></b></a>",
        ];
        for input in inputs {
            crate::fuzzing::check_parse(input.as_bytes());
        }
    }

    #[test]
    fn cdata_with_its_terminator_is_split() {
        let mut e = Element::new("a");
        e.children.push(Node::CData("x]]>y".into()));
        let text = e.to_xml_compact();
        assert_eq!(text, "<a><![CDATA[x]]]]><![CDATA[>y]]></a>");
        assert_eq!(parse_element(&text).unwrap().text(), "x]]>y");
    }
}
