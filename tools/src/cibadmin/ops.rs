//! The CIB operations behind cibadmin's commands, as Pacemaker 2.1.5's
//! file back end performs them: pure functions from the current CIB (and a
//! request) to a new CIB or an error.
//!
//! Each write works on a copy ("scratch") and then goes through the same
//! tail as Pacemaker's `cib_perform_op`:
//!
//! 1. refuse a result whose `crm_feature_set` is newer than ours, or whose
//!    `admin_epoch`/`epoch` went backwards;
//! 2. strip text nodes and expand `name++` / `name+=N` attribute values;
//! 3. bump the version if anything changed: `epoch+1, num_updates=0` when the
//!    change touched `/cib/configuration`, else `num_updates+1`;
//! 4. validate against the schema (skipped for `-o status`).
//!
//! Whether "anything changed", and whether it was a configuration change,
//! follows Pacemaker's change tracking rather than a plain before/after
//! diff, because the two differ and the version numbers show it: an
//! attribute set on an element marks it and all its ancestors; a deletion
//! is recorded by its path; a subtree copied in whole (`-M -c`, an XPath
//! replace) marks the document but not its new ancestors, so it counts as
//! a status-level change even inside `configuration`; a replaced subtree is
//! compared with what it replaced. [`Tracker`] records exactly those marks.
//! In file mode Pacemaker sets `cib_no_mtime`, so `cib-last-written` and the
//! `update-*` attributes are never added here.

use cib::{Element, Node};

use super::xpath::{self, Path};
use crate::ExitCode;

/// `CRM_FEATURE_SET` of Pacemaker 2.1.5.
pub const FEATURE_SET: &str = "3.16.1";
/// The newest schema Pacemaker 2.1.5 ships (`-a` and `-E` use it).
pub const LATEST_SCHEMA: &str = "pacemaker-3.9";
/// Pacemaker's score infinity, used by `name+=INFINITY`.
const INFINITY: i64 = 1_000_000;

/// What cibadmin asks of the CIB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Query,
    Create,
    Modify,
    Replace,
    Delete,
    Bump,
    Erase,
}

/// One operation, with the options that change how it works.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub command: Option<Command>,
    /// `-o SECTION` or, with `xpath`, the `-A EXPR` expression.
    pub section: Option<String>,
    /// `section` is an XPath expression (`-A`, last of `-o`/`-A` wins).
    pub xpath: bool,
    /// The XML given with `-X`, `-x` or `-p`.
    pub input: Option<Element>,
    /// `-c`: let `-M` create what it does not find.
    pub allow_create: bool,
    /// `-n`: query results without children.
    pub no_children: bool,
    /// `-e`: XPath queries answer with paths.
    pub node_path: bool,
    /// `-d`: delete every XPath match, not just the first.
    pub multiple: bool,
}

/// Why an operation failed: Pacemaker's legacy return codes, which print
/// as `strerror` text and map to distinct exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CibError {
    #[error("No such device or address")]
    NoSuchObject,
    #[error("File exists")]
    Exists,
    #[error("Invalid argument")]
    InvalidArgument,
    #[error("Update was older than existing configuration")]
    OldData,
    #[error("Update does not conform to the configured schema")]
    SchemaValidation,
    #[error("Protocol not supported")]
    ProtocolNotSupported,
}

impl CibError {
    /// The exit status Pacemaker 2.1.5's cibadmin uses for this error.
    pub fn exit_code(self) -> ExitCode {
        match self {
            CibError::NoSuchObject => ExitCode::NoSuch,
            CibError::Exists => ExitCode::Exists,
            CibError::InvalidArgument => ExitCode::Software,
            CibError::OldData => ExitCode::Old,
            CibError::SchemaValidation => ExitCode::Config,
            CibError::ProtocolNotSupported => ExitCode::Protocol,
        }
    }
}

/// A successful operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Success {
    /// The new CIB; `None` for a query. Present even when nothing changed,
    /// because Pacemaker rewrites the file after every successful write.
    pub cib: Option<Element>,
    /// What to print (query results).
    pub output: Option<Element>,
}

/// A failed operation; the CIB is left as it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub error: CibError,
    /// What to print anyway (`<failed>` for a create that hit an existing object).
    pub output: Option<Box<Element>>,
    /// For a schema failure, the result that failed validation, which
    /// Pacemaker lists on stderr.
    pub rejected: Option<Box<Element>>,
}

impl From<CibError> for Failure {
    fn from(error: CibError) -> Self {
        Failure { error, output: None, rejected: None }
    }
}

/// Change marks, as Pacemaker's change tracking would leave them.
#[derive(Debug, Default, Clone, Copy)]
struct Tracker {
    /// Something in the document changed: the version moves.
    doc: bool,
    /// Something under `/cib/configuration` changed: `epoch` moves.
    config: bool,
}

impl Tracker {
    /// An attribute of the element at `path` changed: the element and its
    /// ancestors are marked.
    fn chain(&mut self, root: &Element, path: &[usize]) {
        self.doc = true;
        if let Some(&first) = path.first() {
            if root.element_position(|e| e.name == "configuration") == Some(first) {
                self.config = true;
            }
        }
    }

    /// The element at `path` is about to be deleted.
    fn deleted(&mut self, root: &Element, path: &[usize]) {
        self.doc = true;
        if node_path(root, path).contains("/cib/configuration") {
            self.config = true;
        }
    }

    /// A subtree was copied in whole: only the document is marked.
    fn copied(&mut self) {
        self.doc = true;
    }
}

/// Performs `req` on `current`. `valid` is the schema check.
pub fn perform(current: &Element, req: &Request, valid: &dyn Fn(&Element) -> bool) -> Result<Success, Failure> {
    let command = req.command.ok_or(CibError::InvalidArgument)?;
    let section = req.section.as_deref();
    let mut input = req.input.clone();
    // A whole CIB given for a section stands for that section of it.
    if let (Some(s), Some(i)) = (section, &input) {
        if i.name == "cib" {
            input = find_section(i, Some(s)).and_then(|p| xpath::get(i, &p)).cloned();
        }
    }
    if command == Command::Query {
        return query(current, req, section);
    }
    if command == Command::Replace {
        if let Some(i) = input.as_mut() {
            if i.name.eq_ignore_ascii_case("cib") && i.child("status").is_none() {
                i.children.push(Node::Element(Element::new("status")));
            }
        }
    }

    let mut scratch = current.clone();
    let mut t = Tracker::default();
    let input = input.as_ref();
    if req.xpath && matches!(command, Command::Modify | Command::Replace | Command::Delete) {
        xpath_write(&mut scratch, command, section.unwrap_or(""), input, req.multiple, &mut t)?;
    } else {
        match command {
            Command::Create => create(&mut scratch, section, input, &mut t)?,
            Command::Modify => modify(&mut scratch, section, input, req.allow_create, &mut t)?,
            Command::Delete => delete(&mut scratch, section, input, &mut t)?,
            Command::Replace => replace(&mut scratch, current, section, input, &mut t)?,
            Command::Bump => {
                let v = counter_plus_one(scratch.attr("epoch"));
                set_attr(&mut scratch, &[], "epoch", &v, &mut t);
            }
            Command::Erase => {
                scratch = erase(current);
                infer_changes(current, &scratch, &mut t);
            }
            Command::Query => unreachable!("handled above"),
        }
    }
    finish(current, scratch, t, section, valid)
}

/// The tail every successful write goes through (see the module docs).
fn finish(
    current: &Element,
    mut scratch: Element,
    mut t: Tracker,
    section: Option<&str>,
    valid: &dyn Fn(&Element) -> bool,
) -> Result<Success, Failure> {
    if let Some(fs) = scratch.attr("crm_feature_set") {
        if compare_versions(fs, FEATURE_SET) == std::cmp::Ordering::Greater {
            return Err(CibError::ProtocolNotSupported.into());
        }
    }
    let int = |e: &Element, name| int_attr(e.attr(name), 0);
    let (old_admin, new_admin) = (int(current, "admin_epoch"), int(&scratch, "admin_epoch"));
    let went_back = old_admin > new_admin
        || (old_admin == new_admin && int(current, "epoch") > int(&scratch, "epoch"));

    strip_text(&mut scratch);
    fix_plus_plus(&mut scratch, &mut Vec::new(), &mut t);
    if t.doc {
        if t.config {
            let epoch = int(&scratch, "epoch") + 1;
            scratch.set_attr("num_updates", "0");
            scratch.set_attr("epoch", epoch.to_string());
        } else {
            let n = int(&scratch, "num_updates") + 1;
            scratch.set_attr("num_updates", n.to_string());
        }
    }
    if went_back {
        return Err(CibError::OldData.into());
    }
    let check_schema = !section.is_some_and(|s| s.eq_ignore_ascii_case("status"));
    if check_schema && !valid(&scratch) {
        return Err(Failure { error: CibError::SchemaValidation, output: None, rejected: Some(Box::new(scratch)) });
    }
    Ok(Success { cib: Some(scratch), output: None })
}

fn query(current: &Element, req: &Request, section: Option<&str>) -> Result<Success, Failure> {
    if req.xpath {
        let matches = xpath::select(section.unwrap_or(""), current);
        if matches.is_empty() {
            return Err(CibError::NoSuchObject.into());
        }
        let mut answer: Option<Element> = (matches.len() > 1).then(|| Element::new("xpath-query"));
        for m in &matches {
            let e = xpath::get(current, m).expect("selected path exists");
            let item = if req.no_children {
                shallow(e)
            } else if req.node_path {
                let path = node_path(current, m);
                let a = answer.get_or_insert_with(|| Element::new("xpath-query"));
                a.children.push(Node::Element(Element::new("xpath-query-path").with_attr("id", path)));
                continue;
            } else {
                e.clone()
            };
            match answer.as_mut() {
                Some(a) => a.children.push(Node::Element(item)),
                None => answer = Some(item),
            }
        }
        return Ok(Success { cib: None, output: answer });
    }
    let section = section.filter(|s| !s.eq_ignore_ascii_case("all"));
    let path = find_section(current, section).ok_or(CibError::NoSuchObject)?;
    let e = xpath::get(current, &path).expect("found section exists");
    let out = if req.no_children { shallow(e) } else { e.clone() };
    Ok(Success { cib: None, output: Some(out) })
}

fn shallow(e: &Element) -> Element {
    let mut s = Element::new(e.name.clone());
    for (k, v) in e.attrs() {
        s.set_attr(k, v);
    }
    s
}

/// `/cib/configuration/resources/primitive[@id='x']`: the path Pacemaker
/// prints for `-e` and records for deletions.
pub fn node_path(root: &Element, path: &[usize]) -> String {
    let mut out = String::new();
    let mut e = root;
    let mut push = |e: &Element| match e.id() {
        Some(id) => out.push_str(&format!("/{}[@id='{}']", e.name, id)),
        None => out.push_str(&format!("/{}", e.name)),
    };
    push(e);
    for &i in path {
        e = e.elements().nth(i).expect("path exists");
        push(e);
    }
    out
}

/// Where each `-o` section lives. An unknown name means the whole CIB, as
/// in Pacemaker (which looks the name up and gets no XPath to apply).
fn section_xpath(name: Option<&str>) -> Option<&'static str> {
    Some(match name? {
        "cib" | "all" => "//cib",
        "status" => "//cib/status",
        "configuration" => "//cib/configuration",
        "crm_config" => "//cib/configuration/crm_config",
        "nodes" => "//cib/configuration/nodes",
        "resources" => "//cib/configuration/resources",
        "constraints" => "//cib/configuration/constraints",
        "op_defaults" => "//cib/configuration/op_defaults",
        "rsc_defaults" => "//cib/configuration/rsc_defaults",
        "acls" => "//cib/configuration/acls",
        "fencing-topology" => "//cib/configuration/fencing-topology",
        "tags" => "//cib/configuration/tags",
        "alerts" => "//cib/configuration/alerts",
        _ => return None,
    })
}

/// The element a section name designates: `None` when the section is
/// absent (or ambiguous); the root for no section or an unknown name.
fn find_section(root: &Element, name: Option<&str>) -> Option<Path> {
    let xp = match name {
        None => "//cib",
        Some(n) => match section_xpath(Some(n)) {
            Some(xp) => xp,
            None => return Some(Vec::new()),
        },
    };
    let found = xpath::select(xp, root);
    (found.len() == 1).then(|| found.into_iter().next().unwrap())
}

/// Where a missing section is created by `-M`.
fn section_parent(name: Option<&str>) -> Option<&'static str> {
    match name? {
        "status" | "configuration" => Some("/cib"),
        "crm_config" | "nodes" | "resources" | "constraints" | "op_defaults" | "rsc_defaults" | "acls"
        | "fencing-topology" | "tags" | "alerts" => Some("/cib/configuration"),
        _ => None,
    }
}

fn child_path(path: &[usize], i: usize) -> Path {
    let mut p = path.to_vec();
    p.push(i);
    p
}

fn el<'a>(root: &'a Element, path: &[usize]) -> &'a Element {
    xpath::get(root, path).expect("path exists")
}

fn el_mut<'a>(root: &'a mut Element, path: &[usize]) -> &'a mut Element {
    xpath::get_mut(root, path).expect("path exists")
}

/// Sets an attribute, marking the change only if the value differs.
fn set_attr(root: &mut Element, path: &[usize], name: &str, value: &str, t: &mut Tracker) {
    if el(root, path).attr(name) == Some(value) {
        return;
    }
    t.chain(root, path);
    el_mut(root, path).set_attr(name, value);
}

/// Appends a copy of `e` under the element at `path`; returns its path.
fn append_copy(root: &mut Element, path: &[usize], e: &Element, t: &mut Tracker) -> Path {
    t.copied();
    let parent = el_mut(root, path);
    parent.children.push(Node::Element(e.clone()));
    child_path(path, parent.elements().count() - 1)
}

/// Appends a new empty element (Pacemaker's `create_xml_node`, which marks nothing).
fn append_new(root: &mut Element, path: &[usize], name: &str) -> Path {
    let parent = el_mut(root, path);
    parent.children.push(Node::Element(Element::new(name)));
    child_path(path, parent.elements().count() - 1)
}

fn remove(root: &mut Element, path: &[usize], t: &mut Tracker) {
    t.deleted(root, path);
    let (last, parent) = path.split_last().expect("the root is never removed");
    el_mut(root, parent).remove_element(*last);
}

/// Pacemaker's `char2score`.
fn score(s: &str) -> i64 {
    match s {
        "-INFINITY" => -INFINITY,
        "INFINITY" | "+INFINITY" => INFINITY,
        _ if ["red", "yellow", "green"].iter().any(|c| s.eq_ignore_ascii_case(c)) => 0,
        _ => strtoll(s).clamp(-INFINITY, INFINITY),
    }
}

/// C `strtoll(s, _, 10)`: leading blanks and sign, digits, garbage ignored.
fn strtoll(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits.bytes().take_while(u8::is_ascii_digit).count();
    let v = digits[..end].parse::<i64>().unwrap_or(if end == 0 { 0 } else { i64::MAX });
    if neg { -v } else { v }
}

/// Pacemaker's `crm_element_value_int` for version counters: missing keeps
/// the default, unparseable gives -1.
fn int_attr(v: Option<&str>, default: i64) -> i64 {
    match v {
        None => default,
        Some(s) => s.trim().parse::<i32>().map(i64::from).unwrap_or(-1),
    }
}

/// Pacemaker's `cib_update_counter`: `atoi(old) + 1`, or 1.
fn counter_plus_one(old: Option<&str>) -> String {
    match old {
        Some(s) => (strtoll(s) as i32).wrapping_add(1).to_string(),
        None => "1".to_string(),
    }
}

/// Pacemaker's `expand_plus_plus`: `name="name++"` adds 1 to the current
/// value, `name="name+=N"` adds N (scores, capped at INFINITY); anything
/// else is set literally. `self_expand` is the whole-CIB pass, where the
/// value is its own "current value" and the base is 0.
fn expand_plus_plus(root: &mut Element, path: &[usize], name: &str, value: &str, self_expand: bool, t: &mut Tracker) {
    let old = el(root, path).attr(name).map(str::to_string);
    let expanded = old.as_deref().and_then(|old| {
        let rest = value.strip_prefix(name)?;
        let b = rest.as_bytes();
        if b.len() < 2 || b[0] != b'+' || (b[1] != b'+' && b[1] != b'=') {
            return None;
        }
        let base = if self_expand { 0 } else { score(old) };
        let offset = if b[1] == b'+' { 1 } else { score(&rest[2..]) };
        Some((base + offset).min(INFINITY).to_string())
    });
    match expanded {
        Some(v) => set_attr(root, path, name, &v, t),
        None if self_expand => {}
        None => set_attr(root, path, name, value, t),
    }
}

fn copy_in_properties(root: &mut Element, path: &[usize], update: &Element, t: &mut Tracker) {
    for (k, v) in update.attrs() {
        expand_plus_plus(root, path, k, v, false, t);
    }
}

fn fix_plus_plus(root: &mut Element, path: &mut Path, t: &mut Tracker) {
    let attrs: Vec<(String, String)> =
        el(root, path).attrs().filter(|(_, v)| v.contains('+')).map(|(k, v)| (k.into(), v.into())).collect();
    for (k, v) in attrs {
        expand_plus_plus(root, path, &k, &v, true, t);
    }
    let n = el(root, path).elements().count();
    for i in 0..n {
        path.push(i);
        fix_plus_plus(root, path, t);
        path.pop();
    }
}

/// Removes text and processing instructions, which Pacemaker does not keep
/// in a CIB.
pub fn strip_text(e: &mut Element) {
    e.children.retain(|c| !matches!(c, Node::Text(_) | Node::Pi(_)));
    for c in e.elements_mut() {
        strip_text(c);
    }
}

/// Compares dotted version strings numerically, as `compare_version` does.
fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |s: &str| s.split('.').map(|p| p.trim().parse::<i64>().unwrap_or(0)).collect::<Vec<_>>();
    let (mut x, mut y) = (parse(a), parse(b));
    let n = x.len().max(y.len());
    x.resize(n, 0);
    y.resize(n, 0);
    x.cmp(&y)
}

/// The element a comment stands for when Pacemaker's object code walks it
/// as if it were an element (its node name is "comment").
fn as_element(n: &Node) -> Option<Element> {
    match n {
        Node::Element(e) => Some(e.clone()),
        Node::Comment(_) => Some(Element::new("comment")),
        _ => None,
    }
}

// ---- modify -------------------------------------------------------------

/// Pacemaker's `update_xml_child`: finds, depth first from `path` (itself
/// included), the first element with the update's name and id, and merges
/// the update into it.
fn update_xml_child(root: &mut Element, path: &mut Path, update: &Element, t: &mut Tracker) -> bool {
    let e = el(root, path);
    if e.name == update.name && e.id() == update.id() {
        xml_update(root, path, update, t);
        return true;
    }
    let n = e.elements().count();
    for i in 0..n {
        path.push(i);
        let done = update_xml_child(root, path, update, t);
        path.pop();
        if done {
            return true;
        }
    }
    false
}

/// Pacemaker's `pcmk__xml_update`: attributes merged in, children matched
/// by name and id (or `id-ref`, or name alone) and merged recursively,
/// unmatched children created at the end.
fn xml_update(root: &mut Element, path: &[usize], update: &Element, t: &mut Tracker) {
    copy_in_properties(root, path, update, t);
    for child in &update.children {
        match child {
            Node::Comment(c) => {
                let target = el(root, path);
                let present = target.children.iter().any(|n| matches!(n, Node::Comment(x) if x.eq_ignore_ascii_case(c)));
                if !present {
                    t.copied();
                    el_mut(root, path).children.push(Node::Comment(c.clone()));
                }
            }
            Node::Element(uc) => {
                let target = el(root, path);
                let key = match (uc.id(), uc.attr("id-ref")) {
                    (Some(id), _) => Some(("id", id)),
                    (None, Some(r)) => Some(("id-ref", r)),
                    (None, None) => None,
                };
                let found = target
                    .element_position(|c| c.name == uc.name && key.is_none_or(|(k, v)| c.attr(k) == Some(v)));
                let cp = match found {
                    Some(i) => child_path(path, i),
                    None => append_new(root, path, &uc.name),
                };
                xml_update(root, &cp, uc, t);
            }
            _ => {}
        }
    }
}

fn modify(root: &mut Element, section: Option<&str>, input: Option<&Element>, allow_create: bool, t: &mut Tracker) -> Result<(), Failure> {
    let input = input.ok_or(CibError::InvalidArgument)?;
    let mut obj = find_section(root, section);
    if obj.is_none() {
        let parent = section_parent(section).ok_or(CibError::InvalidArgument)?;
        if let Some(p) = xpath::select(parent, root).into_iter().next() {
            append_copy(root, &p, &Element::new(section.unwrap_or_default()), t);
        }
        obj = find_section(root, section);
    }
    let mut obj = obj.ok_or(CibError::InvalidArgument)?;
    if !update_xml_child(root, &mut obj, input, t) {
        if !allow_create {
            return Err(CibError::NoSuchObject.into());
        }
        append_copy(root, &obj, input, t);
    }
    Ok(())
}

// ---- create -------------------------------------------------------------

/// Pacemaker's `update_cib_object`: the object is found among the parent's
/// children (or created) and every attribute and child is set one by one,
/// so the whole new subtree counts as changed.
fn update_cib_object(root: &mut Element, parent: &[usize], update: &Element, t: &mut Tracker) -> Result<(), CibError> {
    let p = el(root, parent);
    let found = match update.id() {
        None => p.element_position(|c| c.name == update.name),
        Some(id) => p.element_position(|c| c.name == update.name && c.id() == Some(id)),
    };
    let target = match found {
        Some(i) => child_path(parent, i),
        None => append_new(root, parent, &update.name),
    };
    let mut update = update.clone();
    if let Some(replace) = update.remove_attr("replace") {
        for item in replace.split(',').filter(|s| !s.is_empty()) {
            if let Some(i) = el(root, &target).element_position(|c| c.name == item) {
                remove(root, &child_path(&target, i), t);
            }
        }
        if el(root, &target).attr("replace").is_some() {
            t.chain(root, &target);
            el_mut(root, &target).remove_attr("replace");
        }
    }
    copy_in_properties(root, &target, &update, t);
    let mut result = Ok(());
    for child in update.children.iter().filter_map(as_element) {
        let r = update_cib_object(root, &target, &child, t);
        if result.is_ok() {
            result = r;
        }
    }
    result
}

fn add_cib_object(root: &mut Element, parent: Option<&Path>, obj: &Element, t: &mut Tracker) -> Result<(), CibError> {
    let parent = parent.ok_or(CibError::InvalidArgument)?;
    let p = el(root, parent);
    let exists = match obj.id() {
        None => p.child(&obj.name).is_some(),
        Some(id) => p.elements().any(|c| c.name == obj.name && c.id() == Some(id)),
    };
    if exists {
        return Err(CibError::Exists);
    }
    update_cib_object(root, parent, obj, t)
}

/// The `<failed_update>` entry Pacemaker reports for each object a create
/// could not add.
fn failed_update(obj: &Element, error: CibError) -> Element {
    let mut f = Element::new("failed_update").with_child(obj.clone());
    if let Some(id) = obj.id() {
        f.set_attr("id", id);
    }
    f.set_attr("object_type", obj.name.clone());
    f.set_attr("operation", "cib_create");
    f.set_attr("reason", error.to_string());
    f
}

fn create(root: &mut Element, section: Option<&str>, input: Option<&Element>, t: &mut Tracker) -> Result<(), Failure> {
    let section = match section {
        Some(s) if s.eq_ignore_ascii_case("all") || s.eq_ignore_ascii_case("cib") => None,
        _ if input.is_some_and(|i| i.name.eq_ignore_ascii_case("cib")) => None,
        s => s,
    };
    let input = input.ok_or(CibError::InvalidArgument)?;
    let Some(section) = section else {
        return modify(root, None, Some(input), false, t);
    };
    let target = find_section(root, Some(section));
    let mut failed = Element::new("failed");
    let mut result = Ok(());
    if input.name.eq_ignore_ascii_case(section) {
        for child in input.children.iter().filter_map(as_element) {
            result = add_cib_object(root, target.as_ref(), &child, t);
            if let Err(e) = result {
                failed.children.push(Node::Element(failed_update(&child, e)));
                break;
            }
        }
    } else {
        result = add_cib_object(root, target.as_ref(), input, t);
        if let Err(e) = result {
            failed.children.push(Node::Element(failed_update(input, e)));
        }
    }
    result.map_err(|error| Failure { error, output: Some(Box::new(failed)), rejected: None })
}

// ---- delete and replace --------------------------------------------------

/// Pacemaker's `replace_xml_child`: depth first below `path` (not the
/// search root itself), the first element whose name matches (ignoring
/// case) and whose id matches (or the update has none) is replaced by the
/// update, or deleted if `delete` — then every attribute of the update must
/// also match, values compared ignoring case.
fn replace_xml_child(root: &mut Element, path: &mut Path, update: &Element, delete: bool, t: &mut Tracker) -> bool {
    let n = el(root, path).elements().count();
    for i in 0..n {
        path.push(i);
        let e = el(root, path);
        let mut matches = update.id().is_none_or(|id| e.id() == Some(id)) && update.name.eq_ignore_ascii_case(&e.name);
        if matches && delete {
            matches = update.attrs().all(|(k, v)| e.attr(k).is_some_and(|x| x.eq_ignore_ascii_case(v)));
        }
        if matches {
            if delete {
                remove(root, path, t);
            } else {
                let old = e.clone();
                let mut new = update.clone();
                // Pacemaker compares the replacement with what it replaces;
                // any difference marks it and its ancestors.
                if !equivalent(&old, &new) {
                    t.chain(root, path);
                }
                std::mem::swap(el_mut(root, path), &mut new);
            }
            path.pop();
            return true;
        }
        let done = replace_xml_child(root, path, update, delete, t);
        path.pop();
        if done {
            return true;
        }
    }
    false
}

fn delete(root: &mut Element, section: Option<&str>, input: Option<&Element>, t: &mut Tracker) -> Result<(), Failure> {
    let input = input.ok_or(CibError::InvalidArgument)?;
    let Some(mut obj) = find_section(root, section) else { return Ok(()) };
    if section.is_some_and(|s| input.name.eq_ignore_ascii_case(s)) {
        for child in input.children.iter().filter_map(as_element) {
            replace_xml_child(root, &mut obj, &child, true, t);
        }
    } else {
        replace_xml_child(root, &mut obj, input, true, t);
    }
    Ok(())
}

fn replace(root: &mut Element, current: &Element, section: Option<&str>, input: Option<&Element>, t: &mut Tracker) -> Result<(), Failure> {
    let input = input.ok_or(CibError::InvalidArgument)?;
    let section = section.filter(|s| !s.eq_ignore_ascii_case("all") && !s.eq_ignore_ascii_case(&input.name));
    if input.name.eq_ignore_ascii_case("cib") {
        let v = |e: &Element, name| int_attr(e.attr(name), -1);
        let mine = (v(current, "admin_epoch"), v(current, "epoch"), v(current, "num_updates"));
        let theirs = (v(input, "admin_epoch"), v(input, "epoch"), v(input, "num_updates"));
        if theirs < mine {
            return Err(CibError::OldData.into());
        }
        *root = input.clone();
        infer_changes(current, root, t);
        return Ok(());
    }
    let Some(mut obj) = find_section(root, section) else { return Err(CibError::NoSuchObject.into()) };
    if !replace_xml_child(root, &mut obj, input, false, t) {
        return Err(CibError::NoSuchObject.into());
    }
    Ok(())
}

/// Equality as Pacemaker's change detection (`mark_xml_changes`) sees it:
/// attribute order does not matter; children are paired by name and id
/// (the first element with the same name and id, or the same name when
/// there is no id; comments by position and content), a child paired
/// twice is compared once, and a paired child at another position counts
/// as moved. With duplicate ids this reports changes a plain comparison
/// would not, and so does Pacemaker.
fn equivalent(a: &Element, b: &Element) -> bool {
    if a.name != b.name || a.attr_count() != b.attr_count() || a.attrs().any(|(k, v)| b.attr(k) != Some(v)) {
        return false;
    }
    let kids = |e: &Element| -> Vec<Node> {
        e.children.iter().filter(|n| matches!(n, Node::Element(_) | Node::Comment(_))).cloned().collect()
    };
    let (old, new) = (kids(a), kids(b));
    let pair = |hay: &[Node], needle: &Node, pos: usize| -> Option<usize> {
        match needle {
            Node::Element(n) => hay.iter().position(|h| match h {
                Node::Element(h) => h.name == n.name && n.id().is_none_or(|id| h.id() == Some(id)),
                _ => false,
            }),
            Node::Comment(c) => {
                matches!(hay.get(pos), Some(Node::Comment(h)) if h.eq_ignore_ascii_case(c)).then_some(pos)
            }
            _ => None,
        }
    };
    let mut processed = vec![false; new.len()];
    for (i, o) in old.iter().enumerate() {
        let Some(j) = pair(&new, o, i) else { return false };
        if std::mem::replace(&mut processed[j], true) {
            continue;
        }
        if let (Node::Element(x), Node::Element(y)) = (o, &new[j]) {
            if !equivalent(x, y) {
                return false;
            }
        }
    }
    new.iter().enumerate().all(|(j, n)| pair(&old, n, j) == Some(j))
}

/// Marks for a document replaced as a whole (`-R` of `<cib>`, `-E`):
/// Pacemaker compares old and new trees.
fn infer_changes(old: &Element, new: &Element, t: &mut Tracker) {
    if !equivalent(old, new) {
        t.doc = true;
    }
    let config = |e: &Element| e.child("configuration").cloned();
    match (config(old), config(new)) {
        (Some(a), Some(b)) if equivalent(&a, &b) => {}
        (None, None) => {}
        _ => t.config = true,
    }
}

/// Pacemaker's `cib_process_erase`: an empty CIB carrying the old one's
/// attributes, with `admin_epoch` raised.
fn erase(current: &Element) -> Element {
    let mut e = empty_cib(0);
    let mut scratch = Tracker::default();
    for (k, v) in current.attrs() {
        expand_plus_plus(&mut e, &[], k, v, false, &mut scratch);
    }
    let admin = counter_plus_one(current.attr("admin_epoch"));
    e.set_attr("admin_epoch", admin);
    e
}

/// Pacemaker's `createEmptyCib`.
pub fn empty_cib(epoch: u32) -> Element {
    let config = Element::new("configuration")
        .with_child(Element::new("crm_config"))
        .with_child(Element::new("nodes"))
        .with_child(Element::new("resources"))
        .with_child(Element::new("constraints"));
    Element::new("cib")
        .with_attr("crm_feature_set", FEATURE_SET)
        .with_attr("validate-with", LATEST_SCHEMA)
        .with_attr("epoch", epoch.to_string())
        .with_attr("num_updates", "0")
        .with_attr("admin_epoch", "0")
        .with_child(config)
        .with_child(Element::new("status"))
}

// ---- XPath writes -----------------------------------------------------------

fn xpath_write(
    root: &mut Element,
    command: Command,
    expr: &str,
    input: Option<&Element>,
    multiple: bool,
    t: &mut Tracker,
) -> Result<(), Failure> {
    let mut matches = xpath::select(expr, root);
    if matches.is_empty() {
        return if command == Command::Delete { Ok(()) } else { Err(CibError::NoSuchObject.into()) };
    }
    match command {
        Command::Delete => {
            if multiple {
                // Drop matches inside other matches: deleting the outer one removes them.
                let all = matches.clone();
                matches.retain(|m| !all.iter().any(|a| a.len() < m.len() && m.starts_with(a)));
            } else {
                matches.truncate(1);
            }
            if matches.iter().any(|m| m.is_empty()) {
                // Deleting the whole /cib: Pacemaker refuses at that match,
                // after deleting the ones before it (none: /cib comes first).
                return Err(CibError::InvalidArgument.into());
            }
            // Later matches first, so earlier paths stay valid.
            for m in matches.iter().rev() {
                remove(root, m, t);
            }
            Ok(())
        }
        Command::Modify => {
            let mut rc = Ok(());
            for m in matches {
                let ok = match input {
                    Some(input) => update_xml_child(root, &mut m.clone(), input, t),
                    None => false,
                };
                if !ok {
                    rc = Err(CibError::NoSuchObject.into());
                } else if !multiple {
                    break;
                }
            }
            rc
        }
        Command::Replace => {
            let m = &matches[0];
            let Some((_, parent)) = m.split_last() else { return Err(CibError::InvalidArgument.into()) };
            remove(root, m, t);
            if let Some(input) = input {
                append_copy(root, parent, input, t);
            }
            Ok(())
        }
        _ => unreachable!("only modify, replace and delete take XPath writes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::xml::parse_element;

    fn base() -> Element {
        parse_element(
            r#"<cib admin_epoch="0" epoch="5" num_updates="3"><configuration><crm_config/><nodes/>
            <resources><primitive id="r1" class="ocf" type="Dummy"><meta_attributes id="m"><nvpair id="n" name="target-role" value="Started"/></meta_attributes></primitive></resources>
            <constraints/></configuration><status/></cib>"#,
        )
        .unwrap()
    }

    fn run(cmd: Command, section: Option<&str>, input: &str) -> Result<Success, Failure> {
        let req = Request {
            command: Some(cmd),
            section: section.map(str::to_string),
            input: (!input.is_empty()).then(|| parse_element(input).unwrap()),
            ..Default::default()
        };
        perform(&base(), &req, &|_| true)
    }

    fn version(r: &Result<Success, Failure>) -> String {
        let c = r.as_ref().unwrap().cib.as_ref().unwrap();
        format!("{}.{}.{}", c.attr("admin_epoch").unwrap(), c.attr("epoch").unwrap(), c.attr("num_updates").unwrap())
    }

    #[test]
    fn version_bumps_follow_change_tracking() {
        assert_eq!(version(&run(Command::Create, Some("resources"), r#"<primitive id="r2" class="ocf" type="D"/>"#)), "0.6.0");
        assert_eq!(version(&run(Command::Modify, None, r#"<nvpair id="n" value="Stopped"/>"#)), "0.6.0");
        assert_eq!(version(&run(Command::Modify, None, r#"<nvpair id="n" value="Started"/>"#)), "0.5.3");
        assert_eq!(version(&run(Command::Bump, None, "")), "0.6.4");
        assert_eq!(version(&run(Command::Delete, None, r#"<primitive id="nothing"/>"#)), "0.5.3");
        assert_eq!(version(&run(Command::Modify, None, r#"<cib admin_epoch="admin_epoch++"/>"#)), "1.5.4");
        let req = Request {
            command: Some(Command::Modify),
            section: Some("resources".into()),
            input: Some(parse_element(r#"<primitive id="r9"/>"#).unwrap()),
            allow_create: true,
            ..Default::default()
        };
        let r = perform(&base(), &req, &|_| true);
        assert_eq!(version(&r), "0.5.4", "a copied-in subtree is not a configuration change");
    }

    #[test]
    fn create_reports_existing_objects() {
        let f = run(Command::Create, Some("resources"), r#"<primitive id="r1"/>"#).unwrap_err();
        assert_eq!(f.error, CibError::Exists);
        assert_eq!(
            f.output.unwrap().to_xml_compact(),
            r#"<failed><failed_update id="r1" object_type="primitive" operation="cib_create" reason="File exists"><primitive id="r1"/></failed_update></failed>"#
        );
    }

    #[test]
    fn plus_plus_and_scores() {
        let r = run(Command::Modify, None, r#"<primitive id="r1" class="class+=INFINITY" x="x++"/>"#).unwrap();
        let c = r.cib.unwrap();
        let p = c.find_id("r1").unwrap();
        assert_eq!(p.attr("class"), Some("1000000"));
        assert_eq!(p.attr("x"), Some("1"), "self-expanded by the whole-CIB pass");
        assert_eq!(strtoll("  -12abc"), -12);
        assert_eq!(score("99999999999"), INFINITY);
    }

    #[test]
    fn delete_matches_names_and_values_ignoring_case() {
        let r = run(Command::Delete, None, r#"<NVPAIR name="TARGET-ROLE"/>"#).unwrap();
        assert!(r.cib.unwrap().find_id("n").is_none());
    }

    #[test]
    fn whole_replace_checks_versions() {
        let older = r#"<cib admin_epoch="0" epoch="4" num_updates="9"><configuration/></cib>"#;
        assert_eq!(run(Command::Replace, None, older).unwrap_err().error, CibError::OldData);
        let same_cfg = base().to_xml().replace(r#"epoch="5" num_updates="3""#, r#"epoch="9" num_updates="7""#);
        assert_eq!(version(&run(Command::Replace, None, &same_cfg)), "0.9.8");
    }

    #[test]
    fn schema_failures_carry_the_rejected_result() {
        let req = Request {
            command: Some(Command::Bump),
            ..Default::default()
        };
        let f = perform(&base(), &req, &|_| false).unwrap_err();
        assert_eq!(f.error, CibError::SchemaValidation);
        assert_eq!(f.rejected.unwrap().attr("epoch"), Some("6"));
    }
}
