//! Access control lists, kept as far as naming them goes: roles with
//! their permissions, and the users / groups they are granted to.
//!
//! Both schemas are read: Pacemaker 2.x (`acl_target`, `acl_group`,
//! `acl_role` with `acl_permission`) and 1.x (`acl_user`, `acl_role` with
//! `read` / `write` / `deny` children).

use super::read::{id_or_empty, opt_string};
use crate::xml::Element;

/// `<acls>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Acls {
    pub roles: Vec<AclRole>,
    pub targets: Vec<AclTarget>,
}

/// `<acl_role>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclRole {
    pub id: String,
    pub line: u32,
    pub permissions: Vec<AclPermission>,
}

/// One permission of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclPermission {
    pub id: String,
    pub line: u32,
    pub kind: AclKind,
    pub xpath: Option<String>,
    /// `reference`: the id of a CIB element.
    pub reference: Option<String>,
    pub object_type: Option<String>,
    pub attribute: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclKind {
    Read,
    Write,
    Deny,
}

/// A user (`acl_target`, 1.x `acl_user`) or group (`acl_group`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclTarget {
    pub id: String,
    pub line: u32,
    pub is_group: bool,
    /// The system name when it differs from the id.
    pub name: Option<String>,
    /// Ids of the roles granted.
    pub roles: Vec<String>,
}

fn kind(text: &str) -> Option<AclKind> {
    match text {
        "read" => Some(AclKind::Read),
        "write" => Some(AclKind::Write),
        "deny" => Some(AclKind::Deny),
        _ => None,
    }
}

fn permission(el: &Element, kind: AclKind) -> AclPermission {
    AclPermission {
        id: id_or_empty(el),
        line: el.line,
        kind,
        xpath: opt_string(el, &["xpath"]),
        reference: opt_string(el, &["reference", "ref"]),
        object_type: opt_string(el, &["object-type", "tag"]),
        attribute: opt_string(el, &["attribute"]),
    }
}

impl Acls {
    pub(crate) fn read(el: &Element) -> Acls {
        let mut acls = Acls::default();
        for child in el.elements() {
            match child.name.as_str() {
                "acl_role" => acls.roles.push(AclRole {
                    id: id_or_empty(child),
                    line: child.line,
                    permissions: child
                        .elements()
                        .filter_map(|p| match p.name.as_str() {
                            "acl_permission" => p.attr("kind").and_then(kind).map(|k| permission(p, k)),
                            other => kind(other).map(|k| permission(p, k)),
                        })
                        .collect(),
                }),
                "acl_target" | "acl_user" | "acl_group" => acls.targets.push(AclTarget {
                    id: id_or_empty(child),
                    line: child.line,
                    is_group: child.name == "acl_group",
                    name: opt_string(child, &["name"]),
                    roles: child
                        .elements()
                        .filter(|x| x.name == "role" || x.name == "role_ref")
                        .filter_map(|x| x.id().map(str::to_string))
                        .collect(),
                }),
                _ => {}
            }
        }
        acls
    }
}
