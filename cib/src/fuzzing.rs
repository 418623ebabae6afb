//! Properties checked by the fuzz targets in `fuzz/` and replayed over the
//! committed corpus by `cib/tests/fuzz_corpus.rs`, so CI keeps them honest
//! without a fuzzer.

use crate::xml::Document;

/// Parses arbitrary bytes. A parse error is fine; a panic is a bug, and a
/// document that does not survive serialize + parse unchanged is a bug.
pub fn check_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(doc) = Document::parse(text) else { return };
    let out = doc.to_file_string();
    let again = Document::parse(&out)
        .unwrap_or_else(|e| panic!("serialized document does not parse: {e}\n{out}"));
    assert_eq!(again, doc, "round trip changed the document:\n{out}");
    assert_eq!(again.to_file_string(), out, "serialization is not stable");
}
