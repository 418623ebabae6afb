//! The action graph as DOT (`crm_simulate -D`, Pacemaker's
//! `write_sim_dotfile` without `--all-actions`): actions in the graph in
//! bold green, required actions that cannot run in dashed red, pseudo
//! actions with orange labels; edges for orderings between actions in
//! the graph.

use crate::schedule::Schedule;

impl Schedule {
    /// The name DOT uses for an action: its key, plus the node for real
    /// actions.
    pub fn dot_name(&self, a: usize) -> String {
        let act = &self.actions[a];
        let key = self.history_key(a).unwrap_or_else(|| self.action_key(a));
        if act.task == "stonith" && act.rsc.is_none() {
            let n = act.node.map(|n| self.ws.node(n).uname.clone()).unwrap_or_default();
            return format!("stonith '{}' {n}", act.stonith_action.as_deref().unwrap_or("reboot"));
        }
        if act.rsc.is_none() {
            let n = act.node.map(|n| format!(" {}", self.ws.node(n).uname)).unwrap_or_default();
            return format!("{}{n}", act.task);
        }
        if act.task == "cancel" {
            let n = act.node.map(|n| format!(" {}", self.ws.node(n).uname)).unwrap_or_default();
            return format!("Cancel {key}{n}");
        }
        match (act.node, act.pseudo) {
            (Some(n), _) => format!("{key} {}", self.ws.node(n).uname),
            (None, true) => key,
            (None, false) => format!("{key} <none>"),
        }
    }

    /// Whether DOT shows an action: in the graph, or required but unable
    /// to run (unmanaged resources' and optional actions are left out).
    fn dot_shown(&self, a: usize) -> bool {
        let act = &self.actions[a];
        self.in_graph(a) || !(act.rsc.is_some_and(|r| !self.ws.rsc(r).flags.managed) || act.optional)
    }

    pub fn to_dot(&self) -> String {
        let mut out = String::from(" digraph \"g\" {\n");
        for act in &self.actions {
            let a = act.id;
            let font = if act.pseudo { "orange" } else { "black" };
            let (style, color) = if self.in_graph(a) {
                ("bold", "green")
            } else if act.rsc.is_some_and(|r| !self.ws.rsc(r).flags.managed) || act.optional {
                continue;
            } else {
                ("dashed", "red")
            };
            out.push_str(&format!("\"{}\" [ style={style} color=\"{color}\" fontcolor=\"{font}\"]\n", self.dot_name(a)));
        }
        // Orderings between shown actions: bold when the graph has them
        // as inputs, dashed otherwise.
        let mut seen = std::collections::BTreeSet::new();
        for e in &self.edges {
            if e.flags.none || e.flags.derived || !self.dot_shown(e.first) || !self.dot_shown(e.then) || !seen.insert((e.first, e.then)) {
                continue;
            }
            // Orderings the graph leaves out for migrations stay dashed.
            let style = if self.in_graph(e.first) && self.in_graph(e.then) && !self.skips_input(e) { "bold" } else { "dashed" };
            out.push_str(&format!("\"{}\" -> \"{}\" [ style = {style}]\n", self.dot_name(e.first), self.dot_name(e.then)));
        }
        out.push_str("}\n");
        out
    }
}
