//! Alerts: agents run on cluster events.

use super::error::ModelError;
use super::nvset::{NvSet, NvSetKind};
use super::read::{opt_string, required, required_id, Reader};
use crate::xml::Element;

/// `<alert>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: String,
    pub line: u32,
    /// The agent to run.
    pub path: String,
    pub description: Option<String>,
    pub recipients: Vec<Recipient>,
    pub instance_attributes: Vec<NvSet>,
    pub meta_attributes: Vec<NvSet>,
}

/// `<recipient>`: one value handed to the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: String,
    pub line: u32,
    pub value: String,
    pub description: Option<String>,
    pub instance_attributes: Vec<NvSet>,
    pub meta_attributes: Vec<NvSet>,
}

impl Alert {
    pub(crate) fn read<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Alert, ModelError> {
        let mut recipients = Vec::new();
        for rc in el.children_named("recipient") {
            recipients.push(Recipient {
                id: required_id(rc)?,
                line: rc.line,
                value: required(rc, &["value"])?,
                description: opt_string(rc, &["description"]),
                instance_attributes: NvSet::read_all(r, NvSetKind::Instance, rc)?,
                meta_attributes: NvSet::read_all(r, NvSetKind::Meta, rc)?,
            });
        }
        Ok(Alert {
            id: required_id(el)?,
            line: el.line,
            path: required(el, &["path"])?,
            description: opt_string(el, &["description"]),
            recipients,
            instance_attributes: NvSet::read_all(r, NvSetKind::Instance, el)?,
            meta_attributes: NvSet::read_all(r, NvSetKind::Meta, el)?,
        })
    }
}
