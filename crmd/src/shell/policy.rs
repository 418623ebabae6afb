//! Where a transition is computed: the one function the DC calls with
//! its CIB. The pengine daemon (`$HA_RUNDIR/pengine.sock`,
//! `pengined::client::compute`) schedules it and saves the input as
//! `pe-input-N.bz2`; when that daemon cannot be reached (not started yet,
//! being respawned) the same scheduler runs in-process, so the cluster
//! never waits on it.

use std::path::Path;
use std::time::Duration;

use anyhow::anyhow;
use cib::{Document, Element};
use tengine::TransitionGraph;

/// How long the pengine daemon may take for one CIB.
const PENGINE_TIMEOUT: Duration = Duration::from_secs(60);

/// The transition graph for `cib` at `now` (epoch seconds), numbered `id`.
pub async fn compute(socket: &Path, cib: &Element, id: u64, now: i64) -> anyhow::Result<TransitionGraph> {
    let mut graph = match pengined::client::compute(socket, cib, PENGINE_TIMEOUT).await {
        Ok(c) => {
            tracing::info!(
                "crmd: transition {id} computed by pengine (its transition {}), input {}{}",
                c.transition_id,
                c.input.display(),
                if c.saved { "" } else { " (not saved)" }
            );
            c.graph
        }
        Err(pengined::Error::NotConnected { socket, source }) => {
            tracing::warn!("crmd: pengine not reachable at {socket} ({source}): scheduling in-process");
            in_process(cib, now)?
        }
        Err(e) => return Err(anyhow!(e)),
    };
    graph.attrs.transition_id = i32::try_from(id).unwrap_or(i32::MAX);
    Ok(graph)
}

/// `pengine::unpack` + `pengine::schedule`, as the daemon runs them.
fn in_process(cib: &Element, now: i64) -> anyhow::Result<TransitionGraph> {
    let doc = Document::new(cib.clone());
    let model = cib::model::Cib::from_document(&doc).map_err(|e| anyhow!("cannot read the CIB: {e}"))?;
    let ws = pengine::unpack(&model, now);
    let schedule = pengine::schedule(&model, ws);
    for line in schedule.summary_lines() {
        tracing::info!("{}", line.trim());
    }
    Ok(schedule.transition_graph(&model))
}
