//! Value types of attributes, as the schemas declare them
//! (XML Schema datatypes plus Pacemaker's enumerations).

/// The type an attribute value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Any string.
    Text,
    /// An XML `ID`: an NCName, unique across the document.
    Id,
    /// An XML `IDREF`: an NCName naming some `ID` in the document.
    IdRef,
    /// `true`, `false`, `1` or `0`.
    Bool,
    /// An optionally signed decimal integer.
    Int,
    NonNegInt,
    PositiveInt,
    /// An integer or `INFINITY`, `+INFINITY`, `-INFINITY`.
    Score,
    /// One of these tokens.
    Enum(&'static [&'static str]),
    /// Any string except these values (used to retire option names).
    Except(&'static [&'static str]),
    /// Digits and dashes, as a bundle port range (`8000-8010`).
    PortRange,
    /// A comma-separated list of device names, as in `fencing-level`.
    DeviceList,
}

/// XML Schema collapses white space around these token-like values.
fn token(v: &str) -> &str {
    v.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\n' || c == '\r')
}

fn is_integer(v: &str) -> bool {
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// An XML NCName, restricted to ASCII plus any non-ASCII letter, which is
/// what CIB ids use in practice.
pub fn is_ncname(v: &str) -> bool {
    let mut chars = v.chars();
    let Some(first) = chars.next() else { return false };
    let start_ok = |c: char| c.is_alphabetic() || c == '_';
    start_ok(first) && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '\u{b7}'))
}

impl Ty {
    /// Does `value` belong to this type?
    pub fn accepts(self, value: &str) -> bool {
        match self {
            Ty::Text => true,
            Ty::Id | Ty::IdRef => is_ncname(token(value)),
            Ty::Bool => matches!(token(value), "true" | "false" | "1" | "0"),
            Ty::Int => is_integer(token(value)),
            Ty::NonNegInt => {
                let v = token(value);
                is_integer(v) && (!v.starts_with('-') || v[1..].bytes().all(|b| b == b'0'))
            }
            Ty::PositiveInt => {
                let v = token(value);
                is_integer(v) && !v.starts_with('-') && v.bytes().any(|b| (b'1'..=b'9').contains(&b))
            }
            Ty::Score => {
                let v = token(value);
                is_integer(v) || matches!(v, "INFINITY" | "+INFINITY" | "-INFINITY")
            }
            Ty::Enum(values) => values.contains(&token(value)),
            Ty::Except(values) => !values.contains(&value),
            Ty::PortRange => !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit() || b == b'-'),
            Ty::DeviceList => {
                !value.is_empty()
                    && value.split(',').all(|d| {
                        !d.is_empty() && d.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
                    })
            }
        }
    }

    /// What the type expects, for messages.
    pub fn describe(self) -> String {
        match self {
            Ty::Text => "any text".into(),
            Ty::Id => "an XML ID (a name starting with a letter or '_')".into(),
            Ty::IdRef => "an id reference (a name starting with a letter or '_')".into(),
            Ty::Bool => "a boolean (true, false, 1 or 0)".into(),
            Ty::Int => "an integer".into(),
            Ty::NonNegInt => "a non-negative integer".into(),
            Ty::PositiveInt => "a positive integer".into(),
            Ty::Score => "a score (an integer, INFINITY, +INFINITY or -INFINITY)".into(),
            Ty::Enum(values) => format!("one of: {}", values.join(", ")),
            Ty::Except(values) => format!("anything but: {}", values.join(", ")),
            Ty::PortRange => "a port or port range (digits and '-')".into(),
            Ty::DeviceList => "a comma-separated list of device ids".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores() {
        for ok in ["0", "-10", "+5", "INFINITY", "+INFINITY", "-INFINITY", " 7 "] {
            assert!(Ty::Score.accepts(ok), "{ok}");
        }
        for bad in ["", "inf", "infinity", "1.5", "10a", "- 1", "+"] {
            assert!(!Ty::Score.accepts(bad), "{bad}");
        }
    }

    #[test]
    fn booleans_are_xml_schema_booleans() {
        assert!(Ty::Bool.accepts("true") && Ty::Bool.accepts("0"));
        assert!(!Ty::Bool.accepts("yes") && !Ty::Bool.accepts("TRUE"));
    }

    #[test]
    fn ids_are_ncnames() {
        assert!(Ty::Id.accepts("rsc_1.a-b"));
        assert!(!Ty::Id.accepts("1rsc") && !Ty::Id.accepts("a:b") && !Ty::Id.accepts("") && !Ty::Id.accepts("a b"));
    }

    #[test]
    fn integers() {
        assert!(Ty::NonNegInt.accepts("0") && Ty::NonNegInt.accepts("-0") && !Ty::NonNegInt.accepts("-1"));
        assert!(Ty::PositiveInt.accepts("3") && !Ty::PositiveInt.accepts("0"));
    }

    #[test]
    fn enums_and_exclusions() {
        let t = Ty::Enum(&["a", "b"]);
        assert!(t.accepts("a") && !t.accepts("c"));
        let t = Ty::Except(&["x"]);
        assert!(t.accepts("y") && !t.accepts("x"));
    }

    #[test]
    fn device_lists() {
        assert!(Ty::DeviceList.accepts("d1,d2") && !Ty::DeviceList.accepts("d1,,d2") && !Ty::DeviceList.accepts("d 1"));
    }
}
