//! The CIB the crm_* editing tools work on: a file (`CIB_file` /
//! `CIB_shadow`) or the live cluster through the node's cib daemon, and
//! the tail every write goes through.
//!
//! ```text
//!  CibSource::File(path) --load--> Element (as Pacemaker's file back end holds it)
//!                        --edit--> f(&mut Element) --commit--> version bump, schema check,
//!                                                              atomic replace under the lock
//!  CibSource::Live       --load--> query over cib.sock (tools::cib_live)
//!                        --edit--> query, f(&mut Element), bump + schema check locally,
//!                                  replace the whole CIB (the master bumps the version;
//!                                  an older epoch is refused with old_data: query again, retry)
//!                        no daemon --> Unavailable::NotConnected (Pacemaker's 102)
//! ```
//!
//! The version bump follows Pacemaker: a change under `configuration` moves
//! `epoch` (and resets `num_updates`), any other change moves
//! `num_updates`. A configuration change must still validate, and when it
//! does not the rejected CIB is returned so the tool can list it the way
//! Pacemaker does (numbered lines on stderr, exit 78).

use cib::env::{CibSource, EnvError};
use cib::store::{CibStore, StoreError, UpdateError};
use cib::Element;

use crate::cibadmin::{as_pacemaker_loads_it, output, schema_valid};
use crate::ExitCode;

/// What a tool run produced: its output and exit code. Tools build this
/// and the binary prints it, so tests can run a tool in-process.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub code: u8,
}

impl Outcome {
    pub fn out(&mut self, s: &str) {
        self.stdout.push_str(s);
    }
    pub fn err(&mut self, s: &str) {
        self.stderr.push_str(s);
    }
    pub fn exit(mut self, code: ExitCode) -> Outcome {
        self.code = code.code();
        self
    }
    /// Prints to the real stdout/stderr and returns the process exit code.
    pub fn emit(&self) -> std::process::ExitCode {
        use std::io::Write;
        let _ = std::io::stdout().write_all(self.stdout.as_bytes());
        let _ = std::io::stderr().write_all(self.stderr.as_bytes());
        std::process::ExitCode::from(self.code)
    }
}

/// What the tools take from the environment.
#[derive(Debug, Clone)]
pub struct Context {
    /// `CIB_shadow` / `CIB_file` / live.
    pub source: Result<CibSource, EnvError>,
    /// This node's name (`HA_NODENAME`, else `uname -n`), used where
    /// Pacemaker asks the cluster for the local node.
    pub local_node: Option<String>,
}

impl Context {
    /// From the real process environment.
    pub fn from_process() -> Context {
        match cib::env::HaEnv::from_process() {
            Ok(env) => Context { source: Ok(env.cib_source), local_node: Some(env.nodename) },
            Err(e) => Context { source: Err(e), local_node: None },
        }
    }

    /// An offline context on `path`.
    pub fn file(path: impl Into<std::path::PathBuf>, local_node: Option<&str>) -> Context {
        Context { source: Ok(CibSource::File(path.into())), local_node: local_node.map(str::to_string) }
    }

    pub fn cib(&self) -> Result<CibFile, Unavailable> {
        CibFile::from_source(self.source.clone())
    }
}

/// Why the CIB could not be used at all.
#[derive(Debug)]
pub enum Unavailable {
    /// No `CIB_file`: the live cluster would be needed.
    NotConnected,
    /// The environment is malformed.
    Env(EnvError),
    /// The file is missing, unreadable, malformed or schema-invalid.
    Load(String),
    /// The live cluster did not carry a call out (timeout, no master,
    /// concurrent changes on every retry): the reason and exit code.
    Call(String, ExitCode),
}

impl Unavailable {
    /// Pacemaker's sign-on failure text and exit code.
    pub fn report(&self, tool: &str) -> (String, ExitCode) {
        match self {
            Unavailable::NotConnected => (
                format!("{tool}: Could not connect to the CIB: Transport endpoint is not connected\n"),
                ExitCode::Disconnect,
            ),
            Unavailable::Env(e) => (format!("{tool}: {e}\n"), ExitCode::InvalidParam),
            Unavailable::Load(why) => {
                (format!("{tool}: Could not connect to the CIB: {why}\n"), ExitCode::NoSuch)
            }
            Unavailable::Call(why, code) => (format!("{tool}: Call failed: {why}\n"), *code),
        }
    }
}

/// What went wrong when a write was attempted.
#[derive(Debug)]
pub enum WriteError<E> {
    /// The edit itself refused (the tool's own error type).
    Edit(E),
    /// The result does not validate; the rejected CIB is attached.
    Invalid(Box<Element>),
    /// The file could not be used or written.
    Unavailable(Unavailable),
}

/// The CIB a tool works on: a file, or the live cluster.
pub struct CibFile {
    backend: Backend,
}

enum Backend {
    /// An offline file, read and replaced under the store's lock.
    File(CibStore),
    /// The node's cib daemon, at this socket.
    Live(std::path::PathBuf),
}

/// How many times a live edit is redone when another client changed the
/// configuration between our query and our replace.
const LIVE_RETRIES: usize = 5;

impl CibFile {
    /// Opens the CIB the environment names: a file, or the live cluster
    /// when the cib daemon's socket exists (else "not connected", as
    /// Pacemaker's tools say with no cluster running).
    pub fn from_source(source: Result<CibSource, EnvError>) -> Result<CibFile, Unavailable> {
        match source {
            Ok(CibSource::File(path)) => Ok(CibFile::at(path)),
            Ok(CibSource::Live { socket }) if socket.exists() => Ok(CibFile { backend: Backend::Live(socket) }),
            Ok(CibSource::Live { .. }) => Err(Unavailable::NotConnected),
            Err(e) => Err(Unavailable::Env(e)),
        }
    }

    /// A CIB file at `path`, written as Pacemaker's tools write one (no
    /// XML declaration).
    pub fn at(path: impl Into<std::path::PathBuf>) -> CibFile {
        CibFile { backend: Backend::File(CibStore::plain_file(path).without_declaration()) }
    }

    /// Whether this is the live cluster.
    pub fn is_live(&self) -> bool {
        matches!(self.backend, Backend::Live(_))
    }

    /// Reads the CIB as Pacemaker's file back end holds it (live: the
    /// local daemon's copy).
    pub fn load(&self) -> Result<Element, Unavailable> {
        let store = match &self.backend {
            Backend::File(store) => store,
            Backend::Live(socket) => return live::query(socket),
        };
        let loaded = store.load().map_err(|e| Unavailable::Load(load_reason(&e)))?;
        let doc = loaded.ok_or_else(|| Unavailable::Load("No such device or address".into()))?.doc;
        as_pacemaker_loads_it(doc.root, &schema_valid)
            .map_err(|_| Unavailable::Load("Update does not conform to the configured schema".into()))
    }

    /// Read-modify-write under the store's lock. `f` edits the CIB and
    /// returns its own value; the version is bumped and the result
    /// validated (when the configuration changed) before it is written.
    ///
    /// Live, `f` may run more than once: when another client changed the
    /// configuration between the query and the replace, the edit is redone
    /// on the newer CIB.
    pub fn edit<T, E>(&self, mut f: impl FnMut(&mut Element) -> Result<T, E>) -> Result<T, WriteError<E>> {
        let store = match &self.backend {
            Backend::File(store) => store,
            Backend::Live(socket) => return live::edit(socket, &mut f),
        };
        let committed = store.update(|doc| {
            let current = as_pacemaker_loads_it(doc.root.clone(), &schema_valid)
                .map_err(|_| WriteError::Unavailable(Unavailable::Load("Update does not conform to the configured schema".into())))?;
            let mut scratch = current.clone();
            let value = f(&mut scratch).map_err(WriteError::Edit)?;
            let next = finish(&current, scratch, &schema_valid).map_err(WriteError::Invalid)?;
            doc.root = next;
            Ok(value)
        });
        match committed {
            Ok(c) => Ok(c.value),
            Err(UpdateError::Rejected(r)) => Err(r),
            Err(UpdateError::Store(e)) => Err(WriteError::Unavailable(Unavailable::Load(load_reason(&e)))),
        }
    }
}

/// The live back end: whole-CIB query and replace over the cib daemon's
/// socket (docs/CIB_DAEMON.md, "Local IPC").
mod live {
    use std::path::Path;

    use cib::Element;

    use super::{finish, Unavailable, WriteError, LIVE_RETRIES};
    use crate::cib_live::{Answer, Call, LiveCib, LiveError, Op, DEFAULT_TIMEOUT};
    use crate::cibadmin::ops::{CibError, Command, Request};
    use crate::cibadmin::{as_pacemaker_loads_it, schema_valid};
    use crate::ExitCode;

    /// The tool's name (recorded as `update-client`) and the user.
    fn who() -> (String, String) {
        let client = std::env::args()
            .next()
            .and_then(|a| std::path::Path::new(&a).file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "crm_resource".into());
        let uid = nix::unistd::getuid();
        let user = nix::unistd::User::from_uid(uid).ok().flatten().map(|u| u.name).unwrap_or_else(|| uid.to_string());
        (client, user)
    }

    fn call(socket: &Path, command: Command, input: Option<Element>) -> Result<Answer, Unavailable> {
        let (client, user) = who();
        let request = Request { command: Some(command), input, ..Request::default() };
        let call = Call { op: Op::Cib(command), request, client, user };
        match LiveCib::connect(socket, DEFAULT_TIMEOUT).and_then(|mut c| c.call(&call)) {
            Ok(a) => Ok(a),
            Err(LiveError::NotConnected(_)) => Err(Unavailable::NotConnected),
            Err(LiveError::Timeout) => Err(Unavailable::Call("Timer expired".into(), ExitCode::Timeout)),
            Err(e @ LiveError::Protocol(_)) => Err(Unavailable::Call(e.to_string(), ExitCode::Protocol)),
        }
    }

    pub(super) fn query(socket: &Path) -> Result<Element, Unavailable> {
        match call(socket, Command::Query, None)? {
            Answer::Ok(Some(cib)) => as_pacemaker_loads_it(cib, &schema_valid)
                .map_err(|_| Unavailable::Load("Update does not conform to the configured schema".into())),
            Answer::Ok(None) => Err(Unavailable::Load("No such device or address".into())),
            Answer::Failed(f) => Err(Unavailable::Call(f.error.to_string(), f.error.exit_code())),
            Answer::Unavailable(why) => Err(Unavailable::Call(why, ExitCode::Disconnect)),
        }
    }

    /// Query, edit, check locally, replace; again on `old_data`.
    pub(super) fn edit<T, E>(
        socket: &Path,
        f: &mut dyn FnMut(&mut Element) -> Result<T, E>,
    ) -> Result<T, WriteError<E>> {
        let mut attempt = 0;
        loop {
            let current = query(socket).map_err(WriteError::Unavailable)?;
            let mut scratch = current.clone();
            let value = f(&mut scratch).map_err(WriteError::Edit)?;
            // The local bump tells whether anything changed and validates
            // the result the way the file back end does; what is sent
            // carries the version we read, so the master's replace refuses
            // it if the configuration moved meanwhile, and bumps it itself.
            let next = finish(&current, scratch, &schema_valid).map_err(WriteError::Invalid)?;
            if next == current {
                return Ok(value);
            }
            let mut input = next;
            for v in ["admin_epoch", "epoch", "num_updates"] {
                match current.attr(v) {
                    Some(x) => input.set_attr(v, x),
                    None => {
                        input.remove_attr(v);
                    }
                }
            }
            match call(socket, Command::Replace, Some(input)).map_err(WriteError::Unavailable)? {
                Answer::Ok(_) => return Ok(value),
                Answer::Failed(fl) if fl.error == CibError::OldData && attempt < LIVE_RETRIES => attempt += 1,
                Answer::Failed(fl) => match fl.rejected {
                    Some(rejected) if fl.error == CibError::SchemaValidation => return Err(WriteError::Invalid(rejected)),
                    _ => {
                        return Err(WriteError::Unavailable(Unavailable::Call(fl.error.to_string(), fl.error.exit_code())))
                    }
                },
                Answer::Unavailable(why) => return Err(WriteError::Unavailable(Unavailable::Call(why, ExitCode::Disconnect))),
            }
        }
    }
}

fn load_reason(e: &StoreError) -> String {
    match e {
        StoreError::Parse { .. } | StoreError::DigestMismatch { .. } => {
            "Update does not conform to the configured schema".into()
        }
        _ => "No such device or address".into(),
    }
}

/// Bumps the version of `next` relative to `current` and validates it.
/// Unchanged documents come back as they are.
pub fn finish(current: &Element, mut next: Element, valid: &dyn Fn(&Element) -> bool) -> Result<Element, Box<Element>> {
    if &next == current {
        return Ok(next);
    }
    let int = |e: &Element, name: &str| e.attr(name).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    let config_changed = current.child("configuration") != next.child("configuration");
    if config_changed {
        let epoch = int(&next, "epoch") + 1;
        next.set_attr("num_updates", "0");
        next.set_attr("epoch", epoch.to_string());
        if !valid(&next) {
            return Err(Box::new(next));
        }
    } else {
        let n = int(&next, "num_updates") + 1;
        next.set_attr("num_updates", n.to_string());
    }
    Ok(next)
}

/// The numbered listing Pacemaker prints for a CIB that failed validation.
pub fn rejected_listing(rejected: &Element) -> String {
    output::numbered(&rejected.to_xml())
}

/// Reads an XML file named on a command line (`crm_simulate -x`,
/// `crm_verify -x`): plain text, or bzip2-compressed as the policy engine
/// saves its inputs (`pe-input-N.bz2`). Compression is recognised by the
/// bzip2 magic (`BZh`) rather than the name, so a renamed input still reads.
/// [`read_xml_input`] as a stream, for inputs too large to hold whole
/// beside what is built from them.
pub fn open_xml_input(path: impl AsRef<std::path::Path>) -> std::io::Result<Box<dyn std::io::BufRead>> {
    use std::io::{BufRead, BufReader};
    let mut file = BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    if file.fill_buf()?.starts_with(b"BZh") {
        return Ok(Box::new(BufReader::with_capacity(1 << 16, bzip2::read::BzDecoder::new(file))));
    }
    Ok(Box::new(file))
}

pub fn read_xml_input(path: impl AsRef<std::path::Path>) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    if !bytes.starts_with(b"BZh") {
        return String::from_utf8(bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e));
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut bzip2::read::BzDecoder::new(&bytes[..]), &mut text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::xml::parse_element;

    #[test]
    fn config_change_moves_epoch_status_change_moves_num_updates() {
        let cur = parse_element(r#"<cib epoch="5" num_updates="3" admin_epoch="0"><configuration><crm_config/></configuration><status/></cib>"#).unwrap();
        let mut cfg = cur.clone();
        cfg.child_mut("configuration").unwrap().child_mut("crm_config").unwrap().set_attr("x", "1");
        let out = finish(&cur, cfg, &|_| true).unwrap();
        assert_eq!((out.attr("epoch"), out.attr("num_updates")), (Some("6"), Some("0")));
        let mut st = cur.clone();
        st.child_mut("status").unwrap().set_attr("x", "1");
        let out = finish(&cur, st, &|_| false).unwrap();
        assert_eq!((out.attr("epoch"), out.attr("num_updates")), (Some("5"), Some("4")));
        assert_eq!(finish(&cur, cur.clone(), &|_| false).unwrap(), cur);
    }

    #[test]
    fn invalid_configuration_is_rejected_with_the_bumped_cib() {
        let cur = parse_element(r#"<cib epoch="5" num_updates="3"><configuration/></cib>"#).unwrap();
        let mut next = cur.clone();
        next.child_mut("configuration").unwrap().set_attr("x", "1");
        let rejected = finish(&cur, next, &|_| false).unwrap_err();
        assert_eq!(rejected.attr("epoch"), Some("6"));
    }
}
