//! The `.sig` digest: what it is computed over and how it is stored.
//!
//! Pacemaker (and Heartbeat 2.x before it) keeps, beside `cib.xml`, a file
//! `cib.xml.sig` holding 32 lowercase hex digits and nothing else: the MD5
//! of a compact serialization of the *parsed* root element, framed by one
//! leading space and one trailing newline (a quirk of the original
//! serializer that Pacemaker keeps for compatibility). Blank text between
//! elements is therefore not part of the digest, so re-indenting a file
//! does not change it. We compute the same value as Pacemaker 2.1.5 (tests
//! compare with `cibadmin --md5-sum`), so a node can adopt a CIB directory
//! written by Pacemaker and the other way round.
//!
//! That serialization is not quite XML, and not quite our
//! [`Element::to_xml_compact`]; it was established by experiment against
//! `cibadmin --md5-sum`:
//! - text content is left out entirely (an element whose only children are
//!   text is written as `<e/>`), processing instructions are left out but
//!   still make their parent `<e></e>`; comments and CDATA are written raw;
//! - attribute values escape `< > " ' &` as entities, a tab as four
//!   spaces, a newline as the two characters `\n`, a carriage return as
//!   `\r`, DEL as `\177`, and stop escaping altogether at the first
//!   non-ASCII character (the rest of the value is written as is).

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use md5::{Digest, Md5};

use crate::xml::{Element, Node};

/// Length of a digest in hex digits.
pub const DIGEST_HEX_LEN: usize = 32;

/// The on-disk digest of a CIB whose root element is `root`.
pub fn on_disk_digest(root: &Element) -> String {
    let mut framed = String::from(" ");
    write_element(&mut framed, root);
    framed.push('\n');
    let sum = Md5::digest(framed.as_bytes());
    let mut hex = String::with_capacity(DIGEST_HEX_LEN);
    for b in sum.iter() {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

fn write_element(out: &mut String, e: &Element) {
    out.push('<');
    out.push_str(&e.name);
    for (name, value) in e.attrs() {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape_attr(out, value);
        out.push('"');
    }
    if e.children.iter().all(|c| matches!(c, Node::Text(_))) {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for c in &e.children {
        match c {
            Node::Element(child) => write_element(out, child),
            Node::Comment(t) => {
                out.push_str("<!--");
                out.push_str(t);
                out.push_str("-->");
            }
            Node::CData(t) => {
                out.push_str("<![CDATA[");
                out.push_str(t);
                out.push_str("]]>");
            }
            Node::Text(_) | Node::Pi(_) => {}
        }
    }
    out.push_str("</");
    out.push_str(&e.name);
    out.push('>');
}

fn escape_attr(out: &mut String, value: &str) {
    for (i, c) in value.char_indices() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '&' => out.push_str("&amp;"),
            '\t' => out.push_str("    "),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if !c.is_ascii() => {
                out.push_str(&value[i..]);
                return;
            }
            c if c < ' ' || c == '\x7f' => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// Reads a `.sig` file. `Ok(None)` when it does not exist. Surrounding
/// white space is ignored (a hand-made sig may end in a newline); the
/// content is otherwise returned as found, so a damaged sig simply fails
/// to match.
pub(crate) fn read_sig(path: &Path) -> io::Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).trim().to_string())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::Document;

    #[test]
    fn layout_does_not_matter_content_does() {
        let a = Document::parse("<cib epoch=\"1\"><configuration/></cib>").unwrap();
        let b = Document::parse("<?xml version=\"1.0\"?>\n<cib epoch=\"1\">\n  <configuration/>\n</cib>\n").unwrap();
        let c = Document::parse("<cib epoch=\"2\"><configuration/></cib>").unwrap();
        assert_eq!(on_disk_digest(&a.root), on_disk_digest(&b.root));
        assert_ne!(on_disk_digest(&a.root), on_disk_digest(&c.root));
        assert_eq!(on_disk_digest(&a.root).len(), DIGEST_HEX_LEN);
        // md5(" <cib epoch=\"1\"><configuration/></cib>\n"), computed independently.
        let expected = {
            let out = std::process::Command::new("md5sum")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut child| {
                    use std::io::Write;
                    child.stdin.take().unwrap().write_all(b" <cib epoch=\"1\"><configuration/></cib>\n")?;
                    child.wait_with_output()
                })
                .expect("md5sum runs");
            String::from_utf8(out.stdout).unwrap()[..32].to_string()
        };
        assert_eq!(on_disk_digest(&a.root), expected);
    }
}
