//! Tags: named lists of resource ids, usable wherever constraints name a
//! resource.

use super::error::ModelError;
use super::read::required_id;
use crate::xml::Element;

/// `<tag>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub id: String,
    pub line: u32,
    /// The `obj_ref` ids, in order.
    pub refs: Vec<String>,
}

impl Tag {
    pub(crate) fn read(el: &Element) -> Result<Tag, ModelError> {
        Ok(Tag {
            id: required_id(el)?,
            line: el.line,
            refs: el.children_named("obj_ref").map(required_id).collect::<Result<_, _>>()?,
        })
    }
}
