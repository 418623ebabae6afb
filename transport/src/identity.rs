//! Node identity: the uuid in `$HA_VARLIB/hb_uuid` and the restart
//! generation in `$HA_VARLIB/hb_generation`, in Heartbeat's own formats so
//! a node can take over a real Heartbeat node's state directory and the
//! other way round.
//!
//! # Formats (from Heartbeat 3.0.6's sources and its logs)
//!
//! - `hb_uuid`: the 16 raw bytes of the uuid, nothing else. A file shorter
//!   than 16 bytes means "no uuid": a new random one is made. The same 16
//!   bytes travel in every packet as the binary field `srcuuid`.
//! - `hb_generation`: the number right-aligned in 15 columns and a newline
//!   (16 bytes). It goes up by one at every start, so peers can tell a
//!   restarted node from a delayed packet. With no file the count starts
//!   from the current Unix time.
//! - `uuidfrom nodename` in ha.cf derives the uuid from the node name
//!   instead, with glibc's `srand`/`rand` seeded by a hash of the name, so
//!   every node computes the same uuid for a given name.
//!
//! The functions return what Heartbeat would log as [`Event`]s; the caller
//! logs them. Time is an argument, not read here.
//!
//! Deviations, both deliberate: an unreadable `hb_generation` restarts the
//! count from the current time (Heartbeat 3.0.6 logs that it does, then
//! restarts from 1, which peers that saw the old generation then ignore);
//! an all-zero `hb_uuid` counts as missing (Heartbeat treats the nil uuid
//! as "unknown" everywhere else, so a node carrying it could not be told
//! apart). Files are replaced atomically (temporary file, fsync, rename,
//! directory fsync) where Heartbeat rewrote them in place.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use uuid::Uuid;

/// Width of the generation number on disk; with the newline, 16 bytes.
const GENERATION_WIDTH: usize = 15;

/// Why the identity could not be read or stored.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("cannot {op} {}: {source}", .path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> IdentityError + 'a {
    move |source| IdentityError::Io { op, path: path.to_path_buf(), source }
}

/// Where the uuid comes from (ha.cf `uuidfrom`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UuidSource {
    /// `uuidfrom file` (the default): `hb_uuid`, made once at random.
    #[default]
    File,
    /// `uuidfrom nodename`: derived from the node name, never stored.
    NodeName,
}

/// How the generation is computed (ha.cf `gen_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GenerationMethod {
    /// `file` (the default): `hb_generation`, incremented at each start.
    #[default]
    File,
    /// `time`: the current Unix time, nothing stored.
    Time,
}

/// Something Heartbeat logs while establishing the node's identity, in
/// Heartbeat's words (`Display`), with its level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// WARN: no `hb_generation`; counting starts from the clock.
    NoPreviousGeneration { starting_at: u64 },
    /// WARN: `hb_generation` holds no number.
    BrokenGeneration { starting_at: u64 },
    /// info: the generation this run uses.
    Generation(u64),
    /// info: no usable `hb_uuid`; a new one was made and stored.
    NewUuid(Uuid),
}

/// Syslog-style level of an [`Event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
}

impl Event {
    pub fn level(&self) -> Level {
        match self {
            Event::NoPreviousGeneration { .. } | Event::BrokenGeneration { .. } => Level::Warn,
            Event::Generation(_) | Event::NewUuid(_) => Level::Info,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::NoPreviousGeneration { starting_at } => {
                write!(f, "No Previous generation - starting at {starting_at}")
            }
            Event::BrokenGeneration { starting_at } => {
                write!(f, "BROKEN previous generation - starting at {starting_at}")
            }
            Event::Generation(g) => write!(f, "Heartbeat generation: {g}"),
            Event::NewUuid(_) => f.write_str("No uuid found for current node - generating a new uuid."),
        }
    }
}

/// This node's identity for one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeIdentity {
    pub uuid: Uuid,
    pub generation: u64,
}

/// What [`NodeIdentity::establish`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Established {
    pub identity: NodeIdentity,
    /// In the order Heartbeat logs them: generation first, then uuid.
    pub events: Vec<Event>,
}

impl NodeIdentity {
    /// Runs Heartbeat's start-up sequence against `varlib`
    /// (`$HA_VARLIB`): bump the generation, then find or make the uuid.
    /// `now_unix` seeds a first generation.
    pub fn establish(
        varlib: &Path,
        nodename: &str,
        uuid_source: UuidSource,
        gen_method: GenerationMethod,
        now_unix: u64,
    ) -> Result<Established, IdentityError> {
        let mut events = Vec::new();
        let generation = match gen_method {
            GenerationMethod::File => next_generation(&varlib.join("hb_generation"), now_unix, &mut events)?,
            GenerationMethod::Time => now_unix,
        };
        events.push(Event::Generation(generation));
        let uuid = match uuid_source {
            UuidSource::File => load_or_create_uuid(&varlib.join("hb_uuid"), &mut events)?,
            UuidSource::NodeName => uuid_from_nodename(nodename),
        };
        Ok(Established { identity: NodeIdentity { uuid, generation }, events })
    }
}

/// Reads `hb_uuid`, or makes, stores and returns a new random uuid.
pub fn load_or_create_uuid(path: &Path, events: &mut Vec<Event>) -> Result<Uuid, IdentityError> {
    if let Some(u) = read_uuid(path)? {
        return Ok(u);
    }
    let u = Uuid::new_v4();
    replace_file(path, u.as_bytes(), 0o644)?;
    events.push(Event::NewUuid(u));
    Ok(u)
}

/// The uuid in `hb_uuid`: its first 16 bytes. `None` when the file is
/// missing, shorter, or holds the nil uuid.
pub fn read_uuid(path: &Path) -> Result<Option<Uuid>, IdentityError> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("open", path)(e)),
    };
    let mut buf = [0u8; 16];
    let mut got = 0;
    while got < buf.len() {
        match f.read(&mut buf[got..]).map_err(io_err("read", path))? {
            0 => return Ok(None),
            n => got += n,
        }
    }
    let u = Uuid::from_bytes(buf);
    Ok((!u.is_nil()).then_some(u))
}

/// Increments `hb_generation` and returns the new value.
pub fn next_generation(path: &Path, now_unix: u64, events: &mut Vec<Event>) -> Result<u64, IdentityError> {
    let next = match read_generation(path)? {
        Stored::Number(n) => n + 1,
        Stored::Missing => {
            events.push(Event::NoPreviousGeneration { starting_at: now_unix + 1 });
            now_unix + 1
        }
        Stored::Broken => {
            events.push(Event::BrokenGeneration { starting_at: now_unix + 1 });
            now_unix + 1
        }
    };
    replace_file(path, format_generation(next).as_bytes(), 0o644)?;
    Ok(next)
}

/// What `hb_generation` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Missing,
    Broken,
    Number(u64),
}

/// Reads `hb_generation` as Heartbeat does: the first 16 bytes, leading
/// white space skipped, then a decimal number. An empty file is missing.
pub fn read_generation(path: &Path) -> Result<Stored, IdentityError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Stored::Missing),
        Err(e) => return Err(io_err("read", path)(e)),
    };
    if bytes.is_empty() {
        return Ok(Stored::Missing);
    }
    let head = &bytes[..bytes.len().min(GENERATION_WIDTH + 1)];
    let text = String::from_utf8_lossy(head);
    let digits: String = text.trim_start().chars().take_while(|c| c.is_ascii_digit()).collect();
    Ok(digits.parse().map_or(Stored::Broken, Stored::Number))
}

/// `hb_generation`'s content for `n`: right-aligned in 15 columns, newline.
pub fn format_generation(n: u64) -> String {
    format!("{n:>GENERATION_WIDTH$}\n")
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, renames it
/// over `path` and syncs the directory, so a crash leaves the old or the
/// new content, never a torn one (losing the generation would let a
/// restarted node reuse one its peers already saw).
fn replace_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), IdentityError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp.{}", std::process::id()));
    let tmp = dir.join(name);
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io_err("create", &tmp))?;
    f.write_all(bytes).map_err(io_err("write", &tmp))?;
    f.sync_all().map_err(io_err("sync", &tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io_err("rename into place", path))?;
    File::open(&dir).and_then(|d| d.sync_all()).map_err(io_err("sync", &dir))
}

/// `uuidfrom nodename`: Heartbeat seeds glibc's `srand` with a hash of the
/// name and formats 32 `rand() % 16` digits as a uuid.
pub fn uuid_from_nodename(nodename: &str) -> Uuid {
    // Heartbeat's string hash: h = first byte; then h = h*31 + byte, over
    // C `char`s, which are signed on the platforms it ran on.
    let bytes = nodename.as_bytes();
    let signed = |b: u8| b as i8 as i32 as u32;
    let mut h = bytes.first().map_or(0, |&b| signed(b));
    if h != 0 {
        for &b in &bytes[1..] {
            h = (h << 5).wrapping_sub(h).wrapping_add(signed(b));
        }
    }
    let mut rng = GlibcRand::new(h);
    let mut out = [0u8; 16];
    for byte in out.iter_mut() {
        let hi = (rng.next() % 16) as u8;
        let lo = (rng.next() % 16) as u8;
        *byte = (hi << 4) | lo;
    }
    Uuid::from_bytes(out)
}

/// glibc's default `rand()` (the TYPE_3 additive feedback generator,
/// r[i] = r[i-3] + r[i-31]) after `srand(seed)`.
struct GlibcRand {
    r: [u32; 34],
    /// Index of the next slot to fill, modulo 34.
    i: usize,
}

impl GlibcRand {
    fn new(seed: u32) -> GlibcRand {
        let mut r = [0u32; 34];
        r[0] = if seed == 0 { 1 } else { seed };
        for i in 1..31 {
            // r[i] = 16807 * r[i-1] mod (2^31 - 1), in signed 32-bit
            // arithmetic as glibc computes it (Schrage's method).
            let word = r[i - 1] as i32;
            let hi = word / 127_773;
            let lo = word % 127_773;
            let mut w = 16_807i32.wrapping_mul(lo).wrapping_sub(2_836i32.wrapping_mul(hi));
            if w < 0 {
                w = w.wrapping_add(2_147_483_647);
            }
            r[i] = w as u32;
        }
        r.copy_within(0..3, 31);
        // The next value is r[34], which lives in slot 34 % 34 = 0.
        let mut g = GlibcRand { r, i: 0 };
        // srand() discards the first 310 outputs.
        for _ in 0..310 {
            g.step();
        }
        g
    }

    fn step(&mut self) -> u32 {
        let v = self.r[(self.i + 34 - 31) % 34].wrapping_add(self.r[(self.i + 34 - 3) % 34]);
        self.r[self.i] = v;
        self.i = (self.i + 1) % 34;
        v
    }

    fn next(&mut self) -> u32 {
        self.step() >> 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_format_is_sixteen_bytes() {
        assert_eq!(format_generation(1795344490), "     1795344490\n");
        assert_eq!(format_generation(1795344490).len(), 16);
    }

    #[test]
    fn events_read_like_heartbeat() {
        assert_eq!(
            Event::NoPreviousGeneration { starting_at: 1795344490 }.to_string(),
            "No Previous generation - starting at 1795344490"
        );
        assert_eq!(Event::Generation(7).to_string(), "Heartbeat generation: 7");
        assert_eq!(
            Event::NewUuid(Uuid::nil()).to_string(),
            "No uuid found for current node - generating a new uuid."
        );
        assert_eq!(Event::BrokenGeneration { starting_at: 1 }.level(), Level::Warn);
    }

    fn establish(dir: &Path, now: u64) -> Established {
        NodeIdentity::establish(dir, "node1", UuidSource::File, GenerationMethod::File, now).unwrap()
    }

    #[test]
    fn first_start_then_restarts() {
        // The sequence of node1's log in heartbeat-wire/lab-config.
        let dir = tempfile::tempdir().unwrap();
        let first = establish(dir.path(), 1795344489);
        let uuid = first.identity.uuid;
        assert_eq!(
            first.events,
            [
                Event::NoPreviousGeneration { starting_at: 1795344490 },
                Event::Generation(1795344490),
                Event::NewUuid(uuid),
            ]
        );
        assert_eq!(fs::read(dir.path().join("hb_uuid")).unwrap(), uuid.as_bytes());
        assert_eq!(fs::read_to_string(dir.path().join("hb_generation")).unwrap(), "     1795344490\n");

        // The clock does not matter once the file exists.
        let second = establish(dir.path(), 5);
        assert_eq!(second.identity, NodeIdentity { uuid, generation: 1795344491 });
        assert_eq!(second.events, [Event::Generation(1795344491)]);
        assert_eq!(establish(dir.path(), 5).identity.generation, 1795344492);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "no temporary files left: {names:?}");
    }

    #[test]
    fn reads_files_written_by_heartbeat() {
        let dir = tempfile::tempdir().unwrap();
        // node1's srcuuid in heartbeat-wire/hb-packets.txt, as hb_uuid holds it.
        let raw = [0xeb, 0xee, 0x39, 0x45, 0xe8, 0x1f, 0x4d, 0x1d, 0x93, 0x07, 0xc5, 0x00, 0x11, 0x42, 0x50, 0x25];
        fs::write(dir.path().join("hb_uuid"), raw).unwrap();
        fs::write(dir.path().join("hb_generation"), "     1795344516\n").unwrap();
        let e = establish(dir.path(), 0);
        assert_eq!(e.identity.uuid.to_string(), "ebee3945-e81f-4d1d-9307-c50011425025");
        assert_eq!(e.identity.generation, 1795344517);
        assert_eq!(e.events, [Event::Generation(1795344517)]);
    }

    #[test]
    fn short_nil_and_broken_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("hb_uuid"), [1u8; 15]).unwrap();
        fs::write(dir.path().join("hb_generation"), "garbage\n").unwrap();
        let e = establish(dir.path(), 100);
        assert_eq!(e.events[0], Event::BrokenGeneration { starting_at: 101 });
        assert_eq!(e.identity.generation, 101);
        assert!(matches!(e.events[2], Event::NewUuid(_)));

        fs::write(dir.path().join("hb_uuid"), [0u8; 16]).unwrap();
        fs::write(dir.path().join("hb_generation"), "").unwrap();
        let e = establish(dir.path(), 200);
        assert_eq!(e.events[0], Event::NoPreviousGeneration { starting_at: 201 });
        assert!(!e.identity.uuid.is_nil());

        // Extra bytes after the first 16 are ignored, as read(fd, 16) does.
        let mut long = e.identity.uuid.as_bytes().to_vec();
        long.extend_from_slice(b"junk");
        fs::write(dir.path().join("hb_uuid"), long).unwrap();
        assert_eq!(read_uuid(&dir.path().join("hb_uuid")).unwrap(), Some(e.identity.uuid));
    }

    #[test]
    fn time_method_and_nodename_uuid_store_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let e = NodeIdentity::establish(dir.path(), "node1", UuidSource::NodeName, GenerationMethod::Time, 42).unwrap();
        assert_eq!(e.identity, NodeIdentity { uuid: uuid_from_nodename("node1"), generation: 42 });
        assert_eq!(e.events, [Event::Generation(42)]);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        assert_ne!(uuid_from_nodename("node1"), uuid_from_nodename("node2"));
    }

    /// `uuidfrom nodename` must give the uuid a real Heartbeat node computes
    /// for the same name, so the generator is checked against the C
    /// library's own srand/rand through a small C program.
    #[test]
    fn nodename_uuid_matches_glibc_rand() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("u.c");
        let bin = dir.path().join("u");
        fs::write(
            &src,
            r#"#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    for (int a = 1; a < argc; a++) {
        const char *s = argv[a];
        unsigned int h = (unsigned int)(int)(signed char)s[0];
        if (h) for (size_t i = 1; i < strlen(s); i++) h = (h << 5) - h + (unsigned int)(int)(signed char)s[i];
        srand((unsigned int)(int)h);
        for (int i = 0; i < 32; i++) {
            printf("%x", rand() % 16);
            if (i == 7 || i == 11 || i == 15 || i == 19) printf("-");
        }
        printf("\n");
    }
    return 0;
}
"#,
        )
        .unwrap();
        let cc = std::process::Command::new("cc").arg("-o").arg(&bin).arg(&src).status().expect("a C compiler (cc) is needed");
        assert!(cc.success());
        let names = ["node1", "node2", "", "a", "fileserver-01.example.com", "\u{e9}t\u{e9}", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"];
        let out = std::process::Command::new(&bin).args(names).output().unwrap();
        let expected = String::from_utf8(out.stdout).unwrap();
        let ours: String = names.iter().map(|n| format!("{}\n", uuid_from_nodename(n))).collect();
        assert_eq!(ours, expected);
    }
}
