//! crm_verify's command line and output, as Pacemaker 2.1.5 prints them.
//!
//! Exit codes: 0 clean (warnings included, as 2.1.5 only reports them),
//! 78 when the check found errors *or* warnings (2.1.5 returns
//! CRM_EX_CONFIG for both), 1 for an unreadable source, 66 when `-L`
//! has no CIB to read, 64 for usage errors.

use std::io::Read;

use clap::Parser;

use super::{verify, Verdict};
use crate::cib_file::{Context, Outcome};
use crate::output::{Destination, Format};
use crate::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "crm_verify", about = "Check a Pacemaker configuration for errors", disable_version_flag = true)]
pub struct Args {
    /// Check the configuration used by the running cluster
    #[arg(short = 'L', long = "live-check")]
    pub live: bool,
    /// Check the configuration in the named file
    #[arg(short = 'x', long = "xml-file", value_name = "FILE")]
    pub xml_file: Option<String>,
    /// Check the configuration piped in via stdin
    #[arg(short = 'p', long = "xml-pipe")]
    pub pipe: bool,
    /// Check the configuration in the supplied string
    #[arg(short = 'X', long = "xml-text", value_name = "XML")]
    pub xml_text: Option<String>,
    /// Save verified XML to named file
    #[arg(short = 'S', long = "save-xml", value_name = "FILE")]
    pub save: Option<String>,
    /// Increase debug output (may be specified multiple times)
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print nothing; only the exit code tells (not in Pacemaker 2.1.5)
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Specify output format as one of: text (default), xml
    #[arg(long = "output-as", value_name = "FORMAT")]
    pub output_as: Option<String>,
    /// Specify file name for output (or "-" for stdout)
    #[arg(long = "output-to", value_name = "DEST")]
    pub output_to: Option<String>,
}

/// Runs crm_verify with `argv` (program name first); `stdin` feeds `-p`.
///
/// With `--output-as xml` every message stays on stderr, as 2.1.5 prints
/// them, and stdout carries only the `<pacemaker-result>` with the exit
/// status (crm_verify registers no XML messages of its own in 2.1.5).
pub fn run_argv(argv: &[String], ctx: &Context, stdin: &mut dyn Read, now: i64) -> Outcome {
    let a = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => return crate::attribute::cli::usage(e),
    };
    let format = match Format::parse("crm_verify", a.output_as.as_deref(), false) {
        Ok(f) => f,
        Err(o) => return o,
    };
    let dest = match Destination::open("crm_verify", format, a.output_to.as_deref(), false) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let mut o = run(&a, ctx, stdin, now);
    if format.is_structured() {
        o.stdout = crate::output::document(&crate::output::request(argv), &[], o.code, &[]);
    }
    dest.deliver(o)
}

pub fn run(args: &Args, ctx: &Context, stdin: &mut dyn Read, now: i64) -> Outcome {
    let mut out = Outcome::default();
    // Where the XML comes from, and the name libxml2 would prefix its
    // messages with (only a file has one).
    let (text, file_name) = if let Some(t) = &args.xml_text {
        (t.clone(), None)
    } else if let Some(f) = &args.xml_file {
        match crate::cib_file::read_xml_input(f) {
            Ok(t) => (t, Some(f.clone())),
            Err(_) => {
                out.err(&format!("crm_verify: Couldn't parse input file: {f}\n"));
                return out.exit(ExitCode::Error);
            }
        }
    } else if args.pipe {
        let mut t = String::new();
        if stdin.read_to_string(&mut t).is_err() {
            out.err("crm_verify: Couldn't parse input from STDIN\n");
            return out.exit(ExitCode::Error);
        }
        (t, None)
    } else if args.live {
        match &ctx.source {
            Ok(cib::env::CibSource::File(p)) => match std::fs::read_to_string(p) {
                Ok(t) => (t, Some(p.display().to_string())),
                Err(_) => {
                    out.err("crm_verify: CIB query failed: Input file not available\n");
                    return out.exit(ExitCode::NoInput);
                }
            },
            _ => {
                // No cib daemon client yet: what 2.1.5 says with no cluster.
                out.err("crm_verify: CIB query failed: Input file not available\n");
                return out.exit(ExitCode::NoInput);
            }
        }
    } else {
        out.err("crm_verify: No configuration source specified.  Use --help for usage information.\n");
        return out.exit(ExitCode::Error);
    };

    let mut doc = match cib::Document::parse(&text) {
        Ok(d) => d,
        Err(_) => {
            let what = match (&args.xml_file, args.pipe || args.live) {
                (Some(f), _) => format!("input file: {f}"),
                (None, true) => "input from STDIN".to_string(),
                (None, false) => format!("input string: {text}"),
            };
            out.err(&format!("crm_verify: Couldn't parse {what}\n"));
            return out.exit(ExitCode::Error);
        }
    };
    // Pacemaker adds an empty status section when there is none.
    if doc.root.child("status").is_none() {
        doc.root.child_or_insert("status");
    }

    let verdict = verify(&doc, now);
    if let Some(path) = &args.save {
        if let Err(e) = std::fs::write(path, doc.to_xml()) {
            out.err(&format!("crm_verify: Could not save {path}: {e}\n"));
        }
    }
    if !args.quiet {
        report(&mut out, &verdict, file_name.as_deref(), args.verbose);
    }
    let failed = verdict.has_errors() || !verdict.warnings.is_empty();
    out.exit(if failed { ExitCode::Config } else { ExitCode::Ok })
}

/// Pacemaker's text: schema problems as libxml2 words them (prefixed by
/// the file and line), the scheduler's findings at `-V` (errors) and
/// `-VV` (warnings), then the summary.
fn report(out: &mut Outcome, v: &Verdict, file: Option<&str>, verbose: u8) {
    for line in &v.notices {
        out.out(&format!("{line}\n"));
    }
    for p in &v.schema_errors {
        let prefix = file.map(|f| format!("{f}:{}: ", p.line)).unwrap_or_default();
        let id = p.id.as_deref().map(|id| format!(" (id={id})")).unwrap_or_default();
        out.err(&format!("{prefix}element {}: Relax-NG validity error : {}{id}\n", p.element, p.message));
    }
    if v.schema_disabled {
        out.err("Schema validation of configuration is disabled (enabling is encouraged and prevents common misconfigurations)\n");
    }
    if !v.schema_errors.is_empty() && verbose > 0 {
        out.err("(main) \terror: CIB did not pass schema validation\n");
    }
    if verbose > 0 {
        for f in &v.errors {
            out.err(&format!("({}) \terror: {}\n", f.origin, f.message));
        }
    }
    if verbose > 1 {
        for f in &v.warnings {
            out.err(&format!("({}) \twarning: {}\n", f.origin, f.message));
        }
    }
    let summary = if v.has_errors() {
        "crm_verify: Errors found during check: config not valid\n"
    } else if !v.warnings.is_empty() {
        "crm_verify: Warnings found during check: config may not be valid\n"
    } else {
        return;
    };
    out.err(summary);
    if verbose == 0 {
        out.err("-V may provide more details\n");
    }
}
