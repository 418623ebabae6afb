//! The scheduler without I/O: per-resource queues, one operation at a time
//! per resource, recurring operations, cancellation and the op history.
//!
//! The shell calls one method per event and carries out the returned
//! [`Command`]s: `Run` means "start this agent now and call
//! [`Core::finished`] with its result", `Notify` means "tell the clients".
//! Time comes in as an argument ([`Now`]); the shell calls [`Core::tick`]
//! at [`Core::next_wakeup`]. Nothing here reads a clock or spawns anything,
//! so the tests below assert exact command lists.
//!
//! Semantics (those of Pacemaker's executor and Heartbeat's lrmd):
//! - a resource runs one operation at a time; others wait in FIFO order and
//!   their wait is recorded as `queue-time`;
//! - a recurring operation (interval > 0) runs at once, then `interval` ms
//!   after each completion; its result is reported the first time and then
//!   only when rc or op-status changes, so a monitor that keeps failing is
//!   reported once;
//! - cancelling reports the operation once with op-status Cancelled, at
//!   once; a run already under way is killed ([`Command::Kill`]: the shell
//!   kills its process group) and its result dropped; the resource stays
//!   busy until the process is gone, so nothing else overlaps with it;
//! - unregistering cancels everything of the resource, killing a run under
//!   way; a new registration of the same id waits for that run to end;
//! - the history keeps the latest record per operation key, with
//!   `last-rc-change` carried over while the rc stays the same.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use cib::op_digest::AgentInfo;

use crate::digest::{self, AgentKey, RecordDigests};
use crate::error::LrmdError;
use crate::op::{operation_key, rc, OpRecord, OpRequest, OpResult, OpStatus};
use crate::resource::ResourceSpec;

/// The current time, as the shell reads it. `mono_ms` drives scheduling
/// (it never jumps); `epoch_s` is only written into records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Milliseconds on a monotonic clock with an arbitrary origin.
    pub mono_ms: u64,
    /// Unix time in seconds, for `last-run` / `last-rc-change`.
    pub epoch_s: u64,
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start the agent for `request` on `spec` now.
    Run { call_id: u32, spec: ResourceSpec, request: OpRequest },
    /// Report a finished or cancelled operation to the clients.
    Notify(OpRecord),
    /// Kill the run of `call_id` (its process group): it was cancelled
    /// while under way. Its result still comes back through
    /// [`Core::finished`] (and is dropped there).
    Kill { call_id: u32 },
}

#[derive(Debug, Clone)]
struct Queued {
    call_id: u32,
    request: OpRequest,
    enqueued_ms: u64,
}

#[derive(Debug, Clone)]
struct Running {
    call_id: u32,
    request: OpRequest,
    started_ms: u64,
    started_epoch: u64,
    queue_ms: u64,
    /// Cancelled while under way: the result is dropped when it comes.
    cancelled: bool,
}

#[derive(Debug, Clone)]
struct Recurring {
    call_id: u32,
    request: OpRequest,
    /// When the next run is due; `None` while a run is queued or running.
    next_due_ms: Option<u64>,
    /// (rc, status) last reported, so unchanged results are not repeated.
    last_notified: Option<(i32, OpStatus)>,
    /// The digests of its records, computed once: the parameters of a
    /// recurring op do not change between runs. The flag says whether the
    /// agent's meta-data was known (then the lists are included).
    digests: Option<(bool, RecordDigests)>,
}

#[derive(Debug, Clone)]
struct Rsc {
    spec: ResourceSpec,
    queue: VecDeque<Queued>,
    running: Option<Running>,
    /// Recurring operations by operation key.
    recurring: BTreeMap<String, Recurring>,
    /// Latest record by operation key.
    history: BTreeMap<String, OpRecord>,
}

/// The lrmd scheduler state.
#[derive(Debug, Default)]
pub struct Core {
    resources: BTreeMap<String, Rsc>,
    last_call_id: u32,
    /// Agents' meta-data as far as digests need it, fetched by the shell
    /// (`set_agent_info`); without it a record carries `op-digest` only.
    agent_info: BTreeMap<AgentKey, AgentInfo>,
    /// Killed runs of unregistered resources, by resource id: a new
    /// registration of the id must not run anything before they end.
    dying: BTreeMap<String, Running>,
    /// Recurring operations waiting for their next run, by due time
    /// (due ms, resource id, operation key): `tick` and `next_wakeup`
    /// touch only what is due, not every resource.
    timers: BTreeSet<(u64, String, String)>,
    /// The resource of each run under way, by call id.
    running_calls: BTreeMap<u32, String>,
}

impl Core {
    pub fn new() -> Core {
        Core::default()
    }

    /// Records what an agent's meta-data says (for the digests of later
    /// records of resources using that agent).
    pub fn set_agent_info(&mut self, key: AgentKey, info: AgentInfo) {
        self.agent_info.insert(key, info);
    }

    /// Whether the shell should fetch the agent's meta-data before the
    /// result of this run is recorded.
    pub fn wants_agent_info(&self, spec: &ResourceSpec, request: &OpRequest) -> bool {
        digest::needs_agent_info(spec, request) && !self.agent_info.contains_key(&digest::agent_key(spec))
    }

    /// Adds a resource, or replaces its definition (history is kept).
    pub fn register(&mut self, spec: ResourceSpec) {
        match self.resources.get_mut(&spec.id) {
            Some(r) => {
                r.spec = spec;
                for rec in r.recurring.values_mut() {
                    rec.digests = None;
                }
            }
            None => {
                let id = spec.id.clone();
                let rsc = Rsc {
                    spec,
                    queue: VecDeque::new(),
                    running: self.dying.remove(&id),
                    recurring: BTreeMap::new(),
                    history: BTreeMap::new(),
                };
                self.resources.insert(id, rsc);
            }
        }
    }

    /// Forgets a resource. Queued and recurring operations are reported
    /// cancelled; a run under way is reported cancelled and killed.
    pub fn unregister(&mut self, id: &str, now: Now) -> Result<Vec<Command>, LrmdError> {
        let mut rsc = self.resources.remove(id).ok_or_else(|| LrmdError::NoSuchResource(id.to_string()))?;
        for (key, rec) in &rsc.recurring {
            if let Some(due) = rec.next_due_ms {
                self.timers.remove(&(due, id.to_string(), key.clone()));
            }
        }
        let mut out = Vec::new();
        if let Some(mut run) = rsc.running.take() {
            if !run.cancelled {
                out.push(Command::Notify(cancelled_record(&run.request, run.call_id, now)));
                out.push(Command::Kill { call_id: run.call_id });
                run.cancelled = true;
            }
            // A recurring op under way is reported once, here.
            rsc.recurring.retain(|_, r| r.call_id != run.call_id);
            self.dying.insert(id.to_string(), run);
        }
        for q in &rsc.queue {
            out.push(Command::Notify(cancelled_record(&q.request, q.call_id, now)));
        }
        for r in rsc.recurring.values() {
            if !rsc.queue.iter().any(|q| q.call_id == r.call_id) {
                out.push(Command::Notify(cancelled_record(&r.request, r.call_id, now)));
            }
        }
        Ok(out)
    }

    /// Queues an operation; returns its call id. A recurring operation with
    /// the key of an existing one replaces it (the old one is reported
    /// cancelled).
    pub fn exec(&mut self, request: OpRequest, now: Now) -> Result<(u32, Vec<Command>), LrmdError> {
        if !self.resources.contains_key(&request.rsc) {
            return Err(LrmdError::NoSuchResource(request.rsc.clone()));
        }
        if request.action.is_empty() {
            return Err(LrmdError::Invalid("empty action".into()));
        }
        let mut out = Vec::new();
        let key = request.key();
        if request.interval_ms > 0 && self.resources[&request.rsc].recurring.contains_key(&key) {
            out.extend(self.cancel(&request.rsc, &request.action, request.interval_ms, now)?);
        }
        self.last_call_id += 1;
        let call_id = self.last_call_id;
        let rsc = self.resources.get_mut(&request.rsc).expect("checked above");
        if request.interval_ms > 0 {
            rsc.recurring.insert(
                key,
                Recurring { call_id, request: request.clone(), next_due_ms: None, last_notified: None, digests: None },
            );
        }
        let id = request.rsc.clone();
        rsc.queue.push_back(Queued { call_id, request, enqueued_ms: now.mono_ms });
        out.extend(self.dispatch(&id, now));
        Ok((call_id, out))
    }

    /// Cancels an operation that is queued, recurring or running.
    pub fn cancel(&mut self, rsc_id: &str, action: &str, interval_ms: u64, now: Now) -> Result<Vec<Command>, LrmdError> {
        let rsc = self.resources.get_mut(rsc_id).ok_or_else(|| LrmdError::NoSuchResource(rsc_id.to_string()))?;
        let key = operation_key(rsc_id, action, interval_ms);
        let recurring = rsc.recurring.remove(&key);
        if let Some(due) = recurring.as_ref().and_then(|r| r.next_due_ms) {
            self.timers.remove(&(due, rsc_id.to_string(), key.clone()));
        }
        let queued_pos = rsc.queue.iter().position(|q| q.request.key() == key);
        let running = rsc.running.as_mut().filter(|r| !r.cancelled && r.request.key() == key);

        let (call_id, request) = if let Some(pos) = queued_pos {
            let q = rsc.queue.remove(pos).expect("position is valid");
            (q.call_id, q.request)
        } else if let Some(r) = running {
            r.cancelled = true;
            let notify = Command::Notify(cancelled_record(&r.request, r.call_id, now));
            return Ok(vec![notify, Command::Kill { call_id: r.call_id }]);
        } else if let Some(r) = recurring {
            (r.call_id, r.request)
        } else {
            return Err(LrmdError::NoSuchOperation { rsc: rsc_id.to_string(), key });
        };
        Ok(vec![Command::Notify(cancelled_record(&request, call_id, now))])
    }

    /// An agent run finished. Unknown call ids (a resource unregistered
    /// meanwhile) are ignored.
    pub fn finished(&mut self, call_id: u32, result: OpResult, now: Now) -> Vec<Command> {
        let rsc_id = self.running_calls.remove(&call_id);
        let Some(rsc) = rsc_id
            .as_ref()
            .and_then(|id| self.resources.get_mut(id))
            .filter(|r| r.running.as_ref().is_some_and(|x| x.call_id == call_id))
        else {
            self.dying.retain(|_, run| run.call_id != call_id);
            return Vec::new();
        };
        let rsc_id = rsc_id.expect("found above");
        let run = rsc.running.take().expect("found above");
        let mut out = Vec::new();
        if !run.cancelled {
            let key = run.request.key();
            let info = self.agent_info.get(&digest::agent_key(&rsc.spec));
            let cached = rsc.recurring.get(&key).filter(|r| r.call_id == call_id).and_then(|r| r.digests.as_ref());
            let digests = match cached {
                Some((had_info, d)) if *had_info == info.is_some() => d.clone(),
                _ => {
                    let d = digest::for_record(&rsc.spec, &run.request, info);
                    if let Some(rec) = rsc.recurring.get_mut(&key).filter(|r| r.call_id == call_id) {
                        rec.digests = Some((info.is_some(), d.clone()));
                    }
                    d
                }
            };
            let last_rc_change = match rsc.history.get(&key) {
                Some(prev) if prev.rc == result.rc && prev.status == result.status => prev.last_rc_change,
                _ => now.epoch_s,
            };
            let record = OpRecord {
                rsc: run.request.rsc.clone(),
                action: run.request.action.clone(),
                key: key.clone(),
                call_id,
                rc: result.rc,
                status: result.status,
                interval_ms: run.request.interval_ms,
                last_run: run.started_epoch,
                last_rc_change,
                exec_ms: now.mono_ms.saturating_sub(run.started_ms),
                queue_ms: run.queue_ms,
                exit_reason: result.exit_reason,
                transition_key: run.request.transition_key.clone(),
                output: result.stdout,
                digests,
            };
            rsc.history.insert(key.clone(), record.clone());
            let notify = match rsc.recurring.get_mut(&key).filter(|r| r.call_id == call_id) {
                Some(rec) => {
                    let due = now.mono_ms + rec.request.interval_ms;
                    rec.next_due_ms = Some(due);
                    self.timers.insert((due, rsc_id.clone(), key.clone()));
                    let changed = rec.last_notified != Some((record.rc, record.status));
                    rec.last_notified = Some((record.rc, record.status));
                    changed
                }
                None => true,
            };
            if notify {
                out.push(Command::Notify(record));
            }
        }
        out.extend(self.dispatch(&rsc_id, now));
        out
    }

    /// Queues the recurring operations that are due and starts what can run.
    pub fn tick(&mut self, now: Now) -> Vec<Command> {
        self.tick_within(now, 0)
    }

    /// [`Core::tick`], also starting the recurring runs due in the next
    /// `slack_ms`: one wake-up then starts every run of that window, and
    /// their agents tend to end together too, rather than each run costing
    /// the shell its own timer wake-up and its own exit wake-ups. A run
    /// started `slack_ms` early is harmless for a monitor whose interval is
    /// seconds; records still carry the real `now`.
    pub fn tick_within(&mut self, now: Now, slack_ms: u64) -> Vec<Command> {
        let horizon = now.mono_ms.saturating_add(slack_ms);
        let mut out = Vec::new();
        while let Some(first) = self.timers.first().filter(|(due, _, _)| *due <= horizon).cloned() {
            self.timers.remove(&first);
            let (_, id, key) = first;
            let Some(rsc) = self.resources.get_mut(&id) else { continue };
            let Some(rec) = rsc.recurring.get_mut(&key) else { continue };
            rec.next_due_ms = None;
            rsc.queue.push_back(Queued { call_id: rec.call_id, request: rec.request.clone(), enqueued_ms: now.mono_ms });
            let cmds = self.dispatch(&id, now);
            // Usually one command: keep dispatch's exact-size vector
            // rather than growing `out` to four (over 1 KiB, malloc's
            // slow path on every wake-up).
            if out.is_empty() {
                out = cmds;
            } else {
                out.extend(cmds);
            }
        }
        out
    }

    /// When [`Core::tick`] next has something to do.
    pub fn next_wakeup(&self) -> Option<u64> {
        self.timers.first().map(|(due, _, _)| *due)
    }

    pub fn resource(&self, id: &str) -> Option<&ResourceSpec> {
        self.resources.get(id).map(|r| &r.spec)
    }

    pub fn resources(&self) -> impl Iterator<Item = &ResourceSpec> {
        self.resources.values().map(|r| &r.spec)
    }

    /// The latest record of every operation key of a resource.
    pub fn history(&self, id: &str) -> Option<Vec<OpRecord>> {
        self.resources.get(id).map(|r| r.history.values().cloned().collect())
    }

    /// Recurring operations currently scheduled on a resource.
    pub fn recurring(&self, id: &str) -> Vec<OpRequest> {
        self.resources.get(id).map(|r| r.recurring.values().map(|x| x.request.clone()).collect()).unwrap_or_default()
    }
}

impl Core {
    /// Starts the head of resource `id`'s queue if the resource is idle.
    fn dispatch(&mut self, id: &str, now: Now) -> Vec<Command> {
        let Some(rsc) = self.resources.get_mut(id) else { return Vec::new() };
        if rsc.running.is_some() {
            return Vec::new();
        }
        let Some(q) = rsc.queue.pop_front() else { return Vec::new() };
        let inactive_device = rsc.spec.class == crate::resource::AgentClass::Stonith
            && q.request.action == "monitor"
            && !device_started(rsc);
        rsc.running = Some(Running {
            call_id: q.call_id,
            request: q.request.clone(),
            started_ms: now.mono_ms,
            started_epoch: now.epoch_s,
            queue_ms: now.mono_ms.saturating_sub(q.enqueued_ms),
            cancelled: false,
        });
        self.running_calls.insert(q.call_id, id.to_string());
        if inactive_device {
            // As Pacemaker's executor: a fence device is "running" only
            // where it was started; elsewhere a probe or monitor answers
            // not running without asking the device (which would answer
            // for every node that can reach it).
            let result = OpResult::failed(rc::NOT_RUNNING, OpStatus::Done, "fence device not started on this node");
            return self.finished(q.call_id, OpResult { exit_reason: None, ..result }, now);
        }
        vec![Command::Run { call_id: q.call_id, spec: rsc.spec.clone(), request: q.request }]
    }
}

/// A fence device counts as started on this node from a successful start
/// until a later stop.
fn device_started(rsc: &Rsc) -> bool {
    let id = &rsc.spec.id;
    let done = |action: &str| {
        rsc.history
            .get(&operation_key(id, action, 0))
            .filter(|r| r.rc == rc::OK && r.status == OpStatus::Done)
            .map(|r| r.call_id)
    };
    match (done("start"), done("stop")) {
        (Some(start), Some(stop)) => start > stop,
        (Some(_), None) => true,
        _ => false,
    }
}

fn cancelled_record(request: &OpRequest, call_id: u32, now: Now) -> OpRecord {
    OpRecord {
        rsc: request.rsc.clone(),
        action: request.action.clone(),
        key: request.key(),
        call_id,
        rc: crate::op::rc::OK,
        status: OpStatus::Cancelled,
        interval_ms: request.interval_ms,
        last_run: now.epoch_s,
        last_rc_change: now.epoch_s,
        exec_ms: 0,
        queue_ms: 0,
        exit_reason: None,
        transition_key: request.transition_key.clone(),
        output: String::new(),
        digests: Default::default(),
    }
}

#[cfg(test)]
mod tests;
