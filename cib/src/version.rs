//! CIB versions: the `(admin_epoch, epoch, num_updates)` triple on `<cib>`.
//!
//! Pacemaker's rules: versions compare lexicographically; a configuration
//! change bumps `epoch` and zeroes `num_updates`; a status-only change bumps
//! `num_updates`; `admin_epoch` only moves when an administrator says so.
//! A replacement whose version is older than the current one is refused.

use std::fmt;

use crate::xml::Element;

/// A CIB version. Field order is comparison order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Version {
    pub admin_epoch: u64,
    pub epoch: u64,
    pub num_updates: u64,
}

impl Version {
    pub const ATTRS: [&'static str; 3] = ["admin_epoch", "epoch", "num_updates"];

    pub fn new(admin_epoch: u64, epoch: u64, num_updates: u64) -> Self {
        Version { admin_epoch, epoch, num_updates }
    }

    /// Reads the version from a `<cib>` element; absent or unparseable
    /// fields count as 0, as Pacemaker treats them.
    pub fn of(cib: &Element) -> Version {
        let get = |name| cib.attr(name).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
        Version { admin_epoch: get("admin_epoch"), epoch: get("epoch"), num_updates: get("num_updates") }
    }

    /// Writes the version onto a `<cib>` element.
    pub fn write_to(&self, cib: &mut Element) {
        cib.set_attr("admin_epoch", self.admin_epoch.to_string());
        cib.set_attr("epoch", self.epoch.to_string());
        cib.set_attr("num_updates", self.num_updates.to_string());
    }

    /// The version after a configuration change.
    pub fn bump_epoch(self) -> Version {
        Version { epoch: self.epoch + 1, num_updates: 0, ..self }
    }

    /// The version after a status-only change.
    pub fn bump_updates(self) -> Version {
        Version { num_updates: self.num_updates + 1, ..self }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.admin_epoch, self.epoch, self.num_updates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_element;

    #[test]
    fn ordering_is_lexicographic() {
        assert!(Version::new(1, 0, 0) > Version::new(0, 99, 99));
        assert!(Version::new(0, 2, 0) > Version::new(0, 1, 50));
        assert!(Version::new(0, 1, 2) > Version::new(0, 1, 1));
    }

    #[test]
    fn read_write_and_bumps() {
        let mut cib = parse_element(r#"<cib epoch="7" num_updates="x"/>"#).unwrap();
        let v = Version::of(&cib);
        assert_eq!(v, Version::new(0, 7, 0));
        v.bump_updates().bump_epoch().write_to(&mut cib);
        assert_eq!(cib.to_xml_compact(), r#"<cib epoch="8" num_updates="0" admin_epoch="0"/>"#);
        assert_eq!(Version::new(0, 8, 3).bump_updates().to_string(), "0.8.4");
    }
}
