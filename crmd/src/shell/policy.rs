//! Where a transition is computed: the one function the DC calls with
//! its CIB. Today the scheduler runs in-process (`pengine::unpack` +
//! `pengine::schedule`); switching to the pengine daemon
//! (`pengined::client::compute`) changes only the body of [`compute`].

use anyhow::anyhow;
use cib::{Document, Element};
use tengine::TransitionGraph;

/// The transition graph for `cib` at `now` (epoch seconds), numbered `id`.
pub async fn compute(cib: &Element, id: u64, now: i64) -> anyhow::Result<TransitionGraph> {
    let doc = Document::new(cib.clone());
    let model = cib::model::Cib::from_document(&doc).map_err(|e| anyhow!("cannot read the CIB: {e}"))?;
    let ws = pengine::unpack(&model, now);
    let schedule = pengine::schedule(&model, ws);
    for line in schedule.summary_lines() {
        tracing::info!("{}", line.trim());
    }
    let mut graph = schedule.transition_graph(&model);
    graph.attrs.transition_id = i32::try_from(id).unwrap_or(i32::MAX);
    Ok(graph)
}
