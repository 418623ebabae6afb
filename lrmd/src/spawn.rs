//! Starting an agent process: posix_spawn with an argument and environment
//! vector built once per [`Prepared`] invocation.
//!
//! Why not `std::process::Command`: every spawn through it copies the
//! environment into a map of owned strings, clones that map again to
//! build the C arrays, and frees all of it: for an agent with the node's
//! HA_* variables and its OCF_RESKEY_* parameters that was a hundred-odd
//! allocations per run, the largest share of lrmd's CPU with 1,000
//! recurring monitors (docs/LRMD.md, Benchmark). A recurring monitor runs
//! the same invocation every time, so the server keeps its [`Prepared`]
//! and a run allocates almost nothing here.
//!
//! What the child gets (as `Command` gave it): its own process group
//! (`POSIX_SPAWN_SETPGROUP`, so a timeout kills the agent and everything
//! it started), SIGPIPE back to its default (Rust ignores it in lrmd, and
//! an ignored signal survives exec), an empty signal mask, `/` as working
//! directory, stdin from a pipe or `/dev/null`, stdout and stderr pipes.
//! Every descriptor of lrmd is close-on-exec, so the agent inherits only
//! those three. glibc's posix_spawn uses CLONE_VFORK and reports an exec
//! failure (ENOENT, EACCES...) as its own error.
//!
//! The exit is watched through a pidfd (readable once the process has
//! exited) and reaped with waitpid on that pid only, so lrmd needs no
//! SIGCHLD handler.

use std::ffi::{c_char, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::libc;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::agent::Invocation;

/// An invocation turned into C strings, ready to be spawned any number of
/// times.
#[derive(Debug, PartialEq, Eq)]
pub struct Prepared {
    program: CString,
    /// argv\[0\] is the program.
    argv: Vec<CString>,
    /// `NAME=VALUE`.
    envp: Vec<CString>,
}

impl Prepared {
    /// `None` when a string holds a NUL byte (no process can get it).
    pub fn new(inv: &Invocation) -> Option<Prepared> {
        use std::os::unix::ffi::OsStrExt;
        let program = CString::new(inv.program.as_os_str().as_bytes()).ok()?;
        let mut argv = Vec::with_capacity(inv.args.len() + 1);
        argv.push(program.clone());
        for a in &inv.args {
            argv.push(CString::new(a.as_str()).ok()?);
        }
        let envp = inv
            .env
            .iter()
            .map(|(k, v)| CString::new(format!("{k}={v}")).ok())
            .collect::<Option<Vec<_>>>()?;
        Some(Prepared { program, argv, envp })
    }
}

/// A started agent: its pid and the parent's ends of its pipes.
#[derive(Debug)]
pub struct Spawned {
    pub pid: Pid,
    pub stdin: Option<OwnedFd>,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// A null-terminated array of pointers into `strings` (which must outlive
/// it).
fn pointers(strings: &[CString]) -> Vec<*const c_char> {
    strings.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect()
}

/// Turns a posix_spawn* return code (an errno value, not -1) into a Result.
fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// File actions and attributes, destroyed on drop whatever happens.
struct SpawnSetup {
    actions: libc::posix_spawn_file_actions_t,
    attr: libc::posix_spawnattr_t,
}

impl SpawnSetup {
    fn new() -> io::Result<Box<SpawnSetup>> {
        // Boxed: glibc's objects must not move once initialised.
        // SAFETY: zeroed storage is only handed to the init functions,
        // which initialise it; a failed init leaves nothing to destroy,
        // and Drop only runs after both succeeded.
        unsafe {
            let mut s: Box<SpawnSetup> = Box::new(std::mem::zeroed());
            check(libc::posix_spawn_file_actions_init(&mut s.actions))?;
            if let Err(e) = check(libc::posix_spawnattr_init(&mut s.attr)) {
                libc::posix_spawn_file_actions_destroy(&mut s.actions);
                std::mem::forget(s);
                return Err(e);
            }
            Ok(s)
        }
    }
}

impl Drop for SpawnSetup {
    fn drop(&mut self) {
        // SAFETY: both were initialised in `new`.
        unsafe {
            libc::posix_spawn_file_actions_destroy(&mut self.actions);
            libc::posix_spawnattr_destroy(&mut self.attr);
        }
    }
}

/// Starts `p` in a process group of its own. `stdin_null` is the
/// descriptor its stdin gets when `with_stdin` is false (`/dev/null`).
pub fn spawn(p: &Prepared, with_stdin: bool, stdin_null: &OwnedFd) -> io::Result<Spawned> {
    use nix::fcntl::OFlag;
    let (out_r, out_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    let (err_r, err_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    let stdin_pipe = if with_stdin { Some(nix::unistd::pipe2(OFlag::O_CLOEXEC)?) } else { None };
    let stdin_src = stdin_pipe.as_ref().map_or(stdin_null.as_raw_fd(), |(r, _)| r.as_raw_fd());

    let mut s = SpawnSetup::new()?;
    let argv = pointers(&p.argv);
    let envp = pointers(&p.envp);
    let mut pid: libc::pid_t = 0;
    // SAFETY: `s` holds initialised objects; every descriptor named is
    // open for the duration of the call; argv/envp are null-terminated
    // arrays of pointers into CStrings of `p`, alive across the call; the
    // signal sets are initialised by sigemptyset before use.
    unsafe {
        check(libc::posix_spawn_file_actions_adddup2(&mut s.actions, stdin_src, 0))?;
        check(libc::posix_spawn_file_actions_adddup2(&mut s.actions, out_w.as_raw_fd(), 1))?;
        check(libc::posix_spawn_file_actions_adddup2(&mut s.actions, err_w.as_raw_fd(), 2))?;
        check(libc::posix_spawn_file_actions_addchdir_np(&mut s.actions, c"/".as_ptr()))?;
        let flags = libc::POSIX_SPAWN_SETPGROUP | libc::POSIX_SPAWN_SETSIGDEF | libc::POSIX_SPAWN_SETSIGMASK;
        check(libc::posix_spawnattr_setflags(&mut s.attr, flags as libc::c_short))?;
        check(libc::posix_spawnattr_setpgroup(&mut s.attr, 0))?;
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        check(libc::posix_spawnattr_setsigmask(&mut s.attr, &set))?;
        libc::sigaddset(&mut set, libc::SIGPIPE);
        check(libc::posix_spawnattr_setsigdefault(&mut s.attr, &set))?;
        check(libc::posix_spawn(
            &mut pid,
            p.program.as_ptr(),
            &s.actions,
            &s.attr,
            argv.as_ptr() as *const *mut c_char,
            envp.as_ptr() as *const *mut c_char,
        ))?;
    }
    // The child's ends close here (dropped); it holds its own copies.
    drop((out_w, err_w));
    // Ours are read without blocking (a flag of our ends only: the
    // child's descriptors are other open files of the same pipes).
    for fd in [&out_r, &err_r] {
        nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
    }
    Ok(Spawned {
        pid: Pid::from_raw(pid),
        stdin: stdin_pipe.map(|(_, w)| w),
        stdout: out_r,
        stderr: err_r,
    })
}

/// A pidfd for `pid` (readable once it has exited); `None` where the
/// kernel has none (before Linux 5.3).
pub fn pidfd(pid: Pid) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new
    // descriptor (owned from here on) or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// How a reaped child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// Reaps `pid` if it has exited (`None`: still running).
pub fn try_reap(pid: Pid) -> io::Result<Option<Exit>> {
    match waitpid(pid, Some(WaitPidFlag::WNOHANG))? {
        WaitStatus::Exited(_, code) => Ok(Some(Exit::Code(code))),
        WaitStatus::Signaled(_, sig, _) => Ok(Some(Exit::Signal(sig as i32))),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::ExitMapping;
    use std::io::Read;
    use std::path::PathBuf;

    fn inv(program: &str, args: &[&str], env: &[(&str, &str)]) -> Invocation {
        Invocation {
            program: PathBuf::from(program),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            stdin: None,
            mapping: ExitMapping::Ocf,
        }
    }

    fn wait(pid: Pid) -> Exit {
        for _ in 0..500 {
            if let Some(e) = try_reap(pid).unwrap() {
                return e;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("child did not exit");
    }

    fn read_all(fd: OwnedFd) -> String {
        let mut s = String::new();
        std::fs::File::from(fd).read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn the_child_gets_exactly_our_environment_args_group_cwd_and_signals() {
        let null = OwnedFd::from(std::fs::File::open("/dev/null").unwrap());
        let p = Prepared::new(&inv(
            "/bin/sh",
            &["-c", "echo \"$0|$1|$FOO|$(env | grep -cvE '^(PWD|OLDPWD|SHLVL|_)=')|$(pwd)\"; cut -d' ' -f5 /proc/$$/stat; exit 3", "one"],
            &[("FOO", "bar baz"), ("PATH", "/usr/bin:/bin")],
        ))
        .unwrap();
        let s = spawn(&p, false, &null).unwrap();
        let exit = wait(s.pid);
        let out = read_all(s.stdout);
        let err = read_all(s.stderr);
        assert_eq!(exit, Exit::Code(3));
        let mut lines = out.lines();
        // FOO and PATH (besides what the shell sets itself).
        assert_eq!(lines.next(), Some("one||bar baz|2|/"), "{out}");
        assert_eq!(lines.next().map(str::trim), Some(s.pid.as_raw().to_string().as_str()), "its own group");
        assert_eq!(err, "");
        // SIGPIPE (bit 13) is not ignored, nothing is blocked: read by a
        // program spawned directly (a shell blocks signals while it waits).
        let p = Prepared::new(&inv("/bin/grep", &["-E", "^Sig(Ign|Blk)", "/proc/self/status"], &[])).unwrap();
        let s = spawn(&p, false, &null).unwrap();
        assert_eq!(wait(s.pid), Exit::Code(0));
        let status = read_all(s.stdout);
        assert_eq!(status.lines().count(), 2, "{status}");
        for l in status.lines() {
            let mask = u64::from_str_radix(l.split_whitespace().nth(1).unwrap(), 16).unwrap();
            assert_eq!(mask & (1 << 12), 0, "{l}");
            if l.starts_with("SigBlk") {
                assert_eq!(mask, 0, "{l}");
            }
        }
    }

    #[test]
    fn exec_failures_are_errors_with_their_errno() {
        let null = OwnedFd::from(std::fs::File::open("/dev/null").unwrap());
        let missing = Prepared::new(&inv("/nonexistent/agent", &[], &[])).unwrap();
        assert_eq!(spawn(&missing, false, &null).unwrap_err().raw_os_error(), Some(libc::ENOENT));
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("agent");
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        let not_exec = Prepared::new(&inv(plain.to_str().unwrap(), &[], &[])).unwrap();
        assert_eq!(spawn(&not_exec, false, &null).unwrap_err().raw_os_error(), Some(libc::EACCES));
        assert!(Prepared::new(&inv("/bin/true", &["a\0b"], &[])).is_none());
    }

    #[test]
    fn stdin_pipe_signals_and_pidfd() {
        use std::io::Write;
        let null = OwnedFd::from(std::fs::File::open("/dev/null").unwrap());
        let p = Prepared::new(&inv("/bin/sh", &["-c", "read x; echo \"got $x\"; kill -TERM $$"], &[])).unwrap();
        let s = spawn(&p, true, &null).unwrap();
        assert!(pidfd(s.pid).is_some());
        std::fs::File::from(s.stdin.unwrap()).write_all(b"hello\n").unwrap();
        assert_eq!(wait(s.pid), Exit::Signal(libc::SIGTERM));
        assert_eq!(read_all(s.stdout), "got hello\n");
    }
}
