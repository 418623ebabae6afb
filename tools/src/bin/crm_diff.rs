//! crm_diff: compare two XML documents and print the patchset between
//! them, or apply a patchset to a document and print the result.
//!
//! Flags, messages and exit codes follow Pacemaker 2.1.5's crm_diff:
//! making a diff exits 1 when there are differences (0 when none), a
//! failed patch exits 1 (or 103 for a stale patch, 70 for an unknown
//! format), unparseable input exits 65 and bad usage 64. The one
//! deliberate difference is that we always write format 2 patches, where
//! Pacemaker falls back to the legacy format 1 for sources whose
//! `crm_feature_set` is 3.0.8 or older; see docs/PATCHSET.md.

use std::io::Read as _;
use std::process::ExitCode as ProcessExit;

use clap::Parser;

use cib::patchset::{self, ApplyOptions, DiffOptions, FailureClass};
use cib::xml::{Document, Element, Node};
use tools::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "crm_diff",
    version,
    // -V is --verbose, as in Pacemaker; the version flag is -$.
    disable_version_flag = true,
    about = "Compare two Pacemaker configurations (in XML format) to produce a custom diff-like output, or apply such an output as a patch",
    after_help = "Examples:\n\n  Calculate and save the difference between two files:\n\t# crm_diff --original cib-old.xml --new cib-new.xml > patch.xml\n\n  Apply the patch to the original file:\n\t# crm_diff --original cib-old.xml --patch patch.xml > updated.xml"
)]
struct Args {
    /// XML is contained in the named file
    #[arg(short = 'o', long = "original", value_name = "FILE")]
    original: Option<String>,
    /// XML is contained in the supplied string
    #[arg(short = 'O', long = "original-string", value_name = "STRING")]
    original_string: Option<String>,
    /// Compare the original XML to the contents of the named file
    #[arg(short = 'n', long = "new", value_name = "FILE")]
    new: Option<String>,
    /// Compare the original XML with the contents of the supplied string
    #[arg(short = 'N', long = "new-string", value_name = "STRING")]
    new_string: Option<String>,
    /// Patch the original XML with the contents of the named file
    #[arg(short = 'p', long = "patch", value_name = "FILE")]
    patch: Option<String>,
    /// Compare/patch the inputs as a CIB (includes versions details)
    #[arg(short = 'c', long = "cib")]
    cib: bool,
    /// Read the XML from standard input
    #[arg(short = 's', long = "stdin")]
    stdin: bool,
    /// Generate the difference without versions details
    #[arg(short = 'u', long = "no-version")]
    no_version: bool,
    /// Display software version and exit
    #[arg(short = '$', long = "version", action = clap::ArgAction::Version)]
    version: (),
    /// Increase debug output (may be specified multiple times)
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    verbose: u8,
}

fn main() -> ProcessExit {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::Ok.into();
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::Usage.into();
        }
    };
    run(&args).into()
}

fn run(args: &Args) -> ExitCode {
    // As in Pacemaker, -p makes this an apply even if -n or -N names the input.
    let applying = args.patch.is_some();
    if applying && args.no_version {
        eprintln!("warning: -u/--no-version ignored with -p/--patch");
    } else if args.cib && args.no_version {
        eprintln!("error: -u/--no-version incompatible with -c/--cib");
        return ExitCode::Usage;
    }

    // Standard input can be read once: with --stdin for both sides, the
    // second read finds nothing, as with Pacemaker.
    let mut stdin_used = false;
    let mut read = |string: &Option<String>, file: Option<&String>, prompt: &str| -> Option<Element> {
        let text = if let Some(s) = string {
            s.clone()
        } else if args.stdin {
            eprint!("{prompt}");
            if std::mem::replace(&mut stdin_used, true) {
                return None;
            }
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).ok()?;
            s
        } else {
            std::fs::read_to_string(file?).ok()?
        };
        match Document::parse(&text) {
            Ok(doc) => Some(doc.root),
            Err(e) => {
                if args.verbose > 0 {
                    eprintln!("crm_diff: {e}");
                }
                None
            }
        }
    };
    let source = read(&args.original_string, args.original.as_ref(), "Input first XML fragment:");
    let second_file = args.new.as_ref().or(args.patch.as_ref());
    let target = read(&args.new_string, second_file, "Input second XML fragment:");
    let Some(mut source) = source else {
        eprintln!("Could not parse the first XML fragment");
        return ExitCode::DataErr;
    };
    let Some(mut target) = target else {
        eprintln!("Could not parse the second XML fragment");
        return ExitCode::DataErr;
    };

    if applying {
        apply(&mut source, &target, args.cib)
    } else {
        make_patch(&source, &mut target, args.cib, args.no_version)
    }
}

fn apply(doc: &mut Element, patch: &Element, as_cib: bool) -> ExitCode {
    match patchset::apply_with(doc, patch, ApplyOptions { check_version: as_cib }) {
        Ok(()) => {
            print!("{}", doc.to_xml());
            ExitCode::Ok
        }
        Err(e) => {
            let (message, code) = match e.class() {
                FailureClass::DiffFailed => ("Application of update diff failed", ExitCode::Error),
                FailureClass::DiffResync => {
                    ("Application of update diff failed, requesting full refresh", ExitCode::Error)
                }
                FailureClass::OldData => ("Update was older than existing configuration", ExitCode::Old),
                FailureClass::Invalid => ("Invalid argument", ExitCode::Software),
            };
            eprintln!("Could not apply patch: {message}");
            eprintln!("crm_diff: {e}");
            code
        }
    }
}

fn make_patch(source: &Element, target: &mut Element, as_cib: bool, no_version: bool) -> ExitCode {
    if no_version {
        // Make the versions equal so that they are not a difference.
        for field in cib::Version::ATTRS {
            if let Some(v) = source.attr(field) {
                target.set_attr(field, v);
            }
        }
    }
    let mut patch = match patchset::diff_with(source, target, DiffOptions { attr_moves: !as_cib }) {
        Ok(p) => p,
        Err(e) => {
            // Pacemaker logs an assertion here and reports no difference.
            eprintln!("crm_diff: {e}");
            return ExitCode::Ok;
        }
    };
    if patchset::is_empty(&patch) {
        return ExitCode::Ok;
    }
    if as_cib {
        patchset::digest::add_digest(&mut patch, source, target);
    } else if no_version {
        patch.children.retain(|c| !matches!(c, Node::Element(e) if e.name == "version"));
    }
    print!("{}", patch.to_xml());
    // Pacemaker's convention: a non-empty diff is exit status 1.
    ExitCode::Error
}
