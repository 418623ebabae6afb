//! Replays the committed fuzz corpus (fuzz/corpus/*) through the same
//! properties the fuzz targets check, so a regression the fuzzer once
//! found, or a seed input, fails an ordinary `cargo test`.

use std::path::PathBuf;

#[test]
fn parse_corpus_replays_clean() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/parse");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| cib::fuzzing::check_parse(&data));
        assert!(outcome.is_ok(), "{} fails the parse property", path.display());
        n += 1;
    }
    assert!(n >= 5, "corpus at {} is nearly empty ({n} inputs)", dir.display());
}
