//! cibadmin's command line, parsed the way Pacemaker 2.1.5's cibadmin
//! parses it: GNU `getopt_long` rules (bundled short options, `-oVALUE`,
//! `--long=value`, unique prefixes of long options, arguments after the
//! options moved to the end, `--` ends options) and its exact diagnostics.
//!
//! clap is not used here on purpose: scripts see the error text and exit
//! status of a malformed command line, and clap's differ from getopt's.

use super::ops::{Command, Request};

/// How an option takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    None,
    Required,
    Optional,
}

/// Long options in Pacemaker's table order (the order matters for the
/// "ambiguous" diagnostic), with their short equivalents.
const LONG: &[(&str, char, Arg)] = &[
    ("help", '?', Arg::None),
    ("version", '$', Arg::None),
    ("verbose", 'V', Arg::None),
    ("upgrade", 'u', Arg::None),
    ("query", 'Q', Arg::None),
    ("erase", 'E', Arg::None),
    ("bump", 'B', Arg::None),
    ("create", 'C', Arg::None),
    ("modify", 'M', Arg::None),
    ("patch", 'P', Arg::None),
    ("replace", 'R', Arg::None),
    ("delete", 'D', Arg::None),
    ("delete-all", 'd', Arg::None),
    ("empty", 'a', Arg::None),
    ("md5-sum", '5', Arg::None),
    ("md5-sum-versioned", '6', Arg::None),
    ("show-access", 'S', Arg::Optional),
    ("force", 'f', Arg::None),
    ("timeout", 't', Arg::Required),
    ("user", 'U', Arg::Required),
    ("sync-call", 's', Arg::None),
    ("local", 'l', Arg::None),
    ("allow-create", 'c', Arg::None),
    ("no-children", 'n', Arg::None),
    ("no-bcast", 'b', Arg::None),
    ("xml-text", 'X', Arg::Required),
    ("xml-file", 'x', Arg::Required),
    ("xml-pipe", 'p', Arg::None),
    ("scope", 'o', Arg::Required),
    ("xpath", 'A', Arg::Required),
    ("node-path", 'e', Arg::None),
    ("node", 'N', Arg::Required),
    ("host", 'h', Arg::Required),
];

fn short_arg(c: char) -> Option<Arg> {
    match c {
        't' | 'U' | 'X' | 'x' | 'o' | 'A' | 'N' | 'h' => Some(Arg::Required),
        'S' => Some(Arg::Optional),
        '?' | '$' | 'V' | 'u' | 'Q' | 'E' | 'B' | 'C' | 'M' | 'P' | 'R' | 'D' | 'd' | 'a' | '5' | '6' | 'f' | 's'
        | 'l' | 'c' | 'n' | 'b' | 'p' | 'e' | '!' => Some(Arg::None),
        _ => None,
    }
}

/// Where the operation's XML comes from (the first of these given wins,
/// in this order, as in Pacemaker).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputSources {
    pub file: Option<String>,
    pub text: Option<String>,
    pub stdin: bool,
}

/// Commands Pacemaker has that this cibadmin does not implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    Upgrade,
    Patch,
    Md5Sum,
    Md5SumVersioned,
}

/// A parsed command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub request: Request,
    pub inputs: InputSources,
    pub force: bool,
    /// A command that is refused without `--force` (`-E`, `-u`, `-d`, `-b`).
    pub dangerous: bool,
    pub unsupported: Option<Unsupported>,
    pub verbose: u32,
}

/// What the command line asks for.
#[derive(Debug, Clone)]
pub enum Parsed {
    Run(Box<Options>),
    /// Print this to stdout and exit 0 (`--help`, `--version`, `-a`).
    Print(String),
    /// A usage error: print `stdout`/`stderr` (the diagnostics) and the help
    /// text to stderr, exit 64.
    Usage { stdout: String, stderr: String },
}

/// Parses `args` (without the program name); `prog` names the program in
/// diagnostics, as getopt uses `argv[0]`.
pub fn parse(prog: &str, args: &[String]) -> Parsed {
    if args.is_empty() {
        return Parsed::Usage { stdout: String::new(), stderr: String::new() };
    }
    let mut o = Options::default();
    let mut operands: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            operands.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let (long, short, kind) = match lookup_long(name) {
                Ok(found) => found,
                Err(LongError::Unknown) => {
                    return usage(format!("{prog}: unrecognized option '--{name}'\n"));
                }
                Err(LongError::Ambiguous(c)) => {
                    let list: Vec<String> = c.iter().map(|n| format!("'--{n}'")).collect();
                    return usage(format!("{prog}: option '--{name}' is ambiguous; possibilities: {}\n", list.join(" ")));
                }
            };
            let value = match (kind, inline) {
                (Arg::None, Some(_)) => return usage(format!("{prog}: option '--{long}' doesn't allow an argument\n")),
                (Arg::None, None) => None,
                (Arg::Optional, v) => v,
                (Arg::Required, Some(v)) => Some(v),
                (Arg::Required, None) => {
                    if i < args.len() {
                        i += 1;
                        Some(args[i - 1].clone())
                    } else {
                        return usage(format!("{prog}: option '--{long}' requires an argument\n"));
                    }
                }
            };
            if short == '?' {
                return Parsed::Print(help());
            }
            if let Some(done) = apply(&mut o, short, value, args.get(i)) {
                return done;
            }
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() {
                let c = chars[j];
                j += 1;
                let Some(kind) = short_arg(c) else {
                    return usage(format!("{prog}: invalid option -- '{c}'\n"));
                };
                let rest: String = chars[j..].iter().collect();
                let value = match kind {
                    Arg::None => None,
                    Arg::Optional => {
                        j = chars.len();
                        (!rest.is_empty()).then_some(rest)
                    }
                    Arg::Required => {
                        j = chars.len();
                        if !rest.is_empty() {
                            Some(rest)
                        } else if i < args.len() {
                            i += 1;
                            Some(args[i - 1].clone())
                        } else {
                            return usage(format!("{prog}: option requires an argument -- '{c}'\n"));
                        }
                    }
                };
                if c == '?' {
                    return usage(String::new());
                }
                let next = if j >= chars.len() { args.get(i) } else { None };
                if let Some(done) = apply(&mut o, c, value, next) {
                    return done;
                }
            }
            continue;
        }
        operands.push(a.clone());
    }
    if !operands.is_empty() {
        let mut out = String::from("non-option ARGV-elements: ");
        for op in &operands {
            out.push_str(op);
            out.push(' ');
        }
        out.push('\n');
        return Parsed::Usage { stdout: out, stderr: String::new() };
    }
    if o.request.command.is_none() && o.unsupported.is_none() {
        return usage(String::new());
    }
    Parsed::Run(Box::new(o))
}

fn usage(stderr: String) -> Parsed {
    Parsed::Usage { stdout: String::new(), stderr }
}

enum LongError {
    Unknown,
    Ambiguous(Vec<&'static str>),
}

fn lookup_long(name: &str) -> Result<(&'static str, char, Arg), LongError> {
    if let Some(&(n, c, k)) = LONG.iter().find(|(n, ..)| *n == name) {
        return Ok((n, c, k));
    }
    let candidates: Vec<&(&str, char, Arg)> = LONG.iter().filter(|(n, ..)| n.starts_with(name)).collect();
    match candidates.as_slice() {
        [] => Err(LongError::Unknown),
        [(n, c, k)] => Ok((n, *c, *k)),
        many => {
            // getopt does not complain when every candidate is the same option.
            if many.iter().all(|(_, c, k)| *c == many[0].1 && *k == many[0].2) {
                Ok((many[0].0, many[0].1, many[0].2))
            } else {
                Err(LongError::Ambiguous(many.iter().map(|(n, ..)| *n).collect()))
            }
        }
    }
}

/// Applies one option. Returns `Some` when the option ends parsing
/// (`--version`, `-a`, a bad value).
fn apply(o: &mut Options, c: char, value: Option<String>, next: Option<&String>) -> Option<Parsed> {
    let r = &mut o.request;
    let set = |r: &mut Request, cmd| {
        r.command = Some(cmd);
    };
    match c {
        '$' | '!' => return Some(Parsed::Print(version())),
        'a' => {
            let mut cib = super::ops::empty_cib(1);
            if let Some(v) = next {
                cib.set_attr("validate-with", v.clone());
            }
            return Some(Parsed::Print(cib.to_xml()));
        }
        'V' => o.verbose += 1,
        'u' => {
            o.unsupported = Some(Unsupported::Upgrade);
            o.dangerous = true;
        }
        'P' => o.unsupported = Some(Unsupported::Patch),
        '5' => o.unsupported = Some(Unsupported::Md5Sum),
        '6' => o.unsupported = Some(Unsupported::Md5SumVersioned),
        'Q' => set(r, Command::Query),
        'E' => {
            set(r, Command::Erase);
            o.dangerous = true;
        }
        'B' => set(r, Command::Bump),
        'C' => set(r, Command::Create),
        'M' => set(r, Command::Modify),
        'R' => set(r, Command::Replace),
        'D' => set(r, Command::Delete),
        'd' => {
            set(r, Command::Delete);
            r.multiple = true;
            o.dangerous = true;
        }
        'b' => o.dangerous = true,
        'f' => o.force = true,
        'c' => r.allow_create = true,
        'n' => r.no_children = true,
        'e' => r.node_path = true,
        'A' => {
            r.section = value;
            r.xpath = true;
        }
        'o' => {
            r.section = value;
            r.xpath = false;
        }
        'X' => o.inputs.text = value,
        'x' => o.inputs.file = value,
        'p' => o.inputs.stdin = true,
        'S' => {
            if let Some(v) = &value {
                if !["auto", "namespace", "text", "color"].contains(&v.as_str()) {
                    return Some(Parsed::Usage {
                        stdout: String::new(),
                        stderr: format!("Unrecognized value for --show-access: '{v}'\n"),
                    });
                }
            }
        }
        // Accepted and without effect on a CIB file: timeouts, user
        // impersonation, sync/local calls, target host.
        't' | 'U' | 's' | 'l' | 'N' | 'h' => {}
        _ => {}
    }
    // A later -Q/-C/... replaces an unsupported command given earlier.
    if matches!(c, 'Q' | 'E' | 'B' | 'C' | 'M' | 'R' | 'D' | 'd') {
        o.unsupported = None;
    } else if matches!(c, 'u' | 'P' | '5' | '6') {
        o.request.command = None;
    }
    None
}

/// `--version`.
pub fn version() -> String {
    format!(
        "cibadmin ({} {}), compatible with Pacemaker 2.1.5\n",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION")
    )
}

/// `--help`, and what usage errors print after their diagnostic.
pub fn help() -> String {
    "\
cibadmin - read and change the cluster configuration (CIB)
Usage: cibadmin <command> [options]
The CIB is the file named by CIB_file; without it, cibadmin needs a running
cluster.

Commands:
 -Q, --query            Print the CIB, a section of it (-o) or XPath matches (-A)
 -C, --create           Add an object to a section (fails if it exists)
 -M, --modify           Merge attributes and children into an existing object
                        (-c creates it when missing)
 -R, --replace          Replace an object, a section or the whole CIB
 -D, --delete           Delete the first object whose name and attributes match
 -d, --delete-all       With --xpath, delete every match (needs --force)
 -B, --bump             Increase the CIB's epoch by one
 -E, --erase            Empty the configuration (needs --force)
 -a, --empty [schema]   Print an empty CIB
 -u, --upgrade          Not supported by this cibadmin
 -P, --patch            Not supported by this cibadmin
 -5, --md5-sum          Not supported by this cibadmin
 -6, --md5-sum-versioned  Not supported by this cibadmin
 -?, --help             This text
 -$, --version          Version information
 -V, --verbose          More output (accepted, no effect)

Data:
 -X, --xml-text=XML     XML given on the command line
 -x, --xml-file=FILE    XML read from FILE
 -p, --xml-pipe         XML read from standard input
 -o, --scope=SECTION    configuration, nodes, resources, constraints, crm_config,
                        rsc_defaults, op_defaults, acls, fencing-topology, tags,
                        alerts or status
 -A, --xpath=EXPR       Select with an XPath expression instead of a section
 -e, --node-path        With --xpath queries, print the paths of the matches
 -n, --no-children      With queries, print matches without their children

Other options:
 -f, --force            Allow dangerous commands
 -c, --allow-create     Let --modify create a missing object
 -t, --timeout, -U, --user, -s, --sync-call, -l, --local, -N, --node,
 -S, --show-access      Accepted for compatibility; no effect on a CIB file

Exit status: 0 success, 64 usage, 78 invalid XML or schema, 103 update older
than the CIB, 105 no such object, 107 dangerous without --force, 108 object
exists.
"
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Parsed {
        parse("cibadmin", &args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn stderr(args: &[&str]) -> String {
        match p(args) {
            Parsed::Usage { stderr, .. } => stderr,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn getopt_style() {
        let Parsed::Run(o) = p(&["-Qn", "-oresources", "--xp", "//x"]) else { panic!() };
        assert_eq!(o.request.command, Some(Command::Query));
        assert!(o.request.no_children && o.request.xpath);
        assert_eq!(o.request.section.as_deref(), Some("//x"));
        let Parsed::Run(o) = p(&["-A", "//x", "--scope=status", "-R"]) else { panic!() };
        assert!(!o.request.xpath, "the last of -o/-A wins");
        assert_eq!(o.request.command, Some(Command::Replace));
    }

    #[test]
    fn diagnostics() {
        assert_eq!(stderr(&["-Z"]), "cibadmin: invalid option -- 'Z'\n");
        assert_eq!(stderr(&["-X"]), "cibadmin: option requires an argument -- 'X'\n");
        assert_eq!(stderr(&["--bogus"]), "cibadmin: unrecognized option '--bogus'\n");
        assert_eq!(stderr(&["--xml-text"]), "cibadmin: option '--xml-text' requires an argument\n");
        assert_eq!(stderr(&["--query=1"]), "cibadmin: option '--query' doesn't allow an argument\n");
        assert_eq!(
            stderr(&["--x"]),
            "cibadmin: option '--x' is ambiguous; possibilities: '--xml-text' '--xml-file' '--xml-pipe' '--xpath'\n"
        );
        assert_eq!(stderr(&["-t", "5"]), "");
        let Parsed::Usage { stdout, .. } = p(&["-Q", "--", "x"]) else { panic!() };
        assert_eq!(stdout, "non-option ARGV-elements: x \n");
    }

    #[test]
    fn exact_long_names_beat_prefixes() {
        let Parsed::Run(o) = p(&["--delete", "--node", "n", "-X", "<a/>"]) else { panic!() };
        assert_eq!(o.request.command, Some(Command::Delete));
        assert!(!o.request.multiple);
    }

    #[test]
    fn empty_takes_the_next_word_as_schema() {
        let Parsed::Print(s) = p(&["-a", "pacemaker-2.0"]) else { panic!() };
        assert!(s.starts_with(r#"<cib crm_feature_set="3.16.1" validate-with="pacemaker-2.0" epoch="1""#), "{s}");
    }
}
