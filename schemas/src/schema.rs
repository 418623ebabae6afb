//! The schema a document claims through `validate-with`.

use std::fmt;

/// A schema family and version, as named by `validate-with`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Schema {
    /// No `validate-with` at all: Heartbeat 2.x's CIB dialect.
    Heartbeat2,
    /// `pacemaker-MAJOR.MINOR` (also `pacemaker-next`, mapped to the
    /// newest version we know; and the legacy `transitional-0.6`).
    Pacemaker { major: u32, minor: u32 },
    /// `validate-with="none"`: schema checks off.
    None,
    /// A `validate-with` value no Pacemaker release defines.
    Unknown,
}

impl Schema {
    /// Newest schema version Pacemaker 2.1.5 ships.
    pub const LATEST: Schema = Schema::Pacemaker { major: 3, minor: 9 };

    pub fn from_validate_with(value: Option<&str>) -> Schema {
        let Some(v) = value else { return Schema::Heartbeat2 };
        match v {
            "none" => Schema::None,
            "pacemaker-next" => Schema::LATEST,
            // Only versions Pacemaker 2.1.5 ships are known; the 0.x and
            // 1.1 names are legacy Heartbeat-era dialects.
            "pacemaker-0.6" | "transitional-0.6" | "pacemaker-0.7" => Schema::Heartbeat2,
            "pacemaker-1.1" => Schema::Pacemaker { major: 1, minor: 2 },
            _ if crate::grammar::VALIDATE_WITH.contains(&v) => parse_pacemaker(v).unwrap_or(Schema::Unknown),
            _ => Schema::Unknown,
        }
    }

    /// True for `pacemaker-X.Y` at or above `major.minor`.
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        matches!(self, Schema::Pacemaker { major: a, minor: b } if (a, b) >= (major, minor))
    }
}

fn parse_pacemaker(v: &str) -> Option<Schema> {
    let rest = v.strip_prefix("pacemaker-")?;
    let (major, minor) = rest.split_once('.')?;
    Some(Schema::Pacemaker { major: major.parse().ok()?, minor: minor.parse().ok()? })
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schema::Heartbeat2 => f.write_str("heartbeat-2"),
            Schema::Pacemaker { major, minor } => write!(f, "pacemaker-{major}.{minor}"),
            Schema::None => f.write_str("none"),
            Schema::Unknown => f.write_str("unknown"),
        }
    }
}
