//! `ha-lab`: cluster nodes as separate hosts on one machine (docs/LAB.md).
//!
//! Each invocation finds its lab through `<root>/lab.json`; the root is
//! `--root`, or `/tmp/ha-lab/<name>`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tests::lab::{self, Lab, LabSpec, Media, Timing};

#[derive(Parser, Debug)]
#[command(name = "ha-lab", about = "Cluster nodes in network/PID/UTS/mount namespaces")]
struct Args {
    /// The lab's name (namespaces are hl-<name>-*).
    #[arg(long, short = 'n', default_value = "lab", global = true)]
    name: String,
    /// The lab's directory (default /tmp/ha-lab/<name>).
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Build the namespaces, links and node files, and boot every node.
    Create {
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// Links per node (1 or 2).
        #[arg(long, default_value_t = 1)]
        links: usize,
        /// ucast, bcast or mcast.
        #[arg(long, default_value = "ucast")]
        media: Media,
        #[arg(long, default_value_t = 694)]
        udpport: u16,
        #[arg(long, default_value_t = Timing::default().keepalive_ms)]
        keepalive_ms: u64,
        #[arg(long, default_value_t = Timing::default().deadtime_ms)]
        deadtime_ms: u64,
        #[arg(long, default_value_t = Timing::default().warntime_ms)]
        warntime_ms: u64,
        #[arg(long, default_value_t = Timing::default().initdead_ms)]
        initdead_ms: u64,
        /// Where heartbeat and cl_status are (default: beside ha-lab).
        #[arg(long)]
        bin_dir: Option<PathBuf>,
        /// ha.cf's crm value: no (heartbeat alone) or respawn/yes/on/minimal
        /// (heartbeat launches ccm, cib, lrmd, attrd, pengine, crmd).
        #[arg(long, default_value = "no")]
        crm: String,
        /// Extra OCF providers (a resource.d directory, e.g. agents/ocf/resource.d)
        /// merged over /usr/lib/ocf/resource.d inside every node.
        #[arg(long)]
        ocf_overlay: Option<PathBuf>,
        /// Extra fence agents (e.g. agents/fence, for fence_lab) merged
        /// over /usr/sbin inside every node.
        #[arg(long)]
        fence_overlay: Option<PathBuf>,
    },
    /// Start heartbeat on nodes (all when none named), booting them if off.
    Start { nodes: Vec<String> },
    /// heartbeat -k on nodes (all when none named).
    Stop { nodes: Vec<String> },
    /// Power a node on (new PID namespace) without starting heartbeat.
    Boot { node: String },
    /// Power a node off hard: its whole PID namespace dies.
    Kill {
        node: String,
        /// Also remove the addresses agents added (a floating address),
        /// which a powered-off host no longer answers for.
        #[arg(long)]
        drop_floating: bool,
    },
    /// SIGSTOP every process of a node.
    Pause { node: String },
    /// SIGCONT every process of a node.
    Resume { node: String },
    /// Drop all packets on one link of a node (nftables).
    Cut { node: String, link: usize },
    /// Undo a cut.
    Restore { node: String, link: usize },
    /// Drop PERCENT % of packets on one link of a node (0 removes).
    Loss { node: String, link: usize, percent: u32 },
    /// Split the nodes into groups, e.g. `partition n1 n2,n3`.
    Partition {
        #[arg(required = true)]
        groups: Vec<String>,
    },
    /// Remove the partition.
    Heal,
    /// Run a command on a node with its HA_* environment.
    Exec {
        node: String,
        #[arg(trailing_var_arg = true, required = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Run a command as the lab's client: outside every node, in the bridge
    /// namespace (address 10.213.0.254).
    Client {
        #[arg(trailing_var_arg = true, required = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// HTTP GETs of IP:PORT every INTERVAL from the current namespace (run
    /// it through `ha-lab client`): prints each new outcome (a body, or `-`
    /// and why) with its time;
    /// stops at the first answer (exit 0), or, with --until-not NODE, at the
    /// first answer that is not NODE; exit 1 when LIMIT passes first.
    Probe {
        #[arg(long)]
        ip: String,
        #[arg(long, default_value_t = 80)]
        port: u16,
        #[arg(long, default_value_t = 50)]
        interval_ms: u64,
        #[arg(long)]
        until_not: Option<String>,
        #[arg(long, default_value_t = 60)]
        limit_s: u64,
        /// Print only the final answer.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Serve the lab's power switch on ROOT/power.sock (in the foreground;
    /// fence_lab inside the nodes calls it with relay=ROOT/power.sock).
    PowerRelay,
    /// Ask the power switch relay: `off NODE`, `status NODE` (exit 0 on,
    /// 2 off) or `list`. Works from inside a node (give --socket).
    Power {
        /// The relay's socket (default ROOT/power.sock).
        #[arg(long)]
        socket: Option<PathBuf>,
        #[arg(required = true, num_args = 1..=2)]
        request: Vec<String>,
    },
    /// Show each node's init pid and active faults.
    Status,
    /// Remove the lab's processes and namespaces (files stay).
    Destroy,
    /// Remove leftover namespaces of every lab (or of --name with --only).
    Cleanup {
        /// Only the lab named by --name.
        #[arg(long)]
        only: bool,
    },
    /// Internal: pid 1 of a node's PID namespace.
    #[command(hide = true)]
    NodeInit {
        #[arg(long)]
        hostname: String,
        #[arg(long)]
        ready: PathBuf,
        #[arg(long)]
        ocf_overlay: Option<PathBuf>,
        #[arg(long)]
        fence_overlay: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ha-lab: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<ExitCode> {
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("/tmp/ha-lab").join(&args.name));
    let open = || Lab::open(&root).with_context(|| format!("no lab at {} (ha-lab create?)", root.display()));
    match args.cmd {
        Cmd::NodeInit { hostname, ready, ocf_overlay, fence_overlay } => {
            lab::node_init::run_with(&hostname, &ready, ocf_overlay.as_deref(), fence_overlay.as_deref())?;
        }
        Cmd::Create {
            nodes,
            links,
            media,
            udpport,
            keepalive_ms,
            deadtime_ms,
            warntime_ms,
            initdead_ms,
            bin_dir,
            crm,
            ocf_overlay,
            fence_overlay,
        } => {
            let bin_dir = match bin_dir {
                Some(d) => d,
                None => std::env::current_exe()?.parent().context("ha-lab has no directory")?.to_path_buf(),
            };
            let mut spec = LabSpec::new(&args.name, &root, nodes, links, &bin_dir);
            spec.media = media;
            spec.udpport = udpport;
            spec.timing = Timing { keepalive_ms, deadtime_ms, warntime_ms, initdead_ms };
            spec.crm = crm;
            spec.ocf_overlay = match ocf_overlay {
                Some(d) => Some(std::fs::canonicalize(&d).with_context(|| format!("OCF overlay {}", d.display()))?),
                None => None,
            };
            spec.fence_overlay = match fence_overlay {
                Some(d) => Some(std::fs::canonicalize(&d).with_context(|| format!("fence overlay {}", d.display()))?),
                None => None,
            };
            Lab::create(spec)?;
            println!("lab {} created in {}", args.name, root.display());
        }
        Cmd::Start { nodes } => {
            let mut lab = open()?;
            for n in pick(&lab, nodes) {
                lab.start(&n)?;
            }
        }
        Cmd::Stop { nodes } => {
            let lab = open()?;
            for n in pick(&lab, nodes) {
                lab.stop(&n)?;
            }
        }
        Cmd::Boot { node } => open()?.boot(&node)?,
        Cmd::Kill { node, drop_floating } => {
            let mut lab = open()?;
            lab.kill(&node)?;
            if drop_floating {
                lab.drop_floating(&node)?;
            }
        }
        Cmd::Pause { node } => open()?.pause(&node)?,
        Cmd::Resume { node } => open()?.resume(&node)?,
        Cmd::Cut { node, link } => open()?.cut(&node, link)?,
        Cmd::Restore { node, link } => open()?.restore(&node, link)?,
        Cmd::Loss { node, link, percent } => open()?.loss(&node, link, percent)?,
        Cmd::Partition { groups } => {
            let groups: Vec<Vec<String>> = groups.iter().map(|g| g.split(',').map(str::to_string).collect()).collect();
            open()?.partition(&groups)?;
        }
        Cmd::Heal => open()?.heal()?,
        Cmd::PowerRelay => {
            let relay = lab::power::Relay::start(&root)?;
            println!("power relay for lab {} on {}", args.name, relay.socket().display());
            relay.wait();
        }
        Cmd::Power { socket, request } => {
            let socket = socket.unwrap_or_else(|| lab::power::socket(&root));
            let answer = lab::power::request(&socket, &request.join(" "))?;
            println!("{answer}");
            if request[0] == "status" && answer == "off" {
                return Ok(ExitCode::from(2));
            }
        }
        Cmd::Exec { node, command } => {
            let lab = open()?;
            let rest: Vec<&str> = command[1..].iter().map(String::as_str).collect();
            let st = lab.command(&node, &command[0], &rest)?.status()?;
            // The command's own exit code (cl_status answers with them).
            return Ok(ExitCode::from(st.code().unwrap_or(128) as u8));
        }
        Cmd::Client { command } => {
            let lab = open()?;
            let rest: Vec<&str> = command[1..].iter().map(String::as_str).collect();
            let st = lab.client_command(&command[0], &rest).status()?;
            return Ok(ExitCode::from(st.code().unwrap_or(128) as u8));
        }
        Cmd::Probe { ip, port, interval_ms, until_not, limit_s, quiet } => {
            let probe = lab::client::Probe::new(&ip, port, Duration::from_millis(interval_ms));
            // One line per change of outcome, not per poll.
            let mut last: Option<String> = None;
            let ended = probe.run(
                Duration::from_secs(limit_s),
                |s| {
                    let now = match &s.answer {
                        Ok(body) => body.clone(),
                        Err(e) => format!("- ({e})"),
                    };
                    if !quiet && last.as_ref() != Some(&now) {
                        println!("{:>8.3} s  {now}", s.at.as_secs_f64());
                    }
                    last = Some(now);
                },
                |s| s.answer.as_ref().is_ok_and(|b| until_not.as_deref() != Some(b.as_str())),
            );
            return Ok(match ended {
                Some(s) => {
                    if quiet {
                        println!("{}", s.answer.unwrap_or_default());
                    }
                    ExitCode::SUCCESS
                }
                None => {
                    eprintln!("ha-lab probe: no answer from {ip}:{port} within {limit_s} s");
                    ExitCode::FAILURE
                }
            });
        }
        Cmd::Status => {
            let lab = open()?;
            for n in lab.spec.node_names() {
                match lab.init_pid(&n) {
                    Some(pid) => println!("{n}: running (init pid {pid}), faults: {:?}", lab.faults(&n)?),
                    None => println!("{n}: off"),
                }
            }
        }
        Cmd::Destroy => open()?.destroy()?,
        Cmd::Cleanup { only } => {
            for ns in lab::cleanup(only.then_some(args.name.as_str()))? {
                println!("removed {ns}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The named nodes, or all of them.
fn pick(lab: &Lab, nodes: Vec<String>) -> Vec<String> {
    if nodes.is_empty() {
        lab.spec.node_names()
    } else {
        nodes
    }
}
