//! The durable CIB store: digests as Pacemaker computes them, hand edits,
//! corruption, backups, locking between threads and processes, and crashes
//! in the middle of a write (simulated at each step, and real `kill -9`).
//!
//! Multi-process tests re-run this test binary as a child with
//! `--ignored --exact <helper>`; the helpers do nothing unless the
//! `STORE_CHILD_*` variables they need are set.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use cib::store::{sig_path, CibStore, CrashPoint, StoreError, UpdateError, Warning, CIB_XML_LAST};
use cib::{Document, Element, Version};

const SUITE: &str = "../../shared/pcmk-suite/xml";

fn cib_doc(epoch: u64) -> Document {
    Document::parse(&format!(
        "<cib admin_epoch=\"0\" epoch=\"{epoch}\" num_updates=\"0\" validate-with=\"pacemaker-3.0\">\
         <configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>"
    ))
    .unwrap()
}

fn epoch_of(doc: &Document) -> u64 {
    Version::of(&doc.root).epoch
}

/// Every file in `dir`, by name, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().into_string().unwrap(), fs::read(e.path()).unwrap())
        })
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    snapshot(dir).into_keys().collect()
}

fn bump(doc: &mut Document) -> Result<u64, std::convert::Infallible> {
    let v = Version::of(&doc.root).bump_epoch();
    v.write_to(&mut doc.root);
    Ok(v.epoch)
}

// ---------------------------------------------------------------- digest

fn cibadmin_md5(file: &Path) -> String {
    let out = Command::new("/usr/sbin/cibadmin")
        .arg("--md5-sum")
        .arg("--xml-file")
        .arg(file)
        .stderr(Stdio::null())
        .output()
        .expect("Pacemaker's cibadmin must be installed (pacemaker-cli-utils)");
    assert!(out.status.success(), "cibadmin --md5-sum {} failed", file.display());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn digest_matches_pacemaker_for_every_suite_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(SUITE);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    assert!(files.len() > 500, "suite not found at {}", dir.display());

    // Plus the awkward cases: comments, PIs, every escape, non-ASCII, text,
    // mixed content, CDATA, layout.
    let tmp = tempfile::tempdir().unwrap();
    let odd = tmp.path().join("odd.xml");
    fs::write(
        &odd,
        "<?xml version=\"1.0\"?>\n<!-- before -->\n\
         <cib epoch=\"3\" note=\"a&amp;b &lt;&gt; &quot;q&quot; &apos; &#10;x&#9;y&#13;z&#127;\" \
         utf=\"&lt;caf\u{e9}&lt;&#10;\u{20ac}\">\n  <configuration>\n    <!-- inside \u{20ac} -->\n    \
         <pi-only><?pi data?></pi-only>\n    <description>text &amp; more</description>\n    \
         <mixed>a<b/>c</mixed>\n    <x><![CDATA[raw <stuff>]]></x>\n    <e a='single'/>\n  </configuration>\n  \
         <status/>\n</cib>\n<?after?>\n",
    )
    .unwrap();
    files.push(odd);

    let mut mismatches = Vec::new();
    for f in &files {
        let doc = Document::parse(&fs::read_to_string(f).unwrap()).unwrap();
        let ours = cib::store::on_disk_digest(&doc.root);
        let theirs = cibadmin_md5(f);
        if ours != theirs {
            mismatches.push(format!("{}: ours {ours}, cibadmin {theirs}", f.display()));
        }
    }
    assert!(mismatches.is_empty(), "{} of {} differ:\n{}", mismatches.len(), files.len(), mismatches.join("\n"));
}

#[test]
fn a_cib_signed_by_pacemaker_loads_and_ours_reads_back_in_pacemaker() {
    let dir = tempfile::tempdir().unwrap();
    let crm = dir.path().join("crm");
    fs::create_dir(&crm).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(SUITE).join("1360.xml");
    let cib = crm.join("cib.xml");
    fs::copy(&src, &cib).unwrap();
    fs::write(sig_path(&cib), cibadmin_md5(&cib)).unwrap();
    let store = CibStore::open(&crm).unwrap();
    let loaded = store.load().unwrap().unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

    // What we write, Pacemaker's digest agrees with.
    let mut doc = loaded.doc;
    bump(&mut doc).unwrap();
    let done = store.save(&doc).unwrap();
    assert_eq!(done.digest.as_deref(), Some(cibadmin_md5(&cib).as_str()));
    assert_eq!(fs::read_to_string(sig_path(&cib)).unwrap(), cibadmin_md5(&cib), "sig holds the bare digest");
}

// ---------------------------------------------------------- layout, sig

#[test]
fn save_writes_cib_sig_last_and_backup() {
    let dir = tempfile::tempdir().unwrap();
    let store = CibStore::open(dir.path()).unwrap();
    assert!(store.load().unwrap().is_none(), "no CIB yet");

    let first = store.save(&cib_doc(1)).unwrap();
    assert!(first.backup.is_none(), "nothing to back up the first time");
    assert_eq!(names(dir.path()), ["cib.xml", "cib.xml.lock", "cib.xml.sig"]);
    let mode = fs::metadata(dir.path().join("cib.xml")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the CIB may hold passwords");
    let text = fs::read_to_string(dir.path().join("cib.xml")).unwrap();
    assert!(text.starts_with("<?xml version=\"1.0\"?>\n<cib "), "{text}");

    let second = store.save(&cib_doc(2)).unwrap();
    assert_eq!(second.backup, Some(dir.path().join("cib-0.raw")));
    assert_eq!(
        names(dir.path()),
        ["cib-0.raw", "cib-0.raw.sig", "cib.xml", "cib.xml.last", "cib.xml.last.sig", "cib.xml.lock", "cib.xml.sig"]
    );
    let files = snapshot(dir.path());
    assert_eq!(files["cib.xml.last"], files["cib-0.raw"]);
    assert_eq!(files["cib.xml.last.sig"], files["cib-0.raw.sig"]);
    assert_eq!(epoch_of(&Document::parse(std::str::from_utf8(&files["cib.xml.last"]).unwrap()).unwrap()), 1);
    let loaded = store.load().unwrap().unwrap();
    assert_eq!(loaded.doc, cib_doc(2));
    assert!(loaded.warnings.is_empty());
}

#[test]
fn missing_sig_means_hand_edited_and_is_accepted_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let store = CibStore::open(dir.path()).unwrap();
    store.save(&cib_doc(1)).unwrap();
    store.save(&cib_doc(2)).unwrap();

    // Seed 002's procedure: stop the cluster, delete cib.xml.sig,
    // cib.xml.last and cib.xml.last.sig, edit cib.xml, start again.
    let cib = dir.path().join("cib.xml");
    for f in ["cib.xml.sig", "cib.xml.last", "cib.xml.last.sig"] {
        fs::remove_file(dir.path().join(f)).unwrap();
    }
    let edited = fs::read_to_string(&cib).unwrap().replace("epoch=\"2\"", "epoch=\"7\"");
    fs::write(&cib, edited).unwrap();

    let loaded = store.load().unwrap().unwrap();
    assert_eq!(epoch_of(&loaded.doc), 7, "the hand edit is what loads");
    assert_eq!(loaded.warnings, [Warning::Unsigned { path: cib.clone() }]);
    assert!(loaded.warnings[0].to_string().contains("edited by hand"), "{}", loaded.warnings[0]);

    // The next write signs it again, and archives the hand-edited version signed.
    let done = store.update(bump).unwrap();
    assert_eq!(done.value, 8);
    assert_eq!(done.warnings.len(), 1, "the update reports what it read");
    assert!(store.load().unwrap().unwrap().warnings.is_empty());
    let last = Document::parse(&fs::read_to_string(dir.path().join(CIB_XML_LAST)).unwrap()).unwrap();
    assert_eq!(epoch_of(&last), 7);
    assert_eq!(store.newest_good_backup(), Some(dir.path().join(CIB_XML_LAST)));
}

fn three_versions() -> (tempfile::TempDir, CibStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = CibStore::open(dir.path()).unwrap();
    for epoch in 1..=4 {
        store.save(&cib_doc(epoch)).unwrap();
    }
    (dir, store)
}

#[test]
fn a_sig_that_does_not_match_is_refused_naming_the_newest_good_backup() {
    let (dir, store) = three_versions();
    let cib = dir.path().join("cib.xml");
    // Edited while "running": the sig was left in place.
    let text = fs::read_to_string(&cib).unwrap().replace("<nodes/>", "<nodes><node id=\"x\" uname=\"x\"/></nodes>");
    fs::write(&cib, text).unwrap();

    let err = store.load().unwrap_err();
    let StoreError::DigestMismatch { path, newest_good_backup, .. } = &err else { panic!("{err}") };
    assert_eq!(path, &cib);
    assert_eq!(newest_good_backup.as_deref(), Some(dir.path().join("cib.xml.last").as_path()));
    let msg = err.to_string();
    assert!(msg.contains(&cib.display().to_string()) && msg.contains("cib.xml.last"), "{msg}");

    // If cib.xml.last is damaged too, the newest numbered backup that verifies.
    let last = dir.path().join("cib.xml.last");
    let bytes = fs::read(&last).unwrap();
    fs::remove_file(&last).unwrap(); // it is a hard link to cib-2.raw: break the link, don't write through it
    fs::write(&last, String::from_utf8(bytes).unwrap().replace("epoch=\"3\"", "epoch=\"30\"")).unwrap();
    let err = store.load().unwrap_err();
    assert_eq!(err.newest_good_backup(), Some(dir.path().join("cib-2.raw").as_path()), "{err}");
    assert_eq!(epoch_of(&Document::parse(&fs::read_to_string(dir.path().join("cib-2.raw")).unwrap()).unwrap()), 3);

    // Writers refuse too, and leave the evidence untouched.
    let before = snapshot(dir.path());
    assert!(matches!(store.save(&cib_doc(9)), Err(StoreError::DigestMismatch { .. })));
    assert!(matches!(store.update(bump), Err(UpdateError::Store(StoreError::DigestMismatch { .. }))));
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn unparseable_cib_names_line_and_backup() {
    let (dir, store) = three_versions();
    fs::write(dir.path().join("cib.xml"), "<cib>\n  <configuration>\n</cib>\n").unwrap();
    let err = store.load().unwrap_err();
    let StoreError::Parse { line, newest_good_backup, .. } = &err else { panic!("{err}") };
    assert_eq!(*line, 3, "{err}");
    assert_eq!(newest_good_backup.as_deref(), Some(dir.path().join("cib.xml.last").as_path()));
    fs::write(dir.path().join("cib.xml"), "").unwrap();
    assert!(store.load().unwrap_err().to_string().contains("empty"));
}

// --------------------------------------------------------------- backups

#[test]
fn backups_are_bounded_and_each_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let store = CibStore::open_keeping(dir.path(), 3).unwrap();
    store.save(&cib_doc(0)).unwrap();
    for _ in 0..9 {
        store.update(bump).unwrap();
    }
    let backups = store.backups().unwrap();
    assert_eq!(backups.iter().map(|b| b.seq).collect::<Vec<_>>(), [8, 7, 6]);
    for b in &backups {
        let doc = Document::parse(&fs::read_to_string(&b.path).unwrap()).unwrap();
        // Backup N holds the version replaced by the (N+2)th write: epoch N.
        assert_eq!(epoch_of(&doc), b.seq);
        assert_eq!(fs::read_to_string(b.sig_path()).unwrap(), cib::store::on_disk_digest(&doc.root));
    }
    let raw = names(dir.path()).into_iter().filter(|n| n.starts_with("cib-")).count();
    assert_eq!(raw, 6, "3 backups and their sigs, nothing else");

    let none = tempfile::tempdir().unwrap();
    let store = CibStore::open_keeping(none.path(), 0).unwrap();
    store.save(&cib_doc(0)).unwrap();
    store.update(bump).unwrap();
    assert!(store.backups().unwrap().is_empty());
    assert!(none.path().join("cib.xml.last").exists(), "the previous version is still kept");
}

// ------------------------------------------------------------- rejection

#[test]
fn a_rejected_update_leaves_every_byte_alone() {
    let (dir, store) = three_versions();
    let before = snapshot(dir.path());
    let r = store.update(|doc| {
        doc.root.set_attr("epoch", "99");
        doc.root.children.clear();
        Err::<(), _>("schema says no")
    });
    assert!(matches!(r, Err(UpdateError::Rejected("schema says no"))));
    assert_eq!(snapshot(dir.path()), before);

    // An update that changes nothing writes nothing either.
    let r = store.update(|_| Ok::<_, ()>(5)).unwrap();
    assert_eq!((r.value, r.written), (5, false));
    assert_eq!(snapshot(dir.path()), before);

    let plain_dir = tempfile::tempdir().unwrap();
    let plain = CibStore::plain_file(plain_dir.path().join("x.xml"));
    assert!(matches!(plain.update(bump), Err(UpdateError::Store(StoreError::NotFound { .. }))));
    plain.save(&cib_doc(1)).unwrap();
    let before = snapshot(plain_dir.path());
    assert!(plain.update(|_| Err::<(), _>(())).is_err());
    assert_eq!(snapshot(plain_dir.path()), before);
}

// ------------------------------------------------------------ plain file

#[test]
fn plain_file_has_no_sig_no_backups_and_pacemaker_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shadow.xml");
    let store = CibStore::plain_file(&path);
    store.save(&cib_doc(1)).unwrap();
    for _ in 0..3 {
        store.update(bump).unwrap();
    }
    assert_eq!(names(dir.path()), ["shadow.xml"], "no sig, no backups, no lock file, no temp file");
    assert_eq!(epoch_of(&store.load().unwrap().unwrap().doc), 4);

    let out = Command::new("/usr/sbin/cibadmin")
        .arg("--query")
        .env("CIB_file", &path)
        .output()
        .expect("Pacemaker's cibadmin must be installed (pacemaker-cli-utils)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs = Document::parse(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(epoch_of(&theirs), 4);

    // Through a symlink the target is replaced and the link stays a link;
    // the file keeps its mode.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.xml");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    CibStore::plain_file(&link).update(bump).unwrap();
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
    assert_eq!(epoch_of(&store.load().unwrap().unwrap().doc), 5);
}

// ----------------------------------------------------------- concurrency

const CHILD_DIR: &str = "STORE_CHILD_DIR";
const CHILD_PLAIN: &str = "STORE_CHILD_PLAIN";
const CHILD_UPDATES: &str = "STORE_CHILD_UPDATES";

fn store_for(target: &Path, plain: bool) -> CibStore {
    if plain {
        CibStore::plain_file(target)
    } else {
        CibStore::open(target).unwrap()
    }
}

#[test]
#[ignore = "helper: runs in a child process started by concurrent_writers_lose_no_update"]
fn child_writer() {
    let Some(target) = std::env::var_os(CHILD_DIR) else { return };
    let plain = std::env::var_os(CHILD_PLAIN).is_some();
    let n: u64 = std::env::var(CHILD_UPDATES).unwrap().parse().unwrap();
    let store = store_for(Path::new(&target), plain);
    for _ in 0..n {
        store.update(bump).unwrap();
    }
}

fn spawn_helper(helper: &str, vars: &[(&str, &std::ffi::OsStr)]) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([helper, "--exact", "--ignored", "--nocapture", "--test-threads=1"]);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::null()).spawn().unwrap()
}

fn concurrent(plain: bool) {
    const THREADS: u64 = 4;
    const PROCS: u64 = 3;
    const EACH: u64 = 15;
    let dir = tempfile::tempdir().unwrap();
    let target = if plain { dir.path().join("cib.xml") } else { dir.path().to_path_buf() };
    store_for(&target, plain).save(&cib_doc(0)).unwrap();

    let each = EACH.to_string();
    let mut vars: Vec<(&str, &std::ffi::OsStr)> = vec![(CHILD_DIR, target.as_os_str()), (CHILD_UPDATES, each.as_ref())];
    if plain {
        vars.push((CHILD_PLAIN, "1".as_ref()));
    }
    let children: Vec<_> = (0..PROCS).map(|_| spawn_helper("child_writer", &vars)).collect();
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                let store = store_for(&target, plain);
                for _ in 0..EACH {
                    store.update(bump).unwrap();
                }
            });
        }
    });
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a child writer failed");
    }
    let loaded = store_for(&target, plain).load().unwrap().unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(epoch_of(&loaded.doc), (THREADS + PROCS) * EACH, "every update landed");
}

#[test]
fn concurrent_writers_lose_no_update() {
    concurrent(false);
}

#[test]
fn concurrent_writers_lose_no_update_on_a_plain_file() {
    concurrent(true);
}

// --------------------------------------------------------------- crashes

#[test]
fn a_crash_at_any_step_leaves_a_whole_version() {
    for point in [CrashPoint::AfterTempWrite, CrashPoint::AfterArchive, CrashPoint::AfterOldSigRemoved, CrashPoint::AfterDataRename] {
        let dir = tempfile::tempdir().unwrap();
        let store = CibStore::open(dir.path()).unwrap();
        store.save(&cib_doc(1)).unwrap();
        store.save(&cib_doc(2)).unwrap();

        let err = store.clone().crash_at(point).save(&cib_doc(3)).unwrap_err();
        assert!(matches!(err, StoreError::SimulatedCrash { .. }), "{err}");

        let reopened = CibStore::open(dir.path()).unwrap();
        let loaded = reopened.load().unwrap_or_else(|e| panic!("{point:?}: {e}")).unwrap();
        let (epoch, unsigned) = match point {
            CrashPoint::AfterTempWrite | CrashPoint::AfterArchive => (2, false),
            CrashPoint::AfterOldSigRemoved => (2, true),
            CrashPoint::AfterDataRename => (3, true),
        };
        assert_eq!(epoch_of(&loaded.doc), epoch, "{point:?}");
        assert_eq!(!loaded.warnings.is_empty(), unsigned, "{point:?}: {:?}", loaded.warnings);

        // The next write cleans up after the dead one and works normally.
        reopened.update(bump).unwrap();
        assert!(!names(dir.path()).iter().any(|n| n.ends_with(".tmp")), "{point:?}: {:?}", names(dir.path()));
        assert!(reopened.load().unwrap().unwrap().warnings.is_empty());
    }

    // Plain file: a crash before the rename leaves the old file whole.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.xml");
    CibStore::plain_file(&path).save(&cib_doc(1)).unwrap();
    let before = fs::read(&path).unwrap();
    let err = CibStore::plain_file(&path).crash_at(CrashPoint::AfterTempWrite).save(&cib_doc(2)).unwrap_err();
    assert!(matches!(err, StoreError::SimulatedCrash { .. }));
    assert_eq!(fs::read(&path).unwrap(), before);
    CibStore::plain_file(&path).update(bump).unwrap();
    assert_eq!(names(dir.path()), ["f.xml"], "stale temp file removed");
}

fn big_doc(epoch: u64) -> Document {
    let mut doc = cib_doc(epoch);
    let resources = doc.root.child_mut("configuration").unwrap().child_mut("resources").unwrap();
    for i in 0..1500 {
        resources.children.push(cib::Node::Element(
            Element::new("primitive")
                .with_attr("id", format!("r{i}"))
                .with_attr("class", "ocf")
                .with_attr("provider", "heartbeat")
                .with_attr("type", "Dummy")
                .with_attr("description", format!("written at epoch {epoch}")),
        ));
    }
    doc
}

#[test]
#[ignore = "helper: runs in a child process started by kill_9_during_writes_never_corrupts"]
fn child_saver() {
    let Some(target) = std::env::var_os(CHILD_DIR) else { return };
    let store = CibStore::open(Path::new(&target)).unwrap();
    for epoch in 1.. {
        store.save(&big_doc(epoch)).unwrap();
    }
}

#[test]
fn kill_9_during_writes_never_corrupts() {
    let dir = tempfile::tempdir().unwrap();
    let store = CibStore::open(dir.path()).unwrap();
    store.save(&big_doc(0)).unwrap();
    let mut highest = 0;
    for round in 0..12u64 {
        let mut child = spawn_helper("child_saver", &[(CHILD_DIR, dir.path().as_os_str())]);
        std::thread::sleep(Duration::from_millis(60 + 37 * round));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let loaded = store.load().unwrap_or_else(|e| panic!("round {round}: {e}")).unwrap();
        for w in &loaded.warnings {
            assert!(matches!(w, Warning::Unsigned { .. }), "{w}");
        }
        let epoch = epoch_of(&loaded.doc);
        assert_eq!(loaded.doc, big_doc(epoch), "round {round}: a whole version");
        highest = highest.max(epoch);
        // Start the next round from a clean, signed state at epoch 0 again.
        store.save(&big_doc(0)).unwrap();
    }
    assert!(highest > 0, "the child never completed a save; the test proved nothing");
}
