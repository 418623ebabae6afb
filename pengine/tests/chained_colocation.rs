//! A colocation two steps down a chain weighs in with its own score, signed
//! by the chain so far (docs/PENGINE.md, "Chained colocations").
//!
//! `data/chained_colocation.xml`: group `G` banned from n2 and n3 and
//! anti-colocated (-INFINITY) with `B`, which is weakly anti-colocated
//! (-100) with `A`; `A` prefers n3 (200). When `A` is placed, `B`'s
//! preferences come in at -100/INFINITY, and `G`'s through `B` at the sign
//! of that factor times -INFINITY/INFINITY: `A` gets -INFINITY on n2 and
//! n3, where `G` cannot run, and starts on n1. Scaling by the chain
//! (-100/INFINITY x -INFINITY) would have left `A` on n3.
//!
//! `data/chained_colocation.expected` is Pacemaker 2.1.5's own
//! `crm_simulate -x FILE -s -S` (score lines and Transition Summary).

use cib::model::Cib;
use cib::Document;

#[test]
fn a_mandatory_colocation_two_steps_away_counts_in_full() {
    let xml = include_str!("data/chained_colocation.xml");
    let doc = Document::parse(xml).expect("well-formed");
    let cib = Cib::from_document(&doc).expect("a CIB");
    let s = pengine::schedule(&cib, pengine::unpack(&cib, 0));

    let mut ours: Vec<String> = s.scores.iter().map(ToString::to_string).collect();
    // Pacemaker's log-style summary lines, as in the expected file, carry
    // no list bullet.
    ours.extend(s.summary_lines().iter().map(|l| l.trim().trim_start_matches("* ").to_string()));
    let want: Vec<String> =
        include_str!("data/chained_colocation.expected").lines().map(|l| l.trim().to_string()).collect();
    assert_eq!(ours, want);
}
