//! crm_mon side by side with Pacemaker 2.1.5's /usr/sbin/crm_mon on the
//! same CIB_file: a sample of the scheduler suite's CIBs (every 4th of
//! ../shared/pcmk-suite/xml, read in place) plus examples/cib.xml, for
//! `-1`, `-1 -r`, `-1 -f` and `--output-as xml`. stdout (with the
//! wall-clock "Last updated" masked), stderr and the exit code must be
//! identical. TZ is pinned so both sides format times alike.
//!
//! tools/tests/crm_mon.pass is a ratchet: every run listed must match;
//! runs that match but are not listed are printed so they can be added
//! (or the file rewritten with CRM_MON_RATCHET_UPDATE=1). The test fails,
//! never skips, when Pacemaker's crm_mon is missing (CI installs
//! pacemaker-cli-utils).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::os::unix::process::CommandExt;
use std::process::Command;

const PACEMAKER: &str = "/usr/sbin/crm_mon";

const MODES: [(&str, &[&str]); 4] =
    [("-1", &["-1"]), ("-1 -r", &["-1", "-r"]), ("-1 -f", &["-1", "-f"]), ("xml", &["--output-as", "xml"])];

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/pcmk-suite/xml"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    let mut sample: Vec<PathBuf> = files.into_iter().step_by(4).collect();
    sample.push(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/cib.xml")));
    sample
}

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// Runs `crm_mon` found through PATH=`dir`, so both programs see the
/// same argv[0] (the XML echoes it in `request`).
fn run(dir: &Path, cib: &Path, args: &[&str]) -> Run {
    let bin = "crm_mon";
    let out = Command::new(dir.join(bin))
        .arg0(bin)
        .args(args)
        .env("CIB_file", cib)
        .env("TZ", "UTC")
        .env_remove("CIB_shadow")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", dir.join(bin).display()));
    Run { stdout: mask(&String::from_utf8_lossy(&out.stdout)), stderr: String::from_utf8_lossy(&out.stderr).into_owned(), code: out.status.code() }
}

/// Masks the only field that depends on the moment of the run: the
/// current time ("Last updated" in text, `last_update time` in XML).
fn mask(s: &str) -> String {
    s.lines()
        .map(|l| {
            if let Some(i) = l.find("Last updated: ") {
                format!("{}Last updated: <now>", &l[..i])
            } else if let Some(i) = l.find("<last_update time=\"") {
                format!("{}<last_update time=\"<now>\"/>", &l[..i])
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn case_name(cib: &Path, mode: &str) -> String {
    format!("{} {mode}", cib.file_name().expect("file name").to_string_lossy())
}

fn ratchet_path() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/crm_mon.pass"))
}

#[test]
fn crm_mon_matches_pacemakers_on_the_corpus() {
    assert!(Path::new(PACEMAKER).exists(), "{PACEMAKER} is missing: install pacemaker-cli-utils (Pacemaker 2.1.5)");
    let theirs_dir = Path::new(PACEMAKER).parent().expect("dir").to_path_buf();
    let ours_dir = PathBuf::from(env!("CARGO_BIN_EXE_crm_mon")).parent().expect("dir").to_path_buf();
    let listed: BTreeSet<String> = std::fs::read_to_string(ratchet_path())
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let mut passing = BTreeSet::new();
    let mut regressions = Vec::new();
    let mut total = 0;
    for cib in corpus() {
        for (mode, args) in MODES {
            total += 1;
            let name = case_name(&cib, mode);
            let theirs = run(&theirs_dir, &cib, args);
            let mine = run(&ours_dir, &cib, args);
            let same = theirs.stdout == mine.stdout && theirs.stderr == mine.stderr && theirs.code == mine.code;
            if same {
                passing.insert(name);
            } else if listed.contains(&name) {
                regressions.push(format!(
                    "{name}:\n--- pacemaker (rc {:?})\n{}\n{}\n--- ours (rc {:?})\n{}\n{}",
                    theirs.code, theirs.stdout, theirs.stderr, mine.code, mine.stdout, mine.stderr
                ));
            }
        }
    }
    println!("crm_mon compatibility: {}/{total} runs identical", passing.len());
    let new: Vec<&String> = passing.difference(&listed).collect();
    if std::env::var_os("CRM_MON_RATCHET_UPDATE").is_some() {
        let mut text = String::from("# Runs of tools/tests/crm_mon_compat.rs known to match Pacemaker 2.1.5 (a ratchet).\n");
        for n in &passing {
            text.push_str(n);
            text.push('\n');
        }
        std::fs::write(ratchet_path(), text).expect("write ratchet");
    } else if !new.is_empty() {
        println!("newly passing (add to tools/tests/crm_mon.pass):");
        for n in new {
            println!("{n}");
        }
    }
    assert!(regressions.is_empty(), "{} listed runs no longer match:\n{}", regressions.len(), regressions.join("\n"));
    assert!(!listed.is_empty() || std::env::var_os("CRM_MON_RATCHET_UPDATE").is_some(), "tools/tests/crm_mon.pass is empty");
}

/// `-m/--fence-history[=LEVEL]`: on a CIB file there is no fencer to ask,
/// so 2.1.5 prints what it prints without it (text and XML); a level
/// above 3 is refused (exit 64). Ours on the same files: identical.
#[test]
fn fence_history_option_matches_pacemaker() {
    assert!(Path::new(PACEMAKER).exists(), "{PACEMAKER} is missing: install pacemaker-cli-utils (Pacemaker 2.1.5)");
    let theirs_dir = Path::new(PACEMAKER).parent().expect("dir").to_path_buf();
    let ours_dir = PathBuf::from(env!("CARGO_BIN_EXE_crm_mon")).parent().expect("dir").to_path_buf();
    let forms: [&[&str]; 8] = [
        &["-1", "-m"],
        &["-1", "-m0"],
        &["-1", "-m3", "-r"],
        &["-1", "--fence-history=1", "-f"],
        &["-1", "--fence-history"],
        &["-1", "-m9"],
        &["-1", "-mx"],
        &["--output-as", "xml", "-m2"],
    ];
    let mut differ = Vec::new();
    let mut total = 0;
    let listed = std::fs::read_to_string(ratchet_path()).unwrap_or_default();
    // Files whose plain forms already match (the ratchet), so a difference
    // here is the option's.
    for cib in corpus().into_iter().step_by(10).filter(|c| listed.contains(&case_name(c, "-1 -r")) && listed.contains(&case_name(c, "xml"))) {
        for args in forms {
            total += 1;
            let (theirs, mine) = (run(&theirs_dir, &cib, args), run(&ours_dir, &cib, args));
            if (theirs.stdout != mine.stdout) || theirs.stderr != mine.stderr || theirs.code != mine.code {
                differ.push(format!("{} {args:?}: rc {:?}/{:?}\n{}\n{}\n--- ours\n{}\n{}", cib.display(), theirs.code, mine.code, theirs.stdout, theirs.stderr, mine.stdout, mine.stderr));
            }
        }
    }
    assert!(total > 40, "only {total} runs");
    assert!(differ.is_empty(), "{} of {total} differ:\n{}", differ.len(), differ.join("\n"));
}
