//! crm_resource's status forms side by side with Pacemaker 2.1.5's on
//! copies of the same CIB file: `-L` over the whole regression suite (a
//! ratchet list of files that must stay identical), `-W [-Q]` on a sample,
//! the project's example CIB; and the history edits Pacemaker cannot do on
//! a file (`-C` and `-R` crash, `-P` is Heartbeat's), checked on the
//! resulting CIB and read back by Pacemaker's own `-L` (docs/TOOLS.md).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const PCMK: &str = "/usr/sbin/crm_resource";
const OURS: &str = env!("CARGO_BIN_EXE_crm_resource");

/// Files whose `-L` must stay identical (regenerate with UPDATE_PASS=1).
const LIST_PASS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/crm_resource_list.pass");

/// `-W` differences we know of, all from the unpacker (docs/TOOLS.md):
/// a partial live migration active on two nodes, a resource whose
/// recurring monitor found it running after a stop, a resource on a
/// remote node. Resources inside bundles are left out of the sample (the
/// unpacker does not model bundles yet).
const LOCATE_KNOWN: &[&str] =
    &["partial-live-migration-multiple-active migrator", "rec-rsc-0 rsc1", "remote-orphaned rsc_18node2"];

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    file: String,
}

fn run(program: &str, args: &[&str], cib: &Path) -> Run {
    let mut cmd = Command::new(program);
    cmd.args(args).env("CIB_file", cib).env_remove("CIB_shadow").env("HA_NODENAME", "");
    let out = common::output(&mut cmd, None);
    Run { code: out.code, stdout: out.stdout, stderr: out.stderr, file: std::fs::read_to_string(cib).unwrap_or_default() }
}

fn tmp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crm_resource_status-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs both tools on copies of `base`; `None` when all four agree.
fn differs(base: &Path, args: &[&str], dir: &Path) -> Option<String> {
    let (theirs, mine) = (dir.join("pcmk.xml"), dir.join("ours.xml"));
    std::fs::copy(base, &theirs).unwrap();
    std::fs::copy(base, &mine).unwrap();
    let p = run(PCMK, args, &theirs);
    let o = run(OURS, args, &mine);
    let mut why = Vec::new();
    if p.code != o.code {
        why.push(format!("exit {:?} vs ours {:?}", p.code, o.code));
    }
    if p.stdout != o.stdout {
        why.push(format!("stdout\n{}vs ours\n{}", p.stdout, o.stdout));
    }
    if p.stderr != o.stderr {
        why.push(format!("stderr {:?} vs ours {:?}", p.stderr, o.stderr));
    }
    if p.file != o.file {
        why.push("resulting file differs".into());
    }
    (!why.is_empty()).then(|| why.join("; "))
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn list_matches_pacemaker_on_the_suite() {
    common::require_tool(PCMK);
    let dir = tmp("list");
    let files = common::suite_files();
    let mut passing = BTreeSet::new();
    let mut failing = Vec::new();
    for f in &files {
        match differs(f, &["-L"], &dir) {
            None => {
                passing.insert(stem(f));
            }
            Some(why) => failing.push((stem(f), why)),
        }
    }
    if std::env::var_os("UPDATE_PASS").is_some() {
        let text: String = passing.iter().map(|s| format!("{s}\n")).collect();
        std::fs::write(LIST_PASS, text).unwrap();
    }
    let expected: BTreeSet<String> =
        std::fs::read_to_string(LIST_PASS).expect("the -L ratchet list").lines().map(str::to_string).collect();
    let regressed: Vec<&(String, String)> = failing.iter().filter(|(name, _)| expected.contains(name)).collect();
    assert!(regressed.is_empty(), "-L no longer matches Pacemaker on: {regressed:#?}");
    let share = passing.len() * 100 / files.len();
    eprintln!("crm_resource -L: {}/{} identical ({share}%)", passing.len(), files.len());
    assert!(share >= 90, "only {share}% of -L runs identical");
}

#[test]
fn locate_matches_pacemaker_on_a_sample() {
    common::require_tool(PCMK);
    let dir = tmp("locate");
    let mut runs = 0;
    let mut unexpected = Vec::new();
    for f in common::suite_files().iter().step_by(4) {
        let text = std::fs::read_to_string(f).unwrap();
        let doc = cib::Document::parse(&text).unwrap();
        let Some(resources) = doc.root.child("configuration").and_then(|c| c.child("resources")) else { continue };
        let ids: Vec<String> = resources
            .elements()
            .filter(|e| e.name != "bundle")
            .flat_map(|e| e.descendants())
            .filter(|e| matches!(e.name.as_str(), "primitive" | "group" | "clone" | "master"))
            .filter_map(|e| e.id().map(str::to_string))
            .take(6)
            .collect();
        for id in ids {
            for extra in [&[][..], &["-Q"][..]] {
                let mut args = vec!["-W", "-r", id.as_str()];
                args.extend_from_slice(extra);
                runs += 1;
                if let Some(why) = differs(f, &args, &dir) {
                    let key = format!("{} {id}", stem(f));
                    if !LOCATE_KNOWN.contains(&key.as_str()) {
                        unexpected.push(format!("{key} {args:?}: {why}"));
                    }
                }
            }
        }
    }
    assert!(runs > 400, "sample too small: {runs}");
    assert!(unexpected.is_empty(), "-W differs from Pacemaker: {unexpected:#?}");
    // The usage and not-found forms.
    let f = common::suite_dir().join("1360.xml");
    for args in [&["-W"][..], &["-W", "-r", "nosuch"][..], &["-L", "-Q"][..]] {
        assert_eq!(differs(&f, args, &dir), None, "{args:?}");
    }
}

/// The project's example (Heartbeat 2.x syntax): the same resource list
/// and locations. Pacemaker also dumps its failed schema upgrades on
/// stderr, which we do not.
#[test]
fn example_cib_lists_and_locates_as_pacemaker() {
    common::require_tool(PCMK);
    let dir = tmp("example");
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/cib.xml");
    for args in [&["-L"][..], &["-W", "-r", "mysql_db"][..], &["-W", "-Q", "-r", "group_mysql"][..]] {
        let (theirs, mine) = (dir.join("pcmk.xml"), dir.join("ours.xml"));
        std::fs::copy(&base, &theirs).unwrap();
        std::fs::copy(&base, &mine).unwrap();
        let p = run(PCMK, args, &theirs);
        let o = run(OURS, args, &mine);
        assert_eq!((p.code, &p.stdout), (o.code, &o.stdout), "{args:?}");
        // Our stderr is exactly Pacemaker's minus the schema noise.
        let wanted: String = p
            .stderr
            .lines()
            .filter(|l| !l.contains("Relax-NG") && !l.starts_with("Schema validation of configuration is disabled"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(o.stderr, wanted, "{args:?}");
    }
}

fn status_of(file: &Path) -> cib::Element {
    let doc = cib::Document::parse(&std::fs::read_to_string(file).unwrap()).unwrap();
    doc.root.child("status").unwrap().clone()
}

fn count(e: &cib::Element, pred: impl Fn(&cib::Element) -> bool) -> usize {
    e.descendants().filter(|x| pred(x)).count()
}

fn is_attr(e: &cib::Element, prefix: &str) -> bool {
    e.name == "nvpair" && e.attr("name").is_some_and(|n| n.starts_with(prefix))
}

fn history_of<'a>(status: &'a cib::Element, rsc: &'a str) -> impl Fn(&cib::Element) -> bool + 'a {
    let _ = status;
    move |e: &cib::Element| e.name == "lrm_rsc_op" && e.id().is_some_and(|i| i.starts_with(&format!("{rsc}_")))
}

/// `-C -r RSC`: Pacemaker 2.1.5 crashes on a file; we remove the fail
/// counts and failed operations and keep the rest, and Pacemaker's own
/// `-L` on the result no longer shows the resource failed.
#[test]
fn cleanup_forgets_failures_where_pacemaker_crashes() {
    common::require_tool(PCMK);
    let dir = tmp("cleanup");
    let base = common::suite_dir().join("failcount-block.xml");
    let theirs = dir.join("pcmk.xml");
    std::fs::copy(&base, &theirs).unwrap();
    let p = run(PCMK, &["-C", "-r", "rsc_pcmk-2"], &theirs);
    assert_ne!(p.code, Some(0), "Pacemaker 2.1.5 is expected to fail here (it segfaults on CIB_file)");

    let mine = dir.join("ours.xml");
    std::fs::copy(&base, &mine).unwrap();
    let before = status_of(&mine);
    let listed = run(PCMK, &["-L"], &mine);
    assert!(listed.stdout.contains("rsc_pcmk-2\t(ocf:heartbeat:IPaddr2):\t FAILED"), "{}", listed.stdout);
    let o = run(OURS, &["-C", "-r", "rsc_pcmk-2"], &mine);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (Some(0), "Cleaned up rsc_pcmk-2 on pcmk-1\n", ""));
    let after = status_of(&mine);
    assert_eq!(count(&after, |e| is_attr(e, "fail-count-rsc_pcmk-2")), 0);
    assert_eq!(count(&after, |e| is_attr(e, "last-failure-rsc_pcmk-2")), 0);
    assert_eq!(count(&after, |e| is_attr(e, "fail-count-")), count(&before, |e| is_attr(e, "fail-count-")) - 1);
    let ops = |s: &cib::Element, r| count(s, history_of(s, r));
    assert!(ops(&after, "rsc_pcmk-2") < ops(&before, "rsc_pcmk-2"));
    assert_eq!(ops(&after, "rsc_pcmk-1"), ops(&before, "rsc_pcmk-1"));
    let listed = run(PCMK, &["-L"], &mine);
    assert_eq!(listed.code, Some(0));
    assert!(!listed.stdout.contains("FAILED"), "{}", listed.stdout);
    // Ours reads the result as Pacemaker does.
    assert_eq!(run(OURS, &["-L"], &mine).stdout, listed.stdout);

    // Without -r: every failure everywhere, one line.
    let o = run(OURS, &["-C"], &mine);
    assert_eq!(o.stdout, "Cleaned up all resources on all nodes\n");
    assert_eq!(count(&status_of(&mine), |e| is_attr(e, "fail-count-")), 0);
    // A node that does not exist.
    let o = run(OURS, &["-C", "-r", "rsc_pcmk-1", "-N", "nosuch"], &mine);
    assert_eq!(o.code, Some(105));
}

/// `-R -r RSC` drops the resource's whole history on the nodes that know
/// it (Pacemaker 2.1.5 crashes on a file).
#[test]
fn refresh_forgets_the_resource_history() {
    common::require_tool(PCMK);
    let dir = tmp("refresh");
    let base = common::suite_dir().join("failcount-block.xml");
    let theirs = dir.join("pcmk.xml");
    std::fs::copy(&base, &theirs).unwrap();
    assert_ne!(run(PCMK, &["-R", "-r", "rsc_pcmk-1"], &theirs).code, Some(0));
    let mine = dir.join("ours.xml");
    std::fs::copy(&base, &mine).unwrap();
    let before = status_of(&mine);
    let o = run(OURS, &["-R", "-r", "rsc_pcmk-1"], &mine);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let after = status_of(&mine);
    assert_eq!(count(&after, |e| e.name == "lrm_resource" && e.id() == Some("rsc_pcmk-1")), 0);
    assert_eq!(count(&after, history_of(&after, "rsc_pcmk-5")), count(&before, history_of(&before, "rsc_pcmk-5")));
    // Pacemaker reads the refreshed file: never probed, so Stopped.
    let listed = run(PCMK, &["-L"], &mine);
    assert!(listed.stdout.contains("rsc_pcmk-1\t(ocf:heartbeat:IPaddr2):\t Stopped"), "{}", listed.stdout);
}

/// Heartbeat's `-P [-H NODE]`: Pacemaker 2.1.5 no longer knows `-P`; we
/// empty the node's (or every node's) operation history.
#[test]
fn reprobe_forgets_a_node_history() {
    common::require_tool(PCMK);
    let dir = tmp("reprobe");
    let base = common::suite_dir().join("failcount-block.xml");
    let theirs = dir.join("pcmk.xml");
    std::fs::copy(&base, &theirs).unwrap();
    assert_eq!(run(PCMK, &["-P"], &theirs).code, Some(64));
    let mine = dir.join("ours.xml");
    std::fs::copy(&base, &mine).unwrap();
    let per_node = |f: &Path| -> Vec<usize> {
        status_of(f).children_named("node_state").map(|n| count(n, |e| e.name == "lrm_resource")).collect()
    };
    let before = per_node(&mine);
    assert!(before[0] > 0, "{before:?}");
    let o = run(OURS, &["-P", "-H", "pcmk-1"], &mine);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (Some(0), "", ""));
    let after = per_node(&mine);
    assert_eq!(after[0], 0);
    assert_eq!(after[1..], before[1..]);
    assert_eq!(run(OURS, &["-P"], &mine).code, Some(0));
    assert!(per_node(&mine).iter().all(|n| *n == 0));
    assert_eq!(run(OURS, &["-P", "-H", "nosuch"], &mine).code, Some(105));
}
