//! Pacemaker's "natural" name order (`pcmk__numeric_strcasecmp`): runs of
//! digits compare as numbers, everything else case-insensitively. Node
//! lists are kept in this order, so `node2` comes before `node10`.

use std::cmp::Ordering;

/// Compares two names as Pacemaker sorts node names.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let end_a = i + a[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            let end_b = j + b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
            let by_value = compare_digits(&a[i..end_a], &b[j..end_b]);
            // Equal values: the longer spelling (007 vs 7) sorts after.
            let ord = by_value.then((end_a - i).cmp(&(end_b - j)));
            if ord != Ordering::Equal {
                return ord;
            }
            i = end_a;
            j = end_b;
        } else {
            let ord = a[i].to_ascii_lowercase().cmp(&b[j].to_ascii_lowercase());
            if ord != Ordering::Equal {
                return ord;
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).min(1).cmp(&(b.len() - j).min(1))
}

/// Compares two digit strings by numeric value, without overflow.
fn compare_digits(a: &[u8], b: &[u8]) -> Ordering {
    let trim = |d: &[u8]| -> usize { d.iter().take_while(|c| **c == b'0').count() };
    let (a, b) = (&a[trim(a)..], &b[trim(b)..]);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::*;

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(compare("node2", "node10"), Less);
        assert_eq!(compare("Node1", "node1"), Equal);
        assert_eq!(compare("node007", "node7"), Greater);
        assert_eq!(compare("a", "ab"), Less);
        assert_eq!(compare("c001n02", "c001n10"), Less);
        let mut v = vec!["n10", "N9", "n1", "m"];
        v.sort_by(|a, b| compare(a, b));
        assert_eq!(v, ["m", "n1", "N9", "n10"]);
    }
}
