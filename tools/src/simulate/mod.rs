//! crm_simulate's simulated cluster: synthetic events injected into a copy
//! of the CIB before scheduling, and the transition run against that copy
//! afterwards ("Executing Cluster Transition", "Revised Cluster Status"),
//! as Pacemaker 2.1.5 does them (`pcmk_simulate.c`, `pcmk_injections.c`).
//!
//! # Layout
//!
//! ```text
//!  CIB copy --inject::apply(Injections)--> CIB' --(pengine: unpack, schedule)--> graph
//!                                            |                                     |
//!                                            +------ execute(graph, CibSink) <-----+
//!                                                         | prints the actions, edits CIB'
//!                                                         v
//!                                  CIB'' --pengine::unpack--> "Revised Cluster Status"
//! ```
//!
//! - [`inject`]: `--node-up/-down/-fail`, `--op-inject`, `--quorum`,
//!   `--watchdog`, tickets ("Performing Requested Modifications").
//! - [`sink`]: [`CibSink`], the `tengine::ActionSink` that prints through
//!   `tengine::SimulatedSink` and writes each result into the CIB
//!   (`--op-fail` failures included).
//! - [`history`]: the status-section edits both share (node states,
//!   `lrm_rsc_op` entries, fail counts).
//! - [`opspec`]: the `RSC_TASK_INTERVAL@NODE=RC` specifications.
//!
//! No clock is read here: `now` is an argument. docs/SIMULATE.md has the
//! behaviour, tests and decisions.

pub mod history;
pub mod inject;
pub mod opspec;
pub mod sink;

use std::collections::HashSet;

use cib::model::Cib;
use cib::Document;
use pengine::WorkingSet;
use tengine::{RunOutcome, RunStatus, TransitionGraph};

use crate::status::{cluster_status, ShowOptions};

pub use inject::{Applied, Injections};
pub use sink::CibSink;

/// What stops a simulation step (crm_simulate aborts on these).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A node that is neither in the status section nor configured (nor a
    /// remote or guest node) has no id to create its state with.
    #[error("Could not inject node state for {0}: node not found in the CIB")]
    UnknownNode(String),
    #[error("Resource {resource} not found in the status section of {node}.  Please supply the class and type to continue")]
    NoAgent { resource: String, node: String },
    #[error("Invalid class for {resource}: {class}")]
    InvalidClass { resource: String, class: String },
    #[error("Please specify the provider for resource {0}")]
    NoProvider(String),
    /// The edited CIB no longer reads as a CIB.
    #[error("the simulated CIB cannot be read back: {0}")]
    Model(String),
}

/// The names `pe_find_resource` finds in a working set: every resource's
/// id and the names clone instances' histories go by. A resource action
/// is printed, and its history written, under the graph's `id` when this
/// set has it, else under its `long-id` when that is in the set.
pub fn known_resources(ws: &WorkingSet) -> HashSet<String> {
    let mut known = HashSet::new();
    for r in &ws.resources {
        known.insert(r.id.clone());
        if let Some(c) = &r.clone_name {
            known.insert(c.clone());
        }
    }
    known
}

/// The result of running a transition against the simulated CIB.
#[derive(Debug, Clone)]
pub struct Executed {
    /// The "Executing Cluster Transition:" items (and the lines injected
    /// failures add), without the title.
    pub lines: Vec<String>,
    pub outcome: RunOutcome,
    /// What crm_simulate reports on stderr.
    pub errors: Vec<String>,
}

impl Executed {
    /// Pacemaker reports an invalid transition only when the graph could
    /// not finish (its executor calls an aborted run complete).
    pub fn invalid(&self) -> bool {
        self.outcome.status == RunStatus::Terminated
    }
}

/// Runs `graph` against `cib`, which it edits. `known` names the
/// resources (see [`known_resources`]); `op_fail` lists the `--op-fail`
/// specs; `now` (epoch seconds) stamps results.
pub fn execute(cib: &mut Document, graph: &TransitionGraph, known: HashSet<String>, inj: &Injections, now: i64) -> Executed {
    let mut sink = CibSink::new(&mut cib.root, known, inj.op_fail.clone(), now).add_node_config(inj.adds_node_config());
    let outcome = tengine::run(graph, &mut sink);
    let mut errors = sink.errors;
    if outcome.status == RunStatus::Terminated {
        errors.push("Transition failed: terminated".to_string());
        errors.push("An invalid transition was produced".to_string());
    }
    Executed { lines: sink.printer.lines, outcome, errors }
}

/// Unpacks a CIB at `now`.
pub fn unpack(cib: &Document, now: i64) -> Result<WorkingSet, Error> {
    let model = Cib::from_document(cib).map_err(|e| Error::Model(e.to_string()))?;
    Ok(pengine::unpack(&model, now))
}

/// "Revised Cluster Status:" and the cluster as the simulated CIB now
/// shows it, without the final blank line. Unlike the first status,
/// crm_simulate shows no pending operations here.
pub fn revised_status(cib: &Document, now: i64) -> Result<String, Error> {
    let ws = unpack(cib, now)?;
    Ok(cluster_status(&ws, "Revised Cluster Status", ShowOptions { inactive: true, pending: false }))
}

/// The line crm_simulate prints whenever it sets the cluster's date: the
/// date given with `-t` as written, else the CIB's `execution-date`.
pub fn date_notice(set_datetime: Option<&str>, execution_date: Option<i64>) -> Option<String> {
    if let Some(t) = set_datetime {
        return Some(format!("Setting effective cluster time: {t}"));
    }
    let c = pengine::iso8601::Calendar::of(execution_date?);
    Some(format!(
        "Using the original execution date of: {:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        c.year, c.month, c.monthday, c.hour, c.minute, c.second
    ))
}

/// What applying the injections printed: the text for stdout (empty when
/// quiet), the problems for stderr, and what stopped them, if anything.
pub struct InjectStage {
    pub text: String,
    pub errors: Vec<String>,
    pub fatal: Option<Error>,
}

/// Applies the injections to `cib` (see [`inject::apply`]) and renders
/// what crm_simulate prints for them: "Performing Requested
/// Modifications:" with its items, then the date notice again (the
/// modified CIB is re-read) unless an injection failed. `ws` is the
/// cluster before.
pub fn inject_stage(cib: &mut Document, ws: &WorkingSet, inj: &Injections, set_datetime: Option<&str>, quiet: bool) -> InjectStage {
    let applied = inject::apply(&mut cib.root, ws, inj, ws.now);
    let mut stage = InjectStage { text: String::new(), errors: applied.errors, fatal: applied.fatal };
    if quiet {
        return stage;
    }
    stage.text = applied.lines.iter().map(|l| format!("{l}\n")).collect();
    if stage.fatal.is_none() {
        match Cib::from_document(cib) {
            Ok(model) => {
                if let Some(notice) = date_notice(set_datetime, model.execution_date) {
                    stage.text.push_str(&notice);
                    stage.text.push('\n');
                }
            }
            Err(e) => stage.fatal = Some(Error::Model(e.to_string())),
        }
    }
    stage
}

/// crm_simulate works on a copy of its input with a status section,
/// adding an empty one when the input has none.
pub fn ensure_status(cib: &mut Document) {
    history::status_mut(&mut cib.root);
}

/// What `crm_simulate -S` prints from "Executing Cluster Transition:" to
/// the end, after running `graph` against `cib` (edited in place):
/// the executed actions, the date notice again (the simulated CIB is
/// re-read), a blank line and the revised status.
pub struct Simulation {
    pub executed: Executed,
    /// The text for stdout (empty when quiet).
    pub text: String,
}

/// Runs the transition and renders its sections. `ws` is the cluster the
/// graph was computed from (it names the resources); `set_datetime` is
/// `-t` as given.
pub fn run(cib: &mut Document, graph: &TransitionGraph, ws: &WorkingSet, inj: &Injections, set_datetime: Option<&str>, quiet: bool) -> Result<Simulation, Error> {
    let now = ws.now;
    // The working set is what Pacemaker asks; what the graph and the
    // history reveal covers resources our unpacking does not model yet
    // (bundle replicas), and is always a subset of Pacemaker's answer.
    let mut known = known_resources(ws);
    known.extend(tengine::simulate::known_in_graph(graph));
    known.extend(tengine::simulate::known_in_status(&cib.root));
    let executed = execute(cib, graph, known, inj, now);
    if quiet {
        return Ok(Simulation { executed, text: String::new() });
    }
    let mut text = String::from("Executing Cluster Transition:\n");
    for l in &executed.lines {
        text.push_str(l);
        text.push('\n');
    }
    let model = Cib::from_document(cib).map_err(|e| Error::Model(e.to_string()))?;
    if let Some(notice) = date_notice(set_datetime, model.execution_date) {
        text.push_str(&notice);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&revised_status(cib, now)?);
    Ok(Simulation { executed, text })
}
