//! crm_mon's HTML page in a real browser: headless Chromium
//! (`chromium-headless-shell`, or `chromium --headless`) loads the page
//! crm_mon writes for a few CIBs, the console must report nothing (no
//! script errors, no warnings), the DOM Chromium built must hold every
//! node and resource the XML output lists, and a screenshot is taken
//! and checked to be a real PNG of some substance.
//!
//! The test fails, never skips, without a browser: CI installs
//! chromium-headless-shell (.ci/run). A control page with a script error
//! proves the console check can fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The headless browser and the arguments that make it headless.
fn browser() -> (PathBuf, Vec<&'static str>) {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
        let shell = Path::new(dir).join("chromium-headless-shell");
        if shell.exists() {
            return (shell, vec![]);
        }
        let full = Path::new(dir).join("chromium");
        if full.exists() {
            return (full, vec!["--headless"]);
        }
    }
    panic!("no headless Chromium: install chromium-headless-shell (or chromium)");
}

/// Runs the browser on `page` with `extra` arguments; console messages
/// go to stderr (`--enable-logging=stderr`).
fn chromium(page: &Path, home: &Path, extra: &[&str]) -> Output {
    let (bin, mut args) = browser();
    args.extend(["--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr", "--log-level=0"]);
    let out = Command::new(&bin)
        .args(&args)
        .arg(format!("--user-data-dir={}", home.join("profile").display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .env("HOME", home)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    assert!(out.status.success(), "{} failed: {}", bin.display(), String::from_utf8_lossy(&out.stderr));
    out
}

/// The page's console messages Chromium logged.
fn console_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect()
}

fn crm_mon(cib: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_crm_mon")).args(args).env("CIB_file", cib).env("TZ", "UTC").env_remove("CIB_shadow").output().unwrap();
    assert!(out.status.success(), "crm_mon {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Node names and resource ids the XML output lists.
fn listed(xml: &str) -> Vec<String> {
    let root = cib::xml::parse_element(xml).expect("crm_mon's XML parses");
    let mut out = Vec::new();
    for e in root.descendants() {
        match e.name.as_str() {
            "node" if e.attr("type").is_some() => out.extend(e.attr("name").map(str::to_string)),
            "resource" => out.extend(e.attr("id").map(str::to_string)),
            _ => {}
        }
    }
    assert!(!out.is_empty(), "nothing listed in {xml}");
    out
}

fn suite(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/pcmk-suite/xml")).join(name)
}

#[test]
fn the_page_renders_in_headless_chromium_without_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let cibs = [suite("594.xml"), suite("bug-lf-2106.xml"), PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/cib.xml"))];
    for (i, cib) in cibs.iter().enumerate() {
        let page = tmp.path().join(format!("status-{i}.html"));
        std::fs::write(&page, crm_mon(cib, &["-1", "-r", "-f", "-A", "--output-as", "html"])).unwrap();

        let dom = chromium(&page, tmp.path(), &["--dump-dom"]);
        assert_eq!(console_lines(&dom), Vec::<String>::new(), "{}: the console reported problems", cib.display());
        let dom_text = String::from_utf8_lossy(&dom.stdout);
        assert!(dom_text.contains("<title>"), "{}: no DOM dumped", cib.display());
        for name in listed(&crm_mon(cib, &["--output-as", "xml", "-r"])) {
            assert!(dom_text.contains(&name), "{}: {name} is in the XML but not in the rendered page", cib.display());
        }

        let shot = tmp.path().join(format!("status-{i}.png"));
        let out = chromium(&page, tmp.path(), &[&format!("--screenshot={}", shot.display()), "--window-size=1280,1024", "--hide-scrollbars"]);
        assert_eq!(console_lines(&out), Vec::<String>::new(), "{}: the console reported problems", cib.display());
        let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot {}: {e}", shot.display()));
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
        // IHDR: width and height as drawn.
        let (w, h) = (u32::from_be_bytes(png[16..20].try_into().unwrap()), u32::from_be_bytes(png[20..24].try_into().unwrap()));
        assert_eq!((w, h), (1280, 1024));
        // A blank page of that size compresses to a few kB; text, tables
        // and colours make it far larger.
        assert!(png.len() > 20_000, "{}: screenshot of {} bytes looks empty", cib.display(), png.len());
    }
}

#[test]
fn the_console_check_catches_script_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("bad.html");
    std::fs::write(&page, "<html><body><p>x</p><script>missing_function();</script></body></html>").unwrap();
    let out = chromium(&page, tmp.path(), &["--dump-dom"]);
    let lines = console_lines(&out);
    assert!(lines.iter().any(|l| l.contains("missing_function")), "the error was not seen: {lines:?}");
}
