//! Replays the committed fuzz corpus (transport/fuzz/corpus/wire) through
//! the property the fuzz target checks (`transport::fuzzing::check_wire`),
//! so everything the fuzzer found is checked by an ordinary `cargo test`.

use std::path::PathBuf;

#[test]
fn wire_corpus_replays_clean() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/wire");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| transport::fuzzing::check_wire(&data));
        assert!(outcome.is_ok(), "{} fails the wire property", path.display());
        n += 1;
    }
    assert!(n >= 10, "corpus at {} is nearly empty ({n} inputs)", dir.display());
}
