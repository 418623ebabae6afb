//! A group's scores merged into a resource it is anti-colocated with
//! (docs/PENGINE.md, decision 17), against Pacemaker 2.1.5.
//!
//! Group G (A1, A2) and R run on n1 (stickiness 100), R is colocated with
//! G (INFINITY) and prefers n2 (400), G is anti-colocated (-INFINITY) with
//! P, which runs on n3. P's scores take in G's: 2.1.5 merges the first
//! member's (whose chain reaches the second member and, once the group is
//! assigned, R through the last member) and then what is colocated with
//! the last member again. So R counts twice when P is assigned while G
//! is (G first in the configuration: P n1 -400, n2 -800) and not at all
//! when P comes first (n1 -200, n2 0).
//!
//! `data/group_merge_*.expected` are 2.1.5's own `crm_simulate -x FILE -s
//! -S` (score lines and Transition Summary).

use cib::model::Cib;
use cib::Document;

fn check(xml: &str, expected: &str) {
    let doc = Document::parse(xml).expect("well-formed");
    let cib = Cib::from_document(&doc).expect("a CIB");
    let s = pengine::schedule(&cib, pengine::unpack(&cib, 0));
    let mut ours: Vec<String> = s.scores.iter().map(ToString::to_string).collect();
    // Pacemaker's log-style summary lines, as in the expected files, carry
    // no list bullet.
    ours.extend(s.summary_lines().iter().map(|l| l.trim().trim_start_matches("* ").to_string()));
    let want: Vec<String> = expected.lines().map(|l| l.trim().to_string()).collect();
    assert_eq!(ours, want);
}

#[test]
fn a_group_assigned_first_counts_what_is_colocated_with_it_twice() {
    check(include_str!("data/group_merge_after_assign.xml"), include_str!("data/group_merge_after_assign.expected"));
}

#[test]
fn a_group_not_yet_assigned_counts_only_its_members() {
    check(include_str!("data/group_merge_before_assign.xml"), include_str!("data/group_merge_before_assign.expected"));
}
