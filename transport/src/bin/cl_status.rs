//! `cl_status`: Heartbeat's status tool, with its sub-commands, output and
//! exit codes (0 ok, 1 "normal" failure such as a dead node, 11 parameter
//! error, 12 timeout, 13 other error). Talks to the local heartbeat
//! through `$HA_RUNDIR/heartbeat.sock`; the whole run is bounded by 5 s
//! as Heartbeat's `alarm(5)` bounds it.

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
nodetype <node-name>
\tList the nodes of a given type.
";

/// Options each sub-command accepts (Heartbeat's optstrings) and whether
/// it needs a connection.
const COMMANDS: &[(&str, &str, bool)] = &[
    ("hbstatus", "mv", false),
    ("listnodes", "mpnv", true),
    ("nodestatus", "m", true),
    ("nodetype", "m", true),
    ("listhblinks", "mv", true),
    ("hblinkstatus", "m", true),
    ("clientstatus", "m", true),
];

struct Opts {
    human: bool,
    verbose: bool,
    ping_only: bool,
    normal_only: bool,
    params: Vec<String>,
}

fn parse_opts(args: &[String], allowed: &str) -> Result<Opts, char> {
    let mut o = Opts { human: false, verbose: false, ping_only: false, normal_only: false, params: Vec::new() };
    for a in args {
        if let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
            for c in flags.chars() {
                if !allowed.contains(c) {
                    return Err(c);
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
    let Some(&(_, optstr, needs_signon)) = COMMANDS.iter().find(|(n, _, _)| *n == cmd) else {
        eprintln!("cl_status: ERROR: {cmd}: invalid sub-command.");
        return PARAMETER_ERROR;
    };
    let opts = match parse_opts(rest, optstr) {
        Ok(o) => o,
        Err(c) => {
            eprintln!("cl_status: ERROR: Error: getopt returned character code {c}.");
            return PARAMETER_ERROR;
        }
    };
    let env = match HaEnv::from_process() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cl_status: ERROR: {e}");
            return UNKNOWN_ERROR;
        }
    };
    let name = format!("cl_status-{}", std::process::id());
    let client = Client::signon(&env.socket(Daemon::Heartbeat), &name, Duration::from_secs(5));
    let mut hb = match client {
        Ok(c) => c,
        Err(e) => {
            if cmd == "hbstatus" {
                return hbstatus_down(&e, opts.verbose);
            }
            if needs_signon {
                eprintln!("cl_status: ERROR: Cannot signon with heartbeat");
                eprintln!("cl_status: ERROR: REASON: {e}");
            }
            return NORMAL_FAIL;
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
        _ => unreachable!("listed in COMMANDS"),
    };
    r.unwrap_or_else(|e| {
        eprintln!("cl_status: ERROR: REASON: {e}");
        UNKNOWN_ERROR
    })
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
        println!("({e})");
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
            eprintln!("cl_status: ERROR: Cannot start heartbeat link interface walk.");
            eprintln!("cl_status: ERROR: REASON: {e}");
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
            eprintln!("cl_status: ERROR: Cannot get heartbeat link status");
            eprintln!("cl_status: ERROR: REASON: {e}");
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
            eprintln!("cl_status: ERROR: Cannot get heartbeat client {client}'s status");
            eprintln!("cl_status: ERROR: REASON: {e}");
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
