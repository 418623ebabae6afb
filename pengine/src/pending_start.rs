//! A start already in progress (Pacemaker's `pe_rsc_start_pending`,
//! set while unpacking a pending start, or when a changed agent forces a
//! restart) is represented by a start action on the assigned node that
//! goes into the graph even when nothing requires it
//! (`create_pending_start`: `pe_action_print_always`), so what follows
//! the start (its monitors, the clone's `running`) waits for it. Being
//! optional, it makes no Transition Summary line.

use crate::schedule::Scheduler;
use crate::working_set::RscId;

impl Scheduler<'_> {
    pub(crate) fn represent_pending_starts(&mut self) {
        for r in 0..self.ws.resources.len() {
            let rsc = RscId(r);
            let res = self.ws.rsc(rsc);
            if !res.is_primitive() || !res.flags.start_pending {
                continue;
            }
            let Some(node) = self.assign[r].allocated_to else { continue };
            let start = self.custom_action(Some(rsc), "start", 0, Some(node), true);
            self.always_in_graph.insert(start);
        }
    }
}
