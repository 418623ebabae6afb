//! Tickets (Pacemaker's `pcmk_sched_tickets.c`): `rsc_ticket`
//! constraints tie resources to a ticket granted to this site. Without
//! the ticket a resource may not run; losing it while the resource runs
//! applies the `loss-policy`: stop (the default), demote, fence the nodes
//! it runs on, or freeze it where it is.

use cib::model::constraints::LossPolicy;
use cib::model::{Role, Score, Ticket};

use crate::schedule::Scheduler;
use crate::working_set::RscId;

impl Scheduler<'_> {
    pub(crate) fn apply_tickets(&mut self) {
        let cib = self.cib;
        for t in &cib.constraints.tickets {
            let state = cib.status.tickets.iter().find(|s| s.id == t.ticket);
            let granted = state.is_some_and(|s| s.granted);
            let standby = state.is_some_and(|s| s.standby);
            let mut targets: Vec<(RscId, Option<Role>)> = Vec::new();
            if let Some(r) = &t.rsc {
                for id in self.expand_resource_ref(r) {
                    targets.push((id, t.rsc_role));
                }
            }
            for set in &t.sets {
                for r in &set.resources {
                    for id in self.expand_resource_ref(r) {
                        targets.push((id, set.role.or(t.rsc_role)));
                    }
                }
            }
            for (rsc, role) in targets {
                self.ticket_constraint(rsc, t, role, granted, standby);
            }
        }
    }

    fn ticket_constraint(&mut self, rsc: RscId, t: &Ticket, role: Option<Role>, granted: bool, standby: bool) {
        let kids = self.ws.rsc(rsc).children.clone();
        if !kids.is_empty() {
            for k in kids {
                self.ticket_constraint(k, t, role, granted, standby);
            }
            return;
        }
        let role = match role {
            Some(Role::Started) | None => Role::Unknown,
            Some(r) => r,
        };
        let policy = t.loss_policy.unwrap_or(LossPolicy::Stop);
        let running = !self.ws.rsc(rsc).running_on.is_empty();
        let role_matches = role == Role::Unknown || role == self.ws.rsc(rsc).role;
        if !granted && running {
            match policy {
                LossPolicy::Stop => self.resource_location(rsc, None, Score::MINUS_INFINITY),
                LossPolicy::Demote => {
                    if role != Role::Promoted {
                        self.resource_location(rsc, None, Score::MINUS_INFINITY);
                    }
                }
                LossPolicy::Fence => {
                    if !role_matches {
                        return;
                    }
                    self.resource_location(rsc, None, Score::MINUS_INFINITY);
                    for node in self.ws.rsc(rsc).running_on.clone() {
                        self.fence_node_now(node, "deadman ticket was lost");
                    }
                }
                LossPolicy::Freeze => {
                    if !role_matches {
                        return;
                    }
                    let r = &mut self.ws.resources[rsc.0];
                    r.flags.managed = false;
                    r.flags.blocked = true;
                }
            }
        } else if (!granted || standby) && (role != Role::Promoted || policy == LossPolicy::Stop) {
            self.resource_location(rsc, None, Score::MINUS_INFINITY);
        }
    }
}
