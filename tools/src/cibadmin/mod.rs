//! `cibadmin`: query and change the CIB, behaving as Pacemaker 2.1.5's
//! cibadmin does on a CIB file (`CIB_file=...`), down to its exit codes,
//! version numbering and file layout, except that values are written
//! losslessly (docs/CIBADMIN.md, "Divergences").
//!
//! # Layout
//!
//! ```text
//!  argv --cli::parse--> Options --run--> cib::env::CibSource
//!                          |                 | File(path): cib::store::CibStore::plain_file
//!        input XML (-X/-x/-p)                v
//!                          +------> load/update under the lock --ops::perform--> new CIB
//!                                                                         |
//!                          stdout (output) / stderr / exit code, file replaced atomically
//! ```
//!
//! - [`cli`]: the command line, with getopt's rules and diagnostics.
//! - [`ops`]: the operations themselves, pure functions on the tree.
//! - [`xpath`]: the XPath subset `--xpath` understands.
//! - [`output`]: results as text (XML via `cib::xml::write`, `-e` paths,
//!   the numbered listing of a rejected CIB).
//!
//! [`run`] ties them together. The CIB file is read and written only
//! through `cib::store` (atomic replacement, and a lock held from reading
//! to writing so concurrent cibadmins lose no update); everything else
//! from the outside world comes through the [`Io`] trait, so the binary
//! stays a few lines long.

pub mod cli;
pub mod ops;
pub mod output;
pub mod xpath;

use std::io;
use std::path::Path;

use cib::env::{CibSource, EnvError, HaEnv};
use cib::store::{CibStore, StoreError, UpdateError};
use cib::{Document, Element, Node};

use crate::ExitCode;
use cli::{Options, Parsed, Unsupported};
use ops::{strip_text, CibError, Command, Failure, Success};

/// What `run` needs from the outside world besides the CIB file.
pub trait Io {
    /// Which CIB to work on (`CIB_shadow`, `CIB_file` or the live cluster).
    fn cib_source(&self) -> Result<CibSource, EnvError>;
    /// Reads an input file (`-x`).
    fn read_file(&mut self, path: &Path) -> io::Result<Vec<u8>>;
    fn read_stdin(&mut self) -> io::Result<Vec<u8>>;
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

    let path = match io.cib_source() {
        Ok(CibSource::File(path)) => path,
        Ok(CibSource::Live { socket }) => return live(&socket, opts, io),
        Err(e) => {
            io.stderr(&format!("cibadmin: {e}\n"));
            return ExitCode::InvalidParam;
        }
    };
    // Pacemaker's tools write a CIB_file without an XML declaration.
    let store = CibStore::plain_file(path).without_declaration();
    let node_path = opts.request.node_path;
    let outcome = match opts.request.command {
        Some(Command::Query) | None => query(&store, &opts.request, valid),
        Some(_) => update(&store, &opts.request, valid),
    };
    match outcome {
        Ok(done) => {
            if let Some(out) = &done.output {
                io.stdout(&output::xml_or_paths(out, node_path));
            }
            ExitCode::Ok
        }
        Err(Refusal::Connect(e)) => not_connected(io, &e.to_string(), e.exit_code()),
        Err(Refusal::Operation(f)) => report_failure(io, &f, node_path),
        Err(Refusal::Write(e)) => {
            io.stderr(&format!("cibadmin: could not write the CIB: {e}\n"));
            ExitCode::Error
        }
    }
}

/// Live mode: the request goes to the node's cib daemon, which applies it
/// on the cluster's master copy (docs/CIB_DAEMON.md). Output, messages and
/// exit codes are those of file mode; a daemon that is not running is
/// Pacemaker's "not connected" (102), one that does not answer in time its
/// "Timer expired" (124).
fn live(socket: &Path, opts: Options, io: &mut dyn Io) -> ExitCode {
    use crate::cib_live::{Answer, Call, LiveCib, LiveError, Op, DEFAULT_TIMEOUT};
    let node_path = opts.request.node_path;
    let op = Op::Cib(opts.request.command.unwrap_or(Command::Query));
    let user = nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| nix::unistd::getuid().to_string());
    let call = Call { op, request: opts.request, client: "cibadmin".into(), user };
    let answer = LiveCib::connect(socket, DEFAULT_TIMEOUT).and_then(|mut c| c.call(&call));
    match answer {
        Ok(Answer::Ok(out)) => {
            if let Some(out) = &out {
                io.stdout(&output::xml_or_paths(out, node_path));
            }
            ExitCode::Ok
        }
        Ok(Answer::Failed(f)) => report_failure(io, &f, node_path),
        Ok(Answer::Unavailable(why)) => {
            io.stderr(&format!("Call failed: {why}\n"));
            ExitCode::Disconnect
        }
        Err(e @ LiveError::NotConnected(_)) => not_connected(io, &e.to_string(), ExitCode::Disconnect),
        Err(LiveError::Timeout) => {
            io.stderr("Call failed: Timer expired\n");
            ExitCode::Timeout
        }
        Err(e @ LiveError::Protocol(_)) => {
            io.stderr(&format!("Call failed: {e}\n"));
            ExitCode::Protocol
        }
    }
}

/// Prints a refused operation as Pacemaker's cibadmin does.
fn report_failure(io: &mut dyn Io, f: &Failure, node_path: bool) -> ExitCode {
    if let Some(rejected) = &f.rejected {
        io.stderr(&output::numbered(&rejected.to_xml()));
    }
    io.stderr(&format!("Call failed: {}\n", f.error));
    if let Some(out) = &f.output {
        io.stdout(&output::xml_or_paths(out, node_path));
    }
    f.error.exit_code()
}

/// Why a command did not succeed.
enum Refusal {
    /// The CIB file could not be used at all (Pacemaker's sign-on failure).
    Connect(CibError),
    /// The operation was refused; the file is untouched.
    Operation(Failure),
    /// The operation succeeded but its result could not be stored.
    Write(StoreError),
}

fn not_connected(io: &mut dyn Io, reason: &str, code: ExitCode) -> ExitCode {
    io.stderr(&format!("Could not connect to the CIB: {reason}\n"));
    io.stderr("Init failed, could not perform requested operations\n");
    code
}

/// A query: reads the file without the writers' lock (it is only ever
/// replaced whole, by rename).
fn query(store: &CibStore, req: &ops::Request, valid: Validator<'_>) -> Result<Success, Refusal> {
    let loaded = store.load().map_err(|e| Refusal::Connect(load_error(&e)))?;
    let doc = loaded.ok_or(Refusal::Connect(CibError::NoSuchObject))?.doc;
    let current = as_pacemaker_loads_it(doc.root, valid).map_err(Refusal::Connect)?;
    ops::perform(&current, req, valid).map_err(Refusal::Operation)
}

/// A write: read, operate and replace the file under the store's lock, so
/// that concurrent writers lose no update. A refused operation leaves the
/// file byte-identical; one that changes nothing leaves it alone.
fn update(store: &CibStore, req: &ops::Request, valid: Validator<'_>) -> Result<Success, Refusal> {
    let committed = store.update(|doc| {
        let current = as_pacemaker_loads_it(doc.root.clone(), valid).map_err(Refusal::Connect)?;
        let done = ops::perform(&current, req, valid).map_err(Refusal::Operation)?;
        if let Some(cib) = &done.cib {
            // Only the root is replaced: comments around it are kept.
            doc.root = cib.clone();
        }
        Ok(done)
    });
    match committed {
        Ok(c) => Ok(c.value),
        Err(UpdateError::Rejected(r)) => Err(r),
        Err(UpdateError::Store(e @ (StoreError::NotFound { .. } | StoreError::Parse { .. }))) => {
            Err(Refusal::Connect(load_error(&e)))
        }
        Err(UpdateError::Store(e @ StoreError::Io { op: "read" | "lock", .. })) => Err(Refusal::Connect(load_error(&e))),
        Err(UpdateError::Store(e)) => Err(Refusal::Write(e)),
    }
}

/// How Pacemaker's file back end reports a CIB file it cannot load: a
/// missing or unreadable file is "no such object", a malformed one fails
/// "validation".
fn load_error(e: &StoreError) -> CibError {
    match e {
        StoreError::Parse { .. } | StoreError::DigestMismatch { .. } => CibError::SchemaValidation,
        _ => CibError::NoSuchObject,
    }
}

/// The CIB as Pacemaker's file back end holds it after loading: text and
/// processing instructions dropped, a `<status/>` section added if absent,
/// and refused if it does not validate.
pub fn as_pacemaker_loads_it(mut root: Element, valid: Validator<'_>) -> Result<Element, CibError> {
    strip_text(&mut root);
    if root.child("status").is_none() {
        root.children.push(Node::Element(Element::new("status")));
    }
    if !valid(&root) {
        return Err(CibError::SchemaValidation);
    }
    Ok(root)
}

/// Reads the operation's XML; on failure returns the source's name for
/// the "Couldn't parse input from ..." message.
fn read_input(opts: &Options, io: &mut dyn Io) -> Result<Option<Element>, String> {
    let (bytes, source) = if let Some(f) = &opts.inputs.file {
        (io.read_file(Path::new(f)), f.clone())
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

/// The real world: the process environment, the file system, stdio.
pub struct ProcessIo;

impl Io for ProcessIo {
    fn cib_source(&self) -> Result<CibSource, EnvError> {
        HaEnv::from_process().map(|env| env.cib_source)
    }

    fn read_file(&mut self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn read_stdin(&mut self) -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        io::Read::read_to_end(&mut io::stdin(), &mut buf)?;
        Ok(buf)
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
