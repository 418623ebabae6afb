//! The command line, as `haresources2cib.py` took it:
//! `haresources2cib [--no-ocf] [--stdout] [--no-monitor] [-c ha.cf] [haresources]`.
//!
//! Without `--stdout` the CIB goes to `$HA_VARLIB/crm/cib.xml` (with its
//! digest, through `cib::store`), and an existing `cib.xml` or
//! `cib.xml.sig` is never overwritten.

use std::path::{Path, PathBuf};

use clap::Parser;

use super::{convert, Options};
use crate::cib_file::Outcome;
use crate::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "haresources2cib", about = "Convert a Heartbeat 1.x haresources file into a CIB", disable_version_flag = true)]
pub struct Args {
    /// Do not map agents to OCF: every resource is a resource.d or init script.
    #[arg(long = "no-ocf")]
    pub no_ocf: bool,
    /// Print the CIB instead of writing $HA_VARLIB/crm/cib.xml.
    #[arg(long, alias = "stout")]
    pub stdout: bool,
    /// No monitor operations.
    #[arg(long = "no-monitor")]
    pub no_monitor: bool,
    /// The ha.cf to read (default $HA_CONFDIR/ha.cf).
    #[arg(short = 'c', long = "config")]
    pub config: Option<PathBuf>,
    /// The haresources file (default $HA_CONFDIR/haresources).
    pub resource_file: Option<PathBuf>,
}

/// Where the tool looks when not told.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// `$HA_CONFDIR`.
    pub confdir: PathBuf,
    /// `$HA_VARLIB`.
    pub varlib: PathBuf,
    /// Init scripts (`/etc/init.d`).
    pub lsb_dir: PathBuf,
}

/// Blog posts typed `–stdout` with an en dash (seed 002 has `–stout`);
/// the intent is plain, so such words are read as the long option.
pub fn normalize_dashes(args: impl IntoIterator<Item = String>) -> Vec<String> {
    args.into_iter()
        .map(|a| match a.strip_prefix('\u{2013}').or_else(|| a.strip_prefix('\u{2014}')) {
            Some(rest) if !rest.is_empty() => format!("--{rest}"),
            _ => a,
        })
        .collect()
}

pub fn run(args: &Args, dirs: &Dirs) -> Outcome {
    let mut out = Outcome::default();
    let config = args.config.clone().unwrap_or_else(|| dirs.confdir.join("ha.cf"));
    let resource_file = args.resource_file.clone().unwrap_or_else(|| dirs.confdir.join("haresources"));

    let hacf_text = match std::fs::read_to_string(&config) {
        Ok(t) => t,
        Err(e) => {
            out.err(&format!("haresources2cib: cannot read {}: {e}\n", config.display()));
            return out.exit(ExitCode::NoInput);
        }
    };
    let (hacf, _) = transport::hacf::parse(&hacf_text, &config.display().to_string());
    let text = match std::fs::read_to_string(&resource_file) {
        Ok(t) => t,
        Err(e) => {
            out.err(&format!("haresources2cib: cannot read {}: {e}\n", resource_file.display()));
            return out.exit(ExitCode::NoInput);
        }
    };
    let opts = Options {
        ocf: !args.no_ocf,
        monitor: !args.no_monitor,
        resource_d: dirs.confdir.join("resource.d"),
        lsb_dir: dirs.lsb_dir.clone(),
    };
    let conv = convert(&text, &hacf, &opts);
    for w in &conv.warnings {
        out.err(&format!("haresources2cib: warning: {w}\n"));
    }
    let doc = cib::Document::new(conv.cib);
    if args.stdout {
        out.out(&doc.to_file_string());
        return out.exit(ExitCode::Ok);
    }
    write_cib(&mut out, &dirs.varlib.join("crm"), &doc)
}

fn write_cib(out: &mut Outcome, dir: &Path, doc: &cib::Document) -> Outcome {
    let target = dir.join("cib.xml");
    if target.exists() || cib::store::sig_path(&target).exists() {
        out.err(&format!(
            "haresources2cib: cib.xml or cib.xml.sig exist in {}/\nplease remove them before generating new cib.xml\n",
            dir.display()
        ));
        return std::mem::take(out).exit(ExitCode::Exists);
    }
    let saved = cib::store::CibStore::open(dir).and_then(|store| store.save(doc));
    match saved {
        Ok(_) => std::mem::take(out).exit(ExitCode::Ok),
        Err(e) => {
            out.err(&format!("haresources2cib: cannot write {}: {e}\n", target.display()));
            std::mem::take(out).exit(ExitCode::CantCreat)
        }
    }
}
