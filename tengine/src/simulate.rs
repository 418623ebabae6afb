//! The simulated sink of crm_simulate: every action succeeds (unless told
//! to fail) and is printed as a line of the "Executing Cluster Transition:"
//! section, exactly as Pacemaker 2.1.5 prints it:
//!
//! ```text
//!   * Resource action: rsc1            stop on node1
//!   * Resource action: rsc1            monitor=10000 on node1
//!   * Pseudo action:   grp_stopped_0
//!   * Pseudo action:   stonith-lxc1-reboot on lxc1
//!   * Fencing node2 (reboot)
//!   * Cluster action:  do_shutdown on node1
//!   * Cluster action:  clear_failcount for rsc2 on node1
//! ```
//!
//! Changes to the simulated CIB (history entries, node states) are not made
//! here: that is the caller's business, after or alongside the run.

use std::collections::HashSet;

use crate::executor::ActionResult;
use crate::graph::{Action, TransitionGraph};
use crate::sink::ActionSink;

/// Decides whether a resource name is known to the cluster (see
/// [`SimulatedSink::with_resolver`]).
pub type Resolver = Box<dyn Fn(&str) -> bool>;

/// Prints actions as crm_simulate does and reports them successful.
pub struct SimulatedSink {
    /// The lines printed so far, without line ends.
    pub lines: Vec<String>,
    known: Resolver,
    /// Ids of actions to report as failed (crm_simulate's injected failures).
    failing: HashSet<i32>,
}

impl SimulatedSink {
    /// A sink that names resources by what the graph itself reveals (see
    /// [`known_in_graph`]).
    pub fn for_graph(graph: &TransitionGraph) -> Self {
        let known = known_in_graph(graph);
        Self::with_resolver(Box::new(move |name| known.contains(name)))
    }

    /// A sink that names resources using `known`, which says whether the
    /// cluster has a resource by that name (an id, or the name a clone
    /// instance's history goes by). crm_simulate prints a resource action
    /// under the action's `id` if the cluster knows it by that name, else
    /// under its `long-id` if known, else under its `id`.
    pub fn with_resolver(known: Resolver) -> Self {
        SimulatedSink {
            lines: Vec::new(),
            known,
            failing: HashSet::new(),
        }
    }

    /// Makes the action with this id fail when executed.
    pub fn fail_action(&mut self, id: i32) {
        self.failing.insert(id);
    }

    fn result(&self, action: &Action) -> ActionResult {
        if self.failing.contains(&action.id()) {
            ActionResult::Failed
        } else {
            ActionResult::Ok
        }
    }

    fn node(action: &Action) -> &str {
        action.header.on_node.as_deref().unwrap_or("(null)")
    }
}

impl ActionSink for SimulatedSink {
    fn rsc(&mut self, action: &Action) -> ActionResult {
        let op = action.header.operation.as_str();
        // A reprobe is neither shown nor recorded.
        if op == "reprobe" {
            return self.result(action);
        }
        let Some(rsc) = &action.resource else {
            // Pacemaker refuses a resource action without a resource.
            return ActionResult::Failed;
        };
        let mut name = rsc.id.as_str();
        if !(self.known)(name) {
            if let Some(long) = rsc.long_id.as_deref().filter(|l| (self.known)(l)) {
                name = long;
            }
        }
        // Deletions and meta-data calls are shown without an interval.
        let interval = if op.eq_ignore_ascii_case("delete") || op.eq_ignore_ascii_case("meta-data")
        {
            0
        } else {
            action.interval_ms()
        };
        let node = Self::node(action);
        self.lines.push(if interval == 0 {
            format!("  * Resource action: {name:<15} {op} on {node}")
        } else {
            format!("  * Resource action: {name:<15} {op}={interval} on {node}")
        });
        self.result(action)
    }

    fn pseudo(&mut self, action: &Action) {
        let key = &action.header.operation_key;
        self.lines.push(match &action.header.on_node {
            Some(node) => format!("  * Pseudo action:   {key} on {node}"),
            None => format!("  * Pseudo action:   {key}"),
        });
    }

    fn fence(&mut self, action: &Action) -> ActionResult {
        let how = action.meta("stonith_action").unwrap_or("(null)");
        self.lines
            .push(format!("  * Fencing {} ({how})", Self::node(action)));
        self.result(action)
    }

    fn cluster(&mut self, action: &Action) -> ActionResult {
        let task = &action.header.operation;
        let node = Self::node(action);
        self.lines.push(match &action.resource {
            Some(rsc) => format!("  * Cluster action:  {task} for {} on {node}", rsc.id),
            None => format!("  * Cluster action:  {task} on {node}"),
        });
        self.result(action)
    }
}

/// The resource names a CIB's status section shows the cluster knows: the
/// `lrm_resource` ids of every node's history. An anonymous clone instance
/// with history goes by the bare clone-child id there, which is the one
/// thing [`known_in_graph`] cannot see; the union of the two is what the
/// suite needs to name every resource as crm_simulate does.
pub fn known_in_status(cib: &cib::xml::Element) -> HashSet<String> {
    cib.descendants()
        .filter(|e| e.name == "lrm_resource")
        .filter_map(|e| e.attr("id"))
        .map(String::from)
        .collect()
}

/// The resource names a graph shows the cluster knows, for naming
/// resources without the CIB at hand:
///
/// - an `id` with no `long-id` (a plain resource, or an orphan instance);
/// - every `long-id` (clone instances exist under their instance names);
/// - an anonymous clone's `id` when some action's `operation_key` is built
///   on it (`rsc_start_0` rather than `rsc:1_start_0`): Pacemaker keys an
///   instance's actions by the name its history goes by, so an instance
///   known by the bare name exists.
///
/// What the graph cannot show is an instance known by the bare name that
/// has no action in this transition; a caller holding the CIB should use
/// [`SimulatedSink::with_resolver`].
pub fn known_in_graph(graph: &TransitionGraph) -> HashSet<String> {
    let mut known = HashSet::new();
    for (_, a) in graph.actions() {
        let Some(rsc) = &a.resource else { continue };
        match &rsc.long_id {
            None => {
                known.insert(rsc.id.clone());
            }
            Some(long) => {
                known.insert(long.clone());
                let bare_key = a
                    .header
                    .operation_key
                    .strip_prefix(rsc.id.as_str())
                    .is_some_and(|rest| rest.starts_with('_'));
                if bare_key {
                    known.insert(rsc.id.clone());
                }
            }
        }
    }
    known
}
