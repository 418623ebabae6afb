//! Resource roles.
//!
//! Pacemaker 2.1 renamed Master/Slave to Promoted/Unpromoted and reads
//! both, case-insensitively; Heartbeat 2.x wrote lowercase values such as
//! `target_role="started"`. One enum covers them all.

use std::fmt;

/// The role of a resource (or of a clone instance) on a node.
/// Ordered as Pacemaker orders roles: Unknown < Stopped < Started <
/// Unpromoted < Promoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Role {
    #[default]
    Unknown,
    Stopped,
    Started,
    /// Pacemaker 1.x / Heartbeat 2.x: `Slave`.
    Unpromoted,
    /// Pacemaker 1.x / Heartbeat 2.x: `Master`.
    Promoted,
}

impl Role {
    /// Any spelling Pacemaker or Heartbeat accepts, case-insensitively.
    pub fn parse(text: &str) -> Option<Role> {
        let t = text.trim();
        let is = |name: &str| t.eq_ignore_ascii_case(name);
        if is("Stopped") {
            Some(Role::Stopped)
        } else if is("Started") {
            Some(Role::Started)
        } else if is("Unpromoted") || is("Slave") {
            Some(Role::Unpromoted)
        } else if is("Promoted") || is("Master") {
            Some(Role::Promoted)
        } else if is("Unknown") {
            Some(Role::Unknown)
        } else {
            None
        }
    }

    /// The current name (as Pacemaker 2.1 prints it).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Unknown => "Unknown",
            Role::Stopped => "Stopped",
            Role::Started => "Started",
            Role::Unpromoted => "Unpromoted",
            Role::Promoted => "Promoted",
        }
    }

    /// The Pacemaker 1.x / Heartbeat name (Slave, Master), as still used in
    /// operation keys and older output.
    pub fn legacy_name(self) -> &'static str {
        match self {
            Role::Unpromoted => "Slave",
            Role::Promoted => "Master",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling() {
        assert_eq!(Role::parse("Master"), Some(Role::Promoted));
        assert_eq!(Role::parse("promoted"), Some(Role::Promoted));
        assert_eq!(Role::parse("Slave"), Some(Role::Unpromoted));
        assert_eq!(Role::parse("Unpromoted"), Some(Role::Unpromoted));
        assert_eq!(Role::parse("started"), Some(Role::Started));
        assert_eq!(Role::parse("STOPPED"), Some(Role::Stopped));
        assert_eq!(Role::parse("Unknown"), Some(Role::Unknown));
        assert_eq!(Role::parse("default"), None);
        assert_eq!(Role::Promoted.to_string(), "Promoted");
        assert_eq!(Role::Promoted.legacy_name(), "Master");
        assert_eq!(Role::Started.legacy_name(), "Started");
        assert!(Role::Promoted > Role::Unpromoted && Role::Unpromoted > Role::Started);
    }
}
