//! `cibadmin`: query and change the CIB, behaving as Pacemaker 2.1.5's
//! cibadmin does on a CIB file (`CIB_file=...`), down to its output, exit
//! codes, version numbering and file layout.
//!
//! # Layout
//!
//! ```text
//!  argv --cli::parse--> Options --run--> load CIB_file --ops::perform--> new CIB
//!                                  |                                       |
//!                                  +-- input XML (-X/-x/-p)          dump::formatted
//!                                                                          |
//!                                            stdout / stderr / exit code, file written
//! ```
//!
//! - [`cli`]: the command line, with getopt's rules and diagnostics.
//! - [`ops`]: the operations themselves, pure functions on the tree.
//! - [`xpath`]: the XPath subset `--xpath` understands.
//! - [`dump`]: Pacemaker 2.1.5's XML text form (stdout and the file).
//!
//! [`run`] ties them together; it reaches the outside world only through
//! the [`Io`] trait, so tests drive it with files and buffers of their own
//! and the binary stays a few lines long.
//!
//! docs/CIBADMIN.md lists the options, exit codes and where we knowingly
//! differ from Pacemaker.

pub mod cli;
pub mod dump;
pub mod ops;
pub mod xpath;

use std::io;
use std::path::PathBuf;

use cib::{Document, Element, Node};

use crate::ExitCode;
use cli::{Options, Parsed, Unsupported};
use ops::{strip_text, CibError};

/// What `run` needs from the outside world.
pub trait Io {
    /// The `CIB_file` setting, if any.
    fn cib_file(&self) -> Option<PathBuf>;
    fn read_file(&mut self, path: &std::path::Path) -> io::Result<Vec<u8>>;
    fn read_stdin(&mut self) -> io::Result<Vec<u8>>;
    /// Replaces the CIB file's contents.
    fn write_file(&mut self, path: &std::path::Path, contents: &str) -> io::Result<()>;
    fn stdout(&mut self, s: &str);
    fn stderr(&mut self, s: &str);
}

/// Validates a whole CIB as Pacemaker does before accepting it.
pub type Validator<'a> = &'a dyn Fn(&Element) -> bool;

/// The schema check cibadmin uses: `validate-with="none"` turns checking
/// off (as in Pacemaker); anything else goes to the `schemas` crate, which
/// also accepts Heartbeat 2.x documents that name no schema.
pub fn schema_valid(cib: &Element) -> bool {
    if cib.attr("validate-with") == Some("none") {
        return true;
    }
    schemas::validate(&Document::new(cib.clone())).is_valid()
}

/// Runs cibadmin with `args` (program name first) and returns its exit code.
pub fn run(args: &[String], io: &mut dyn Io, valid: Validator<'_>) -> ExitCode {
    let prog = args.first().map(String::as_str).unwrap_or("cibadmin");
    let opts = match cli::parse(prog, args.get(1..).unwrap_or_default()) {
        Parsed::Run(o) => o,
        Parsed::Print(s) => {
            io.stdout(&s);
            return ExitCode::Ok;
        }
        Parsed::Usage { stdout, stderr } => {
            io.stdout(&stdout);
            io.stderr(&stderr);
            io.stderr(&cli::help());
            return ExitCode::Usage;
        }
    };
    execute(*opts, io, valid)
}

fn execute(mut opts: Options, io: &mut dyn Io, valid: Validator<'_>) -> ExitCode {
    if opts.dangerous && !opts.force {
        io.stderr(
            "The supplied command is considered dangerous.  To prevent accidental destruction of the cluster, \
             the --force flag is required in order to proceed.\n",
        );
        return ExitCode::Unsafe;
    }

    match read_input(&opts, io) {
        Ok(input) => opts.request.input = input,
        Err(source) => {
            io.stderr(&format!("Couldn't parse input from {source}.\n"));
            return ExitCode::Config;
        }
    }

    if let Some(u) = opts.unsupported {
        let what = match u {
            Unsupported::Upgrade => "--upgrade",
            Unsupported::Patch => "--patch",
            Unsupported::Md5Sum => "--md5-sum",
            Unsupported::Md5SumVersioned => "--md5-sum-versioned",
        };
        io.stderr(&format!("cibadmin: {what} is not supported by this implementation\n"));
        return ExitCode::Unimplemented;
    }

    let Some(path) = io.cib_file() else {
        // No daemon connection exists in this implementation of the tool yet:
        // answer as Pacemaker's cibadmin does when no cluster is running.
        io.stderr("Could not connect to the CIB: Transport endpoint is not connected\n");
        io.stderr("Init failed, could not perform requested operations\n");
        return ExitCode::Disconnect;
    };
    let current = match load(&path, io, valid) {
        Ok(cib) => cib,
        Err(e) => {
            io.stderr(&format!("Could not connect to the CIB: {e}\n"));
            io.stderr("Init failed, could not perform requested operations\n");
            return e.exit_code();
        }
    };

    let node_path = opts.request.node_path;
    match ops::perform(&current, &opts.request, valid) {
        Ok(done) => {
            if let Some(out) = &done.output {
                print_output(io, out, node_path);
            }
            if let Some(cib) = &done.cib {
                if let Err(e) = io.write_file(&path, &dump::formatted(cib)) {
                    io.stderr(&format!("Could not write CIB to {}: {e}\n", path.display()));
                    return ExitCode::Error;
                }
            }
            ExitCode::Ok
        }
        Err(f) => {
            if let Some(rejected) = &f.rejected {
                io.stderr(&dump::numbered(&dump::formatted(rejected)));
            }
            io.stderr(&format!("Call failed: {}\n", f.error));
            if let Some(out) = &f.output {
                print_output(io, out, node_path);
            }
            f.error.exit_code()
        }
    }
}

/// Reads the operation's XML; on failure returns the source's name for
/// the "Couldn't parse input from ..." message.
fn read_input(opts: &Options, io: &mut dyn Io) -> Result<Option<Element>, String> {
    let (bytes, source) = if let Some(f) = &opts.inputs.file {
        (io.read_file(std::path::Path::new(f)), f.clone())
    } else if let Some(t) = &opts.inputs.text {
        (Ok(t.clone().into_bytes()), "input string".to_string())
    } else if opts.inputs.stdin {
        (io.read_stdin(), "STDIN".to_string())
    } else {
        return Ok(None);
    };
    let parsed = bytes
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| Document::parse(&s).ok());
    match parsed {
        Some(doc) => {
            let mut root = doc.root;
            strip_text(&mut root);
            Ok(Some(root))
        }
        None => Err(source),
    }
}

/// Loads the CIB file as Pacemaker's file back end does: a missing file
/// is "no such object"; an empty, malformed or schema-invalid one is
/// refused as invalid; text, processing instructions and anything outside
/// the root element are dropped; a `<status/>` section is added if absent.
pub fn load(path: &std::path::Path, io: &mut dyn Io, valid: Validator<'_>) -> Result<Element, CibError> {
    let bytes = io.read_file(path).map_err(|_| CibError::NoSuchObject)?;
    let text = String::from_utf8(bytes).map_err(|_| CibError::SchemaValidation)?;
    let mut root = Document::parse(&text).map_err(|_| CibError::SchemaValidation)?.root;
    strip_text(&mut root);
    if root.child("status").is_none() {
        root.children.push(Node::Element(Element::new("status")));
    }
    if !valid(&root) {
        return Err(CibError::SchemaValidation);
    }
    Ok(root)
}

/// Pacemaker's `print_xml_output`: the XML, or with `-e` the ids (paths)
/// of what was found.
fn print_output(io: &mut dyn Io, out: &Element, node_path: bool) {
    if !node_path {
        io.stdout(&dump::formatted(out));
    } else if out.name == "xpath-query" {
        for c in out.elements() {
            print_output(io, c, true);
        }
    } else if let Some(id) = out.id() {
        io.stdout(&format!("{id}\n"));
    }
}

/// The real world: the process environment, the file system, stdio.
pub struct ProcessIo;

impl Io for ProcessIo {
    fn cib_file(&self) -> Option<PathBuf> {
        std::env::var_os("CIB_file").map(PathBuf::from)
    }

    fn read_file(&mut self, path: &std::path::Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn read_stdin(&mut self) -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        io::Read::read_to_end(&mut io::stdin(), &mut buf)?;
        Ok(buf)
    }

    fn write_file(&mut self, path: &std::path::Path, contents: &str) -> io::Result<()> {
        write_replacing(path, contents)
    }

    fn stdout(&mut self, s: &str) {
        use io::Write;
        let _ = io::stdout().write_all(s.as_bytes());
    }

    fn stderr(&mut self, s: &str) {
        use io::Write;
        let _ = io::stderr().write_all(s.as_bytes());
    }
}

/// Writes `contents` to `path` atomically (temporary file in the same
/// directory, then rename), keeping the old file's permissions.
// TODO: use cib::store's plain-file mode once it lands.
fn write_replacing(path: &std::path::Path, contents: &str) -> io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().ok_or_else(|| io::Error::other("CIB_file names no file"))?;
    let tmp = dir.join(format!(".{}.cibadmin-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
