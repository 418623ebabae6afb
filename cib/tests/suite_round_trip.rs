//! Every CIB of Pacemaker's scheduler regression suite survives parse and
//! serialize with nothing lost.
//!
//! Two checks per file: serializing the parsed tree and parsing that again
//! gives the same tree (no loss, comments included), and the serialized
//! text equals the input once both are reduced to significant content by
//! an independent tokenizer (so a bug shared by parser and serializer
//! cannot hide itself).

use std::path::PathBuf;

use cib::Document;

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcmk-suite/xml")
}

/// The input's significant tokens: tags and comments with blank text
/// between them removed. Independent of `cib::xml` on purpose.
fn significant(text: &str) -> String {
    let body = match text.strip_prefix("<?xml") {
        Some(rest) => &rest[rest.find("?>").expect("declaration ends") + 2..],
        None => text,
    };
    let mut tokens: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(lt) = rest.find('<') {
        let between = &rest[..lt];
        if !between.trim().is_empty() {
            tokens.push(between.to_string());
        }
        let end = if rest[lt..].starts_with("<!--") {
            lt + rest[lt..].find("-->").expect("comment ends") + 3
        } else {
            lt + rest[lt..].find('>').expect("tag ends") + 1
        };
        let tag = normalize_tag(&rest[lt..end]);
        // `<a></a>` is `<a/>`.
        if let Some(name) = tag.strip_prefix("</").and_then(|t| t.strip_suffix('>')) {
            if let Some(prev) = tokens.last_mut() {
                let opens = prev.strip_prefix('<').is_some_and(|p| {
                    p.strip_prefix(name).is_some_and(|r| r.starts_with([' ', '>']))
                });
                if opens && !prev.ends_with("/>") {
                    prev.truncate(prev.len() - 1);
                    prev.push_str("/>");
                    rest = &rest[end..];
                    continue;
                }
            }
        }
        tokens.push(tag);
        rest = &rest[end..];
    }
    tokens.concat()
}

/// `<a  x="1" />` and `<a x="1"/>` are the same tag.
fn normalize_tag(tag: &str) -> String {
    if tag.starts_with("<!--") {
        return tag.to_string();
    }
    let mut out = String::new();
    let mut in_quote = None;
    let mut last_space = false;
    for c in tag.chars() {
        match in_quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    in_quote = None;
                }
            }
            None if c.is_whitespace() => last_space = true,
            None => {
                if last_space && c != '/' && c != '>' && c != '=' && !out.ends_with('=') {
                    out.push(' ');
                }
                last_space = false;
                if c == '"' || c == '\'' {
                    in_quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out.replace('\'', "\"")
}

#[test]
fn all_suite_files_round_trip_without_loss() {
    let dir = suite_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 537, "the suite has 537 CIBs");
    let mut textual_mismatch = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let doc = Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let out = doc.to_xml();
        let again = Document::parse(&out).unwrap_or_else(|e| panic!("{}: reparse: {e}", path.display()));
        assert_eq!(again, doc, "{}: tree changed across a round trip", path.display());
        if significant(&text) != significant(&out) {
            textual_mismatch.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(textual_mismatch.is_empty(), "content differs after round trip: {textual_mismatch:?}");
}
