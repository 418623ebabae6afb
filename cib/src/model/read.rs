//! Reading typed values out of tree elements: the shared plumbing of the
//! model's builders.
//!
//! Attribute lookups take a list of spellings, current name first, so the
//! Heartbeat 2.x / Pacemaker 1.x names (`on_fail`, `boolean_op`,
//! `rc_code`...) are read wherever the current one is.

use std::collections::HashMap;

use super::duration;
use super::error::{ModelError, ModelWarning};
use super::score::Score;
use crate::xml::{Element, FlatElement};

/// State shared while one document is read: an index for `id-ref`
/// resolution and the warnings gathered so far.
pub(crate) struct Reader<'a> {
    /// `None`: nothing to resolve references in (a record read on its own).
    root: Option<&'a Element>,
    /// (element name, id) -> first such element in document order, which
    /// is what Pacemaker's `//name[@id='ref']` lookup finds. Built at the
    /// first reference: a node's status, read a million records at a
    /// time, rarely has one.
    by_name_id: std::cell::OnceCell<HashMap<(&'a str, &'a str), &'a Element>>,
    pub warnings: Vec<ModelWarning>,
}

impl<'a> Reader<'a> {
    pub fn new(root: &'a Element) -> Reader<'a> {
        Reader { root: Some(root), by_name_id: std::cell::OnceCell::new(), warnings: Vec::new() }
    }

    /// A reader for elements that hold no references (operation
    /// records read as they are parsed): it only gathers warnings.
    pub fn detached() -> Reader<'a> {
        Reader { root: None, by_name_id: std::cell::OnceCell::new(), warnings: Vec::new() }
    }

    /// The element with this name and id, anywhere in the document.
    pub fn find(&self, name: &str, id: &str) -> Option<&'a Element> {
        let index = self.by_name_id.get_or_init(|| {
            let mut by_name_id = HashMap::new();
            for el in self.root.iter().flat_map(|r| r.descendants()) {
                if let Some(id) = el.id() {
                    by_name_id.entry((el.name.as_str(), id)).or_insert(el);
                }
            }
            by_name_id
        });
        index.get(&(name, id)).copied()
    }

    /// Follows an `id-ref`: the element to read and the reference as
    /// written (`None` when `el` is not a reference).
    pub fn resolve(&self, el: &'a Element) -> Result<(&'a Element, Option<String>), ModelError> {
        match el.attr("id-ref") {
            None => Ok((el, None)),
            Some(r) => match self.find(&el.name, r) {
                Some(target) => Ok((target, Some(r.to_string()))),
                None => Err(ModelError::DanglingIdRef {
                    element: el.name.clone(),
                    id_ref: r.to_string(),
                    line: el.line,
                }),
            },
        }
    }

    pub fn warn(&mut self, el: &(impl Attrs + ?Sized), message: impl Into<String>) {
        self.warnings.push(ModelWarning { line: el.line(), message: message.into() });
    }

    /// A boolean the way Pacemaker's `crm_is_true` reads it: an unreadable
    /// value is false (and worth a warning).
    pub fn bool_attr(&mut self, el: &Element, names: &[&str]) -> Option<bool> {
        let (name, text) = first_attr_named(el, names)?;
        Some(parse_bool(text).unwrap_or_else(|| {
            self.warn(el, format!("<{}> {name}=\"{text}\" is not a boolean; reading it as false", el.name));
            false
        }))
    }

    /// A boolean whose unreadable value means "not set" (Pacemaker then
    /// applies the default, as for a colocation's `influence`).
    pub fn bool_attr_or_default(&mut self, el: &Element, names: &[&str]) -> Option<bool> {
        let (name, text) = first_attr_named(el, names)?;
        let v = parse_bool(text);
        if v.is_none() {
            self.warn(el, format!("<{}> {name}=\"{text}\" is not a boolean; using the default", el.name));
        }
        v
    }

    /// A time span in milliseconds; unreadable is `None` with a warning.
    pub fn msec_attr(&mut self, el: &Element, names: &[&str]) -> Option<u64> {
        let (name, text) = first_attr_named(el, names)?;
        let ms = duration::parse_msec(text);
        if ms.is_none() {
            self.warn(el, format!("<{}> {name}=\"{text}\" is not a time span; ignoring it", el.name));
        }
        ms
    }

    /// An operation interval; absent is 0 and unreadable is 0 with a
    /// warning, as Pacemaker does.
    pub fn interval_attr(&mut self, el: &Element, names: &[&str]) -> u64 {
        match first_attr_named(el, names) {
            None => 0,
            Some((name, text)) => duration::parse_interval_ms(text).unwrap_or_else(|| {
                self.warn(el, format!("<{}> {name}=\"{text}\" is not an interval; using 0", el.name));
                0
            }),
        }
    }

    /// An enumerated attribute. A value outside the enumeration (which
    /// only an unvalidated CIB can hold) is read as absent, with a
    /// warning: Pacemaker then falls back to the default too, or drops
    /// the constraint concerned.
    pub fn enum_attr<T>(
        &mut self,
        el: &Element,
        names: &[&str],
        parse: impl Fn(&str) -> Option<T>,
        expected: &'static str,
    ) -> Option<T> {
        let (name, text) = first_attr_named(el, names)?;
        let v = parse(text);
        if v.is_none() {
            self.warn(el, format!("<{}> {name}=\"{text}\" is not {expected}; ignoring it", el.name));
        }
        v
    }

    /// An integer; unreadable is `None` with a warning.
    pub fn int_attr<T: std::str::FromStr>(&mut self, el: &(impl Attrs + ?Sized), names: &[&str]) -> Option<T> {
        let (name, text) = first_attr_named(el, names)?;
        let v = text.trim().parse().ok();
        if v.is_none() {
            let message = format!("<{}> {name}=\"{text}\" is not a valid number; ignoring it", el.tag());
            self.warn(el, message);
        }
        v
    }
}

/// What the readers need of an element: a built [`Element`], or a
/// [`FlatElement`] read straight from the parser (operation records).
pub trait Attrs {
    fn tag(&self) -> &str;
    fn line(&self) -> u32;
    fn attr_value(&self, name: &str) -> Option<&str>;
}

impl Attrs for Element {
    fn tag(&self) -> &str {
        &self.name
    }
    fn line(&self) -> u32 {
        self.line
    }
    fn attr_value(&self, name: &str) -> Option<&str> {
        self.attr(name)
    }
}

impl Attrs for FlatElement<'_> {
    fn tag(&self) -> &str {
        self.name
    }
    fn line(&self) -> u32 {
        self.line
    }
    fn attr_value(&self, name: &str) -> Option<&str> {
        self.attr(name)
    }
}

/// The first of these attributes that is present.
pub fn first_attr<'e>(el: &'e (impl Attrs + ?Sized), names: &[&str]) -> Option<&'e str> {
    first_attr_named(el, names).map(|(_, v)| v)
}

/// Like [`first_attr`], also saying which spelling was found.
pub fn first_attr_named<'e, 'n>(el: &'e (impl Attrs + ?Sized), names: &[&'n str]) -> Option<(&'n str, &'e str)> {
    names.iter().find_map(|n| el.attr_value(n).map(|v| (*n, v)))
}

pub fn opt_string(el: &(impl Attrs + ?Sized), names: &[&str]) -> Option<String> {
    first_attr(el, names).map(str::to_string)
}

/// An attribute that must be there.
pub fn required(el: &(impl Attrs + ?Sized), names: &[&'static str]) -> Result<String, ModelError> {
    first_attr(el, names).map(str::to_string).ok_or_else(|| ModelError::MissingAttribute {
        element: el.tag().to_string(),
        attribute: names[0],
        line: el.line(),
    })
}

/// The `id` of an element that must have one.
pub fn required_id(el: &(impl Attrs + ?Sized)) -> Result<String, ModelError> {
    required(el, &["id"])
}

/// The `id`, or empty for the few elements Pacemaker does not insist on.
pub fn id_or_empty(el: &Element) -> String {
    el.id().unwrap_or_default().to_string()
}

pub fn score_attr(el: &Element, names: &[&str]) -> Option<Score> {
    first_attr(el, names).map(Score::parse)
}

/// An enumerated attribute that must be present and valid (no default
/// could stand in for it).
pub fn required_enum<T>(
    el: &Element,
    name: &'static str,
    parse: impl Fn(&str) -> Option<T>,
    expected: &'static str,
) -> Result<T, ModelError> {
    let text = el.attr(name).ok_or_else(|| ModelError::MissingAttribute { element: el.name.clone(), attribute: name, line: el.line })?;
    parse(text).ok_or_else(|| ModelError::InvalidValue {
        element: el.name.clone(),
        id: el.id().map(str::to_string),
        attribute: name.to_string(),
        value: text.to_string(),
        expected,
        line: el.line,
    })
}

/// Pacemaker's `crm_str_to_boolean`: true/on/yes/y/1 and
/// false/off/no/n/0, any case.
pub fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim();
    let any = |words: &[&str]| words.iter().any(|w| t.eq_ignore_ascii_case(w));
    if any(&["true", "on", "yes", "y", "1"]) {
        Some(true)
    } else if any(&["false", "off", "no", "n", "0"]) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_as_crm_str_to_boolean() {
        for t in ["true", "TRUE", "on", "Yes", "y", "1"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for t in ["false", "Off", "no", "N", "0"] {
            assert_eq!(parse_bool(t), Some(false), "{t}");
        }
        assert_eq!(parse_bool("maybe"), None);
    }
}
