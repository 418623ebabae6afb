//! `cl_status`: Heartbeat's status tool, with its sub-commands, output and
//! exit codes (0 ok, 1 "normal" failure such as a dead node, 11 parameter
//! error, 12 timeout, 13 other error). Talks to the local heartbeat
//! through `$HA_RUNDIR/heartbeat.sock`; the whole run is bounded by 5 s
//! as Heartbeat's `alarm(5)` bounds it.
//!
//! With no heartbeat running it answers as Heartbeat 3.0.6's does (checked
//! side by side with Debian's /usr/bin/cl_status in
//! transport/tests/cl_status_offline.rs): `hbstatus` prints "Heartbeat is
//! stopped on this machine." (exit 1, `-v` adds the API's reason), every
//! other sub-command logs "Cannot signon with heartbeat" and the reason
//! on stderr in cl_log's format and exits 1, before its options are even
//! read; an unknown sub-command is exit 11.

use std::time::Duration;

use haenv::{Daemon, HaEnv};
use transport::api::{ApiError, Client};

const OK: i32 = 0;
const NORMAL_FAIL: i32 = 1;
const PARAMETER_ERROR: i32 = 11;
const TIMEOUT: i32 = 12;
const UNKNOWN_ERROR: i32 = 13;

const HELP: &str = "Usage: cl_status <sub-command> [<options>] [<parameters>]

Sub-commands:
clientstatus <node-name> <client-id> [<timeout>]
\tShow the status of heartbeat clients.
hblinkstatus <node-name> <link-name>
\tShow the status of a heartbeat link
hbstatus
\tIndicate if heartbeat is running on the local system.
\tOptions:
\t\t-v\tverbose: also add \"listnodes -v\" output
listnodes [<option>]
\tList the nodes in the cluster.
\tOptions:
\t\t-p\tlist only 'ping' type nodes
\t\t-n\tlist only 'normal' type nodes
\t\t-v\tverbose: also list type and status,
\t\t\tthen add \"listhblinks -v\" output
listhblinks <node-name>
\tList the network interfaces used as hearbeat links.
\tOptions:
\t\t-v\tverbose: list link status as well
nodestatus <node-name>
\tList the node status.
nodeweight <node-name>
\tList the node weight.
nodesite <node-name>
\tList the node site.
nodetype <node-name>
\tList the nodes of a given type.
rscstatus
\tShow the status of cluster resources.
hbparameter -p <parameter-name>
\tRetrieve the value of a cluster parameter.
\tAs for the valid parameter names, please refer to the man page.
";

/// Options each sub-command accepts (Heartbeat's optstrings) and whether
/// it needs a connection.
const COMMANDS: &[(&str, &str, bool)] = &[
    ("hbstatus", "mv", false),
    ("listnodes", "mpnv", true),
    ("nodestatus", "m", true),
    ("nodeweight", "m", true),
    ("nodesite", "m", true),
    ("nodetype", "m", true),
    ("listhblinks", "mv", true),
    ("hblinkstatus", "m", true),
    ("clientstatus", "m", true),
    ("rscstatus", "m", true),
    ("hbparameter", "mp:", true),
    ("test", "", true),
];

/// What Heartbeat's API library says when no heartbeat answers its
/// sign-on (`hb_api_signon`'s reason, as `errmsg` returns it).
const CANNOT_CONNECT: &str = "hb_api_signon: Can't initiate connection to heartbeat";

/// A `cl_log(LOG_ERR, ...)` line as Heartbeat's tools print it on stderr:
/// `Nov 23 17:17:54 host cl_status: [pid]: ERROR: message` (local time).
fn log_err(msg: &str) {
    eprintln!("{} {} cl_status: [{}]: ERROR: {msg}", timestamp(), hostname(), std::process::id());
}

fn hostname() -> String {
    nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_default()
}

/// Syslog-style local time: `Nov 23 17:17:54`.
fn timestamp() -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as nix::libc::time_t;
    // SAFETY: localtime_r writes only into the tm we pass.
    let tm = unsafe {
        let mut tm: nix::libc::tm = std::mem::zeroed();
        nix::libc::localtime_r(&now, &mut tm);
        tm
    };
    format!("{} {:2} {:02}:{:02}:{:02}", MONTHS[tm.tm_mon.rem_euclid(12) as usize], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
}

struct Opts {
    human: bool,
    verbose: bool,
    ping_only: bool,
    normal_only: bool,
    /// `hbparameter -p NAME`.
    parameter: Option<String>,
    params: Vec<String>,
}

fn parse_opts(args: &[String], allowed: &str) -> Result<Opts, char> {
    let mut o = Opts { human: false, verbose: false, ping_only: false, normal_only: false, parameter: None, params: Vec::new() };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
            for (i, c) in flags.char_indices() {
                if !allowed.contains(c) {
                    return Err(c);
                }
                // `p:` (hbparameter) takes a value: the rest of the word,
                // else the next argument.
                if c == 'p' && allowed.contains("p:") {
                    let rest = &flags[i + 1..];
                    o.parameter = if rest.is_empty() { it.next().cloned() } else { Some(rest.to_string()) };
                    break;
                }
                match c {
                    'm' => o.human = true,
                    'v' => o.verbose = true,
                    'p' => o.ping_only = true,
                    'n' => o.normal_only = true,
                    _ => {}
                }
            }
        } else {
            o.params.push(a.clone());
        }
    }
    Ok(o)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 1 || (args.len() == 2 && args[1] == "-h") {
        print!("{HELP}");
        std::process::exit(0);
    }
    // Heartbeat's alarm(DEFAULT_TIMEOUT): never hang on a sick daemon.
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(5));
        std::process::exit(TIMEOUT);
    });
    std::process::exit(run(&args[1], &args[2..]));
}

fn run(cmd: &str, rest: &[String]) -> i32 {
    // Sub-commands are matched exactly (`strncmp` over the whole name).
    let Some(&(_, optstr, needs_signon)) = COMMANDS.iter().find(|(n, _, _)| *n == cmd) else {
        log_err(&format!("{cmd}: invalid sub-command."));
        return PARAMETER_ERROR;
    };
    let env = match HaEnv::from_process() {
        Ok(e) => e,
        Err(e) => {
            log_err(&e.to_string());
            return UNKNOWN_ERROR;
        }
    };
    // Heartbeat signs on first and reads the sub-command's options only
    // afterwards, so with heartbeat down a bad option goes unnoticed.
    let name = format!("cl_status-{}", std::process::id());
    let client = Client::signon(&env.socket(Daemon::Heartbeat), &name, Duration::from_secs(5));
    let mut hb = match client {
        Ok(c) => c,
        Err(e) => {
            if cmd == "hbstatus" {
                return hbstatus_down(&e, hbstatus_verbose(rest));
            }
            let _ = needs_signon;
            log_err("Cannot signon with heartbeat");
            log_err(&format!("REASON: {}", signon_reason(&e)));
            return NORMAL_FAIL;
        }
    };
    let opts = match parse_opts(rest, optstr) {
        Ok(o) => o,
        Err(c) => {
            log_err(&format!("Error: getopt returned character code {c}."));
            return PARAMETER_ERROR;
        }
    };
    let r = match cmd {
        "hbstatus" => hbstatus(&mut hb, &opts),
        "listnodes" => listnodes(&mut hb, &opts),
        "nodestatus" => nodestatus(&mut hb, &opts),
        "nodetype" => nodetype(&mut hb, &opts),
        "listhblinks" => match opts.params.first() {
            None => {
                eprintln!("No enough parameter.");
                Ok(PARAMETER_ERROR)
            }
            Some(node) => listhblinks(&mut hb, node, opts.verbose, opts.human),
        },
        "hblinkstatus" => hblinkstatus(&mut hb, &opts),
        "clientstatus" => clientstatus(&mut hb, &opts),
        "nodeweight" | "nodesite" | "rscstatus" | "hbparameter" | "test" => unanswered(&mut hb, cmd, &opts),
        _ => unreachable!("listed in COMMANDS"),
    };
    r.unwrap_or_else(|e| {
        log_err(&format!("REASON: {e}"));
        UNKNOWN_ERROR
    })
}

/// `hbstatus`'s own getopt pass: `-v` and `-m`; anything else is reported
/// by getopt (argv[0] is the sub-command then) and otherwise ignored.
fn hbstatus_verbose(rest: &[String]) -> bool {
    let mut verbose = false;
    for a in rest {
        let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) else { break };
        for c in flags.chars() {
            match c {
                'v' => verbose = true,
                'm' => {}
                other => eprintln!("hbstatus: invalid option -- '{other}'"),
            }
        }
    }
    verbose
}

/// The reason a failed sign-on gives: a daemon that is not there is
/// Heartbeat's fixed sentence.
fn signon_reason(e: &ApiError) -> String {
    match e {
        ApiError::Io(_) => CANNOT_CONNECT.to_string(),
        other => other.to_string(),
    }
}

/// Sub-commands whose queries this heartbeat does not serve (node
/// weights and sites, haresources' resource status, ha.cf parameters):
/// asked anyway, and reported with Heartbeat's own failure words when the
/// daemon declines.
fn unanswered(hb: &mut Client, cmd: &str, o: &Opts) -> Result<i32, ApiError> {
    use transport::wire::Message;
    let node = o.params.first().cloned();
    match cmd {
        "nodeweight" | "nodesite" if node.is_none() => {
            eprintln!("Not enough parameters.");
            return Ok(PARAMETER_ERROR);
        }
        "hbparameter" if o.parameter.is_none() => {
            log_err("parameter name required");
            return Ok(PARAMETER_ERROR);
        }
        _ => {}
    }
    let mut m = Message::new().with_str("t", cmd);
    if let Some(n) = &node {
        m = m.with_str("node", n);
    }
    if let Some(p) = &o.parameter {
        m = m.with_str("parameter", p);
    }
    let reply = hb.request(m);
    let value = reply.as_ref().ok().and_then(|r| r.get_str("value").map(str::to_string));
    let Some(value) = value else {
        let why = match reply {
            Err(e) => e.to_string(),
            Ok(_) => format!("{cmd} is not served by this heartbeat"),
        };
        return Ok(match cmd {
            "nodeweight" => {
                eprintln!("Error. Maybe due to incorrect node name.");
                PARAMETER_ERROR
            }
            "nodesite" => {
                eprintln!("Error. May be due to incorrect node name");
                PARAMETER_ERROR
            }
            "hbparameter" => {
                log_err(&format!("Cannot get parameter {}'s value", o.parameter.as_deref().unwrap_or_default()));
                log_err(&format!("REASON: {why}"));
                NORMAL_FAIL
            }
            "test" => {
                log_err(&format!("test: {why}"));
                UNKNOWN_ERROR
            }
            _ => {
                log_err("Cannot get cluster resource status");
                log_err(&format!("REASON: {why}"));
                UNKNOWN_ERROR
            }
        });
    };
    println!("{value}");
    Ok(OK)
}

fn hbstatus_down(e: &ApiError, verbose: bool) -> i32 {
    // Connection refused or no socket: not running. Refused signon: it
    // runs but will not talk to us (Heartbeat's two answers).
    let rc = match e {
        ApiError::Refused(_) => {
            println!("Heartbeat is apparently running on this machine, but refuses my connection");
            OK
        }
        _ => {
            println!("Heartbeat is stopped on this machine.");
            NORMAL_FAIL
        }
    };
    if verbose {
        println!("({})", signon_reason(e));
    }
    rc
}

fn hbstatus(hb: &mut Client, o: &Opts) -> Result<i32, ApiError> {
    if !o.verbose {
        println!("Heartbeat is running on this machine.");
        return Ok(OK);
    }
    if o.human {
        println!("Heartbeat version {}", env!("CARGO_PKG_VERSION"));
    } else {
        println!("version:\t{}", env!("CARGO_PKG_VERSION"));
    }
    list(hb, false, false, true, o.human)?;
    Ok(OK)
}

fn list(hb: &mut Client, normal_only: bool, ping_only: bool, verbose: bool, human: bool) -> Result<i32, ApiError> {
    let (normal_only, ping_only) = if normal_only && ping_only { (false, false) } else { (normal_only, ping_only) };
    if human {
        println!("The nodes are as follow:");
    }
    for node in hb.nodes()? {
        if normal_only || ping_only {
            let t = hb.node_type(&node)?;
            if (normal_only && t != "normal") || (ping_only && t != "ping") {
                continue;
            }
        }
        if verbose {
            println!("\n{node}\t{}\t(nodetype: {})", hb.node_status(&node)?, hb.node_type(&node)?);
            listhblinks(hb, &node, true, human)?;
        } else {
            println!("{node}");
        }
    }
    Ok(OK)
}

fn listnodes(hb: &mut Client, o: &Opts) -> Result<i32, ApiError> {
    list(hb, o.normal_only, o.ping_only, o.verbose, o.human)
}

fn nodestatus(hb: &mut Client, o: &Opts) -> Result<i32, ApiError> {
    let Some(node) = o.params.first() else {
        eprintln!("Not enough parameters.");
        return Ok(PARAMETER_ERROR);
    };
    let Ok(status) = hb.node_status(node) else {
        eprintln!("Error. May be due to incorrect node name");
        return Ok(PARAMETER_ERROR);
    };
    if o.human {
        println!("The cluster node {node} is {status}");
    } else {
        println!("{status}");
    }
    Ok(if matches!(status.as_str(), "active" | "up" | "ping") { OK } else { NORMAL_FAIL })
}

fn nodetype(hb: &mut Client, o: &Opts) -> Result<i32, ApiError> {
    let Some(node) = o.params.first() else {
        eprintln!("No enough parameter.");
        return Ok(PARAMETER_ERROR);
    };
    let Ok(t) = hb.node_type(node) else {
        eprintln!("Error. May be due to incorrect node name");
        return Ok(PARAMETER_ERROR);
    };
    if o.human {
        println!("The node {node}'s type: {t}");
    } else {
        println!("{t}");
    }
    Ok(OK)
}

fn listhblinks(hb: &mut Client, node: &str, verbose: bool, human: bool) -> Result<i32, ApiError> {
    let links = match hb.links(node) {
        Ok(l) => l,
        Err(e) => {
            log_err("Cannot start heartbeat link interface walk.");
            log_err(&format!("REASON: {e}"));
            return Ok(UNKNOWN_ERROR);
        }
    };
    if human {
        println!("\tthis node has the following heartbeat links:");
    }
    for l in links {
        if verbose {
            println!("\t{l}\t{}", hb.link_status(node, &l)?);
        } else {
            println!("\t{l}");
        }
    }
    Ok(OK)
}

fn hblinkstatus(hb: &mut Client, o: &Opts) -> Result<i32, ApiError> {
    let [node, link, ..] = o.params.as_slice() else {
        eprintln!("No enough parameter.");
        return Ok(PARAMETER_ERROR);
    };
    let status = match hb.link_status(node, link) {
        Ok(s) => s,
        Err(e) => {
            log_err("Cannot get heartbeat link status");
            log_err(&format!("REASON: {e}"));
            return Ok(UNKNOWN_ERROR);
        }
    };
    if o.human {
        println!("The node {node}'s heartbeat link {link} is {status}");
    } else {
        println!("{status}");
    }
    Ok(if status == "up" { OK } else { NORMAL_FAIL })
}

fn clientstatus(hb: &mut Client, o: &Opts) -> Result<i32, ApiError> {
    let [node, client, rest @ ..] = o.params.as_slice() else {
        eprintln!("No enough parameter.");
        return Ok(PARAMETER_ERROR);
    };
    // Heartbeat reads the timeout with atoi: junk is 0.
    let timeout = rest.first().map(|t| t.parse::<u64>().unwrap_or(0)).unwrap_or(500);
    let status = match hb.client_status(node, client, timeout) {
        Ok(s) => s,
        Err(e) => {
            log_err(&format!("Cannot get heartbeat client {client}'s status"));
            log_err(&format!("REASON: {e}"));
            return Ok(UNKNOWN_ERROR);
        }
    };
    println!("{status}");
    Ok(match status.as_str() {
        "online" => OK,
        "offline" => NORMAL_FAIL,
        "join" => 2,
        "leave" => 3,
        _ => UNKNOWN_ERROR,
    })
}
