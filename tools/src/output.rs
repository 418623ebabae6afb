//! `--output-as` / `--output-to`: Pacemaker 2.1.5's formatted output for
//! the tools that take it (crm_verify, crm_attribute, crm_resource; crm_mon
//! has its own renderer in `monitor`).
//!
//! ```text
//!  text Outcome (stdout, stderr, code) --+
//!  body elements (the command's data) ---+--> to_xml --> Outcome whose stdout
//!                                                        is a <pacemaker-result>
//! ```
//!
//! The XML document is what 2.1.5's `pcmk__output_t` "xml" format
//! writes: `<pacemaker-result api-version="2.25" request="ARGV">`, the
//! command's elements, then `<status code message>` holding one
//! `<error>` with what the text form prints through `out->err`. What
//! the text form prints as information (`out->info`: "Deleted ...",
//! warnings about created constraints) does not appear; what Pacemaker
//! *logs* (the schema-validation-disabled notice, the numbered listing
//! of a rejected CIB, `(function) \tlevel:` lines) stays on stderr.
//!
//! So every tool keeps one implementation of each command (the text
//! one) and the XML form is derived from its outcome plus the data the
//! command found, instead of a second code path per command.

use cib::{Element, Node};

use crate::cib_file::Outcome;
use crate::ExitCode;

pub mod json;

/// The API version Pacemaker 2.1.5's tools declare.
pub const API_VERSION: &str = "2.25";

/// An `--output-as` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Xml,
    /// The XML document mapped mechanically ([`json`]): every command
    /// runs as for `Xml` and [`Destination::deliver`] converts.
    Json,
}

impl Format {
    /// Whether the command builds Pacemaker's XML document (`xml`, and
    /// `json`, which is derived from it).
    pub fn is_structured(self) -> bool {
        matches!(self, Format::Xml | Format::Json)
    }

    /// The name Pacemaker's messages use for the format.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Xml => "xml",
            Format::Json => "json",
        }
    }

    /// Parses `--output-as`; `Err` is Pacemaker's refusal of a format the
    /// tool does not register (exit 1). crm_resource adds its closing
    /// "Error performing operation" line (`closing_line`).
    pub fn parse(tool: &str, value: Option<&str>, closing_line: bool) -> Result<Format, Outcome> {
        match value {
            None | Some("text") => Ok(Format::Text),
            Some("xml") => Ok(Format::Xml),
            Some("json") => Ok(Format::Json),
            Some(other) => {
                let mut o = Outcome::default();
                o.err(&format!("{tool}: Error creating output format {other}: Unknown output format\n"));
                if closing_line {
                    o.err("Error performing operation: Error occurred\n");
                }
                Err(o.exit(ExitCode::Error))
            }
        }
    }
}

/// The command line as 2.1.5 echoes it in `request`: arguments joined by
/// spaces, one containing a space wrapped in single quotes (with its own
/// single quotes backslashed). Nothing else is quoted.
pub fn request(argv: &[String]) -> String {
    argv.iter()
        .map(|a| if a.contains(' ') { format!("'{}'", a.replace('\'', "\\'")) } else { a.clone() })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Pacemaker's `crm_exit_str` for a process exit code.
pub fn exit_text(code: u8) -> &'static str {
    use ExitCode::*;
    const ALL: &[ExitCode] = &[
        Ok, Error, InvalidParam, Unimplemented, InsufficientPriv, NotInstalled, NotConfigured, NotRunning, Usage, DataErr, NoInput, NoHost,
        Unavailable, Software, OsErr, OsFile, CantCreat, IoErr, TempFail, Protocol, NoPerm, Config, Fatal, Panic, Disconnect, Old, Digest,
        NoSuch, Quorum, Unsafe, Exists, Multiple, Expired, NotYetInEffect, Indeterminate, Unsatisfied, Timeout,
    ];
    ALL.iter().find(|c| c.code() == code).map_or("Unknown exit status", |c| c.describe())
}

/// Whether a stderr line of a text outcome is something Pacemaker logs
/// (and so still prints on stderr in XML mode) rather than reports.
pub fn is_log_line(line: &str) -> bool {
    let numbered = {
        let t = line.trim_start();
        let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        digits > 0 && line.len() > t.len() && t[digits..].starts_with(' ')
    };
    numbered
        || line.starts_with("Schema validation of configuration is disabled")
        || (line.starts_with('(') && line.contains(") \t"))
}

/// How a tool's reported stderr lines map to `<error>` elements: one per
/// `out->err` call in Pacemaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errors {
    /// Dropped: messages 2.1.5 prints only in text (`resource X is NOT
    /// running`).
    None,
    /// One element per line (crm_attribute reports line by line).
    PerLine,
    /// One element per line, but crm_resource's closing "Error
    /// performing operation" line and a continuation ("To prevent ...",
    /// indented) join the line before (one GError in Pacemaker).
    Joined,
}

/// The XML form of a command whose text form gave `text`: `body` is the
/// command's data; the text's reported stderr lines become `<error>`s as
/// `errors` says; logged lines stay on stderr.
pub fn to_xml(text: Outcome, request: &str, body: Vec<Element>, errors: Errors) -> Outcome {
    let mut log = String::new();
    let mut reported = String::new();
    for line in text.stderr.split_inclusive('\n') {
        if is_log_line(line.trim_end_matches('\n')) {
            log.push_str(line);
        } else {
            reported.push_str(line);
        }
    }
    let error = reported.trim_end_matches('\n');
    let errors: Vec<&str> = match errors {
        _ if error.is_empty() => Vec::new(),
        Errors::None => Vec::new(),
        Errors::PerLine => error.lines().collect(),
        Errors::Joined => {
            let mut v: Vec<String> = Vec::new();
            for line in error.lines() {
                let continues = line.starts_with("Error performing operation:") || line.starts_with("To prevent") || line.starts_with(' ') || line.starts_with('\t');
                match v.last_mut() {
                    Some(last) if continues => {
                        last.push('\n');
                        last.push_str(line);
                    }
                    _ => v.push(line.to_string()),
                }
            }
            return Outcome { stdout: document(request, &body, text.code, &v.iter().map(String::as_str).collect::<Vec<_>>()), stderr: log, code: text.code };
        }
    };
    Outcome { stdout: document(request, &body, text.code, &errors), stderr: log, code: text.code }
}

/// A whole `<pacemaker-result>` document.
pub fn document(request: &str, body: &[Element], code: u8, errors: &[&str]) -> String {
    let mut status = Element::new("status").with_attr("code", code.to_string()).with_attr("message", exit_text(code));
    if !errors.is_empty() {
        let mut list = Element::new("errors");
        for e in errors {
            let mut item = Element::new("error");
            if let Some(t) = as_libxml_content(e).filter(|t| !t.is_empty()) {
                item.children.push(Node::Text(t));
            }
            list = list.with_child(item);
        }
        status = status.with_child(list);
    }
    let mut root = Element::new("pacemaker-result").with_attr("api-version", API_VERSION).with_attr("request", request);
    for e in body {
        root = root.with_child(e.clone());
    }
    root = root.with_child(status);
    let mut out = String::new();
    write(&mut out, &root, 0);
    out
}

/// What libxml2 makes of an error message 2.1.5 hands it as element
/// content (`xmlNewChild`), which reads entity references: `&name;` and
/// `&#N;` are decoded, and any other `&` makes the whole content invalid
/// (`None`: Pacemaker prints an empty `<error/>`).
fn as_libxml_content(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';')?;
        let name = &after[..end];
        let decoded = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let num = name.strip_prefix('#')?;
                let code = match num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => num.parse().ok()?,
                };
                char::from_u32(code)?
            }
        };
        out.push(decoded);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// libxml2's formatted layout as Pacemaker's tools print it: two spaces
/// per level, an element holding only text or CDATA on one line.
fn write(out: &mut String, e: &Element, depth: usize) {
    let pad = "  ".repeat(depth);
    out.push_str(&pad);
    out.push('<');
    out.push_str(&e.name);
    for (k, v) in e.attrs() {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        escape(out, v, true);
        out.push('"');
    }
    if e.children.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push('>');
    let inline = e.children.iter().all(|c| matches!(c, Node::Text(_) | Node::CData(_)));
    if !inline {
        out.push('\n');
    }
    for c in &e.children {
        match c {
            Node::Element(child) => write(out, child, depth + 1),
            Node::Text(t) => escape(out, t, false),
            Node::CData(t) => {
                out.push_str("<![CDATA[");
                out.push_str(t);
                out.push_str("]]>");
            }
            Node::Comment(_) | Node::Pi(_) => {}
        }
    }
    if !inline {
        out.push_str(&pad);
    }
    out.push_str("</");
    out.push_str(&e.name);
    out.push_str(">\n");
}

/// libxml2's escaping: `& < >` everywhere, `"` and white-space controls
/// as character references in attributes; `'` is left alone.
fn escape(out: &mut String, s: &str, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Where the output goes: `--output-to FILE` (`-` or none is stdout).
/// Pacemaker opens the destination (truncating it) before running the
/// command, so a file that cannot be created stops the tool (exit 1)
/// before it changes anything.
#[derive(Debug, Clone, Default)]
pub struct Destination {
    path: Option<String>,
    format: Format,
}

impl Destination {
    pub fn open(tool: &str, format: Format, path: Option<&str>, closing_line: bool) -> Result<Destination, Outcome> {
        let Some(path) = path.filter(|p| *p != "-") else { return Ok(Destination { path: None, format }) };
        if let Err(e) = std::fs::File::create(path) {
            let mut o = Outcome::default();
            let name = format.name();
            let why = std::io::Error::from_raw_os_error(e.raw_os_error().unwrap_or(0)).to_string();
            // Rust appends " (os error N)"; strerror does not.
            let why = why.split(" (os error").next().unwrap_or_default();
            o.err(&format!("{tool}: Error creating output format {name}: {why}\n"));
            if closing_line {
                o.err("Error performing operation: Error occurred\n");
            }
            return Err(o.exit(ExitCode::Error));
        }
        Ok(Destination { path: Some(path.to_string()), format })
    }

    /// Moves `o`'s stdout into the file, if there is one; in `json`, the
    /// XML document converted first.
    pub fn deliver(&self, mut o: Outcome) -> Outcome {
        if self.format == Format::Json {
            if let Some(j) = json::xml_text_to_json(&o.stdout) {
                o.stdout = j;
            }
        }
        if let Some(path) = &self.path {
            if std::fs::write(path, &o.stdout).is_ok() {
                o.stdout.clear();
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_quotes_only_arguments_with_spaces() {
        let argv: Vec<String> = ["crm_verify", "-x", "/tmp/a b'c", "", "t\tab"].iter().map(|s| s.to_string()).collect();
        assert_eq!(request(&argv), "crm_verify -x '/tmp/a b\\'c'  t\tab");
    }

    #[test]
    fn document_layout_and_escaping() {
        let body = vec![Element::new("nodes").with_attr("resource", "r'1").with_child({
            let mut n = Element::new("node");
            n.children.push(Node::Text("a<b".into()));
            n
        })];
        let doc = document("crm_resource -W -r \"x\"\t", &body, 105, &["line 1\nline 2"]);
        assert_eq!(
            doc,
            "<pacemaker-result api-version=\"2.25\" request=\"crm_resource -W -r &quot;x&quot;&#9;\">\n  <nodes resource=\"r'1\">\n    <node>a&lt;b</node>\n  </nodes>\n  <status code=\"105\" message=\"No such object\">\n    <errors>\n      <error>line 1\nline 2</error>\n    </errors>\n  </status>\n</pacemaker-result>\n"
        );
    }

    #[test]
    fn error_text_goes_through_libxml_entity_reading() {
        assert_eq!(as_libxml_content("plain <text>").as_deref(), Some("plain <text>"));
        assert_eq!(as_libxml_content("a &amp; b &#65;").as_deref(), Some("a & b A"));
        assert_eq!(as_libxml_content("a<b&c=<1>"), None);
        let doc = document("x", &[], 78, &["Error setting a<b&c=<1>", "ok"]);
        assert!(doc.contains("      <error/>\n      <error>ok</error>\n"), "{doc}");
    }

    #[test]
    fn log_lines_stay_on_stderr() {
        let text = Outcome {
            stdout: "Deleted crm_config option: id=x name=y\n".into(),
            stderr: "Schema validation of configuration is disabled (enabling is encouraged and prevents common misconfigurations)\n   1 <cib>\n  10 \ncrm_resource: Error performing operation: Invalid configuration\n".into(),
            code: 78,
        };
        let x = to_xml(text, "crm_resource -D", Vec::new(), Errors::Joined);
        assert!(x.stderr.starts_with("Schema validation") && x.stderr.ends_with("  10 \n"), "{}", x.stderr);
        assert!(x.stdout.contains("<error>crm_resource: Error performing operation: Invalid configuration</error>"), "{}", x.stdout);
        assert!(!x.stdout.contains("Deleted"));
        assert_eq!(x.code, 78);
    }

    #[test]
    fn unknown_format_is_refused() {
        let e = Format::parse("crm_resource", Some("yaml"), true).unwrap_err();
        assert_eq!(e.code, 1);
        assert_eq!(e.stderr, "crm_resource: Error creating output format yaml: Unknown output format\nError performing operation: Error occurred\n");
        assert_eq!(Format::parse("crm_verify", Some("json"), false).unwrap(), Format::Json);
        assert_eq!(Format::parse("crm_verify", Some("xml"), false).unwrap(), Format::Xml);
    }
}
