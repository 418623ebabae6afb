//! The seeds' ha.cf and authkeys blocks (tests/fixtures/), each verbatim
//! as the seed prints it, typos and prose included, and, where the block
//! has problems, cleaned. Every fixture's exact diagnostics are in its
//! `.expected` file (one per line); a cleaned fixture must have no error.
//! `UPDATE_EXPECT=1 cargo test -p transport --test seed_fixtures`
//! rewrites the `.expected` files (review the diff!).

use std::path::{Path, PathBuf};

use transport::authkeys::Authkeys;
use transport::diag::{has_errors, Diagnostic};
use transport::hacf;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn diagnostics(name: &str) -> Vec<Diagnostic> {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    if name.contains("authkeys") {
        Authkeys::parse(&text, name).1
    } else {
        hacf::parse(&text, name).1
    }
}

fn check(name: &str) -> Vec<Diagnostic> {
    let diags = diagnostics(name);
    let actual: String = diags.iter().map(|d| format!("{d}\n")).collect();
    let expected_path = fixtures().join(format!("{name}.expected"));
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&expected_path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_EXPECT=1 creates it)", expected_path.display()));
    assert_eq!(actual, expected, "diagnostics of {name}");
    diags
}

fn all(suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

#[test]
fn verbatim_blocks_give_the_expected_diagnostics() {
    let names = all(".verbatim");
    assert!(names.len() >= 15, "{names:?}");
    for name in names {
        check(&name);
    }
}

#[test]
fn cleaned_blocks_parse_without_errors() {
    let names = all(".clean");
    assert!(names.len() >= 6, "{names:?}");
    for name in names {
        let diags = check(&name);
        assert!(!has_errors(&diags), "{name}: {diags:?}");
        // The cleaned file is what the verbatim one meant: it had errors.
        let verbatim = name.replace(".clean", ".verbatim");
        assert!(has_errors(&diagnostics(&verbatim)) || name.contains("authkeys-3"), "{verbatim} has no error to clean");
    }
}

#[test]
fn the_typos_the_issue_names_are_caught() {
    let find = |name: &str, needle: &str| {
        let d = diagnostics(name);
        assert!(d.iter().any(|d| d.message.contains(needle)), "{name}: no diagnostic containing {needle:?}: {d:#?}");
    };
    find("seed000-authkeys.verbatim", "Invalid authtype [shal]");
    find("seed000-ha.cf.verbatim", "bad addr [255.0.1.1]");
    find("seed000-ha.cf.verbatim", "auto_failback: invalid value [auto_failback]");
    find("seed000-ha.cf.verbatim", "ping node 172.16.0.1 listed twice");
    find("seed003-ha.cf.verbatim", "compression_threshold [2(K)] read as 2");
    find("seed004-ha.cf.verbatim", "crm: invalid value [|no]");
    find("seed004-ha.cf.verbatim", "Illegal directive [注意，v2");
}

#[test]
fn cleaned_values_are_the_seeds_intent() {
    let text = std::fs::read_to_string(fixtures().join("seed000-ha.cf.clean")).unwrap();
    let (cf, _) = hacf::parse(&text, "ha.cf");
    assert_eq!((cf.keepalive_ms, cf.deadtime_ms, cf.warntime_ms, cf.initdead_ms), (1000, 8000, 3000, 16000));
    assert_eq!(cf.nodes, ["web1.luochen.com", "web2.luochen.com"]);
    assert_eq!(cf.compression, "bz2");
    let text = std::fs::read_to_string(fixtures().join("seed004-ha.cf.clean")).unwrap();
    let (cf, _) = hacf::parse(&text, "ha.cf");
    assert_eq!(cf.crm, hacf::Crm::No);
    assert_eq!(cf.ping_groups[0].hosts, ["192.168.12.251", "192.168.12.239"]);
}

/// Seed 002's `crm yes` fragment: heartbeat launches the CRM daemons
/// and skips cibmon (none in this project) with a warning naming it; the
/// `apiauth cibmon` line changes no daemon's user.
#[test]
fn seed_002_crm_fragment_launches_the_crm_daemons() {
    use std::path::Path;
    use transport::launcher::{plan, Finding, Policy};
    let text = std::fs::read_to_string(fixtures().join("seed002-ha.cf-crm.clean")).unwrap();
    let (cf, _) = hacf::parse(&text, "ha.cf");
    assert_eq!(cf.crm, hacf::Crm::Yes);
    let ours = |p: &Path| p.parent() == Some(Path::new("/opt/ha/bin")) && !p.ends_with("cibmon");
    let p = plan(&cf, Path::new("/opt/ha/bin"), &ours);
    let names: Vec<(&str, Policy)> = p.children.iter().map(|c| (c.name.as_str(), c.policy)).collect();
    assert_eq!(
        names,
        [
            ("ccm", Policy::Failfast),
            ("cib", Policy::Failfast),
            ("lrmd", Policy::Respawn),
            ("stonithd", Policy::Respawn),
            ("attrd", Policy::Respawn),
            ("pengine", Policy::Respawn),
            ("crmd", Policy::Failfast),
            // seed 002's ha.cf also has `respawn root /usr/lib/heartbeat/ipfail`
            ("ipfail", Policy::Respawn),
        ]
    );
    assert!(p.children.iter().all(|c| c.user.is_none() || c.name == "ipfail"));
    assert_eq!(
        p.findings,
        [Finding::Warning(
            "respawn /usr/local/lib/heartbeat/cibmon -d: this project has no cibmon (/opt/ha/bin/cibmon not found); not started"
                .into()
        )]
    );
}
