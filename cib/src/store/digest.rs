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
//! The serialization is Pacemaker 2.1.5's own compact form, quirks and
//! all ([`Style::PACEMAKER_COMPACT`]; `cib::xml::write` describes it). It
//! was pinned down by experiment against `cibadmin --md5-sum`.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use md5::{Digest, Md5};

use crate::xml::{Element, Style};

/// Length of a digest in hex digits.
pub const DIGEST_HEX_LEN: usize = 32;

/// The on-disk digest of a CIB whose root element is `root`. This is also
/// Pacemaker's v1 patchset digest.
pub fn on_disk_digest(root: &Element) -> String {
    let mut framed = String::from(" ");
    Style::PACEMAKER_COMPACT.write_element(&mut framed, root);
    framed.push('\n');
    md5_hex(&framed)
}

/// MD5 of `s` in lowercase hex, as Pacemaker prints digests.
pub(crate) fn md5_hex(s: &str) -> String {
    let sum = Md5::digest(s.as_bytes());
    let mut hex = String::with_capacity(DIGEST_HEX_LEN);
    for b in sum.iter() {
        let _ = write!(hex, "{b:02x}");
    }
    hex
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
