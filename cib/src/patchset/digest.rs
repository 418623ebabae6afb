//! The digest a patchset may carry (`<diff digest="...">`): the MD5 of the
//! document the patch is meant to produce, so the receiver can tell that
//! applying it gave exactly that document.
//!
//! Pacemaker picks one of two algorithms by feature set (`crm_feature_set`
//! below 3.0.5, or absent, means v1):
//!
//! - v1: MD5 of `" " + compact serialization + "\n"`, nothing filtered;
//! - v2: MD5 of the compact serialization, leaving out the attributes that
//!   change on every write (`cib-last-written`, `update-origin`, ...).
//!
//! Both hash Pacemaker 2.1.5's own compact serialization
//! ([`Style::PACEMAKER_COMPACT`], whose escaping is lossy: a line break in
//! an attribute becomes the two characters `\n`, text content is left
//! out...), because the digest has to match what Pacemaker computes, not
//! what we would write. v1 is exactly the on-disk digest of `cib.xml.sig`.

use crate::store::digest::{md5_hex, on_disk_digest};
use crate::xml::{Element, Style};

/// Attributes the v2 digest ignores: they change on every write.
const FILTERED: &[&str] =
    &["crm-debug-origin", "cib-last-written", "update-origin", "update-client", "update-user"];

/// The digest Pacemaker computes for `xml` under feature set `version`
/// (`calculate_xml_versioned_digest` with filtering on, sorting off).
pub fn versioned_digest(xml: &Element, version: Option<&str>) -> String {
    let v2 = version.is_some_and(|v| compare_versions("3.0.5", v) != std::cmp::Ordering::Greater);
    if v2 {
        md5_hex(&Style::PACEMAKER_COMPACT.omitting(FILTERED).element(xml))
    } else {
        on_disk_digest(xml)
    }
}

/// Puts on `patch` the digest of `target`, computed with the algorithm
/// that `source`'s feature set selects, as `crm_diff --cib` does.
pub fn add_digest(patch: &mut Element, source: &Element, target: &Element) {
    let digest = versioned_digest(target, source.attr("crm_feature_set"));
    patch.set_attr("digest", digest);
}

/// Compares two dotted feature-set versions numerically, component by
/// component, a missing component counting as 0 (Pacemaker's
/// `compare_version`).
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |s: &str| -> Vec<u64> {
        s.split('.')
            .map(|c| {
                let digits: String = c.trim().chars().take_while(|ch| ch.is_ascii_digit()).collect();
                digits.parse().unwrap_or(0)
            })
            .collect()
    };
    let (a, b) = (parse(a), parse(b));
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).copied().unwrap_or(0), b.get(i).copied().unwrap_or(0));
        if x != y {
            return x.cmp(&y);
        }
    }
    std::cmp::Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_element;
    use std::cmp::Ordering;

    // Expected values were produced by Pacemaker 2.1.5's crm_diff --cib
    // (v2) and crm_diff on a CIB without a feature set (v1).
    #[test]
    fn matches_pacemaker_v2() {
        let t = parse_element(
            r#"<cib crm_feature_set="3.16.1" epoch="2" num_updates="2" admin_epoch="0"><configuration><resources><primitive id="r2" class="ocf" type="Dummy" x="1"/><primitive id="r1" class="ocf"/><primitive id="r3" class="ocf" type="Dummy"/></resources><constraints/></configuration><status/></cib>"#,
        )
        .unwrap();
        assert_eq!(versioned_digest(&t, Some("3.16.1")), "3c98ff79c2001fb71d62287f6a4dd01f");
        // Filtered attributes do not count.
        let mut t2 = t.clone();
        t2.set_attr("cib-last-written", "Mon Jan  1 00:00:00 2024");
        assert_eq!(versioned_digest(&t2, Some("3.16.1")), versioned_digest(&t, Some("3.16.1")));
        assert_ne!(versioned_digest(&t2, None), versioned_digest(&t, None));
    }

    #[test]
    fn matches_pacemaker_v1() {
        let t = parse_element(
            r#"<cib epoch="2" num_updates="2" admin_epoch="0"><configuration><resources><primitive id="r2" class="ocf" type="Dummy" x="1"/><primitive id="r1" class="ocf"/><primitive id="r3" class="ocf" type="Dummy"/></resources><constraints/></configuration><status/></cib>"#,
        )
        .unwrap();
        assert_eq!(versioned_digest(&t, None), "6996f33293dea51649501c287ffd99f1");
        assert_eq!(versioned_digest(&t, Some("3.0.4")), "6996f33293dea51649501c287ffd99f1");
    }

    #[test]
    fn escaping_and_text_follow_pacemaker() {
        // <cib crm_feature_set="3.16.1"><x id="1" v="a&apos;b"/></cib> etc.,
        // digests taken from crm_diff --cib.
        let cases = [
            (r#"<cib crm_feature_set="3.16.1"><x id="1" v="a&apos;b"/></cib>"#, r#"<cib crm_feature_set="3.16.1"><x id="1" v="a&apos;b"/></cib>"#),
            (r#"<cib crm_feature_set="3.16.1"><x id="1" v="a&#10;b&#9;c"/></cib>"#, r#"<cib crm_feature_set="3.16.1"><x id="1" v="a\nb    c"/></cib>"#),
            (r#"<cib crm_feature_set="3.16.1"><x id="1" v="ab"/><!--cmt--><t>txt</t></cib>"#, r#"<cib crm_feature_set="3.16.1"><x id="1" v="ab"/><!--cmt--><t/></cib>"#),
        ];
        for (input, serialized) in cases {
            let e = parse_element(input).unwrap();
            assert_eq!(versioned_digest(&e, Some("3.16.1")), md5_hex(serialized), "{input}");
        }
    }

    #[test]
    fn octal_escapes_and_non_ascii_follow_pacemaker() {
        // DEL becomes \177 and escaping stops at the first non-ASCII
        // character; digests from crm_diff --cib on these targets.
        let value = "d&#127;e\tf&#10;g&lt;é&lt;&amp;h";
        let v2 = format!(r#"<cib crm_feature_set="3.16.1" epoch="2" num_updates="0" admin_epoch="0"><x id="1" v="{value}"/><!--c--></cib>"#);
        assert_eq!(versioned_digest(&parse_element(&v2).unwrap(), Some("3.16.1")), "80ab6e68ed493c92cdaa81fb8e28e451");
        let v1 = format!(r#"<cib epoch="2" num_updates="0" admin_epoch="0"><x id="1" v="{value}"/><!--c--></cib>"#);
        assert_eq!(versioned_digest(&parse_element(&v1).unwrap(), None), "0f0e8f1a6a8af26868a337cdce853d3b");
    }

    #[test]
    fn version_comparison() {
        assert_eq!(compare_versions("3.0.5", "3.0.10"), Ordering::Less);
        assert_eq!(compare_versions("3.0.5", "3.0.5"), Ordering::Equal);
        assert_eq!(compare_versions("3.0.8", "3.0"), Ordering::Greater);
        assert_eq!(compare_versions("3.0", "3.0.0"), Ordering::Equal);
    }
}
