//! Heartbeat's `hb_standby` and `hb_takeover [all|foreign|local|failback]`
//! over this project's CRM-based cluster (docs/TOOLS.md, "hb_standby /
//! hb_takeover").
//!
//! Heartbeat 1 sent its own daemon a message: give up (standby) or take
//! (takeover) all resources, those whose haresources line names this node
//! (`local`), or those of the other node (`foreign`; `failback` is
//! `foreign` for standby and, here, `local` for takeover: in both cases
//! resources go back home). Our cluster runs haresources through the CIB
//! that haresources2cib writes, where a resource's home is the node its
//! location constraint prefers, so the same requests become CIB edits the
//! policy engine obeys:
//!
//! ```text
//!  hb_standby all      node attribute standby=on          (the node runs nothing)
//!  hb_standby local    cli-ban-RSC-on-NODE for each resource at home here
//!  hb_standby foreign  cli-ban-RSC-on-NODE for each resource at home elsewhere
//!  hb_takeover all     standby off, cli-prefer-RSC to NODE for every resource
//!  hb_takeover local   standby off, cli-prefer-RSC to NODE for resources at home here
//!  hb_takeover foreign standby off, cli-prefer-RSC to NODE for resources at home elsewhere
//!                      (+ a 5-minute cli-ban-RSC-on-OTHER where one runs elsewhere)
//! ```
//!
//! A takeover must make the other node let go even when stickiness is
//! INFINITY (haresources' `auto_failback off`), which a preference alone
//! cannot outweigh; so, as `crm_resource -M --force` does, the node a
//! resource runs on now is banned too, but only for [`RELEASE_TIME`]:
//! long enough for the move, short enough that the other node is a
//! failover target again soon after (Heartbeat's takeover was a one-time
//! move, not a permanent pin).
//!
//! Each undoes the other for the resources it names (a standby drops this
//! node's `cli-prefer` and the takeover's time-limited bans, a takeover
//! this node's `cli-ban`), so they alternate
//! cleanly; the constraints are crm_resource's own (`-M`/`-B`, cleared by
//! `-U`). Clones run everywhere and have no home: only `all` (standby)
//! affects them. NODE is this node (`HA_NODENAME`, else `uname -n`); the
//! CIB is `CIB_file`/`CIB_shadow`, else the live cluster.

use cib::Element;

use crate::attribute::{self, Scope, Target};
use crate::cib_file::{rejected_listing, Context, Outcome, WriteError};
use crate::resource_edit::location::{ban_id, constraint, lifetime_end, prefer_id, put, remove_id};
use crate::resource_edit::status::active_nodes;
use crate::ExitCode;

/// How long a takeover bans the node a resource runs on (ISO 8601).
pub const RELEASE_TIME: &str = "PT5M";

/// Which of the two scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Standby,
    Takeover,
}

/// The resources a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    All,
    Foreign,
    Local,
}

impl Which {
    pub fn name(self) -> &'static str {
        match self {
            Which::All => "all",
            Which::Foreign => "foreign",
            Which::Local => "local",
        }
    }
}

/// The scripts' argument check, with their messages: `$0: too many
/// arguments` / `$0: wrong resources(X).` and the usage (first line on
/// stdout, second on stderr), exit 1.
pub fn parse(cmd: Command, argv: &[String]) -> Result<Which, Outcome> {
    let prog = argv.first().map(String::as_str).unwrap_or(match cmd {
        Command::Standby => "hb_standby",
        Command::Takeover => "hb_takeover",
    });
    let usage = |mut o: Outcome| {
        o.out("usage:\n");
        o.err(&format!("{prog} [all|foreign|local|failback]\n"));
        o.exit(ExitCode::Error)
    };
    let args = argv.get(1..).unwrap_or_default();
    if args.len() >= 2 {
        let mut o = Outcome::default();
        o.out(&format!("{prog}: too many arguments\n"));
        return Err(usage(o));
    }
    let word = args.first().map(String::as_str).unwrap_or("all");
    match word {
        "all" => Ok(Which::All),
        "foreign" => Ok(Which::Foreign),
        "local" => Ok(Which::Local),
        "failback" => Ok(match cmd {
            Command::Standby => Which::Foreign,
            Command::Takeover => Which::Local,
        }),
        "--help" => Err(usage(Outcome::default())),
        other => {
            let mut o = Outcome::default();
            o.out(&format!("{prog}: wrong resources({other}).\n"));
            Err(usage(o))
        }
    }
}

/// Runs `hb_standby` or `hb_takeover` with `argv` (program name first).
pub fn run(cmd: Command, argv: &[String], ctx: &Context) -> Outcome {
    let which = match parse(cmd, argv) {
        Ok(w) => w,
        Err(o) => return o,
    };
    let tool = match cmd {
        Command::Standby => "hb_standby",
        Command::Takeover => "hb_takeover",
    };
    let mut o = Outcome::default();
    let Some(node) = ctx.local_node.clone() else {
        o.err(&format!("{tool}: cannot tell which node this is (set HA_NODENAME)\n"));
        return o.exit(ExitCode::InvalidParam);
    };
    let file = match ctx.cib() {
        Ok(f) => f,
        Err(u) => {
            let (msg, code) = u.report(tool);
            o.err(&msg);
            return o.exit(code);
        }
    };
    if cmd == Command::Standby {
        // Heartbeat logs this (to the terminal when run from one).
        o.err(&format!("Going standby [{}].\n", which.name()));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let result = file.edit(|cib| apply(cib, cmd, which, &node, now));
    match result {
        Ok(()) => o,
        Err(WriteError::Edit(msg)) => {
            o.err(&format!("{tool}: {msg}\n"));
            o.exit(ExitCode::NoSuch)
        }
        Err(WriteError::Invalid(rejected)) => {
            o.err(&rejected_listing(&rejected));
            o.err(&format!("{tool}: Error performing operation: Invalid configuration\n"));
            o.exit(ExitCode::Config)
        }
        Err(WriteError::Unavailable(u)) => {
            let (msg, code) = u.report(tool);
            o.err(&msg);
            o.exit(code)
        }
    }
}

/// The CIB edit itself (pure: tests call it on an element); `now`
/// (epoch seconds) dates the takeover's temporary bans.
pub fn apply(cib: &mut Element, cmd: Command, which: Which, node: &str, now: i64) -> Result<(), String> {
    let Some(node_id) = attribute::node_id(cib, node) else {
        return Err(format!("node '{node}' is not in the cluster configuration"));
    };
    let standby = Target { scope: Some(Scope::Nodes), node_id: Some(node_id.clone()), attr_name: Some("standby".into()), ..Default::default() };
    let targets: Vec<String> = movable(cib).into_iter().filter(|(_, home)| selected(which, home.as_deref(), node)).map(|(r, _)| r).collect();
    match cmd {
        Command::Standby => {
            if which == Which::All {
                attribute::update(cib, &standby, "on").map_err(|e| format!("{e:?}"))?;
            }
            for rsc in &targets {
                drop_prefer_here(cib, rsc, node);
                drop_release_bans(cib, rsc);
                if which != Which::All {
                    put(cib, constraint(rsc, node, true, None));
                }
            }
        }
        Command::Takeover => {
            // Taking anything over means running here again.
            for scope in [Scope::Nodes, Scope::Status] {
                let t = Target { scope: Some(scope), ..standby.clone() };
                attribute::delete(cib, &t).map_err(|e| format!("{e:?}"))?;
            }
            let until = lifetime_end(RELEASE_TIME, now).expect("a valid duration");
            for rsc in &targets {
                let elsewhere: Vec<String> = active_nodes(cib, rsc).into_iter().filter(|n| !n.eq_ignore_ascii_case(node)).collect();
                remove_id(cib, &ban_id(rsc, node));
                put(cib, constraint(rsc, node, false, None));
                for other in elsewhere {
                    put(cib, constraint(rsc, &other, true, Some(&until)));
                }
            }
        }
    }
    Ok(())
}

/// Removes `cli-prefer-RSC` when it pins the resource to `node`.
fn drop_prefer_here(cib: &mut Element, rsc: &str, node: &str) {
    let id = prefer_id(rsc);
    let here = constraints(cib).any(|c| c.id() == Some(id.as_str()) && c.attr("node").is_some_and(|n| n.eq_ignore_ascii_case(node)));
    if here {
        remove_id(cib, &id);
    }
}

/// Removes the time-limited `cli-ban-RSC-on-*` a takeover left on other
/// nodes, so that giving a resource up lets it go there at once.
fn drop_release_bans(cib: &mut Element, rsc: &str) {
    let prefix = format!("cli-ban-{rsc}-on-");
    let ids: Vec<String> = constraints(cib)
        .filter(|c| c.id().is_some_and(|i| i.starts_with(&prefix)) && c.child("rule").is_some())
        .filter_map(|c| c.id().map(str::to_string))
        .collect();
    for id in ids {
        remove_id(cib, &id);
    }
}

fn selected(which: Which, home: Option<&str>, node: &str) -> bool {
    match which {
        Which::All => true,
        Which::Local => home.is_some_and(|h| h.eq_ignore_ascii_case(node)),
        Which::Foreign => home.is_some_and(|h| !h.eq_ignore_ascii_case(node)),
    }
}

fn constraints(cib: &Element) -> impl Iterator<Item = &Element> {
    cib.child("configuration").and_then(|c| c.child("constraints")).into_iter().flat_map(|c| c.children_named("rsc_location"))
}

/// Top-level resources that can be moved (primitives and groups, not
/// clones), with their home node.
pub fn movable(cib: &Element) -> Vec<(String, Option<String>)> {
    let Some(resources) = cib.child("configuration").and_then(|c| c.child("resources")) else { return Vec::new() };
    resources
        .elements()
        .filter(|e| matches!(e.name.as_str(), "primitive" | "group"))
        .filter_map(|e| e.id().map(str::to_string))
        .map(|id| {
            let home = home(cib, &id);
            (id, home)
        })
        .collect()
}

/// A resource's home: the node its location constraints prefer most
/// (a positive score on a fixed node, or a rule that is just
/// `#uname eq NODE`, as haresources2cib writes them). crm_resource's own
/// `cli-*` constraints are moves, not homes.
pub fn home(cib: &Element, rsc: &str) -> Option<String> {
    let mut best: Option<(i64, String)> = None;
    for c in constraints(cib).filter(|c| c.attr("rsc") == Some(rsc) && !c.id().unwrap_or_default().starts_with("cli-")) {
        let mut candidates: Vec<(i64, String)> = Vec::new();
        if let (Some(n), Some(s)) = (c.attr("node"), c.attr("score")) {
            candidates.push((score(s), n.to_string()));
        }
        for rule in c.children_named("rule") {
            let exprs: Vec<&Element> = rule.elements().collect();
            let [e] = exprs.as_slice() else { continue };
            if e.name == "expression" && e.attr("attribute") == Some("#uname") && e.attr("operation") == Some("eq") {
                if let (Some(v), Some(s)) = (e.attr("value"), rule.attr("score")) {
                    candidates.push((score(s), v.to_string()));
                }
            }
        }
        for (s, n) in candidates {
            if s > 0 && best.as_ref().is_none_or(|(b, _)| s > *b) {
                best = Some((s, n));
            }
        }
    }
    best.map(|(_, n)| n)
}

fn score(s: &str) -> i64 {
    i64::from(cib::model::Score::parse(s).value())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(xml: &str) -> Element {
        cib::xml::parse_element(xml).expect("well-formed XML")
    }

    const CIB: &str = r##"<cib epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/>
<nodes><node id="u1" uname="node1"/><node id="u2" uname="node2"/></nodes>
<resources>
  <group id="group_1"><primitive id="IPaddr_1" class="ocf" provider="heartbeat" type="IPaddr"/></group>
  <primitive id="httpd_2" class="lsb" type="httpd"/>
  <primitive id="free" class="ocf" provider="heartbeat" type="Dummy"/>
  <clone id="c"><primitive id="p" class="ocf" provider="heartbeat" type="Dummy"/></clone>
</resources>
<constraints>
  <rsc_location id="rsc_location_group_1" rsc="group_1"><rule id="prefered_location_group_1" score="100"><expression attribute="#uname" id="e1" operation="eq" value="node1"/></rule></rsc_location>
  <rsc_location id="loc2" rsc="httpd_2" node="node2" score="50"/>
</constraints></configuration><status/></cib>"##;

    fn ids(cib: &Element) -> Vec<String> {
        constraints(cib).filter_map(|c| c.id().map(str::to_string)).collect()
    }

    #[test]
    fn homes_come_from_location_preferences() {
        let cib = element(CIB);
        assert_eq!(
            movable(&cib),
            vec![("group_1".into(), Some("node1".into())), ("httpd_2".into(), Some("node2".into())), ("free".into(), None)]
        );
    }

    #[test]
    fn standby_and_takeover_alternate() {
        let mut cib = element(CIB);
        apply(&mut cib, Command::Standby, Which::Foreign, "node1", 0).unwrap();
        assert!(ids(&cib).contains(&"cli-ban-httpd_2-on-node1".to_string()));
        assert!(!ids(&cib).iter().any(|i| i.contains("group_1") && i.starts_with("cli-")));
        apply(&mut cib, Command::Takeover, Which::Foreign, "node1", 0).unwrap();
        assert!(!ids(&cib).contains(&"cli-ban-httpd_2-on-node1".to_string()));
        assert!(ids(&cib).contains(&"cli-prefer-httpd_2".to_string()));
        apply(&mut cib, Command::Standby, Which::All, "node1", 0).unwrap();
        assert!(!ids(&cib).contains(&"cli-prefer-httpd_2".to_string()), "a standby drops this node's preferences");
        assert!(cib.to_xml().contains(r#"name="standby" value="on""#));
        apply(&mut cib, Command::Takeover, Which::Local, "node1", 0).unwrap();
        assert!(!cib.to_xml().contains(r#"name="standby""#), "a takeover ends the standby");
        assert!(ids(&cib).contains(&"cli-prefer-group_1".to_string()));
        assert!(!ids(&cib).contains(&"cli-prefer-free".to_string()), "free has no home");
        assert!(apply(&mut cib, Command::Standby, Which::All, "node9", 0).is_err());
    }

    #[test]
    fn arguments_as_the_scripts_check_them() {
        let argv = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse(Command::Standby, &argv(&["hb_standby"])).unwrap(), Which::All);
        assert_eq!(parse(Command::Standby, &argv(&["hb_standby", "failback"])).unwrap(), Which::Foreign);
        assert_eq!(parse(Command::Takeover, &argv(&["hb_takeover", "failback"])).unwrap(), Which::Local);
        let e = parse(Command::Standby, &argv(&["/usr/share/heartbeat/hb_standby", "x"])).unwrap_err();
        assert_eq!(e.stdout, "/usr/share/heartbeat/hb_standby: wrong resources(x).\nusage:\n");
        assert_eq!(e.stderr, "/usr/share/heartbeat/hb_standby [all|foreign|local|failback]\n");
        assert_eq!(e.code, 1);
        let e = parse(Command::Takeover, &argv(&["hb_takeover", "a", "b"])).unwrap_err();
        assert_eq!(e.stdout, "hb_takeover: too many arguments\nusage:\n");
    }
}
